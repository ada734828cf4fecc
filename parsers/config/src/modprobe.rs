//! Kernel module configuration as kmod's `modprobe` reads it
//! (modprobe.d(5); behaviour taken from kmod's `libkmod-config.c`,
//! `libkmod-util.c` and `libkmod-module.c`, and checked against
//! `modprobe -c -C DIR` of kmod 30 in the tests).
//!
//! Files: every entry of `/etc/modprobe.d`, `/run/modprobe.d`,
//! `/usr/local/lib/modprobe.d`, `/usr/lib/modprobe.d` and `/lib/modprobe.d`
//! whose name does not start with `.` and ends in `.conf` — or `.alias`,
//! which kmod read up to version 32 (Debian 12 ships 30, Ubuntu 24.04 31,
//! RHEL 9 28; kmod 33 dropped it: such files are read and noted in
//! `problems`). Subdirectories are skipped. Files are merged by name: a name
//! in an earlier directory masks the same name in later ones, whatever its
//! content (an empty file or a link to `/dev/null` masks with nothing); the
//! survivors are read in bytewise order of their names across directories.
//! (`/usr/lib/modprobe.d` is a default directory from kmod 31 on; with older
//! kmod it is only read where `/lib` is a link to `/usr/lib`.)
//!
//! `/etc/modprobe.conf` is NOT read by kmod (module-init-tools read it);
//! when present it is reported in `problems`, its lines have no effect.
//! `modprobe.blacklist=` on the kernel command line also blacklists: that is
//! the kernel_cmdline module's business.
//!
//! Lines (kmod's `getline_wrapped`): a backslash before a newline joins the
//! next physical line; a backslash before any other byte is dropped and the
//! byte kept (`\\` gives `\`); a backslash at the very end of the file adds a
//! 0xFF byte (kmod stores `EOF` as a char). A logical line whose first byte
//! is `#` is a comment — including its continuation lines; a `#` after
//! leading blanks is not a comment for kmod (it logs a bad line, with the
//! same effect: ignored; we ignore it silently). Words are separated by
//! spaces and tabs only: a CR of a CRLF file stays in the last word
//! (`blacklist foo\r` blacklists `foo\r`, which matches no module — noted in
//! `problems`). A NUL byte ends the logical line (C string). Commands are
//! case-sensitive: `alias`, `blacklist`, `options`, `install`, `remove`,
//! `softdep` (and `weakdep`, kmod 33); `include` and `config` are deprecated
//! and ignored; anything else is a bad line (in `problems`). Extra words
//! after `blacklist MOD` and `alias PATTERN MOD` are ignored, as kmod does.
//! `install MOD` needs at least one byte after the blank that ends `MOD`
//! (`install foo ` is a bad line for kmod, `install foo  ` is accepted with
//! a blank command).
//!
//! Module names (and alias patterns) are normalised as kmod's `underscores`:
//! `-` becomes `_` except inside `[...]`.
//!
//! Which line applies: for `install`, kmod runs the FIRST line in reading
//! order whose module pattern matches the module name (fnmatch(3), so
//! `install snd* /bin/false` applies to `snd_hda_intel`), later ones are
//! never used ([`Modprobe::effective_install`]). `blacklist` is an exact
//! match on the normalised name and only stops loading through an alias
//! (`modprobe -b`, udev): an explicit `modprobe MOD` still loads it, which
//! is why hardening guides pair it with `install MOD /bin/false`.
//!
//! Sourced lines carry the file and the first physical line of the logical
//! line (kmod's messages give the last one). Install commands are kept with
//! surrounding blanks trimmed (kmod passes them untrimmed to the shell,
//! which ignores them).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

pub const DIRS: [&str; 5] = [
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
];
/// The module-init-tools file kmod ignores.
pub const MODPROBE_CONF: &str = "/etc/modprobe.conf";
const MAX_BYTES: usize = 1 << 20;
const MAX_TOTAL_BYTES: usize = 32 << 20;
const MAX_FILES: usize = 2000;
const MAX_ENTRIES: usize = 50_000;
const MAX_PROBLEMS: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modprobe {
    /// Files read, in the order kmod reads them.
    pub files: Vec<String>,
    /// Files masked by a same-name file in an earlier directory: (path, masked_by).
    pub masked: Vec<(String, String)>,
    /// `install <module> <command...>`: module name normalised (dashes →
    /// underscores) → every install line for it (the command, blanks
    /// trimmed), in reading order.
    pub install: BTreeMap<String, Vec<Sourced<String>>>,
    /// `blacklist <module>`: normalised name → the lines (value: the name).
    pub blacklist: BTreeMap<String, Vec<Sourced<String>>>,
    /// `options`, `alias`, `remove`, `softdep` (and `weakdep`) lines kept
    /// for completeness, in reading order, as `modprobe -c` shows them:
    /// command, normalised module (or alias pattern), rest.
    pub other: Vec<Sourced<String>>,
    pub problems: Vec<String>,
}

