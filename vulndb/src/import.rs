//! `db import`: read every record of the given paths and store them, each path
//! as one source, all in one SQLite transaction. Re-importing a path replaces
//! its previous records; if anything fails (an unreadable path, a corrupt zip
//! directory, a database error) the transaction is rolled back and the
//! previous database is untouched. Malformed records are counted and kept
//! with their file, zip entry and reason; they never abort the import.
//! Withdrawn records are counted and not stored.
//!
//! Inputs: a `.json` file (an OSV record, a Debian tracker JSON or an Alpine
//! secdb JSON, told apart by their first bytes), a `.zip` of OSV records (such
//! as osv.dev's `<Ecosystem>/all.zip`), or a folder of these (walked without
//! following symlinks; other files are counted as skipped). Records are parsed
//! in parallel, in batches, so memory stays bounded by the batch.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use rusqlite::{params, Transaction};
use serde::Serialize;

use crate::model::{Advisory, Malformed};
use crate::store::Db;
use crate::{osv, secdb, time, tracker, Error, Result};

/// Largest JSON file read from disk (a whole Debian tracker JSON is ~100 MiB).
pub const MAX_FILE: u64 = 1 << 30;
/// Largest zip entry, declared or actual (an OSV record is a few KiB; zip bombs stop here).
pub const MAX_ZIP_ENTRY: u64 = 64 << 20;
/// Most entries read from one zip archive.
pub const MAX_ZIP_ENTRIES: usize = 4_000_000;
/// Folder walk limits.
pub const MAX_DEPTH: usize = 64;
pub const MAX_FILES: usize = 10_000_000;
/// Malformed reasons kept per source (all are counted).
pub const MAX_MALFORMED_KEPT: usize = 10_000;
const BATCH: usize = 4096;

/// What one imported path gave.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub source: String,
    pub kind: String,
    pub records: u64,
    pub affected_entries: u64,
    pub withdrawn: u64,
    pub malformed: u64,
    /// The first [`MAX_MALFORMED_KEPT`] malformed records.
    pub malformed_examples: Vec<Malformed>,
    /// Tracker/secdb entries that say "never affected" (fixed version `0`),
    /// and tracker entries for releases with no Debian number.
    pub not_affected: u64,
    pub skipped_files: u64,
    pub newest_modified: Option<String>,
    pub seconds: f64,
}

/// Test hooks.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Fail with an error after storing this many records (to test rollback).
    #[doc(hidden)]
    pub fail_after_records: Option<u64>,
    /// A lower zip entry limit than [`MAX_ZIP_ENTRY`] (to test it quickly).
    #[doc(hidden)]
    pub max_zip_entry: Option<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Format {
    Osv,
    DebianTracker,
    AlpineSecdb,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Osv => "osv",
            Format::DebianTracker => "debian-tracker",
            Format::AlpineSecdb => "alpine-secdb",
        }
    }
}

/// Tell the three JSON inputs apart from their first bytes: secdb has
/// `distroversion`/`secfixes`; the tracker is `{"<package>": {"CVE-...` (or
/// `TEMP-`); everything else is read as OSV.
fn sniff(bytes: &[u8]) -> Format {
    let head = &bytes[..bytes.len().min(64 << 10)];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"\"distroversion\"") && (has(b"\"secfixes\"") || has(b"\"packages\"")) {
        return Format::AlpineSecdb;
    }
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while head.get(*i).is_some_and(u8::is_ascii_whitespace) {
            *i += 1;
        }
    };
    let expect = |i: &mut usize, c: u8| -> bool {
        skip_ws(i);
        if head.get(*i) == Some(&c) {
            *i += 1;
            true
        } else {
            false
        }
    };
    let tracker = expect(&mut i, b'{') && expect(&mut i, b'"') && {
        // skip the package name (no escapes in Debian package names)
        while head.get(i).is_some_and(|&c| c != b'"') {
            i += 1;
        }
        i += 1;
        expect(&mut i, b':') && expect(&mut i, b'{') && expect(&mut i, b'"') && {
            let rest = &head[i.min(head.len())..];
            rest.starts_with(b"CVE-") || rest.starts_with(b"TEMP-") || rest.starts_with(b"DSA-")
        }
    };
    if tracker {
        Format::DebianTracker
    } else {
        Format::Osv
    }
}

