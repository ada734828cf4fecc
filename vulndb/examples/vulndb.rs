//! A stand-alone `coldscan db` (the main crate's `src/cli/db.rs`, compiled as is)
//! plus a `match` command, for tests and `cargo xtask vulnbench`:
//!
//! ```text
//! vulndb import PATH... [--db FILE]
//! vulndb info [--db FILE] [--json]
//! vulndb match --db FILE PACKAGES.json [--runs N]   # [Installed] as JSON
//! ```
//!
//! With `VULNDB_PRINT_PEAK=1` it prints `peak_rss_kib N` (VmHWM) on stderr at exit.

#[path = "../../src/cli/db.rs"]
mod db;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use coldscan_vulndb::{match_packages, Db, Installed};

#[derive(Parser)]
#[command(name = "vulndb")]
enum Cli {
    #[command(flatten)]
    Db(db::DbCommand),
    /// Match installed packages (a JSON array of `Installed`) and print timing.
    Match {
        #[arg(long)]
        db: std::path::PathBuf,
        packages: std::path::PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Pack the `.json` files under DIR into a deflated zip, like osv.dev's all.zip.
    Pack {
        dir: std::path::PathBuf,
        zip: std::path::PathBuf,
    },
}

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// This process's user + system CPU time in seconds (/proc/self/stat, 100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `)` that ends the command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

fn main() -> ExitCode {
    let code = match Cli::parse() {
        Cli::Db(command) => db::run(&db::DbArgs { command }),
        Cli::Match { db, packages, runs } => report(run_match(&db, &packages, runs)),
        Cli::Pack { dir, zip } => report(pack(&dir, &zip)),
    };
    if std::env::var_os("VULNDB_PRINT_PEAK").is_some() {
        eprintln!("peak_rss_kib {}", peak_kib().unwrap_or(0));
        eprintln!("cpu_s {:.2}", cpu_seconds());
    }
    code
}

fn report(r: Result<(), String>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vulndb: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn pack(dir: &std::path::Path, out: &std::path::Path) -> Result<(), String> {
    use std::io::Write;
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                walk(&p, files)?;
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| e.to_string())?;
    files.sort();
    let mut w = zip::ZipWriter::new(std::fs::File::create(out).map_err(|e| e.to_string())?);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for f in &files {
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        w.start_file(name, opts).map_err(|e| e.to_string())?;
        w.write_all(&std::fs::read(f).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    w.finish().map_err(|e| e.to_string())?;
    println!("packed {} files", files.len());
    Ok(())
}

fn run_match(db: &std::path::Path, packages: &std::path::Path, runs: usize) -> Result<(), String> {
    let pkgs: Vec<Installed> =
        serde_json::from_slice(&std::fs::read(packages).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let db = Db::open_read_only(db).map_err(|e| e.to_string())?;
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::new();
    let mut found = 0;
    let cpu_before = cpu_seconds();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let matches = match_packages(&db, &pkgs).map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        found = matches.len();
    }
    let cpu_ms = (cpu_seconds() - cpu_before) * 1e3 / runs.max(1) as f64;
    let first = times[0];
    times.sort_by(f64::total_cmp);
    println!(
        "packages {} matches {found} open_ms {open_ms:.2} first_ms {first:.2} median_ms {:.2} min_ms {:.2} cpu_ms_per_run {cpu_ms:.1}",
        pkgs.len(),
        times[times.len() / 2],
        times[0]
    );
    Ok(())
}
