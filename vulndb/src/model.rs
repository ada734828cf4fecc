//! Advisories as the readers return them: facts copied from the feed, in one
//! shape for OSV, the Debian tracker and Alpine secdb.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One advisory (an OSV record, or what a native feed says about one CVE).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub related: Vec<String>,
    pub upstream: Vec<String>,
    pub modified: Option<String>,
    pub published: Option<String>,
    pub withdrawn: Option<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    /// `severity[]` entries as written (`CVSS_V3` + vector, `Ubuntu` + `medium`, ...).
    pub severity: Vec<SeverityEntry>,
    /// The record's own severity word, if any (see [`DistroSeverity`]).
    pub distro_severity: Option<DistroSeverity>,
    pub affected: Vec<Affected>,
}

impl Advisory {
    /// CVE ids named by the record: its id, aliases, upstream and related ids
    /// (AlmaLinux and Rocky list their CVEs under `related`).
    pub fn cve_ids(&self) -> Vec<String> {
        let mut out: Vec<String> = std::iter::once(&self.id)
            .chain(&self.aliases)
            .chain(&self.upstream)
            .chain(&self.related)
            .filter_map(|s| cve_of(s))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// `CVE-YYYY-N...` inside an id such as `CVE-2024-1`, `DEBIAN-CVE-2024-1`, `UBUNTU-CVE-2024-1`.
fn cve_of(id: &str) -> Option<String> {
    let start = id.find("CVE-")?;
    let cve = &id[start..];
    let (year, num) = cve[4..].split_once('-')?;
    let ok = year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && !num.is_empty()
        && num.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| cve.to_string())
}

/// A `severity[]` entry: `type` and `score` exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// A severity word from the distribution, copied, with where it was found
/// (e.g. `ecosystem_specific.urgency`, `summary`), never interpreted here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistroSeverity {
    pub value: String,
    pub from: String,
}

/// One `affected[]` entry: a package in one ecosystem, and which of its
/// versions are affected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Affected {
    pub ecosystem: String,
    pub name: String,
    pub purl: Option<String>,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    pub distro_severity: Option<DistroSeverity>,
    /// Other facts kept for the report (tracker status, no-dsa, availability...).
    pub attributes: BTreeMap<String, String>,
}

/// One OSV range. `kind` is `ECOSYSTEM`, `SEMVER`, `GIT` or what the record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    pub events: Vec<Event>,
}

/// A range event; serialised as OSV writes it (`{"fixed": "1.2-3"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// A record or entry that could not be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Malformed {
    pub file: String,
    /// Zip entry, or the key inside a tracker/secdb file.
    pub entry: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.entry {
            Some(e) => write!(f, "{}: {}: {}", self.file, e, self.reason),
            None => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids_from_every_field() {
        let a = Advisory {
            id: "DEBIAN-CVE-2023-48795".into(),
            aliases: vec!["GHSA-x".into(), "CVE-2023-1".into()],
            related: vec!["CVE-2022-1271".into(), "CVE-bad".into()],
            upstream: vec!["CVE-2023-48795".into()],
            ..Default::default()
        };
        assert_eq!(
            a.cve_ids(),
            ["CVE-2022-1271", "CVE-2023-1", "CVE-2023-48795"]
        );
    }
}