/// One unit of parse work.
enum Unit {
    File(PathBuf),
    /// A zip entry's stored bytes, inflated in the parallel step.
    Zipped {
        file: String,
        entry: String,
        raw: Vec<u8>,
        deflated: bool,
        crc32: u32,
        limit: u64,
    },
    Bad(Malformed),
}

/// Inflate (if needed) and check the size and CRC of one zip entry.
fn unzip(
    raw: Vec<u8>,
    deflated: bool,
    crc32: u32,
    limit: u64,
) -> std::result::Result<Vec<u8>, String> {
    let bytes = if deflated {
        let mut out = Vec::with_capacity(raw.len().saturating_mul(4).min(limit as usize));
        flate2::read::DeflateDecoder::new(&raw[..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("inflate: {e}"))?;
        if out.len() as u64 > limit {
            return Err(format!("inflates to more than {limit} bytes"));
        }
        out
    } else {
        raw
    };
    let mut crc = flate2::Crc::new();
    crc.update(&bytes);
    if crc.sum() != crc32 {
        return Err(format!(
            "CRC-32 {:08x}, the archive says {crc32:08x}",
            crc.sum()
        ));
    }
    Ok(bytes)
}

enum Parsed {
    Advisories {
        format: Format,
        advisories: Vec<Row>,
        malformed: Vec<Malformed>,
        not_affected: u64,
        modified: Option<String>,
    },
    Bad(Malformed),
}

fn parse_unit(unit: Unit) -> Parsed {
    let (file, entry, bytes, mtime) = match unit {
        Unit::Bad(m) => return Parsed::Bad(m),
        Unit::Zipped {
            file,
            entry,
            raw,
            deflated,
            crc32,
            limit,
        } => match unzip(raw, deflated, crc32, limit) {
            Ok(bytes) => (file, Some(entry), bytes, None),
            Err(reason) => {
                return Parsed::Bad(Malformed {
                    file,
                    entry: Some(entry),
                    reason,
                })
            }
        },
        Unit::File(path) => {
            let file = path.display().to_string();
            let bad = |reason: String| {
                Parsed::Bad(Malformed {
                    file: file.clone(),
                    entry: None,
                    reason,
                })
            };
            let f = match File::open(&path) {
                Ok(f) => f,
                Err(e) => return bad(e.to_string()),
            };
            let meta = f.metadata().ok();
            let len = meta.as_ref().map_or(0, |m| m.len());
            if len > MAX_FILE {
                return bad(format!("{len} bytes, more than the limit of {MAX_FILE}"));
            }
            let mut bytes = Vec::with_capacity(len as usize);
            if let Err(e) = f.take(MAX_FILE + 1).read_to_end(&mut bytes) {
                return bad(e.to_string());
            }
            if bytes.len() as u64 > MAX_FILE {
                return bad(format!("more than the limit of {MAX_FILE} bytes"));
            }
            let mtime = meta.and_then(|m| m.modified().ok()).map(time::system_time);
            (file, None, bytes, mtime)
        }
    };
    let bad = |reason: String| Malformed {
        file: file.clone(),
        entry: entry.clone(),
        reason,
    };
    let keyed = |list: Vec<(String, String)>| -> Vec<Malformed> {
        list.into_iter()
            .map(|(k, reason)| Malformed {
                file: file.clone(),
                entry: Some(match &entry {
                    Some(e) => format!("{e}: {k}"),
                    None => k,
                }),
                reason,
            })
            .collect()
    };
    match sniff(&bytes) {
        Format::Osv => match osv::parse(&bytes) {
            Ok(a) => Parsed::Advisories {
                format: Format::Osv,
                modified: a.modified.clone(),
                advisories: vec![Row::new(a)],
                malformed: Vec::new(),
                not_affected: 0,
            },
            Err(reason) => Parsed::Bad(bad(reason)),
        },
        Format::DebianTracker => match tracker::parse(&bytes) {
            Ok(d) => Parsed::Advisories {
                format: Format::DebianTracker,
                advisories: d.advisories.into_iter().map(Row::new).collect(),
                malformed: keyed(d.malformed),
                not_affected: (d.not_affected + d.unknown_release) as u64,
                modified: mtime,
            },
            Err(reason) => Parsed::Bad(bad(format!("Debian tracker JSON: {reason}"))),
        },
        Format::AlpineSecdb => match secdb::parse(&bytes) {
            Ok(d) => Parsed::Advisories {
                format: Format::AlpineSecdb,
                advisories: d.advisories.into_iter().map(Row::new).collect(),
                malformed: keyed(d.malformed),
                not_affected: d.not_affected as u64,
                modified: mtime,
            },
            Err(reason) => Parsed::Bad(bad(format!("Alpine secdb JSON: {reason}"))),
        },
    }
}

/// Inserts into the open transaction and keeps the counts of one source.
struct Sink<'t> {
    tx: &'t Transaction<'t>,
    source_id: i64,
    report: ImportReport,
    formats: std::collections::BTreeSet<Format>,
    ecosystems: BTreeMap<String, u64>,
    newest: Option<(i64, String)>,
    fail_after: Option<u64>,
    db_path: PathBuf,
}

