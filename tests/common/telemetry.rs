//! Small telemetry documents for the rules tests: a baseline collected once
//! from a committed fixture image, whose configuration, files, packages and
//! mounts are then replaced by a `Sys`: the machine's configuration files
//! as text (parsed by the real parsers, so evidence carries real file and
//! line numbers) plus the facts that are not text (file metadata, packages,
//! kernel module files, fstab).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use coldscan::collect::files::{Home, OwnerCount};
use coldscan::collect::packages::{Database, InstalledPackage, PackagesFacts};
use coldscan::collect::watched::{ModuleFiles, Watched, WatchedFile};
use coldscan::collect::{CollectOptions, Telemetry};
use coldscan::listing::Entry;
use coldscan::rules::check::Check;
use coldscan::rules::eval::{evaluate, Context};
use coldscan::rules::outcome::{Outcome, Status};
use coldscan_config::{
    accounts, kernel_cmdline, login_defs, modprobe, pam, pwquality, services, sshd, sudoers,
    sysctl, MemFiles,
};
use coldscan_fs::rootfs::{parse_fstab, MountStatus, PlannedMount};

/// The collection time of every test document (day 20785 since 1970).
pub const COLLECTED_AT: &str = "2026-11-28T04:00:00Z";

/// A telemetry document of the `bare-ext4` fixture (collected once per test
/// process, then copied through JSON).
pub fn base() -> Telemetry {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| {
        let img = super::fixture("bare-ext4");
        let image = coldscan::image::Image::open(&img).expect("open bare-ext4");
        let t = coldscan::collect::collect(
            &image,
            CollectOptions {
                hash_image: false,
                watch: Default::default(),
            },
        )
        .expect("collect bare-ext4");
        serde_json::to_string(&t).expect("telemetry serializes")
    });
    serde_json::from_str(json).expect("telemetry deserializes")
}

/// Parses a check from TOML (`kind = "sshd", key = …`).
pub fn check(toml_text: &str) -> Check {
    #[derive(serde::Deserialize)]
    struct Wrap {
        check: Check,
    }
    let w: Wrap = toml::from_str(&format!("check = {{ {toml_text} }}"))
        .unwrap_or_else(|e| panic!("check {toml_text}: {e}"));
    w.check
}

pub fn eval(c: &Check, t: &Telemetry) -> Outcome {
    evaluate(c, &Context::new(t))
}

/// An entry as `coldscan ls --json` shows it.
pub fn entry(path: &str, kind: &str, mode: &str, uid: u32, gid: u32) -> Entry {
    serde_json::from_value(serde_json::json!({
        "path": path, "type": kind, "mode": mode, "uid": uid, "gid": gid,
        "size": 0, "nlink": 1, "mtime": null, "inode": 1, "partition": 1,
    }))
    .expect("entry")
}

pub fn wfile(e: Entry, text: Option<&str>) -> WatchedFile {
    WatchedFile {
        entry: e,
        text: text.map(str::to_string),
        text_truncated: false,
        text_error: None,
    }
}

/// Default accounts: a root with a password, system accounts locked with
/// nologin shells, one interactive user `alice` (uid 1000).
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/bash
";
pub const GROUP: &str = "root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:
shadow:x:42:
utmp:x:43:
sudo:x:27:alice
crontab:x:101:
syslog:x:102:
ssh_keys:x:103:
chrony:x:104:
nogroup:x:65534:
alice:x:1000:
";
/// Hash-like fields are `$6$` followed by a long salt: the parser keeps only
/// the state.
pub const HASH: &str =
    "$6$Zm9vYmFyYmF6$u5EQz6B1nDbmJc1dWpQEyN7F0c9hJ6CDZQ1bE9x3mXa1YnZ0sD2m9qZ8uU7pP1wL8oR3kT6vY4jH2fG5dS0a";

pub fn shadow_line(name: &str, pw: &str, aging: &str) -> String {
    format!("{name}:{pw}:{aging}\n")
}

/// Shadow with every account's aging fields `min:max:warn:inactive`.
pub fn default_shadow(last: &str, min: &str, max: &str, warn: &str, inactive: &str) -> String {
    let mut s = String::new();
    for (name, pw) in [
        ("root", HASH),
        ("daemon", "*"),
        ("bin", "*"),
        ("sys", "*"),
        ("sync", "*"),
        ("nobody", "*"),
        ("alice", HASH),
    ] {
        s.push_str(&format!(
            "{name}:{pw}:{last}:{min}:{max}:{warn}:{inactive}::\n"
        ));
    }
    s
}

