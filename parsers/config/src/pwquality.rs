//! libpwquality configuration: `/etc/security/pwquality.conf` and
//! `/etc/security/pwquality.conf.d/*.conf`.
//!
//! Order, from pwquality.conf(5): "The libpwquality library also first reads
//! all *.conf files from the /etc/security/pwquality.conf.d directory in ASCII
//! sorted order. The values of the same settings are overridden in the order
//! the files are parsed." So the `.d` files come first (bytewise order), then
//! the main file, and the last setting wins. Lines are `name = value` with
//! blanks ignored around `=` and at both ends; `#` starts a comment (anywhere
//! on the line, as libpwquality cuts the line at `#`); a bare name
//! (`enforce_for_root`, `dictcheck`…) is a flag, recorded with an empty value.
//! Names are kept in lower case as libpwquality compares them without case.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

pub const MAIN: &str = "/etc/security/pwquality.conf";
pub const DIR: &str = "/etc/security/pwquality.conf.d";
const MAX_BYTES: usize = 1 << 20;
const MAX_FILES: usize = 1000;
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PwQuality {
    /// Files read, in the order they were applied.
    pub files: Vec<String>,
    /// Effective raw values by lower-case name (last setting wins); a bare
    /// flag has an empty value.
    pub entries: BTreeMap<String, Sourced<String>>,
    /// Settings that a later one replaced: (name, value with its place).
    pub overridden: Vec<(String, Sourced<String>)>,
    pub problems: Vec<String>,
}

impl PwQuality {
    pub fn get(&self, key: &str) -> Option<&Sourced<String>> {
        self.entries.get(&key.to_ascii_lowercase())
    }
    /// Whether a key is present at all (for bare flags like `enforce_for_root`).
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    fn int(&self, key: &str) -> Option<Sourced<i64>> {
        let e = self.get(key)?;
        e.value
            .trim()
            .parse::<i64>()
            .ok()
            .map(|v| Sourced::new(v, e.file.clone(), e.line))
    }
    pub fn minlen(&self) -> Option<Sourced<i64>> {
        self.int("minlen")
    }
    pub fn dcredit(&self) -> Option<Sourced<i64>> {
        self.int("dcredit")
    }
    pub fn ucredit(&self) -> Option<Sourced<i64>> {
        self.int("ucredit")
    }
    pub fn lcredit(&self) -> Option<Sourced<i64>> {
        self.int("lcredit")
    }
    pub fn ocredit(&self) -> Option<Sourced<i64>> {
        self.int("ocredit")
    }
    pub fn minclass(&self) -> Option<Sourced<i64>> {
        self.int("minclass")
    }
    pub fn maxrepeat(&self) -> Option<Sourced<i64>> {
        self.int("maxrepeat")
    }
    pub fn maxclassrepeat(&self) -> Option<Sourced<i64>> {
        self.int("maxclassrepeat")
    }
    pub fn difok(&self) -> Option<Sourced<i64>> {
        self.int("difok")
    }
    pub fn retry(&self) -> Option<Sourced<i64>> {
        self.int("retry")
    }
    /// `dictcheck = N`; a bare `dictcheck` flag reads as 1.
    pub fn dictcheck(&self) -> Option<Sourced<i64>> {
        self.flag_or_int("dictcheck")
    }
    /// `enforcing = N`; a bare `enforcing` flag reads as 1.
    pub fn enforcing(&self) -> Option<Sourced<i64>> {
        self.flag_or_int("enforcing")
    }
    /// `enforce_for_root` present.
    pub fn enforce_for_root(&self) -> Option<Sourced<bool>> {
        self.get("enforce_for_root")
            .map(|e| Sourced::new(true, e.file.clone(), e.line))
    }
    fn flag_or_int(&self, key: &str) -> Option<Sourced<i64>> {
        let e = self.get(key)?;
        if e.value.is_empty() {
            return Some(Sourced::new(1, e.file.clone(), e.line));
        }
        self.int(key)
    }
}

pub fn parse(files: &dyn ConfigFiles) -> PwQuality {
    let mut out = PwQuality::default();
    let mut paths = Vec::new();
    match files.list(DIR) {
        None => {}
        Some(Err(e)) => out.problems.push(format!("{DIR}: cannot list: {e}")),
        Some(Ok(mut names)) => {
            names.sort();
            names.retain(|n| n.ends_with(".conf") && !n.starts_with('.'));
            if names.len() > MAX_FILES {
                out.problems.push(format!(
                    "{DIR}: {} files, only {MAX_FILES} read",
                    names.len()
                ));
                names.truncate(MAX_FILES);
            }
            paths.extend(names.into_iter().map(|n| format!("{DIR}/{n}")));
        }
    }
    paths.push(MAIN.to_string());
    for p in paths {
        match files.read(&p) {
            None => {}
            Some(Err(e)) => out.problems.push(format!("{p}: unreadable: {e}")),
            Some(Ok(b)) => {
                let b = if b.len() > MAX_BYTES {
                    out.problems.push(format!(
                        "{p}: {} bytes, only the first {MAX_BYTES} read",
                        b.len()
                    ));
                    &b[..MAX_BYTES]
                } else {
                    &b[..]
                };
                out.files.push(p.clone());
                parse_text(&String::from_utf8_lossy(b), &p, &mut out);
            }
        }
    }
    out
}

/// Apply one file's text on top of `out`.
pub fn parse_text(text: &str, file: &str, out: &mut PwQuality) {
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => (line, ""),
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            out.problems
                .push(format!("{file}:{lineno}: malformed line"));
            continue;
        }
        let key = name.to_ascii_lowercase();
        if out.entries.len() >= MAX_KEYS && !out.entries.contains_key(&key) {
            out.problems.push(format!(
                "{file}:{lineno}: more than {MAX_KEYS} settings; rest ignored"
            ));
            return;
        }
        if let Some(old) = out
            .entries
            .insert(key.clone(), Sourced::new(value.to_string(), file, lineno))
        {
            if out.overridden.len() < MAX_KEYS {
                out.overridden.push((key, old));
            }
        }
    }
}