impl Sink<'_> {
    fn bad(&mut self, m: Malformed) -> Result<()> {
        self.report.malformed += 1;
        if self.report.malformed_examples.len() < MAX_MALFORMED_KEPT {
            self.tx
                .prepare_cached(
                    "INSERT INTO malformed(source, file, entry, reason) VALUES (?1, ?2, ?3, ?4)",
                )
                .and_then(|mut s| s.execute(params![self.source_id, m.file, m.entry, m.reason]))
                .map_err(|e| Error::db(&self.db_path, e))?;
            self.report.malformed_examples.push(m);
        }
        Ok(())
    }

    fn take(&mut self, parsed: Parsed) -> Result<()> {
        match parsed {
            Parsed::Bad(m) => self.bad(m),
            Parsed::Advisories {
                format,
                advisories,
                malformed,
                not_affected,
                modified,
            } => {
                self.formats.insert(format);
                self.report.not_affected += not_affected;
                for m in malformed {
                    self.bad(m)?;
                }
                if let Some(m) = modified {
                    if let Some(t) = time::parse(&m) {
                        if self.newest.as_ref().is_none_or(|(n, _)| t > *n) {
                            self.newest = Some((t, m));
                        }
                    }
                }
                for a in advisories {
                    self.store(a)?;
                }
                Ok(())
            }
        }
    }

    fn store(&mut self, a: Row) -> Result<()> {
        if a.withdrawn {
            self.report.withdrawn += 1;
            return Ok(());
        }
        if let Some(n) = self.fail_after {
            if self.report.records >= n {
                return Err(Error::Input {
                    path: self.db_path.clone(),
                    reason: format!("import stopped after {n} records (test hook)"),
                });
            }
        }
        let e = |err| Error::db(&self.db_path, err);
        let mut adv = self
            .tx
            .prepare_cached(
                "INSERT INTO advisories(source, vuln_id, cves, aliases, summary, details, modified,
                 published, cvss, distro_severity) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            )
            .map_err(e)?;
        adv.execute(params![
            self.source_id,
            a.id,
            a.cves,
            a.aliases,
            a.summary,
            a.details,
            a.modified,
            a.published,
            a.cvss,
            a.distro_severity,
        ])
        .map_err(e)?;
        let advisory = self.tx.last_insert_rowid();
        let mut aff = self
            .tx
            .prepare_cached(
                "INSERT INTO affected(name, ecosystem, advisory, seq, source, ranges, versions,
                 distro_severity, attrs) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
            )
            .map_err(e)?;
        for (seq, entry) in a.entries.iter().enumerate() {
            aff.execute(params![
                entry.name,
                entry.ecosystem,
                advisory,
                seq as i64,
                self.source_id,
                entry.ranges,
                entry.versions,
                entry.distro_severity,
                entry.attrs,
            ])
            .map_err(e)?;
            *self.ecosystems.entry(entry.ecosystem.clone()).or_default() += 1;
            self.report.affected_entries += 1;
        }
        self.report.records += 1;
        Ok(())
    }
}

/// An advisory as stored: its JSON columns (and CVSS scores) made in the
/// parallel parse step, so the single writer only inserts.
struct Row {
    withdrawn: bool,
    id: String,
    cves: String,
    aliases: String,
    summary: Option<String>,
    details: Option<String>,
    modified: Option<String>,
    published: Option<String>,
    cvss: String,
    distro_severity: Option<String>,
    entries: Vec<EntryRow>,
}

struct EntryRow {
    ecosystem: String,
    name: String,
    ranges: String,
    versions: String,
    distro_severity: Option<String>,
    attrs: Option<String>,
}

