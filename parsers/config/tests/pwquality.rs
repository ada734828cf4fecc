use coldscan_config::pwquality;
use coldscan_config::MemFiles;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/pwquality/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn rhel9_main_file_only() {
    let f = MemFiles::default().with("/etc/security/pwquality.conf", data("rhel9.conf"));
    let q = pwquality::parse(&f);
    assert_eq!(q.minlen().unwrap().value, 8);
    assert_eq!(q.minlen().unwrap().line, 3);
    assert_eq!(q.dcredit().unwrap().value, -1);
    assert!(q.ucredit().is_none());
    assert!(q.difok().is_none());
    assert_eq!(q.minclass().unwrap().value, 4);
    assert_eq!(q.maxrepeat().unwrap().value, 3);
    assert_eq!(q.dictcheck().unwrap().value, 1);
    assert_eq!(q.retry().unwrap().value, 3);
    assert!(q.enforce_for_root().unwrap().value);
    assert!(q.problems.is_empty(), "{:?}", q.problems);
}

/// pwquality.conf(5): the .d files are read first, in ASCII order, then the
/// main file; later settings override earlier ones.
#[test]
fn dropins_first_then_main() {
    let f = MemFiles::default()
        .with("/etc/security/pwquality.conf", data("rhel9.conf"))
        .with(
            "/etc/security/pwquality.conf.d/50-cis.conf",
            data("50-cis.conf"),
        )
        .with(
            "/etc/security/pwquality.conf.d/10-a.conf",
            "minlen = 20\nenforcing = 0\n",
        )
        .with("/etc/security/pwquality.conf.d/README", "minlen = 99\n")
        .with(
            "/etc/security/pwquality.conf.d/60-b.conf.bak",
            "minlen = 98\n",
        );
    let q = pwquality::parse(&f);
    assert_eq!(
        q.files,
        [
            "/etc/security/pwquality.conf.d/10-a.conf",
            "/etc/security/pwquality.conf.d/50-cis.conf",
            "/etc/security/pwquality.conf"
        ]
    );
    let m = q.minlen().unwrap();
    assert_eq!(
        (m.value, m.file.as_str()),
        (8, "/etc/security/pwquality.conf")
    );
    assert_eq!(
        q.overridden.iter().filter(|(k, _)| k == "minlen").count(),
        2
    );
    assert_eq!(q.ucredit().unwrap().value, -1);
    assert_eq!(q.lcredit().unwrap().value, -1);
    assert_eq!(q.ocredit().unwrap().value, -1);
    assert_eq!(q.maxclassrepeat().unwrap().value, 4);
    assert_eq!(q.enforcing().unwrap().value, 0);
}

#[test]
fn ubuntu_default_all_commented_and_junk() {
    let f = MemFiles::default().with(
        "/etc/security/pwquality.conf",
        "# minlen = 8\n# dcredit = 0\n",
    );
    let q = pwquality::parse(&f);
    assert!(q.entries.is_empty() && q.minlen().is_none());
    let f = MemFiles::default().with(
        "/etc/security/pwquality.conf",
        "MINLEN = 12\nminlen = abc\na b = 1\n\u{0}\u{1}=\n",
    );
    let q = pwquality::parse(&f);
    assert!(
        q.minlen().is_none(),
        "non-numeric value gives no typed value"
    );
    assert_eq!(q.get("minlen").unwrap().value, "abc");
    assert_eq!(q.problems.len(), 1);
}
