//! Alpine secdb JSON (`v3.X/main.json`, `community.json`):
//! `{distroversion, reponame, packages: [{pkg: {name, secfixes: {version: [ids]}}}]}`.
//!
//! `name` is the origin (aports) package. Each CVE becomes the advisory
//! `ALPINE-<CVE>` (osv.dev's id for the same data) with one entry per origin in
//! `Alpine:v3.X`: `introduced 0`, `fixed <version>`. When secdb lists the same
//! id under several versions of one package, the highest is kept: a lower one
//! would call a still-vulnerable build fixed. The fixed version `0` means the
//! package was never vulnerable in Alpine: no entry, counted as not affected.
//! An id string may hold several ids separated by spaces; each is used.
//! The older YAML form is not read (convert it to JSON first).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::value::RawValue;

use coldscan_pkgdb::version::apk;

use crate::model::{Advisory, Affected, Event, Range};

#[derive(Debug, Default)]
pub struct SecdbData {
    pub ecosystem: String,
    pub advisories: Vec<Advisory>,
    /// `packages[i]` or `name/version` and why it was not read.
    pub malformed: Vec<(String, String)>,
    /// secfixes under version `0`.
    pub not_affected: usize,
}

#[derive(Deserialize)]
struct RawFile<'a> {
    distroversion: String,
    #[serde(borrow)]
    packages: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawEntry {
    pkg: RawPkg,
}

#[derive(Deserialize)]
struct RawPkg {
    name: String,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<Option<String>>>>>,
}

/// `v3.19` / `3.19` → `Alpine:v3.19`.
pub fn ecosystem(distroversion: &str) -> String {
    let v = distroversion.trim();
    if v.starts_with('v') || v == "edge" {
        format!("Alpine:{v}")
    } else {
        format!("Alpine:v{v}")
    }
}

pub fn parse(bytes: &[u8]) -> Result<SecdbData, String> {
    let file: RawFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if file.distroversion.trim().is_empty() {
        return Err("empty distroversion".into());
    }
    let eco = ecosystem(&file.distroversion);
    let mut out = SecdbData {
        ecosystem: eco.clone(),
        ..Default::default()
    };
    // (id, origin) → highest fixed version
    let mut fixes: BTreeMap<(String, String), String> = BTreeMap::new();
    for (i, raw) in file.packages.iter().enumerate() {
        let entry: RawEntry = match serde_json::from_str(raw.get()) {
            Ok(e) => e,
            Err(e) => {
                out.malformed
                    .push((format!("packages[{i}]"), e.to_string()));
                continue;
            }
        };
        let name = entry.pkg.name.trim().to_string();
        if name.is_empty() {
            out.malformed
                .push((format!("packages[{i}]"), "empty name".into()));
            continue;
        }
        for (version, ids) in entry.pkg.secfixes.unwrap_or_default() {
            let version = version.trim().to_string();
            let ids: Vec<String> = ids
                .unwrap_or_default()
                .iter()
                .flatten()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_string)
                .collect();
            if version == "0" {
                out.not_affected += ids.len();
                continue;
            }
            if version.is_empty() {
                out.malformed
                    .push((format!("{name}/{version}"), "empty fixed version".into()));
                continue;
            }
            for id in ids {
                fixes
                    .entry((id, name.clone()))
                    .and_modify(|v| {
                        if apk::compare(&version, v).is_gt() {
                            *v = version.clone();
                        }
                    })
                    .or_insert_with(|| version.clone());
            }
        }
    }
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for ((id, name), fixed) in fixes {
        let idx = *by_id.entry(id.clone()).or_insert_with(|| {
            out.advisories.push(Advisory {
                id: format!("ALPINE-{id}"),
                upstream: vec![id.clone()],
                ..Default::default()
            });
            out.advisories.len() - 1
        });
        out.advisories[idx].affected.push(Affected {
            ecosystem: eco.clone(),
            name,
            ranges: vec![Range {
                kind: "ECOSYSTEM".into(),
                events: vec![Event::Introduced("0".into()), Event::Fixed(fixed)],
            }],
            ..Default::default()
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secfixes() {
        let json = r#"{"distroversion": "v3.19", "reponame": "main", "packages": [
          {"pkg": {"name": "openssl", "secfixes": {
             "3.1.4-r1": ["CVE-2023-5678"], "3.1.4-r3": ["CVE-2023-5678 CVE-2023-6129"],
             "0": ["CVE-2022-0001"]}}},
          {"pkg": {"name": "busybox", "secfixes": null}},
          {"pkg": {"nom": "x"}},
          {"pkg": {"name": "sudo", "secfixes": {"1.9.17-r0": ["CVE-2025-32462", null]}}}
        ]}"#;
        let d = parse(json.as_bytes()).unwrap();
        assert_eq!(d.ecosystem, "Alpine:v3.19");
        assert_eq!(d.not_affected, 1);
        assert_eq!(d.malformed.len(), 1);
        let ids: Vec<&str> = d.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "ALPINE-CVE-2023-5678",
                "ALPINE-CVE-2023-6129",
                "ALPINE-CVE-2025-32462"
            ]
        );
        // the highest of the two listed fixes
        assert_eq!(
            d.advisories[0].affected[0].ranges[0].events[1],
            Event::Fixed("3.1.4-r3".into())
        );
        assert_eq!(d.advisories[0].cve_ids(), ["CVE-2023-5678"]);
    }

    #[test]
    fn not_secdb() {
        assert!(parse(b"{}").is_err());
        assert!(parse(br#"{"distroversion": "", "packages": []}"#).is_err());
        assert!(parse(br#"{"distroversion": "v3.1", "packages": {}}"#).is_err());
    }
}
