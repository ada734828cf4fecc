//! sshd effective configuration: fixture trees under tests/data/sshd/<case>/
//! mapped onto /etc/ssh, plus the differential test against `sshd -T`.
//!
//! In the fixtures `@DIR@` stands for the configuration directory (/etc/ssh
//! for us, a temporary directory for sshd) and `@REL@` for a relative path
//! from /etc/ssh to that directory (so relative `Include`s are exercised by
//! both).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use coldscan_config::sshd::{self, SshdConfig};
use coldscan_config::{ConfigFiles, MemFiles};

fn data(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sshd")
        .join(case)
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        let r = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type().unwrap().is_dir() {
            walk(&e.path(), &r, out);
        } else {
            out.push((r, std::fs::read_to_string(e.path()).unwrap()));
        }
    }
}

fn fixture(case: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(&data(case), "", &mut out);
    out
}

fn mem(case: &str) -> MemFiles {
    let mut m = MemFiles::default();
    for (rel, text) in fixture(case) {
        let text = text
            .replace("@DIR@", "/etc/ssh")
            .replace("@REL@", "../../etc/ssh");
        m = m.with(&format!("/etc/ssh/{rel}"), text);
    }
    m
}

fn ours(case: &str, version: Option<&str>) -> SshdConfig {
    sshd::effective(&mem(case), version)
}

#[test]
fn defaults_only() {
    let c = ours("defaults_only", Some("1:9.2p1-2+deb12u6"));
    assert_eq!(c.value("PermitRootLogin"), Some("prohibit-password"));
    let prl = c.get("permitrootlogin").unwrap();
    assert_eq!((prl.file.as_str(), prl.line), ("(default)", 0));
    for (k, v) in [
        ("passwordauthentication", "yes"),
        ("permitemptypasswords", "no"),
        ("x11forwarding", "no"),
        ("maxauthtries", "6"),
        ("logingracetime", "120"),
        ("clientaliveinterval", "0"),
        ("clientalivecountmax", "3"),
        ("ignorerhosts", "yes"),
        ("hostbasedauthentication", "no"),
        ("usepam", "no"),
        ("loglevel", "INFO"),
        ("maxsessions", "10"),
        ("maxstartups", "10:30:100"),
        ("permituserenvironment", "no"),
        ("allowtcpforwarding", "yes"),
        ("banner", "none"),
        ("protocol", "2"),
        ("port", "22"),
    ] {
        assert_eq!(c.value(k), Some(v), "{k}");
    }
    assert!(c.value("ciphers").unwrap().starts_with("chacha20-poly1305"));
    assert!(c.get_all("allowusers").is_empty());
    assert!(c.matches.is_empty());
    assert_eq!(c.files, vec!["/etc/ssh/sshd_config"]);
    assert!(c.problems.is_empty(), "{:?}", c.problems);
}

#[test]
fn old_versions_and_unknown_versions() {
    let c = ours("defaults_only", Some("6.6p1"));
    assert_eq!(c.value("permitrootlogin"), Some("yes"));
    assert!(c.value("ciphers").is_none());
    assert!(c.problems.iter().any(|p| p.contains("ciphers")));
    let c = ours("defaults_only", None);
    assert_eq!(c.value("permitrootlogin"), Some("prohibit-password"));
    let c = sshd::effective(
        &MemFiles::default().with("/etc/ssh/sshd_config", "Protocol 1\n"),
        Some("7.2p2"),
    );
    assert_eq!(c.value("protocol"), Some("1"));
    let c = sshd::effective(
        &MemFiles::default().with("/etc/ssh/sshd_config", "Protocol 1\n"),
        Some("9.2p1"),
    );
    assert_eq!(c.value("protocol"), Some("2"));
    assert!(c.problems.iter().any(|p| p.contains("Protocol 1 ignored")));
}

