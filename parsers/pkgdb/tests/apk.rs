//! apk installed database: our fixture and the real sample in ../shared.

mod common;

use coldscan_pkgdb::apk;

#[test]
fn fixture() {
    let bytes = std::fs::read(common::data("apk-installed")).unwrap();
    let l = apk::parse_installed(&bytes, "/lib/apk/db/installed");
    assert_eq!(l.packages.len(), 3);
    let p = &l.packages[0];
    assert_eq!(
        (p.name.as_str(), p.version.as_str(), p.arch.as_deref()),
        ("libcrypto3", "3.1.4-r1", Some("x86_64"))
    );
    assert_eq!(p.source_name.as_deref(), Some("openssl"));
    assert_eq!(p.source_version.as_deref(), Some("3.1.4-r1"));
    assert_eq!(
        p.files,
        [
            "/lib",
            "/lib/libcrypto.so.3",
            "/usr/lib/engines-3",
            "/usr/lib/engines-3/afalg.so",
            "/usr/lib/engines-3/padlock.so"
        ]
    );
    assert_eq!(p.evidence.line, Some(1));
    assert_eq!(l.packages[1].files, ["/rootfile", "/bin", "/bin/sh"]);
    assert_eq!(l.packages[2].source_name.as_deref(), Some("no-origin"));
    assert_eq!(l.skipped.len(), 1);
    assert_eq!(l.skipped[0].evidence.line, Some(26));
}

#[test]
fn hostile_input_never_panics() {
    for c in [&b""[..], b"P:\nV:\n", b"R:x\n", b":\n\xff\n", b"F:/\nR:\n"] {
        let _ = apk::parse_installed(c, "x");
    }
}

#[test]
fn shared_alpine_sample() {
    let Some(dir) = common::vulndata("shared_alpine_sample") else {
        return;
    };
    let bytes = std::fs::read(dir.join("pkgdb-samples/apk-installed.alpine.osv-scalibr")).unwrap();
    let l = apk::parse_installed(&bytes, "installed");
    assert!(l.skipped.is_empty());
    let origin = |n: &str| {
        let p = l.packages.iter().find(|p| p.name == n).unwrap();
        (p.version.clone(), p.source_name.clone().unwrap())
    };
    assert_eq!(origin("libcrypto3"), ("3.1.0-r4".into(), "openssl".into()));
    assert_eq!(origin("ssl_client"), ("1.36.0-r9".into(), "busybox".into()));
    assert_eq!(origin("libc-utils"), ("0.7.2-r5".into(), "libc-dev".into()));
    assert_eq!(
        origin("ca-certificates-bundle"),
        ("20230506-r0".into(), "ca-certificates".into())
    );
    let base = l
        .packages
        .iter()
        .find(|p| p.name == "alpine-baselayout")
        .unwrap();
    assert!(base
        .files
        .iter()
        .any(|f| f == "/etc/modprobe.d/aliases.conf"));
}
