//! Services: systemd unit enablement and masking, inetd and xinetd.
//!
//! systemd (systemd.unit(5), systemctl(1)): a unit is enabled by a symlink in
//! a `*.wants/` or `*.requires/` directory of `/etc/systemd/system`; it is
//! masked by a unit file in `/etc/systemd/system` or `/run/systemd/system`
//! that is a symlink to `/dev/null` or is empty. The [`ConfigFiles`] trait
//! has no readlink, so the caller passes `links`, which returns a symlink's
//! target (as stored) for a path inside the image, or `None` for anything
//! that is not a symlink.
//!
//! xinetd (xinetd.conf(5)): `service NAME { attr = value … }` blocks,
//! `defaults { … }` (with `enabled`/`disabled` lists), `include FILE` and
//! `includedir DIR` (files whose names contain `.` or end in `~` skipped,
//! bytewise order); a service runs unless `disable = yes`. inetd.conf(5):
//! one service per line: `service socket_type protocol wait[.max] user
//! server args…`; commented lines are not services.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

/// Unit directories, highest precedence first.
pub const UNIT_DIRS: [&str; 5] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];
const MAX_NAMES: usize = 50_000;
const MAX_BYTES: usize = 1 << 20;
const MAX_DEPTH: usize = 16;
const UNIT_SUFFIXES: &[&str] = &[
    ".service",
    ".socket",
    ".target",
    ".timer",
    ".mount",
    ".automount",
    ".path",
    ".slice",
    ".scope",
    ".swap",
    ".device",
];

