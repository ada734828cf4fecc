//! Every embedded rule has a machine where it passes and one where it fails
//! (issue 4, item 6). The two machines are generated from the rule's check:
//! each check kind knows how to build a setting that satisfies or violates
//! it, `all`/`any`/`not` combine those, and registered functions have a
//! hand-written pair of builders each. The machines are rendered as
//! configuration text and parsed by the real parsers, then the rule's check
//! is evaluated; every rule whose outcome is not the expected one (or that
//! has no witness at all) is listed at the end.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use coldscan::collect::Telemetry;
use coldscan::rules::check::{Check, ContentExpectation, Missing, Op, PackageState, ServiceState};
use coldscan::rules::eval::value::{judge, Found};
use coldscan::rules::outcome::{Outcome, Status};
use coldscan::rules::pack::RuleSet;
use coldscan::rules::rule::Rule;
use common::telemetry::{self, entry, wfile, Sys};

/// Rules that have no pass or no fail witness, with the reason. Each must
/// say why the rule is right nonetheless.
const ALLOW_NO_WITNESS: &[(&str, &str)] = &[];

/// Most alternative conjunctions tried per rule and polarity.
const MAX_ALTS: usize = 32;

type Params = BTreeMap<String, toml::Value>;

/// A leaf requirement: this check must pass (`true`) or fail.
type Leaf = (Check, bool);

/// Alternatives (each a conjunction of leaf requirements) that make `c`
/// evaluate to pass (`want`) or fail.
fn alternatives(c: &Check, want: bool) -> Vec<Vec<Leaf>> {
    match c {
        Check::All { checks } if want => product(checks.iter().map(|c| alternatives(c, true))),
        Check::All { checks } => {
            // Every other child passes, one fails (the first one if it can).
            let mut out = Vec::new();
            for i in 0..checks.len() {
                out.extend(product(
                    checks
                        .iter()
                        .enumerate()
                        .map(|(j, c)| alternatives(c, j != i)),
                ));
            }
            // When the children overlap (one line satisfies several), one
            // cannot fail alone: then every child fails.
            out.truncate(MAX_ALTS - 1);
            out.extend(
                product(checks.iter().map(|c| alternatives(c, false)))
                    .into_iter()
                    .take(1),
            );
            out
        }
        Check::Any { checks } if want => {
            let mut out: Vec<Vec<Leaf>> =
                checks.iter().flat_map(|c| alternatives(c, true)).collect();
            out.truncate(MAX_ALTS);
            out
        }
        Check::Any { checks } => product(checks.iter().map(|c| alternatives(c, false))),
        Check::Not { check } => alternatives(check, !want),
        Check::NotApplicable { .. } => vec![Vec::new()],
        leaf => vec![vec![(leaf.clone(), want)]],
    }
}

fn product(parts: impl Iterator<Item = Vec<Vec<Leaf>>>) -> Vec<Vec<Leaf>> {
    let mut acc: Vec<Vec<Leaf>> = vec![Vec::new()];
    for alts in parts {
        let mut next = Vec::new();
        for a in &acc {
            for b in &alts {
                if next.len() >= MAX_ALTS {
                    break;
                }
                let mut v = a.clone();
                v.extend(b.iter().cloned());
                next.push(v);
            }
        }
        acc = next;
    }
    acc
}

/// Every glob and kernel module a check names: the collection watches them
/// all (as `rules::watch` does), so none is "not collected".
fn watched_names(c: &Check, globs: &mut BTreeSet<String>, modules: &mut BTreeSet<String>) {
    match c {
        Check::All { checks } | Check::Any { checks } => {
            for c in checks {
                watched_names(c, globs, modules);
            }
        }
        Check::Not { check } => watched_names(check, globs, modules),
        Check::File { path, .. } | Check::FileContent { path, .. } => {
            globs.insert(path.clone());
        }
        Check::KernelModuleDisabled { module } => {
            modules.insert(module.clone());
        }
        Check::Function { name, .. } => {
            for (f, glob, _) in coldscan::rules::functions::WATCHED {
                if f == name {
                    globs.insert(glob.to_string());
                }
            }
        }
        _ => {}
    }
}

/// Shadow aging fields written for every account.
#[derive(Clone)]
struct Aging {
    last: String,
    min: String,
    max: String,
    warn: String,
    inactive: String,
}

type Mod = Box<dyn Fn(&mut Sys)>;

/// The requirements of one alternative, gathered per resource.
struct World {
    /// (kind, key) → value tests and whether each must pass.
    values: BTreeMap<(&'static str, String), Vec<(coldscan::rules::check::ValueTest, bool)>>,
    pam: Vec<(Check, bool)>,
    files: BTreeMap<String, Vec<(Check, bool)>>,
    packages: Vec<(Vec<String>, PackageState, bool)>,
    services: Vec<(Vec<String>, ServiceState, bool)>,
    mounts: Vec<(String, bool, Vec<String>, bool)>,
    modules: Vec<(String, bool)>,
    sshd: bool,
    aging: Aging,
    mods: Vec<Mod>,
    /// Why no machine can be built (a function without builders).
    impossible: Option<String>,
}

impl World {
    fn new() -> World {
        World {
            values: BTreeMap::new(),
            pam: Vec::new(),
            files: BTreeMap::new(),
            packages: Vec::new(),
            services: Vec::new(),
            mounts: Vec::new(),
            modules: Vec::new(),
            sshd: false,
            aging: Aging {
                last: "19700".into(),
                min: "1".into(),
                max: "365".into(),
                warn: "7".into(),
                inactive: "30".into(),
            },
            mods: Vec::new(),
            impossible: None,
        }
    }

