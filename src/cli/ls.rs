use std::io::{BufWriter, Write};
use std::path::Path;

use coldscan_fs::rootfs::{WalkEntry, WalkOptions};
use coldscan_fs::{FileType, FsError};

use super::{stdout_ok, CliError, EXIT_OK, EXIT_PARTIAL};
use crate::image::Image;
use crate::listing::Entry;

/// What `ls` was asked for.
pub struct Options {
    pub recursive: bool,
    pub long: bool,
    /// List a directory itself rather than its entries.
    pub directory: bool,
    pub json: bool,
}

/// Lists `path`: a directory's entries (recursively if asked), or the entry
/// itself for anything else. JSON output is streamed as one array.
pub fn run(image_path: &Path, path: &str, opts: Options) -> Result<i32, CliError> {
    let Options {
        recursive,
        long,
        directory,
        json,
    } = opts;
    let image = Image::open(image_path)?;
    let root = image.rootfs()?;
    let path_err = |source: FsError| CliError::path(image_path, path, source);
    let partition_of = |mount: usize| root.mounts().get(mount).map(|m| m.partition);
    let with_meta = long || json;

    let mut printer = Printer {
        out: BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        json,
        long,
        first: true,
        errors: 0,
    };

    // Anything but a directory is listed as itself (lstat), like `ls`.
    let target = root.resolve(path.as_bytes(), true);
    let is_dir = !directory
        && match &target {
            Ok(r) => root
                .metadata_at(r.loc)
                .map(|m| m.file_type == FileType::Dir)
                .map_err(path_err)?,
            Err(_) => false,
        };
    let mut io_result = Ok(());
    if is_dir {
        let opts = WalkOptions {
            recursive,
            metadata: with_meta,
        };
        root.walk(path.as_bytes(), opts, &mut |w: WalkEntry| {
            if io_result.is_err() {
                return;
            }
            let entry = to_entry(w, partition_of);
            io_result = printer.write(entry);
        })
        .map_err(path_err)?;
    } else {
        let r = root.resolve(path.as_bytes(), false).map_err(path_err)?;
        let meta = root.metadata_at(r.loc).map_err(path_err)?;
        let link = (meta.file_type == FileType::Symlink).then(|| {
            root.fs(r.loc)
                .read_link(r.loc.node)
                .map_err(|e| root.on_volume(r.loc.mount, e))
        });
        let mut errs = Vec::new();
        let target = match link {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                errs.push(format!("symlink target: {e}"));
                None
            }
            None => None,
        };
        let entry = Entry::new(
            &r.path,
            meta.file_type,
            with_meta.then_some(&meta),
            partition_of(r.loc.mount),
            target.as_deref(),
            errs,
        );
        io_result = printer.write(entry);
    }
    if io_result.is_ok() {
        io_result = printer.finish();
    }
    stdout_ok(io_result)?;
    let errors = printer.errors;
    if errors > 0 {
        eprintln!(
            "coldscan: {}: {errors} entries could not be read completely (see their errors)",
            image_path.display()
        );
        return Ok(EXIT_PARTIAL);
    }
    Ok(EXIT_OK)
}

/// Writes entries as text lines or as the elements of one JSON array.
struct Printer<W: Write> {
    out: W,
    json: bool,
    long: bool,
    first: bool,
    /// Entries that carried an error.
    errors: usize,
}

impl<W: Write> Printer<W> {
    fn write(&mut self, entry: Entry) -> std::io::Result<()> {
        if !entry.errors.is_empty() {
            self.errors += 1;
        }
        if self.json {
            self.out
                .write_all(if self.first { b"[\n" } else { b",\n" })?;
            serde_json::to_writer(&mut self.out, &entry)?;
        } else if self.long {
            writeln!(self.out, "{}", entry.long_line())?;
        } else {
            writeln!(self.out, "{}", entry.short_line())?;
        }
        self.first = false;
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if self.json {
            self.out
                .write_all(if self.first { b"[]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }
}

fn to_entry(w: WalkEntry, partition_of: impl Fn(usize) -> Option<u32>) -> Entry {
    let mut errors = Vec::new();
    let meta = match w.metadata {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            errors.push(format!("metadata: {e}"));
            None
        }
        None => None,
    };
    let target = match w.target {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            errors.push(format!("symlink target: {e}"));
            None
        }
        None => None,
    };
    if let Some(e) = w.dir_error {
        errors.push(format!("directory contents: {e}"));
    }
    Entry::new(
        &w.path,
        w.file_type,
        meta.as_ref(),
        partition_of(w.loc.mount),
        target.as_deref(),
        errors,
    )
}
