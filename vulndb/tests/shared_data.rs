//! Tests on the real records in ../shared/vulndata (read in place, never copied):
//! the two "done when" checks of issue 5 and the real Debian tracker, Ubuntu,
//! Rocky and Alpine samples. Each test prints "skipped" and passes when the
//! folder is absent.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use coldscan_vulndb::{match_packages, Db, Installed, VulnMatch};

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vulndata");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/vulndata absent");
        None
    }
}

fn pkg(eco: &str, name: &str, version: &str, source: Option<(&str, Option<&str>)>) -> Installed {
    Installed {
        name: name.into(),
        version: version.into(),
        source_name: source.map(|s| s.0.to_string()),
        source_version: source.and_then(|s| s.1.map(str::to_string)),
        arch: Some("x86_64".into()),
        ecosystem: eco.into(),
        evidence_file: "/var/lib/rpm/rpmdb.sqlite".into(),
        evidence_key: format!("{name}-{version}"),
    }
}

fn import(paths: &[PathBuf]) -> (tempfile::TempDir, Db) {
    let tmp = tempfile::tempdir().unwrap();
    let mut db = Db::open(&tmp.path().join("vulndb.sqlite")).unwrap();
    let reports = db.import(paths).unwrap();
    for r in &reports {
        eprintln!(
            "{}: {} records, {} withdrawn, {} malformed, {} not affected, kind {}",
            r.source, r.records, r.withdrawn, r.malformed, r.not_affected, r.kind
        );
        for m in &r.malformed_examples {
            eprintln!("  malformed: {m}");
        }
    }
    (tmp, db)
}

fn python_rpm() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import rpm"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// The expected (advisory, package) pairs, computed independently: the OSV
/// range rules written again in Python, with rpm's own labelCompare.
const EXPECTED_PY: &str = r#"
import json, os, sys, rpm
folder, installed = sys.argv[1], json.loads(sys.stdin.read())
def evr(s):
    e = '0'
    if ':' in s and s.split(':', 1)[0].isdigit():
        e, s = s.split(':', 1)
    v, _, r = s.rpartition('-')
    return (e, v, r)
def cmp(a, b):
    return rpm.labelCompare(evr(a), evr(b))
def in_range(v, events):
    key = lambda ev: (0, '') if ev.get('introduced') == '0' else (1, list(ev.values())[0])
    affected = False
    for ev in events:  # AlmaLinux ranges are [introduced 0, fixed X]
        (kind, x), = ev.items()
        if kind == 'introduced' and (x == '0' or cmp(v, x) >= 0): affected = True
        if kind in ('fixed', 'limit') and cmp(v, x) >= 0: affected = False
        if kind == 'last_affected' and cmp(v, x) > 0: affected = False
    return affected
out = set()
for f in sorted(os.listdir(folder)):
    rec = json.load(open(os.path.join(folder, f)))
    if rec.get('withdrawn'): continue
    for a in rec.get('affected', []):
        p = a['package']
        if p['ecosystem'] != 'AlmaLinux:9' or p['name'] not in installed: continue
        v = installed[p['name']]
        hit = any(in_range(v, r['events']) for r in a.get('ranges', []) if r['type'] != 'GIT')
        hit = hit or any(cmp(v, x) == 0 for x in a.get('versions', []))
        if hit: out.add((rec['id'], p['name']))
for i, n in sorted(out): print(i + '\t' + n)
"#;

