//! `rpmdb.sqlite` (rpm ≥ 4.16): table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`.
//!
//! The database is deserialized into memory read-only: nothing on disk is opened,
//! and the image is never touched. A non-empty `-wal` cannot be applied in memory:
//! then the database and the wal are written to a private temporary directory and
//! that copy is opened (SQLite replays the wal into the copy only).

use super::{add_blob, skip, Budget};
use crate::{Error, Listing, Result};
use rusqlite::{Connection, OpenFlags};
use std::io::Read;

const MAGIC: &[u8; 16] = b"SQLite format 3\0";

fn sql(e: rusqlite::Error) -> Error {
    Error::Sqlite(e.to_string())
}

fn harden(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "trusted_schema", false)
        .map_err(sql)?;
    conn.pragma_update(None, "cell_size_check", true)
        .map_err(sql)?;
    conn.pragma_update(None, "query_only", true).map_err(sql)?;
    Ok(())
}

fn open_in_memory(db: &[u8]) -> Result<Connection> {
    let mut conn = Connection::open_in_memory().map_err(sql)?;
    // A database last written in WAL mode says so in header bytes 18-19 (value 2);
    // an in-memory database has no wal: present it as a rollback-journal database.
    let (head, rest) = db.split_at(18.min(db.len()));
    let patched: &[u8] = if db.len() >= 20 { &[1, 1] } else { &[] };
    let rest = if db.len() >= 20 { &rest[2..] } else { rest };
    let reader = head.chain(patched).chain(rest);
    conn.deserialize_read_exact("main", reader, db.len(), true)
        .map_err(sql)?;
    Ok(conn)
}

/// Read the packages of an rpmdb.sqlite. `wal` is the content of
/// `rpmdb.sqlite-wal` when the caller found one.
pub fn read(db: &[u8], wal: Option<&[u8]>, file: &str) -> Result<Listing> {
    if db.len() < 100 || &db[..16] != MAGIC {
        return Err(crate::malformed("rpmdb sqlite", "not an SQLite 3 database"));
    }
    // Keep the temporary directory alive while the connection is open.
    let mut _tmp = None;
    let conn = match wal.filter(|w| !w.is_empty()) {
        None => open_in_memory(db)?,
        Some(w) => {
            let dir = tempfile::tempdir().map_err(|e| Error::Io(e.to_string()))?;
            let path = dir.path().join("rpmdb.sqlite");
            std::fs::write(&path, db).map_err(|e| Error::Io(e.to_string()))?;
            std::fs::write(dir.path().join("rpmdb.sqlite-wal"), w)
                .map_err(|e| Error::Io(e.to_string()))?;
            // Read-write on our private copy so SQLite can replay the wal into it.
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sql)?;
            _tmp = Some(dir);
            conn
        }
    };
    harden(&conn)?;
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_schema WHERE name = 'Packages' COLLATE NOCASE",
            [],
            |r| r.get(0),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => {
                crate::malformed("rpmdb sqlite", "no Packages table")
            }
            e => sql(e),
        })?;
    if kind.as_deref() != Some("table") {
        return Err(crate::malformed("rpmdb sqlite", "Packages is not a table"));
    }
    let mut budget = Budget::new(db.len() + wal.map_or(0, <[u8]>::len));
    let mut listing = Listing::default();
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let key = match row.get_ref(0).map_err(sql)? {
            rusqlite::types::ValueRef::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        };
        let blob = match row.get_ref(1).map_err(sql)? {
            rusqlite::types::ValueRef::Blob(b) => b,
            _ => {
                skip(&mut listing, file, &key, "blob column is not a BLOB");
                continue;
            }
        };
        if !budget.take(blob.len()) {
            return Err(crate::malformed(
                "rpmdb sqlite",
                "blobs larger than the database itself",
            ));
        }
        add_blob(&mut listing, blob, file, &key);
    }
    Ok(listing)
}
