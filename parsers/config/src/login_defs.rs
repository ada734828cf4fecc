//! `/etc/login.defs` (shadow-utils).
//!
//! Semantics follow shadow-utils' `getdef.c` (`def_load`/`putdef_str`):
//! one `NAME VALUE` pair per line, `#` starts a comment line only when it is
//! the first non-blank character, names are case-sensitive and compared as
//! written, the value starts after the blanks and double quotes that follow
//! the name and ends at the next double quote (or the end of the line, with
//! trailing blanks removed), a line with a name but no value is ignored, and
//! when a name is defined twice the LAST definition wins (`putdef_str`
//! replaces the stored value). Numbers are read like `getdef_num`/`getlong`:
//! `strtol` with base 0, so `022` is octal, `0x12` hex and `22` decimal —
//! this matters for `UMASK`. A value that is not entirely a number makes
//! shadow-utils fall back to its compiled default; the typed getters return
//! `None` for it and the raw value stays available.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

pub const PATH: &str = "/etc/login.defs";
const MAX_BYTES: usize = 4 << 20;
const MAX_KEYS: usize = 10_000;

/// One definition that a later line replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overridden {
    pub key: String,
    pub value: Sourced<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginDefs {
    /// Whether /etc/login.defs exists.
    pub present: bool,
    /// Effective raw values by name (last definition wins).
    pub entries: BTreeMap<String, Sourced<String>>,
    /// Earlier definitions that a later one replaced, in file order.
    pub overridden: Vec<Overridden>,
    pub problems: Vec<String>,
}

/// `strtol(s, &end, 0)` with the whole string consumed (shadow's `getlong`).
pub fn parse_c_long(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) =
        if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (16, h)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (8, &rest[1..])
        } else {
            (10, rest)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

impl LoginDefs {
    pub fn get(&self, key: &str) -> Option<&Sourced<String>> {
        self.entries.get(key)
    }

    fn num(&self, key: &str) -> Option<Sourced<i64>> {
        let e = self.entries.get(key)?;
        parse_c_long(&e.value).map(|v| Sourced::new(v, e.file.clone(), e.line))
    }

    pub fn pass_max_days(&self) -> Option<Sourced<i64>> {
        self.num("PASS_MAX_DAYS")
    }
    pub fn pass_min_days(&self) -> Option<Sourced<i64>> {
        self.num("PASS_MIN_DAYS")
    }
    pub fn pass_warn_age(&self) -> Option<Sourced<i64>> {
        self.num("PASS_WARN_AGE")
    }
    pub fn pass_min_len(&self) -> Option<Sourced<i64>> {
        self.num("PASS_MIN_LEN")
    }
    /// UMASK as shadow reads it (base 0: `022` octal, `22` decimal).
    pub fn umask(&self) -> Option<Sourced<u32>> {
        let n = self.num("UMASK")?;
        u32::try_from(n.value)
            .ok()
            .filter(|v| *v <= 0o7777)
            .map(|v| Sourced::new(v, n.file, n.line))
    }
    /// ENCRYPT_METHOD as written (e.g. `SHA512`, `YESCRYPT`).
    pub fn encrypt_method(&self) -> Option<Sourced<String>> {
        self.entries.get("ENCRYPT_METHOD").cloned()
    }
    pub fn sha_crypt_min_rounds(&self) -> Option<Sourced<i64>> {
        self.num("SHA_CRYPT_MIN_ROUNDS")
    }
    pub fn sha_crypt_max_rounds(&self) -> Option<Sourced<i64>> {
        self.num("SHA_CRYPT_MAX_ROUNDS")
    }
    pub fn yescrypt_cost_factor(&self) -> Option<Sourced<i64>> {
        self.num("YESCRYPT_COST_FACTOR")
    }
    pub fn login_retries(&self) -> Option<Sourced<i64>> {
        self.num("LOGIN_RETRIES")
    }
    pub fn fail_delay(&self) -> Option<Sourced<i64>> {
        self.num("FAIL_DELAY")
    }
}

/// Parse /etc/login.defs through the caller's file access.
pub fn parse(files: &dyn ConfigFiles) -> LoginDefs {
    let mut out = LoginDefs::default();
    match files.read(PATH) {
        None => return out,
        Some(Err(e)) => {
            out.present = true;
            out.problems.push(format!("{PATH}: unreadable: {e}"));
            return out;
        }
        Some(Ok(bytes)) => {
            out.present = true;
            let bytes = if bytes.len() > MAX_BYTES {
                out.problems.push(format!(
                    "{PATH}: {} bytes, only the first {MAX_BYTES} read",
                    bytes.len()
                ));
                &bytes[..MAX_BYTES]
            } else {
                &bytes[..]
            };
            parse_text(&String::from_utf8_lossy(bytes), PATH, &mut out);
        }
    }
    out
}

/// Parse login.defs text (exposed for fuzzing and tests).
pub fn parse_text(text: &str, file: &str, out: &mut LoginDefs) {
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim_end_matches(|c: char| c.is_ascii_whitespace());
        let name_start = line.trim_start_matches([' ', '\t']);
        if name_start.is_empty() || name_start.starts_with('#') {
            continue;
        }
        let Some(end) = name_start.find([' ', '\t']) else {
            out.problems
                .push(format!("{file}:{lineno}: name without a value ignored"));
            continue;
        };
        let name = &name_start[..end];
        let rest = name_start[end..].trim_start_matches([' ', '\t', '"']);
        let value = match rest.find('"') {
            Some(q) => &rest[..q],
            None => rest,
        };
        if out.entries.len() >= MAX_KEYS && !out.entries.contains_key(name) {
            out.problems.push(format!(
                "{file}:{lineno}: more than {MAX_KEYS} names; rest ignored"
            ));
            break;
        }
        let new = Sourced::new(value.to_string(), file, lineno);
        if let Some(old) = out.entries.insert(name.to_string(), new) {
            if out.overridden.len() >= MAX_KEYS {
                continue;
            }
            out.overridden.push(Overridden {
                key: name.to_string(),
                value: old,
            });
        }
    }
}