impl Modprobe {
    /// The install command kmod runs instead of loading `module`: the first
    /// `install` line in reading order whose pattern matches the normalised
    /// name.
    pub fn effective_install(&self, module: &str) -> Option<&Sourced<String>> {
        let name = normalize_module(module);
        let mut best: Option<((usize, usize), &Sourced<String>)> = None;
        for (pat, lines) in &self.install {
            let Some(first) = lines.first() else { continue };
            if pat != &name && !fnmatch(pat, &name) {
                continue;
            }
            let rank = (self.file_rank(&first.file), first.line);
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, first));
            }
        }
        best.map(|(_, s)| s)
    }

    /// The first `blacklist` line naming `module` (exact match on the
    /// normalised name, as kmod does).
    pub fn is_blacklisted(&self, module: &str) -> Option<&Sourced<String>> {
        self.blacklist
            .get(&normalize_module(module))
            .and_then(|v| v.first())
    }

    fn file_rank(&self, file: &str) -> usize {
        self.files
            .iter()
            .position(|f| f == file)
            .unwrap_or(usize::MAX)
    }

    fn problem(&mut self, msg: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(msg);
        } else if self.problems.len() == MAX_PROBLEMS {
            self.problems.push(format!(
                "more than {MAX_PROBLEMS} problems; rest not recorded"
            ));
        }
    }

    /// A bound was hit: always recorded (a handful per run at most).
    fn limit(&mut self, msg: String) {
        self.problems.push(msg);
    }

    fn entries(&self) -> usize {
        self.install.values().map(Vec::len).sum::<usize>()
            + self.blacklist.values().map(Vec::len).sum::<usize>()
            + self.other.len()
    }
}

