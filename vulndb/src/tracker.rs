//! The Debian security tracker's JSON (`/tracker/data/json`):
//! `{ source package: { CVE id: { description, scope, debianbug, releases:
//! { codename: { status, repositories, fixed_version, urgency, nodsa, nodsa_reason } } } } }`.
//!
//! Each (CVE, source package, release) becomes an `affected` entry of the
//! advisory `DEBIAN-<CVE id>` (the id osv.dev gives the same data), in the
//! ecosystem `Debian:<major>` named by the codename (see [`release_ecosystem`]):
//!
//! | tracker | entry |
//! |---|---|
//! | `resolved`, `fixed_version` `0` | none: the release never shipped a vulnerable version (counted as not affected) |
//! | `resolved`, `fixed_version` V | `introduced 0`, `fixed V` |
//! | `open`, `undetermined` | `introduced 0`, no fix (unfixed) |
//!
//! `status`, `urgency`, `nodsa`, `nodsa_reason`, `scope` and `debianbug` are kept
//! as attributes (the urgency is also the distribution's severity word).
//! One bad CVE entry is counted as malformed with its `package/CVE` key; the
//! rest of the file is read.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::{Advisory, Affected, DistroSeverity, Event, Range};

/// What one tracker file gives.
#[derive(Debug, Default)]
pub struct TrackerData {
    pub advisories: Vec<Advisory>,
    /// `package/CVE[/release]` and why it was not read.
    pub malformed: Vec<(String, String)>,
    /// Entries with `fixed_version` `0`.
    pub not_affected: usize,
    /// Entries for releases with no Debian version number (e.g. `experimental`).
    pub unknown_release: usize,
}

/// Debian codename → OSV ecosystem. `sid` is `Debian:sid` (osv.dev skips it;
/// an image of unstable reports its codename, so it can still be matched).
pub fn release_ecosystem(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "wheezy" => "Debian:7",
        "jessie" => "Debian:8",
        "stretch" => "Debian:9",
        "buster" => "Debian:10",
        "bullseye" => "Debian:11",
        "bookworm" => "Debian:12",
        "trixie" => "Debian:13",
        "forky" => "Debian:14",
        "duke" => "Debian:15",
        "sid" => "Debian:sid",
        _ => return None,
    })
}

#[derive(Deserialize)]
struct RawCve {
    description: Option<String>,
    scope: Option<String>,
    debianbug: Option<serde_json::Value>,
    #[serde(default)]
    releases: BTreeMap<String, RawRelease>,
}

#[derive(Deserialize)]
struct RawRelease {
    status: String,
    fixed_version: Option<String>,
    urgency: Option<String>,
    nodsa: Option<String>,
    nodsa_reason: Option<String>,
}

