//! `/etc/sudoers` and what it includes, as parsed facts (sudoers(5)).
//!
//! - `#include` / `@include FILE` (quoted or not; a relative path is relative
//!   to the including file's directory, sudo ≥ 1.9.1; `%h` is not expanded:
//!   the include is reported as a problem).
//! - `#includedir` / `@includedir DIR`: files of DIR whose names neither end
//!   in `~` nor contain a `.`, in bytewise order.
//! - Include depth is bounded to 16 and cycles are reported, not followed.
//! - Lines ending in `\` continue on the next line. `#` starts a comment
//!   unless it is an include directive or a `#uid` / `%#gid` id.
//! - `Defaults` (with `@host`, `:user`, `!cmnd`, `>runas` bindings), the four
//!   alias kinds and user specifications are kept as written, split into
//!   their parts; nothing is evaluated.

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

pub const PATH: &str = "/etc/sudoers";
const MAX_DEPTH: usize = 16;
const MAX_FILES: usize = 1000;
const MAX_BYTES: usize = 4 << 20;
const MAX_ITEMS: usize = 100_000;

/// One `Defaults` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Default {
    /// `""` for plain `Defaults`, else `@`, `:`, `!` or `>`.
    pub binding_kind: String,
    /// The list after the binding character (`Defaults:alice` → `["alice"]`).
    pub binding: Vec<String>,
    pub name: String,
    /// `!name` (a boolean turned off).
    pub negated: bool,
    /// `=`, `+=`, `-=`, or `""` for a bare flag.
    pub op: String,
    /// Value with surrounding quotes removed.
    pub value: Option<String>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    /// `User_Alias`, `Runas_Alias`, `Host_Alias` or `Cmnd_Alias`.
    pub kind: String,
    pub name: String,
    pub members: Vec<String>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmndSpec {
    /// `(users:groups)`: `None` when no Runas spec applies (root).
    pub runas_users: Option<Vec<String>>,
    pub runas_groups: Option<Vec<String>>,
    /// `NOPASSWD`, `NOEXEC`, `SETENV`… in force for this command (tags carry
    /// over to the following commands of the same list, as in sudo).
    pub tags: Vec<String>,
    /// `CWD=`, `CHROOT=`, `ROLE=`, `TYPE=`, `NOTBEFORE=`… options.
    pub options: Vec<(String, String)>,
    /// The command (or alias, or `ALL`) as written, without a leading `!`.
    pub command: String,
    pub negated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Privilege {
    pub hosts: Vec<String>,
    pub commands: Vec<CmndSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSpec {
    pub users: Vec<String>,
    pub privileges: Vec<Privilege>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sudoers {
    /// Files read, in order.
    pub files: Vec<String>,
    pub includes: Vec<Sourced<String>>,
    pub defaults: Vec<Default>,
    pub aliases: Vec<Alias>,
    pub user_specs: Vec<UserSpec>,
    pub problems: Vec<String>,
}

impl Sudoers {
    /// The last `Defaults` line (without binding) that sets `name`, as sudo
    /// applies them in order.
    pub fn global_default(&self, name: &str) -> Option<&Default> {
        self.defaults
            .iter()
            .rev()
            .find(|d| d.binding_kind.is_empty() && d.name == name)
    }
}

const TAGS: &[&str] = &[
    "NOPASSWD",
    "PASSWD",
    "NOEXEC",
    "EXEC",
    "SETENV",
    "NOSETENV",
    "LOG_INPUT",
    "NOLOG_INPUT",
    "LOG_OUTPUT",
    "NOLOG_OUTPUT",
    "MAIL",
    "NOMAIL",
    "FOLLOW",
    "NOFOLLOW",
    "INTERCEPT",
    "NOINTERCEPT",
];
const OPTIONS: &[&str] = &[
    "ROLE",
    "TYPE",
    "CWD",
    "CHROOT",
    "NOTBEFORE",
    "NOTAFTER",
    "TIMEOUT",
    "APPARMOR_PROFILE",
    "PRIVS",
    "LIMITPRIVS",
];
const DIGESTS: &[&str] = &["sha224", "sha256", "sha384", "sha512"];
const ALIAS_KINDS: &[&str] = &[
    "User_Alias",
    "Runas_Alias",
    "Host_Alias",
    "Cmnd_Alias",
    "Cmd_Alias",
];

pub fn parse(files: &dyn ConfigFiles) -> Sudoers {
    let mut out = Sudoers::default();
    let mut stack = Vec::new();
    if files.read(PATH).is_some() {
        parse_file(files, PATH, &mut stack, &mut out);
    }
    out
}

/// Parse sudoers text alone (no includes followed): for fuzzing and tests.
pub fn parse_text(text: &str, file: &str) -> Sudoers {
    let mut out = Sudoers::default();
    parse_lines(text, file, &mut out, &mut |_, _, _| {});
    out
}

fn parse_file(files: &dyn ConfigFiles, path: &str, stack: &mut Vec<String>, out: &mut Sudoers) {
    if stack.iter().any(|p| p == path) {
        out.problems.push(format!(
            "{path}: include cycle ({}), not followed",
            stack.join(" -> ")
        ));
        return;
    }
    if stack.len() >= MAX_DEPTH {
        out.problems.push(format!(
            "{path}: include depth over {MAX_DEPTH}, not followed"
        ));
        return;
    }
    if out.files.len() >= MAX_FILES {
        out.problems
            .push(format!("{path}: more than {MAX_FILES} files, not read"));
        return;
    }
    let text = match files.read(path) {
        None => {
            out.problems.push(format!("{path}: included but missing"));
            return;
        }
        Some(Err(e)) => {
            out.problems.push(format!("{path}: unreadable: {e}"));
            return;
        }
        Some(Ok(mut b)) => {
            if b.len() > MAX_BYTES {
                out.problems.push(format!(
                    "{path}: {} bytes, only the first {MAX_BYTES} read",
                    b.len()
                ));
                b.truncate(MAX_BYTES);
            }
            String::from_utf8_lossy(&b).into_owned()
        }
    };
    out.files.push(path.to_string());
    stack.push(path.to_string());
    // Includes take effect where they appear: each logical line is parsed,
    // then the files it includes, before the next line.
    let mut incs: Vec<(bool, String, usize)> = Vec::new();
    let logical = logical_lines(&text);
    for (lineno, l) in logical {
        let mut sink = Sudoers::default();
        parse_one(&l, path, lineno, &mut sink, &mut |d, t, n| {
            incs.push((d, t, n))
        });
        merge(out, sink);
        for (dir, target, n) in incs.drain(..) {
            include(files, path, dir, &target, n, stack, out);
        }
        if out.defaults.len() + out.user_specs.len() + out.aliases.len() > MAX_ITEMS {
            out.problems.push(format!(
                "{path}: more than {MAX_ITEMS} entries; rest ignored"
            ));
            break;
        }
    }
    stack.pop();
}

fn merge(out: &mut Sudoers, s: Sudoers) {
    out.includes.extend(s.includes);
    out.defaults.extend(s.defaults);
    out.aliases.extend(s.aliases);
    out.user_specs.extend(s.user_specs);
    out.problems.extend(s.problems);
}

fn dirname(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) => "/",
        Some(i) => &p[..i],
        None => "/",
    }
}

fn include(
    files: &dyn ConfigFiles,
    from: &str,
    dir: bool,
    target: &str,
    line: usize,
    stack: &mut Vec<String>,
    out: &mut Sudoers,
) {
    if target.contains("%h") {
        out.problems.push(format!(
            "{from}:{line}: include of {target} uses %h (host name); not followed"
        ));
        return;
    }
    let target = if target.starts_with('/') {
        target.to_string()
    } else {
        format!("{}/{}", dirname(from).trim_end_matches('/'), target)
    };
    if !dir {
        parse_file(files, &target, stack, out);
        return;
    }
    match files.list(&target) {
        None => out
            .problems
            .push(format!("{from}:{line}: includedir {target} missing")),
        Some(Err(e)) => out.problems.push(format!(
            "{from}:{line}: includedir {target}: cannot list: {e}"
        )),
        Some(Ok(mut names)) => {
            names.sort();
            names.dedup();
            for n in names {
                if n.ends_with('~') || n.contains('.') || n.contains('/') {
                    continue;
                }
                parse_file(
                    files,
                    &format!("{}/{n}", target.trim_end_matches('/')),
                    stack,
                    out,
                );
            }
        }
    }
}

/// Join `\`-continued lines: (first line number, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut v = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if cur.is_empty() {
            start = i + 1;
        }
        let l = raw.trim_end_matches('\r');
        let trailing = l.len() - l.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            cur.push_str(&l[..l.len() - 1]);
            cur.push(' ');
            continue;
        }
        cur.push_str(l);
        v.push((start, std::mem::take(&mut cur)));
    }
    if !cur.is_empty() {
        v.push((start, cur));
    }
    v
}

