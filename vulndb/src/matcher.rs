//! Installed packages against the database, per distribution.
//!
//! * Debian, Ubuntu, Alpine: advisories name the source (origin) package; the
//!   installed binaries are grouped by (source name, source version), falling
//!   back to the binary name and version when the database gives no source,
//!   and one match lists every installed binary built from that source.
//! * RPM family: advisories name binary packages; each (name, EVR) is matched
//!   (architectures of the same EVR are grouped; several installed kernels are
//!   matched one by one). Versions are full `[E:]V-R` strings, a missing epoch is 0.
//! * The advisory's ecosystem must apply to the installed release
//!   ([`ecosystem::matches`]); versions are compared with the distribution's
//!   own ordering ([`coldscan_pkgdb::version`]).
//!
//! One match per (advisory id, package, installed version): the same advisory
//! imported from two sources, or listed for two ecosystems that both apply,
//! gives one match (the record stored first wins).

use std::collections::{BTreeMap, HashMap};

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::cvss_score::CvssScore;
use crate::model::{DistroSeverity, Range};
use crate::{ecosystem, range, Db, Error, Result};

/// One installed binary package, as the telemetry reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Installed {
    pub name: String,
    /// Full version as the package manager writes it: dpkg `[E:]U[-R]`,
    /// rpm `[E:]V-R`, apk `V-rN`.
    pub version: String,
    /// dpkg `Source:` name, rpm source name, apk origin.
    pub source_name: Option<String>,
    /// dpkg: the version in parentheses of `Source: name (version)`; when
    /// absent the binary version is the source version.
    pub source_version: Option<String>,
    pub arch: Option<String>,
    /// `Debian:12`, `Ubuntu:22.04`, `AlmaLinux:9`, `Alpine:v3.19`, ...
    pub ecosystem: String,
    /// The package database file, e.g. `/var/lib/dpkg/status`.
    pub evidence_file: String,
    /// Where in that file: a line number or a record key.
    pub evidence_key: String,
}

/// Where an installed package was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub package: String,
    pub version: String,
    pub arch: Option<String>,
    pub file: String,
    pub key: String,
}

/// An installed package that an advisory covers. Facts only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VulnMatch {
    /// The record's id: `ALSA-2024:1234`, `DSA-5586-1`, `DEBIAN-CVE-…`, `UBUNTU-CVE-…`.
    pub advisory_id: String,
    pub cve_ids: Vec<String>,
    /// aliases, related and upstream ids.
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub modified: Option<String>,
    pub published: Option<String>,
    /// The package the advisory names: the source package for Debian, Ubuntu
    /// and Alpine, the binary package for the RPM family.
    pub package: String,
    /// Every installed binary package matched through `package` (name, `:arch` when known).
    pub binaries: Vec<String>,
    /// The version compared: the source version for Debian/Ubuntu, the EVR for RPM.
    pub installed_version: String,
    pub fixed_version: Option<String>,
    pub fix_available: bool,
    /// The advisory entry's ecosystem (`Ubuntu:22.04:LTS`), and the installed one.
    pub ecosystem: String,
    pub installed_ecosystem: String,
    /// The imported source (path) and its kind (`osv`, `debian-tracker`, `alpine-secdb`).
    pub source_db: String,
    pub source_kind: String,
    pub cvss: Vec<CvssScore>,
    /// The distribution's own word (Debian urgency, Ubuntu priority, Red Hat
    /// severity), from the affected entry or else from the record.
    pub distro_severity: Option<DistroSeverity>,
    /// Tracker status, urgency, nodsa, nodsa_reason, Ubuntu availability, ...
    pub attributes: BTreeMap<String, String>,
    pub evidence: Vec<Evidence>,
}

/// One (ecosystem, name, version) to look up, with the binaries behind it.
struct Target<'a> {
    ecosystem: &'a str,
    name: &'a str,
    version: &'a str,
    binaries: Vec<&'a Installed>,
}

