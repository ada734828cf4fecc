//! Import, re-import and rollback, zip archives (including hostile ones),
//! withdrawn and malformed records, `info`, and matching tables per ecosystem,
//! all on records written here.

use std::io::Write;
use std::path::{Path, PathBuf};

use coldscan_vulndb::{match_packages, Db, ImportOptions, Installed, VulnMatch};
use zip::write::SimpleFileOptions;

fn osv(id: &str, eco: &str, name: &str, events: &str, extra: &str) -> String {
    format!(
        r#"{{"id": "{id}", "modified": "2024-05-01T10:00:00Z", "aliases": ["CVE-{n}"], {extra}
            "affected": [{{"package": {{"ecosystem": "{eco}", "name": "{name}"}},
            "ranges": [{{"type": "ECOSYSTEM", "events": [{events}]}}]}}]}}"#,
        n = id.trim_start_matches(|c: char| !c.is_ascii_digit())
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn zip_of(path: &Path, entries: &[(&str, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

fn installed(
    eco: &str,
    name: &str,
    version: &str,
    source: Option<&str>,
    source_version: Option<&str>,
) -> Installed {
    Installed {
        name: name.into(),
        version: version.into(),
        source_name: source.map(str::to_string),
        source_version: source_version.map(str::to_string),
        arch: None,
        ecosystem: eco.into(),
        evidence_file: "db".into(),
        evidence_key: name.into(),
    }
}

fn ids(m: &[VulnMatch]) -> Vec<String> {
    m.iter()
        .map(|m| format!("{}:{}", m.advisory_id, m.package))
        .collect()
}

#[test]
fn folder_withdrawn_malformed_and_info() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write(
        &src,
        "a/DSA-1.json",
        &osv(
            "DSA-1",
            "Debian:12",
            "openssl",
            r#"{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u1"}"#,
            "",
        ),
    );
    write(
        &src,
        "a/b/W-1.json",
        &osv(
            "W-1",
            "Debian:12",
            "openssl",
            r#"{"introduced": "0"}"#,
            r#""withdrawn": "2024-06-01T00:00:00Z","#,
        ),
    );
    write(&src, "bad/trunc.json", r#"{"id": "X", "affected": [{"#);
    write(&src, "bad/types.json", r#"{"id": ["X"]}"#);
    write(
        &src,
        "bad/deep.json",
        &format!(
            r#"{{"id":"D","database_specific":{}{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        ),
    );
    write(&src, "notes.yaml", "id: X");
    let mut db = Db::open(&tmp.path().join("db/vulndb.sqlite")).unwrap();
    let r = &db.import(std::slice::from_ref(&src)).unwrap()[0];
    assert_eq!(
        (r.records, r.withdrawn, r.malformed, r.skipped_files),
        (1, 1, 3, 1)
    );
    assert_eq!(r.kind, "osv");
    let reasons: Vec<String> = r.malformed_examples.iter().map(|m| m.to_string()).collect();
    assert!(
        reasons
            .iter()
            .any(|m| m.contains("trunc.json") && m.contains("EOF")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|m| m.contains("types.json") && m.contains("invalid type")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|m| m.contains("deep.json") && m.contains("recursion")),
        "{reasons:?}"
    );
    let info = db.info().unwrap();
    assert_eq!(info.advisories, 1);
    assert_eq!(info.ecosystems, [("Debian:12".to_string(), 1)]);
    assert_eq!(
        info.newest_modified.as_deref(),
        Some("2024-05-01T10:00:00Z")
    );
    assert!(info.newest_age_days.unwrap() > 100.0);
    assert_eq!(db.malformed(&info.sources[0].name, 10).unwrap().len(), 3);
    // Withdrawn records are not matched.
    let m = match_packages(
        &db,
        &[installed(
            "Debian:12",
            "libssl3",
            "3.0.9-1",
            Some("openssl"),
            None,
        )],
    )
    .unwrap();
    assert_eq!(ids(&m), ["DSA-1:openssl"]);
}

#[test]
fn reimport_replaces_and_failure_rolls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    for i in 0..10 {
        write(
            &src,
            &format!("R-{i}.json"),
            &osv(
                &format!("R-{i}"),
                "Debian:12",
                "curl",
                r#"{"introduced": "0"}"#,
                "",
            ),
        );
    }
    let other = write(
        tmp.path(),
        "other.json",
        &osv("O-1", "Debian:12", "zlib", r#"{"introduced": "0"}"#, ""),
    );
    let dbp = tmp.path().join("vulndb.sqlite");
    let mut db = Db::open(&dbp).unwrap();
    db.import(&[src.clone(), other.clone()]).unwrap();
    assert_eq!(db.info().unwrap().advisories, 11);

    // Same path again, with fewer records: replaced, not added.
    std::fs::remove_file(src.join("R-9.json")).unwrap();
    db.import(std::slice::from_ref(&src)).unwrap();
    let info = db.info().unwrap();
    assert_eq!((info.sources.len(), info.advisories), (2, 10));

    // A failure half-way leaves the previous state.
    std::fs::remove_file(src.join("R-8.json")).unwrap();
    let err = db
        .import_with(
            std::slice::from_ref(&src),
            &ImportOptions {
                fail_after_records: Some(3),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("test hook"), "{err}");
    let info = db.info().unwrap();
    assert_eq!((info.sources.len(), info.advisories), (2, 10));
    let m = match_packages(
        &db,
        &[installed("Debian:12", "curl", "7.88.1-10", None, None)],
    )
    .unwrap();
    assert_eq!(m.len(), 9);

    // A zip replaced by a corrupt file: an input error, and the old records stay.
    let z = tmp.path().join("all.zip");
    let rec = osv("Z-1", "Debian:12", "bash", r#"{"introduced": "0"}"#, "");
    zip_of(&z, &[("Z-1.json", rec.as_bytes())]);
    db.import(std::slice::from_ref(&z)).unwrap();
    assert_eq!(db.info().unwrap().advisories, 11);
    let mut bytes = std::fs::read(&z).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&z, bytes).unwrap();
    let err = db.import(&[src.clone(), z.clone()]).unwrap_err();
    assert!(err.to_string().contains("zip"), "{err}");
    assert_eq!(db.info().unwrap().advisories, 11);
    // Missing input: an error naming it.
    let err = db.import(&[tmp.path().join("nope")]).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    drop(db);
    // The file is still a good database when opened again, read-only.
    let db = Db::open_read_only(&dbp).unwrap();
    assert_eq!(db.info().unwrap().advisories, 11);
    assert!(Db::open_read_only(&tmp.path().join("missing.sqlite")).is_err());
}

/// Patch the uncompressed size of every entry in a zip's local and central headers.
fn patch_sizes(bytes: &mut [u8], size: u32) {
    let mut i = 0;
    while i + 30 <= bytes.len() {
        match &bytes[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => bytes[i + 22..i + 26].copy_from_slice(&size.to_le_bytes()),
            [0x50, 0x4b, 0x01, 0x02] => bytes[i + 24..i + 28].copy_from_slice(&size.to_le_bytes()),
            _ => {}
        }
        i += 1;
    }
}

#[test]
fn zip_archives_and_hostile_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = |i: usize| {
        osv(
            &format!("Z-{i}"),
            "Alpine:v3.19",
            "musl",
            r#"{"introduced": "0"}, {"fixed": "1.2.4-r3"}"#,
            "",
        )
    };
    let good = tmp.path().join("good.zip");
    let r1 = rec(1);
    let r2 = rec(2);
    zip_of(
        &good,
        &[
            ("Z-1.json", r1.as_bytes()),
            ("dir/Z-2.json", r2.as_bytes()),
            ("README", b"x"),
            ("bad.json", b"{"),
        ],
    );
    let mut db = Db::open(&tmp.path().join("v.sqlite")).unwrap();
    let r = &db.import(std::slice::from_ref(&good)).unwrap()[0];
    assert_eq!((r.records, r.malformed), (2, 1));
    assert_eq!(r.malformed_examples[0].entry.as_deref(), Some("bad.json"));

    // An entry that declares 4 GiB: refused before inflating.
    let huge = tmp.path().join("huge.zip");
    zip_of(&huge, &[("Z-1.json", r1.as_bytes())]);
    let mut bytes = std::fs::read(&huge).unwrap();
    patch_sizes(&mut bytes, u32::MAX - 1);
    std::fs::write(&huge, &bytes).unwrap();
    let r = &db.import(std::slice::from_ref(&huge)).unwrap()[0];
    assert_eq!((r.records, r.malformed), (0, 1));
    assert!(
        r.malformed_examples[0].reason.contains("declares"),
        "{:?}",
        r.malformed_examples
    );

    // A bomb that lies about its size: 8 MiB of spaces declared as 100 bytes,
    // read with a 1 MiB entry limit (the real limit is 64 MiB).
    let bomb = tmp.path().join("bomb.zip");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
        w.start_file(
            "bomb.json",
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..8 {
            w.write_all(&zeros).unwrap();
        }
        w.finish().unwrap();
    }
    let mut bytes = std::fs::read(&bomb).unwrap();
    assert!(bytes.len() < 1 << 20);
    patch_sizes(&mut bytes, 100);
    std::fs::write(&bomb, &bytes).unwrap();
    let opts = ImportOptions {
        max_zip_entry: Some(1 << 20),
        ..Default::default()
    };
    let r = &db.import_with(std::slice::from_ref(&bomb), &opts).unwrap()[0];
    assert_eq!(
        (r.records, r.malformed),
        (0, 1),
        "{:?}",
        r.malformed_examples
    );
    // Declared honestly: refused before inflating.
    let honest = tmp.path().join("honest.zip");
    std::fs::write(&honest, {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file("big.json", SimpleFileOptions::default())
            .unwrap();
        w.write_all(&vec![b' '; 2 << 20]).unwrap();
        w.finish().unwrap().into_inner()
    })
    .unwrap();
    let r = &db
        .import_with(std::slice::from_ref(&honest), &opts)
        .unwrap()[0];
    assert!(
        r.malformed_examples[0].reason.contains("declares"),
        "{:?}",
        r.malformed_examples
    );

    // A stored entry whose bytes changed after archiving: CRC mismatch.
    let crc = tmp.path().join("crc.zip");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(
        "Z-9.json",
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    w.write_all(r1.as_bytes()).unwrap();
    let mut bytes = w.finish().unwrap().into_inner();
    let at = bytes.windows(4).position(|w| w == b"musl").unwrap();
    bytes[at + 3] = b't';
    std::fs::write(&crc, &bytes).unwrap();
    let r = &db.import(std::slice::from_ref(&crc)).unwrap()[0];
    assert_eq!((r.records, r.malformed), (0, 1));
    assert!(
        r.malformed_examples[0].reason.contains("CRC"),
        "{:?}",
        r.malformed_examples
    );

    let m = match_packages(
        &db,
        &[installed(
            "Alpine:v3.19",
            "musl-utils",
            "1.2.4-r2",
            Some("musl"),
            None,
        )],
    )
    .unwrap();
    assert_eq!(ids(&m), ["Z-1:musl", "Z-2:musl"]);
}

fn db_with(records: &[String]) -> (tempfile::TempDir, Db) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    for (i, r) in records.iter().enumerate() {
        write(&dir, &format!("{i}.json"), r);
    }
    let mut db = Db::open(&tmp.path().join("v.sqlite")).unwrap();
    let rep = db.import(&[dir]).unwrap();
    assert_eq!(rep[0].malformed, 0, "{:?}", rep[0].malformed_examples);
    (tmp, db)
}

#[test]
fn debian_source_versions_and_binnmu() {
    let (_t, db) = db_with(&[
        osv(
            "DSA-10",
            "Debian:12",
            "util-linux",
            r#"{"introduced": "0"}, {"fixed": "2.38.1-5+deb12u4"}"#,
            r#""severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}],"#,
        ),
        osv(
            "DSA-11",
            "Debian:12",
            "bash",
            r#"{"introduced": "0"}, {"fixed": "5.2.15-2+deb12u1"}"#,
            "",
        ),
        osv("DSA-12", "Debian:11", "bash", r#"{"introduced": "0"}"#, ""),
        osv(
            "DSA-13",
            "Debian:12",
            "openssl",
            r#"{"introduced": "3.0.0"}, {"fixed": "3.0.11-1~deb12u1"}"#,
            "",
        ),
    ]);
    let pkgs = [
        // The binary has an epoch the source lacks: compare the source version.
        installed(
            "Debian:12",
            "bsdutils",
            "1:2.38.1-5+deb12u3",
            Some("util-linux"),
            Some("2.38.1-5+deb12u3"),
        ),
        installed("Debian:12", "util-linux", "2.38.1-5+deb12u3", None, None),
        installed(
            "Debian:12",
            "mount",
            "2.38.1-5+deb12u3",
            Some("util-linux"),
            None,
        ),
        // binNMU: the binary version is +b8, the source is 5.2.15-2.
        installed(
            "Debian:12",
            "bash",
            "5.2.15-2+b8",
            Some("bash"),
            Some("5.2.15-2"),
        ),
        // ~ sorts before the release: 3.0.11-1~deb12u1 is above 3.0.11-1~deb12t.
        installed(
            "Debian:12",
            "libssl3",
            "3.0.11-1~deb12t",
            Some("openssl"),
            None,
        ),
        installed("Debian:12.5", "openssl", "3.0.11-1~deb12u1", None, None),
    ];
    let m = match_packages(&db, &pkgs).unwrap();
    assert_eq!(
        ids(&m),
        ["DSA-11:bash", "DSA-13:openssl", "DSA-10:util-linux"]
    );
    let ul = &m[2];
    assert_eq!(ul.binaries, ["bsdutils", "mount", "util-linux"]);
    assert_eq!(ul.installed_version, "2.38.1-5+deb12u3");
    assert_eq!(ul.cvss[0].base_score, Some(7.8));
    assert_eq!(
        ul.cve_ids,
        ["CVE-10"]
            .map(String::from)
            .to_vec()
            .into_iter()
            .filter(|_| false)
            .collect::<Vec<_>>()
    );
    assert_eq!(m[1].installed_version, "3.0.11-1~deb12t");
    assert_eq!(m[1].binaries, ["libssl3"]);
}

#[test]
fn ubuntu_lts_and_pro() {
    let (_t, db) = db_with(&[
        osv(
            "UBUNTU-CVE-2024-1",
            "Ubuntu:22.04:LTS",
            "curl",
            r#"{"introduced": "0"}, {"fixed": "7.81.0-1ubuntu1.16"}"#,
            "",
        ),
        osv(
            "UBUNTU-CVE-2024-2",
            "Ubuntu:Pro:22.04:LTS",
            "curl",
            r#"{"introduced": "0"}, {"fixed": "7.81.0-1ubuntu1.15+esm1"}"#,
            "",
        ),
        osv(
            "UBUNTU-CVE-2024-3",
            "Ubuntu:20.04:LTS",
            "curl",
            r#"{"introduced": "0"}"#,
            "",
        ),
    ]);
    let p = |eco: &str| installed(eco, "libcurl4", "7.81.0-1ubuntu1.15", Some("curl"), None);
    assert_eq!(
        ids(&match_packages(&db, &[p("Ubuntu:22.04")]).unwrap()),
        ["UBUNTU-CVE-2024-1:curl"]
    );
    assert_eq!(
        ids(&match_packages(&db, &[p("Ubuntu:22.04:LTS")]).unwrap()),
        ["UBUNTU-CVE-2024-1:curl"]
    );
    assert_eq!(
        ids(&match_packages(&db, &[p("Ubuntu:Pro:22.04:LTS")]).unwrap()),
        ["UBUNTU-CVE-2024-1:curl", "UBUNTU-CVE-2024-2:curl"]
    );
}

#[test]
fn rpm_epochs_arches_kernels_and_releases() {
    let (_t, db) = db_with(&[
        osv(
            "ALSA-2023:1",
            "AlmaLinux:9",
            "openssl-libs",
            r#"{"introduced": "0"}, {"fixed": "1:3.0.7-16.el9_2"}"#,
            "",
        ),
        osv(
            "ALSA-2023:2",
            "AlmaLinux:9",
            "kernel",
            r#"{"introduced": "0"}, {"fixed": "5.14.0-362.8.1.el9_3"}"#,
            "",
        ),
        osv(
            "ALSA-2023:3",
            "AlmaLinux:8",
            "kernel",
            r#"{"introduced": "0"}"#,
            "",
        ),
        osv(
            "RLSA-2023:4",
            "Rocky Linux:9",
            "kernel",
            r#"{"introduced": "0"}, {"fixed": "0:5.14.0-362.8.1.el9_3"}"#,
            "",
        ),
        osv(
            "ALSA-2023:5",
            "AlmaLinux:9",
            "vim-minimal",
            r#"{"introduced": "2:8.2.2637-1.el9"}, {"last_affected": "2:8.2.2637-20.el9_1"}"#,
            "",
        ),
    ]);
    let mut ssl64 = installed(
        "AlmaLinux:9",
        "openssl-libs",
        "1:3.0.7-6.el9_2",
        Some("openssl"),
        None,
    );
    ssl64.arch = Some("x86_64".into());
    let mut ssl32 = ssl64.clone();
    ssl32.arch = Some("i686".into());
    let pkgs = [
        ssl64,
        ssl32,
        // No epoch = 0: 3.0.8 is still below 1:3.0.7.
        installed("AlmaLinux:9", "openssl-libs", "3.0.8-1.el9", None, None),
        installed("AlmaLinux:9", "kernel", "5.14.0-284.11.1.el9_2", None, None),
        installed("AlmaLinux:9", "kernel", "5.14.0-362.8.1.el9_3", None, None),
        installed(
            "AlmaLinux:9",
            "vim-minimal",
            "2:8.2.2637-20.el9_1",
            None,
            None,
        ),
        installed(
            "AlmaLinux:9",
            "vim-minimal",
            "2:8.2.2637-21.el9",
            None,
            None,
        ),
    ];
    let m = match_packages(&db, &pkgs).unwrap();
    let got: Vec<String> = m
        .iter()
        .map(|m| format!("{} {} {}", m.advisory_id, m.package, m.installed_version))
        .collect();
    assert_eq!(
        got,
        [
            "ALSA-2023:2 kernel 5.14.0-284.11.1.el9_2",
            "ALSA-2023:1 openssl-libs 1:3.0.7-6.el9_2",
            "ALSA-2023:1 openssl-libs 3.0.8-1.el9",
            "ALSA-2023:5 vim-minimal 2:8.2.2637-20.el9_1",
        ]
    );
    assert_eq!(m[1].binaries, ["openssl-libs:i686", "openssl-libs:x86_64"]);
    assert_eq!(m[1].fixed_version.as_deref(), Some("1:3.0.7-16.el9_2"));
    assert!(!m[3].fix_available && m[3].fixed_version.is_none());
}

#[test]
fn versions_lists_unfixed_and_duplicates() {
    let rec = r#"{"id": "DEBIAN-CVE-2024-9", "upstream": ["CVE-2024-9"],
      "affected": [{"package": {"ecosystem": "Debian:12", "name": "sudo"},
        "versions": ["1.9.13p3-1", "1.9.13p3-1+deb12u1"],
        "ecosystem_specific": {"urgency": "low"}}]}"#;
    let (_t, db) = db_with(&[
        rec.to_string(),
        rec.replace("2024-9\"]", "2024-9\"], \"summary\": \"again\""),
        osv(
            "DEBIAN-CVE-2024-8",
            "Debian:12",
            "sudo",
            r#"{"introduced": "0"}"#,
            "",
        ),
    ]);
    let m = match_packages(
        &db,
        &[installed(
            "Debian:12",
            "sudo",
            "1.9.13p3-1+deb12u1",
            None,
            None,
        )],
    )
    .unwrap();
    assert_eq!(
        ids(&m),
        ["DEBIAN-CVE-2024-8:sudo", "DEBIAN-CVE-2024-9:sudo"]
    );
    assert!(m.iter().all(|m| !m.fix_available));
    assert_eq!(m[1].distro_severity.as_ref().unwrap().value, "low");
    assert_eq!(m[1].cve_ids, ["CVE-2024-9"]);
    let m = match_packages(
        &db,
        &[installed(
            "Debian:12",
            "sudo",
            "1.9.13p3-1+deb12u2",
            None,
            None,
        )],
    )
    .unwrap();
    assert_eq!(ids(&m), ["DEBIAN-CVE-2024-8:sudo"]);
}

#[test]
fn tracker_and_secdb_files() {
    let tmp = tempfile::tempdir().unwrap();
    let tracker = write(
        tmp.path(),
        "tracker.json",
        r#"{
      "sudo": {"CVE-2025-32462": {"description": "host option", "releases": {
        "bookworm": {"status": "resolved", "fixed_version": "1.9.13p3-1+deb12u2", "urgency": "not yet assigned"},
        "bullseye": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "ignored"}}}},
      "bash": {"CVE-2019-18276": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}}}}
    }"#,
    );
    write(
        tmp.path(),
        "v3.19/main.json",
        r#"{"distroversion": "v3.19", "reponame": "main",
      "packages": [{"pkg": {"name": "sudo", "secfixes": {"1.9.17_p1-r0": ["CVE-2025-32462"], "0": ["CVE-2000-1"]}}}]}"#,
    );
    let mut db = Db::open(&tmp.path().join("v.sqlite")).unwrap();
    let r = db.import(&[tracker, tmp.path().join("v3.19")]).unwrap();
    assert_eq!(
        (r[0].kind.as_str(), r[0].records, r[0].not_affected),
        ("debian-tracker", 1, 1)
    );
    assert_eq!(
        (r[1].kind.as_str(), r[1].records, r[1].not_affected),
        ("alpine-secdb", 1, 1)
    );
    let m = match_packages(
        &db,
        &[
            installed("Debian:12", "sudo", "1.9.13p3-1+deb12u1", None, None),
            installed("Debian:11", "sudo", "1.9.5p2-3+deb11u1", None, None),
            installed("Debian:12", "bash", "5.2.15-2", None, None),
            installed("Alpine:v3.19", "sudo", "1.9.15_p5-r0", Some("sudo"), None),
            installed("Alpine:v3.19", "sudo", "1.9.17_p1-r0", Some("sudo"), None),
        ],
    )
    .unwrap();
    let got: Vec<String> = m
        .iter()
        .map(|m| {
            format!(
                "{} {} {:?}",
                m.advisory_id, m.installed_ecosystem, m.fixed_version
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "DEBIAN-CVE-2025-32462 Debian:12 Some(\"1.9.13p3-1+deb12u2\")",
            r#"ALPINE-CVE-2025-32462 Alpine:v3.19 Some("1.9.17_p1-r0")"#,
            "DEBIAN-CVE-2025-32462 Debian:11 None",
        ]
    );
    let b = &m[2];
    assert_eq!(b.attributes["nodsa_reason"], "ignored");
    assert_eq!(b.attributes["tracker_status"], "open");
    assert_eq!(b.source_kind, "debian-tracker");
    assert_eq!(m[1].cve_ids, ["CVE-2025-32462"]);
}

#[test]
fn default_path_follows_xdg() {
    // Only reads the environment: XDG_DATA_HOME or HOME decide the answer.
    if let Some(p) = Db::default_path() {
        assert!(p.ends_with("coldscan/vulndb.sqlite"), "{p:?}");
    }
}
