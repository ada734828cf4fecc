//! Installed-package databases read from bytes: dpkg, rpm and apk.
//! Facts only: names, versions, architectures, source packages, owned files.
//!
//! Every reader takes the bytes of a database file (the caller reads them out of
//! the image) and the path it came from (for evidence). Readers never panic, never
//! loop without bound and never allocate more than a small multiple of their input:
//! they are fed hostile images.
//!
//! | database | function |
//! |---|---|
//! | `/var/lib/dpkg/status` | [`dpkg::parse_status`] |
//! | `/var/lib/dpkg/status.d/<pkg>` (distroless; skip `*.md5sums`) | [`dpkg::parse_status_d`] |
//! | `/var/lib/dpkg/info/<pkg>[:arch].list` | [`dpkg::parse_list`], names from [`dpkg::list_file_names`] |
//! | `/lib/apk/db/installed` | [`apk::parse_installed`] |
//! | `rpmdb.sqlite` (+ `-wal`) | [`rpm::sqlite::read`] |
//! | BerkeleyDB `Packages` | [`rpm::bdb::read`] |
//! | NDB `Packages.db` | [`rpm::ndb::read`] |
//! | one rpm header blob | [`rpm::header::parse`], [`rpm::package_from_blob`] |
//!
//! Each returns a [`Listing`]: the packages, and the records that could not be
//! read ([`Skipped`], for the coverage ledger). The rpm readers return an
//! [`Error`] when the database as a whole is unreadable.
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

pub mod apk;
pub mod dpkg;
pub mod rpm;
mod text;
pub mod version;

/// One installed binary package, as its database records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// Full version: dpkg as written in the database (with epoch when present);
    /// rpm `E:V-R` with `E:` only when the header has an EPOCH tag; apk as written.
    pub version: String,
    pub arch: Option<String>,
    /// dpkg: `Source:` name (defaults to the package name); rpm: parsed from
    /// SOURCERPM (None when absent, e.g. gpg-pubkey); apk: origin (`o:`, defaults to `P:`).
    pub source_name: Option<String>,
    /// dpkg: the version in `Source: name (version)`, else the binary version;
    /// rpm: `V-R` from SOURCERPM (the epoch is not in SOURCERPM); apk: the package version.
    pub source_version: Option<String>,
    /// Raw dpkg `Status` value (None for rpm/apk, and for status.d stanzas without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Absolute paths the database says the package owns (directories included).
    pub files: Vec<String>,
    pub evidence: Evidence,
}

/// Where a package fact was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Database path as given by the caller.
    pub file: String,
    /// First line (1-based) of the stanza, for text databases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Record key, e.g. the rpm header number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A record the reader saw but could not turn into a package (for the coverage ledger).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub evidence: Evidence,
    pub reason: String,
}

/// The result of reading one database: the packages, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub packages: Vec<Package>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The database as a whole is unreadable (bad magic, truncated metadata, ...).
    #[error("{format}: {reason}")]
    Malformed {
        format: &'static str,
        reason: String,
    },
    #[error("sqlite: {0}")]
    Sqlite(String),
    #[error("i/o on a private temporary copy: {0}")]
    Io(String),
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn malformed(format: &'static str, reason: impl Into<String>) -> Error {
    Error::Malformed {
        format,
        reason: reason.into(),
    }
}
