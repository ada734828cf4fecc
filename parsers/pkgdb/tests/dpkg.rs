//! dpkg status, status.d and .list readers: our fixtures, the real samples in
//! ../shared/vulndata/pkgdb-samples, and `dpkg-query` as the oracle.

mod common;

use coldscan_pkgdb::dpkg::{self, INSTALLED_STATES};
use coldscan_pkgdb::Package;
use std::process::Command;

fn row(p: &Package) -> String {
    format!(
        "{} {} {} {} {}",
        p.name,
        p.version,
        p.arch.as_deref().unwrap_or(""),
        p.source_name.as_deref().unwrap_or(""),
        p.source_version.as_deref().unwrap_or("")
    )
}

#[test]
fn fixture_status() {
    let bytes = std::fs::read(common::data("dpkg/status")).unwrap();
    let l = dpkg::parse_status(&bytes, "/var/lib/dpkg/status");
    let rows: Vec<String> = l.packages.iter().map(row).collect();
    assert_eq!(
        rows,
        [
            "bash 5.2.15-2+b8 amd64 bash 5.2.15-2",
            "bsdutils 1:2.38.1-5+deb12u3 amd64 util-linux 2.38.1-5+deb12u3",
            "libc6 2.36-9+deb12u14 amd64 glibc 2.36-9+deb12u14",
            "libc6 2.36-9+deb12u14 i386 glibc 2.36-9+deb12u14",
            "openssl 3.0.19-1~deb12u2 amd64 openssl 3.0.19-1~deb12u2",
            "zlib1g 1:1.2.13.dfsg-1 amd64 zlib 1:1.2.13.dfsg-1",
        ]
    );
    assert!(l.skipped.is_empty());
    assert_eq!(l.packages[0].evidence.line, Some(1));
    assert_eq!(l.packages[1].evidence.line, Some(22));
    assert_eq!(l.packages[1].status.as_deref(), Some("hold ok installed"));
    assert_eq!(l.packages[0].evidence.file, "/var/lib/dpkg/status");
}

#[test]
fn fixture_crlf_and_continuations() {
    let bytes = std::fs::read(common::data("dpkg/status-crlf")).unwrap();
    let l = dpkg::parse_status(&bytes, "status");
    let rows: Vec<String> = l.packages.iter().map(row).collect();
    assert_eq!(rows, ["crlf-pkg 1.0-1 all crlf-src 0.9-1"]);
}

#[test]
fn fixture_status_d() {
    let dir = common::data("dpkg/status.d");
    let mut rows = Vec::new();
    for name in ["base-files", "libssl3"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let l = dpkg::parse_status_d(&bytes, name);
        assert!(l.skipped.is_empty());
        rows.extend(l.packages.iter().map(row));
    }
    assert_eq!(
        rows,
        [
            "base-files 12.4+deb12u5 amd64 base-files 12.4+deb12u5",
            "libssl3 3.0.11-1~deb12u2 amd64 openssl 3.0.11-1~deb12u2",
        ]
    );
    // In the main status file a stanza without Status is reported, not listed.
    let bytes = std::fs::read(dir.join("base-files")).unwrap();
    let l = dpkg::parse_status(&bytes, "status");
    assert!(l.packages.is_empty());
    assert_eq!(l.skipped.len(), 1);
}

#[test]
fn list_file() {
    let bytes = std::fs::read(common::data("dpkg/bash.list")).unwrap();
    assert_eq!(
        dpkg::parse_list(&bytes),
        [
            "/.",
            "/usr",
            "/usr/bin",
            "/usr/bin/bash",
            "/usr/share/doc/bash/copyright"
        ]
    );
    assert_eq!(dpkg::parse_list(b"/a\r\n\r\n/b"), ["/a", "/b"]);
    let l = dpkg::parse_status(&std::fs::read(common::data("dpkg/status")).unwrap(), "s");
    assert_eq!(
        dpkg::list_file_names(&l.packages[2]),
        ["libc6:amd64.list", "libc6.list"]
    );
}

