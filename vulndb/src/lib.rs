//! Offline vulnerability database for coldscan: readers for OSV, the Debian
//! security tracker JSON and Alpine secdb ([`osv`], [`tracker`], [`secdb`]),
//! a SQLite store ([`Db`], filled by [`Db::import`]) and per-distribution
//! matching of installed packages ([`match_packages`]).
//!
//! Facts only: a match says which advisory names an installed package, the
//! versions and the fix, the CVSS vectors with their base scores and the
//! distribution's own severity word. Turning that into findings and severities
//! is the rules package's job.
//!
//! Decisions, each documented where it is implemented:
//! * Debian tracker: codenames map to `Debian:7` … `Debian:15`, `sid` to
//!   `Debian:sid`; `fixed_version` `0` makes no entry (counted as not
//!   affected); advisories are named `DEBIAN-<CVE>` like osv.dev's ([`tracker`]).
//! * Alpine secdb: the fixed version `0` makes no entry; of two fixes listed
//!   for one id, the higher is kept; YAML is not read ([`secdb`]).
//! * Ecosystems: `Ubuntu:22.04` matches `Ubuntu:22.04:LTS`; `Ubuntu:Pro:…`
//!   records only match a system that says `Pro`; RPM minor releases
//!   (`AlmaLinux:9.3`) match the major release's advisories ([`ecosystem`]).
//! * A source is the imported path made absolute; importing it again
//!   replaces it. The tracker and secdb carry no dates: their file's
//!   modification time stands for the newest record ([`import`]).
//! * CVE ids are taken from the id, aliases, upstream and related ids
//!   (AlmaLinux lists its CVEs under `related`) ([`Advisory::cve_ids`]).
//! * CVSS base scores are computed at import; a vector that does not parse
//!   is kept with the parser's reason ([`cvss_score`]).
#![forbid(unsafe_code)]

pub mod cvss_score;
pub mod ecosystem;
pub mod import;
pub mod matcher;
pub mod model;
pub mod osv;
pub mod range;
pub mod secdb;
pub mod store;
pub mod time;
pub mod tracker;

use std::path::{Path, PathBuf};

pub use import::{ImportOptions, ImportReport};
pub use matcher::{match_packages, Evidence, Installed, VulnMatch};
pub use model::{Advisory, Affected, DistroSeverity, Event, Malformed, Range, SeverityEntry};
pub use store::{Db, DbInfo, SourceInfo};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: database: {source}", path.display())]
    Db {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{}: {reason}", path.display())]
    Input { path: PathBuf, reason: String },
    #[error("no vulnerability database at {} (import one with `coldscan db import PATH`)", .0.display())]
    NoDatabase(PathBuf),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn db(path: &Path, source: rusqlite::Error) -> Error {
        Error::Db {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