    fn add(&mut self, c: &Check, want: bool) {
        match c {
            Check::Sshd { key, test } => {
                self.sshd = true;
                self.value("sshd", key, test, want);
            }
            Check::LoginDefs { key, test } => self.value("login_defs", key, test, want),
            Check::Pwquality { key, test } => self.value("pwquality", key, test, want),
            Check::Sysctl { key, test } => self.value("sysctl", key, test, want),
            Check::KernelCmdline { arg, test } => self.value("kernel_cmdline", arg, test, want),
            Check::Pam { .. } => self.pam.push((c.clone(), want)),
            Check::File { path, .. } | Check::FileContent { path, .. } => self
                .files
                .entry(path.clone())
                .or_default()
                .push((c.clone(), want)),
            Check::Package { names, state } => self.packages.push((names.clone(), *state, want)),
            Check::Service { units, state } => self.services.push((units.clone(), *state, want)),
            Check::Mount {
                mount_point,
                separate,
                options,
            } => self
                .mounts
                .push((mount_point.clone(), *separate, options.clone(), want)),
            Check::KernelModuleDisabled { module } => self.modules.push((module.clone(), want)),
            Check::Function { name, params } => function_witness(self, name, params, want),
            Check::NotApplicable { .. } => {}
            Check::All { .. } | Check::Any { .. } | Check::Not { .. } => {
                unreachable!("combinations are expanded before")
            }
        }
    }

    fn value(
        &mut self,
        kind: &'static str,
        key: &str,
        test: &coldscan::rules::check::ValueTest,
        want: bool,
    ) {
        self.values
            .entry((kind, key.to_string()))
            .or_default()
            .push((test.clone(), want));
    }