#[test]
fn source_field_grammar() {
    assert_eq!(dpkg::parse_source("glibc"), Some(("glibc".into(), None)));
    assert_eq!(
        dpkg::parse_source("lvm2 (2.03.16-2)"),
        Some(("lvm2".into(), Some("2.03.16-2".into())))
    );
    assert_eq!(dpkg::parse_source(""), None);
    assert_eq!(dpkg::parse_source("a b"), None);
    assert_eq!(dpkg::parse_source("a ()"), None);
}

#[test]
fn status_states() {
    assert!(dpkg::is_installed("install ok installed"));
    assert!(dpkg::is_installed("hold ok installed"));
    assert!(dpkg::is_installed("deinstall ok installed"));
    assert!(!dpkg::is_installed("deinstall ok config-files"));
    assert!(!dpkg::is_installed("install ok unpacked"));
    assert!(!dpkg::is_installed("install ok"));
}

#[test]
fn hostile_input_never_panics() {
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        b"\n\n\n".to_vec(),
        b" continuation first\nPackage: x\n".to_vec(),
        b"Package\nStatus: install ok installed\n".to_vec(),
        vec![0xff, 0xfe, b':', b'\n', 0x80],
        b"Package: x\nStatus: install ok installed\nVersion:\n".to_vec(),
        b"Package: x\nStatus: install ok installed\nVersion: 1\nSource: (\n".to_vec(),
        "Package: é\nStatus: install ok installed\nVersion: 1\n"
            .as_bytes()
            .to_vec(),
    ];
    for c in cases {
        let _ = dpkg::parse_status(&c, "s");
        let _ = dpkg::parse_status_d(&c, "s");
        let _ = dpkg::parse_list(&c);
    }
    let l = dpkg::parse_status(
        b"Package: x\nStatus: install ok installed\nVersion: 1\nSource: (\n",
        "s",
    );
    assert_eq!(l.skipped.len(), 1);
}

/// Count from the mapping document: 769 packages, 82 with a parenthesised source version.
#[test]
fn shared_debian12_sample() {
    let Some(dir) = common::vulndata("shared_debian12_sample") else {
        return;
    };
    let bytes =
        std::fs::read(dir.join("pkgdb-samples/dpkg-status.debian12-helper-machine")).unwrap();
    let l = dpkg::parse_status(&bytes, "status");
    assert!(l.skipped.is_empty(), "{:?}", l.skipped);
    let bash = l.packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.source_version.as_deref(), Some("5.2.15-2"));
    let dmsetup = l.packages.iter().find(|p| p.name == "dmsetup").unwrap();
    assert_eq!(dmsetup.source_name.as_deref(), Some("lvm2"));
    assert_eq!(dmsetup.source_version.as_deref(), Some("2.03.16-2"));
}

/// `dpkg-query` on a copy of each status file must list exactly what we list.
#[test]
fn differential_dpkg_query() {
    if !common::have_tool("dpkg-query", "differential_dpkg_query") {
        return;
    }
    let mut files = vec![
        common::data("dpkg/status"),
        common::data("dpkg/status-crlf"),
    ];
    if let Some(dir) = common::vulndata("differential_dpkg_query (shared samples)") {
        for entry in std::fs::read_dir(dir.join("pkgdb-samples")).unwrap() {
            let p = entry.unwrap().path();
            if p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("dpkg-status")
            {
                files.push(p);
            }
        }
    }
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let admin = tempfile::tempdir().unwrap();
        // dpkg itself rejects CRLF; we accept it: give dpkg the LF form.
        let lf = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
        std::fs::write(admin.path().join("status"), lf).unwrap();
        std::fs::create_dir(admin.path().join("info")).unwrap();
        std::fs::create_dir(admin.path().join("updates")).unwrap();
        let out = common::run(
            Command::new("dpkg-query")
                .arg(format!("--admindir={}", admin.path().display()))
                .arg("-W")
                .arg("-f=${db:Status-Status}\t${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}\n"),
        );
        let mut theirs: Vec<String> = out
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .filter(|(st, _)| INSTALLED_STATES.contains(st))
            .map(|(_, rest)| rest.to_string())
            .collect();
        let mut ours: Vec<String> = dpkg::parse_status(&bytes, "status")
            .packages
            .iter()
            .map(row)
            .collect();
        theirs.sort();
        ours.sort();
        assert!(!ours.is_empty(), "{}", f.display());
        assert_eq!(ours, theirs, "{}", f.display());
    }
}
