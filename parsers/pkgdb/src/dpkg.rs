//! dpkg: `/var/lib/dpkg/status`, `/var/lib/dpkg/status.d/*` (distroless) and
//! `/var/lib/dpkg/info/*.list`.
//!
//! A package is listed when the third word of its `Status` (the package state) is
//! `installed`, `triggers-pending` or `triggers-awaited`: dpkg treats the last two as
//! configured packages whose triggers have not run yet, their files are on disk.
//! `config-files`, `half-installed`, `unpacked`, `half-configured` and
//! `not-installed` are not listed.

use crate::text::stanzas;
use crate::{Evidence, Listing, Package, Skipped};

/// Package states (third word of `Status`) that count as installed.
pub const INSTALLED_STATES: [&str; 3] = ["installed", "triggers-pending", "triggers-awaited"];

/// Fields of one deb822 stanza, in order, names as written.
fn fields(lines: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, v)) = out.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether a raw `Status` value ("want flag state") means the package is installed.
pub fn is_installed(status: &str) -> bool {
    status
        .split_whitespace()
        .nth(2)
        .is_some_and(|s| INSTALLED_STATES.contains(&s))
}

/// Split a `Source:` value: `name` or `name (version)`.
pub fn parse_source(value: &str) -> Option<(String, Option<String>)> {
    let value = value.trim();
    let (name, rest) = match value.find(char::is_whitespace) {
        Some(i) => (&value[..i], value[i..].trim()),
        None => (value, ""),
    };
    if name.is_empty() || name.contains(['(', ')']) {
        return None;
    }
    if rest.is_empty() {
        return Some((name.to_string(), None));
    }
    let version = rest.strip_prefix('(')?.strip_suffix(')')?.trim();
    if version.is_empty() {
        return None;
    }
    Some((name.to_string(), Some(version.to_string())))
}

fn parse(bytes: &[u8], file: &str, status_required: bool) -> Listing {
    let mut listing = Listing::default();
    for (line, lines) in stanzas(bytes) {
        let f = fields(&lines);
        let evidence = Evidence {
            file: file.to_string(),
            line: Some(line),
            key: None,
        };
        let skip = |listing: &mut Listing, reason: &str| {
            listing.skipped.push(Skipped {
                evidence: evidence.clone(),
                reason: reason.to_string(),
            })
        };
        let status = field(&f, "Status");
        match status {
            Some(s) if !is_installed(s) => continue,
            None if status_required => {
                skip(&mut listing, "stanza without Status");
                continue;
            }
            _ => {}
        }
        let Some(name) = field(&f, "Package").filter(|n| !n.is_empty()) else {
            skip(&mut listing, "stanza without Package");
            continue;
        };
        let Some(version) = field(&f, "Version").filter(|v| !v.is_empty()) else {
            skip(&mut listing, "installed package without Version");
            continue;
        };
        let (source_name, source_version) = match field(&f, "Source") {
            None => (name.to_string(), version.to_string()),
            Some(src) => match parse_source(src) {
                Some((n, v)) => (n, v.unwrap_or_else(|| version.to_string())),
                None => {
                    skip(&mut listing, "unparsable Source field");
                    continue;
                }
            },
        };
        listing.packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            arch: field(&f, "Architecture")
                .filter(|a| !a.is_empty())
                .map(str::to_string),
            source_name: Some(source_name),
            source_version: Some(source_version),
            status: status.map(str::to_string),
            files: Vec::new(),
            evidence,
        });
    }
    listing
}

/// `/var/lib/dpkg/status`: installed packages only; a stanza without `Status`
/// is reported as skipped.
pub fn parse_status(bytes: &[u8], file: &str) -> Listing {
    parse(bytes, file, true)
}

/// One file of `/var/lib/dpkg/status.d/` (distroless): a stanza without `Status`
/// counts as installed. The caller skips the `*.md5sums` files found there.
pub fn parse_status_d(bytes: &[u8], file: &str) -> Listing {
    parse(bytes, file, false)
}

/// Candidate names of a package's file list in `/var/lib/dpkg/info/`, most
/// specific first: `<pkg>:<arch>.list` (Multi-Arch: same packages) and `<pkg>.list`.
pub fn list_file_names(p: &Package) -> Vec<String> {
    let mut out = Vec::with_capacity(2);
    if let Some(arch) = &p.arch {
        out.push(format!("{}:{arch}.list", p.name));
    }
    out.push(format!("{}.list", p.name));
    out
}

/// `/var/lib/dpkg/info/<pkg>[:arch].list`: one path per line, as written
/// (including the leading `/.` entry); empty lines dropped.
pub fn parse_list(bytes: &[u8]) -> Vec<String> {
    crate::text::lines(bytes)
        .map(|(_, l)| l)
        .filter(|l| !l.is_empty())
        .collect()
}
