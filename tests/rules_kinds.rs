//! Table-driven tests of every check kind and operator over small
//! telemetry documents: a baseline collected from a fixture image whose
//! configuration is replaced by a few files (parsed by the real parsers),
//! with checks written in the rule syntax. Each case asserts the status
//! and the evidence (file, line, value) exactly.

mod common;

use coldscan::rules::outcome::Status::{Error, Fail, NotApplicable, Pass};
use common::telemetry::{case, entry, run, run_reason, wfile, Sys};

fn sysctl(text: &str) -> Sys {
    Sys::new().file("/etc/sysctl.d/60-net.conf", text)
}

fn login_defs(text: &str) -> Sys {
    Sys::new().file("/etc/login.defs", text)
}

const FWD: &str = r#"kind = "sysctl", key = "net.ipv4.ip_forward""#;

#[test]
fn value_operators() {
    let on = || sysctl("# routing\nnet.ipv4.ip_forward = 1\n");
    let off = || sysctl("# routing\nnet.ipv4.ip_forward = 0\n");
    let ev_on = "/etc/sysctl.d/60-net.conf:2 net.ipv4.ip_forward = 1";
    let ev_off = "/etc/sysctl.d/60-net.conf:2 net.ipv4.ip_forward = 0";
    let defs = |v: &str| {
        login_defs(&format!(
            "# shadow\nMAIL_DIR /var/mail\nPASS_MAX_DAYS {v}\n"
        ))
    };
    let max = r#"kind = "login_defs", key = "PASS_MAX_DAYS""#;
    let ptrace = |v: &str| sysctl(&format!("kernel.yama.ptrace_scope = {v}\n"));
    let yama = r#"kind = "sysctl", key = "kernel.yama.ptrace_scope""#;
    run(vec![
        case(
            "equals pass",
            off(),
            &format!(r#"{FWD}, op = "equals", value = "0""#),
            Pass,
            &[ev_off],
        ),
        case(
            "equals fail",
            on(),
            &format!(r#"{FWD}, op = "equals", value = "0""#),
            Fail,
            &[ev_on],
        ),
        case(
            "not_equals",
            on(),
            &format!(r#"{FWD}, op = "not_equals", value = "0""#),
            Pass,
            &[ev_on],
        ),
        case(
            "unset fails",
            Sys::new(),
            &format!(r#"{FWD}, op = "equals", value = "0""#),
            Fail,
            &["net.ipv4.ip_forward is not set"],
        ),
        case(
            "unset with default",
            Sys::new(),
            &format!(r#"{FWD}, op = "equals", value = "0", default = "0""#),
            Pass,
            &["net.ipv4.ip_forward = 0 (default: not set in any file)"],
        ),
        case(
            "unset with a failing default",
            Sys::new(),
            &format!(r#"{FWD}, op = "equals", value = "1", default = "0""#),
            Fail,
            &["net.ipv4.ip_forward = 0 (default: not set in any file)"],
        ),
        case(
            "default unused when set",
            on(),
            &format!(r#"{FWD}, op = "equals", value = "0", default = "0""#),
            Fail,
            &[ev_on],
        ),
        case(
            "absent unset",
            Sys::new(),
            &format!(r#"{FWD}, op = "absent""#),
            Pass,
            &["net.ipv4.ip_forward is not set"],
        ),
        case(
            "absent set",
            off(),
            &format!(r#"{FWD}, op = "absent""#),
            Fail,
            &[ev_off],
        ),
        case(
            "present set",
            off(),
            &format!(r#"{FWD}, op = "present""#),
            Pass,
            &[ev_off],
        ),
        case(
            "present unset",
            Sys::new(),
            &format!(r#"{FWD}, op = "present""#),
            Fail,
            &["net.ipv4.ip_forward is not set"],
        ),
        case(
            "later file wins",
            sysctl("net.ipv4.ip_forward = 1\n")
                .file("/etc/sysctl.d/99-z.conf", "net.ipv4.ip_forward = 0\n"),
            &format!(r#"{FWD}, op = "equals", value = "0""#),
            Pass,
            &["/etc/sysctl.d/99-z.conf:1 net.ipv4.ip_forward = 0"],
        ),
        case(
            "le pass",
            defs("90"),
            &format!(r#"{max}, op = "le", value = "365""#),
            Pass,
            &["/etc/login.defs:3 PASS_MAX_DAYS 90"],
        ),
        case(
            "le fail",
            defs("99999"),
            &format!(r#"{max}, op = "le", value = "365""#),
            Fail,
            &["/etc/login.defs:3 PASS_MAX_DAYS 99999"],
        ),
        case(
            "le equal",
            defs("365"),
            &format!(r#"{max}, op = "le", value = "365""#),
            Pass,
            &["/etc/login.defs:3 PASS_MAX_DAYS 365"],
        ),
        case(
            "lt equal",
            defs("365"),
            &format!(r#"{max}, op = "lt", value = "365""#),
            Fail,
            &["/etc/login.defs:3 PASS_MAX_DAYS 365"],
        ),
        case(
            "gt",
            defs("366"),
            &format!(r#"{max}, op = "gt", value = "365""#),
            Pass,
            &["/etc/login.defs:3 PASS_MAX_DAYS 366"],
        ),
        case(
            "ge",
            defs("7"),
            &format!(r#"{max}, op = "ge", value = "7""#),
            Pass,
            &["/etc/login.defs:3 PASS_MAX_DAYS 7"],
        ),
        case(
            "le not a number",
            defs("ninety"),
            &format!(r#"{max}, op = "le", value = "365""#),
            Fail,
            &["/etc/login.defs:3 PASS_MAX_DAYS ninety"],
        ),
        case(
            "ge not a number",
            defs("ninety"),
            &format!(r#"{max}, op = "ge", value = "1""#),
            Fail,
            &["/etc/login.defs:3 PASS_MAX_DAYS ninety"],
        ),
        case(
            "negative number",
            defs("-1"),
            &format!(r#"{max}, op = "ge", value = "1""#),
            Fail,
            &["/etc/login.defs:3 PASS_MAX_DAYS -1"],
        ),
        case(
            "in",
            ptrace("2"),
            &format!(r#"{yama}, op = "in", values = ["1", "2", "3"]"#),
            Pass,
            &["/etc/sysctl.d/60-net.conf:1 kernel.yama.ptrace_scope = 2"],
        ),
        case(
            "in fail",
            ptrace("0"),
            &format!(r#"{yama}, op = "in", values = ["1", "2", "3"]"#),
            Fail,
            &["/etc/sysctl.d/60-net.conf:1 kernel.yama.ptrace_scope = 0"],
        ),
        case(
            "not_in",
            ptrace("0"),
            &format!(r#"{yama}, op = "not_in", values = ["1", "2"]"#),
            Pass,
            &["/etc/sysctl.d/60-net.conf:1 kernel.yama.ptrace_scope = 0"],
        ),
        case(
            "not_in fail",
            ptrace("1"),
            &format!(r#"{yama}, op = "not_in", values = ["1", "2"]"#),
            Fail,
            &["/etc/sysctl.d/60-net.conf:1 kernel.yama.ptrace_scope = 1"],
        ),
    ]);
}

#[test]
fn case_and_patterns() {
    let enc = |v: &str| login_defs(&format!("ENCRYPT_METHOD {v}\n"));
    let e = r#"kind = "login_defs", key = "ENCRYPT_METHOD""#;
    let umask = |v: &str| login_defs(&format!("UMASK {v}\n"));
    let u = r#"kind = "login_defs", key = "UMASK""#;
    run(vec![
        case(
            "case-insensitive",
            enc("sha512"),
            &format!(r#"{e}, op = "equals", value = "SHA512""#),
            Pass,
            &["/etc/login.defs:1 ENCRYPT_METHOD sha512"],
        ),
        case(
            "case-sensitive",
            enc("sha512"),
            &format!(r#"{e}, op = "equals", value = "SHA512", case_sensitive = true"#),
            Fail,
            &["/etc/login.defs:1 ENCRYPT_METHOD sha512"],
        ),
        case(
            "in case-insensitive",
            enc("Yescrypt"),
            &format!(r#"{e}, op = "in", values = ["SHA512", "YESCRYPT"]"#),
            Pass,
            &["/etc/login.defs:1 ENCRYPT_METHOD Yescrypt"],
        ),
        case(
            "in case-sensitive",
            enc("Yescrypt"),
            &format!(r#"{e}, op = "in", values = ["SHA512", "YESCRYPT"], case_sensitive = true"#),
            Fail,
            &["/etc/login.defs:1 ENCRYPT_METHOD Yescrypt"],
        ),
        case(
            "matches whole value",
            umask("027"),
            &format!(r#"{u}, op = "matches", value = "0?[0-7][2-7]7", example = "027""#),
            Pass,
            &["/etc/login.defs:1 UMASK 027"],
        ),
        case(
            "matches is anchored",
            umask("1027"),
            &format!(r#"{u}, op = "matches", value = "0?[0-7][2-7]7", example = "027""#),
            Fail,
            &["/etc/login.defs:1 UMASK 1027"],
        ),
        case(
            "matches fail",
            umask("022"),
            &format!(r#"{u}, op = "matches", value = "0?[0-7][2-7]7", example = "027""#),
            Fail,
            &["/etc/login.defs:1 UMASK 022"],
        ),
        case(
            "not_matches",
            umask("022"),
            &format!(r#"{u}, op = "not_matches", value = "0?[0-7][2-7]7", example = "027""#),
            Pass,
            &["/etc/login.defs:1 UMASK 022"],
        ),
        case(
            "matches case-insensitive",
            enc("sha512"),
            &format!(r#"{e}, op = "matches", value = "SHA512|YESCRYPT", example = "SHA512""#),
            Pass,
            &["/etc/login.defs:1 ENCRYPT_METHOD sha512"],
        ),
        case(
            "matches case-sensitive",
            enc("sha512"),
            &format!(
                r#"{e}, op = "matches", value = "SHA512|YESCRYPT", example = "SHA512", case_sensitive = true"#
            ),
            Fail,
            &["/etc/login.defs:1 ENCRYPT_METHOD sha512"],
        ),
        case(
            "login.defs missing",
            Sys::new(),
            r#"kind = "login_defs", key = "UMASK", op = "equals", value = "027""#,
            Fail,
            &["UMASK is not set (/etc/login.defs is missing)"],
        ),
    ]);
}

fn sshd(config: &str) -> Sys {
    let mut s = Sys::new().file("/etc/ssh/sshd_config", config);
    s.openssh = Some("1:9.2p1-2+deb12u3".into());
    s
}

#[test]
fn sshd_settings() {
    let root = r#"kind = "sshd", key = "permitrootlogin", op = "equals", value = "no""#;
    let ciphers = |op: &str, values: &str| {
        format!(r#"kind = "sshd", key = "ciphers", op = "{op}", values = {values}"#)
    };
    let drop_in = sshd("Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n").file(
        "/etc/ssh/sshd_config.d/50-cloud-init.conf",
        "# cloud-init\nPasswordAuthentication yes\n",
    );
    run(vec![
        case("pass", sshd("# hardening\nPermitRootLogin no\n"), root, Pass, &["/etc/ssh/sshd_config:2 permitrootlogin no"]),
        case("fail", sshd("PermitRootLogin yes\n"), root, Fail, &["/etc/ssh/sshd_config:1 permitrootlogin yes"]),
        case("value case", sshd("PermitRootLogin No\n"), root, Pass, &["/etc/ssh/sshd_config:1 permitrootlogin no"]),
        case(
            "compiled-in default",
            sshd("# nothing\n"),
            root,
            Fail,
            &["permitrootlogin prohibit-password (default: not set in any file)"],
        ),
        case(
            "drop-in wins (first value)",
            drop_in,
            r#"kind = "sshd", key = "passwordauthentication", op = "equals", value = "no""#,
            Fail,
            &["/etc/ssh/sshd_config.d/50-cloud-init.conf:2 passwordauthentication yes"],
        ),
        case(
            "Match block loosens",
            sshd("PermitRootLogin no\nMatch User backup\n    PermitRootLogin yes\n"),
            root,
            Fail,
            &["/etc/ssh/sshd_config:3 permitrootlogin yes (in Match User backup)"],
        ),
        case(
            "Match block that complies",
            sshd("PermitRootLogin no\nMatch Address 10.0.0.0/8\n    PermitRootLogin no\n"),
            root,
            Pass,
            &["/etc/ssh/sshd_config:1 permitrootlogin no"],
        ),
        case(
            "Match block adds to a failure",
            sshd("PermitRootLogin yes\nMatch User backup\n    PermitRootLogin without-password\n"),
            root,
            Fail,
            &[
                "/etc/ssh/sshd_config:1 permitrootlogin yes",
                "/etc/ssh/sshd_config:3 permitrootlogin prohibit-password (in Match User backup)",
            ],
        ),
        case(
            "list_excludes fail",
            sshd("Ciphers aes128-cbc,aes256-gcm@openssh.com\n"),
            &ciphers("list_excludes", r#"["3des-cbc", "aes128-cbc"]"#),
            Fail,
            &["/etc/ssh/sshd_config:1 ciphers aes128-cbc,aes256-gcm@openssh.com"],
        ),
        case(
            "list_excludes pass",
            sshd("Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\n"),
            &ciphers("list_excludes", r#"["3des-cbc", "aes128-cbc"]"#),
            Pass,
            &["/etc/ssh/sshd_config:1 ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com"],
        ),
        case(
            "list_includes",
            sshd("Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\n"),
            &ciphers("list_includes", r#"["aes256-gcm@openssh.com"]"#),
            Pass,
            &["/etc/ssh/sshd_config:1 ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com"],
        ),
        case(
            "list_includes fail",
            sshd("Ciphers chacha20-poly1305@openssh.com\n"),
            &ciphers("list_includes", r#"["aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"]"#),
            Fail,
            &["/etc/ssh/sshd_config:1 ciphers chacha20-poly1305@openssh.com"],
        ),
        case(
            "numeric",
            sshd("MaxAuthTries 6\n"),
            r#"kind = "sshd", key = "maxauthtries", op = "le", value = "4""#,
            Fail,
            &["/etc/ssh/sshd_config:1 maxauthtries 6"],
        ),
    ]);
    run_reason(&Sys::new(), root, NotApplicable, "no OpenSSH server");
}

const PWQ: &str = r#"kind = "pam", stacks = ["common-password"], type = "password", modules = ["pam_pwquality.so", "pam_cracklib.so"]"#;

fn pam(stack: &str, text: &str) -> Sys {
    Sys::new().file(&format!("/etc/pam.d/{stack}"), text)
}

#[test]
fn pam_stacks() {
    let cp = "# password\npassword requisite pam_pwquality.so retry=3 minlen=14 enforce_for_root\npassword [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt\n";
    let line2 = "/etc/pam.d/common-password:2 password requisite pam_pwquality.so retry=3 minlen=14 enforce_for_root";
    let rh = |minlen: &str| {
        format!("password requisite pam_pwquality.so try_first_pass local_users_only {minlen}\npassword sufficient pam_unix.so sha512 shadow use_authtok\n")
    };
    let rhel = pam("system-auth", &rh("minlen=14")).file("/etc/pam.d/password-auth", &rh(""));
    let both = r#"kind = "pam", stacks = ["system-auth", "password-auth"], type = "password", modules = ["pam_pwquality.so"], option = "minlen", op = "ge", value = "14""#;
    let included =
        pam("common-password", cp).file("/etc/pam.d/passwd", "@include common-password\n");
    run(vec![
        case("option ge", pam("common-password", cp), &format!(r#"{PWQ}, option = "minlen", op = "ge", value = "14""#), Pass, &[line2]),
        case("option ge fails", pam("common-password", cp), &format!(r#"{PWQ}, option = "minlen", op = "ge", value = "15""#), Fail, &[line2]),
        case(
            "option missing",
            pam("common-password", cp),
            &format!(r#"{PWQ}, option = "dcredit", op = "le", value = "-1""#),
            Fail,
            &["/etc/pam.d/common-password:2 password requisite pam_pwquality.so retry=3 minlen=14 enforce_for_root (no dcredit)"],
        ),
        case(
            "option missing, default",
            pam("common-password", cp),
            &format!(r#"{PWQ}, option = "retry", op = "le", value = "3", default = "1""#),
            Pass,
            &[line2],
        ),
        case("flag present", pam("common-password", cp), &format!(r#"{PWQ}, option = "enforce_for_root", op = "present""#), Pass, &[line2]),
        case("module present", pam("common-password", cp), &format!(r#"{PWQ}, op = "present""#), Pass, &[line2]),
        case("module absent fails", pam("common-password", cp), &format!(r#"{PWQ}, op = "absent""#), Fail, &[line2]),
        case(
            "module missing",
            pam("common-password", "password required pam_unix.so\n"),
            &format!(r#"{PWQ}, op = "present""#),
            Fail,
            &["/etc/pam.d/common-password: no password rule with pam_pwquality.so or pam_cracklib.so"],
        ),
        case(
            "second-choice module",
            pam("common-password", "password requisite pam_cracklib.so minlen=16\n"),
            &format!(r#"{PWQ}, option = "minlen", op = "ge", value = "14""#),
            Pass,
            &["/etc/pam.d/common-password:1 password requisite pam_cracklib.so minlen=16"],
        ),
        case(
            "no stack",
            Sys::new(),
            &format!(r#"{PWQ}, op = "present""#),
            Fail,
            &["no PAM stack common-password in /etc/pam.d"],
        ),
        case("no stack, absent", Sys::new(), &format!(r#"{PWQ}, op = "absent""#), Pass, &["no PAM stack common-password in /etc/pam.d"]),
        case(
            "every listed stack",
            rhel,
            both,
            Fail,
            &["/etc/pam.d/password-auth:1 password requisite pam_pwquality.so try_first_pass local_users_only (no minlen)"],
        ),
        case(
            "only existing stacks count",
            pam("system-auth", &rh("minlen=14")),
            both,
            Pass,
            &["/etc/pam.d/system-auth:1 password requisite pam_pwquality.so try_first_pass local_users_only minlen=14"],
        ),
        case(
            "included stack",
            included,
            r#"kind = "pam", stacks = ["passwd"], type = "password", modules = ["pam_pwquality.so"], option = "minlen", op = "ge", value = "14""#,
            Pass,
            &[line2],
        ),
        case(
            "type matters",
            pam("common-auth", "auth required pam_faillock.so preauth deny=5\n"),
            r#"kind = "pam", stacks = ["common-auth"], type = "account", modules = ["pam_faillock.so"], op = "present""#,
            Fail,
            &["/etc/pam.d/common-auth: no account rule with pam_faillock.so"],
        ),
    ]);
}

#[test]
fn pwquality_settings() {
    let conf = "# pwquality\nminlen = 8\nminclass = 4\n";
    let minlen = r#"kind = "pwquality", key = "minlen", op = "ge", value = "14""#;
    run(vec![
        case(
            "conf",
            Sys::new().file("/etc/security/pwquality.conf", conf),
            r#"kind = "pwquality", key = "minclass", op = "ge", value = "4""#,
            Pass,
            &["/etc/security/pwquality.conf:3 minclass 4"],
        ),
        case(
            "conf fails",
            Sys::new().file("/etc/security/pwquality.conf", conf),
            minlen,
            Fail,
            &["/etc/security/pwquality.conf:2 minlen 8"],
        ),
        case(
            "conf.d alone",
            Sys::new().file(
                "/etc/security/pwquality.conf.d/50-cis.conf",
                "minlen = 14\n",
            ),
            minlen,
            Pass,
            &["/etc/security/pwquality.conf.d/50-cis.conf:1 minlen 14"],
        ),
        case(
            "the main file is read after conf.d",
            Sys::new().file("/etc/security/pwquality.conf", conf).file(
                "/etc/security/pwquality.conf.d/50-cis.conf",
                "minlen = 14\n",
            ),
            minlen,
            Fail,
            &["/etc/security/pwquality.conf:2 minlen 8"],
        ),
        case(
            "PAM argument overrides",
            Sys::new().file("/etc/security/pwquality.conf", conf).file(
                "/etc/pam.d/common-password",
                "password requisite pam_pwquality.so retry=3 minlen=15\n",
            ),
            minlen,
            Pass,
            &["/etc/pam.d/common-password:1 minlen 15"],
        ),
        case("unset", Sys::new(), minlen, Fail, &["minlen is not set"]),
    ]);
}

fn grub(args: &str) -> Sys {
    Sys::new().file(
        "/etc/default/grub",
        &format!("GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"{args}\"\n"),
    )
}

#[test]
fn kernel_cmdline_args() {
    let audit = r#"kind = "kernel_cmdline", arg = "audit", op = "equals", value = "1""#;
    let with_cfg = grub("audit=1").file(
        "/boot/grub/grub.cfg",
        "menuentry 'Debian GNU/Linux' {\n\tlinux /vmlinuz-6.1.0-13-amd64 root=UUID=0f2a ro quiet\n}\n",
    );
    run(vec![
        case(
            "set",
            grub("audit=1 audit_backlog_limit=8192"),
            audit,
            Pass,
            &["/etc/default/grub:4 audit=1"],
        ),
        case(
            "wrong value",
            grub("audit=0"),
            audit,
            Fail,
            &["/etc/default/grub:4 audit=0"],
        ),
        case(
            "last wins",
            grub("audit=1 audit=0"),
            audit,
            Fail,
            &["/etc/default/grub:4 audit=0"],
        ),
        case(
            "unset",
            grub("net.ifnames=0"),
            audit,
            Fail,
            &["audit is not set in GRUB_CMDLINE_LINUX"],
        ),
        case(
            "every entry",
            with_cfg,
            audit,
            Fail,
            &["audit is not set in boot entry Debian GNU/Linux"],
        ),
        case(
            "flag present",
            grub("quiet splash apparmor=1"),
            r#"kind = "kernel_cmdline", arg = "apparmor", op = "present""#,
            Pass,
            &["/etc/default/grub:4 apparmor 1"],
        ),
        case(
            "flag absent",
            grub(""),
            r#"kind = "kernel_cmdline", arg = "noexec", op = "absent""#,
            Pass,
            &["noexec is not set in GRUB_CMDLINE_LINUX"],
        ),
        case(
            "numeric",
            grub("audit_backlog_limit=1024"),
            r#"kind = "kernel_cmdline", arg = "audit_backlog_limit", op = "ge", value = "8192""#,
            Fail,
            &["/etc/default/grub:4 audit_backlog_limit=1024"],
        ),
    ]);
    run_reason(
        &Sys::new(),
        audit,
        NotApplicable,
        "no boot loader configuration",
    );
}

/// A machine where `glob` matched these entries.
fn watched(glob: &str, matches: Vec<(coldscan::listing::Entry, Option<&str>)>) -> Sys {
    let mut s = Sys::new();
    s.watch(
        glob,
        matches.into_iter().map(|(e, t)| wfile(e, t)).collect(),
    );
    s
}

#[test]
fn file_permissions() {
    let shadow = |mode: &str, uid: u32, gid: u32| {
        watched(
            "/etc/shadow",
            vec![(entry("/etc/shadow", "file", mode, uid, gid), None)],
        )
    };
    let rule = r#"kind = "file", path = "/etc/shadow", max_mode = "0640", owner = ["root"], group = ["root", "shadow"]"#;
    let keys = watched(
        "/etc/ssh/ssh_host_*_key",
        vec![
            (
                entry("/etc/ssh/ssh_host_ed25519_key", "file", "0600", 0, 0),
                None,
            ),
            (
                entry("/etc/ssh/ssh_host_rsa_key", "file", "0644", 0, 0),
                None,
            ),
        ],
    );
    let deny = |present: bool| {
        watched(
            "/etc/cron.deny",
            if present {
                vec![(entry("/etc/cron.deny", "file", "0644", 0, 0), None)]
            } else {
                Vec::new()
            },
        )
    };
    let cron_d = watched(
        "/etc/cron.d",
        vec![(entry("/etc/cron.d", "dir", "0755", 0, 0), None)],
    );
    let link = watched(
        "/etc/motd",
        vec![(entry("/etc/motd", "symlink", "0777", 0, 0), None)],
    );
    run(vec![
        case(
            "pass",
            shadow("0640", 0, 42),
            rule,
            Pass,
            &["/etc/shadow: file 0640 root:shadow"],
        ),
        case(
            "stricter mode",
            shadow("0000", 0, 42),
            rule,
            Pass,
            &["/etc/shadow: file 0000 root:shadow"],
        ),
        case(
            "mode",
            shadow("0644", 0, 42),
            rule,
            Fail,
            &["/etc/shadow: file 0644 root:shadow (mode 0644 exceeds 0640)"],
        ),
        case(
            "setuid bit",
            shadow("4640", 0, 42),
            rule,
            Fail,
            &["/etc/shadow: file 4640 root:shadow (mode 4640 exceeds 0640)"],
        ),
        case(
            "owner and group",
            shadow("0640", 1000, 1000),
            rule,
            Fail,
            &["/etc/shadow: file 0640 alice:alice (owner not root, group not root or shadow)"],
        ),
        case(
            "numeric owner",
            shadow("0640", 0, 42),
            r#"kind = "file", path = "/etc/shadow", owner = ["0"], group = ["42"]"#,
            Pass,
            &["/etc/shadow: file 0640 root:shadow"],
        ),
        case(
            "unknown ids",
            shadow("0640", 4242, 4343),
            rule,
            Fail,
            &["/etc/shadow: file 0640 4242:4343 (owner not root, group not root or shadow)"],
        ),
        case(
            "every match",
            keys,
            r#"kind = "file", path = "/etc/ssh/ssh_host_*_key", max_mode = "0600""#,
            Fail,
            &["/etc/ssh/ssh_host_rsa_key: file 0644 root:root (mode 0644 exceeds 0600)"],
        ),
        case(
            "exists=false present",
            deny(true),
            r#"kind = "file", path = "/etc/cron.deny", exists = false"#,
            Fail,
            &["/etc/cron.deny: exists (file 0644 root:root)"],
        ),
        case(
            "exists=false absent",
            deny(false),
            r#"kind = "file", path = "/etc/cron.deny", exists = false"#,
            Pass,
            &["no /etc/cron.deny"],
        ),
        case(
            "exists=true absent",
            deny(false),
            r#"kind = "file", path = "/etc/cron.deny", exists = true"#,
            Fail,
            &["no /etc/cron.deny in the image"],
        ),
        case(
            "missing passes",
            deny(false),
            r#"kind = "file", path = "/etc/cron.deny", max_mode = "0600""#,
            Pass,
            &["no /etc/cron.deny in the image"],
        ),
        case(
            "when_missing fail",
            deny(false),
            r#"kind = "file", path = "/etc/cron.deny", max_mode = "0600", when_missing = "fail""#,
            Fail,
            &["no /etc/cron.deny in the image"],
        ),
        case(
            "dir",
            cron_d.clone(),
            r#"kind = "file", path = "/etc/cron.d", max_mode = "0700", file_type = "dir""#,
            Fail,
            &["/etc/cron.d: dir 0755 root:root (mode 0755 exceeds 0700)"],
        ),
        case(
            "other types skipped",
            cron_d,
            r#"kind = "file", path = "/etc/cron.d", max_mode = "0700", file_type = "file""#,
            Pass,
            &["no /etc/cron.d in the image"],
        ),
        case(
            "symlink mode ignored",
            link,
            r#"kind = "file", path = "/etc/motd", max_mode = "0644", owner = ["root"]"#,
            Pass,
            &["/etc/motd: symlink 0777 root:root"],
        ),
    ]);
    run_reason(
        &deny(false),
        r#"kind = "file", path = "/etc/cron.deny", when_missing = "not_applicable""#,
        NotApplicable,
        "no /etc/cron.deny in the image",
    );
    run_reason(&Sys::new(), rule, Error, "does not hold /etc/shadow");
}

#[test]
fn file_contents() {
    let glob = "/etc/audit/rules.d/*.rules";
    let rules = "## scope\n-w /etc/sudoers -p wa -k scope\n  -w /etc/sudoers.d -p wa -k scope\n";
    let audit = |text: &str| {
        watched(
            glob,
            vec![(
                entry("/etc/audit/rules.d/50-scope.rules", "file", "0640", 0, 0),
                Some(text),
            )],
        )
    };
    let sudoers = format!(
        r#"kind = "file_content", path = "{glob}", pattern = '^\s*-w\s+/etc/sudoers(\.d)?\s+-p\s+wa', expect = "match", example = "-w /etc/sudoers -p wa -k scope", when_missing = "fail""#
    );
    let motd = r#"kind = "file_content", path = "/etc/motd", pattern = '(?i)(\\[mrsv]|debian)', expect = "no_match", example = 'Debian GNU/Linux 12 \n \l'"#;
    let mut unreadable = watched(
        "/etc/motd",
        vec![(entry("/etc/motd", "file", "0644", 0, 0), None)],
    );
    unreadable.watched[0].matches[0].text_error = Some("inode 12: bad extent".into());
    run(vec![
        case(
            "match",
            audit(rules),
            &sudoers,
            Pass,
            &[
                "/etc/audit/rules.d/50-scope.rules:2 -w /etc/sudoers -p wa -k scope",
                "/etc/audit/rules.d/50-scope.rules:3 -w /etc/sudoers.d -p wa -k scope",
            ],
        ),
        case(
            "no line",
            audit("## scope\n"),
            &sudoers,
            Fail,
            &[&format!(
                "no line of /etc/audit/rules.d/50-scope.rules matches {}",
                r"^\s*-w\s+/etc/sudoers(\.d)?\s+-p\s+wa"
            )],
        ),
        case(
            "comment lines count",
            audit("#-w /etc/sudoers -p wa\n"),
            &sudoers,
            Fail,
            &[&format!(
                "no line of /etc/audit/rules.d/50-scope.rules matches {}",
                r"^\s*-w\s+/etc/sudoers(\.d)?\s+-p\s+wa"
            )],
        ),
        case(
            "missing fails",
            watched(glob, Vec::new()),
            &sudoers,
            Fail,
            &["no /etc/audit/rules.d/*.rules in the image"],
        ),
        case(
            "no_match fail",
            watched(
                "/etc/motd",
                vec![(
                    entry("/etc/motd", "file", "0644", 0, 0),
                    Some("Welcome\nDebian GNU/Linux 12\n"),
                )],
            ),
            motd,
            Fail,
            &["/etc/motd:2 Debian GNU/Linux 12"],
        ),
        case(
            "no_match pass",
            watched(
                "/etc/motd",
                vec![(
                    entry("/etc/motd", "file", "0644", 0, 0),
                    Some("Authorized use only.\n"),
                )],
            ),
            motd,
            Pass,
            &[r"no line of /etc/motd matches (?i)(\\[mrsv]|debian)"],
        ),
        case(
            "no_match missing",
            watched("/etc/motd", Vec::new()),
            motd,
            Pass,
            &["no /etc/motd in the image"],
        ),
    ]);
    run_reason(&unreadable, motd, Error, "bad extent");
    run_reason(&Sys::new(), motd, Error, "does not hold /etc/motd");
}

#[test]
fn packages_and_services() {
    let mut pkgs = Sys::new();
    pkgs.install("telnetd", "0.17+2.4-2");
    pkgs.install("chrony", "4.3-2+deb12u1");
    let mut nodb = Sys::new();
    nodb.package_db = false;
    let telnet = r#"kind = "package", names = ["telnetd", "inetutils-telnetd"], state = "absent""#;
    let mut svc = Sys::new();
    svc.enable("chrony.service");
    svc.unit_file("rsync.service");
    svc.unit_file("cups.socket");
    svc.mask("cups.socket");
    let mut inetd = Sys::new().file(
        "/etc/inetd.conf",
        "# services\ntelnet stream tcp nowait root /usr/sbin/tcpd /usr/sbin/in.telnetd\n",
    );
    inetd.unit_file("inetd.service");
    run(vec![
        case("absent fails", pkgs.clone(), telnet, Fail, &["/var/lib/dpkg/status:1 telnetd 0.17+2.4-2 installed"]),
        case("absent passes", Sys::new(), telnet, Pass, &["telnetd, inetutils-telnetd not installed"]),
        case("installed", pkgs.clone(), r#"kind = "package", names = ["chrony", "ntp"], state = "installed""#, Pass, &["/var/lib/dpkg/status:11 chrony 4.3-2+deb12u1 installed"]),
        case("not installed", Sys::new(), r#"kind = "package", names = ["aide"], state = "installed""#, Fail, &["aide not installed"]),
        case("enabled", svc.clone(), r#"kind = "service", units = ["chrony.service"], state = "enabled""#, Pass, &["/etc/systemd/system/multi-user.target.wants/chrony.service: chrony.service enabled (multi-user.target wants)"]),
        case("disabled fails", svc.clone(), r#"kind = "service", units = ["chrony.service"], state = "disabled""#, Fail, &["/etc/systemd/system/multi-user.target.wants/chrony.service: chrony.service enabled (multi-user.target wants)"]),
        case("installed, not enabled", svc.clone(), r#"kind = "service", units = ["rsync.service"], state = "disabled""#, Pass, &["rsync.service installed, not enabled"]),
        case("not installed is disabled", svc.clone(), r#"kind = "service", units = ["avahi-daemon.service", "avahi-daemon.socket"], state = "disabled""#, Pass, &["avahi-daemon.service not installed", "avahi-daemon.socket not installed"]),
        case("masked", svc.clone(), r#"kind = "service", units = ["cups.socket", "cups.service"], state = "masked""#, Pass, &["/etc/systemd/system/cups.socket: cups.socket masked (/dev/null)", "cups.service not installed"]),
        case("not masked", svc.clone(), r#"kind = "service", units = ["rsync.service"], state = "masked""#, Fail, &["/lib/systemd/system/rsync.service: rsync.service installed, not masked"]),
        case("masked is not enabled", svc, r#"kind = "service", units = ["cups.socket"], state = "enabled""#, Fail, &["cups.socket masked"]),
        case("inetd service", inetd, r#"kind = "service", units = ["telnet.socket"], state = "disabled""#, Fail, &["/etc/inetd.conf:2 telnet enabled in inetd"]),
    ]);
    run_reason(&nodb, telnet, Error, "no package database");
}

#[test]
fn mounts() {
    let fstab = "# /etc/fstab\nUUID=0f2a / ext4 errors=remount-ro 0 1\nUUID=77aa /tmp ext4 defaults,nodev,nosuid 0 2\ntmpfs /dev/shm tmpfs defaults,nodev 0 0\n";
    let with = |f: &str| {
        let mut s = Sys::new();
        s.fstab = f.to_string();
        s
    };
    let mut systemd = Sys::new();
    systemd.unit_file("systemd-journald.service");
    let mut tmp_mount = Sys::new();
    tmp_mount.files.insert(
        "/lib/systemd/system/tmp.mount".into(),
        "[Mount]\nWhat=tmpfs\n".into(),
    );
    tmp_mount.link(
        "/lib/systemd/system/local-fs.target.wants/tmp.mount",
        "../tmp.mount",
    );
    run(vec![
        case("separate", with(fstab), r#"kind = "mount", mount_point = "/tmp", separate = true"#, Pass, &["/etc/fstab:3 UUID=77aa /tmp ext4 defaults,nodev,nosuid"]),
        case("options", with(fstab), r#"kind = "mount", mount_point = "/tmp", options = ["nodev", "nosuid"]"#, Pass, &["/etc/fstab:3 UUID=77aa /tmp ext4 defaults,nodev,nosuid"]),
        case("missing option", with(fstab), r#"kind = "mount", mount_point = "/tmp", options = ["noexec", "nodev"]"#, Fail, &["/etc/fstab:3 UUID=77aa /tmp ext4 defaults,nodev,nosuid (missing noexec)"]),
        case("not separate", with(fstab), r#"kind = "mount", mount_point = "/var", separate = true"#, Fail, &["/etc/fstab: no separate mount for /var"]),
        case("fstab /dev/shm", with(fstab), r#"kind = "mount", mount_point = "/dev/shm", options = ["nosuid"]"#, Fail, &["/etc/fstab:4 tmpfs /dev/shm tmpfs defaults,nodev (missing nosuid)"]),
        case("implicit /dev/shm", systemd.clone(), r#"kind = "mount", mount_point = "/dev/shm", options = ["nodev", "nosuid"]"#, Pass, &["/dev/shm mounted by systemd's built-in /dev/shm mount with nosuid,nodev"]),
        case("implicit /dev/shm noexec", systemd, r#"kind = "mount", mount_point = "/dev/shm", options = ["noexec"]"#, Fail, &["/dev/shm mounted by systemd's built-in /dev/shm mount with nosuid,nodev (missing noexec)"]),
        case("tmp.mount", tmp_mount, r#"kind = "mount", mount_point = "/tmp", separate = true"#, Pass, &["/tmp mounted by tmp.mount (systemd) with nosuid,nodev"]),
    ]);
    run_reason(
        &with(fstab),
        r#"kind = "mount", mount_point = "/var/tmp", options = ["nodev"]"#,
        NotApplicable,
        "/var/tmp is not a separate mount",
    );
    run_reason(
        &Sys::new(),
        r#"kind = "mount", mount_point = "/dev/shm", options = ["nodev"]"#,
        NotApplicable,
        "/dev/shm is not a separate mount",
    );
}

#[test]
fn kernel_modules() {
    let ko = "/lib/modules/6.1.0-13-amd64/kernel/fs/cramfs/cramfs.ko.xz";
    let conf = "# CIS 1.1.1.1\ninstall cramfs /bin/false\nblacklist cramfs\n";
    let m = r#"kind = "kernel_module_disabled", module = "cramfs""#;
    let mut disabled = Sys::new().file("/etc/modprobe.d/cramfs.conf", conf);
    disabled.module("cramfs", &[ko]);
    let mut blacklisted = Sys::new().file("/etc/modprobe.d/cramfs.conf", "blacklist cramfs\n");
    blacklisted.module("cramfs", &[ko]);
    let mut absent = Sys::new();
    absent.module("cramfs", &[]);
    let mut dashes = Sys::new().file(
        "/etc/modprobe.d/usb.conf",
        "install usb_storage /bin/true\nblacklist usb_storage\n",
    );
    dashes.module("usb-storage", &[]);
    run(vec![
        case(
            "modprobe",
            disabled,
            m,
            Pass,
            &[
                "/etc/modprobe.d/cramfs.conf:2 install cramfs /bin/false",
                "/etc/modprobe.d/cramfs.conf:3 blacklist cramfs",
            ],
        ),
        case(
            "blacklist only, module present",
            blacklisted,
            m,
            Fail,
            &[
                "no `install cramfs` in modprobe.d",
                "/etc/modprobe.d/cramfs.conf:1 blacklist cramfs",
                &format!("{ko}: module present"),
            ],
        ),
        case(
            "no module file",
            absent,
            m,
            Pass,
            &["the image has no kernel modules"],
        ),
        case(
            "dash and underscore",
            dashes,
            r#"kind = "kernel_module_disabled", module = "usb-storage""#,
            Pass,
            &[
                "/etc/modprobe.d/usb.conf:1 install usb-storage /bin/true",
                "/etc/modprobe.d/usb.conf:2 blacklist usb_storage",
            ],
        ),
    ]);
    run_reason(&Sys::new(), m, Error, "kernel module cramfs");
}

#[test]
fn combinations() {
    let on = sysctl("net.ipv4.ip_forward = 1\n");
    let pass = r#"{ kind = "sysctl", key = "net.ipv4.ip_forward", op = "equals", value = "1" }"#;
    let fail = r#"{ kind = "sysctl", key = "net.ipv4.ip_forward", op = "equals", value = "0" }"#;
    let na = r#"{ kind = "not_applicable", reason = "needs a running system" }"#;
    let err = r#"{ kind = "file", path = "/etc/not-watched" }"#;
    let ev = "/etc/sysctl.d/60-net.conf:1 net.ipv4.ip_forward = 1";
    let all = |a: &str, b: &str| format!(r#"kind = "all", checks = [{a}, {b}]"#);
    let any = |a: &str, b: &str| format!(r#"kind = "any", checks = [{a}, {b}]"#);
    let not = |a: &str| format!(r#"kind = "not", check = {a}"#);
    run(vec![
        case("all pass", on.clone(), &all(pass, pass), Pass, &[ev, ev]),
        case("all fail", on.clone(), &all(pass, fail), Fail, &[ev]),
        case(
            "all: not applicable is neutral",
            on.clone(),
            &all(pass, na),
            Pass,
            &[ev],
        ),
        case(
            "all: fail beats error",
            on.clone(),
            &all(err, fail),
            Fail,
            &[ev],
        ),
        case("any pass", on.clone(), &any(fail, pass), Pass, &[ev]),
        case("any fail", on.clone(), &any(fail, fail), Fail, &[ev, ev]),
        case(
            "any: pass beats error",
            on.clone(),
            &any(err, pass),
            Pass,
            &[ev],
        ),
        case(
            "any: not applicable is neutral",
            on.clone(),
            &any(na, fail),
            Fail,
            &[ev],
        ),
        case("not", on.clone(), &not(fail), Pass, &[ev]),
        case(
            "not not",
            on.clone(),
            &format!("kind = \"not\", check = {{ {} }}", not(pass)),
            Pass,
            &[ev],
        ),
    ]);
    run_reason(
        &on,
        &all(pass, err),
        Error,
        "does not hold /etc/not-watched",
    );
    run_reason(
        &on,
        &any(fail, err),
        Error,
        "does not hold /etc/not-watched",
    );
    run_reason(&on, &not(err), Error, "does not hold /etc/not-watched");
    run_reason(&on, &not(na), NotApplicable, "needs a running system");
    run_reason(&on, &all(na, na), NotApplicable, "needs a running system");
    run_reason(&on, &any(na, na), NotApplicable, "needs a running system");
}

/// A glob whose matches the collection cut short never passes: the entries
/// left out may be the violating ones. A violation among those kept fails.
#[test]
fn cut_match_lists_never_pass() {
    let rule = r#"kind = "file", path = "/var/log/**", max_mode = "0640""#;
    let cut = |mode: &str| {
        let mut t = watched(
            "/var/log/**",
            vec![(entry("/var/log/syslog", "file", mode, 0, 0), None)],
        )
        .telemetry();
        t.files.watched.iter_mut().for_each(|w| w.cut = true);
        t
    };
    let c = common::telemetry::check(rule);
    let o = common::telemetry::eval(&c, &cut("0640"));
    assert_eq!(o.status, Error, "{o:?}");
    assert!(o
        .reason
        .unwrap()
        .contains("more entries than the collection keeps"));
    assert_eq!(common::telemetry::eval(&c, &cut("0644")).status, Fail);
    // The same for the owners summary behind unowned_files_none.
    let f = common::telemetry::check(r#"kind = "function", name = "unowned_files_none""#);
    let mut t = Sys::new().telemetry();
    assert_eq!(common::telemetry::eval(&f, &t).status, Pass);
    t.files.owners_cut = true;
    assert_eq!(common::telemetry::eval(&f, &t).status, Error);
}
