//! Hardening facts of every ELF executable and shared object under the
//! system, local and /opt binary paths, and of PE files anywhere. Only the
//! header bytes the answer needs are read, through the image, in parallel.

use std::collections::HashMap;

use coldscan_binfmt::{
    elf_hardening, identify, pe_hardening, ElfFacts, Format, PeFacts, RangeSource,
};
use coldscan_fs::rootfs::{Loc, RootFs};
use coldscan_fs::{decode_capability, FileCapability};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::files::BinaryCandidate;
use super::ledger::Ledger;
use crate::listing::mode_string;

/// One binary and its facts.
#[derive(Debug, Serialize, Deserialize)]
pub struct Binary {
    pub path: String,
    pub format: Format,
    /// Package that owns the path, per the package database's file lists.
    pub package: Option<String>,
    pub mode: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: u64,
    pub partition: Option<u32>,
    /// File capabilities (`security.capability`), when the file has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<FileCapability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elf: Option<ElfFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe: Option<PeFacts>,
}

/// A file inside the image as a positional byte source.
struct InImage<'a> {
    root: &'a RootFs,
    loc: Loc,
    size: u64,
}

impl RangeSource for InImage<'_> {
    fn len(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        self.root
            .read_at(self.loc, offset, buf)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// Reads the facts of every candidate that is an ELF or PE file.
pub fn collect(
    root: &RootFs,
    candidates: &[BinaryCandidate],
    owners: &HashMap<&str, &str>,
    ledger: &Ledger,
) -> Vec<Binary> {
    let mut out: Vec<Binary> = candidates
        .par_iter()
        .with_min_len(8)
        .filter_map(|c| {
            let src = InImage {
                root,
                loc: c.loc,
                size: c.meta.size,
            };
            let path = String::from_utf8_lossy(&c.path).into_owned();
            let mut head = [0u8; 64];
            let n = match src.read_at(0, &mut head) {
                Ok(n) => n,
                Err(e) => {
                    ledger.add(&path, format!("header unreadable: {e}"));
                    return None;
                }
            };
            let format = identify(&head[..n])?;
            let (elf, pe) = match format {
                Format::Elf => match elf_hardening(&src) {
                    Ok(f) => (Some(f), None),
                    Err(e) => {
                        ledger.add(&path, format!("ELF: {e}"));
                        return None;
                    }
                },
                Format::Pe => match pe_hardening(&src) {
                    Ok(f) => (None, Some(f)),
                    Err(e) => {
                        // Candidates are executables or PE-named files, so an
                        // MZ file that does not parse is worth a ledger entry.
                        ledger.add(&path, format!("PE: {e}"));
                        return None;
                    }
                },
            };
            // Capabilities matter on executables only: one more inode read each.
            let capabilities = if format == Format::Elf {
                match root.fs(c.loc).xattrs(c.loc.node) {
                    Ok(attrs) => attrs
                        .iter()
                        .find(|a| a.name == b"security.capability")
                        .and_then(|a| {
                            let decoded = decode_capability(&a.value);
                            if decoded.is_none() {
                                ledger.add(&path, "security.capability attribute not decodable");
                            }
                            decoded
                        }),
                    Err(e) => {
                        ledger.add(&path, format!("extended attributes: {e}"));
                        None
                    }
                }
            } else {
                None
            };
            Some(Binary {
                capabilities,
                package: owners.get(path.as_str()).map(|s| s.to_string()),
                path,
                format,
                mode: c.meta.mode.map(mode_string),
                uid: c.meta.uid,
                gid: c.meta.gid,
                size: c.meta.size,
                partition: c.partition,
                elf,
                pe,
            })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