fn is_unit_name(n: &str) -> bool {
    UNIT_SUFFIXES
        .iter()
        .any(|s| n.len() > s.len() && n.ends_with(s))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitFile {
    pub name: String,
    pub path: String,
    /// Symlink target, if the entry is a symlink.
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enablement {
    /// The unit pulled in (name of the link).
    pub unit: String,
    /// The unit whose `.wants`/`.requires` holds the link (e.g. `multi-user.target`).
    pub by: String,
    /// `wants` or `requires`.
    pub kind: String,
    pub path: String,
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedUnit {
    pub unit: String,
    pub path: String,
    /// `/dev/null` link, or an empty file.
    pub how: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    /// Enabled by the administrator: links under /etc/systemd/system.
    pub enabled: Vec<Enablement>,
    /// Pulled in by the vendor: links in `*.wants`/`*.requires` under
    /// /usr/lib, /lib, /usr/local/lib and /run (static or runtime enablement).
    pub vendor_wants: Vec<Enablement>,
    pub masked: Vec<MaskedUnit>,
    /// Symlinks in /etc/systemd/system to something other than /dev/null
    /// (aliases such as `display-manager.service`, linked unit files).
    pub aliases: Vec<UnitFile>,
    /// Unit files by name, the one that takes precedence first.
    pub unit_files: BTreeMap<String, Vec<UnitFile>>,
    pub problems: Vec<String>,
}

impl Units {
    pub fn is_enabled(&self, unit: &str) -> bool {
        self.enabled.iter().any(|e| e.unit == unit)
    }
    pub fn is_masked(&self, unit: &str) -> bool {
        self.masked.iter().any(|m| m.unit == unit)
    }
    pub fn is_present(&self, unit: &str) -> bool {
        self.unit_files.contains_key(unit)
    }
}

fn list(files: &dyn ConfigFiles, dir: &str, problems: &mut Vec<String>) -> Vec<String> {
    match files.list(dir) {
        None => Vec::new(),
        Some(Err(e)) => {
            problems.push(format!("{dir}: cannot list: {e}"));
            Vec::new()
        }
        Some(Ok(mut v)) => {
            if v.len() > MAX_NAMES {
                problems.push(format!("{dir}: {} entries, only {MAX_NAMES} read", v.len()));
                v.truncate(MAX_NAMES);
            }
            v.dedup();
            v
        }
    }
}

/// `/dev/null`, also as a relative link such as `../../dev/null`.
fn is_dev_null(target: &str) -> bool {
    target == "/dev/null"
        || (target.ends_with("/dev/null")
            && target[..target.len() - "/dev/null".len()]
                .split('/')
                .all(|c| c == ".." || c == "." || c.is_empty()))
}

/// Enabled, masked and present systemd units.
pub fn systemd_units(files: &dyn ConfigFiles, links: &dyn Fn(&str) -> Option<String>) -> Units {
    let mut out = Units::default();
    for dir in UNIT_DIRS {
        let admin = dir == "/etc/systemd/system";
        let can_mask = admin || dir == "/run/systemd/system";
        for name in list(files, dir, &mut out.problems) {
            let path = format!("{dir}/{name}");
            for (suffix, kind) in [(".wants", "wants"), (".requires", "requires")] {
                if let Some(by) = name.strip_suffix(suffix) {
                    for u in list(files, &path, &mut out.problems) {
                        let p = format!("{path}/{u}");
                        let e = Enablement {
                            unit: u,
                            by: by.to_string(),
                            kind: kind.to_string(),
                            link: links(&p),
                            path: p,
                        };
                        if admin {
                            out.enabled.push(e);
                        } else {
                            out.vendor_wants.push(e);
                        }
                    }
                }
            }
            if !is_unit_name(&name) {
                continue;
            }
            let link = links(&path);
            if can_mask {
                let masked = match &link {
                    Some(t) if is_dev_null(t) => Some("/dev/null"),
                    Some(_) => None,
                    None => match files.read(&path) {
                        Some(Ok(b)) if b.is_empty() => Some("empty file"),
                        _ => None,
                    },
                };
                if let Some(how) = masked {
                    out.masked.push(MaskedUnit {
                        unit: name.clone(),
                        path: path.clone(),
                        how: how.to_string(),
                    });
                } else if admin {
                    if let Some(t) = &link {
                        out.aliases.push(UnitFile {
                            name: name.clone(),
                            path: path.clone(),
                            link: Some(t.clone()),
                        });
                    }
                }
            }
            let v = out.unit_files.entry(name.clone()).or_default();
            if v.len() < UNIT_DIRS.len() {
                v.push(UnitFile { name, path, link });
            }
        }
    }
    out
}

// ---------------------------------------------------------------- inetd

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InetdService {
    pub name: String,
    /// `inetd` or `xinetd`.
    pub daemon: String,
    /// inetd: the line is active. xinetd: `disable` is not `yes`, and the
    /// service is not in the defaults' `disabled` list nor left out of a
    /// defaults `enabled` list.
    pub enabled: bool,
    /// xinetd's `disable` attribute as written.
    pub disable: Option<Sourced<String>>,
    /// Other attributes (`socket_type`, `protocol`, `server`, `user`…); for
    /// inetd the fields of the line under those names.
    pub attributes: BTreeMap<String, Sourced<String>>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inetd {
    pub inetd_conf_present: bool,
    pub xinetd_conf_present: bool,
    pub services: Vec<InetdService>,
    /// xinetd `defaults { enabled = … }` / `disabled = …` lists.
    pub xinetd_defaults: BTreeMap<String, Sourced<String>>,
    pub files: Vec<String>,
    pub problems: Vec<String>,
}

fn read_text(files: &dyn ConfigFiles, path: &str, problems: &mut Vec<String>) -> Option<String> {
    match files.read(path)? {
        Err(e) => {
            problems.push(format!("{path}: unreadable: {e}"));
            None
        }
        Ok(mut b) => {
            if b.len() > MAX_BYTES {
                problems.push(format!(
                    "{path}: {} bytes, only the first {MAX_BYTES} read",
                    b.len()
                ));
                b.truncate(MAX_BYTES);
            }
            Some(String::from_utf8_lossy(&b).into_owned())
        }
    }
}

/// inetd and xinetd services.
pub fn inetd(files: &dyn ConfigFiles) -> Inetd {
    let mut out = Inetd::default();
    if let Some(t) = read_text(files, "/etc/inetd.conf", &mut out.problems) {
        out.inetd_conf_present = true;
        out.files.push("/etc/inetd.conf".into());
        parse_inetd_conf(&t, "/etc/inetd.conf", &mut out);
    }
    let mut x = Vec::new();
    if files.read("/etc/xinetd.conf").is_some() {
        out.xinetd_conf_present = true;
        xinetd_file(files, "/etc/xinetd.conf", 0, &mut x, &mut out);
    } else if files.list("/etc/xinetd.d").is_some() {
        out.problems
            .push("/etc/xinetd.d present without /etc/xinetd.conf; read anyway".into());
        xinetd_dir(files, "/etc/xinetd.d", 0, &mut x, &mut out);
    }
    apply_xinetd_defaults(&mut out);
    out
}

pub fn parse_inetd_conf(text: &str, file: &str, out: &mut Inetd) {
    const FIELDS: [&str; 6] = [
        "socket_type",
        "protocol",
        "wait",
        "user",
        "server",
        "server_args",
    ];
    for (i, l) in text.lines().enumerate().take(MAX_NAMES) {
        let n = i + 1;
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 6 {
            out.problems.push(format!(
                "{file}:{n}: {} fields, inetd needs at least 6",
                f.len()
            ));
            continue;
        }
        let mut attributes = BTreeMap::new();
        for (k, idx) in FIELDS.iter().zip(1..) {
            let v = if idx == 6 {
                f[6.min(f.len())..].join(" ")
            } else {
                f[idx].to_string()
            };
            attributes.insert(k.to_string(), Sourced::new(v, file, n));
        }
        out.services.push(InetdService {
            name: f[0].to_string(),
            daemon: "inetd".into(),
            enabled: true,
            disable: None,
            attributes,
            file: file.to_string(),
            line: n,
        });
    }
}

fn xinetd_dir(
    files: &dyn ConfigFiles,
    dir: &str,
    depth: usize,
    stack: &mut Vec<String>,
    out: &mut Inetd,
) {
    let mut problems = Vec::new();
    let mut names = list(files, dir, &mut problems);
    out.problems.extend(problems);
    names.sort();
    for n in names {
        if n.contains('.') || n.ends_with('~') || n.contains('/') {
            continue;
        }
        xinetd_file(
            files,
            &format!("{}/{n}", dir.trim_end_matches('/')),
            depth + 1,
            stack,
            out,
        );
    }
}

fn xinetd_file(
    files: &dyn ConfigFiles,
    path: &str,
    depth: usize,
    stack: &mut Vec<String>,
    out: &mut Inetd,
) {
    if depth > MAX_DEPTH || stack.iter().any(|p| p == path) || out.files.len() > 1000 {
        out.problems.push(format!(
            "{path}: include cycle or depth/limit exceeded; not read"
        ));
        return;
    }
    let Some(text) = read_text(files, path, &mut out.problems) else {
        return;
    };
    out.files.push(path.to_string());
    stack.push(path.to_string());
    parse_xinetd_text(&text, path, out, &mut |dir, target, o| {
        if dir {
            xinetd_dir(files, &target, depth + 1, stack, o);
        } else {
            xinetd_file(files, &target, depth + 1, stack, o);
        }
    });
    stack.pop();
}

/// Parse xinetd text; `include(dir?, target, out)` is called for
/// `includedir` / `include` directives.
pub fn parse_xinetd_text(
    text: &str,
    file: &str,
    out: &mut Inetd,
    include: &mut dyn FnMut(bool, String, &mut Inetd),
) {
    enum State {
        Top,
        Pending(Option<String>, usize),
        Block(Option<InetdService>),
    }
    let mut st = State::Top;
    for (i, raw) in text.lines().enumerate().take(MAX_NAMES * 4) {
        let n = i + 1;
        let l = raw.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        st = match st {
            State::Top | State::Pending(..)
                if l.starts_with("includedir") || l.starts_with("include") =>
            {
                let (dir, rest) = match l.strip_prefix("includedir") {
                    Some(r) => (true, r),
                    None => (false, &l["include".len()..]),
                };
                if rest.starts_with(char::is_whitespace) {
                    include(dir, rest.trim().to_string(), out);
                } else {
                    out.problems.push(format!("{file}:{n}: unknown directive"));
                }
                State::Top
            }
            State::Top | State::Pending(..) if l == "{" => match st {
                State::Pending(name, line) => State::Block(name.map(|name| InetdService {
                    name,
                    daemon: "xinetd".into(),
                    enabled: true,
                    disable: None,
                    attributes: BTreeMap::new(),
                    file: file.to_string(),
                    line,
                })),
                _ => {
                    out.problems
                        .push(format!("{file}:{n}: '{{' without a section"));
                    State::Block(None)
                }
            },
            State::Top | State::Pending(..) => {
                let mut w = l.split_whitespace();
                match (w.next(), w.next()) {
                    (Some("service"), Some(name)) if l.ends_with('{') => {
                        // `service NAME {` on one line
                        State::Block(Some(InetdService {
                            name: name.trim_end_matches('{').to_string(),
                            daemon: "xinetd".into(),
                            enabled: true,
                            disable: None,
                            attributes: BTreeMap::new(),
                            file: file.to_string(),
                            line: n,
                        }))
                    }
                    (Some("service"), Some(name)) => State::Pending(Some(name.to_string()), n),
                    (Some("defaults"), None) => State::Pending(None, n),
                    _ => {
                        out.problems
                            .push(format!("{file}:{n}: unexpected line outside a section"));
                        State::Top
                    }
                }
            }
            State::Block(svc) if l == "}" => {
                if let Some(s) = svc {
                    if out.services.len() < MAX_NAMES {
                        out.services.push(s);
                    }
                }
                State::Top
            }
            State::Block(mut svc) => {
                let (k, v) = match l.find('=') {
                    Some(i) => {
                        let (k, v) = (&l[..i], &l[i + 1..]);
                        let k = k.trim_end_matches(['+', '-']).trim();
                        let op = &l[k.len()..i + 1];
                        let op = op.trim();
                        let v = if op == "=" {
                            v.trim().to_string()
                        } else {
                            format!("{op} {}", v.trim())
                        };
                        (k.to_string(), v)
                    }
                    None => {
                        out.problems
                            .push(format!("{file}:{n}: attribute without '='"));
                        (String::new(), String::new())
                    }
                };
                if !k.is_empty() {
                    let sv = Sourced::new(v, file, n);
                    match &mut svc {
                        Some(s) if k == "disable" => s.disable = Some(sv),
                        Some(s) => {
                            if s.attributes.len() < 1000 {
                                s.attributes.insert(k, sv);
                            }
                        }
                        None => {
                            if out.xinetd_defaults.len() < 1000 {
                                out.xinetd_defaults.insert(k, sv);
                            }
                        }
                    }
                }
                State::Block(svc)
            }
        };
    }
    if let State::Block(Some(_)) | State::Block(None) = st {
        out.problems.push(format!("{file}: section not closed"));
    }
}

fn apply_xinetd_defaults(out: &mut Inetd) {
    let words = |k: &str| -> Option<Vec<String>> {
        out.xinetd_defaults
            .get(k)
            .map(|v| v.value.split_whitespace().map(str::to_string).collect())
    };
    let enabled_list = words("enabled");
    let disabled_list = words("disabled").unwrap_or_default();
    for s in out.services.iter_mut().filter(|s| s.daemon == "xinetd") {
        let disabled_attr = s
            .disable
            .as_ref()
            .is_some_and(|d| d.value.eq_ignore_ascii_case("yes"));
        let id = s
            .attributes
            .get("id")
            .map(|v| v.value.clone())
            .unwrap_or(s.name.clone());
        let in_disabled = disabled_list.contains(&id);
        let not_in_enabled = enabled_list.as_ref().is_some_and(|l| !l.contains(&id));
        s.enabled = !(disabled_attr || in_disabled || not_in_enabled);
    }
}