/// Parse a whole tracker JSON file.
pub fn parse(bytes: &[u8]) -> Result<TrackerData, String> {
    let top: BTreeMap<String, BTreeMap<String, &RawValue>> =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut out = TrackerData::default();
    let mut by_cve: HashMap<String, usize> = HashMap::new();
    for (package, cves) in &top {
        for (cve, raw) in cves {
            let key = format!("{package}/{cve}");
            let rec: RawCve = match serde_json::from_str(raw.get()) {
                Ok(r) => r,
                Err(e) => {
                    out.malformed.push((key, e.to_string()));
                    continue;
                }
            };
            let mut entries = Vec::new();
            for (codename, rel) in &rec.releases {
                let Some(ecosystem) = release_ecosystem(codename) else {
                    out.unknown_release += 1;
                    continue;
                };
                let fixed = rel.fixed_version.as_deref().map(str::trim);
                let events = match (rel.status.as_str(), fixed) {
                    (_, Some("0")) => {
                        out.not_affected += 1;
                        continue;
                    }
                    ("resolved", Some(v)) if !v.is_empty() => {
                        vec![Event::Introduced("0".into()), Event::Fixed(v.into())]
                    }
                    ("open" | "undetermined", _) => vec![Event::Introduced("0".into())],
                    (status, _) => {
                        out.malformed.push((
                            format!("{key}/{codename}"),
                            format!("status {status:?} without a usable fixed_version"),
                        ));
                        continue;
                    }
                };
                let mut attributes = BTreeMap::new();
                let mut put = |k: &str, v: Option<&str>| {
                    if let Some(v) = v.filter(|v| !v.is_empty()) {
                        attributes.insert(k.to_string(), v.to_string());
                    }
                };
                put("tracker_status", Some(&rel.status));
                put("urgency", rel.urgency.as_deref());
                put("nodsa", rel.nodsa.as_deref());
                put("nodsa_reason", rel.nodsa_reason.as_deref());
                put("scope", rec.scope.as_deref());
                let bug = rec.debianbug.as_ref().map(|b| match b {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                put("debianbug", bug.as_deref());
                entries.push(Affected {
                    ecosystem: ecosystem.to_string(),
                    name: package.clone(),
                    purl: None,
                    ranges: vec![Range {
                        kind: "ECOSYSTEM".into(),
                        events,
                    }],
                    versions: Vec::new(),
                    distro_severity: rel.urgency.as_ref().map(|u| DistroSeverity {
                        value: u.clone(),
                        from: "tracker.urgency".into(),
                    }),
                    attributes,
                });
            }
            if entries.is_empty() {
                continue;
            }
            let idx = *by_cve.entry(cve.clone()).or_insert_with(|| {
                let id = if cve.starts_with("CVE-") {
                    format!("DEBIAN-{cve}")
                } else {
                    cve.clone()
                };
                out.advisories.push(Advisory {
                    id,
                    upstream: vec![cve.clone()],
                    details: rec.description.clone(),
                    ..Default::default()
                });
                out.advisories.len() - 1
            });
            out.advisories[idx].affected.extend(entries);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "openssh": {
        "CVE-2023-48795": {"description": "Terrapin", "scope": "remote", "debianbug": 1059393,
          "releases": {
            "bookworm": {"status": "resolved", "repositories": {"bookworm": "1:9.2p1-2+deb12u2"},
                         "fixed_version": "1:9.2p1-2+deb12u2", "urgency": "medium"},
            "bullseye": {"status": "open", "repositories": {"bullseye": "1:8.4p1-5+deb11u3"},
                         "urgency": "medium", "nodsa": "Minor issue", "nodsa_reason": "postponed"},
            "buster": {"status": "resolved", "repositories": {}, "fixed_version": "0", "urgency": "unimportant"},
            "experimental": {"status": "resolved", "fixed_version": "1:9.6p1-1", "urgency": "medium"}
          }},
        "CVE-2099-0001": {"releases": "not an object"},
        "CVE-2099-0002": {"releases": {"bookworm": {"status": "resolved", "urgency": "low"}}}
      },
      "libssh": {"CVE-2023-48795": {"releases": {"bookworm": {"status": "undetermined"}}}}
    }"#;

    #[test]
    fn statuses_and_attributes() {
        let d = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(d.not_affected, 1);
        assert_eq!(d.unknown_release, 1);
        assert_eq!(d.malformed.len(), 2, "{:?}", d.malformed);
        assert!(d
            .malformed
            .iter()
            .any(|(k, _)| k == "openssh/CVE-2099-0001"));
        assert_eq!(d.advisories.len(), 1);
        let a = &d.advisories[0];
        assert_eq!(a.id, "DEBIAN-CVE-2023-48795");
        assert_eq!(a.cve_ids(), ["CVE-2023-48795"]);
        assert_eq!(a.affected.len(), 3);
        let bookworm = a
            .affected
            .iter()
            .find(|e| e.ecosystem == "Debian:12" && e.name == "openssh")
            .unwrap();
        assert_eq!(
            bookworm.ranges[0].events[1],
            Event::Fixed("1:9.2p1-2+deb12u2".into())
        );
        let bullseye = a
            .affected
            .iter()
            .find(|e| e.ecosystem == "Debian:11")
            .unwrap();
        assert_eq!(bullseye.ranges[0].events.len(), 1);
        assert_eq!(bullseye.attributes["nodsa_reason"], "postponed");
        assert_eq!(bullseye.attributes["tracker_status"], "open");
        let libssh = a.affected.iter().find(|e| e.name == "libssh").unwrap();
        assert_eq!(libssh.attributes["tracker_status"], "undetermined");
    }

    #[test]
    fn not_a_tracker_file() {
        assert!(parse(b"[1,2]").is_err());
        assert!(parse(br#"{"pkg": 5}"#).is_err());
        assert!(parse(b"{").is_err());
    }
}