impl Row {
    fn new(a: Advisory) -> Row {
        use erased::Json;
        let mut aliases = a.aliases.clone();
        aliases.extend(a.related.iter().cloned());
        aliases.extend(a.upstream.iter().cloned());
        Row {
            withdrawn: a.withdrawn.is_some(),
            cves: a.cve_ids().json(),
            aliases: aliases.json(),
            cvss: crate::cvss_score::scores(&a.severity).json(),
            distro_severity: a.distro_severity.as_ref().map(|d| d.json()),
            entries: a
                .affected
                .into_iter()
                .map(|en| EntryRow {
                    ranges: en.ranges.json(),
                    versions: en.versions.json(),
                    distro_severity: en.distro_severity.as_ref().map(|d| d.json()),
                    attrs: (!en.attributes.is_empty()).then(|| en.attributes.json()),
                    ecosystem: en.ecosystem,
                    name: en.name,
                })
                .collect(),
            id: a.id,
            summary: a.summary,
            details: a.details,
            modified: a.modified,
            published: a.published,
        }
    }
}

/// Serialise the few model types to JSON text for the store.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

/// Walk `dir` (no symlinks followed), files in name order.
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Input {
            path: dir.to_path_buf(),
            reason: format!("folders nested more than {MAX_DEPTH} deep"),
        });
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let ft = entry.file_type().map_err(|e| Error::io(&entry.path(), e))?;
        if ft.is_dir() {
            walk(&entry.path(), depth + 1, out)?;
        } else if ft.is_file() {
            if out.len() >= MAX_FILES {
                return Err(Error::Input {
                    path: dir.to_path_buf(),
                    reason: format!("more than {MAX_FILES} files"),
                });
            }
            out.push(entry.path());
        }
    }
    Ok(())
}

fn is_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

impl Db {
    /// Import every path as its own source, in one transaction (see the module docs).
    pub fn import(&mut self, paths: &[PathBuf]) -> Result<Vec<ImportReport>> {
        self.import_with(paths, &ImportOptions::default())
    }

    pub fn import_with(
        &mut self,
        paths: &[PathBuf],
        opts: &ImportOptions,
    ) -> Result<Vec<ImportReport>> {
        let db_path = self.path().to_path_buf();
        let e = |err| Error::db(&db_path, err);
        let tx = self.conn.transaction().map_err(e)?;
        let mut reports = Vec::new();
        for path in paths {
            reports.push(import_one(&tx, path, opts, &db_path)?);
        }
        tx.commit().map_err(e)?;
        Ok(reports)
    }
}

fn import_one(
    tx: &Transaction,
    path: &Path,
    opts: &ImportOptions,
    db_path: &Path,
) -> Result<ImportReport> {
    let started = Instant::now();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let name = std::fs::canonicalize(path)
        .map_err(|e| Error::io(path, e))?
        .display()
        .to_string();
    let e = |err| Error::db(db_path, err);
    // Replace the previous import of this path.
    let old: Option<i64> = tx
        .query_row("SELECT id FROM sources WHERE name = ?1", [&name], |r| {
            r.get(0)
        })
        .ok();
    if let Some(id) = old {
        for table in ["affected", "advisories", "malformed", "source_ecosystems"] {
            tx.execute(&format!("DELETE FROM {table} WHERE source = ?1"), [id])
                .map_err(e)?;
        }
        tx.execute("DELETE FROM sources WHERE id = ?1", [id])
            .map_err(e)?;
    }
    tx.execute(
        "INSERT INTO sources(name, kind, file, records, withdrawn, malformed, not_affected,
         skipped_files, imported_at) VALUES (?1, '', ?2, 0, 0, 0, 0, 0, '')",
        params![name, path.display().to_string()],
    )
    .map_err(e)?;
    let source_id = tx.last_insert_rowid();
    let mut sink = Sink {
        tx,
        source_id,
        report: ImportReport {
            source: name.clone(),
            kind: String::new(),
            records: 0,
            affected_entries: 0,
            withdrawn: 0,
            malformed: 0,
            malformed_examples: Vec::new(),
            not_affected: 0,
            skipped_files: 0,
            newest_modified: None,
            seconds: 0.0,
        },
        formats: Default::default(),
        ecosystems: BTreeMap::new(),
        newest: None,
        fail_after: opts.fail_after_records,
        db_path: db_path.to_path_buf(),
    };

    let mut files = Vec::new();
    if meta.is_dir() {
        walk(path, 0, &mut files)?;
    } else {
        files.push(path.to_path_buf());
    }
    let mut batch: Vec<Unit> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<Unit>, sink: &mut Sink| -> Result<()> {
        let parsed: Vec<Parsed> = std::mem::take(batch)
            .into_par_iter()
            .map(parse_unit)
            .collect();
        for p in parsed {
            sink.take(p)?;
        }
        Ok(())
    };
    for file in files {
        if is_ext(&file, "zip") {
            let limit = opts
                .max_zip_entry
                .unwrap_or(MAX_ZIP_ENTRY)
                .min(MAX_ZIP_ENTRY);
            read_zip(&file, limit, &mut |unit| {
                batch.push(unit);
                if batch.len() >= BATCH {
                    flush(&mut batch, &mut sink)?;
                }
                Ok(())
            })?;
        } else if is_ext(&file, "json") || !meta.is_dir() {
            batch.push(Unit::File(file));
        } else {
            sink.report.skipped_files += 1;
            continue;
        }
        if batch.len() >= BATCH {
            flush(&mut batch, &mut sink)?;
        }
    }
    flush(&mut batch, &mut sink)?;

    let mut report = sink.report;
    report.kind = if sink.formats.is_empty() {
        "empty".to_string()
    } else {
        sink.formats
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join("+")
    };
    report.newest_modified = sink.newest.map(|(_, m)| m);
    for (eco, n) in &sink.ecosystems {
        tx.execute(
            "INSERT INTO source_ecosystems(source, ecosystem, entries) VALUES (?1, ?2, ?3)",
            params![source_id, eco, *n as i64],
        )
        .map_err(e)?;
    }
    tx.execute(
        "UPDATE sources SET kind = ?2, records = ?3, withdrawn = ?4, malformed = ?5,
         not_affected = ?6, skipped_files = ?7, newest_modified = ?8, imported_at = ?9 WHERE id = ?1",
        params![
            source_id,
            report.kind,
            report.records as i64,
            report.withdrawn as i64,
            report.malformed as i64,
            report.not_affected as i64,
            report.skipped_files as i64,
            report.newest_modified,
            time::now(),
        ],
    )
    .map_err(e)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Every `.json` entry of an OSV zip, size-checked before and while reading.