#[test]
fn almalinux9_matches_equal_python_rpm() {
    let Some(shared) = shared() else { return };
    let Some(py) = python_rpm() else {
        eprintln!("skipped: python3 with `import rpm` not found (Debian package python3-rpm)");
        return;
    };
    let folder = shared.join("osv/almalinux/almalinux9");
    let (_tmp, db) = import(std::slice::from_ref(&folder));
    let info = db.info().unwrap();
    assert_eq!(info.sources[0].malformed, 0);
    assert!(info.advisories >= 290, "{}", info.advisories);

    // Old builds: some exactly at a fix (openssh 8.7p1-34.el9_3.3), some one
    // build below one (sudo, glibc), openssl with its epoch.
    let installed: &[(&str, &str, &str)] = &[
        ("openssl", "1:3.0.7-16.el9_2", "openssl"),
        ("openssl-libs", "1:3.0.7-16.el9_2", "openssl"),
        ("openssh", "8.7p1-34.el9_3.3", "openssh"),
        ("openssh-server", "8.7p1-34.el9_3.3", "openssh"),
        ("openssh-clients", "8.7p1-34.el9_3.3", "openssh"),
        ("sudo", "1.9.5p2-7.el9", "sudo"),
        ("glibc", "2.34-60.el9", "glibc"),
        ("glibc-common", "2.34-60.el9", "glibc"),
        ("glibc-minimal-langpack", "2.34-60.el9", "glibc"),
        ("glibc-langpack-en", "2.34-60.el9", "glibc"),
    ];
    let pkgs: Vec<Installed> = installed
        .iter()
        .map(|(n, v, s)| pkg("AlmaLinux:9", n, v, Some((s, None))))
        .collect();
    let matches = match_packages(&db, &pkgs).unwrap();
    let ours: BTreeSet<(String, String)> = matches
        .iter()
        .map(|m| (m.advisory_id.clone(), m.package.clone()))
        .collect();
    assert_eq!(
        ours.len(),
        matches.len(),
        "one match per (advisory, package)"
    );

    let map: serde_json::Map<String, serde_json::Value> = installed
        .iter()
        .map(|(n, v, _)| (n.to_string(), serde_json::Value::from(*v)))
        .collect();
    let mut child = Command::new(py)
        .args(["-c", EXPECTED_PY])
        .arg(&folder)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::Value::Object(map).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let expected: BTreeSet<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (a, b) = l.split_once('\t').unwrap();
            (a.to_string(), b.to_string())
        })
        .collect();
    eprintln!(
        "{} matches, python-rpm expects {}",
        ours.len(),
        expected.len()
    );
    assert_eq!(ours, expected);
    // Every package of the set is hit, except openssh, which sits exactly on a fix
    // (8.7p1-34.el9_3.3) and must still match only the later advisories.
    for (name, _, _) in installed {
        assert!(ours.iter().any(|(_, p)| p == name), "{name} not matched");
    }
    assert!(
        !ours
            .iter()
            .any(|(a, p)| a == "ALSA-2024:1130" && p.starts_with("openssh")),
        "ALSA-2024:1130 is fixed in 8.7p1-34.el9_3.3, the installed build"
    );
    let m = matches
        .iter()
        .find(|m| m.package == "openssl-libs")
        .unwrap();
    assert!(m.fix_available && m.fixed_version.is_some());
    assert_eq!(
        m.distro_severity.as_ref().map(|d| d.from.as_str()),
        Some("summary")
    );
    assert!(!m.cve_ids.is_empty());
    assert_eq!(m.evidence[0].file, "/var/lib/rpm/rpmdb.sqlite");
    // Not AlmaLinux 8, not Rocky.
    let other: Vec<Installed> = pkgs
        .iter()
        .map(|p| Installed {
            ecosystem: "AlmaLinux:8".into(),
            ..p.clone()
        })
        .chain(pkgs.iter().map(|p| Installed {
            ecosystem: "Rocky Linux:9".into(),
            ..p.clone()
        }))
        .collect();
    assert!(match_packages(&db, &other).unwrap().is_empty());
    // A minor release matches the major release's advisories.
    let minor: Vec<Installed> = pkgs
        .iter()
        .map(|p| Installed {
            ecosystem: "AlmaLinux:9.2".into(),
            ..p.clone()
        })
        .collect();
    assert_eq!(match_packages(&db, &minor).unwrap().len(), matches.len());
}

/// Rows of the bookworm changelog table: (source, fixed version, CVEs, current version).
fn changelog_rows(shared: &Path) -> Vec<(String, String, Vec<String>, String)> {
    let path = shared.join("debian12-changelogs/bookworm-changelog-cves.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 7, "{l}");
            (
                f[0].to_string(),
                f[1].to_string(),
                f[5].split_whitespace().map(str::to_string).collect(),
                f[6].to_string(),
            )
        })
        .collect()
}

/// sudo is not installed on the machine the table was made on, so it has no
/// rows there. The bookworm fix for CVE-2025-32462 (sudo host option) is
/// 1.9.13p3-1+deb12u2 (DSA-5954-1), the current bookworm version.
const SUDO_ROWS: &[(&str, &str, &str)] =
    &[("1.9.13p3-1+deb12u2", "CVE-2025-32462", "1.9.13p3-1+deb12u2")];