#[test]
fn debian_drop_in_cloud_init_wins() {
    let c = ours("debian12_cloudinit", Some("9.2p1"));
    let pa = c.get("PasswordAuthentication").unwrap();
    assert_eq!(pa.value, "yes");
    assert_eq!(pa.file, "/etc/ssh/sshd_config.d/50-cloud-init.conf");
    assert_eq!(pa.line, 1);
    let prl = c.get("permitrootlogin").unwrap();
    assert_eq!(prl.value, "no", "hidden files and README are not *.conf");
    assert_eq!(prl.file, "/etc/ssh/sshd_config.d/60-hardening.conf");
    assert_eq!(c.value("usepam"), Some("yes"));
    assert_eq!(c.value("clientalivecountmax"), Some("0"));
    let env: Vec<_> = c.get_all("AcceptEnv").iter().map(|s| &s.value).collect();
    assert_eq!(env, ["LANG", "LC_*"]);
    assert_eq!(
        c.get_all("subsystem")[0].value,
        "sftp /usr/lib/openssh/sftp-server"
    );
    assert_eq!(
        c.files,
        [
            "/etc/ssh/sshd_config",
            "/etc/ssh/sshd_config.d/50-cloud-init.conf",
            "/etc/ssh/sshd_config.d/60-hardening.conf"
        ]
    );
}

#[test]
fn include_glob_relative_first_wins() {
    let c = ours("include_glob_relative", Some("9.2p1"));
    assert_eq!(c.value("loglevel"), Some("VERBOSE"));
    assert_eq!(c.value("x11forwarding"), Some("no"));
    let ms = c.get("maxsessions").unwrap();
    assert_eq!(
        (ms.value.as_str(), ms.file.as_str(), ms.line),
        ("4", "/etc/ssh/conf.d/10-first.conf", 4)
    );
    assert_eq!(c.value("ignorerhosts"), Some("shosts-only"));
    assert_eq!(c.value("logingracetime"), Some("45"));
    assert_eq!(c.value("permitrootlogin"), Some("prohibit-password"));
    assert_eq!(c.value("maxstartups"), Some("5:30:5"));
    let users: Vec<_> = c.get_all("allowusers").iter().map(|s| &s.value).collect();
    assert_eq!(users, ["carol", "alice", "bob"]);
    assert!(c.value("ciphers").unwrap().ends_with(",aes128-cbc"));
    assert!(!c.value("macs").unwrap().contains("hmac-sha1"));
    assert_eq!(c.value("banner"), Some("/etc/ssh/issue net"));
    // A glob that matches nothing is normal (sshd ignores it): no problem.
    assert!(!c.problems.iter().any(|p| p.contains("no-such-dir")));
    assert!(c
        .files
        .contains(&"/etc/ssh/conf.d/nested/deep.conf".to_string()));
    assert!(!c
        .files
        .contains(&"/etc/ssh/conf.d/not-a-number.conf".to_string()));
}

#[test]
fn match_blocks_kept_apart() {
    let c = ours("match_block", Some("9.2p1"));
    assert_eq!(c.value("passwordauthentication"), Some("no"));
    assert_eq!(c.value("x11forwarding"), Some("no"));
    assert_eq!(c.value("maxauthtries"), Some("6"));
    assert_eq!(c.value("permitrootlogin"), Some("no"));
    assert_eq!(c.matches.len(), 3);
    let bob = &c.matches[0];
    assert_eq!(bob.criteria.value, "User bob");
    assert_eq!(bob.criteria.file, "/etc/ssh/match.d/10-match.conf");
    assert_eq!(bob.conditions, [("user".to_string(), "bob".to_string())]);
    assert_eq!(bob.lines.len(), 2);
    let backup = &c.matches[1];
    assert_eq!(backup.criteria.line, 6);
    assert_eq!(
        backup.conditions,
        [
            ("user".to_string(), "backup".to_string()),
            ("address".to_string(), "10.0.0.0/8".to_string())
        ]
    );
    assert_eq!(backup.lines[0].keyword, "passwordauthentication");
    assert_eq!(backup.lines[0].value.value, "yes");
    assert_eq!(backup.lines[0].value.line, 7);
    // An Include inside a Match block belongs to the block.
    let sftp = &c.matches[2];
    assert_eq!(sftp.lines.len(), 6);
    assert_eq!(sftp.lines[5].keyword, "allowtcpforwarding");
    assert_eq!(sftp.lines[5].value.file, "/etc/ssh/inner/sftp.conf");
    assert_eq!(c.value("allowtcpforwarding"), Some("yes"));
}

