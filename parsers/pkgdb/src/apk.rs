//! apk: `/lib/apk/db/installed`.
//!
//! Blank-line separated records of `X:value` lines: `P:` name, `V:` version,
//! `A:` arch, `o:` origin (the source package; defaults to `P:`), `F:` a directory
//! and the `R:` files in it. Paths are stored relative to `/`; we return them
//! absolute, directories included.

use crate::text::stanzas;
use crate::{Evidence, Listing, Package, Skipped};

/// Parse the installed database.
pub fn parse_installed(bytes: &[u8], file: &str) -> Listing {
    let mut listing = Listing::default();
    for (line, lines) in stanzas(bytes) {
        let evidence = Evidence {
            file: file.to_string(),
            line: Some(line),
            key: None,
        };
        let (mut name, mut version, mut arch, mut origin) = (None, None, None, None);
        let mut files = Vec::new();
        let mut dir = String::new();
        for l in &lines {
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k {
                "P" if name.is_none() => name = Some(v.to_string()),
                "V" if version.is_none() => version = Some(v.to_string()),
                "A" if arch.is_none() => arch = Some(v.to_string()),
                "o" if origin.is_none() => origin = Some(v.to_string()),
                "F" => {
                    dir = v.trim_matches('/').to_string();
                    if !dir.is_empty() {
                        files.push(format!("/{dir}"));
                    }
                }
                "R" if !v.is_empty() => {
                    if dir.is_empty() {
                        files.push(format!("/{v}"));
                    } else {
                        files.push(format!("/{dir}/{v}"));
                    }
                }
                _ => {}
            }
        }
        let name = name.filter(|n| !n.is_empty());
        let version = version.filter(|v| !v.is_empty());
        let (Some(name), Some(version)) = (name, version) else {
            listing.skipped.push(Skipped {
                evidence,
                reason: "record without P: or V:".to_string(),
            });
            continue;
        };
        listing.packages.push(Package {
            source_name: Some(
                origin
                    .filter(|o| !o.is_empty())
                    .unwrap_or_else(|| name.clone()),
            ),
            source_version: Some(version.clone()),
            name,
            version,
            arch: arch.filter(|a| !a.is_empty()),
            status: None,
            files,
            evidence,
        });
    }
    listing
}