#[test]
fn debian12_openssh_sudo_from_changelog_table() {
    let Some(shared) = shared() else { return };
    let mut rows: Vec<_> = changelog_rows(&shared)
        .into_iter()
        .filter(|r| r.0 == "openssh" || r.0 == "sudo")
        .collect();
    assert!(
        rows.iter().any(|r| r.0 == "openssh"),
        "no openssh rows in the table"
    );
    for (fixed, cve, current) in SUDO_ROWS {
        rows.push((
            "sudo".into(),
            fixed.to_string(),
            vec![cve.to_string()],
            current.to_string(),
        ));
    }
    // One OSV record per CVE, as osv.dev's Debian converter writes them.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("osv");
    std::fs::create_dir(&dir).unwrap();
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    for (source, fixed, cves, _) in &rows {
        for cve in cves {
            let rec = serde_json::json!({
                "id": format!("DEBIAN-{cve}"),
                "upstream": [cve],
                "modified": "2025-07-01T00:00:00Z",
                "affected": [{
                    "package": {"ecosystem": "Debian:12", "name": source,
                                "purl": format!("pkg:deb/debian/{source}?arch=source")},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                    "ecosystem_specific": {"urgency": "medium"}
                }]
            });
            std::fs::write(dir.join(format!("DEBIAN-{cve}.json")), rec.to_string()).unwrap();
            expected.insert((cve.clone(), source.clone()));
        }
    }
    let (_t, db) = import(&[dir]);
    let deb = |name: &str, version: &str, source: Option<&str>| Installed {
        name: name.into(),
        version: version.into(),
        source_name: source.map(str::to_string),
        source_version: None,
        arch: Some("amd64".into()),
        ecosystem: "Debian:12".into(),
        evidence_file: "/var/lib/dpkg/status".into(),
        evidence_key: format!("Package: {name}"),
    };
    let old = [
        deb("openssh-server", "1:9.2p1-2", Some("openssh")),
        deb("openssh-client", "1:9.2p1-2", Some("openssh")),
        deb("openssh-sftp-server", "1:9.2p1-2", Some("openssh")),
        deb("sudo", "1.9.5p1-1", None),
    ];
    let matches = match_packages(&db, &old).unwrap();
    let got: BTreeSet<(String, String)> = matches
        .iter()
        .flat_map(|m| {
            m.cve_ids
                .iter()
                .map(move |c| (c.clone(), m.package.clone()))
        })
        .collect();
    assert_eq!(got, expected);
    for cve in ["CVE-2023-48795", "CVE-2023-38408"] {
        assert!(
            got.contains(&(cve.to_string(), "openssh".to_string())),
            "{cve}"
        );
    }
    assert!(got.contains(&("CVE-2025-32462".to_string(), "sudo".to_string())));
    let m = matches.iter().find(|m| m.package == "openssh").unwrap();
    assert_eq!(
        m.binaries,
        [
            "openssh-client:amd64",
            "openssh-server:amd64",
            "openssh-sftp-server:amd64"
        ]
    );
    assert_eq!(m.evidence.len(), 3);
    assert!(matches.iter().all(|m| m.fix_available));

    // The current versions from the table: nothing.
    let current = |source: &str| rows.iter().find(|r| r.0 == source).unwrap().3.clone();
    let new = [
        deb("openssh-server", &current("openssh"), Some("openssh")),
        deb("openssh-client", &current("openssh"), Some("openssh")),
        deb("sudo", &current("sudo"), None),
    ];
    let left = match_packages(&db, &new).unwrap();
    assert!(
        left.is_empty(),
        "{:?}",
        left.iter().map(|m| &m.advisory_id).collect::<Vec<_>>()
    );
}

#[test]
fn debian_tracker_samples() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("debian-tracker");
    let (_t, db) = import(&[
        dir.join("tracker-json-sample.osvdev.json"),
        dir.join("tracker-json-sample.vunnel.json"),
    ]);
    let info = db.info().unwrap();
    assert_eq!(info.sources.len(), 2);
    assert!(
        info.sources.iter().all(|s| s.kind == "debian-tracker"),
        "{info:?}"
    );
    assert!(info.sources.iter().any(|s| s.not_affected > 0));
    let p = |name: &str, v: &str| Installed {
        name: name.into(),
        version: v.into(),
        ecosystem: "Debian:12".into(),
        evidence_file: "/var/lib/dpkg/status".into(),
        ..Default::default()
    };
    let found = match_packages(
        &db,
        &[
            p("apparmor", "3.0.8-3"),
            p("sope", "5.8.0-1"),
            p("chromium", "98.0.4758.80-1"),
        ],
    )
    .unwrap();
    let ids: Vec<(&str, &str)> = found
        .iter()
        .map(|m| (m.package.as_str(), m.advisory_id.as_str()))
        .collect();
    // apparmor: CVE-2014-1424 "fixed_version 0" (never affected), CVE-2017-6507 fixed
    // long before 3.0.8; CVE-2016-1585 is open → unfixed. sope: fixed in +deb12u1.
    assert_eq!(
        ids,
        [
            ("apparmor", "DEBIAN-CVE-2016-1585"),
            ("sope", "DEBIAN-CVE-2025-53603")
        ]
    );
    let apparmor = &found[0];
    assert!(!apparmor.fix_available && apparmor.fixed_version.is_none());
    assert_eq!(apparmor.attributes["tracker_status"], "open");
    assert_eq!(apparmor.attributes["urgency"], "unimportant");
    assert_eq!(
        apparmor.distro_severity.as_ref().unwrap().value,
        "unimportant"
    );
    assert_eq!(found[1].fixed_version.as_deref(), Some("5.8.0-1+deb12u1"));
}

