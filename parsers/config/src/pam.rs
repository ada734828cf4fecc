//! PAM stacks: every service file in /etc/pam.d (and the vendor directories
//! of newer distributions, where /etc/pam.d wins per name), with `include`,
//! `substack` and Debian's `@include` expanded (bounded, cycles detected).
//! Facts only: never fails, never judges.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

/// Service directories in libpam's search order; the first holding a name
/// wins for that name.
pub const PAM_DIRS: &[&str] = &[
    "/etc/pam.d",
    "/usr/lib/pam.d",
    "/usr/share/pam.d",
    "/usr/etc/pam.d",
];
/// Deepest include chain followed.
pub const MAX_DEPTH: usize = 16;
/// Most rules in one expanded stack, and most lines parsed in one file.
pub const MAX_LINES: usize = 10_000;
/// Most lines visited while expanding one stack (bounds include fan-out).
pub const MAX_STEPS: usize = 100_000;
/// Most problems recorded for one file before they are summarised.
const MAX_PROBLEMS_PER_FILE: usize = 20;

/// Every PAM stack of the machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PamConfig {
    /// Service name → its expanded stack.
    pub stacks: BTreeMap<String, PamStack>,
    /// Names found in a lower-precedence directory but masked by a file of
    /// the same name in a higher one: (masked path, winning path).
    pub masked: Vec<(String, String)>,
    /// What could not be read or understood.
    pub problems: Vec<String>,
}

/// One service's stack, includes expanded in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PamStack {
    pub service: String,
    /// The service file.
    pub file: String,
    pub rules: Vec<PamRule>,
}

/// One module line of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PamRule {
    /// `auth`, `account`, `password` or `session` (lowercase).
    pub rule_type: String,
    /// Written as `-type`: no error if the module is missing.
    pub if_present: bool,
    /// `required`, `requisite`, `sufficient`, `optional`, or the bracketed
    /// form normalised to `[key=value ...]` (single spaces).
    pub control: String,
    /// The key=value pairs of a bracketed control, lowercase; empty otherwise.
    pub control_actions: Vec<(String, String)>,
    /// The module path as written.
    pub module: String,
    /// Its basename, e.g. `pam_unix.so`.
    pub module_name: String,
    pub args: Vec<PamArg>,
    /// The line's text (continuations joined, comment removed) with the
    /// file and line number it starts at.
    pub source: Sourced<String>,
    /// The includes this rule came through, outermost first; empty for a
    /// rule written in the service file itself.
    pub via: Vec<PamInclude>,
}

/// One module argument: `key=value` split at the first `=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PamArg {
    /// The argument as written (brackets of `[...]` arguments removed).
    pub raw: String,
    pub key: String,
    pub value: Option<String>,
}

/// One step of an include chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PamInclude {
    /// `include`, `substack` or `@include`.
    pub kind: String,
    /// The name or path as written.
    pub target: String,
    /// Where the include line is.
    pub file: String,
    pub line: usize,
}

impl PamRule {
    /// The value of `key=value` (last one wins, as most modules parse);
    /// `Some("")` for a bare flag argument `key`.
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .rev()
            .find(|a| a.key == key)
            .map(|a| a.value.as_deref().unwrap_or(""))
    }

    /// Whether the module name is `module` (with or without `.so`).
    pub fn is_module(&self, module: &str) -> bool {
        let want = module.strip_suffix(".so").unwrap_or(module);
        let have = self
            .module_name
            .strip_suffix(".so")
            .unwrap_or(&self.module_name);
        want == have
    }
}