    /// A requirement written as a check (`kind = …` TOML).
    fn leaf(&mut self, toml_text: &str, want: bool) {
        let c = telemetry::check(toml_text);
        self.add(&c, want);
    }
}

fn int(params: &Params, key: &str) -> i64 {
    match params.get(key) {
        Some(toml::Value::Integer(i)) => *i,
        Some(toml::Value::String(s)) => s.parse().expect("numeric param"),
        other => panic!("params.{key}: {other:?}"),
    }
}

fn text(params: &Params, key: &str) -> Option<String> {
    params.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

fn replace_line(sys: &mut Sys, path: &str, starts: &str, new: &str) {
    let text = sys.files.get(path).cloned().unwrap_or_default();
    let mut out = String::new();
    let mut done = false;
    for l in text.lines() {
        if !done && l.starts_with(starts) {
            out.push_str(new);
            done = true;
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    if !done {
        out.push_str(new);
        out.push('\n');
    }
    sys.set_file(path, &out);
}

/// The pass and fail builders of each registered function.
fn function_witness(w: &mut World, name: &str, params: &Params, pass: bool) {
    let m = |w: &mut World, f: Mod| w.mods.push(f);
    match name {
        "sshd_protocol_2_only" => {
            // Before 7.4 the server still spoke protocol 1 when asked to.
            w.sshd = true;
            let v = if pass {
                "1:9.2p1-2+deb12u3"
            } else {
                "1:7.3p1-1"
            };
            m(
                w,
                Box::new(move |s| {
                    s.openssh = Some(v.into());
                    if !pass {
                        s.append("/etc/ssh/sshd_config", "Protocol 2,1");
                    }
                }),
            );
        }
        "password_max_age" => {
            let max = int(params, "max_days");
            if pass {
                w.leaf(
                    &format!(
                        r#"kind = "login_defs", key = "PASS_MAX_DAYS", op = "le", value = "{max}""#
                    ),
                    true,
                );
                w.leaf(
                    r#"kind = "login_defs", key = "PASS_MAX_DAYS", op = "ge", value = "1""#,
                    true,
                );
                w.aging.max = max.to_string();
            } else {
                w.leaf(
                    &format!(
                        r#"kind = "login_defs", key = "PASS_MAX_DAYS", op = "gt", value = "{max}""#
                    ),
                    true,
                );
                w.aging.max = "99999".into();
            }
        }
        "password_min_days" => {
            let min = int(params, "min_days");
            let op = if pass { "ge" } else { "lt" };
            w.leaf(
                &format!(
                    r#"kind = "login_defs", key = "PASS_MIN_DAYS", op = "{op}", value = "{min}""#
                ),
                true,
            );
            w.aging.min = if pass {
                min.to_string()
            } else {
                (min - 1).to_string()
            };
        }
        "password_warn_age" => {
            let min = int(params, "min_days");
            let op = if pass { "ge" } else { "lt" };
            w.leaf(
                &format!(
                    r#"kind = "login_defs", key = "PASS_WARN_AGE", op = "{op}", value = "{min}""#
                ),
                true,
            );
            w.aging.warn = if pass {
                min.to_string()
            } else {
                (min - 1).to_string()
            };
        }
        "password_inactive" => {
            let max = int(params, "max_days");
            w.aging.inactive = if pass { max.to_string() } else { String::new() };
        }
        "password_last_change_in_past" => {
            if !pass {
                w.aging.last = "30000".into();
            }
        }
        "password_min_length" => {
            let min = int(params, "min");
            w.leaf(r#"kind = "pam", stacks = ["common-password"], type = "password", modules = ["pam_pwquality.so"], op = "present""#, true);
            let op = if pass { "ge" } else { "lt" };
            w.leaf(
                &format!(r#"kind = "pwquality", key = "minlen", op = "{op}", value = "{min}""#),
                true,
            );
        }
        "password_complexity" => {
            let minclass = int(params, "minclass");
            let remember = int(params, "remember");
            w.leaf(r#"kind = "pam", stacks = ["common-password"], type = "password", modules = ["pam_pwquality.so"], op = "present""#, true);
            let op = if pass { "ge" } else { "lt" };
            w.leaf(
                &format!(
                    r#"kind = "pwquality", key = "minclass", op = "{op}", value = "{minclass}""#
                ),
                true,
            );
            w.leaf(&format!(r#"kind = "pam", stacks = ["common-password"], type = "password", modules = ["pam_pwhistory.so"], option = "remember", op = "ge", value = "{remember}""#), true);
        }
        "aslr" => {
            let v = if pass { "2" } else { "0" };
            w.leaf(&format!(r#"kind = "sysctl", key = "kernel.randomize_va_space", op = "equals", value = "{v}""#), true);
        }
        "dep" => {
            if !pass {
                w.leaf(
                    r#"kind = "kernel_cmdline", arg = "noexec", op = "equals", value = "off""#,
                    true,
                );
            }
        }
        "system_dirs_root_only" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.system_dirs.retain(|e| e.path != "/usr/local/bin");
                        s.system_dirs
                            .push(entry("/usr/local/bin", "dir", "0777", 0, 0));
                    }),
                );
            }
        }
        "world_writable_files_none" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.world_writable
                            .push(entry("/etc/cron.d/ww", "file", "0666", 0, 0))
                    }),
                );
            }
        }
        "world_writable_dirs_sticky" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.world_writable
                            .push(entry("/srv/drop", "dir", "0777", 0, 0))
                    }),
                );
            }
        }
        "unowned_files_none" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.owners.push(coldscan::collect::files::OwnerCount {
                            uid: 4242,
                            gid: 4242,
                            count: 3,
                            examples: vec!["/opt/app/run.sh".into()],
                        })
                    }),
                );
            }
        }
        "home_directories" => {
            let max = u32::from_str_radix(&text(params, "max_mode").expect("max_mode"), 8)
                .expect("octal");
            let mode = if pass { 0o700 & max } else { 0o777 };
            m(
                w,
                Box::new(move |s| {
                    s.homes[0].entry = Some(entry(
                        "/home/alice",
                        "dir",
                        &format!("{mode:04o}"),
                        1000,
                        1000,
                    ));
                }),
            );
        }
        "dot_files" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.homes[0].dot_files.push(entry(
                            "/home/alice/.rhosts",
                            "file",
                            "0600",
                            1000,
                            1000,
                        ))
                    }),
                );
            }
        }
        "accounts_shadowed" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        let line = format!(
                            "alice:{}:1000:1000:Alice:/home/alice:/bin/bash",
                            telemetry::HASH
                        );
                        replace_line(s, "/etc/passwd", "alice:", &line)
                    }),
                );
            }
        }
        "accounts_no_empty_password" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        replace_line(s, "/etc/shadow", "alice:", "alice::19700:1:365:7:30::")
                    }),
                );
            }
        }
        "accounts_uid0_only_root" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| s.append("/etc/passwd", "toor:x:0:0::/root:/bin/sh")),
                );
            }
        }
        "accounts_gid0_only_root" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.append(
                            "/etc/passwd",
                            "backup:x:34:0:backup:/var/backups:/usr/sbin/nologin",
                        )
                    }),
                );
            }
        }
        "accounts_root_gid0" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        replace_line(
                            s,
                            "/etc/passwd",
                            "root:",
                            "root:x:0:10:root:/root:/bin/bash",
                        )
                    }),
                );
            }
        }
        "accounts_unique_uids" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.append("/etc/passwd", "bob:x:1000:1000:Bob:/home/bob:/bin/bash")
                    }),
                );
            }
        }
        "accounts_unique_names" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.append(
                            "/etc/passwd",
                            "alice:x:1001:1000:Alice 2:/home/alice2:/bin/bash",
                        )
                    }),
                );
            }
        }
        "groups_unique_gids" => {
            if !pass {
                m(w, Box::new(|s| s.append("/etc/group", "staff:x:1000:")));
            }
        }
        "groups_unique_names" => {
            if !pass {
                m(w, Box::new(|s| s.append("/etc/group", "alice:x:1002:")));
            }
        }
        "accounts_groups_exist" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        s.append(
                            "/etc/passwd",
                            "carol:x:1002:2000:Carol:/home/carol:/usr/sbin/nologin",
                        )
                    }),
                );
            }
        }
        "groups_shadow_empty" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| replace_line(s, "/etc/group", "shadow:", "shadow:x:42:alice")),
                );
            }
        }
        "accounts_system_nologin" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        replace_line(
                            s,
                            "/etc/passwd",
                            "daemon:",
                            "daemon:x:1:1:daemon:/usr/sbin:/bin/bash",
                        )
                    }),
                );
            }
        }
        "accounts_system_locked" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        let line = format!("daemon:{}:19700:1:365:7:30::", telemetry::HASH);
                        replace_line(s, "/etc/shadow", "daemon:", &line)
                    }),
                );
            }
        }
        "root_password_set_or_locked" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        replace_line(s, "/etc/shadow", "root:", "root::19700:1:365:7:30::")
                    }),
                );
            }
        }
        "root_password_set" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| {
                        replace_line(s, "/etc/shadow", "root:", "root:!*:19700:0:99999:7:::")
                    }),
                );
            }
        }
        "accounts_without_shell_locked" => {
            m(
                w,
                Box::new(move |s| {
                    s.watch(
                    "/etc/shells",
                    vec![wfile(
                        entry("/etc/shells", "file", "0644", 0, 0),
                        Some("# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n"),
                    )],
                );
                    if !pass {
                        replace_line(
                            s,
                            "/etc/passwd",
                            "alice:",
                            "alice:x:1000:1000:Alice:/home/alice:/usr/bin/zsh",
                        );
                    }
                }),
            );
        }
        "audit_privileged_commands" => {
            m(
                w,
                Box::new(move |s| {
                    s.suid_sgid
                        .push(entry("/usr/bin/passwd", "file", "4755", 0, 0));
                    let rule = "-a always,exit -F path=/usr/bin/passwd -F perm=x -F auid>=1000 -F auid!=unset -k privileged";
                    let glob = "/etc/audit/rules.d/*.rules";
                    if !pass {
                        return;
                    }
                    match s.watched.iter_mut().find(|w| w.pattern == glob) {
                        Some(w) if !w.matches.is_empty() => {
                            let t = w.matches[0].text.get_or_insert_with(String::new);
                            t.push_str(rule);
                            t.push('\n');
                        }
                        _ => s.watch(
                            glob,
                            vec![wfile(
                                entry(
                                    "/etc/audit/rules.d/50-privileged.rules",
                                    "file",
                                    "0640",
                                    0,
                                    0,
                                ),
                                Some(&format!("{rule}\n")),
                            )],
                        ),
                    }
                }),
            );
        }
        "sudo_defaults" => {
            let option = text(params, "option").expect("option");
            let value = text(params, "value")
                .or_else(|| (option == "logfile").then(|| "/var/log/sudo.log".to_string()));
            if pass {
                let line = match value {
                    Some(v) => format!("Defaults {option}=\"{v}\""),
                    None => format!("Defaults {option}"),
                };
                m(w, Box::new(move |s| s.append("/etc/sudoers", &line)));
            }
        }
        "sudo_no_nopasswd" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| s.append("/etc/sudoers", "alice ALL=(ALL) NOPASSWD: ALL")),
                );
            }
        }
        "sudo_authenticate" => {
            if !pass {
                m(
                    w,
                    Box::new(|s| s.append("/etc/sudoers", "Defaults !authenticate")),
                );
            }
        }
        "sudo_timestamp_timeout" => {
            let max = int(params, "max");
            let v = if pass { max } else { max + 5 };
            m(
                w,
                Box::new(move |s| {
                    s.append("/etc/sudoers", &format!("Defaults timestamp_timeout={v}"))
                }),
            );
        }
        "pam_su_restricted" => {
            m(
                w,
                Box::new(move |s| {
                    s.append("/etc/pam.d/su", "auth sufficient pam_rootok.so");
                    if pass {
                        s.append(
                            "/etc/pam.d/su",
                            "auth required pam_wheel.so use_uid group=sugroup",
                        );
                        s.append("/etc/group", "sugroup:x:1001:");
                    }
                }),
            );
        }
        other => w.impossible = Some(format!("no witness builder for function {other:?}")),
    }
}

