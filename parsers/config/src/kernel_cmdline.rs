//! The kernel command line as configured in the image.
//!
//! - `/etc/default/grub`, then `/etc/default/grub.d/*.cfg` in bytewise order
//!   (the order `grub-mkconfig` sources them on Debian/Ubuntu):
//!   `GRUB_CMDLINE_LINUX` and `GRUB_CMDLINE_LINUX_DEFAULT` assignments with
//!   shell quoting (`'…'`, `"…"`, `\`), an `export` prefix, and `$VAR` /
//!   `${VAR}` references to variables assigned earlier in these files
//!   (anything else expands to nothing and is reported). Each argument keeps
//!   the file:line of the assignment its text came from, so
//!   `GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX audit=1"` keeps older
//!   arguments at their original line. Nothing is executed.
//! - `/boot/grub/grub.cfg` and `/boot/grub2/grub.cfg`: each `linux`,
//!   `linuxefi` or `linux16` line, with the title of its `menuentry`.
//!   `$name` in arguments is resolved from `/boot/grub2/grubenv` or
//!   `/boot/grub/grubenv` (`kernelopts` on RHEL 8) where present.
//! - `/boot/loader/entries/*.conf` (Boot Loader Specification, RHEL 9,
//!   Amazon Linux 2023, Fedora): `title`, `linux`, `options` lines (several
//!   `options` lines add up), with `$kernelopts`/`$tuned_params` resolved
//!   from grubenv as GRUB's `blscfg` does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