impl PamConfig {
    /// The rules of `stack` of type `rule_type` for `module` (`pam_unix` or
    /// `pam_unix.so`), in stack order.
    pub fn rules(&self, stack: &str, rule_type: &str, module: &str) -> Vec<&PamRule> {
        self.stacks
            .get(stack)
            .map(|s| {
                s.rules
                    .iter()
                    .filter(|r| r.rule_type == rule_type && r.is_module(module))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every argument given to `module` in `stack` for `rule_type`, each
    /// with the file and line of its rule, in stack order; e.g.
    /// `module_args("common-password", "password", "pam_pwquality")`.
    pub fn module_args(&self, stack: &str, rule_type: &str, module: &str) -> Vec<Sourced<PamArg>> {
        self.rules(stack, rule_type, module)
            .into_iter()
            .flat_map(|r| {
                r.args
                    .iter()
                    .map(|a| Sourced::new(a.clone(), r.source.file.clone(), r.source.line))
            })
            .collect()
    }
}

/// Reads every stack. Never fails: problems are in [`PamConfig::problems`].
pub fn stacks(files: &dyn ConfigFiles) -> PamConfig {
    let mut cfg = PamConfig::default();
    // name → winning path
    let mut services: BTreeMap<String, String> = BTreeMap::new();
    for dir in PAM_DIRS {
        match files.list(dir) {
            None => {}
            Some(Err(e)) => cfg
                .problems
                .push(format!("{dir}: unreadable directory: {e}")),
            Some(Ok(names)) => {
                for n in names {
                    if n.is_empty() || n == "." || n == ".." {
                        continue;
                    }
                    let path = format!("{dir}/{n}");
                    match services.get(&n) {
                        Some(winner) => cfg.masked.push((path, winner.clone())),
                        None => {
                            services.insert(n, path);
                        }
                    }
                }
            }
        }
    }
    let mut ex = Expander {
        files,
        cache: BTreeMap::new(),
        problems: Vec::new(),
        reported: BTreeSet::new(),
        steps: 0,
        stopped: false,
    };
    for (name, path) in services {
        let mut rules = Vec::new();
        let mut chain = Vec::new();
        let mut stack_problems = Vec::new();
        ex.steps = 0;
        ex.stopped = false;
        ex.expand(&path, None, &mut chain, &mut rules, &mut stack_problems);
        for p in stack_problems {
            cfg.problems.push(format!("{name}: {p}"));
        }
        if ex.cache.get(&path).is_some_and(|f| f.is_err()) && rules.is_empty() {
            // Unreadable service file (e.g. a directory): reported already.
            continue;
        }
        cfg.stacks.insert(
            name.clone(),
            PamStack {
                service: name,
                file: path,
                rules,
            },
        );
    }
    cfg.problems.extend(ex.problems);
    cfg
}

/// A parsed line of one file, before expansion.
#[derive(Debug, Clone)]
enum Line {
    Rule(PamRule),
    /// `type include|substack target` or `@include target` (type None).
    Include {
        kind: &'static str,
        rule_type: Option<String>,
        target: String,
        text: String,
        line: usize,
    },
}

struct Expander<'a> {
    files: &'a dyn ConfigFiles,
    cache: BTreeMap<String, Result<Vec<Line>, String>>,
    /// Per-file problems, each reported once over all stacks.
    problems: Vec<String>,
    reported: BTreeSet<String>,
    /// Lines visited for the current stack (bounds include fan-out).
    steps: usize,
    stopped: bool,
}

impl Expander<'_> {
    fn load(&mut self, path: &str) -> Option<&Result<Vec<Line>, String>> {
        if !self.cache.contains_key(path) {
            let parsed = match self.files.read(path) {
                None => return None,
                Some(Err(e)) => Err(e),
                Some(Ok(bytes)) => {
                    let mut problems = Vec::new();
                    let lines = parse_file(path, &bytes, &mut problems);
                    if self.reported.insert(path.to_string()) {
                        self.problems.extend(problems);
                    }
                    Ok(lines)
                }
            };
            if let Err(e) = &parsed {
                if self.reported.insert(path.to_string()) {
                    self.problems.push(format!("{path}: unreadable: {e}"));
                }
            }
            self.cache.insert(path.to_string(), parsed);
        }
        self.cache.get(path)
    }

    /// Resolves an include target as libpam does: absolute, else the
    /// service directories in order.
    fn resolve(&mut self, target: &str) -> Option<String> {
        if target.starts_with('/') {
            return Some(target.to_string());
        }
        if target.contains('/') || target == "." || target == ".." {
            return None;
        }
        for dir in PAM_DIRS {
            let p = format!("{dir}/{target}");
            if self.load(&p).is_some() {
                return Some(p);
            }
        }
        None
    }

    fn expand(
        &mut self,
        path: &str,
        only_type: Option<&str>,
        chain: &mut Vec<PamInclude>,
        out: &mut Vec<PamRule>,
        problems: &mut Vec<String>,
    ) {
        let lines = match self.load(path) {
            None => {
                problems.push(format!("{path}: not found"));
                return;
            }
            Some(Err(_)) => return,
            Some(Ok(lines)) => lines.clone(),
        };
        for l in lines {
            if self.stopped {
                return;
            }
            self.steps += 1;
            if self.steps > MAX_STEPS || out.len() >= MAX_LINES {
                self.stopped = true;
                problems.push(format!(
                    "{path}: expansion stopped: over {MAX_LINES} rules or {MAX_STEPS} lines visited"
                ));
                return;
            }
            match l {
                Line::Rule(r) => {
                    if only_type.is_some_and(|t| t != r.rule_type) {
                        continue;
                    }
                    let mut r = r;
                    r.via = chain.clone();
                    out.push(r);
                }
                Line::Include {
                    kind,
                    rule_type,
                    target,
                    text,
                    line,
                } => {
                    // The narrower of the outer filter and this line's type.
                    let filter = match (only_type, rule_type.as_deref()) {
                        (Some(a), Some(b)) if a != b => continue,
                        (Some(a), _) => Some(a.to_string()),
                        (None, b) => b.map(str::to_string),
                    };
                    if chain.len() >= MAX_DEPTH {
                        problems.push(format!(
                            "{path}:{line}: {text}: not followed: include depth over {MAX_DEPTH}"
                        ));
                        continue;
                    }
                    let Some(target_path) = self.resolve(&target) else {
                        problems.push(format!("{path}:{line}: {text}: target not found"));
                        continue;
                    };
                    let in_chain =
                        target_path == path || chain.iter().any(|c| c.file == target_path);
                    if in_chain {
                        problems.push(format!(
                            "{path}:{line}: {text}: include cycle through {target_path}; not followed"
                        ));
                        continue;
                    }
                    chain.push(PamInclude {
                        kind: kind.to_string(),
                        target: target.clone(),
                        file: path.to_string(),
                        line,
                    });
                    self.expand(&target_path, filter.as_deref(), chain, out, problems);
                    chain.pop();
                }
            }
        }
    }
}

const TYPES: &[&str] = &["auth", "account", "password", "session"];

fn parse_file(path: &str, bytes: &[u8], problems: &mut Vec<String>) -> Vec<Line> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut n_problems = 0usize;
    let mut problem = |msg: String| {
        n_problems += 1;
        if n_problems <= MAX_PROBLEMS_PER_FILE {
            problems.push(msg);
        }
    };
    let mut physical = text.split('\n').enumerate().peekable();
    let mut count = 0usize;
    while let Some((i, first)) = physical.next() {
        count += 1;
        if count > MAX_LINES {
            problem(format!(
                "{path}:{}: parsing stopped: more than {MAX_LINES} lines",
                i + 1
            ));
            break;
        }
        let start = i + 1;
        // Join `\` continuations.
        let mut logical = first.trim_end_matches('\r').to_string();
        while logical.ends_with('\\') {
            logical.pop();
            logical.push(' ');
            match physical.next() {
                Some((_, next)) => {
                    count += 1;
                    logical.push_str(next.trim_end_matches('\r'));
                }
                None => break,
            }
        }
        let content = match logical.find('#') {
            Some(h) => &logical[..h],
            None => &logical[..],
        };
        let content = content.trim();
        if content.is_empty() {
            continue;
        }
        match parse_line(content, path, start) {
            Ok(Some(l)) => out.push(l),
            Ok(None) => {}
            Err(e) => problem(format!("{path}:{start}: {e}")),
        }
    }
    if n_problems > MAX_PROBLEMS_PER_FILE {
        problems.push(format!(
            "{path}: {} more problems not listed",
            n_problems - MAX_PROBLEMS_PER_FILE
        ));
    }
    out
}

