//! rpm header and rpmdb readers (sqlite, BerkeleyDB, NDB): committed fixtures built
//! by tests/data/rpm/make-fixtures.sh, the real header sample in ../shared, and the
//! real `rpm` tool as the oracle when installed.

mod common;

use coldscan_pkgdb::rpm::{self, bdb, header, ndb, sqlite};
use coldscan_pkgdb::{Listing, Package};
use std::process::Command;

const QF: &str = "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\\n";

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(common::data(rel)).unwrap()
}

/// Our package in `rpm -qa --qf QF` form.
fn qa_row(p: &Package) -> String {
    let evr = if p.version.contains(':') {
        p.version.clone()
    } else {
        format!("0:{}", p.version)
    };
    let srpm = match (&p.source_name, &p.source_version) {
        (Some(n), Some(v)) => format!("{n}-{v}.src.rpm"),
        _ => "(none)".to_string(),
    };
    format!(
        "{} {evr} {} {srpm}",
        p.name,
        p.arch.as_deref().unwrap_or("(none)")
    )
}

fn rows(l: &Listing) -> Vec<String> {
    let mut r: Vec<String> = l.packages.iter().map(qa_row).collect();
    r.sort();
    r
}

const EXPECTED: [&str; 3] = [
    "hello 2:1.0-1.el9 x86_64 hello-1.0-1.el9.src.rpm",
    "libtiny 0:0.5-3.el9 noarch tinysrc-0.5-3.el9.src.rpm",
    "zeroepoch 0:7-1 noarch zeroepoch-7-1.src.rpm",
];

#[test]
fn header_fixtures() {
    let h = header::parse(&read("rpm/hello.hdr")).unwrap();
    assert_eq!(h.evr(), "2:1.0-1.el9");
    assert_eq!(h.arch.as_deref(), Some("x86_64"));
    let mut files = h.files.clone();
    files.sort();
    assert_eq!(
        files,
        [
            "/etc/hello.conf",
            "/usr/bin/hello",
            "/usr/share/doc/hello",
            "/usr/share/doc/hello/README"
        ]
    );
    let p = rpm::package_from_blob(&read("rpm/libtiny.hdr"), "db", "2").unwrap();
    assert_eq!(p.version, "0.5-3.el9");
    assert_eq!(p.source_name.as_deref(), Some("tinysrc"));
    assert_eq!(p.source_version.as_deref(), Some("0.5-3.el9"));
    assert!(p.files.iter().any(|f| f == "/usr/lib/tinylib/b"));
    let z = header::parse(&read("rpm/zeroepoch.hdr")).unwrap();
    assert_eq!((z.epoch, z.evr().as_str()), (Some(0), "0:7-1"));
    assert!(z.files.is_empty());
}

#[test]
fn shared_header_sample() {
    let Some(dir) = common::vulndata("shared_header_sample") else {
        return;
    };
    let blob =
        std::fs::read(dir.join("pkgdb-samples/rpm-header.crypto-policies.fc34.bin")).unwrap();
    let h = header::parse(&blob).unwrap();
    assert_eq!(h.name, "crypto-policies");
    assert_eq!(h.epoch, None);
    assert_eq!(h.evr(), "20210213-1.git5c710c0.fc34");
    assert_eq!(h.arch.as_deref(), Some("noarch"));
    assert_eq!(
        h.sourcerpm.as_deref(),
        Some("crypto-policies-20210213-1.git5c710c0.fc34.src.rpm")
    );
    assert!(h
        .files
        .iter()
        .any(|f| f.starts_with("/usr/share/crypto-policies/")));
}

#[test]
fn sourcerpm_names() {
    assert_eq!(
        header::split_sourcerpm("openssl-3.0.7-24.el9.src.rpm"),
        Some(("openssl".into(), "3.0.7-24.el9".into()))
    );
    assert_eq!(
        header::split_sourcerpm("python3.11-pip-22.3.1-4.el9.src.rpm"),
        Some(("python3.11-pip".into(), "22.3.1-4.el9".into()))
    );
    assert_eq!(header::split_sourcerpm("(none)"), None);
    assert_eq!(header::split_sourcerpm("x-1.src.rpm"), None);
}

#[test]
fn sqlite_fixture() {
    let l = sqlite::read(&read("rpm/rpmdb.sqlite"), None, "/var/lib/rpm/rpmdb.sqlite").unwrap();
    assert_eq!(rows(&l), EXPECTED);
    assert!(l.skipped.is_empty());
    assert!(l.packages.iter().all(|p| p.evidence.key.is_some()));
}

#[test]
fn bdb_fixtures_both_byte_orders() {
    for f in [
        "rpm/Packages.bdb-le",
        "rpm/Packages.bdb-be",
        "rpm/Packages.bdb-le-chksum",
    ] {
        let l = bdb::read(&read(f), "/var/lib/rpm/Packages").unwrap();
        assert_eq!(rows(&l), EXPECTED, "{f}");
        assert!(l.skipped.is_empty(), "{f}: {:?}", l.skipped);
        let hello = l.packages.iter().find(|p| p.name == "hello").unwrap();
        assert_eq!(hello.files.len(), 4);
    }
}