const MAX_BYTES: usize = 4 << 20;
const MAX_ARGS: usize = 4096;
const MAX_ENTRIES: usize = 2000;
const MAX_TOTAL_ARGS: usize = 200_000;
const MAX_VAR_LEN: usize = 64 * 1024;
/// grubenv is a 1024-byte block; anything much larger is not one.
const GRUBENV_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrubDefault {
    /// Files read (`/etc/default/grub`, `grub.d/*.cfg`), in order.
    pub files: Vec<String>,
    pub cmdline_linux: Vec<Sourced<String>>,
    pub cmdline_linux_default: Vec<Sourced<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootEntry {
    /// `grub.cfg` or `bls`.
    pub kind: String,
    pub title: Option<String>,
    /// Kernel image path as written.
    pub kernel: Option<String>,
    pub args: Vec<Sourced<String>>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelCmdline {
    pub grub_default: GrubDefault,
    pub entries: Vec<BootEntry>,
    /// Variables of grubenv used to resolve `$name` (key → value).
    pub grubenv: BTreeMap<String, Sourced<String>>,
    pub problems: Vec<String>,
}

impl KernelCmdline {
    /// Every argument from every source, with its place.
    pub fn all_args(&self) -> impl Iterator<Item = &Sourced<String>> {
        self.grub_default
            .cmdline_linux
            .iter()
            .chain(self.grub_default.cmdline_linux_default.iter())
            .chain(self.entries.iter().flat_map(|e| e.args.iter()))
    }
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

fn sorted_list(
    files: &dyn ConfigFiles,
    dir: &str,
    suffix: &str,
    problems: &mut Vec<String>,
) -> Vec<String> {
    match files.list(dir) {
        None => Vec::new(),
        Some(Err(e)) => {
            problems.push(format!("{dir}: cannot list: {e}"));
            Vec::new()
        }
        Some(Ok(mut v)) => {
            v.sort();
            v.dedup();
            v.retain(|n| n.ends_with(suffix) && !n.starts_with('.') && !n.contains('/'));
            v.truncate(MAX_ENTRIES);
            v.into_iter().map(|n| format!("{dir}/{n}")).collect()
        }
    }
}

pub fn parse(files: &dyn ConfigFiles) -> KernelCmdline {
    let mut out = KernelCmdline::default();
    // grubenv
    for p in ["/boot/grub2/grubenv", "/boot/grub/grubenv"] {
        if let Some(mut t) = read_text(files, p, &mut out.problems) {
            if t.len() > GRUBENV_MAX {
                out.problems.push(format!(
                    "{p}: larger than {GRUBENV_MAX} bytes; only the start read"
                ));
                let mut cut = GRUBENV_MAX;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
            }
            for (i, l) in t.lines().enumerate().take(10_000) {
                if l.starts_with('#') {
                    continue;
                }
                if let Some((k, v)) = l.split_once('=') {
                    out.grubenv
                        .entry(k.to_string())
                        .or_insert_with(|| Sourced::new(v.to_string(), p, i + 1));
                }
            }
        }
    }
    // /etc/default/grub
    let mut vars = Vars::default();
    let mut paths = vec!["/etc/default/grub".to_string()];
    paths.extend(sorted_list(
        files,
        "/etc/default/grub.d",
        ".cfg",
        &mut out.problems,
    ));
    for p in paths {
        if let Some(t) = read_text(files, &p, &mut out.problems) {
            out.grub_default.files.push(p.clone());
            parse_default_grub(&t, &p, &mut vars, &mut out.problems);
        }
    }
    out.grub_default.cmdline_linux = vars.args("GRUB_CMDLINE_LINUX");
    out.grub_default.cmdline_linux_default = vars.args("GRUB_CMDLINE_LINUX_DEFAULT");
    // grub.cfg
    for p in ["/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"] {
        if let Some(t) = read_text(files, p, &mut out.problems) {
            parse_grub_cfg(&t, p, &mut out);
        }
    }
    // BLS
    for p in sorted_list(files, "/boot/loader/entries", ".conf", &mut out.problems) {
        if let Some(t) = read_text(files, &p, &mut out.problems) {
            parse_bls(&t, &p, &mut out);
        }
    }
    out
}

/// Shell variables with per-character origin (index into `srcs`).
#[derive(Default)]
pub struct Vars {
    srcs: Vec<(String, usize)>,
    vals: BTreeMap<String, Vec<(char, usize)>>,
}

impl Vars {
    /// Arguments of a variable, each with the place its first character came from.
    pub fn args(&self, name: &str) -> Vec<Sourced<String>> {
        let Some(v) = self.vals.get(name) else {
            return Vec::new();
        };
        // The value lands verbatim on GRUB's `linux` line, where GRUB's
        // own quoting applies: split as GRUB does, keeping each word's origin.
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut has = false;
        let mut src = 0;
        let (mut sq, mut dq, mut esc) = (false, false, false);
        for &(c, s) in v {
            if !has {
                src = s;
            }
            if esc {
                cur.push(c);
                has = true;
                esc = false;
                continue;
            }
            match c {
                '\\' if !sq => {
                    esc = true;
                    has = true;
                }
                '\'' if !dq => {
                    sq = !sq;
                    has = true;
                }
                '"' if !sq => {
                    dq = !dq;
                    has = true;
                }
                c if c.is_whitespace() && !sq && !dq => {
                    if has {
                        let (f, l) = &self.srcs[src];
                        out.push(Sourced::new(std::mem::take(&mut cur), f.clone(), *l));
                        has = false;
                        if out.len() >= MAX_ARGS {
                            return out;
                        }
                    }
                }
                c => {
                    cur.push(c);
                    has = true;
                }
            }
        }
        if has {
            let (f, l) = &self.srcs[src];
            out.push(Sourced::new(cur, f.clone(), *l));
        }
        out
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Parse shell-like `NAME=value` lines of /etc/default/grub.
pub fn parse_default_grub(text: &str, file: &str, vars: &mut Vars, problems: &mut Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let start = i + 1;
        let mut l = lines[i].trim().to_string();
        i += 1;
        // Join lines while quotes are open or a line ends in a backslash.
        while (open_quote(&l) || l.ends_with('\\')) && i < lines.len() && l.len() < MAX_VAR_LEN {
            if l.ends_with('\\') && !open_quote(&l) {
                l.pop();
            } else {
                l.push('\n');
            }
            l.push_str(lines[i]);
            i += 1;
        }
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").map(str::trim).unwrap_or(t);
        let Some((name, value)) = t.split_once('=') else {
            continue; // commands (`if`, function calls…) are not evaluated
        };
        if !is_name(name) {
            continue;
        }
        if vars.srcs.len() > 100_000 {
            problems.push(format!("{file}:{start}: too many assignments"));
            return;
        }
        let src = vars.srcs.len();
        vars.srcs.push((file.to_string(), start));
        let v = expand(value, src, vars, file, start, problems);
        vars.vals.insert(name.to_string(), v);
    }
}

fn open_quote(s: &str) -> bool {
    let (mut sq, mut dq, mut esc) = (false, false, false);
    for c in s.chars() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' if !sq => esc = true,
            '\'' if !dq => sq = !sq,
            '"' if !sq => dq = !dq,
            '#' if !sq && !dq => break,
            _ => {}
        }
    }
    sq || dq
}

fn expand(
    value: &str,
    src: usize,
    vars: &Vars,
    file: &str,
    line: usize,
    problems: &mut Vec<String>,
) -> Vec<(char, usize)> {
    let mut out: Vec<(char, usize)> = Vec::new();
    let cs: Vec<char> = value.chars().collect();
    let (mut sq, mut dq) = (false, false);
    let mut i = 0;
    while i < cs.len() && out.len() < MAX_VAR_LEN {
        let c = cs[i];
        if sq {
            if c == '\'' {
                sq = false;
            } else {
                out.push((c, src));
            }
            i += 1;
            continue;
        }
        match c {
            '\'' if !dq => sq = true,
            '"' => dq = !dq,
            '\\' => {
                if let Some(&n) = cs.get(i + 1) {
                    if !dq || matches!(n, '$' | '`' | '"' | '\\') {
                        out.push((n, src));
                    } else if n != '\n' {
                        out.push(('\\', src));
                        out.push((n, src));
                    }
                    i += 1;
                }
            }
            '$' => {
                let (name, len) = if cs.get(i + 1) == Some(&'{') {
                    let end = cs[i + 2..].iter().position(|&c| c == '}');
                    match end {
                        Some(e) => (cs[i + 2..i + 2 + e].iter().collect::<String>(), e + 3),
                        None => (String::new(), 1),
                    }
                } else {
                    let n: String = cs[i + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .collect();
                    let l = n.chars().count() + 1;
                    (n, l)
                };
                if name.is_empty() {
                    out.push(('$', src));
                } else {
                    match vars.vals.get(&name) {
                        Some(v) => out.extend(v.iter().take(MAX_VAR_LEN)),
                        None => problems.push(format!(
                            "{file}:{line}: ${name} is not set here; expanded to nothing"
                        )),
                    }
                    i += len;
                    continue;
                }
            }
            '#' if !dq && (i == 0 || cs[i - 1].is_whitespace()) => break,
            c if c.is_whitespace() && !dq => {
                // An unquoted blank ends the assignment (`A=1 cmd`).
                break;
            }
            '`' => {
                problems.push(format!("{file}:{line}: command substitution not evaluated"));
            }
            c => out.push((c, src)),
        }
        i += 1;
    }
    out
}

/// Split a GRUB command line into words (quotes and backslash as GRUB does).
pub fn split_words(s: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let (mut sq, mut dq) = (false, false);
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\'' if !dq => {
                sq = !sq;
                has = true;
            }
            '"' if !sq => {
                dq = !dq;
                has = true;
            }
            '\\' if !sq => {
                if let Some(n) = it.next() {
                    cur.push(n);
                    has = true;
                }
            }
            c if c.is_whitespace() && !sq && !dq => {
                if has {
                    v.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                cur.push(c);
                has = true;
            }
        }
        if v.len() >= MAX_ARGS {
            return v;
        }
    }
    if has {
        v.push(cur);
    }
    v
}

fn resolve(
    word: &str,
    env: &BTreeMap<String, Vec<Sourced<String>>>,
    file: &str,
    line: usize,
    problems: &mut Vec<String>,
) -> Vec<Sourced<String>> {
    let name = word
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| word.strip_prefix('$'));
    match name {
        Some(n) if is_name(n) => match env.get(n) {
            Some(v) => v.clone(),
            None => {
                problems.push(format!(
                    "{file}:{line}: ${n} not found in grubenv; left out"
                ));
                Vec::new()
            }
        },
        _ => vec![Sourced::new(word.to_string(), file, line)],
    }
}

fn split_env(out: &KernelCmdline) -> BTreeMap<String, Vec<Sourced<String>>> {
    out.grubenv
        .iter()
        .map(|(k, v)| {
            let words = split_words(&v.value)
                .into_iter()
                .map(|a| Sourced::new(a, v.file.clone(), v.line))
                .collect();
            (k.clone(), words)
        })
        .collect()
}

fn total_args(out: &KernelCmdline) -> usize {
    out.entries.iter().map(|e| e.args.len()).sum()
}

pub fn parse_grub_cfg(text: &str, file: &str, out: &mut KernelCmdline) {
    let env = split_env(out);
    let mut titles: Vec<Option<String>> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let l = raw.trim();
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        let words = split_words(l);
        let Some(first) = words.first() else { continue };
        match first.as_str() {
            "menuentry" | "submenu" => {
                if titles.len() < 64 {
                    titles.push(words.get(1).cloned());
                }
            }
            "}" => {
                titles.pop();
            }
            "linux" | "linuxefi" | "linux16" => {
                if out.entries.len() >= MAX_ENTRIES || total_args(out) > MAX_TOTAL_ARGS {
                    out.problems
                        .push(format!("{file}:{n}: too many boot entries"));
                    return;
                }
                let mut args = Vec::new();
                for w in words.iter().skip(2) {
                    if args.len() >= MAX_ARGS {
                        break;
                    }
                    args.extend(resolve(w, &env, file, n, &mut out.problems));
                }
                args.truncate(MAX_ARGS);
                out.entries.push(BootEntry {
                    kind: "grub.cfg".into(),
                    title: titles.iter().rev().flatten().next().cloned(),
                    kernel: words.get(1).cloned(),
                    args,
                    file: file.to_string(),
                    line: n,
                });
            }
            _ => {
                // Other blocks (`function f {`) nest too, without a title.
                if l.ends_with('{') && titles.len() < 64 {
                    titles.push(None);
                } else if l.starts_with('}') {
                    titles.pop();
                }
            }
        }
    }
}

pub fn parse_bls(text: &str, file: &str, out: &mut KernelCmdline) {
    if out.entries.len() >= MAX_ENTRIES || total_args(out) > MAX_TOTAL_ARGS {
        out.problems
            .push(format!("{file}: too many boot entries; not read"));
        return;
    }
    let env = split_env(out);
    let mut e = BootEntry {
        kind: "bls".into(),
        title: None,
        kernel: None,
        args: Vec::new(),
        file: file.to_string(),
        line: 0,
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (k, v) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
        match k {
            "title" => e.title = Some(v.trim().to_string()),
            "linux" => {
                e.kernel = Some(v.trim().to_string());
                if e.line == 0 {
                    e.line = n;
                }
            }
            "options" => {
                if e.line == 0 {
                    e.line = n;
                }
                for w in split_words(v) {
                    if e.args.len() >= MAX_ARGS {
                        break;
                    }
                    e.args.extend(resolve(&w, &env, file, n, &mut out.problems));
                }
            }
            _ => {}
        }
    }
    if out.entries.len() < MAX_ENTRIES {
        out.entries.push(e);
    }
}