/// Names of registered functions this test has builders for.
const BUILDERS: &[&str] = &[
    "sshd_protocol_2_only",
    "password_max_age",
    "password_min_days",
    "password_warn_age",
    "password_inactive",
    "password_last_change_in_past",
    "password_min_length",
    "password_complexity",
    "aslr",
    "dep",
    "system_dirs_root_only",
    "world_writable_files_none",
    "world_writable_dirs_sticky",
    "unowned_files_none",
    "home_directories",
    "dot_files",
    "accounts_shadowed",
    "accounts_no_empty_password",
    "accounts_uid0_only_root",
    "accounts_gid0_only_root",
    "accounts_root_gid0",
    "accounts_unique_uids",
    "accounts_unique_names",
    "groups_unique_gids",
    "groups_unique_names",
    "accounts_groups_exist",
    "groups_shadow_empty",
    "accounts_system_nologin",
    "accounts_system_locked",
    "root_password_set_or_locked",
    "root_password_set",
    "accounts_without_shell_locked",
    "audit_privileged_commands",
    "sudo_defaults",
    "sudo_no_nopasswd",
    "sudo_authenticate",
    "sudo_timestamp_timeout",
    "pam_su_restricted",
];

// ------------------------------------------------------------ values

/// Values worth trying for a set of tests on one key; `None` is "unset".
fn candidates(tests: &[(coldscan::rules::check::ValueTest, bool)]) -> Vec<Option<String>> {
    let mut c: Vec<String> = Vec::new();
    for (t, _) in tests {
        if let Some(v) = &t.value {
            c.push(v.clone());
            if let Ok(n) = v.trim().parse::<i64>() {
                for d in [1, -1, 10, -10, 100] {
                    c.push((n + d).to_string());
                }
            }
        }
        if let Some(vs) = &t.values {
            c.extend(vs.iter().cloned());
            c.push(vs.join(","));
        }
        if let Some(e) = &t.example {
            c.push(e.clone());
        }
        if let Some(d) = &t.default {
            c.push(d.clone());
        }
    }
    for v in [
        "yes",
        "no",
        "0",
        "1",
        "2",
        "none",
        "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",
        "hmac-sha2-512-etm@openssh.com",
        "3des-cbc,hmac-md5,diffie-hellman-group1-sha1",
        "zz-not-matching",
    ] {
        c.push(v.to_string());
    }
    let mut seen = BTreeSet::new();
    let mut out: Vec<Option<String>> = c
        .into_iter()
        .filter(|v| seen.insert(v.clone()))
        .map(Some)
        .collect();
    out.push(None);
    out
}

