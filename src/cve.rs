//! The CVE rules package: the telemetry's installed packages matched
//! against the local vulnerability database (`coldscan db import`), one
//! finding per (image, vulnerability).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use coldscan_vulndb::{match_packages, Db, DbInfo, Installed, VulnMatch};

use crate::collect::Telemetry;
use crate::report::{Attribute, Builder, Exclusion, ExclusionKind, Finding};
use crate::rules::outcome::Evidence;
use crate::rules::rule::{References, Severity};

/// A database older than this gets a warning in the report.
const STALE_DAYS: f64 = 7.0;

/// The opened database, or why there is none.
pub struct CveDb {
    pub db: Result<Db, String>,
    /// Keep tracker "minor issue" findings at their computed severity
    /// instead of Informational.
    pub keep_minor_severity: bool,
}

impl CveDb {
    /// Opens `path`, or the default database under the user's data directory.
    pub fn open(path: Option<&Path>, keep_minor_severity: bool) -> CveDb {
        let path: Option<PathBuf> = path.map(Path::to_path_buf).or_else(Db::default_path);
        let db = match path {
            None => Err(
                "no vulnerability database: neither --db nor $XDG_DATA_HOME/$HOME is set; \
                         import advisories with `coldscan db import PATH… --db FILE`"
                    .to_string(),
            ),
            Some(p) => Db::open_read_only(&p).map_err(|e| e.to_string()),
        };
        CveDb {
            db,
            keep_minor_severity,
        }
    }

    /// The report's `vulnerability_database` and any staleness warning.
    pub fn describe(&self) -> (Option<serde_json::Value>, Option<String>) {
        let Ok(db) = &self.db else {
            return (None, None);
        };
        match db.info() {
            Ok(info) => {
                let warning = stale_warning(&info);
                (serde_json::to_value(&info).ok(), warning)
            }
            Err(e) => (None, Some(format!("vulnerability database: {e}"))),
        }
    }
}

fn stale_warning(info: &DbInfo) -> Option<String> {
    match info.newest_age_days {
        Some(age) if age > STALE_DAYS => Some(format!(
            "the vulnerability database {} is {age:.0} days old (newest record {}): \
             import fresh advisories for current results",
            info.path.display(),
            info.newest_modified.as_deref().unwrap_or("?")
        )),
        None => Some(format!(
            "the vulnerability database {} holds no dated record",
            info.path.display()
        )),
        _ => None,
    }
}

fn exclusion(asset: &str, reason: String) -> Exclusion {
    Exclusion {
        rules_package: "cve".into(),
        rule_id: None,
        rule_name: None,
        asset: asset.to_string(),
        kind: ExclusionKind::Package,
        reason,
        references: References::default(),
    }
}

/// The telemetry's packages as the matcher wants them.
fn installed(t: &Telemetry) -> Vec<Installed> {
    t.packages
        .items
        .iter()
        .filter_map(|p| {
            let ecosystem = p.ecosystem.clone()?;
            let pkg = &p.package;
            Some(Installed {
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                source_name: pkg.source_name.clone(),
                source_version: pkg.source_version.clone(),
                arch: pkg.arch.clone(),
                ecosystem,
                evidence_file: pkg.evidence.file.clone(),
                evidence_key: match (pkg.evidence.line, &pkg.evidence.key) {
                    (Some(line), _) => line.to_string(),
                    (None, Some(key)) => key.clone(),
                    (None, None) => String::new(),
                },
            })
        })
        .collect()
}

