//! PAM stacks over fixture trees under tests/data/pam/<distro>/ (each a
//! machine root, written by us in the shape of the distribution's files),
//! and hostile inputs.

use std::path::Path;
use std::time::Instant;

use coldscan_config::pam::{self, PamConfig};
use coldscan_config::{ConfigFiles, MemFiles};

fn walk(dir: &Path, rel: &str, m: &mut MemFiles) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let r = format!("{rel}/{}", e.file_name().to_string_lossy());
        if e.file_type().unwrap().is_dir() {
            walk(&e.path(), &r, m);
        } else {
            m.0.insert(r, std::fs::read(e.path()).unwrap());
        }
    }
}

fn tree(distro: &str) -> PamConfig {
    let mut m = MemFiles::default();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/pam")
            .join(distro),
        "",
        &mut m,
    );
    pam::stacks(&m)
}

fn values(c: &PamConfig, stack: &str, ty: &str, module: &str, key: &str) -> Vec<String> {
    c.module_args(stack, ty, module)
        .into_iter()
        .filter(|a| a.value.key == key)
        .map(|a| a.value.value.clone().unwrap_or_default())
        .collect()
}

#[test]
fn debian12() {
    let c = tree("debian12");
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    let names: Vec<_> = c.stacks.keys().map(String::as_str).collect();
    for n in [
        "common-auth",
        "common-password",
        "login",
        "other",
        "passwd",
        "sshd",
        "su",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    // pam_pwquality through @include, with a continued line.
    let q = c.module_args("passwd", "password", "pam_pwquality");
    let minlen = q.iter().find(|a| a.value.key == "minlen").unwrap();
    assert_eq!(minlen.value.value.as_deref(), Some("14"));
    assert_eq!(minlen.file, "/etc/pam.d/common-password");
    assert_eq!(minlen.line, 2);
    assert_eq!(
        values(&c, "passwd", "password", "pam_pwquality.so", "dcredit"),
        ["-1"]
    );

    let unix = c.rules("sshd", "password", "pam_unix");
    assert_eq!(unix.len(), 1);
    let u = unix[0];
    assert_eq!(u.control, "[success=1 default=ignore]");
    assert_eq!(
        u.control_actions,
        [
            ("success".to_string(), "1".to_string()),
            ("default".to_string(), "ignore".to_string())
        ]
    );
    assert_eq!(u.arg("remember"), Some("5"));
    assert_eq!(u.arg("yescrypt"), Some(""));
    assert_eq!(u.arg("obscure"), Some(""));
    assert_eq!(u.arg("sha512"), None);
    assert_eq!(u.via.len(), 1);
    assert_eq!(u.via[0].kind, "@include");
    assert_eq!(u.via[0].file, "/etc/pam.d/sshd");
    assert_eq!(u.via[0].line, 14);
    assert_eq!(
        (u.source.file.as_str(), u.source.line),
        ("/etc/pam.d/common-password", 4)
    );

    let sshd = &c.stacks["sshd"];
    assert_eq!(sshd.file, "/etc/pam.d/sshd");
    assert_eq!(sshd.rules[0].module_name, "pam_unix.so");
    assert_eq!(sshd.rules[0].rule_type, "auth");
    let systemd = sshd
        .rules
        .iter()
        .find(|r| r.module_name == "pam_systemd.so")
        .unwrap();
    assert!(systemd.if_present);
    let selinux = sshd
        .rules
        .iter()
        .find(|r| r.module_name == "pam_selinux.so")
        .unwrap();
    assert_eq!(selinux.control_actions.len(), 4);
    let mail = sshd
        .rules
        .iter()
        .find(|r| r.module_name == "pam_mail.so")
        .unwrap();
    assert_eq!(
        mail.args.len(),
        2,
        "comment after the line is not an argument"
    );
    let env = sshd
        .rules
        .iter()
        .find(|r| r.module_name == "pam_env.so")
        .unwrap();
    assert_eq!(env.arg("envfile"), Some("/etc/default/locale"));
    // 3 auth + 1 + 3 account + 3 own session + 5 common-session + 5 own + 4 password
    assert_eq!(sshd.rules.len(), 24);
    // su: the commented pam_wheel is not a rule.
    assert!(c.rules("su", "auth", "pam_wheel").is_empty());
}

#[test]
fn rhel9() {
    let c = tree("rhel9");
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(
        values(&c, "system-auth", "auth", "pam_faillock", "deny"),
        ["5", "5"]
    );
    assert_eq!(
        values(&c, "password-auth", "auth", "pam_faillock", "unlock_time"),
        ["900", "900"]
    );
    let sshd = &c.stacks["sshd"];
    let auth: Vec<_> = sshd
        .rules
        .iter()
        .filter(|r| r.rule_type == "auth")
        .collect();
    assert_eq!(auth.len(), 6, "postlogin has no auth lines");
    assert!(auth.iter().all(|r| r.via[0].kind == "substack"));
    assert_eq!(auth[4].control, "[default=die]");
    assert_eq!(auth[4].source.file, "/etc/pam.d/password-auth");
    // `account include password-auth` brings only account lines.
    let acct: Vec<_> = sshd
        .rules
        .iter()
        .filter(|r| r.source.file == "/etc/pam.d/password-auth" && r.rule_type == "account")
        .collect();
    assert_eq!(acct.len(), 2);
    assert_eq!(
        sshd.rules
            .iter()
            .filter(|r| r.rule_type == "account")
            .count(),
        4
    );
    // pam_pwhistory and pam_pwquality reached through passwd's substack.
    assert_eq!(
        values(&c, "passwd", "password", "pam_pwhistory", "remember"),
        ["24"]
    );
    assert_eq!(
        values(&c, "passwd", "password", "pam_pwquality", "minlen"),
        ["12"]
    );
    let keyring = c.rules("passwd", "password", "pam_gnome_keyring");
    assert!(keyring[0].if_present);
    let succeed = c.rules("system-auth", "session", "pam_succeed_if");
    let raw: Vec<_> = succeed[0].args.iter().map(|a| a.raw.as_str()).collect();
    assert_eq!(raw, ["service", "in", "crond", "quiet", "use_uid"]);
    // su: session from system-auth then postlogin, in order.
    let su = &c.stacks["su"];
    let last = su.rules.last().unwrap();
    assert_eq!(last.module_name, "pam_xauth.so");
    assert!(last.via.is_empty());
}

#[test]
fn ubuntu2204() {
    let c = tree("ubuntu2204");
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    let u = c.rules("common-password", "password", "pam_unix.so");
    assert_eq!(u[0].arg("yescrypt"), Some(""));
    assert_eq!(u[0].arg("remember"), None);
    assert!(c.rules("sshd", "password", "pam_pwquality").is_empty());
    assert_eq!(c.rules("sshd", "session", "pam_motd").len(), 2);
    assert_eq!(c.rules("sshd", "auth", "pam_cap").len(), 1);
    assert!(c.stacks.contains_key("common-auth-faillock"));
}

#[test]
fn vendor_dir_precedence() {
    let c = tree("vendor");
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(c.stacks["common-auth"].file, "/etc/pam.d/common-auth");
    assert_eq!(c.stacks["sshd"].file, "/usr/lib/pam.d/sshd");
    assert_eq!(
        c.masked,
        [(
            "/usr/lib/pam.d/common-auth".to_string(),
            "/etc/pam.d/common-auth".to_string()
        )]
    );
    // sshd (vendor) includes common-auth: the /etc one wins.
    assert_eq!(values(&c, "sshd", "auth", "pam_faillock", "deny"), ["3"]);
    assert_eq!(
        values(&c, "sshd", "password", "pam_cracklib", "minlen"),
        ["8"]
    );
    assert_eq!(
        c.rules("sshd", "password", "pam_cracklib")[0].source.file,
        "/usr/lib/pam.d/common-password"
    );
}

fn mem(files: &[(&str, &[u8])]) -> MemFiles {
    let mut m = MemFiles::default();
    for (p, b) in files {
        m = m.with(p, b.to_vec());
    }
    m
}

#[test]
fn cycles_are_detected() {
    let c = pam::stacks(&mem(&[
        ("/etc/pam.d/a", b"auth required pam_a.so\n@include b\n"),
        ("/etc/pam.d/b", b"auth required pam_b.so\nauth include a\n"),
        (
            "/etc/pam.d/self",
            b"auth substack self\nauth required pam_s.so\n",
        ),
    ]));
    let a: Vec<_> = c.stacks["a"]
        .rules
        .iter()
        .map(|r| r.module.as_str())
        .collect();
    assert_eq!(a, ["pam_a.so", "pam_b.so"]);
    assert_eq!(c.stacks["self"].rules.len(), 1);
    assert!(c.problems.iter().filter(|p| p.contains("cycle")).count() >= 3);
}

#[test]
fn deep_includes_are_bounded() {
    let mut files = Vec::new();
    for i in 0..40 {
        files.push((
            format!("/etc/pam.d/f{i:02}"),
            format!("auth required pam_{i}.so\nauth include f{:02}\n", i + 1).into_bytes(),
        ));
    }
    let m = MemFiles(files.into_iter().collect());
    let c = pam::stacks(&m);
    assert_eq!(c.stacks["f00"].rules.len(), pam::MAX_DEPTH + 1);
    let deepest = c.stacks["f00"].rules.last().unwrap();
    assert_eq!(deepest.via.len(), pam::MAX_DEPTH);
    assert!(c
        .problems
        .iter()
        .any(|p| p.starts_with("f00:") && p.contains("depth")));
    // f39 includes a missing file.
    assert!(c.problems.iter().any(|p| p.contains("target not found")));
}

#[test]
fn huge_files_and_fan_out_are_bounded() {
    let huge = "auth required pam_permit.so\n".repeat(50_000);
    let mut fan = String::new();
    for _ in 0..1000 {
        fan.push_str("@include fan2\n");
    }
    let fan2 = "@include fan3\n".repeat(1000);
    let fan3 = "auth optional pam_x.so\n".repeat(1000);
    let start = Instant::now();
    let c = pam::stacks(&mem(&[
        ("/etc/pam.d/huge", huge.as_bytes()),
        ("/etc/pam.d/fan", fan.as_bytes()),
        ("/etc/pam.d/fan2", fan2.as_bytes()),
        ("/etc/pam.d/fan3", fan3.as_bytes()),
    ]));
    assert!(start.elapsed().as_secs() < 20);
    assert_eq!(c.stacks["huge"].rules.len(), pam::MAX_LINES);
    assert!(c.stacks["fan"].rules.len() <= pam::MAX_LINES);
    assert!(c
        .problems
        .iter()
        .any(|p| p.starts_with("fan:") && p.contains("stopped")));
    assert!(c
        .problems
        .iter()
        .any(|p| p.contains("more than 10000 lines")));
}

#[test]
fn junk_and_errors_are_problems() {
    struct Broken(MemFiles);
    impl ConfigFiles for Broken {
        fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>> {
            if path.ends_with("/locked") {
                return Some(Err("I/O error".into()));
            }
            self.0.read(path)
        }
        fn list(&self, dir: &str) -> Option<Result<Vec<String>, String>> {
            self.0.list(dir)
        }
    }
    let junk: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    let c = pam::stacks(&Broken(mem(&[
        ("/etc/pam.d/junk", &junk),
        ("/etc/pam.d/locked", b""),
        ("/etc/pam.d/uses-it", b"auth include locked\n"),
        (
            "/etc/pam.d/bad",
            b"auth\nfrob required pam_x.so\nauth maybe pam_x.so\nauth [success=1 pam_x.so\nauth required\n@include\nAUTH Required /lib/security/pam_ok.so a=b=c\n",
        ),
    ])));
    let junk_problems = c
        .problems
        .iter()
        .filter(|p| p.contains("/etc/pam.d/junk"))
        .count();
    assert!(junk_problems <= 21, "{junk_problems}");
    assert!(c.problems.iter().any(|p| p.contains("I/O error")));
    let bad = &c.stacks["bad"];
    assert_eq!(bad.rules.len(), 1);
    let ok = &bad.rules[0];
    assert_eq!(
        (ok.rule_type.as_str(), ok.control.as_str()),
        ("auth", "required")
    );
    assert_eq!(ok.module_name, "pam_ok.so");
    assert_eq!(ok.arg("a"), Some("b=c"));
    assert_eq!(
        c.problems
            .iter()
            .filter(|p| p.contains("/etc/pam.d/bad:"))
            .count(),
        6
    );
    assert!(c.stacks["uses-it"].rules.is_empty());
    assert!(!c.stacks.contains_key("locked"));
    let empty = pam::stacks(&MemFiles::default());
    assert!(empty.stacks.is_empty() && empty.problems.is_empty());
}