fn value_ok(tests: &[(coldscan::rules::check::ValueTest, bool)], v: Option<&str>) -> bool {
    tests.iter().all(|(t, want)| {
        let found = v.map(|v| Found::new(v, "/etc/x", 1));
        let status = judge("key", t, found.as_ref()).status;
        status == if *want { Status::Pass } else { Status::Fail }
    })
}

fn solve(tests: &[(coldscan::rules::check::ValueTest, bool)]) -> Result<Option<String>, String> {
    candidates(tests)
        .into_iter()
        .find(|v| value_ok(tests, v.as_deref()))
        .ok_or_else(|| {
            format!(
                "no value satisfies {}",
                tests
                    .iter()
                    .map(|(t, w)| format!(
                        "{}{:?} {:?}{:?}",
                        if *w { "" } else { "!" },
                        t.op,
                        t.value,
                        t.values
                    ))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        })
}

// ------------------------------------------------------------- files

/// A path that `glob` matches.
fn concrete(glob: &str) -> String {
    let mut out = String::new();
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                out.push('x');
            }
            '?' => out.push('x'),
            '[' => {
                let first = chars.next().unwrap_or('x');
                out.push(first);
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                }
            }
            '{' => {
                let mut first = String::new();
                let mut in_first = true;
                for c in chars.by_ref() {
                    match c {
                        '}' => break,
                        ',' => in_first = false,
                        c if in_first => first.push(c),
                        _ => {}
                    }
                }
                out.push_str(&first);
            }
            '\\' => {
                if let Some(c) = chars.next() {
                    out.push(c);
                }
            }
            c => out.push(c),
        }
    }
    out.replace("x/x", "x")
}

/// The id of a user or group name in the machine's files, added if missing.
fn id_of(sys: &mut Sys, file: &str, name: &str) -> u32 {
    if let Ok(n) = name.parse() {
        return n;
    }
    let text = sys.files.get(file).cloned().unwrap_or_default();
    for l in text.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.first() == Some(&name) {
            if let Some(id) = f.get(2).and_then(|v| v.parse().ok()) {
                return id;
            }
        }
    }
    let id = 3000 + text.lines().count() as u32;
    if file == "/etc/passwd" {
        sys.append(
            file,
            &format!("{name}:x:{id}:{id}::/nonexistent:/usr/sbin/nologin"),
        );
    } else {
        sys.append(file, &format!("{name}:x:{id}:"));
    }
    id
}

/// Picks the accepted name common to every list (root first).
fn accepted(lists: &[Vec<String>]) -> Option<String> {
    let first = lists.first()?;
    let mut names: Vec<&String> = first.iter().collect();
    names.sort_by_key(|n| !(n.as_str() == "root" || n.as_str() == "0"));
    names
        .into_iter()
        .find(|n| lists.iter().all(|l| l.contains(n)))
        .cloned()
        .or_else(|| Some(first[0].clone()))
}

fn realize_glob(sys: &mut Sys, glob: &str, reqs: &[(Check, bool)]) {
    let mut need_exist = false;
    let mut need_absent = false;
    let mut file_type: Option<String> = None;
    let mut mask: u32 = 0o7777;
    let mut bad_mode: Option<u32> = None;
    let mut owners: Vec<Vec<String>> = Vec::new();
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut bad_owner = false;
    let mut bad_group = false;
    let mut lines: Vec<String> = Vec::new();
    for (c, want) in reqs {
        match c {
            Check::File {
                max_mode,
                owner,
                group,
                file_type: ft,
                exists,
                when_missing,
                ..
            } => {
                if ft.is_some() {
                    file_type = ft.clone();
                }
                let max = max_mode
                    .as_deref()
                    .map(|m| u32::from_str_radix(m, 8).expect("octal"));
                if *exists == Some(false) {
                    if *want {
                        need_absent = true;
                    } else {
                        need_exist = true;
                    }
                    continue;
                }
                if *want {
                    if *exists == Some(true) {
                        need_exist = true;
                    }
                    if let Some(m) = max {
                        mask &= m;
                    }
                    owners.extend(owner.clone());
                    groups.extend(group.clone());
                } else if let Some(m) = max.filter(|m| m & 0o7777 != 0o7777) {
                    need_exist = true;
                    bad_mode = Some(if 0o777 & !m != 0 { 0o777 } else { 0o7777 });
                } else if owner.is_some() {
                    need_exist = true;
                    bad_owner = true;
                } else if group.is_some() {
                    need_exist = true;
                    bad_group = true;
                } else if *exists == Some(true) || *when_missing == Missing::Fail {
                    need_absent = true;
                }
            }
            Check::FileContent {
                expect, example, ..
            } => {
                need_exist = true;
                if (*expect == ContentExpectation::Match) == *want {
                    lines.push(example.clone());
                }
            }
            _ => unreachable!(),
        }
    }
    if need_absent && !need_exist {
        sys.watch(glob, Vec::new());
        return;
    }
    let kind = file_type.unwrap_or_else(|| "file".into());
    let base = if kind == "dir" { 0o755 } else { 0o644 };
    let mode = bad_mode.unwrap_or(base & mask);
    let uid = if bad_owner {
        4242
    } else {
        accepted(&owners).map_or(0, |n| id_of(sys, "/etc/passwd", &n))
    };
    let gid = if bad_group {
        4242
    } else {
        accepted(&groups).map_or(0, |n| id_of(sys, "/etc/group", &n))
    };
    let e = entry(&concrete(glob), &kind, &format!("{mode:04o}"), uid, gid);
    let text = (kind == "file").then(|| {
        let mut t = lines.join("\n");
        if !t.is_empty() {
            t.push('\n');
        }
        t
    });
    sys.watch(glob, vec![wfile(e, text.as_deref())]);
}