#[test]
fn every_osv_sample_reads() {
    let Some(shared) = shared() else { return };
    let (_t, db) = import(&[shared.join("osv")]);
    let info = db.info().unwrap();
    let s = &info.sources[0];
    // pypi's records are YAML: skipped files, not malformed. The two schema
    // files are not records.
    assert!(s.records > 350, "{s:?}");
    assert!(s.skipped_files >= 39, "{s:?}");
    let bad = db.malformed(&s.name, 100).unwrap();
    assert!(bad.iter().all(|m| m.file.ends_with("osv-schema.json") || m.file.ends_with("osv-ecosystems.json")), "{bad:?}");
    assert!(info.ecosystems.iter().any(|(e, _)| e == "Ubuntu:22.04:LTS"));
    assert!(info.newest_modified.is_some());

    // Ubuntu glibc record (all releases): 22.04 telemetry matches the LTS entry.
    let glibc = Installed {
        name: "libc6".into(),
        version: "2.35-0ubuntu3.1".into(),
        source_name: Some("glibc".into()),
        ecosystem: "Ubuntu:22.04".into(),
        ..Default::default()
    };
    let m = match_packages(&db, &[glibc]).unwrap();
    let m: Vec<&VulnMatch> = m
        .iter()
        .filter(|m| m.advisory_id == "UBUNTU-CVE-2016-20013")
        .collect();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].ecosystem, "Ubuntu:22.04:LTS");
    assert_eq!(m[0].binaries, ["libc6"]);
    assert!(m[0].distro_severity.is_some(), "{:?}", m[0]);

    // Rocky writes the epoch always ("0:"); an installed EVR without one compares equal.
    let rocky: Vec<(String, String, String)> = std::fs::read_dir(shared.join("osv/rocky"))
        .unwrap()
        .flat_map(|e| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
            let a = &v["affected"][0];
            let fixed = a["ranges"][0]["events"][1]["fixed"]
                .as_str()
                .unwrap()
                .to_string();
            Some((
                a["package"]["ecosystem"].as_str().unwrap().to_string(),
                a["package"]["name"].as_str().unwrap().to_string(),
                fixed,
            ))
        })
        .collect();
    for (eco, name, fixed) in rocky {
        let bare = fixed.strip_prefix("0:").unwrap_or(&fixed).to_string();
        let at_fix = Installed {
            name: name.clone(),
            version: bare,
            ecosystem: eco.clone(),
            ..Default::default()
        };
        assert!(
            match_packages(&db, &[at_fix])
                .unwrap()
                .iter()
                .all(|m| !m.advisory_id.starts_with("RLSA")),
            "{name} {fixed}"
        );
    }
}

#[test]
fn alpine_secdb_sample() {
    let Some(shared) = shared() else { return };
    let (_t, db) = import(&[shared.join("alpine-secdb/v3.10-community.sample.claircore.json")]);
    let info = db.info().unwrap();
    assert_eq!(info.sources[0].kind, "alpine-secdb");
    assert_eq!(info.ecosystems[0].0, "Alpine:v3.10");
    let botan = |v: &str| Installed {
        name: "botan-libs".into(),
        version: v.into(),
        source_name: Some("botan".into()),
        ecosystem: "Alpine:v3.10".into(),
        ..Default::default()
    };
    let m = match_packages(&db, &[botan("2.6.0-r0")]).unwrap();
    let ids: BTreeSet<&str> = m.iter().map(|m| m.advisory_id.as_str()).collect();
    assert_eq!(
        ids,
        BTreeSet::from(["ALPINE-CVE-2018-12435", "ALPINE-CVE-2018-20187"])
    );
    assert!(match_packages(&db, &[botan("2.9.0-r0")])
        .unwrap()
        .is_empty());
}