#[test]
fn ndb_fixture() {
    let l = ndb::read(
        &read("rpm/Packages.ndb"),
        "/usr/lib/sysimage/rpm/Packages.db",
    )
    .unwrap();
    assert_eq!(rows(&l), EXPECTED);
    assert!(l.skipped.is_empty(), "{:?}", l.skipped);
}

/// A -wal with changes not yet checkpointed: applied when given, ignored otherwise.
#[test]
fn sqlite_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rpmdb.sqlite");
    std::fs::write(&path, read("rpm/rpmdb.sqlite")).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    conn.pragma_update(None, "foreign_keys", false).unwrap();
    let blob: Vec<u8> = conn
        .query_row("SELECT blob FROM Packages LIMIT 1", [], |r| r.get(0))
        .unwrap();
    conn.execute("DELETE FROM Packages WHERE blob = ?1", [&blob])
        .unwrap();
    let db = std::fs::read(&path).unwrap();
    let wal = std::fs::read(dir.path().join("rpmdb.sqlite-wal")).unwrap();
    assert!(!wal.is_empty());
    assert_eq!(sqlite::read(&db, None, "db").unwrap().packages.len(), 3);
    assert_eq!(
        sqlite::read(&db, Some(&[]), "db").unwrap().packages.len(),
        3
    );
    assert_eq!(
        sqlite::read(&db, Some(&wal), "db").unwrap().packages.len(),
        2
    );
    drop(conn);
}

fn rpm_qa(dbfile: &str, name_in_dbpath: &str, backend: Option<&str>) -> Vec<String> {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join(name_in_dbpath), read(dbfile)).unwrap();
    let mut cmd = Command::new("rpm");
    cmd.arg("--dbpath").arg(d.path());
    if let Some(b) = backend {
        cmd.arg("--define").arg(format!("_db_backend {b}"));
    }
    let out = common::run(cmd.args(["-qa", "--qf", QF]));
    let mut r: Vec<String> = out.lines().map(str::to_string).collect();
    r.sort();
    r
}

/// The real rpm lists exactly what we list, from the same files.
#[test]
fn differential_rpm_qa() {
    if !common::have_tool("rpm", "differential_rpm_qa") {
        return;
    }
    // (rpm's read-only bdb backend lists nothing from the checksummed variant.)
    let ours = rows(&sqlite::read(&read("rpm/rpmdb.sqlite"), None, "db").unwrap());
    assert_eq!(rpm_qa("rpm/rpmdb.sqlite", "rpmdb.sqlite", None), ours);
    for f in ["rpm/Packages.bdb-le", "rpm/Packages.bdb-be"] {
        let ours = rows(&bdb::read(&read(f), "db").unwrap());
        assert_eq!(rpm_qa(f, "Packages", Some("bdb_ro")), ours, "{f}");
    }
}

/// Building fresh packages and a fresh rpmdb with the real tools: rpmbuild,
/// rpm --initdb, rpm -i --justdb; our reader must agree with rpm -qa.
#[test]
fn differential_fresh_rpmdb() {
    if !common::have_tool("rpmbuild", "differential_fresh_rpmdb") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let top = work.path().join("build");
    let dbp = work.path().join("db");
    for spec in ["hello", "tinysrc", "zeroepoch"] {
        common::run(
            Command::new("rpmbuild")
                .arg("-bb")
                .arg("--quiet")
                .arg("--define")
                .arg(format!("_topdir {}", top.display()))
                .arg("--define")
                .arg("_build_id_links none")
                .arg(common::data(&format!("rpm/{spec}.spec"))),
        );
    }
    common::run(
        Command::new("rpm")
            .arg("--initdb")
            .arg("--dbpath")
            .arg(&dbp),
    );
    for arch in std::fs::read_dir(top.join("RPMS")).unwrap() {
        for rpmfile in std::fs::read_dir(arch.unwrap().path()).unwrap() {
            common::run(
                Command::new("rpm")
                    .args([
                        "-i",
                        "--justdb",
                        "--nodeps",
                        "--noscripts",
                        "--ignorearch",
                        "--dbpath",
                    ])
                    .arg(&dbp)
                    .arg(rpmfile.unwrap().path()),
            );
        }
    }
    let mut theirs: Vec<String> = common::run(
        Command::new("rpm")
            .arg("--dbpath")
            .arg(&dbp)
            .args(["-qa", "--qf", QF]),
    )
    .lines()
    .map(str::to_string)
    .collect();
    theirs.sort();
    let db = std::fs::read(dbp.join("rpmdb.sqlite")).unwrap();
    let wal = std::fs::read(dbp.join("rpmdb.sqlite-wal")).ok();
    let ours = rows(&sqlite::read(&db, wal.as_deref(), "db").unwrap());
    assert_eq!(ours, theirs);
    assert_eq!(ours, EXPECTED);
}