#[test]
fn match_all_sets_globals() {
    let c = ours("match_all", Some("9.2p1"));
    assert_eq!(c.value("maxauthtries"), Some("3"));
    assert_eq!(c.get("maxauthtries").unwrap().line, 7);
    assert_eq!(c.value("maxsessions"), Some("7"), "Match all overrides");
    assert_eq!(c.value("passwordauthentication"), Some("no"));
    assert_eq!(c.value("x11forwarding"), Some("no"));
    let users: Vec<_> = c.get_all("allowusers").iter().map(|s| &s.value).collect();
    assert_eq!(users, ["admin"]);
    assert_eq!(c.matches.len(), 2);
    assert_eq!(c.matches[1].lines.len(), 4);
}

#[test]
fn problems_never_failures() {
    // Unknown keyword kept; include cycle stopped by depth; unreadable file.
    struct Broken(MemFiles);
    impl ConfigFiles for Broken {
        fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>> {
            if path.ends_with("locked.conf") {
                return Some(Err("permission denied".into()));
            }
            self.0.read(path)
        }
        fn list(&self, dir: &str) -> Option<Result<Vec<String>, String>> {
            self.0.list(dir)
        }
    }
    let files = Broken(
        MemFiles::default()
            .with(
                "/etc/ssh/sshd_config",
                "FrobnicateLevel 3\nInclude loop.conf\nInclude locked.conf\nMaxAuthTries many\nPort\n",
            )
            .with("/etc/ssh/loop.conf", "Include /etc/ssh/loop.conf\n")
            .with("/etc/ssh/locked.conf", ""),
    );
    let c = sshd::effective(&files, Some("9.2p1"));
    assert_eq!(c.value("frobnicatelevel"), Some("3"));
    assert!(c.problems.iter().any(|p| p.contains("unknown keyword")));
    assert!(c.problems.iter().any(|p| p.contains("depth over 16")));
    assert!(c.problems.iter().any(|p| p.contains("permission denied")));
    assert!(c.problems.iter().any(|p| p.contains("not a number")));
    assert_eq!(c.files.len(), 1 + sshd::MAX_INCLUDE_DEPTH);

    // Many includes: bounded file count.
    let mut m = MemFiles::default().with("/etc/ssh/sshd_config", "Include d/*\nInclude d/*\n");
    for i in 0..300 {
        m = m.with(&format!("/etc/ssh/d/{i:04}"), "Port 22\n");
    }
    let c = sshd::effective(&m, None);
    assert_eq!(c.files.len(), sshd::MAX_FILES);

    // Binary junk and no file at all.
    let junk: Vec<u8> = (0..20000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let c = sshd::effective(
        &MemFiles::default().with("/etc/ssh/sshd_config", junk),
        None,
    );
    assert_eq!(c.files.len(), 1);
    assert!(c.problems.len() <= 25, "{}", c.problems.len());
    let c = sshd::effective(&MemFiles::default(), Some("9.2"));
    assert_eq!(c.value("passwordauthentication"), Some("yes"));
    assert!(c.problems.iter().any(|p| p.contains("not found")));
    assert!(!format!("{c:?}").is_empty());
}

// ---------------------------------------------------------------------------
// Differential test against the real sshd.

const COMPARED: &[&str] = &[
    "permitrootlogin",
    "passwordauthentication",
    "permitemptypasswords",
    "x11forwarding",
    "maxauthtries",
    "logingracetime",
    "clientaliveinterval",
    "clientalivecountmax",
    "ignorerhosts",
    "hostbasedauthentication",
    "usepam",
    "loglevel",
    "maxsessions",
    "maxstartups",
    "permituserenvironment",
    "allowtcpforwarding",
    "banner",
    "ciphers",
    "macs",
    "kexalgorithms",
    "allowusers",
    "allowgroups",
    "denyusers",
    "denygroups",
];

fn find_sshd() -> Option<PathBuf> {
    for p in ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    None
}

fn sshd_version(sshd: &Path) -> Option<String> {
    let out = Command::new(sshd).arg("-V").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let start = text.find("OpenSSH_")?;
    Some(
        text[start..]
            .split(|c: char| c == ',' || c.is_whitespace())
            .next()?
            .to_string(),
    )
}

fn run_sshd_t(sshd: &Path, config: &Path, key: &Path) -> BTreeMap<String, Vec<String>> {
    let run = || {
        Command::new(sshd)
            .arg("-T")
            .arg("-f")
            .arg(config)
            .arg("-h")
            .arg(key)
            .output()
            .expect("run sshd -T")
    };
    let mut out = run();
    if !out.status.success()
        && String::from_utf8_lossy(&out.stderr).contains("Missing privilege separation directory")
    {
        // What the openssh-server service creates at start (tmpfiles.d).
        let _ = std::fs::create_dir_all("/run/sshd");
        out = run();
    }
    assert!(
        out.status.success(),
        "sshd -T failed on {}: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.split_once(' ') {
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
    }
    map
}

#[test]
fn differential_sshd_t() {
    let Some(sshd) = find_sshd() else {
        eprintln!("SKIPPED: sshd not found");
        return;
    };
    let version = sshd_version(&sshd);
    let tmp = std::env::temp_dir().join(format!("coldscan-sshd-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(tmp.clone());
    let key = tmp.join("hostkey");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(&key)
        .status();
    if !st.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: ssh-keygen not usable");
        return;
    }
    let mut compared = 0;
    for case in [
        "defaults_only",
        "debian12_cloudinit",
        "include_glob_relative",
        "match_block",
        "match_all",
        "normalisation",
    ] {
        let dir = tmp.join(case);
        let dir_s = dir.to_str().unwrap().to_string();
        for (rel, text) in fixture(case) {
            let p = dir.join(&rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let text = text
                .replace("@DIR@", &dir_s)
                .replace("@REL@", &format!("../..{dir_s}"));
            std::fs::write(p, text).unwrap();
        }
        let theirs = run_sshd_t(&sshd, &dir.join("sshd_config"), &key);
        let c = ours(case, version.as_deref());
        for kw in COMPARED {
            let mut want: Vec<String> = theirs.get(*kw).cloned().unwrap_or_default();
            if *kw == "permitrootlogin" {
                // sshd -T prints the alias first in its table; we normalise.
                for w in &mut want {
                    if w == "without-password" {
                        *w = "prohibit-password".into();
                    }
                }
            }
            if *kw == "banner" {
                for w in &mut want {
                    *w = w.replace(&dir_s, "/etc/ssh");
                }
            }
            let got: Vec<String> = c.get_all(kw).iter().map(|s| s.value.clone()).collect();
            if got.is_empty() && ["ciphers", "macs", "kexalgorithms"].contains(kw) {
                eprintln!("{case}: {kw}: default not recorded for {version:?}; not compared");
                continue;
            }
            assert_eq!(got, want, "{case}: {kw}");
            compared += 1;
        }
    }
    eprintln!("compared {compared} keyword values with sshd -T ({version:?})");
    assert!(compared >= 6 * (COMPARED.len() - 3));
}
