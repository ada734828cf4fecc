//! Kernel parameters as systemd-sysctl (or `sysctl --system`) applies them at
//! boot.
//!
//! From sysctl.d(5) and systemd's `conf_files_list` (checked against
//! `systemd-analyze cat-config sysctl.d --root=DIR` of systemd 252 in the
//! tests): all `*.conf` files (not hidden) of `/etc/sysctl.d`,
//! `/run/sysctl.d`, `/usr/local/lib/sysctl.d`, `/usr/lib/sysctl.d` and
//! `/lib/sysctl.d` are merged by file name; a name in an earlier directory
//! masks the same name in later ones (an empty file or a symlink to
//! `/dev/null` masks it with nothing); the survivors are applied in bytewise
//! order of their names whatever their directory; later assignments win per
//! key.
//!
//! `/etc/sysctl.conf`: systemd-sysctl does NOT read it by itself (since
//! systemd 207); distributions link it in as `/etc/sysctl.d/99-sysctl.conf`
//! (Debian, Ubuntu, Fedora/RHEL ship that symlink), which the caller's `read`
//! follows, so it is applied at that name's place. procps `sysctl --system`
//! (used where systemd is absent) reads the same directories and then
//! `/etc/sysctl.conf` last: see [`Applier`].
//!
//! Lines: blank, `#` and `;` lines are comments (only at the line start: a
//! `#` after a value is part of the value); `key = value` with blanks trimmed
//! on both sides; a leading `-` means "ignore errors when applying"; keys
//! are normalised as systemd does (if the first separator is `/`, slashes
//! and dots are swapped), shown in dotted form; keys with glob characters
//! (`*?[`) are kept as written.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

pub const DIRS: [&str; 5] = [
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";
const MAX_BYTES: usize = 1 << 20;
const MAX_FILES: usize = 2000;
const MAX_KEYS: usize = 20_000;
const MAX_OVERRIDDEN: usize = 20_000;

/// Which program's file order to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applier {
    /// systemd-sysctl: only the `.d` directories (`/etc/sysctl.conf` only
    /// through a `.d` entry such as the usual `99-sysctl.conf` symlink).
    Systemd,
    /// procps `sysctl --system`: the `.d` directories, then
    /// `/etc/sysctl.conf` last.
    ProcpsSystem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SysctlEntry {
    /// Normalised key in dotted form (glob keys as written).
    pub key: String,
    /// The winning assignment (value trimmed).
    pub value: Sourced<String>,
    /// The winning assignment had a `-` prefix.
    pub ignore_errors: bool,
    /// The key is a glob pattern.
    pub glob: bool,
    /// Earlier assignments of the same key that this one overrode, in order.
    pub overridden: Vec<Sourced<String>>,
}

/// A `.d` file hidden by a file of the same name in an earlier directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Masked {
    pub path: String,
    pub by: String,
    /// The masking file is empty or unreadable (e.g. a link to /dev/null).
    pub by_empty: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sysctl {
    pub applier: Applier,
    /// Files applied, in order (including empty ones).
    pub files: Vec<String>,
    pub masked: Vec<Masked>,
    pub entries: BTreeMap<String, SysctlEntry>,
    pub problems: Vec<String>,
}

impl Sysctl {
    /// Look a key up in either separator form.
    pub fn get(&self, key: &str) -> Option<&SysctlEntry> {
        self.entries.get(&normalize_key(key))
    }
}

/// systemd's `sysctl_normalize`, returned in dotted form.
pub fn normalize_key(key: &str) -> String {
    let k = key.trim().trim_start_matches('/');
    let first = k.find(['.', '/']).map(|i| k.as_bytes()[i]);
    if first == Some(b'/') {
        k.chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                c => c,
            })
            .collect()
    } else {
        k.to_string()
    }
}

/// Effective settings as systemd-sysctl applies them.
pub fn effective(files: &dyn ConfigFiles) -> Sysctl {
    effective_with(files, Applier::Systemd)
}

