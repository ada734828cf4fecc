//! The SQLite file: schema, opening, and what `info` reports.
//!
//! Tables: `sources` (one row per imported PATH, with its counts and dates),
//! `source_ecosystems`, `malformed` (the first reasons per source),
//! `advisories` and `affected` (one row per affected package entry, indexed by
//! `(name, ecosystem)` for the matcher).

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::{time, Error, Result};

/// Bumped when the tables change; an older file must be re-imported.
pub const SCHEMA_VERSION: &str = "2";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    records INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    malformed INTEGER NOT NULL,
    not_affected INTEGER NOT NULL,
    skipped_files INTEGER NOT NULL,
    newest_modified TEXT,
    imported_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_ecosystems(
    source INTEGER NOT NULL, ecosystem TEXT NOT NULL, entries INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS malformed(
    source INTEGER NOT NULL, file TEXT NOT NULL, entry TEXT, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisories(
    id INTEGER PRIMARY KEY,
    source INTEGER NOT NULL,
    vuln_id TEXT NOT NULL,
    cves TEXT NOT NULL,
    aliases TEXT NOT NULL,
    summary TEXT,
    details TEXT,
    modified TEXT,
    published TEXT,
    cvss TEXT NOT NULL,
    distro_severity TEXT);
CREATE INDEX IF NOT EXISTS advisories_source ON advisories(source);
-- Clustered by (name, ecosystem): the matcher reads one package's entries
-- from adjacent pages.
CREATE TABLE IF NOT EXISTS affected(
    name TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    advisory INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    source INTEGER NOT NULL,
    ranges TEXT NOT NULL,
    versions TEXT NOT NULL,
    distro_severity TEXT,
    attrs TEXT,
    PRIMARY KEY (name, ecosystem, advisory, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS affected_source ON affected(source);
";

/// An open vulnerability database.
pub struct Db {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl Db {
    /// `$XDG_DATA_HOME/coldscan/vulndb.sqlite`, else
    /// `$HOME/.local/share/coldscan/vulndb.sqlite`; `None` when neither is set.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".local/share"))
            })?;
        Some(base.join("coldscan").join("vulndb.sqlite"))
    }

    /// Open the database at `path`, creating it (and its directory) if needed.
    pub fn open(path: &Path) -> Result<Db> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let conn = Connection::open(path).map_err(|e| Error::db(path, e))?;
        let db = Db {
            conn,
            path: path.to_path_buf(),
        };
        db.init()?;
        Ok(db)
    }

    /// Open an existing database read-only (for scanning); an error when the
    /// file is missing or is not a coldscan database.
    pub fn open_read_only(path: &Path) -> Result<Db> {
        if !path.is_file() {
            return Err(Error::NoDatabase(path.to_path_buf()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::db(path, e))?;
        let db = Db {
            conn,
            path: path.to_path_buf(),
        };
        db.tune()?;
        db.check_schema()?;
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A larger page cache and memory-mapped reads: matching touches pages
    /// all over the `affected` index, and a 2 MiB cache re-reads them.
    fn tune(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824;")
            .map_err(|e| Error::db(&self.path, e))
    }

    fn init(&self) -> Result<()> {
        self.tune()?;
        let p = &self.path;
        self.conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| Error::db(p, e))?;
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| Error::db(p, e))?;
        tx.execute_batch(SCHEMA).map_err(|e| Error::db(p, e))?;
        tx.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?1)",
            [SCHEMA_VERSION],
        )
        .map_err(|e| Error::db(p, e))?;
        tx.commit().map_err(|e| Error::db(p, e))?;
        self.check_schema()
    }

    fn check_schema(&self) -> Result<()> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| Error::db(&self.path, e))?;
        match v.as_deref() {
            Some(SCHEMA_VERSION) => Ok(()),
            other => Err(Error::Input {
                path: self.path.clone(),
                reason: format!(
                    "not a coldscan vulnerability database of schema {SCHEMA_VERSION} (found {}); delete it and import again",
                    other.unwrap_or("none")
                ),
            }),
        }
    }

    /// Sources, counts, ecosystems and the age of the newest record.
    pub fn info(&self) -> Result<DbInfo> {
        let p = &self.path;
        let e = |err| Error::db(p, err);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, name, kind, file, records, withdrawn, malformed, not_affected,
                        skipped_files, newest_modified, imported_at FROM sources ORDER BY name",
            )
            .map_err(e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    SourceInfo {
                        name: r.get(1)?,
                        kind: r.get(2)?,
                        file: r.get(3)?,
                        records: r.get::<_, i64>(4)? as u64,
                        withdrawn: r.get::<_, i64>(5)? as u64,
                        malformed: r.get::<_, i64>(6)? as u64,
                        not_affected: r.get::<_, i64>(7)? as u64,
                        skipped_files: r.get::<_, i64>(8)? as u64,
                        newest_modified: r.get(9)?,
                        imported_at: r.get(10)?,
                        ecosystems: Vec::new(),
                    },
                ))
            })
            .map_err(e)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(e)?;
        let mut eco_stmt = self
            .conn
            .prepare("SELECT ecosystem, entries FROM source_ecosystems WHERE source = ?1 ORDER BY ecosystem")
            .map_err(e)?;
        let mut sources = Vec::new();
        let mut totals: std::collections::BTreeMap<String, u64> = Default::default();
        for (id, mut s) in rows {
            s.ecosystems = eco_stmt
                .query_map([id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })
                .map_err(e)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(e)?;
            for (eco, n) in &s.ecosystems {
                *totals.entry(eco.clone()).or_default() += n;
            }
            sources.push(s);
        }
        let newest_modified = sources
            .iter()
            .filter_map(|s| s.newest_modified.clone())
            .max_by_key(|m| time::parse(m).unwrap_or(i64::MIN));
        let newest_age_days = newest_modified
            .as_deref()
            .and_then(time::parse)
            .map(|t| (time::now_unix() - t) as f64 / 86_400.0);
        Ok(DbInfo {
            path: self.path.clone(),
            advisories: sources.iter().map(|s| s.records).sum(),
            ecosystems: totals.into_iter().collect(),
            last_import: sources.iter().map(|s| s.imported_at.clone()).max(),
            newest_modified,
            newest_age_days,
            sources,
        })
    }

    /// The first recorded malformed entries of a source (at most `limit`).
    pub fn malformed(&self, source: &str, limit: usize) -> Result<Vec<crate::Malformed>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT m.file, m.entry, m.reason FROM malformed m JOIN sources s ON s.id = m.source
                 WHERE s.name = ?1 LIMIT ?2",
            )
            .map_err(|e| Error::db(&self.path, e))?;
        let rows = stmt
            .query_map(params![source, limit as i64], |r| {
                Ok(crate::Malformed {
                    file: r.get(0)?,
                    entry: r.get(1)?,
                    reason: r.get(2)?,
                })
            })
            .map_err(|e| Error::db(&self.path, e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| Error::db(&self.path, e))
    }
}

/// What `coldscan db info` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DbInfo {
    pub path: PathBuf,
    pub sources: Vec<SourceInfo>,
    /// Advisories stored (withdrawn ones are not).
    pub advisories: u64,
    /// Affected-package entries per ecosystem, over all sources.
    pub ecosystems: Vec<(String, u64)>,
    /// The newest `modified` date of any record (for the tracker and secdb,
    /// which carry no dates, the file's modification time).
    pub newest_modified: Option<String>,
    pub newest_age_days: Option<f64>,
    pub last_import: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// The imported path, made absolute: importing it again replaces this source.
    pub name: String,
    /// `osv`, `debian-tracker`, `alpine-secdb`, or several joined with `+`.
    pub kind: String,
    /// The path as given on the command line.
    pub file: String,
    pub records: u64,
    pub withdrawn: u64,
    pub malformed: u64,
    pub not_affected: u64,
    pub skipped_files: u64,
    pub newest_modified: Option<String>,
    pub imported_at: String,
    pub ecosystems: Vec<(String, u64)>,
}