/// A machine as the rules see it.
#[derive(Debug, Clone)]
pub struct Sys {
    /// Configuration files by absolute path.
    pub files: BTreeMap<String, String>,
    /// Symlinks (path → target), for systemd enablement and masking.
    pub links: BTreeMap<String, String>,
    /// Installed OpenSSH server version; with `sshd_config` present or this
    /// set, the image has an sshd.
    pub openssh: Option<String>,
    /// Installed packages (name, version) and whether a database exists.
    pub packages: Vec<(String, String)>,
    pub package_db: bool,
    pub watched: Vec<Watched>,
    pub modules: Vec<ModuleFiles>,
    pub fstab: String,
    pub arch: String,
    pub system_dirs: Vec<Entry>,
    pub system_writable_or_non_root: Vec<Entry>,
    pub world_writable: Vec<Entry>,
    pub suid_sgid: Vec<Entry>,
    pub owners: Vec<OwnerCount>,
    pub homes: Vec<Home>,
}

impl Default for Sys {
    fn default() -> Sys {
        Sys::new()
    }
}

impl Sys {
    /// Accounts, an empty sudoers file and sane file facts; nothing else.
    pub fn new() -> Sys {
        let mut files = BTreeMap::new();
        files.insert("/etc/passwd".into(), PASSWD.into());
        files.insert("/etc/group".into(), GROUP.into());
        files.insert(
            "/etc/shadow".into(),
            default_shadow("19700", "1", "365", "7", "30"),
        );
        files.insert(
            "/etc/sudoers".into(),
            "Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n".into(),
        );
        let dir = |p: &str| entry(p, "dir", "0755", 0, 0);
        Sys {
            files,
            links: BTreeMap::new(),
            openssh: None,
            packages: Vec::new(),
            package_db: true,
            watched: Vec::new(),
            modules: Vec::new(),
            fstab: String::new(),
            arch: "x86_64".into(),
            system_dirs: ["/", "/usr/bin", "/usr/local/bin", "/etc", "/etc/sudoers.d"]
                .iter()
                .map(|p| dir(p))
                .collect(),
            system_writable_or_non_root: Vec::new(),
            world_writable: vec![entry("/tmp", "dir", "1777", 0, 0)],
            suid_sgid: Vec::new(),
            owners: vec![OwnerCount {
                uid: 0,
                gid: 0,
                count: 100,
                examples: vec!["/etc/passwd".into()],
            }],
            homes: vec![Home {
                user: "alice".into(),
                uid: Some(1000),
                path: "/home/alice".into(),
                entry: Some(entry("/home/alice", "dir", "0700", 1000, 1000)),
                dot_files: vec![entry("/home/alice/.bashrc", "file", "0644", 1000, 1000)],
            }],
        }
    }

    pub fn file(mut self, path: &str, text: &str) -> Sys {
        self.files.insert(path.to_string(), text.to_string());
        self
    }

    pub fn set_file(&mut self, path: &str, text: &str) {
        self.files.insert(path.to_string(), text.to_string());
    }

    /// Appends a line to a file (created if missing).
    pub fn append(&mut self, path: &str, line: &str) {
        let f = self.files.entry(path.to_string()).or_default();
        f.push_str(line);
        f.push('\n');
    }

    pub fn link(&mut self, path: &str, target: &str) {
        self.links.insert(path.to_string(), target.to_string());
        self.files.entry(path.to_string()).or_default();
    }

    pub fn install(&mut self, name: &str, version: &str) {
        self.packages.push((name.to_string(), version.to_string()));
    }

    /// A watched glob and what it matched.
    pub fn watch(&mut self, pattern: &str, matches: Vec<WatchedFile>) {
        self.watched.retain(|w| w.pattern != pattern);
        self.watched.push(Watched {
            pattern: pattern.to_string(),
            content: true,
            matches,
            cut: false,
        });
    }

    pub fn module(&mut self, module: &str, paths: &[&str]) {
        self.modules.retain(|m| m.module != module);
        self.modules.push(ModuleFiles {
            module: module.to_string(),
            paths: paths.iter().map(|p| p.to_string()).collect(),
        });
    }

    /// Enables a unit the way `systemctl enable` does.
    pub fn enable(&mut self, unit: &str) {
        self.unit_file(unit);
        let target = if unit.ends_with(".socket") {
            "sockets.target"
        } else if unit.ends_with(".timer") {
            "timers.target"
        } else if unit.ends_with(".mount") {
            "local-fs.target"
        } else {
            "multi-user.target"
        };
        self.link(
            &format!("/etc/systemd/system/{target}.wants/{unit}"),
            &format!("/lib/systemd/system/{unit}"),
        );
    }

    /// A unit file in the vendor directory.
    pub fn unit_file(&mut self, unit: &str) {
        self.files
            .entry(format!("/lib/systemd/system/{unit}"))
            .or_insert_with(|| "[Unit]\nDescription=test\n".into());
    }

    /// Masks a unit (a link to /dev/null in /etc/systemd/system).
    pub fn mask(&mut self, unit: &str) {
        self.link(&format!("/etc/systemd/system/{unit}"), "/dev/null");
    }

