//! Users and groups from `/etc/passwd`, `/etc/group`, `/etc/shadow` and
//! `/etc/gshadow`.
//!
//! Password hashes are NEVER stored: the shadow password field is reduced to
//! a [`PasswordState`] and a [`HashScheme`] while parsing, and the string is
//! dropped at once. No type in this module has a field that could hold it.
//! Duplicate names and ids are kept as facts (every line becomes an entry);
//! NIS compat lines (`+`, `-`, `+name`, `+@netgroup`) are listed separately.

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";
pub const SHADOW: &str = "/etc/shadow";
pub const GSHADOW: &str = "/etc/gshadow";
const MAX_BYTES: usize = 32 << 20;
const MAX_ENTRIES: usize = 200_000;
const MAX_MEMBERS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub gecos: String,
    pub home: String,
    pub shell: String,
    /// The passwd password field is `x` (the real one is in shadow).
    pub shadowed: bool,
    /// State of the passwd password field itself: `x` (see shadow) reads as
    /// `NoPassword`, which is what it is if /etc/shadow has no entry.
    pub passwd_field: PasswordState,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub gid: Option<u32>,
    pub members: Vec<String>,
    pub file: String,
    pub line: usize,
}

/// What the password field says, without the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordState {
    /// A usable hash.
    Set,
    /// Empty field: login without a password.
    Empty,
    /// `!` or `*` prefix in front of a hash (locked, hash kept).
    Locked,
    /// `!`, `!!`, `*`, `*LK*`… alone: no password can match.
    NoPassword,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashScheme {
    Md5,
    Sha256,
    Sha512,
    Yescrypt,
    GostYescrypt,
    Bcrypt,
    Scrypt,
    Sunmd5,
    BsdiDes,
    Des,
    Unknown,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowEntry {
    pub name: String,
    pub state: PasswordState,
    pub scheme: HashScheme,
    /// Days since 1970-01-01 of the last change (0: must change at next login).
    pub last_change: Option<i64>,
    pub min_days: Option<i64>,
    pub max_days: Option<i64>,
    pub warn_days: Option<i64>,
    pub inactive_days: Option<i64>,
    pub expire: Option<i64>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GshadowEntry {
    pub name: String,
    pub state: PasswordState,
    pub scheme: HashScheme,
    pub admins: Vec<String>,
    pub members: Vec<String>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub shadow: Vec<ShadowEntry>,
    pub gshadow: Vec<GshadowEntry>,
    /// NIS compat lines (`+…`/`-…`): only their first field, the selector
    /// (`+`, `-name`, `+@netgroup`); the other fields are dropped as they
    /// may hold a hash.
    pub nis: Vec<Sourced<String>>,
    /// Which of the four files exist.
    pub present: Vec<String>,
    pub problems: Vec<String>,
}

impl Accounts {
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }
    pub fn shadow_of(&self, name: &str) -> Option<&ShadowEntry> {
        self.shadow.iter().find(|s| s.name == name)
    }
}

/// Reduce a password field to its state and scheme; the field is not kept.
pub fn classify(field: &str) -> (PasswordState, HashScheme) {
    if field.is_empty() {
        return (PasswordState::Empty, HashScheme::None);
    }
    let rest = field.trim_start_matches(['!', '*']);
    let locked = rest.len() != field.len();
    // `*LK*` (Solaris/illumos style lock) and `!!`/`!*` forms.
    let rest = rest.strip_prefix("LK*").unwrap_or(rest);
    if rest.is_empty() {
        return (PasswordState::NoPassword, HashScheme::None);
    }
    let scheme = scheme_of(rest);
    if locked {
        (PasswordState::Locked, scheme)
    } else if scheme == HashScheme::Unknown && !looks_like_hash(rest) {
        // `x`, `NP`, `LOCKED`…: no crypt(3) output can equal these.
        (PasswordState::NoPassword, scheme)
    } else {
        (PasswordState::Set, scheme)
    }
}

fn looks_like_hash(s: &str) -> bool {
    s.starts_with('$') || s.len() >= 13
}

fn scheme_of(h: &str) -> HashScheme {
    const DES: &str = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if let Some(rest) = h.strip_prefix('$') {
        let id = rest.split('$').next().unwrap_or("");
        return match id {
            "1" => HashScheme::Md5,
            "5" => HashScheme::Sha256,
            "6" => HashScheme::Sha512,
            "y" => HashScheme::Yescrypt,
            "gy" => HashScheme::GostYescrypt,
            "2" | "2a" | "2b" | "2x" | "2y" => HashScheme::Bcrypt,
            "7" => HashScheme::Scrypt,
            "md5" => HashScheme::Sunmd5,
            _ => HashScheme::Unknown,
        };
    }
    if h.starts_with('_') && h.len() == 20 {
        return HashScheme::BsdiDes;
    }
    if h.len() == 13 && h.chars().all(|c| DES.contains(c)) {
        return HashScheme::Des;
    }
    HashScheme::Unknown
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() {
        None
    } else {
        s.parse().ok()
    }
}

fn read(files: &dyn ConfigFiles, path: &str, out: &mut Accounts) -> Option<String> {
    match files.read(path) {
        None => None,
        Some(Err(e)) => {
            out.present.push(path.to_string());
            out.problems.push(format!("{path}: unreadable: {e}"));
            None
        }
        Some(Ok(mut b)) => {
            out.present.push(path.to_string());
            if b.len() > MAX_BYTES {
                out.problems.push(format!(
                    "{path}: {} bytes, only the first {MAX_BYTES} read",
                    b.len()
                ));
                b.truncate(MAX_BYTES);
            }
            Some(String::from_utf8_lossy(&b).into_owned())
        }
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|m| !m.is_empty())
        .take(MAX_MEMBERS)
        .map(clean)
        .collect()
}

/// Lines worth parsing: (line number, line), skipping blanks and `#` comments.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .take(MAX_ENTRIES)
}