fn parse_lines(
    text: &str,
    file: &str,
    out: &mut Sudoers,
    inc: &mut dyn FnMut(bool, String, usize),
) {
    for (n, l) in logical_lines(text) {
        parse_one(&l, file, n, out, inc);
        if out.defaults.len() + out.user_specs.len() + out.aliases.len() > MAX_ITEMS {
            out.problems.push(format!(
                "{file}: more than {MAX_ITEMS} entries; rest ignored"
            ));
            break;
        }
    }
}

/// Remove a comment: an unquoted, unescaped `#` not followed by a digit
/// (uid) and not preceded by `%` (gid).
fn strip_comment(l: &str) -> &str {
    let b = l.as_bytes();
    let mut q = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => q = !q,
            b'#' if !q => {
                let next_digit = b.get(i + 1).is_some_and(|c| c.is_ascii_digit());
                let after_pct = i > 0 && b[i - 1] == b'%';
                if !next_digit && !after_pct {
                    return &l[..i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    l
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    };
    s.replace("\\\"", "\"")
}

/// Split on an unescaped, unquoted separator.
fn split_top(s: &str, sep: u8) -> Vec<String> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let mut q = false;
    let mut depth = 0i32;
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => q = !q,
            b'(' if !q => depth += 1,
            b')' if !q => depth -= 1,
            c if c == sep && !q && depth <= 0 => {
                parts.push(s[start..i].to_string());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(s[start.min(s.len())..].to_string());
    parts
}

fn items(s: &str) -> Vec<String> {
    split_top(s, b',')
        .into_iter()
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn parse_one(
    raw: &str,
    file: &str,
    n: usize,
    out: &mut Sudoers,
    inc: &mut dyn FnMut(bool, String, usize),
) {
    let t = raw.trim();
    for (kw, dir) in [
        ("#includedir", true),
        ("@includedir", true),
        ("#include", false),
        ("@include", false),
    ] {
        if let Some(rest) = t.strip_prefix(kw) {
            if !rest.starts_with([' ', '\t']) {
                continue;
            }
            let target = unquote(rest);
            if target.is_empty() {
                out.problems
                    .push(format!("{file}:{n}: include without a path"));
                return;
            }
            out.includes
                .push(Sourced::new(format!("{kw} {target}"), file, n));
            inc(dir, target, n);
            return;
        }
    }
    let t = strip_comment(t).trim();
    if t.is_empty() {
        return;
    }
    let first = t.split([' ', '\t']).next().unwrap_or("");
    if first.starts_with("Defaults") {
        parse_defaults(t, file, n, out);
    } else if ALIAS_KINDS.contains(&first) {
        parse_alias(first, t[first.len()..].trim(), file, n, out);
    } else {
        parse_userspec(t, file, n, out);
    }
}

fn parse_defaults(t: &str, file: &str, n: usize, out: &mut Sudoers) {
    let rest = &t["Defaults".len()..];
    let (kind, binding, params) = match rest.chars().next() {
        Some(c @ ('@' | ':' | '!' | '>')) => {
            let r = &rest[1..];
            // The binding list ends at the first blank not next to a comma.
            let end = binding_end(r);
            (c.to_string(), items(&r[..end]), r[end..].trim())
        }
        Some(' ' | '\t') => (String::new(), Vec::new(), rest.trim()),
        _ => {
            out.problems
                .push(format!("{file}:{n}: malformed Defaults line"));
            return;
        }
    };
    if params.is_empty() {
        out.problems
            .push(format!("{file}:{n}: Defaults without parameters"));
        return;
    }
    for p in items(params) {
        let (neg, p) = match p.strip_prefix('!') {
            Some(r) => (true, r.trim_start()),
            None => (false, p.as_str()),
        };
        let (name, op, value) = if let Some(i) = p.find("+=") {
            (&p[..i], "+=", Some(unquote(&p[i + 2..])))
        } else if let Some(i) = p.find("-=") {
            (&p[..i], "-=", Some(unquote(&p[i + 2..])))
        } else if let Some(i) = p.find('=') {
            (&p[..i], "=", Some(unquote(&p[i + 1..])))
        } else {
            (p, "", None)
        };
        out.defaults.push(Default {
            binding_kind: kind.clone(),
            binding: binding.clone(),
            name: name.trim().to_string(),
            negated: neg,
            op: op.to_string(),
            value,
            file: file.to_string(),
            line: n,
        });
    }
}

fn binding_end(r: &str) -> usize {
    let b = r.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            let before = r[..i].trim_end().ends_with(',');
            let after = r[i..].trim_start().starts_with(',');
            if !before && !after {
                return i;
            }
        }
        i += 1;
    }
    b.len()
}

fn parse_alias(kind: &str, rest: &str, file: &str, n: usize, out: &mut Sudoers) {
    let kind = if kind == "Cmd_Alias" {
        "Cmnd_Alias"
    } else {
        kind
    };
    for def in split_top(rest, b':') {
        let Some((name, members)) = def.split_once('=') else {
            out.problems.push(format!("{file}:{n}: malformed {kind}"));
            continue;
        };
        out.aliases.push(Alias {
            kind: kind.to_string(),
            name: name.trim().to_string(),
            members: items(members),
            file: file.to_string(),
            line: n,
        });
    }
}

/// Position of the first unescaped, unquoted `=` not inside parentheses.
fn find_eq(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let (mut q, mut depth, mut i) = (false, 0i32, 0);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => q = !q,
            b'(' if !q => depth += 1,
            b')' if !q => depth -= 1,
            b'=' if !q && depth <= 0 => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn parse_userspec(t: &str, file: &str, n: usize, out: &mut Sudoers) {
    let Some(eq) = find_eq(t) else {
        out.problems
            .push(format!("{file}:{n}: not a sudoers entry"));
        return;
    };
    // users and first host list: "alice, bob ALL" (blanks around commas).
    let left = normalise_commas(&t[..eq]);
    let mut lp = left.splitn(2, ' ');
    let users = items(lp.next().unwrap_or(""));
    let hosts = items(lp.next().unwrap_or("").trim());
    if users.is_empty() || hosts.is_empty() {
        out.problems
            .push(format!("{file}:{n}: user spec without users or hosts"));
        return;
    }
    let mut privileges = Vec::new();
    let mut cur_hosts = hosts;
    let mut rest = t[eq + 1..].to_string();
    loop {
        // The command list ends at an unescaped ':' that is not part of a
        // tag and is followed by `hosts =`.
        let (cmnds, next) = split_privilege(&rest);
        privileges.push(Privilege {
            hosts: cur_hosts,
            commands: parse_cmnds(&cmnds),
        });
        let Some(next) = next else { break };
        let Some(eq) = find_eq(&next) else {
            out.problems
                .push(format!("{file}:{n}: host list without '=' after ':'"));
            break;
        };
        cur_hosts = items(&next[..eq]);
        rest = next[eq + 1..].to_string();
        if privileges.len() > 1000 {
            break;
        }
    }
    out.user_specs.push(UserSpec {
        users,
        privileges,
        file: file.to_string(),
        line: n,
    });
}

fn normalise_commas(s: &str) -> String {
    let mut o = String::new();
    for (i, part) in split_top(s.trim(), b',').iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str(part.trim());
    }
    o.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Split `cmnd_spec_list [: host_list = ...]` at the first separating ':'.
fn split_privilege(s: &str) -> (String, Option<String>) {
    let b = s.as_bytes();
    let (mut q, mut depth, mut i) = (false, 0i32, 0);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => q = !q,
            b'(' if !q => depth += 1,
            b')' if !q => depth -= 1,
            b':' if !q && depth <= 0 => {
                let word_start = s[..i]
                    .rfind(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == ':')
                    .map(|p| p + 1)
                    .unwrap_or(0);
                let word = &s[word_start..i];
                if !TAGS.contains(&word) && !DIGESTS.contains(&word) {
                    return (s[..i].to_string(), Some(s[i + 1..].to_string()));
                }
            }
            _ => {}
        }
        i += 1;
    }
    (s.to_string(), None)
}

