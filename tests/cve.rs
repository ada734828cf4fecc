//! End-to-end CVE package: advisories imported with `coldscan db import`,
//! matched against the Debian 12 fixtures' dpkg databases by `scan`.
//!
//! The OSV records are written by this test from the bookworm changelog
//! table in ../shared/vulndata (facts: source, fixed version, CVE ids);
//! which CVEs must be reported is decided independently with
//! `dpkg --compare-versions`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{coldscan, coldscan_json, fixture};
use serde_json::{json, Value};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn shared_table() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/vulndata/debian12-changelogs/bookworm-changelog-cves.tsv");
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/vulndata absent ({})", p.display());
        None
    }
}

fn dpkg_gt(a: &str, b: &str) -> bool {
    Command::new("dpkg")
        .args(["--compare-versions", a, "gt", b])
        .status()
        .expect("dpkg --compare-versions (Debian package dpkg)")
        .success()
}

/// (source, fixed version, CVE) for openssh from the table, plus sudo's
/// CVE-2025-32462 (fixed in 1.9.13p3-1+deb12u2 by DSA-5954-1), which the
/// table lacks because sudo was not installed where it was made.
fn advisories(table: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(table).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() >= 6 && f[0] == "openssh" {
            for cve in f[5].split_whitespace() {
                out.push((f[0].to_string(), f[1].to_string(), cve.to_string()));
            }
        }
    }
    assert!(out.len() >= 6, "openssh rows in {}", table.display());
    out.push((
        "sudo".into(),
        "1.9.13p3-1+deb12u2".into(),
        "CVE-2025-32462".into(),
    ));
    out
}

/// Writes one OSV record per (source, CVE) into `dir`, `modified` as given.
fn write_osv(dir: &Path, rows: &[(String, String, String)], modified: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, (source, fixed, cve)) in rows.iter().enumerate() {
        let mut record = json!({
            "schema_version": "1.6.0",
            "id": format!("DEBIAN-{cve}"),
            "aliases": [cve],
            "modified": modified,
            "summary": format!("{source}: {cve}"),
            "affected": [{
                "package": {"ecosystem": "Debian:12", "name": source},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                "ecosystem_specific": {"urgency": "medium"}
            }]
        });
        if cve == "CVE-2023-48795" {
            // Terrapin, with its CVSS v3.1 vector (base 5.9).
            record["severity"] = json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N"}]);
        }
        std::fs::write(dir.join(format!("{i:03}.json")), record.to_string()).unwrap();
    }
}