/// A NIS compat line reduced to its selector (`+`, `-name`, `+@netgroup`):
/// its other fields may hold a hash (or, on a damaged line, anything).
fn nis_line(l: &str) -> String {
    clean(l.split(':').next().unwrap_or(""))
}

/// Whether a string holds something shaped like a crypt(3) hash
/// (`$id$` with a short alphanumeric id).
fn hashlike(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'$'
            && b[i + 1..]
                .iter()
                .take(5)
                .position(|&d| d == b'$')
                .is_some_and(|j| j > 0 && b[i + 1..i + 1 + j].iter().all(u8::is_ascii_alphanumeric))
    })
}

/// A string field as stored: replaced when it looks like a hash, so that
/// a damaged or shifted line cannot carry one into the result.
fn clean(s: &str) -> String {
    if hashlike(s) {
        "(redacted)".to_string()
    } else {
        s.to_string()
    }
}

pub fn parse(files: &dyn ConfigFiles) -> Accounts {
    let mut out = Accounts::default();
    if let Some(t) = read(files, PASSWD, &mut out) {
        parse_passwd(&t, PASSWD, &mut out);
    }
    if let Some(t) = read(files, GROUP, &mut out) {
        parse_group(&t, GROUP, &mut out);
    }
    if let Some(t) = read(files, SHADOW, &mut out) {
        parse_shadow(&t, SHADOW, &mut out);
    }
    if let Some(t) = read(files, GSHADOW, &mut out) {
        parse_gshadow(&t, GSHADOW, &mut out);
    }
    out
}

/// A shadow name field that looks like a hash (a shifted, malformed line)
/// is not kept.
fn safe_name(name: &str, file: &str, n: usize, out: &mut Accounts) -> String {
    if name.starts_with('$') || name.len() > 256 || hashlike(name) {
        out.problems.push(format!(
            "{file}:{n}: name field looks like a hash; not kept"
        ));
        "(redacted)".to_string()
    } else {
        name.to_string()
    }
}

fn is_nis(l: &str) -> bool {
    l.starts_with('+') || l.starts_with('-')
}

pub fn parse_passwd(text: &str, file: &str, out: &mut Accounts) {
    for (n, l) in lines(text) {
        if is_nis(l) {
            out.nis.push(Sourced::new(nis_line(l), file, n));
            continue;
        }
        let f: Vec<&str> = l.split(':').collect();
        if f.len() != 7 {
            out.problems
                .push(format!("{file}:{n}: {} fields instead of 7", f.len()));
            if f.len() < 3 {
                continue;
            }
        }
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let (passwd_field, _) = classify(get(1));
        let uid = num(get(2));
        let gid = num(get(3));
        if uid.is_none() || gid.is_none() {
            out.problems.push(format!("{file}:{n}: bad uid or gid"));
        }
        out.users.push(User {
            name: clean(get(0)),
            uid,
            gid,
            gecos: clean(get(4)),
            home: clean(get(5)),
            shell: clean(get(6)),
            shadowed: get(1) == "x",
            passwd_field,
            file: file.to_string(),
            line: n,
        });
    }
}

pub fn parse_group(text: &str, file: &str, out: &mut Accounts) {
    for (n, l) in lines(text) {
        if is_nis(l) {
            out.nis.push(Sourced::new(nis_line(l), file, n));
            continue;
        }
        let f: Vec<&str> = l.split(':').collect();
        if f.len() != 4 {
            out.problems
                .push(format!("{file}:{n}: {} fields instead of 4", f.len()));
            if f.len() < 3 {
                continue;
            }
        }
        let gid = num(f[2]);
        if gid.is_none() {
            out.problems.push(format!("{file}:{n}: bad gid"));
        }
        out.groups.push(Group {
            name: clean(f[0]),
            gid,
            members: list(f.get(3).copied().unwrap_or("")),
            file: file.to_string(),
            line: n,
        });
    }
}

pub fn parse_shadow(text: &str, file: &str, out: &mut Accounts) {
    for (n, l) in lines(text) {
        if is_nis(l) {
            out.nis.push(Sourced::new(nis_line(l), file, n));
            continue;
        }
        let f: Vec<&str> = l.split(':').collect();
        if f.len() != 9 {
            out.problems
                .push(format!("{file}:{n}: {} fields instead of 9", f.len()));
            if f.len() < 2 {
                continue;
            }
        }
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let (state, scheme) = classify(get(1));
        let name = safe_name(get(0), file, n, out);
        out.shadow.push(ShadowEntry {
            name,
            state,
            scheme,
            last_change: num(get(2)),
            min_days: num(get(3)),
            max_days: num(get(4)),
            warn_days: num(get(5)),
            inactive_days: num(get(6)),
            expire: num(get(7)),
            file: file.to_string(),
            line: n,
        });
    }
}

pub fn parse_gshadow(text: &str, file: &str, out: &mut Accounts) {
    for (n, l) in lines(text) {
        if is_nis(l) {
            out.nis.push(Sourced::new(nis_line(l), file, n));
            continue;
        }
        let f: Vec<&str> = l.split(':').collect();
        if f.len() != 4 {
            out.problems
                .push(format!("{file}:{n}: {} fields instead of 4", f.len()));
            if f.len() < 2 {
                continue;
            }
        }
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let (state, scheme) = classify(get(1));
        let name = safe_name(get(0), file, n, out);
        out.gshadow.push(GshadowEntry {
            name,
            state,
            scheme,
            admins: list(get(2)),
            members: list(get(3)),
            file: file.to_string(),
            line: n,
        });
    }
}
