//! Command-line interface: argument parsing, output formats, exit codes.
//!
//! Exit codes: 0 success; 1 the command ran but some entries could not be
//! read (each is reported); 2 usage or input error (missing file, not a disk
//! image, corrupt structure, path not found).

mod cat;
mod collect;
mod db;
mod inspect;
mod ls;
mod scan;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Offline security assessment of disk images, without mounting them.
#[derive(Debug, Parser)]
#[command(name = "coldscan", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the partition table, filesystems, root volume and mount plan.
    Inspect {
        /// Disk image (raw) or bare filesystem image.
        image: PathBuf,
        /// Machine-readable JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List files inside the image, as the machine sees them from `/`.
    Ls {
        image: PathBuf,
        /// Path inside the image (symlinks resolved inside the image).
        #[arg(default_value = "/")]
        path: String,
        /// List subdirectories recursively (symlinks are not followed).
        #[arg(short = 'R', long)]
        recursive: bool,
        /// Show mode, links, owner, group, size and mtime.
        #[arg(short, long)]
        long: bool,
        /// List a directory itself, not its contents (like `ls -d`).
        #[arg(short, long, conflicts_with = "recursive")]
        directory: bool,
        /// Machine-readable JSON array on stdout (always with all fields).
        #[arg(long)]
        json: bool,
    },
    /// Collect the machine's telemetry (OS, permissions, ...) as JSON.
    Collect {
        image: PathBuf,
        /// Write the document here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Also record the SHA-256 of the whole image (reads every byte).
        #[arg(long)]
        hash: bool,
    },
    /// Collect and evaluate images: the JSON report of findings, passed
    /// rules and exclusions (docs/report.md). Images are scanned in parallel.
    Scan {
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Also record each image's SHA-256 (reads every byte).
        #[arg(long)]
        hash: bool,
        #[command(flatten)]
        eval: scan::EvalArgs,
    },
    /// Evaluate saved telemetry documents (`coldscan collect -o`).
    Evaluate {
        #[arg(required = true)]
        telemetry: Vec<PathBuf>,
        #[command(flatten)]
        eval: scan::EvalArgs,
    },
    /// The offline vulnerability database: import advisories, show what it holds.
    Db(db::DbArgs),
    /// Write a file's contents from inside the image to stdout.
    Cat {
        image: PathBuf,
        /// Path inside the image (symlinks resolved inside the image).
        path: String,
    },
}

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: done, but some entries could not be read.
pub const EXIT_PARTIAL: i32 = 1;
/// Exit code: usage or input error.
pub const EXIT_INPUT: i32 = 2;

/// Parses arguments, runs the command and returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
        }
    };
    let result = match cli.command {
        Command::Inspect { image, json } => inspect::run(&image, json),
        Command::Ls {
            image,
            path,
            recursive,
            long,
            directory,
            json,
        } => ls::run(
            &image,
            &path,
            ls::Options {
                recursive,
                long,
                directory,
                json,
            },
        ),
        Command::Cat { image, path } => cat::run(&image, &path),
        Command::Scan { images, hash, eval } => scan::scan(&images, hash, &eval),
        Command::Evaluate { telemetry, eval } => scan::evaluate(&telemetry, &eval),
        Command::Db(args) => {
            return if db::run(&args) == std::process::ExitCode::SUCCESS {
                EXIT_OK
            } else {
                EXIT_INPUT
            };
        }
        Command::Collect {
            image,
            output,
            hash,
        } => collect::run(&image, output.as_deref(), hash),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "coldscan: {e}");
            EXIT_INPUT
        }
    }
}

/// Writes a JSON document (with a final newline) to `output`, or stdout.
fn write_json<T: serde::Serialize>(
    doc: &T,
    output: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let mut text = serde_json::to_vec_pretty(doc).map_err(std::io::Error::from)?;
    text.push(b'\n');
    match output {
        Some(path) => std::fs::write(path, &text).map_err(|e| {
            CliError::Output(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        }),
        None => stdout_ok(std::io::stdout().lock().write_all(&text)),
    }
}

/// An error for the user, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    #[error("{image}: {path}: {source}")]
    Path {
        image: String,
        path: String,
        source: coldscan_fs::FsError,
    },
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    /// A rules file that cannot be loaded (names file, rule and field).
    #[error("rules: {0}")]
    Rules(#[from] crate::rules::pack::PackError),
    /// Bad input other than an image: a telemetry document, an option.
    #[error("{0}")]
    Input(String),
}

impl CliError {
    /// An error about `path` inside `image` (the path escaped for a terminal).
    pub fn path(image: &std::path::Path, path: &str, source: coldscan_fs::FsError) -> CliError {
        CliError::Path {
            image: image.display().to_string(),
            path: crate::escape::for_terminal(path.as_bytes()),
            source,
        }
    }
}

/// Writes to stdout, treating a closed pipe (`| head`) as a normal end.
fn stdout_ok(r: std::io::Result<()>) -> Result<(), CliError> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(CliError::Output),
    }
}