// ----------------------------------------------------------- render

fn pam_line(rule_type: &str, module: &str, args: &[(String, Option<String>)]) -> String {
    let mut l = format!("{rule_type} required {module}");
    for (k, v) in args {
        match v {
            Some(v) if !v.is_empty() => l.push_str(&format!(" {k}={v}")),
            _ => l.push_str(&format!(" {k}")),
        }
    }
    l
}

/// Builds the machine for one alternative.
fn realize(rule_check: &Check, alt: &[Leaf]) -> Result<Sys, String> {
    let mut w = World::new();
    for (c, want) in alt {
        w.add(c, *want);
    }
    if let Some(why) = w.impossible.take() {
        return Err(why);
    }
    let mut sys = Sys::new();
    sys.set_file(
        "/etc/default/grub",
        "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n",
    );
    let mut globs = BTreeSet::new();
    let mut modules = BTreeSet::new();
    watched_names(rule_check, &mut globs, &mut modules);
    for g in &globs {
        sys.watch(g, Vec::new());
    }
    for m in &modules {
        sys.module(m, &[]);
    }
    // Key/value families.
    let mut cmdline = Vec::new();
    for ((kind, key), tests) in &w.values {
        let v = solve(tests).map_err(|e| format!("{kind} {key}: {e}"))?;
        let Some(v) = v else { continue };
        match *kind {
            "sshd" => sys.append("/etc/ssh/sshd_config", &format!("{key} {v}")),
            "login_defs" => sys.append("/etc/login.defs", &format!("{key}\t{v}")),
            "pwquality" => {
                if v.is_empty() {
                    sys.append("/etc/security/pwquality.conf", key)
                } else {
                    sys.append("/etc/security/pwquality.conf", &format!("{key} = {v}"))
                }
            }
            "sysctl" => sys.append("/etc/sysctl.d/60-witness.conf", &format!("{key} = {v}")),
            "kernel_cmdline" => cmdline.push(if v.is_empty() {
                key.clone()
            } else {
                format!("{key}={v}")
            }),
            _ => unreachable!(),
        }
    }
    if !cmdline.is_empty() {
        sys.set_file(
            "/etc/default/grub",
            &format!(
                "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"{}\"\n",
                cmdline.join(" ")
            ),
        );
    }
    if w.sshd {
        sys.openssh = Some("1:9.2p1-2+deb12u3".into());
        sys.files.entry("/etc/ssh/sshd_config".into()).or_default();
    }
    // PAM: stack → lines (type, module, args).
    type PamLines = Vec<(String, String, Vec<(String, Option<String>)>)>;
    let mut stacks: BTreeMap<String, PamLines> = BTreeMap::new();
    let mut options: BTreeMap<
        (String, String, String),
        Vec<(coldscan::rules::check::ValueTest, bool)>,
    > = BTreeMap::new();
    let mut option_stacks: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for (c, want) in &w.pam {
        let Check::Pam {
            stacks: names,
            rule_type,
            modules,
            option,
            test,
        } = c
        else {
            unreachable!()
        };
        let module = modules[0].clone();
        match option {
            None => {
                let present = (test.op != Op::Absent) == *want;
                for s in names {
                    let lines = stacks.entry(s.clone()).or_default();
                    if present && !lines.iter().any(|(t, m, _)| t == rule_type && *m == module) {
                        lines.push((rule_type.clone(), module.clone(), Vec::new()));
                    }
                }
            }
            Some(o) => {
                let k = (rule_type.clone(), module.clone(), o.clone());
                options
                    .entry(k.clone())
                    .or_default()
                    .push((test.clone(), *want));
                option_stacks
                    .entry(k)
                    .or_default()
                    .extend(names.iter().cloned());
            }
        }
    }
    for (k, tests) in &options {
        let v = solve(tests).map_err(|e| format!("pam {} {} {}: {e}", k.0, k.1, k.2))?;
        for s in &option_stacks[k] {
            let lines = stacks.entry(s.clone()).or_default();
            let i = match lines.iter().position(|(t, m, _)| *t == k.0 && *m == k.1) {
                Some(i) => i,
                None => {
                    lines.push((k.0.clone(), k.1.clone(), Vec::new()));
                    lines.len() - 1
                }
            };
            if let Some(v) = &v {
                lines[i].2.push((k.2.clone(), Some(v.clone())));
            }
        }
    }
    for (s, lines) in &stacks {
        let mut text = String::from("# witness\n");
        for (t, m, a) in lines {
            text.push_str(&pam_line(t, m, a));
            text.push('\n');
        }
        sys.set_file(&format!("/etc/pam.d/{s}"), &text);
    }
    // Files.
    for (glob, reqs) in &w.files {
        realize_glob(&mut sys, glob, reqs);
    }
    // Packages.
    for (names, state, want) in &w.packages {
        let install = (*state == PackageState::Installed) == *want;
        if install && !sys.packages.iter().any(|(n, _)| n == &names[0]) {
            sys.install(&names[0], "1.0-1");
        }
    }
    // Services.
    for (units, state, want) in &w.services {
        match (state, want) {
            (ServiceState::Enabled, true) | (ServiceState::Disabled, false) => {
                sys.enable(&units[0])
            }
            (ServiceState::Masked, true) => {
                for u in units {
                    sys.unit_file(u);
                    sys.mask(u);
                }
            }
            (ServiceState::Masked, false) => sys.unit_file(&units[0]),
            _ => {}
        }
    }
    // Mounts.
    let mut fstab: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut fail_options: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (mp, separate, options, want) in &w.mounts {
        match (options.is_empty(), want) {
            (true, true) if *separate => {
                fstab.entry(mp.clone()).or_default();
            }
            (true, _) => {}
            (false, true) => fstab
                .entry(mp.clone())
                .or_default()
                .extend(options.iter().cloned()),
            (false, false) => {
                fstab.entry(mp.clone()).or_default();
                fail_options
                    .entry(mp.clone())
                    .or_default()
                    .extend(options.iter().cloned());
            }
        }
    }
    let mut text = String::from("UUID=0f2a-root / ext4 errors=remount-ro 0 1\n");
    for (mp, opts) in &fstab {
        let opts: Vec<&str> = ["defaults"]
            .into_iter()
            .chain(opts.iter().map(String::as_str))
            .filter(|o| !fail_options.get(mp).is_some_and(|f| f.contains(*o)))
            .collect();
        let (spec, fs) = if mp == "/dev/shm" || mp == "/tmp" {
            ("tmpfs", "tmpfs")
        } else {
            ("UUID=77aa-data", "ext4")
        };
        text.push_str(&format!("{spec} {mp} {fs} {} 0 2\n", opts.join(",")));
    }
    sys.fstab = text;
    // Kernel modules.
    for (m, want) in &w.modules {
        let path = format!("/lib/modules/6.1.0-13-amd64/kernel/fs/{m}/{m}.ko.xz");
        if *want {
            sys.append(
                "/etc/modprobe.d/witness.conf",
                &format!("install {m} /bin/false"),
            );
            sys.append("/etc/modprobe.d/witness.conf", &format!("blacklist {m}"));
        }
        sys.module(m, &[&path]);
    }
    // Accounts' aging, then the functions' own changes.
    let a = &w.aging;
    let shadow = telemetry::default_shadow(&a.last, &a.min, &a.max, &a.warn, &a.inactive);
    sys.set_file("/etc/shadow", &shadow);
    for f in &w.mods {
        f(&mut sys);
    }
    Ok(sys)
}