pub fn effective_with(files: &dyn ConfigFiles, applier: Applier) -> Sysctl {
    let mut out = Sysctl {
        applier,
        files: Vec::new(),
        masked: Vec::new(),
        entries: BTreeMap::new(),
        problems: Vec::new(),
    };
    // name -> winning path; masked list built from later dirs.
    let mut chosen: BTreeMap<String, String> = BTreeMap::new();
    let mut later: Vec<(String, String)> = Vec::new();
    let mut count = 0usize;
    for dir in DIRS {
        let names = match files.list(dir) {
            None => continue,
            Some(Err(e)) => {
                out.problems.push(format!("{dir}: cannot list: {e}"));
                continue;
            }
            Some(Ok(n)) => n,
        };
        let uniq: BTreeSet<String> = names
            .into_iter()
            .filter(|n| n.ends_with(".conf") && !n.starts_with('.') && !n.contains('/'))
            .collect();
        for n in uniq {
            count += 1;
            if count > MAX_FILES {
                out.problems.push(format!(
                    "more than {MAX_FILES} sysctl.d files; rest ignored"
                ));
                break;
            }
            let path = format!("{dir}/{n}");
            match chosen.entry(n) {
                std::collections::btree_map::Entry::Occupied(o) => {
                    later.push((o.key().clone(), path));
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(path);
                }
            }
        }
    }
    let mut order: Vec<String> = chosen.values().cloned().collect();
    if applier == Applier::ProcpsSystem {
        order.push(SYSCTL_CONF.to_string());
    }
    let mut empty: BTreeSet<String> = BTreeSet::new();
    for path in &order {
        match files.read(path) {
            None => {
                if path != SYSCTL_CONF {
                    // Listed but gone: a dangling link (e.g. to /dev/null
                    // outside what the caller resolves): masks all the same.
                    empty.insert(path.clone());
                    out.files.push(path.clone());
                }
            }
            Some(Err(e)) => {
                out.problems.push(format!("{path}: unreadable: {e}"));
                empty.insert(path.clone());
            }
            Some(Ok(b)) => {
                out.files.push(path.clone());
                if b.iter().all(|c| c.is_ascii_whitespace()) {
                    empty.insert(path.clone());
                }
                let b = if b.len() > MAX_BYTES {
                    out.problems.push(format!(
                        "{path}: {} bytes, only the first {MAX_BYTES} read",
                        b.len()
                    ));
                    &b[..MAX_BYTES]
                } else {
                    &b[..]
                };
                apply_text(&String::from_utf8_lossy(b), path, &mut out);
            }
        }
    }
    for (n, path) in later {
        let by = chosen.get(&n).cloned().unwrap_or_default();
        out.masked.push(Masked {
            path,
            by_empty: empty.contains(&by),
            by,
        });
    }
    out
}

/// Apply one file's assignments on top of `out`.
pub fn apply_text(text: &str, file: &str, out: &mut Sysctl) {
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let (ignore_errors, line) = match line.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let Some((k, v)) = line.split_once('=') else {
            out.problems
                .push(format!("{file}:{lineno}: not an assignment, ignored"));
            continue;
        };
        let k = k.trim();
        if k.is_empty() {
            out.problems
                .push(format!("{file}:{lineno}: empty key, ignored"));
            continue;
        }
        let glob = k.contains(['*', '?', '[']);
        let key = if glob {
            k.to_string()
        } else {
            normalize_key(k)
        };
        let value = Sourced::new(v.trim().to_string(), file, lineno);
        if let Some(e) = out.entries.get_mut(&key) {
            let old = std::mem::replace(&mut e.value, value);
            if e.overridden.len() < MAX_OVERRIDDEN {
                e.overridden.push(old);
            }
            e.ignore_errors = ignore_errors;
            continue;
        }
        if out.entries.len() >= MAX_KEYS {
            out.problems.push(format!(
                "{file}:{lineno}: more than {MAX_KEYS} keys; rest ignored"
            ));
            return;
        }
        out.entries.insert(
            key.clone(),
            SysctlEntry {
                key,
                value,
                ignore_errors,
                glob,
                overridden: Vec::new(),
            },
        );
    }
}