fn import(dir: &Path, db: &Path) {
    let out = coldscan(&["db", "import", s(dir), "--db", s(db)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn cve_findings(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rules_package"] == "cve")
        .collect()
}

fn attr<'a>(finding: &'a Value, key: &str) -> &'a str {
    finding["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .and_then(|a| a["value"].as_str())
        .unwrap_or_else(|| panic!("no attribute {key} in {finding:#}"))
}

#[test]
fn debian12_old_openssh_and_sudo_are_vulnerable_current_ones_are_not() {
    let Some(table) = shared_table() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let rows = advisories(&table);
    let osv = tmp.path().join("osv");
    write_osv(&osv, &rows, &common::rfc3339_now());
    let db = tmp.path().join("v.sqlite");
    import(&osv, &db);

    // Expected, independently: every CVE whose fix is above the installed source version.
    let installed = [("openssh", "1:9.2p1-2"), ("sudo", "1.9.5p1-1")];
    let expected: BTreeSet<String> = rows
        .iter()
        .filter(|(src, fixed, _)| {
            let have = installed.iter().find(|(n, _)| n == src).unwrap().1;
            dpkg_gt(fixed, have)
        })
        .map(|(_, _, cve)| cve.clone())
        .collect();
    for must in ["CVE-2023-48795", "CVE-2023-38408", "CVE-2025-32462"] {
        assert!(expected.contains(must), "{must}");
    }

    let weak = fixture("debian-weak");
    let r = coldscan_json(&["scan", s(&weak), "--packages", "cve", "--db", s(&db)]);
    let found = cve_findings(&r);
    let ids: BTreeSet<String> = found
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, expected);

    let terrapin = found.iter().find(|f| f["id"] == "CVE-2023-48795").unwrap();
    assert_eq!(
        terrapin["title"],
        format!("Image {} is vulnerable to CVE-2023-48795", s(&weak))
    );
    assert_eq!(attr(terrapin, "CVE_ID"), "CVE-2023-48795");
    assert_eq!(attr(terrapin, "package"), "openssh");
    assert_eq!(
        attr(terrapin, "binary_packages"),
        "openssh-client:amd64, openssh-server:amd64, openssh-sftp-server:amd64"
    );
    assert_eq!(attr(terrapin, "installed_version"), "1:9.2p1-2");
    assert_eq!(attr(terrapin, "fixed_version"), "1:9.2p1-2+deb12u2");
    assert_eq!(attr(terrapin, "fix_available"), "true");
    assert_eq!(terrapin["severity"], "Medium", "CVSS 5.9");
    assert!(attr(terrapin, "severity_source").contains("base score 5.9"));
    // Evidence: the dpkg database and each binary package's stanza.
    let ev = &terrapin["evidence"][0];
    assert_eq!(ev["file"], "/var/lib/dpkg/status");
    assert!(ev["line"].as_u64().is_some());
    // Without a CVSS vector, the distribution's urgency decides.
    let other = found.iter().find(|f| f["id"] == "CVE-2023-38408").unwrap();
    assert_eq!(other["severity"], "Medium");
    assert!(attr(other, "severity_source").starts_with("distribution rating"));
    let sudo = found.iter().find(|f| f["id"] == "CVE-2025-32462").unwrap();
    assert_eq!(attr(sudo, "package"), "sudo");
    assert_eq!(attr(sudo, "installed_version"), "1.9.5p1-1");
    // The report names the database and its sources.
    assert_eq!(r["vulnerability_database"]["path"], s(&db));
    assert!(r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| !w.as_str().unwrap().contains("days old")));

    let clean = fixture("debian-clean");
    let r = coldscan_json(&["scan", s(&clean), "--packages", "cve", "--db", s(&db)]);
    assert!(cve_findings(&r).is_empty(), "{:#}", r["findings"]);
    assert!(r["exclusions"].as_array().unwrap().is_empty());
}

#[test]
fn stale_database_warns_and_missing_database_is_an_exclusion() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = vec![(
        "sudo".to_string(),
        "1.9.13p3-1+deb12u2".to_string(),
        "CVE-2025-32462".to_string(),
    )];
    let osv = tmp.path().join("osv");
    write_osv(&osv, &rows, "2024-01-01T00:00:00Z");
    let db = tmp.path().join("old.sqlite");
    import(&osv, &db);
    let weak = fixture("debian-weak");
    let out = coldscan(&["scan", s(&weak), "--packages", "cve", "--db", s(&db)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a stale database is a warning, never a failure"
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cve_findings(&r).len(), 1);
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("days old")),
        "{warnings:?}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("days old"));

    // No database: the CVE package is an exclusion with the command to run;
    // the other packages still report.
    let missing = tmp.path().join("none.sqlite");
    let r = coldscan_json(&[
        "scan",
        s(&weak),
        "--packages",
        "cve,security-best-practices",
        "--db",
        s(&missing),
    ]);
    let ex: Vec<&Value> = r["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rules_package"] == "cve")
        .collect();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0]["kind"], "package");
    assert!(ex[0]["reason"]
        .as_str()
        .unwrap()
        .contains("coldscan db import"));
    assert!(!r["findings"].as_array().unwrap().is_empty());
    assert!(!missing.exists(), "scanning never creates a database");
}

/// Expected advisories, independently of coldscan: python3-rpm's
/// labelCompare over the OSV ranges of every record for the installed EVRs
/// (read with `rpm -qa --dbpath`, the real tool, from the fixture's rpmdb).
const EXPECTED_ALMA_PY: &str = r#"
import glob, json, sys, rpm
installed = json.loads(sys.stdin.read())
def evr(v):
    e, _, vr = v.rpartition(":") if ":" in v else ("0", "", v)
    ver, _, rel = vr.rpartition("-")
    return (e or "0", ver, rel)