/// Adds the CVE findings of one asset, or the reason there are none.
pub fn add_findings(builder: &mut Builder, cve: &CveDb, asset: &str, t: &Telemetry) {
    let db = match &cve.db {
        Ok(db) => db,
        Err(e) => return builder.add_exclusion(exclusion(asset, e.clone())),
    };
    if t.os.family == "windows" {
        return builder.add_exclusion(exclusion(
            asset,
            "CVE matching for Windows needs Microsoft's update data, which this version does not import"
                .into(),
        ));
    }
    let pkgs = installed(t);
    if pkgs.is_empty() {
        let reason = if t.packages.items.is_empty() {
            "no installed packages were found in the image".to_string()
        } else {
            "the image's distribution is not known, so its packages cannot be matched".to_string()
        };
        return builder.add_exclusion(exclusion(asset, reason));
    }
    let matches = match match_packages(db, &pkgs) {
        Ok(m) => m,
        Err(e) => {
            return builder.add_exclusion(Exclusion {
                kind: ExclusionKind::Error,
                ..exclusion(asset, format!("matching failed: {e}"))
            })
        }
    };
    if let Some(s) = builder
        .report
        .rules_packages
        .iter_mut()
        .find(|p| p.id == "cve")
    {
        s.rules_evaluated += pkgs.len();
    }
    for finding in findings(
        asset,
        &matches,
        cve.keep_minor_severity,
        &builder.user_attributes,
    ) {
        builder.add_finding(finding);
    }
}

/// One finding per vulnerability: a CVE id when the advisory names one
/// (an advisory naming three CVEs gives three findings), else the advisory.
fn findings(
    asset: &str,
    matches: &[VulnMatch],
    keep_minor: bool,
    user_attributes: &[Attribute],
) -> Vec<Finding> {
    let mut by_vuln: BTreeMap<String, Vec<&VulnMatch>> = BTreeMap::new();
    for m in matches {
        let ids = if m.cve_ids.is_empty() {
            vec![m.advisory_id.clone()]
        } else {
            m.cve_ids.clone()
        };
        for id in ids {
            by_vuln.entry(id).or_default().push(m);
        }
    }
    by_vuln
        .into_iter()
        .map(|(vuln, ms)| finding(asset, &vuln, &ms, keep_minor, user_attributes))
        .collect()
}

/// Severity from the highest CVSS v3/v4 base score, else the
/// distribution's own word, else Medium; with the name of what decided.
fn severity(ms: &[&VulnMatch]) -> (Severity, String) {
    let best = ms
        .iter()
        .flat_map(|m| m.cvss.iter())
        .filter(|c| c.kind.contains("V3") || c.kind.contains("V4"))
        .filter_map(|c| c.base_score.map(|s| (s, c.kind.clone())))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((score, kind)) = best {
        let sev = if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Informational
        };
        return (sev, format!("{kind} base score {score}"));
    }
    for m in ms {
        if let Some(d) = &m.distro_severity {
            if let Some(sev) = distro_word(&d.value) {
                return (
                    sev,
                    format!("distribution rating {:?} ({})", d.value, d.from),
                );
            }
        }
    }
    (Severity::Medium, "no rating in the advisory: Medium".into())
}

/// Debian urgency, Ubuntu priority, Red Hat/Alma severity → ours.
fn distro_word(word: &str) -> Option<Severity> {
    let w = word.trim().trim_end_matches('*').to_ascii_lowercase();
    Some(match w.as_str() {
        "critical" | "important" | "high" => Severity::High,
        "moderate" | "medium" => Severity::Medium,
        "low" => Severity::Low,
        "negligible" | "unimportant" => Severity::Informational,
        _ => return None,
    })
}

/// Tracker statuses that Debian itself treats as minor.
fn minor_reason(m: &VulnMatch) -> Option<String> {
    let a = &m.attributes;
    if a.get("urgency").is_some_and(|u| u == "unimportant") {
        return Some("urgency unimportant".into());
    }
    if let Some(reason) = a.get("nodsa_reason").filter(|r| !r.is_empty()) {
        return Some(format!("no DSA ({reason})"));
    }
    if a.contains_key("nodsa") {
        return Some("no DSA".into());
    }
    match a.get("status").map(String::as_str) {
        Some(s @ ("ignored" | "postponed" | "not-affected")) => Some(s.to_string()),
        _ => None,
    }
}