struct Problem {
    rule: String,
    expected: &'static str,
    detail: String,
}

fn show(o: &Outcome) -> String {
    let mut s = format!("{:?}", o.status);
    if let Some(r) = &o.reason {
        s.push_str(&format!(" ({r})"));
    }
    if !o.evidence.is_empty() {
        let ev: Vec<String> = o.evidence.iter().take(4).map(|e| e.to_string()).collect();
        s.push_str(&format!(" [{}]", ev.join("; ")));
    }
    s
}

/// Leaves of an alternative, as `kind path` for the report.
fn describe(alt: &[Leaf]) -> String {
    alt.iter()
        .map(|(c, want)| {
            let json = serde_json::to_string(c).unwrap_or_default();
            format!("{}{}", if *want { "+" } else { "-" }, json)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Tries every alternative; Ok(outcome) for the first that gives `want`.
fn witness(t: &mut Telemetry, check: &Check, want: bool) -> Result<Outcome, String> {
    let expected = if want { Status::Pass } else { Status::Fail };
    let mut first_miss: Option<String> = None;
    for alt in alternatives(check, want) {
        let sys = match realize(check, &alt) {
            Ok(s) => s,
            Err(e) => {
                first_miss.get_or_insert(format!("cannot build {}: {e}", describe(&alt)));
                continue;
            }
        };
        sys.render(t);
        let o = telemetry::eval(check, t);
        if o.status == expected {
            return Ok(o);
        }
        first_miss.get_or_insert(format!("got {} for {}", show(&o), describe(&alt)));
    }
    Err(first_miss.unwrap_or_else(|| "no alternative".into()))
}

/// What checking one rule found.
#[derive(Default)]
struct RuleReport {
    problems: Vec<Problem>,
    no_witness: bool,
    both: bool,
    not_applicable: bool,
}

fn check_rule(t: &mut Telemetry, rule: &Rule) -> RuleReport {
    let mut r = RuleReport::default();
    if let Check::NotApplicable { reason } = &rule.check {
        Sys::new().render(t);
        let o = telemetry::eval(&rule.check, t);
        if o.status == Status::NotApplicable && o.reason.as_deref() == Some(reason.as_str()) {
            r.not_applicable = true;
        } else {
            r.problems.push(Problem {
                rule: rule.id.clone(),
                expected: "NotApplicable",
                detail: show(&o),
            });
        }
        return r;
    }
    let allowed = ALLOW_NO_WITNESS.iter().any(|(id, _)| *id == rule.id);
    r.both = true;
    for want in [true, false] {
        match witness(t, &rule.check, want) {
            Ok(o) => {
                if !want && o.evidence.is_empty() {
                    r.both = false;
                    r.problems.push(Problem {
                        rule: rule.id.clone(),
                        expected: "Fail with evidence",
                        detail: show(&o),
                    });
                }
            }
            Err(detail) => {
                r.both = false;
                if allowed {
                    continue;
                }
                r.no_witness = true;
                r.problems.push(Problem {
                    rule: rule.id.clone(),
                    expected: if want { "Pass" } else { "Fail" },
                    detail,
                });
            }
        }
    }
    r
}

#[test]
fn every_rule_has_a_pass_and_a_fail_witness() {
    let set = RuleSet::embedded().unwrap_or_else(|e| panic!("{e}"));
    let missing: Vec<&str> = coldscan::rules::functions::names()
        .filter(|n| !BUILDERS.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "registered functions without witness builders in this test: {missing:?}"
    );
    for (id, _) in ALLOW_NO_WITNESS {
        assert!(
            set.rules.iter().any(|r| r.id == *id),
            "allow-listed rule {id} does not exist"
        );
    }
    // Rules are independent: check them on a few threads.
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let chunk = set.rules.len().div_ceil(threads).max(1);
    let reports: Vec<(&Rule, RuleReport)> = std::thread::scope(|s| {
        let handles: Vec<_> = set
            .rules
            .chunks(chunk)
            .map(|rules| {
                s.spawn(move || {
                    let mut t = telemetry::base();
                    rules
                        .iter()
                        .map(|rule| (rule, check_rule(&mut t, rule)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("witness thread"))
            .collect()
    });
    let mut problems: Vec<Problem> = Vec::new();
    let mut no_witness = 0;
    // package (file) → (rules, covered both ways, not applicable)
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (rule, report) in reports {
        let key = format!(
            "{} ({})",
            rule.package,
            rule.origin.rsplit('/').next().unwrap_or(&rule.origin)
        );
        let c = counts.entry(key).or_default();
        c.0 += 1;
        c.1 += usize::from(report.both);
        c.2 += usize::from(report.not_applicable);
        no_witness += usize::from(report.no_witness);
        problems.extend(report.problems);
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for rule in &set.rules {
        count_kinds(&rule.check, &mut kinds);
    }
    eprintln!(
        "checks per kind in the embedded rules (each evaluated in both witnesses): {kinds:?}"
    );
    eprintln!("rules covered (pass and fail witnesses) per package and file:");
    for (k, (n, both, na)) in &counts {
        eprintln!("  {k}: {n} rules, {both} with both witnesses, {na} not applicable by design");
    }
    eprintln!(
        "allow-listed without witness: {} ({:?})",
        ALLOW_NO_WITNESS.len(),
        ALLOW_NO_WITNESS
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>()
    );
    if !problems.is_empty() {
        let list: Vec<String> = problems
            .iter()
            .map(|p| format!("- {} expected {}: {}", p.rule, p.expected, p.detail))
            .collect();
        panic!(
            "{} problems ({no_witness} rules without a witness):\n{}",
            problems.len(),
            list.join("\n")
        );
    }
}

fn count_kinds(c: &Check, out: &mut BTreeMap<String, usize>) {
    let v = serde_json::to_value(c).unwrap_or_default();
    let kind = v["kind"].as_str().unwrap_or("?").to_string();
    match c {
        Check::Function { name, .. } => *out.entry(format!("function:{name}")).or_default() += 1,
        _ => *out.entry(kind).or_default() += 1,
    }
    match c {
        Check::All { checks } | Check::Any { checks } => {
            for c in checks {
                count_kinds(c, out);
            }
        }
        Check::Not { check } => count_kinds(check, out),
        _ => {}
    }
}

/// The generator tells a rule that can never pass or never fail.
#[test]
fn impossible_rules_have_no_witness() {
    let mut t = telemetry::base();
    let x1 = r#"{ kind = "sysctl", key = "net.ipv4.ip_forward", op = "equals", value = "1" }"#;
    let x0 = r#"{ kind = "sysctl", key = "net.ipv4.ip_forward", op = "equals", value = "0" }"#;
    let never_passes = telemetry::check(&format!(r#"kind = "all", checks = [{x1}, {x0}]"#));
    assert!(witness(&mut t, &never_passes, true).is_err());
    assert!(witness(&mut t, &never_passes, false).is_ok());
    let present = r#"{ kind = "sysctl", key = "net.ipv4.ip_forward", op = "present" }"#;
    let absent = r#"{ kind = "sysctl", key = "net.ipv4.ip_forward", op = "absent" }"#;
    let never_fails = telemetry::check(&format!(r#"kind = "any", checks = [{present}, {absent}]"#));
    assert!(witness(&mut t, &never_fails, true).is_ok());
    assert!(witness(&mut t, &never_fails, false).is_err());
    // A file rule and a content rule on the same file that contradict.
    let contradict = telemetry::check(
        r#"kind = "all", checks = [
            { kind = "file", path = "/etc/issue", exists = false },
            { kind = "file_content", path = "/etc/issue", pattern = "Authorized", expect = "match", example = "Authorized uses only", when_missing = "fail" } ]"#,
    );
    assert!(witness(&mut t, &contradict, true).is_err());
    // sshd always has a value (the compiled-in default): `absent` cannot pass.
    let sshd_absent = telemetry::check(r#"kind = "sshd", key = "permitrootlogin", op = "absent""#);
    assert!(witness(&mut t, &sshd_absent, true).is_err());
}