fn parse_cmnds(list: &str) -> Vec<CmndSpec> {
    let mut v = Vec::new();
    let mut runas_u: Option<Vec<String>> = None;
    let mut runas_g: Option<Vec<String>> = None;
    let mut tags: Vec<String> = Vec::new();
    for item in split_top(list, b',').into_iter().take(10_000) {
        let mut s = item.trim();
        if s.is_empty() {
            continue;
        }
        if s.starts_with('(') {
            if let Some(end) = s.find(')') {
                let inner = &s[1..end];
                let (u, g) = match inner.split_once(':') {
                    Some((u, g)) => (items(u), Some(items(g))),
                    None => (items(inner), None),
                };
                runas_u = Some(u);
                runas_g = g;
                // A new Runas spec resets nothing else; sudo keeps tags.
                s = s[end + 1..].trim_start();
            }
        }
        let mut options = Vec::new();
        loop {
            let word_end = s.find([' ', '\t']).unwrap_or(s.len());
            let word = &s[..word_end];
            if let Some((k, val)) = word.split_once('=') {
                if OPTIONS.contains(&k) {
                    options.push((k.to_string(), unquote(val)));
                    s = s[word_end..].trim_start();
                    continue;
                }
            }
            if let Some((alg, hex)) = word.split_once(':') {
                if DIGESTS.contains(&alg) {
                    options.push((alg.to_string(), hex.to_string()));
                    s = s[word_end..].trim_start();
                    continue;
                }
            }
            if let Some(tag) = word.split(':').next() {
                if word.contains(':') && TAGS.contains(&tag) {
                    let tl = tag.len() + 1;
                    let positive = tag.strip_prefix("NO").unwrap_or(tag);
                    tags.retain(|t| t.strip_prefix("NO").unwrap_or(t) != positive);
                    tags.push(tag.to_string());
                    s = s[tl..].trim_start();
                    continue;
                }
            }
            break;
        }
        let (negated, cmd) = match s.strip_prefix('!') {
            Some(r) => (true, r.trim_start()),
            None => (false, s),
        };
        v.push(CmndSpec {
            runas_users: runas_u.clone(),
            runas_groups: runas_g.clone(),
            tags: tags.clone(),
            options,
            command: cmd.to_string(),
            negated,
        });
    }
    v
}
