//! Hand-written pass and fail cases for every registered rule function,
//! with realistic configuration text and the exact evidence each gives.

mod common;

use coldscan::collect::files::OwnerCount;
use coldscan::rules::outcome::Status::{Error, Fail, NotApplicable, Pass};
use common::telemetry::{case, default_shadow, entry, run, run_reason, wfile, Sys, HASH};

const LOGIN_DEFS: &str = "# /etc/login.defs\nMAIL_DIR /var/mail\nPASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\nPASS_WARN_AGE 7\nUID_MIN 1000\n";

fn defs(text: &str) -> Sys {
    Sys::new().file("/etc/login.defs", text)
}

fn f(name: &str, params: &str) -> String {
    if params.is_empty() {
        format!(r#"kind = "function", name = "{name}""#)
    } else {
        format!(r#"kind = "function", name = "{name}", params = {{ {params} }}"#)
    }
}

#[test]
fn password_aging() {
    let good = "PASS_MAX_DAYS 365\nPASS_MIN_DAYS 1\nPASS_WARN_AGE 7\n";
    let max = f("password_max_age", "max_days = 365");
    let mut alice_forever = defs(good);
    alice_forever.set_file(
        "/etc/shadow",
        &default_shadow("19700", "1", "365", "7", "30").replace(
            &format!("alice:{HASH}:19700:1:365:7:30::"),
            &format!("alice:{HASH}:19700:0:99999:7:::"),
        ),
    );
    let mut future = Sys::new();
    future.set_file(
        "/etc/shadow",
        &default_shadow("30000", "1", "365", "7", "30"),
    );
    run(vec![
        case(
            "max age: login.defs",
            defs(LOGIN_DEFS),
            &max,
            Fail,
            &["/etc/login.defs:3 PASS_MAX_DAYS 99999"],
        ),
        case(
            "max age: pass",
            defs(good),
            &max,
            Pass,
            &["/etc/login.defs:1 PASS_MAX_DAYS 365"],
        ),
        case(
            "max age: shadow",
            alice_forever.clone(),
            &max,
            Fail,
            &["/etc/shadow:7 alice: maximum password age 99999"],
        ),
        case(
            "max age: unset",
            Sys::new(),
            &max,
            Fail,
            &["/etc/login.defs: PASS_MAX_DAYS is not set"],
        ),
        case(
            "min days: login.defs",
            defs(LOGIN_DEFS),
            &f("password_min_days", "min_days = 1"),
            Fail,
            &["/etc/login.defs:4 PASS_MIN_DAYS 0"],
        ),
        case(
            "min days: shadow",
            alice_forever.clone(),
            &f("password_min_days", "min_days = 1"),
            Fail,
            &["/etc/shadow:7 alice: minimum password age 0"],
        ),
        case(
            "min days: pass",
            defs(good),
            &f("password_min_days", "min_days = 1"),
            Pass,
            &["/etc/login.defs:2 PASS_MIN_DAYS 1"],
        ),
        case(
            "warn age",
            defs(LOGIN_DEFS),
            &f("password_warn_age", "min_days = 7"),
            Pass,
            &["/etc/login.defs:5 PASS_WARN_AGE 7"],
        ),
        case(
            "warn age: fail",
            defs("PASS_WARN_AGE 3\n"),
            &f("password_warn_age", "min_days = 7"),
            Fail,
            &["/etc/login.defs:1 PASS_WARN_AGE 3"],
        ),
        case(
            "inactive: pass",
            Sys::new(),
            &f("password_inactive", "max_days = 30"),
            Pass,
            &["every account with a password is disabled at most 30 days after expiry"],
        ),
        case(
            "inactive: empty",
            alice_forever,
            &f("password_inactive", "max_days = 30"),
            Fail,
            &["/etc/shadow:7 alice: inactivity period empty"],
        ),
        case(
            "inactive: too long",
            Sys::new(),
            &f("password_inactive", "max_days = 20"),
            Fail,
            &[
                "/etc/shadow:1 root: inactivity period 30",
                "/etc/shadow:7 alice: inactivity period 30",
            ],
        ),
        case(
            "last change in the past",
            Sys::new(),
            &f("password_last_change_in_past", ""),
            Pass,
            &["no account's last password change is after the collection date"],
        ),
        case(
            "last change in the future",
            future,
            &f("password_last_change_in_past", ""),
            Fail,
            &[
                "/etc/shadow:1 root: last change on day 30000 after the collection (day 20785)",
                "/etc/shadow:2 daemon: last change on day 30000 after the collection (day 20785)",
                "/etc/shadow:3 bin: last change on day 30000 after the collection (day 20785)",
                "/etc/shadow:4 sys: last change on day 30000 after the collection (day 20785)",
                "/etc/shadow:5 sync: last change on day 30000 after the collection (day 20785)",
                "/etc/shadow:6 nobody: last change on day 30000 after the collection (day 20785)",
                "/etc/shadow:7 alice: last change on day 30000 after the collection (day 20785)",
            ],
        ),
    ]);
}

#[test]
fn password_quality() {
    let stack = "# /etc/pam.d/common-password\npassword requisite pam_pwquality.so retry=3\npassword [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt remember=5\npassword requisite pam_deny.so\n";
    let with = |conf: &str| {
        Sys::new()
            .file("/etc/pam.d/common-password", stack)
            .file("/etc/security/pwquality.conf", conf)
    };
    let len = f("password_min_length", "min = 14");
    let cx = f("password_complexity", "minclass = 4, remember = 12");
    let history = with("minclass = 4\n").file(
        "/etc/pam.d/common-password",
        &stack.replace(
            "password requisite pam_deny.so",
            "password required pam_pwhistory.so remember=24 enforce_for_root use_authtok\npassword requisite pam_deny.so",
        ),
    );
    run(vec![
        case("minlen", with("# cis\nminlen = 14\n"), &len, Pass, &["/etc/security/pwquality.conf:2 minlen=14"]),
        case("minlen short", with("minlen = 8\n"), &len, Fail, &["/etc/security/pwquality.conf:1 minlen=8"]),
        case(
            "minlen default",
            with(""),
            &len,
            Fail,
            &["/etc/pam.d/common-password:2 password requisite pam_pwquality.so retry=3 (minlen not set: default 8)"],
        ),
        case(
            "cracklib argument",
            Sys::new().file("/etc/pam.d/system-auth", "password requisite pam_cracklib.so try_first_pass retry=3 minlen=14\n"),
            &len,
            Pass,
            &["/etc/pam.d/system-auth:1 minlen=14"],
        ),
        case(
            "no password stack",
            Sys::new(),
            &len,
            Fail,
            &["no password stack (common-password, system-auth, password-auth) in /etc/pam.d"],
        ),
        case(
            "complexity: remember too low",
            with("minclass = 4\n"),
            &cx,
            Fail,
            &["/etc/security/pwquality.conf:1 minclass=4", "/etc/pam.d/common-password:3 remember=5"],
        ),
        case(
            "complexity: pass",
            history.clone(),
            &cx,
            Pass,
            &["/etc/security/pwquality.conf:1 minclass=4", "/etc/pam.d/common-password:4 remember=24"],
        ),
        case(
            "complexity: credits",
            history.file("/etc/security/pwquality.conf", "dcredit = -1\nucredit = -1\nlcredit = -1\nocredit = -1\n"),
            &cx,
            Pass,
            &[
                "/etc/security/pwquality.conf:1 dcredit=-1",
                "/etc/security/pwquality.conf:2 ucredit=-1",
                "/etc/security/pwquality.conf:3 lcredit=-1",
                "/etc/security/pwquality.conf:4 ocredit=-1",
                "/etc/pam.d/common-password:4 remember=24",
            ],
        ),
        case(
            "complexity: nothing",
            with("dcredit = -1\n"),
            &cx,
            Fail,
            &[
                "/etc/pam.d/common-password:2 password requisite pam_pwquality.so retry=3 (no minclass, no required credits)",
                "/etc/security/pwquality.conf:1 dcredit=-1",
                "/etc/pam.d/common-password:3 remember=5",
            ],
        ),
    ]);
}

#[test]
fn aslr_and_dep() {
    let grub = |args: &str| {
        format!(
            "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"{args}\"\n"
        )
    };
    let weak = Sys::new()
        .file(
            "/etc/sysctl.d/10-perf.conf",
            "# tuning\nkernel.randomize_va_space = 0\n",
        )
        .file("/etc/default/grub", &grub("norandmaps"));
    let mut arm = Sys::new();
    arm.arch = "aarch64".into();
    let mut i686 = Sys::new();
    i686.arch = "i686".into();
    i686.watch(
        "/boot/config-*",
        vec![wfile(
            entry("/boot/config-6.1.0-13-686", "file", "0644", 0, 0),
            Some("CONFIG_X86_32=y\n# CONFIG_X86_PAE is not set\n"),
        )],
    );
    let mut pae = i686.clone();
    pae.watch(
        "/boot/config-*",
        vec![wfile(
            entry("/boot/config-6.1.0-13-686-pae", "file", "0644", 0, 0),
            Some("CONFIG_X86_32=y\nCONFIG_X86_PAE=y\n"),
        )],
    );
    run(vec![
        case(
            "aslr disabled twice",
            weak,
            &f("aslr", ""),
            Fail,
            &["/etc/sysctl.d/10-perf.conf:2 kernel.randomize_va_space = 0", "/etc/default/grub:3 norandmaps"],
        ),
        case(
            "aslr default",
            Sys::new(),
            &f("aslr", ""),
            Pass,
            &["kernel.randomize_va_space not set in the persisted sysctl configuration: the kernel default 2 applies"],
        ),
        case(
            "aslr set",
            Sys::new().file("/etc/sysctl.d/60-cis.conf", "kernel.randomize_va_space = 2\n"),
            &f("aslr", ""),
            Pass,
            &["/etc/sysctl.d/60-cis.conf:1 kernel.randomize_va_space = 2"],
        ),
        case(
            "dep",
            Sys::new().file("/etc/default/grub", &grub("")),
            &f("dep", ""),
            Pass,
            &["x86_64 kernels use NX whenever the CPU has it", "no noexec=off or noexec32=off on the kernel command line"],
        ),
        case("dep off", Sys::new().file("/etc/default/grub", &grub("noexec=off")), &f("dep", ""), Fail, &["/etc/default/grub:3 noexec=off"]),
        case("dep noexec32", Sys::new().file("/etc/default/grub", &grub("noexec32=off")), &f("dep", ""), Fail, &["/etc/default/grub:3 noexec32=off"]),
        case("dep on i686 without PAE", i686, &f("dep", ""), Fail, &["/boot/config-6.1.0-13-686:2 # CONFIG_X86_PAE is not set"]),
        case(
            "dep on i686 with PAE",
            pae,
            &f("dep", ""),
            Pass,
            &["/boot/config-6.1.0-13-686-pae:2 CONFIG_X86_PAE=y", "no noexec=off or noexec32=off on the kernel command line"],
        ),
    ]);
    run_reason(&arm, &f("dep", ""), NotApplicable, "aarch64");
}

#[test]
fn permissions() {
    let mut weak = Sys::new();
    weak.system_dirs = vec![
        entry("/", "dir", "0755", 0, 0),
        entry("/usr/local/bin", "dir", "0777", 0, 0),
        entry("/etc", "dir", "0755", 0, 0),
        entry("/etc/sudoers.d", "dir", "0775", 0, 0),
        entry("/tmp", "dir", "1777", 0, 0),
    ];
    weak.system_writable_or_non_root = vec![
        entry("/usr/local/bin", "dir", "0777", 0, 0),
        entry("/usr/lib/app", "dir", "0755", 1000, 1000),
        entry("/etc/app.conf", "file", "0666", 0, 0),
    ];
    let mut ww = Sys::new();
    ww.world_writable = vec![
        entry("/tmp", "dir", "1777", 0, 0),
        entry("/srv/drop", "dir", "0777", 0, 0),
        entry("/etc/cron.d/ww", "file", "0666", 0, 0),
    ];
    let mut unowned = Sys::new();
    unowned.owners.push(OwnerCount {
        uid: 4242,
        gid: 1000,
        count: 3,
        examples: vec!["/opt/app/run.sh".into(), "/opt/app".into()],
    });
    let mut homes = Sys::new();
    homes.homes[0].entry = Some(entry("/home/alice", "dir", "0755", 0, 0));
    homes.homes[0].dot_files = vec![
        entry("/home/alice/.bashrc", "file", "0664", 1000, 1000),
        entry("/home/alice/.netrc", "file", "0600", 1000, 1000),
        entry("/home/alice/.profile", "symlink", "0777", 1000, 1000),
    ];
    let mut no_home = Sys::new();
    no_home.homes[0].entry = None;
    run(vec![
        case(
            "system dirs",
            weak,
            &f("system_dirs_root_only", ""),
            Fail,
            &[
                "/usr/local/bin: 0777 root:root (writable by others)",
                "/etc/sudoers.d: 0775 root:root (writable by its group)",
                "/usr/lib/app: 0755 alice:alice (owned by a non-root user)",
            ],
        ),
        case(
            "system dirs pass",
            Sys::new(),
            &f("system_dirs_root_only", ""),
            Pass,
            &["every directory under the system binary, library and configuration paths is writable by root only"],
        ),
        case("world-writable files", ww.clone(), &f("world_writable_files_none", ""), Fail, &["/etc/cron.d/ww: 0666 root:root (world-writable file)"]),
        case("world-writable files pass", Sys::new(), &f("world_writable_files_none", ""), Pass, &["no world-writable regular file"]),
        case(
            "sticky",
            ww,
            &f("world_writable_dirs_sticky", ""),
            Fail,
            &["/srv/drop: 0777 root:root (world-writable directory without the sticky bit)"],
        ),
        case("sticky pass", Sys::new(), &f("world_writable_dirs_sticky", ""), Pass, &["every world-writable directory has the sticky bit"]),
        case(
            "unowned",
            unowned,
            &f("unowned_files_none", ""),
            Fail,
            &["3 entries: uid 4242 has no account, e.g. /opt/app/run.sh, /opt/app"],
        ),
        case("unowned pass", Sys::new(), &f("unowned_files_none", ""), Pass, &["every file's owner and group exist"]),
        case(
            "homes",
            homes.clone(),
            &f("home_directories", r#"max_mode = "0750""#),
            Fail,
            &["/home/alice: 0755 root:root (not owned by alice)", "/home/alice: 0755 root:root (more permissive than 0750)"],
        ),
        case("no home", no_home, &f("home_directories", r#"max_mode = "0750""#), Fail, &["alice: home /home/alice does not exist"]),
        case(
            "homes pass",
            Sys::new(),
            &f("home_directories", r#"max_mode = "0750""#),
            Pass,
            &["every interactive user's home exists, is theirs and is not open to others"],
        ),
        case(
            "dot files",
            homes,
            &f("dot_files", ""),
            Fail,
            &[
                "/home/alice/.bashrc: 0664 alice:alice (dot file writable by group or others)",
                "/home/alice/.netrc: 0600 alice:alice (.netrc in alice's home)",
            ],
        ),
        case("dot files pass", Sys::new(), &f("dot_files", ""), Pass, &["no .rhosts, .netrc, .forward, and no group- or world-writable dot files"]),
    ]);
}

#[test]
fn accounts_integrity() {
    let passwd = |extra: &str| {
        let mut s = Sys::new();
        s.append("/etc/passwd", extra);
        s
    };
    let group = |extra: &str| {
        let mut s = Sys::new();
        s.append("/etc/group", extra);
        s
    };
    let shadow = |from: &str, to: &str| {
        let mut s = Sys::new();
        let text = s.files["/etc/shadow"].replace(from, to);
        s.set_file("/etc/shadow", &text);
        s
    };
    let replace = |file: &str, from: &str, to: &str| {
        let mut s = Sys::new();
        let text = s.files[file].replace(from, to);
        s.set_file(file, &text);
        s
    };
    let alice_hash = format!("alice:{HASH}:");
    run(vec![
        case(
            "shadowed",
            Sys::new(),
            &f("accounts_shadowed", ""),
            Pass,
            &["every account's password is in /etc/shadow"],
        ),
        case(
            "not shadowed",
            replace("/etc/passwd", "alice:x:", "alice:!:"),
            &f("accounts_shadowed", ""),
            Fail,
            &["/etc/passwd:7 alice: password field is not `x`"],
        ),
        case(
            "empty password",
            shadow(&alice_hash, "alice::"),
            &f("accounts_no_empty_password", ""),
            Fail,
            &["/etc/shadow:7 alice: empty password"],
        ),
        case(
            "no empty password",
            Sys::new(),
            &f("accounts_no_empty_password", ""),
            Pass,
            &["no account has an empty password"],
        ),
        case(
            "uid 0",
            passwd("toor:x:0:0::/root:/bin/sh"),
            &f("accounts_uid0_only_root", ""),
            Fail,
            &["/etc/passwd:8 toor: uid 0"],
        ),
        case(
            "uid 0 pass",
            Sys::new(),
            &f("accounts_uid0_only_root", ""),
            Pass,
            &["root is the only account with uid 0"],
        ),
        case(
            "gid 0",
            passwd("backup:x:34:0:backup:/var/backups:/usr/sbin/nologin").file(
                "/etc/group",
                &format!("{}admin:x:0:\n", common::telemetry::GROUP),
            ),
            &f("accounts_gid0_only_root", ""),
            Fail,
            &[
                "/etc/passwd:8 backup: primary gid 0",
                "/etc/group:18 group admin has gid 0",
            ],
        ),
        case(
            "gid 0 pass",
            Sys::new(),
            &f("accounts_gid0_only_root", ""),
            Pass,
            &["only root has gid 0"],
        ),
        case(
            "root gid",
            replace("/etc/passwd", "root:x:0:0:", "root:x:0:10:"),
            &f("accounts_root_gid0", ""),
            Fail,
            &["/etc/passwd:1 root: primary gid Some(10)"],
        ),
        case(
            "root gid pass",
            Sys::new(),
            &f("accounts_root_gid0", ""),
            Pass,
            &["/etc/passwd:1 root: primary gid 0"],
        ),
        case(
            "duplicate uid",
            passwd("bob:x:1000:1000:Bob:/home/bob:/bin/bash"),
            &f("accounts_unique_uids", ""),
            Fail,
            &[
                "/etc/passwd:7 uid 1000 shared by alice, bob",
                "/etc/passwd:8 uid 1000 shared by alice, bob",
            ],
        ),
        case(
            "duplicate name",
            passwd("alice:x:1001:1001::/home/alice2:/bin/bash"),
            &f("accounts_unique_names", ""),
            Fail,
            &[
                "/etc/passwd:7 user name alice shared by alice, alice",
                "/etc/passwd:8 user name alice shared by alice, alice",
            ],
        ),
        case(
            "duplicate gid",
            group("staff:x:1000:"),
            &f("groups_unique_gids", ""),
            Fail,
            &[
                "/etc/group:17 gid 1000 shared by alice, staff",
                "/etc/group:18 gid 1000 shared by alice, staff",
            ],
        ),
        case(
            "duplicate group",
            group("sudo:x:1002:"),
            &f("groups_unique_names", ""),
            Fail,
            &[
                "/etc/group:11 group name sudo shared by sudo, sudo",
                "/etc/group:18 group name sudo shared by sudo, sudo",
            ],
        ),
        case(
            "unique",
            Sys::new(),
            &f("groups_unique_names", ""),
            Pass,
            &["every group name is unique"],
        ),
        case(
            "missing group",
            passwd("carol:x:1002:2000::/home/carol:/bin/bash"),
            &f("accounts_groups_exist", ""),
            Fail,
            &["/etc/passwd:8 carol: primary gid 2000 is not in /etc/group"],
        ),
        case(
            "shadow group members",
            replace("/etc/group", "shadow:x:42:", "shadow:x:42:alice"),
            &f("groups_shadow_empty", ""),
            Fail,
            &["/etc/group:9 shadow group members: alice"],
        ),
        case(
            "shadow group empty",
            Sys::new(),
            &f("groups_shadow_empty", ""),
            Pass,
            &["the shadow group has no members"],
        ),
        case(
            "system login shell",
            replace(
                "/etc/passwd",
                "daemon:/usr/sbin:/usr/sbin/nologin",
                "daemon:/usr/sbin:/bin/bash",
            ),
            &f("accounts_system_nologin", ""),
            Fail,
            &["/etc/passwd:2 daemon (uid 1): shell /bin/bash"],
        ),
        case(
            "system nologin",
            Sys::new(),
            &f("accounts_system_nologin", ""),
            Pass,
            &["system accounts have no login shell"],
        ),
        case(
            "system password",
            shadow("daemon:*:", &format!("daemon:{HASH}:")),
            &f("accounts_system_locked", ""),
            Fail,
            &["/etc/shadow:2 daemon: password usable"],
        ),
        case(
            "system locked",
            Sys::new(),
            &f("accounts_system_locked", ""),
            Pass,
            &["system accounts are locked"],
        ),
        case(
            "root empty",
            shadow(&format!("root:{HASH}:"), "root::"),
            &f("root_password_set_or_locked", ""),
            Fail,
            &["/etc/shadow:1 root: empty password"],
        ),
        case(
            "root locked",
            shadow(&format!("root:{HASH}:"), &format!("root:!{HASH}:")),
            &f("root_password_set_or_locked", ""),
            Pass,
            &["/etc/shadow:1 root: password locked"],
        ),
        case(
            "root without password",
            shadow(&format!("root:{HASH}:"), "root:!*:"),
            &f("root_password_set_or_locked", ""),
            Pass,
            &["/etc/shadow:1 root: no password (locked)"],
        ),
        case(
            "root set",
            Sys::new(),
            &f("root_password_set_or_locked", ""),
            Pass,
            &["/etc/shadow:1 root: password set"],
        ),
    ]);
}

#[test]
fn sudo_and_su() {
    let sudoers = |extra: &str| {
        let mut s = Sys::new();
        s.append("/etc/sudoers", extra);
        s
    };
    let mut none = Sys::new();
    none.files.remove("/etc/sudoers");
    let su = |text: &str| Sys::new().file("/etc/pam.d/su", text);
    let wheel = "auth       sufficient pam_rootok.so\nauth       required   pam_wheel.so use_uid group=sugroup\n";
    run(vec![
        case("use_pty", sudoers("Defaults use_pty"), &f("sudo_defaults", r#"option = "use_pty""#), Pass, &["/etc/sudoers:4 Defaults use_pty"]),
        case("use_pty negated later", sudoers("Defaults use_pty\nDefaults !use_pty"), &f("sudo_defaults", r#"option = "use_pty""#), Fail, &["/etc/sudoers:5 Defaults !use_pty"]),
        case("use_pty missing", Sys::new(), &f("sudo_defaults", r#"option = "use_pty""#), Fail, &["no `Defaults use_pty` in sudoers"]),
        case(
            "logfile",
            sudoers("Defaults logfile=\"/var/log/sudo.log\""),
            &f("sudo_defaults", r#"option = "logfile", value = "/var/log/sudo.log""#),
            Pass,
            &["/etc/sudoers:4 Defaults logfile=/var/log/sudo.log"],
        ),
        case("nopasswd", sudoers("alice ALL=(ALL) NOPASSWD: ALL"), &f("sudo_no_nopasswd", ""), Fail, &["/etc/sudoers:4 alice: NOPASSWD"]),
        case("passwd", Sys::new(), &f("sudo_no_nopasswd", ""), Pass, &["no sudoers rule carries NOPASSWD"]),
        case("!authenticate", sudoers("Defaults !authenticate"), &f("sudo_authenticate", ""), Fail, &["/etc/sudoers:4 Defaults !authenticate"]),
        case("timeout default", Sys::new(), &f("sudo_timestamp_timeout", "max = 15"), Pass, &["timestamp_timeout not set: sudo's default 15 minutes"]),
        case("timeout long", sudoers("Defaults timestamp_timeout=60"), &f("sudo_timestamp_timeout", "max = 15"), Fail, &["/etc/sudoers:4 Defaults timestamp_timeout=60"]),
        case("timeout never", sudoers("Defaults timestamp_timeout=-1"), &f("sudo_timestamp_timeout", "max = 15"), Fail, &["/etc/sudoers:4 Defaults timestamp_timeout=-1"]),
        case(
            "su restricted",
            su(wheel).file("/etc/group", &format!("{}sugroup:x:1001:\n", common::telemetry::GROUP)),
            &f("pam_su_restricted", ""),
            Pass,
            &["/etc/pam.d/su:2 auth       required   pam_wheel.so use_uid group=sugroup"],
        ),
        case(
            "su group has members",
            su(wheel).file("/etc/group", &format!("{}sugroup:x:1001:alice\n", common::telemetry::GROUP)),
            &f("pam_su_restricted", ""),
            Fail,
            &["/etc/pam.d/su:2 auth       required   pam_wheel.so use_uid group=sugroup", "/etc/group:18 sugroup members: alice"],
        ),
        case(
            "su without group",
            su("auth required pam_wheel.so use_uid\n"),
            &f("pam_su_restricted", ""),
            Fail,
            &["/etc/pam.d/su:1 auth required pam_wheel.so use_uid"],
        ),
        case("su commented out", su("auth sufficient pam_rootok.so\n# auth required pam_wheel.so use_uid group=sugroup\n"), &f("pam_su_restricted", ""), Fail, &["/etc/pam.d/su: no auth pam_wheel.so rule"]),
        case("no su", Sys::new(), &f("pam_su_restricted", ""), Fail, &["no /etc/pam.d/su"]),
    ]);
    for name in ["sudo_no_nopasswd", "sudo_authenticate"] {
        run_reason(&none, &f(name, ""), NotApplicable, "no /etc/sudoers");
    }
}

#[test]
fn sshd_protocol() {
    let mut new = Sys::new();
    new.openssh = Some("1:9.2p1-2+deb12u3".into());
    let mut old = Sys::new().file("/etc/ssh/sshd_config", "Protocol 2,1\n");
    old.openssh = Some("7.3p1-1".into());
    let mut old2 = Sys::new().file("/etc/ssh/sshd_config", "Protocol 2\n");
    old2.openssh = Some("7.3p1-1".into());
    run(vec![
        case(
            "new",
            new,
            &f("sshd_protocol_2_only", ""),
            Pass,
            &["OpenSSH 1:9.2p1-2+deb12u3: protocol 1 support was removed in 7.4"],
        ),
        case(
            "old with 1",
            old,
            &f("sshd_protocol_2_only", ""),
            Fail,
            &["/etc/ssh/sshd_config:1 Protocol 2,1"],
        ),
        case(
            "old with 2",
            old2,
            &f("sshd_protocol_2_only", ""),
            Pass,
            &["/etc/ssh/sshd_config:1 Protocol 2"],
        ),
    ]);
    run_reason(
        &Sys::new(),
        &f("sshd_protocol_2_only", ""),
        NotApplicable,
        "no OpenSSH server",
    );
}

#[test]
fn root_shells_and_privileged_programs() {
    let shells = |passwd_from: &str, passwd_to: &str| {
        let mut s = Sys::new();
        let text = s.files["/etc/passwd"].replace(passwd_from, passwd_to);
        s.set_file("/etc/passwd", &text);
        s.watch(
            "/etc/shells",
            vec![wfile(
                entry("/etc/shells", "file", "0644", 0, 0),
                Some("# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n"),
            )],
        );
        s
    };
    let mut locked = Sys::new();
    let text = locked.files["/etc/shadow"].replace(&format!("root:{HASH}:"), "root:!*:");
    locked.set_file("/etc/shadow", &text);
    let audit = |rules: &str| {
        let mut s = Sys::new();
        s.suid_sgid = vec![
            entry("/usr/bin/passwd", "file", "4755", 0, 0),
            entry("/usr/bin/chage", "file", "2755", 0, 42),
        ];
        s.watch(
            "/etc/audit/rules.d/*.rules",
            vec![wfile(
                entry(
                    "/etc/audit/rules.d/50-privileged.rules",
                    "file",
                    "0640",
                    0,
                    0,
                ),
                Some(rules),
            )],
        );
        s
    };
    let passwd_rule = "-a always,exit -F path=/usr/bin/passwd -F perm=x -F auid>=1000 -F auid!=unset -k privileged\n";
    run(vec![
        case("root password set", Sys::new(), &f("root_password_set", ""), Pass, &["/etc/shadow:1 root: password set"]),
        case("root locked", locked, &f("root_password_set", ""), Fail, &["/etc/shadow:1 root: no password (locked)"]),
        case(
            "accounts without shell locked",
            shells("", ""),
            &f("accounts_without_shell_locked", ""),
            Pass,
            &["accounts without a valid shell are locked"],
        ),
        case(
            "shell outside /etc/shells",
            shells("/home/alice:/bin/bash", "/home/alice:/usr/bin/zsh"),
            &f("accounts_without_shell_locked", ""),
            Fail,
            &["/etc/shadow:7 alice: shell not in /etc/shells, password usable"],
        ),
        case(
            "privileged programs audited",
            audit(&format!("{passwd_rule}-a always,exit -F path=/usr/bin/chage -F perm=x -F auid>=1000 -F auid!=unset -k privileged\n")),
            &f("audit_privileged_commands", ""),
            Pass,
            &["all 2 SUID/SGID programs have an execution audit rule"],
        ),
        case(
            "privileged program not audited",
            audit(&format!("{passwd_rule}# -a always,exit -F path=/usr/bin/chage -F perm=x -k privileged\n")),
            &f("audit_privileged_commands", ""),
            Fail,
            &["/usr/bin/chage: SUID/SGID program without an audit rule (-F path=… -F perm=x)"],
        ),
    ]);
    run_reason(
        &Sys::new(),
        &f("accounts_without_shell_locked", ""),
        Error,
        "/etc/shells",
    );
    run_reason(
        &Sys::new(),
        &f("audit_privileged_commands", ""),
        Error,
        "/etc/audit/rules.d/*.rules",
    );
}

/// Every registered function has cases in this file.
#[test]
fn every_function_is_tested() {
    let text = include_str!("rules_functions.rs");
    let missing: Vec<&str> = coldscan::rules::functions::names()
        .filter(|n| !text.contains(&format!("\"{n}\"")))
        .collect();
    assert!(missing.is_empty(), "functions without cases: {missing:?}");
}