def cmp(a, b):
    return rpm.labelCompare(evr(a), evr(b))
for path in sorted(glob.glob(sys.argv[1] + "/*.json")):
    rec = json.load(open(path))
    if rec.get("withdrawn"):
        continue
    cves = sorted({x for x in [rec["id"]] + rec.get("aliases", []) + rec.get("related", []) + rec.get("upstream", []) if x.startswith("CVE-")})
    for aff in rec.get("affected", []):
        pkg = aff.get("package", {})
        if pkg.get("ecosystem") != "AlmaLinux:9" or pkg.get("name") not in installed:
            continue
        have = installed[pkg["name"]]
        hit = have in aff.get("versions", [])
        for rng in aff.get("ranges", []):
            if rng.get("type") != "ECOSYSTEM":
                continue
            state = False
            for ev in rng.get("events", []):
                if "introduced" in ev:
                    if ev["introduced"] == "0" or cmp(have, ev["introduced"]) >= 0:
                        state = True
                elif "fixed" in ev:
                    if cmp(have, ev["fixed"]) >= 0:
                        state = False
                elif "last_affected" in ev:
                    if cmp(have, ev["last_affected"]) > 0:
                        state = False
            hit = hit or state
        if hit:
            for c in cves or [rec["id"]]:
                print(c + "\t" + rec["id"])
"#;

#[test]
fn almalinux9_fixture_reports_exactly_the_advisories_python_rpm_computes() {
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vulndata/osv/almalinux/almalinux9");
    if !folder.is_dir() {
        eprintln!("skipped: ../shared/vulndata absent ({})", folder.display());
        return;
    }
    let python_rpm = Command::new("python3")
        .args(["-c", "import rpm"])
        .status()
        .is_ok_and(|s| s.success());
    let rpm_qa = Command::new("rpm").arg("--version").output().is_ok();
    if !python_rpm || !rpm_qa {
        eprintln!("skipped: rpm and python3-rpm (Debian packages rpm, python3-rpm) are needed");
        return;
    }
    // The installed EVRs as rpm itself reads them from the fixture's database.
    let dbdir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/data/alma9-cve");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(dbdir.join("rpmdb.sqlite"), tmp.path().join("rpmdb.sqlite")).unwrap();
    let qa = Command::new("rpm")
        .args([
            "-qa",
            "--dbpath",
            s(tmp.path()),
            "--qf",
            "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n",
        ])
        .output()
        .unwrap();
    assert!(
        qa.status.success(),
        "{}",
        String::from_utf8_lossy(&qa.stderr)
    );
    let installed: serde_json::Map<String, Value> = String::from_utf8(qa.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, v)| (n.to_string(), Value::from(v)))
        .collect();
    assert_eq!(installed.len(), 10);

    let mut child = Command::new("python3")
        .args(["-c", EXPECTED_ALMA_PY, s(&folder)])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Object(installed).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let expected: BTreeSet<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(c, a)| (c.to_string(), a.to_string()))
        .collect();
    assert!(expected.len() > 20, "{expected:?}");

    let db = tmp.path().join("v.sqlite");
    import(&folder, &db);
    let img = fixture("alma9-cve");
    let r = coldscan_json(&["scan", s(&img), "--packages", "cve", "--db", s(&db)]);
    let mut ours = BTreeSet::new();
    for f in cve_findings(&r) {
        for advisory in attr(f, "advisory").split(", ") {
            ours.insert((f["id"].as_str().unwrap().to_string(), advisory.to_string()));
        }
        assert_eq!(attr(f, "ecosystem"), "AlmaLinux:9");
        assert_eq!(
            f["evidence"][0]["file"],
            "/usr/lib/sysimage/rpm/rpmdb.sqlite"
        );
    }
    assert_eq!(ours, expected);
    // openssh sits exactly on ALSA-2024:1130's fixed build: not reported.
    assert!(!ours.iter().any(|(_, a)| a == "ALSA-2024:1130"));
    // The records are months old: a warning, not a failure.
    assert!(r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("days old")));
}