    /// Writes the configuration, files and packages into `t`.
    pub fn render(&self, t: &mut Telemetry) {
        let mut mem = MemFiles::default();
        for (p, text) in &self.files {
            mem = mem.with(p, text.as_bytes().to_vec());
        }
        let links = |p: &str| self.links.get(p).cloned();
        let c = &mut t.config;
        let has_sshd = self.openssh.is_some() || self.files.contains_key("/etc/ssh/sshd_config");
        c.openssh_version = self.openssh.clone();
        c.sshd = has_sshd.then(|| sshd::effective(&mem, self.openssh.as_deref()));
        c.pam = pam::stacks(&mem);
        c.login_defs = login_defs::parse(&mem);
        c.pwquality = pwquality::parse(&mem);
        c.sysctl = sysctl::effective_with(&mem, sysctl::Applier::Systemd);
        c.kernel_cmdline = kernel_cmdline::parse(&mem);
        c.systemd = services::systemd_units(&mem, &links);
        c.inetd = services::inetd(&mem);
        c.accounts = accounts::parse(&mem);
        c.sudoers = sudoers::parse(&mem);
        c.modprobe = modprobe::effective(&mem);
        c.fstab = parse_fstab(&self.fstab)
            .into_iter()
            .map(|entry| {
                let status = if entry.mount_point == "/" {
                    MountStatus::Root { partition: 1 }
                } else if entry.spec.starts_with('/') || entry.spec.contains('=') {
                    MountStatus::Mounted { partition: 2 }
                } else {
                    MountStatus::Skipped {
                        reason: "not a block device".into(),
                    }
                };
                PlannedMount { entry, status }
            })
            .collect();
        t.collected_at = COLLECTED_AT.to_string();
        t.os.arch = Some(self.arch.clone());
        let f = &mut t.files;
        f.watched = self.watched.clone();
        f.kernel_modules = self.modules.clone();
        f.system_dirs = self.system_dirs.clone();
        f.system_writable_or_non_root = self.system_writable_or_non_root.clone();
        f.world_writable = self.world_writable.clone();
        f.suid_sgid = self.suid_sgid.clone();
        f.owners = self.owners.clone();
        f.homes = self.homes.clone();
        t.packages = PackagesFacts {
            databases: if self.package_db {
                vec![Database {
                    kind: "dpkg".into(),
                    path: "/var/lib/dpkg/status".into(),
                    packages: self.packages.len(),
                }]
            } else {
                Vec::new()
            },
            items: self
                .packages
                .iter()
                .enumerate()
                .map(|(i, (name, version))| package(name, version, i * 10 + 1))
                .collect(),
        };
    }

    /// A telemetry document of this machine.
    pub fn telemetry(&self) -> Telemetry {
        let mut t = base();
        self.render(&mut t);
        t
    }
}

fn package(name: &str, version: &str, line: usize) -> InstalledPackage {
    serde_json::from_value(serde_json::json!({
        "name": name, "version": version, "arch": "amd64",
        "source_name": name, "source_version": version,
        "status": "install ok installed", "files": [],
        "evidence": { "file": "/var/lib/dpkg/status", "line": line },
        "ecosystem": "Debian:12",
    }))
    .expect("package")
}

/// One case: a machine, a check (TOML), the status and the evidence as
/// displayed (`file:line value`, `file: value` or `value`).
pub struct Case {
    pub name: &'static str,
    sys: Sys,
    check: String,
    status: Status,
    evidence: Vec<String>,
}

pub fn case(name: &'static str, sys: Sys, check: &str, status: Status, evidence: &[&str]) -> Case {
    Case {
        name,
        sys,
        check: check.to_string(),
        status,
        evidence: evidence.iter().map(|s| s.to_string()).collect(),
    }
}

/// Runs every case and reports all mismatches at once.
pub fn run(cases: Vec<Case>) {
    let mut t = base();
    let mut bad = Vec::new();
    for c in &cases {
        c.sys.render(&mut t);
        let o = eval(&check(&c.check), &t);
        let got: Vec<String> = o.evidence.iter().map(|e| e.to_string()).collect();
        if o.status != c.status || got != c.evidence {
            bad.push(format!(
                "{}: expected {:?} {:?}\n     got {:?} {:?} (reason {:?})",
                c.name, c.status, c.evidence, o.status, got, o.reason
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} cases:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}

/// A case whose outcome has a reason instead of evidence.
pub fn run_reason(sys: &Sys, check_text: &str, status: Status, reason_part: &str) {
    let t = sys.telemetry();
    let o = eval(&check(check_text), &t);
    assert_eq!(o.status, status, "{check_text}: {o:?}");
    let reason = o.reason.clone().unwrap_or_default();
    assert!(
        reason.contains(reason_part),
        "{check_text}: reason {reason:?}"
    );
}