/// kmod's `underscores`: `-` → `_`, except inside `[...]` ranges.
pub fn normalize_module(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_bracket = false;
    for c in name.chars() {
        match c {
            '[' if !in_bracket => in_bracket = true,
            ']' if in_bracket => in_bracket = false,
            '-' if !in_bracket => {
                out.push('_');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The effective modprobe.d configuration.
pub fn effective(files: &dyn ConfigFiles) -> Modprobe {
    let mut out = Modprobe::default();
    let mut chosen: BTreeMap<String, String> = BTreeMap::new();
    let mut later: Vec<(String, String)> = Vec::new();
    let mut count = 0usize;
    'dirs: for dir in DIRS {
        let names = match files.list(dir) {
            None => continue,
            Some(Err(e)) => {
                out.problem(format!("{dir}: cannot list: {e}"));
                continue;
            }
            Some(Ok(n)) => n,
        };
        let uniq: BTreeSet<String> = names
            .into_iter()
            .filter(|n| {
                !n.starts_with('.')
                    && !n.contains('/')
                    && (n.ends_with(".conf") || n.ends_with(".alias"))
            })
            .collect();
        for n in uniq {
            count += 1;
            if count > MAX_FILES {
                out.limit(format!(
                    "more than {MAX_FILES} modprobe.d files; rest ignored"
                ));
                break 'dirs;
            }
            let path = format!("{dir}/{n}");
            if matches!(files.list(&path), Some(Ok(_))) {
                out.problem(format!(
                    "{path}: a directory; kmod does not read subdirectories"
                ));
                continue;
            }
            match chosen.entry(n) {
                std::collections::btree_map::Entry::Occupied(o) => {
                    later.push((path, o.get().clone()));
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(path);
                }
            }
        }
    }
    out.masked = later;
    let mut total = 0usize;
    let mut full = false;
    for path in chosen.into_values() {
        let bytes = match files.read(&path) {
            // Listed but gone (a dangling link): kmod fails to open it and
            // goes on; the name still masks.
            None => continue,
            Some(Err(e)) => {
                out.problem(format!("{path}: unreadable: {e}"));
                continue;
            }
            Some(Ok(b)) => b,
        };
        out.files.push(path.clone());
        if path.ends_with(".alias") {
            out.problem(format!(
                "{path}: a .alias file: read by kmod up to 32 only (kmod 33 reads *.conf only)"
            ));
        }
        if full {
            continue;
        }
        let mut b = &bytes[..];
        if b.len() > MAX_BYTES {
            out.limit(format!(
                "{path}: {} bytes, only the first {MAX_BYTES} read",
                b.len()
            ));
            b = &b[..MAX_BYTES];
        }
        if total + b.len() > MAX_TOTAL_BYTES {
            out.limit(format!(
                "{path}: more than {MAX_TOTAL_BYTES} bytes of modprobe.d files in all; rest not parsed"
            ));
            full = true;
            continue;
        }
        total += b.len();
        if !parse_into(b, &path, &mut out) {
            full = true;
        }
    }
    if files.read(MODPROBE_CONF).is_some() {
        out.problem(format!(
            "{MODPROBE_CONF} exists but kmod does not read it (only module-init-tools did): its lines have no effect"
        ));
    }
    out
}

/// One logical line: first physical line number and bytes.
struct Logical {
    line: usize,
    bytes: Vec<u8>,
    backslash_at_eof: bool,
}

/// kmod's `getline_wrapped` over a whole buffer.
fn logical_lines(b: &[u8]) -> impl Iterator<Item = Logical> + '_ {
    let mut i = 0usize;
    let mut phys = 0usize;
    std::iter::from_fn(move || {
        if i >= b.len() {
            return None;
        }
        let start = phys + 1;
        let mut buf = Vec::new();
        let mut backslash_at_eof = false;
        loop {
            match b.get(i) {
                None => {
                    if buf.is_empty() {
                        return None;
                    }
                    break;
                }
                Some(b'\n') => {
                    i += 1;
                    phys += 1;
                    break;
                }
                Some(b'\\') => match b.get(i + 1) {
                    Some(b'\n') => {
                        i += 2;
                        phys += 1;
                    }
                    Some(&c) => {
                        buf.push(c);
                        i += 2;
                    }
                    None => {
                        // getc() returned EOF and kmod stored it as a char.
                        buf.push(0xFF);
                        backslash_at_eof = true;
                        i += 1;
                    }
                },
                Some(&c) => {
                    buf.push(c);
                    i += 1;
                }
            }
        }
        Some(Logical {
            line: start,
            bytes: buf,
            backslash_at_eof,
        })
    })
}

/// strtok_r(…, "\t ") and strtok_r(NULL, "\0") as kmod uses them.
struct Words<'a> {
    s: &'a [u8],
    pos: usize,
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

impl<'a> Words<'a> {
    fn word(&mut self) -> Option<&'a [u8]> {
        while self.pos < self.s.len() && is_blank(self.s[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= self.s.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < self.s.len() && !is_blank(self.s[self.pos]) {
            self.pos += 1;
        }
        let end = self.pos;
        if self.pos < self.s.len() {
            self.pos += 1; // the delimiter strtok overwrote with NUL
        }
        Some(&self.s[start..end])
    }

    fn rest(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.s.len() {
            return None;
        }
        let r = &self.s[self.pos..];
        self.pos = self.s.len();
        Some(r)
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn trim_blanks(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !is_blank(*c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_blank(*c))
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// Parse one file's lines into `out`; false once the entry bound is hit.
fn parse_into(b: &[u8], file: &str, out: &mut Modprobe) -> bool {
    let mut entries = out.entries();
    for l in logical_lines(b) {
        let lineno = l.line;
        if l.backslash_at_eof {
            out.problem(format!(
                "{file}:{lineno}: backslash at end of file (kmod appends a 0xFF byte)"
            ));
        }
        let mut line = &l.bytes[..];
        if let Some(nul) = line.iter().position(|c| *c == 0) {
            out.problem(format!(
                "{file}:{lineno}: NUL byte: kmod ignores the rest of the line"
            ));
            line = &line[..nul];
        }
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let mut w = Words { s: line, pos: 0 };
        let Some(cmd) = w.word() else { continue };
        if cmd.starts_with(b"#") {
            // kmod: "ignoring bad line starting with '#'": ignored all the same.
            continue;
        }
        if line.contains(&b'\r') {
            out.problem(format!(
                "{file}:{lineno}: carriage return (CRLF file?): kmod keeps it in the last word"
            ));
        }
        if entries >= MAX_ENTRIES {
            out.limit(format!(
                "{file}:{lineno}: more than {MAX_ENTRIES} entries; rest ignored"
            ));
            return false;
        }
        let bad = |out: &mut Modprobe| {
            let shown: String = text(cmd).chars().take(64).collect();
            out.problem(format!(
                "{file}:{lineno}: ignoring bad line starting with '{shown}'"
            ));
        };
        match cmd {
            b"alias" => {
                let (Some(pat), Some(m)) = (w.word(), w.word()) else {
                    bad(out);
                    continue;
                };
                out.other.push(Sourced::new(
                    format!(
                        "alias {} {}",
                        normalize_module(&text(pat)),
                        normalize_module(&text(m))
                    ),
                    file,
                    lineno,
                ));
            }
            b"blacklist" => {
                let Some(m) = w.word() else {
                    bad(out);
                    continue;
                };
                let m = normalize_module(&text(m));
                out.blacklist
                    .entry(m.clone())
                    .or_default()
                    .push(Sourced::new(m, file, lineno));
            }
            b"install" => {
                let (Some(m), Some(c)) = (w.word(), w.rest()) else {
                    bad(out);
                    continue;
                };
                out.install
                    .entry(normalize_module(&text(m)))
                    .or_default()
                    .push(Sourced::new(text(trim_blanks(c)), file, lineno));
            }
            b"options" | b"remove" | b"softdep" | b"weakdep" => {
                let (Some(m), Some(rest)) = (w.word(), w.rest()) else {
                    bad(out);
                    continue;
                };
                let mut rest = text(trim_blanks(rest));
                if cmd == b"options" {
                    rest = rest.replace('\t', " ");
                }
                out.other.push(Sourced::new(
                    format!("{} {} {rest}", text(cmd), normalize_module(&text(m))),
                    file,
                    lineno,
                ));
            }
            b"include" | b"config" => {
                out.problem(format!(
                    "{file}:{lineno}: command {} is deprecated and not parsed by kmod",
                    text(cmd)
                ));
                continue;
            }
            _ => {
                bad(out);
                continue;
            }
        }
        entries += 1;
    }
    true
}

/// fnmatch(3) with flags 0 (glibc): `*`, `?`, `[...]` (with `!`/`^`,
/// ranges and `[:class:]`), `\` quoting; `*` and `?` match `/` and `.`.
fn fnmatch(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = name.chars().collect();
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    while pi < p.len() && p[pi] == '*' {
                        pi += 1;
                    }
                    star = Some((pi, si));
                    continue;
                }
                '?' if si < s.len() => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '[' if si < s.len() => {
                    if let Some((ok, next)) = bracket(&p, pi, s[si]) {
                        if ok {
                            pi = next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == '[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() && si < s.len() && p[pi + 1] == s[si] => {
                    pi += 2;
                    si += 1;
                    continue;
                }
                c if si < s.len() && c == s[si] && !matches!(c, '?' | '[' | '\\') => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        } else if si == s.len() {
            return true;
        }
        // Mismatch: let the last star eat one more char.
        match star {
            Some((sp, ss)) if ss < s.len() => {
                star = Some((sp, ss + 1));
                pi = sp;
                si = ss + 1;
            }
            _ => return false,
        }
    }
}

/// Match `c` against the bracket expression at `p[start] == '['`:
/// `Some((matched, index after ']'))`, or `None` if it is unterminated
/// (then `[` is an ordinary char).
fn bracket(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        // [:class:]
        if ch == '[' && p.get(i + 1) == Some(&':') {
            let rest: String = p[i + 2..].iter().take(12).collect();
            if let Some(end) = rest.find(":]") {
                let class = &rest[..end];
                let hit = match class {
                    "alpha" => c.is_ascii_alphabetic(),
                    "digit" => c.is_ascii_digit(),
                    "alnum" => c.is_ascii_alphanumeric(),
                    "upper" => c.is_ascii_uppercase(),
                    "lower" => c.is_ascii_lowercase(),
                    "space" => c.is_ascii_whitespace(),
                    "xdigit" => c.is_ascii_hexdigit(),
                    "punct" => c.is_ascii_punctuation(),
                    "blank" => c == ' ' || c == '\t',
                    "cntrl" => c.is_ascii_control(),
                    "print" => c.is_ascii_graphic() || c == ' ',
                    "graph" => c.is_ascii_graphic(),
                    _ => false,
                };
                matched |= hit;
                i += 2 + class.chars().count() + 2;
                continue;
            }
        }
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            ch
        };
        i += 1;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|n| *n != ']') {
            let mut hi = p[i + 1];
            i += 2;
            if hi == '\\' {
                hi = *p.get(i)?;
                i += 1;
            }
            if lo <= c && c <= hi {
                matched = true;
            }
        } else if lo == c {
            matched = true;
        }
    }
    Some((matched != negate, i))
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn fnmatch_basics() {
        assert!(fnmatch("snd*", "snd_hda_intel"));
        assert!(fnmatch("*", ""));
        assert!(fnmatch("a?c", "abc"));
        assert!(!fnmatch("a?c", "ac"));
        assert!(fnmatch("snd_hda[a-c]", "snd_hdab"));
        assert!(!fnmatch("snd_hda[!a-c]", "snd_hdab"));
        assert!(fnmatch("x[]]y", "x]y"));
        assert!(fnmatch("x[", "x["));
        assert!(fnmatch("a\\*b", "a*b"));
        assert!(!fnmatch("a\\*b", "axb"));
        assert!(fnmatch("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!fnmatch("*a*b*c*d", "xxaxxbxxcxx"));
        assert!(fnmatch("[[:digit:]]x", "7x"));
        assert!(!fnmatch("usb_storage", "usb_storag"));
    }
}
