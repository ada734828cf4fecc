//! rpm databases: the header blob and the three rpmdb backends.
//!
//! Every backend yields (key, header blob) pairs; [`package_from_blob`] turns a
//! blob into a [`Package`]. A blob that does not parse is reported in
//! [`Listing::skipped`]; a database whose structure is unreadable is an error.
//! `gpg-pubkey` pseudo-packages are listed like `rpm -qa` lists them (they have no
//! SOURCERPM, so `source_name` is None); the caller decides what to skip.

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use crate::{Evidence, Listing, Package, Skipped};

/// Turn one header blob into a package.
pub fn package_from_blob(blob: &[u8], file: &str, key: &str) -> crate::Result<Package> {
    let h = header::parse(blob)?;
    let (source_name, source_version) =
        match h.sourcerpm.as_deref().and_then(header::split_sourcerpm) {
            Some((n, v)) => (Some(n), Some(v)),
            None => (None, None),
        };
    Ok(Package {
        version: h.evr(),
        name: h.name,
        arch: h.arch,
        source_name,
        source_version,
        status: None,
        files: h.files,
        evidence: Evidence {
            file: file.to_string(),
            line: None,
            key: Some(key.to_string()),
        },
    })
}

/// Total budget of blob bytes a backend may extract: the input size. Each byte of
/// the file can belong to at most one blob in a sane database, so a crafted one
/// that points many records at the same bytes stops here.
pub(crate) struct Budget(usize);

impl Budget {
    pub(crate) fn new(input_len: usize) -> Self {
        Budget(input_len)
    }
    pub(crate) fn take(&mut self, n: usize) -> bool {
        if n > self.0 {
            return false;
        }
        self.0 -= n;
        true
    }
}

pub(crate) fn add_blob(listing: &mut Listing, blob: &[u8], file: &str, key: &str) {
    match package_from_blob(blob, file, key) {
        Ok(p) => listing.packages.push(p),
        Err(e) => listing.skipped.push(Skipped {
            evidence: Evidence {
                file: file.to_string(),
                line: None,
                key: Some(key.to_string()),
            },
            reason: e.to_string(),
        }),
    }
}

pub(crate) fn skip(listing: &mut Listing, file: &str, key: &str, reason: impl Into<String>) {
    listing.skipped.push(Skipped {
        evidence: Evidence {
            file: file.to_string(),
            line: None,
            key: Some(key.to_string()),
        },
        reason: reason.into(),
    });
}