/// Splits into tokens; a token starting with `[` runs to the matching `]`
/// (with `\]` escaping a bracket), spaces included.
fn tokens(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut tok = String::new();
        if c == '[' {
            chars.next();
            tok.push('[');
            let mut closed = false;
            while let Some(c) = chars.next() {
                if c == '\\' && chars.peek() == Some(&']') {
                    tok.push(']');
                    chars.next();
                    continue;
                }
                tok.push(c);
                if c == ']' {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err("unterminated '['".into());
            }
        }
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            tok.push(c);
            chars.next();
        }
        out.push(tok);
    }
    Ok(out)
}

fn parse_line(content: &str, path: &str, line: usize) -> Result<Option<Line>, String> {
    let toks = tokens(content)?;
    let Some(first) = toks.first() else {
        return Ok(None);
    };
    if first.eq_ignore_ascii_case("@include") {
        let target = toks.get(1).ok_or("@include without a file name")?;
        return Ok(Some(Line::Include {
            kind: "@include",
            rule_type: None,
            target: target.clone(),
            text: content.to_string(),
            line,
        }));
    }
    let (if_present, ty) = match first.strip_prefix('-') {
        Some(t) => (true, t.to_ascii_lowercase()),
        None => (false, first.to_ascii_lowercase()),
    };
    if !TYPES.contains(&ty.as_str()) {
        return Err(format!("unknown type {:?}", truncate(first)));
    }
    let control_tok = toks.get(1).ok_or("no control field")?;
    let lower = control_tok.to_ascii_lowercase();
    if lower == "include" || lower == "substack" {
        let target = toks.get(2).ok_or("include without a file name")?;
        return Ok(Some(Line::Include {
            kind: if lower == "include" {
                "include"
            } else {
                "substack"
            },
            rule_type: Some(ty),
            target: target.clone(),
            text: content.to_string(),
            line,
        }));
    }
    let (control, control_actions) = if let Some(inner) = control_tok
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
    {
        let mut actions = Vec::new();
        for kv in inner.split_whitespace() {
            match kv.split_once('=') {
                Some((k, v)) => actions.push((k.to_ascii_lowercase(), v.to_ascii_lowercase())),
                None => return Err(format!("bad control item {:?}", truncate(kv))),
            }
        }
        let norm = actions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        (format!("[{norm}]"), actions)
    } else {
        match lower.as_str() {
            "required" | "requisite" | "sufficient" | "optional" => (lower.clone(), Vec::new()),
            _ => return Err(format!("unknown control {:?}", truncate(control_tok))),
        }
    };
    let module = toks.get(2).ok_or("no module path")?.clone();
    let module_name = module.rsplit('/').next().unwrap_or(&module).to_string();
    let args = toks[3..]
        .iter()
        .map(|t| {
            let raw = t
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .unwrap_or(t)
                .to_string();
            let (key, value) = match raw.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (raw.clone(), None),
            };
            PamArg { raw, key, value }
        })
        .collect();
    Ok(Some(Line::Rule(PamRule {
        rule_type: ty,
        if_present,
        control,
        control_actions,
        module,
        module_name,
        args,
        source: Sourced::new(content.to_string(), path, line),
        via: Vec::new(),
    })))
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_tokens() {
        let t = tokens("auth [success=1 default=ignore] pam_unix.so nullok [a b\\]c]").unwrap();
        assert_eq!(
            t,
            [
                "auth",
                "[success=1 default=ignore]",
                "pam_unix.so",
                "nullok",
                "[a b]c]"
            ]
        );
        assert!(tokens("auth [success=1").is_err());
    }
}
