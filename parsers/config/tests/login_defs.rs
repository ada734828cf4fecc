use coldscan_config::login_defs::{self, parse_c_long, LoginDefs};
use coldscan_config::MemFiles;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/login_defs/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn parse(bytes: impl Into<Vec<u8>>) -> LoginDefs {
    login_defs::parse(&MemFiles::default().with("/etc/login.defs", bytes))
}

#[test]
fn debian12() {
    let d = parse(data("debian12.defs"));
    assert!(d.present);
    assert_eq!(d.pass_max_days().unwrap().value, 99999);
    assert_eq!(d.pass_min_days().unwrap().value, 0);
    assert_eq!(d.pass_warn_age().unwrap().value, 7);
    let u = d.umask().unwrap();
    assert_eq!(u.value, 0o022);
    assert_eq!((u.file.as_str(), u.line), ("/etc/login.defs", 19));
    assert_eq!(d.encrypt_method().unwrap().value, "SHA512");
    assert_eq!(d.login_retries().unwrap().value, 5);
    assert!(d.sha_crypt_min_rounds().is_none(), "commented out");
    assert!(d.pass_min_len().is_none());
    assert_eq!(d.get("UID_MIN").unwrap().value, "1000");
    assert_eq!(
        d.get("ENV_SUPATH").unwrap().value,
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    );
    assert!(d.problems.is_empty(), "{:?}", d.problems);
}

#[test]
fn rhel9_and_ubuntu() {
    let d = parse(data("rhel9.defs"));
    assert_eq!(d.umask().unwrap().value, 0o077);
    assert_eq!(d.pass_max_days().unwrap().value, 365);
    assert_eq!(d.pass_min_len().unwrap().value, 14);
    assert_eq!(d.sha_crypt_min_rounds().unwrap().value, 5000);
    assert_eq!(d.sha_crypt_max_rounds().unwrap().value, 10000);
    assert_eq!(d.fail_delay().unwrap().value, 4);
    let u = parse(data("ubuntu2404.defs"));
    assert_eq!(u.encrypt_method().unwrap().value, "YESCRYPT");
    assert_eq!(u.yescrypt_cost_factor().unwrap().value, 5);
}

#[test]
fn last_definition_wins_and_quotes() {
    let d = parse("PASS_MAX_DAYS 90\n  PASS_MAX_DAYS\t\"60\"  \nUMASK 27\nBAD\nMOTD_FILE \"/etc/motd:/etc/x\" junk\n");
    let m = d.pass_max_days().unwrap();
    assert_eq!((m.value, m.line), (60, 2));
    assert_eq!(d.overridden.len(), 1);
    assert_eq!(d.overridden[0].value.value, "90");
    // shadow reads numbers with strtol base 0: "27" is decimal 27.
    assert_eq!(d.umask().unwrap().value, 27);
    assert_eq!(d.get("MOTD_FILE").unwrap().value, "/etc/motd:/etc/x");
    assert_eq!(d.problems.len(), 1, "name without value: {:?}", d.problems);
    // Names are case-sensitive.
    let d = parse("pass_max_days 1\n");
    assert!(d.pass_max_days().is_none());
}

#[test]
fn c_long() {
    assert_eq!(parse_c_long("022"), Some(18));
    assert_eq!(parse_c_long("0x1F"), Some(31));
    assert_eq!(parse_c_long("-1"), Some(-1));
    assert_eq!(parse_c_long("0"), Some(0));
    assert_eq!(parse_c_long("09"), None);
    assert_eq!(parse_c_long("12abc"), None);
    assert_eq!(parse_c_long(""), None);
    assert_eq!(parse_c_long("99999999999999999999999"), None);
}

#[test]
fn absent_unreadable_and_junk() {
    let d = login_defs::parse(&MemFiles::default());
    assert!(!d.present && d.entries.is_empty());
    let junk: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 256) as u8).collect();
    let d = parse(junk);
    assert!(d.present);
    let mut huge = b"UMASK ".to_vec();
    huge.extend(std::iter::repeat_n(b'7', 5 << 20));
    let d = parse(huge);
    assert!(d.umask().is_none());
    assert!(!d.problems.is_empty());
}