fn finding(
    asset: &str,
    vuln: &str,
    ms: &[&VulnMatch],
    keep_minor: bool,
    user_attributes: &[Attribute],
) -> Finding {
    let first = ms[0];
    let (mut sev, mut sev_source) = severity(ms);
    let minor = ms.iter().all(|m| minor_reason(m).is_some());
    if minor && !keep_minor && sev != Severity::Informational {
        sev_source = format!(
            "{sev_source}; lowered to Informational: {}",
            minor_reason(first).unwrap_or_default()
        );
        sev = Severity::Informational;
    }
    let mut attributes: Vec<Attribute> = Vec::new();
    // Several matches of one vulnerability repeat vectors and attributes:
    // each (key, value) is kept once.
    let mut add = |key: &str, value: String| {
        if !attributes.iter().any(|a| a.key == key && a.value == value) {
            attributes.push(Attribute {
                key: key.into(),
                value,
            });
        }
    };
    add("IMAGE", asset.to_string());
    if vuln.starts_with("CVE-") {
        add("CVE_ID", vuln.to_string());
    }
    let advisories = distinct(ms.iter().map(|m| m.advisory_id.as_str()));
    let packages = distinct(ms.iter().map(|m| m.package.as_str()));
    let binaries = distinct(
        ms.iter()
            .flat_map(|m| m.binaries.iter().map(String::as_str)),
    );
    let fixed = distinct(
        ms.iter()
            .map(|m| m.fixed_version.as_deref().unwrap_or("none")),
    );
    let fix = ms.iter().all(|m| m.fix_available);
    add("advisory", advisories.join(", "));
    add("package", packages.join(", "));
    add("binary_packages", binaries.join(", "));
    add(
        "installed_version",
        distinct(ms.iter().map(|m| m.installed_version.as_str())).join(", "),
    );
    add("fixed_version", fixed.join(", "));
    add("fix_available", fix.to_string());
    add("ecosystem", first.ecosystem.clone());
    add(
        "source",
        format!("{} ({})", first.source_db, first.source_kind),
    );
    for c in ms.iter().flat_map(|m| m.cvss.iter()) {
        add(&format!("{}_vector", c.kind), c.vector.clone());
        match (c.base_score, &c.error) {
            (Some(score), _) => add(&format!("{}_score", c.kind), format!("{score}")),
            (None, Some(e)) => add(&format!("{}_error", c.kind), e.clone()),
            _ => {}
        }
    }
    if let Some(d) = &first.distro_severity {
        add("distribution_severity", d.value.clone());
    }
    for (k, v) in &first.attributes {
        add(k, v.clone());
    }
    add("severity_source", sev_source);
    let mut evidence: Vec<Evidence> = Vec::new();
    for e in ms.iter().flat_map(|m| m.evidence.iter()) {
        let item = {
            let text = format!("{} {} installed", e.package, e.version);
            match e.key.parse::<usize>() {
                Ok(line) => Evidence::at(&e.file, line, text),
                Err(_) if e.key.is_empty() => Evidence::in_file(&e.file, text),
                Err(_) => Evidence::in_file(&e.file, format!("{text} (record {})", e.key)),
            }
        };
        if !evidence.contains(&item) {
            evidence.push(item);
        }
    }
    let summary = first
        .summary
        .clone()
        .or_else(|| first.details.clone())
        .unwrap_or_else(|| format!("{vuln} affects {}", packages.join(", ")));
    let recommendation = if fix {
        format!(
            "Update {} to {} or later.",
            packages.join(", "),
            fixed.join(", ")
        )
    } else {
        format!(
            "No fixed version of {} is available from the distribution yet: apply its mitigation or remove the package.",
            packages.join(", ")
        )
    };
    Finding {
        id: vuln.to_string(),
        title: format!("Image {asset} is vulnerable to {vuln}"),
        description: summary,
        recommendation,
        severity: sev,
        numeric_severity: sev.numeric(),
        confidence: 10,
        rules_package: "cve".into(),
        rule_id: vuln.to_string(),
        rule_name: vuln.to_string(),
        asset: asset.to_string(),
        attributes,
        user_attributes: user_attributes.to_vec(),
        evidence,
        references: References {
            urls: vuln
                .starts_with("CVE-")
                .then(|| format!("https://www.cve.org/CVERecord?id={vuln}"))
                .into_iter()
                .collect(),
            ..References::default()
        },
    }
}

/// The distinct values, sorted.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    values
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}