/// A bad entry is a malformed record; an unreadable archive is an error.
fn read_zip(path: &Path, limit: u64, emit: &mut dyn FnMut(Unit) -> Result<()>) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut archive =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            reason: format!("not a readable zip archive: {e}"),
        })?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(Error::Input {
            path: path.to_path_buf(),
            reason: format!("{} entries, more than {MAX_ZIP_ENTRIES}", archive.len()),
        });
    }
    let file_name = path.display().to_string();
    for i in 0..archive.len() {
        let bad = |entry: String, reason: String| {
            Unit::Bad(Malformed {
                file: file_name.clone(),
                entry: Some(entry),
                reason,
            })
        };
        // Raw (still compressed) bytes: inflating happens in parallel later.
        let mut entry = match archive.by_index_raw(i) {
            Ok(en) => en,
            Err(err) => {
                emit(bad(format!("#{i}"), err.to_string()))?;
                continue;
            }
        };
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        if entry.size() > limit || entry.compressed_size() > limit {
            emit(bad(
                name,
                format!(
                    "declares {} bytes, more than {limit}",
                    entry.size().max(entry.compressed_size())
                ),
            ))?;
            continue;
        }
        let deflated = match entry.compression() {
            zip::CompressionMethod::Stored => false,
            zip::CompressionMethod::Deflated => true,
            other => {
                emit(bad(
                    name,
                    format!("compression method {other:?} is not read"),
                ))?;
                continue;
            }
        };
        let crc32 = entry.crc32();
        let mut raw = Vec::with_capacity(entry.compressed_size() as usize);
        let unit = match (&mut entry).take(limit + 1).read_to_end(&mut raw) {
            Err(err) => bad(name, err.to_string()),
            Ok(_) => Unit::Zipped {
                file: file_name.clone(),
                entry: name,
                raw,
                deflated,
                crc32,
                limit,
            },
        };
        emit(unit)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert!(sniff(br#"{"id": "X"}"#) == Format::Osv);
        assert!(sniff(b"") == Format::Osv);
        assert!(sniff(br#" { "openssh" : { "CVE-2023-1": {}}}"#) == Format::DebianTracker);
        assert!(sniff(br#"{"a":{"TEMP-0001": {}}}"#) == Format::DebianTracker);
        assert!(sniff(br#"{"distroversion": "v3.19", "packages": []}"#) == Format::AlpineSecdb);
        assert!(sniff(br#"{"id": "X", "affected": [{"package": {"name":"a"}}]}"#) == Format::Osv);
    }
}
