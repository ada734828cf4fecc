//! Rules-package files: TOML with a `[package]` header and `[[rule]]`
//! tables. The embedded files are compiled into the binary; `--rulepack`
//! files add rules or replace embedded rules with the same id.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;

use super::check::Check;
use super::rule::Rule;

/// The rules packages a scan can run, as Inspector named them.
pub const PACKAGES: &[&str] = &[
    "cve",
    "cis",
    "security-best-practices",
    "runtime-behavior-analysis",
];

// The files in `rulepacks/`, compiled in (list written by build.rs):
// `pub const EMBEDDED: &[(&str, &str)]`, (file name, text).
include!(concat!(env!("OUT_DIR"), "/embedded_rulepacks.rs"));

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackHeader {
    /// One of `PACKAGES`.
    pub package: String,
    /// What this file holds (`CIS Debian Linux 12 Benchmark`).
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Platform selectors for rules that name none.
    #[serde(default)]
    pub platforms: Vec<String>,
}

/// A loading error: names the file, the rule (when known) and the field.
#[derive(Debug, Clone, PartialEq)]
pub struct PackError {
    pub file: String,
    pub rule: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(rule) = &self.rule {
            write!(f, ": rule {rule:?}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PackError {}

/// The rules of one file, each stamped with its package and origin.
#[derive(Debug, Clone)]
pub struct PackFile {
    pub header: PackHeader,
    pub rules: Vec<Rule>,
}

pub fn parse(file: &str, text: &str) -> Result<PackFile, PackError> {
    let error = |rule: Option<&str>, field: Option<&str>, message: String| PackError {
        file: file.to_string(),
        rule: rule.map(str::to_string),
        field: field.map(str::to_string),
        message,
    };
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| error(None, None, one_line(&e.to_string())))?;
    for key in doc.keys() {
        if key != "package" && key != "rule" {
            return Err(error(
                None,
                Some(key),
                "unknown top-level table (expected [package] and [[rule]])".into(),
            ));
        }
    }
    let header_value = doc
        .get("package")
        .ok_or_else(|| error(None, Some("package"), "missing [package] table".into()))?;
    let header = PackHeader::deserialize(header_value.clone())
        .map_err(|e| error(None, Some("package"), one_line(&e.to_string())))?;
    if !PACKAGES.contains(&header.package.as_str()) {
        return Err(error(
            None,
            Some("package.package"),
            format!(
                "unknown rules package {:?} (expected one of {})",
                header.package,
                PACKAGES.join(", ")
            ),
        ));
    }
    let tables = match doc.get("rule") {
        None => &Vec::new(),
        Some(toml::Value::Array(items)) => items,
        Some(_) => return Err(error(None, Some("rule"), "must be [[rule]] tables".into())),
    };
    let mut rules = Vec::with_capacity(tables.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, table) in tables.iter().enumerate() {
        let id = table
            .get("id")
            .and_then(toml::Value::as_str)
            .map(str::to_string);
        let label = id.clone().unwrap_or_else(|| format!("#{}", index + 1));
        let Some(id) = id else {
            return Err(error(
                Some(&label),
                Some("id"),
                "missing or not a string".into(),
            ));
        };
        match table.get("severity") {
            Some(toml::Value::String(s))
                if ["High", "Medium", "Low", "Informational"].contains(&s.as_str()) => {}
            Some(other) => {
                return Err(error(
                    Some(&label),
                    Some("severity"),
                    format!("{other} is not one of High, Medium, Low, Informational"),
                ))
            }
            None => return Err(error(Some(&label), Some("severity"), "missing".into())),
        }
        if let Some(check) = table.get("check") {
            validate_check(check, "check")
                .map_err(|(field, message)| error(Some(&label), Some(&field), message))?;
        }
        let mut rule = Rule::deserialize(table.clone()).map_err(|e| {
            let message = one_line(&e.to_string());
            let field = field_of(&message);
            error(Some(&label), field.as_deref(), message)
        })?;
        validate_rule(&rule.check, "check")
            .map_err(|(field, message)| error(Some(&label), Some(&field), message))?;
        if let Some(first) = seen.insert(id.clone(), index) {
            return Err(error(
                Some(&label),
                Some("id"),
                format!("duplicate id (also rule #{} of this file)", first + 1),
            ));
        }
        rule.package = header.package.clone();
        rule.origin = file.to_string();
        if rule.platforms.is_none() && !header.platforms.is_empty() {
            rule.platforms = Some(header.platforms.clone());
        }
        rules.push(rule);
    }
    Ok(PackFile { header, rules })
}

/// Checks every `kind` and that each check table holds only its kind's
/// fields, recursing through all/any/not. Returns (field path, message).
fn validate_check(value: &toml::Value, path: &str) -> Result<(), (String, String)> {
    let Some(table) = value.as_table() else {
        return Err((path.to_string(), "must be a table".into()));
    };
    let kind = match table.get("kind") {
        Some(toml::Value::String(kind)) => kind.as_str(),
        Some(_) => return Err((format!("{path}.kind"), "must be a string".into())),
        None => return Err((format!("{path}.kind"), "missing".into())),
    };
    let Some(allowed) = Check::allowed_fields(kind) else {
        return Err((
            format!("{path}.kind"),
            format!("unknown check kind {kind:?}"),
        ));
    };
    for key in table.keys() {
        if key != "kind" && !allowed.contains(&key.as_str()) {
            return Err((
                format!("{path}.{key}"),
                format!(
                    "not a field of check kind {kind:?} (expected {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    match kind {
        "all" | "any" => {
            if let Some(toml::Value::Array(items)) = table.get("checks") {
                if items.is_empty() {
                    return Err((format!("{path}.checks"), "must not be empty".into()));
                }
                for (i, item) in items.iter().enumerate() {
                    validate_check(item, &format!("{path}.checks[{i}]"))?;
                }
            }
        }
        "not" => {
            if let Some(inner) = table.get("check") {
                validate_check(inner, &format!("{path}.check"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks what serde cannot: operands of value tests, patterns (they must
/// compile and match their example), known functions and their params.
fn validate_rule(check: &Check, path: &str) -> Result<(), (String, String)> {
    use super::eval::value;
    let at = |what: &str, e: String| (format!("{path}{what}"), e);
    match check {
        Check::All { checks } | Check::Any { checks } => {
            for (i, c) in checks.iter().enumerate() {
                validate_rule(c, &format!("{path}.checks[{i}]"))?;
            }
        }
        Check::Not { check } => validate_rule(check, &format!("{path}.check"))?,
        Check::Sshd { test, .. }
        | Check::LoginDefs { test, .. }
        | Check::Pwquality { test, .. }
        | Check::Sysctl { test, .. }
        | Check::KernelCmdline { test, .. }
        | Check::Pam { test, .. } => value::validate(test).map_err(|e| at(".op", e))?,
        Check::FileContent {
            pattern, example, ..
        } => {
            let re = regex::Regex::new(pattern).map_err(|e| at(".pattern", e.to_string()))?;
            if !re.is_match(example) {
                return Err(at(
                    ".example",
                    format!("pattern {pattern:?} does not match its example {example:?}"),
                ));
            }
        }
        Check::File {
            max_mode: Some(m), ..
        } => {
            u32::from_str_radix(m, 8)
                .map_err(|_| at(".max_mode", format!("{m:?} is not an octal mode")))?;
        }
        Check::Function { name, params } => {
            super::functions::validate(name, params).map_err(|e| at(".name", e))?
        }
        _ => {}
    }
    Ok(())
}

/// serde's messages name the field as "unknown variant `x`" or "missing
/// field `y`"; pull the field out so the error can point at it.
fn field_of(message: &str) -> Option<String> {
    for marker in ["missing field `", "unknown field `"] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            return rest.find('`').map(|end| rest[..end].to_string());
        }
    }
    None
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every rule the run will use: the embedded files, then the user's files
/// (a user rule replaces an embedded one with the same id).
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Package id → the files (name, version) that contributed rules.
    pub sources: BTreeMap<String, Vec<PackHeader>>,
}

impl RuleSet {
    pub fn embedded() -> Result<RuleSet, PackError> {
        let mut set = RuleSet::default();
        for (file, text) in EMBEDDED {
            set.add(parse(file, text)?, false)?;
        }
        Ok(set)
    }

    /// Adds a file's rules. Embedded files may not repeat an id; user files
    /// (`replace`) override.
    pub fn add(&mut self, pack: PackFile, replace: bool) -> Result<(), PackError> {
        let mut index: HashMap<String, usize> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        for rule in pack.rules {
            match index.get(&rule.id) {
                Some(&i) if replace => self.rules[i] = rule,
                Some(&i) => {
                    return Err(PackError {
                        file: rule.origin.clone(),
                        rule: Some(rule.id.clone()),
                        field: Some("id".into()),
                        message: format!("duplicate id (also in {})", self.rules[i].origin),
                    })
                }
                None => {
                    index.insert(rule.id.clone(), self.rules.len());
                    self.rules.push(rule);
                }
            }
        }
        self.sources
            .entry(pack.header.package.clone())
            .or_default()
            .push(pack.header);
        Ok(())
    }

    pub fn load_user_file(&mut self, path: &std::path::Path) -> Result<(), PackError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PackError {
            file: name.clone(),
            rule: None,
            field: None,
            message: e.to_string(),
        })?;
        let pack = parse(&name, &text)?;
        self.add(pack, true)
    }
}