/// An affected entry whose ranges hold the installed version.
struct Candidate {
    advisory: i64,
    ecosystem: String,
    fixed: Option<String>,
    distro_severity: Option<String>,
    attrs: Option<String>,
}

struct AdvisoryRow {
    vuln_id: String,
    cves: Vec<String>,
    aliases: Vec<String>,
    summary: Option<String>,
    details: Option<String>,
    modified: Option<String>,
    published: Option<String>,
    cvss: Vec<CvssScore>,
    distro_severity: Option<DistroSeverity>,
    source: i64,
}

fn from_json<T: for<'de> Deserialize<'de> + Default>(s: Option<&str>) -> T {
    s.and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// Match installed packages against the database.
pub fn match_packages(db: &Db, pkgs: &[Installed]) -> Result<Vec<VulnMatch>> {
    let e = |err| Error::db(db.path(), err);
    // Group binaries by what the advisories name.
    let mut targets: Vec<Target> = Vec::new();
    let mut index: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for p in pkgs {
        if ecosystem::scheme(&p.ecosystem).is_none() {
            continue;
        }
        let (name, version) = if ecosystem::uses_source_packages(&p.ecosystem) {
            (
                p.source_name
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .unwrap_or(&p.name),
                p.source_version
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .unwrap_or(&p.version),
            )
        } else {
            (p.name.as_str(), p.version.as_str())
        };
        let key = (p.ecosystem.as_str(), name, version);
        match index.get(&key) {
            Some(&i) => targets[i].binaries.push(p),
            None => {
                index.insert(key, targets.len());
                targets.push(Target {
                    ecosystem: &p.ecosystem,
                    name,
                    version,
                    binaries: vec![p],
                });
            }
        }
    }

    // One read transaction: one lock and one warm page cache for all queries.
    let tx = db.conn.unchecked_transaction().map_err(e)?;
    // The advisory ecosystems present, to look up exact (name, ecosystem) keys.
    let known: Vec<String> = tx
        .prepare("SELECT DISTINCT ecosystem FROM source_ecosystems")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(e)?;
    let sources: HashMap<i64, (String, String)> = tx
        .prepare("SELECT id, name, kind FROM sources")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
                .collect()
        })
        .map_err(e)?;
    let mut cand_stmt = tx
        .prepare(
            "SELECT advisory, ecosystem, ranges, versions, distro_severity, attrs FROM affected
             WHERE name = ?1 AND ecosystem = ?2 ORDER BY advisory",
        )
        .map_err(e)?;
    let mut adv_stmt = tx
        .prepare(
            "SELECT vuln_id, cves, aliases, summary, details, modified, published,
                    cvss, distro_severity, source FROM advisories WHERE id = ?1",
        )
        .map_err(e)?;
    // Sized up front: growing these frees large blocks, and glibc then
    // consolidates its whole heap each time.
    let mut advisories: HashMap<i64, AdvisoryRow> = HashMap::with_capacity(targets.len() * 4);
    let mut out: Vec<VulnMatch> = Vec::with_capacity(targets.len() * 4);

    for t in &targets {
        let Some(scheme) = ecosystem::scheme(t.ecosystem) else {
            continue;
        };
        let cmp = move |a: &str, b: &str| coldscan_pkgdb::version::compare(scheme, a, b);
        // Advisory ids already matched for this target (targets are unique).
        let mut seen: Vec<String> = Vec::new();
        let mut candidates = Vec::new();
        for eco in known.iter().filter(|k| ecosystem::matches(t.ecosystem, k)) {
            let mut rows = cand_stmt.query(rusqlite::params![t.name, eco]).map_err(e)?;
            // Ranges are read in place from SQLite's buffer; only hits are copied.
            while let Some(r) = rows.next().map_err(e)? {
                let text = |i: usize| -> rusqlite::Result<&str> {
                    Ok(r.get_ref(i)?.as_str_or_null()?.unwrap_or(""))
                };
                let ranges: Vec<Range> =
                    serde_json::from_str(text(2).map_err(e)?).unwrap_or_default();
                let versions_text = text(3).map_err(e)?;
                let versions: Vec<String> = if versions_text == "[]" {
                    Vec::new()
                } else {
                    serde_json::from_str(versions_text).unwrap_or_default()
                };
                let verdict = range::evaluate(&cmp, t.version, &ranges, &versions);
                if !verdict.affected {
                    continue;
                }
                candidates.push(Candidate {
                    advisory: r.get(0).map_err(e)?,
                    ecosystem: r.get(1).map_err(e)?,
                    fixed: verdict.fixed,
                    distro_severity: r.get(4).map_err(e)?,
                    attrs: r.get(5).map_err(e)?,
                });
            }
        }
        for c in candidates {
            if let std::collections::hash_map::Entry::Vacant(v) = advisories.entry(c.advisory) {
                let row = adv_stmt
                    .query_row([c.advisory], |r| {
                        Ok(AdvisoryRow {
                            vuln_id: r.get(0)?,
                            cves: from_json(r.get::<_, Option<String>>(1)?.as_deref()),
                            aliases: from_json(r.get::<_, Option<String>>(2)?.as_deref()),
                            summary: r.get(3)?,
                            details: r.get(4)?,
                            modified: r.get(5)?,
                            published: r.get(6)?,
                            cvss: from_json(r.get::<_, Option<String>>(7)?.as_deref()),
                            distro_severity: r
                                .get::<_, Option<String>>(8)?
                                .and_then(|s: String| serde_json::from_str(&s).ok()),
                            source: r.get(9)?,
                        })
                    })
                    .optional()
                    .map_err(e)?;
                match row {
                    Some(row) => v.insert(row),
                    None => continue,
                };
            }
            let a = &advisories[&c.advisory];
            if seen.contains(&a.vuln_id) {
                continue;
            }
            seen.push(a.vuln_id.clone());
            let mut binaries: Vec<String> = t
                .binaries
                .iter()
                .map(|b| match &b.arch {
                    Some(arch) if !arch.is_empty() => format!("{}:{arch}", b.name),
                    _ => b.name.clone(),
                })
                .collect();
            binaries.sort();
            binaries.dedup();
            let distro_severity = c
                .distro_severity
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .or_else(|| a.distro_severity.clone());
            out.push(VulnMatch {
                advisory_id: a.vuln_id.clone(),
                cve_ids: a.cves.clone(),
                aliases: a.aliases.clone(),
                summary: a.summary.clone(),
                details: a.details.clone(),
                modified: a.modified.clone(),
                published: a.published.clone(),
                package: t.name.to_string(),
                binaries,
                installed_version: t.version.to_string(),
                fix_available: c.fixed.is_some(),
                fixed_version: c.fixed,
                ecosystem: c.ecosystem.clone(),
                installed_ecosystem: t.ecosystem.to_string(),
                source_db: sources
                    .get(&a.source)
                    .map(|s| s.0.clone())
                    .unwrap_or_default(),
                source_kind: sources
                    .get(&a.source)
                    .map(|s| s.1.clone())
                    .unwrap_or_default(),
                cvss: a.cvss.clone(),
                distro_severity,
                attributes: from_json(c.attrs.as_deref()),
                evidence: t
                    .binaries
                    .iter()
                    .map(|b| Evidence {
                        package: b.name.clone(),
                        version: b.version.clone(),
                        arch: b.arch.clone(),
                        file: b.evidence_file.clone(),
                        key: b.evidence_key.clone(),
                    })
                    .collect(),
            });
        }
    }
    out.sort_unstable_by(|a, b| {
        (&a.package, &a.installed_version, &a.advisory_id).cmp(&(
            &b.package,
            &b.installed_version,
            &b.advisory_id,
        ))
    });
    Ok(out)
}
