//! `coldscan db import PATH... [--db FILE]` and `coldscan db info [--db FILE] [--json]`:
//! the offline vulnerability database (crate `coldscan-vulndb`).
//!
//! Exit codes: 0 done (an import succeeds even when it counted malformed
//! records; they are listed on stderr); 2 usage or input error, with one
//! `coldscan: error: ...` line on stderr (the database is then unchanged).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use coldscan_vulndb::{Db, DbInfo, ImportReport};

/// Malformed records listed on stderr per source (all are counted).
const MALFORMED_SHOWN: usize = 20;

#[derive(Debug, clap::Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Import advisories: OSV files, folders or all.zip archives, the Debian
    /// security tracker JSON, Alpine secdb JSON. Each PATH replaces its
    /// previous import; all PATHs are imported in one transaction.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Database file [default: $XDG_DATA_HOME/coldscan/vulndb.sqlite].
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Show the database's sources, counts, ecosystems and age.
    Info {
        /// Database file [default: $XDG_DATA_HOME/coldscan/vulndb.sqlite].
        #[arg(long)]
        db: Option<PathBuf>,
        /// Machine-readable JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: &DbArgs) -> ExitCode {
    let result = match &args.command {
        DbCommand::Import { paths, db } => import(paths, db.as_ref()),
        DbCommand::Info { db, json } => info(db.as_ref(), *json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("coldscan: error: {}", one_line(&msg));
            ExitCode::from(2)
        }
    }
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r']).collect::<Vec<_>>().join(" ")
}

fn db_path(db: Option<&PathBuf>) -> Result<PathBuf, String> {
    match db {
        Some(p) => Ok(p.clone()),
        None => Db::default_path()
            .ok_or_else(|| "no --db given and neither XDG_DATA_HOME nor HOME is set".to_string()),
    }
}

fn import(paths: &[PathBuf], db: Option<&PathBuf>) -> Result<(), String> {
    let path = db_path(db)?;
    let mut db = Db::open(&path).map_err(|e| e.to_string())?;
    let reports = db.import(paths).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    for r in &reports {
        let _ = writeln!(out, "{}", summary(r));
        for m in r.malformed_examples.iter().take(MALFORMED_SHOWN) {
            let _ = writeln!(err, "coldscan: malformed: {}", one_line(&m.to_string()));
        }
        if r.malformed > MALFORMED_SHOWN as u64 {
            let _ = writeln!(
                err,
                "coldscan: malformed: ... and {} more in {}",
                r.malformed - MALFORMED_SHOWN as u64,
                r.source
            );
        }
    }
    let _ = writeln!(out, "database: {}", path.display());
    Ok(())
}

fn summary(r: &ImportReport) -> String {
    let rate = if r.seconds > 0.0 {
        format!(", {:.0} records/s", r.records as f64 / r.seconds)
    } else {
        String::new()
    };
    format!(
        "imported {} ({}): {} records ({} package entries), {} withdrawn, {} malformed, \
         {} not affected, {} other files skipped; newest record {}; {:.2} s{rate}",
        r.source,
        r.kind,
        r.records,
        r.affected_entries,
        r.withdrawn,
        r.malformed,
        r.not_affected,
        r.skipped_files,
        r.newest_modified.as_deref().unwrap_or("undated"),
        r.seconds,
    )
}

fn info(db: Option<&PathBuf>, json: bool) -> Result<(), String> {
    let path = db_path(db)?;
    let db = Db::open_read_only(&path).map_err(|e| e.to_string())?;
    let info = db.info().map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    let text = if json {
        serde_json::to_string_pretty(&info).map_err(|e| e.to_string())? + "\n"
    } else {
        render(&info)
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(format!("stdout: {e}"))
            }
        })
}

fn render(info: &DbInfo) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "database: {}", info.path.display());
    let _ = writeln!(s, "advisories: {}", info.advisories);
    let _ = writeln!(
        s,
        "last import: {}",
        info.last_import.as_deref().unwrap_or("never")
    );
    match (&info.newest_modified, info.newest_age_days) {
        (Some(m), Some(days)) => {
            let stale = if days > 7.0 {
                " (older than 7 days)"
            } else {
                ""
            };
            let _ = writeln!(s, "newest record: {m}, {days:.1} days old{stale}");
        }
        _ => {
            let _ = writeln!(s, "newest record: none");
        }
    }
    let _ = writeln!(s, "sources:");
    for src in &info.sources {
        let _ = writeln!(
            s,
            "  {} ({}): {} records, {} withdrawn, {} malformed, {} not affected; newest {}; imported {}",
            src.name,
            src.kind,
            src.records,
            src.withdrawn,
            src.malformed,
            src.not_affected,
            src.newest_modified.as_deref().unwrap_or("undated"),
            src.imported_at
        );
    }
    let _ = writeln!(s, "ecosystems (package entries):");
    for (eco, n) in &info.ecosystems {
        let _ = writeln!(s, "  {eco}: {n}");
    }
    s
}
