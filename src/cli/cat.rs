use std::io::Write;
use std::path::Path;

use coldscan_fs::{FileType, FsError};

use super::{stdout_ok, CliError, EXIT_OK};
use crate::escape::for_terminal;
use crate::image::Image;

/// Streams the file at `path` to stdout in 1 MiB chunks.
pub fn run(image_path: &Path, path: &str) -> Result<i32, CliError> {
    let image = Image::open(image_path)?;
    let root = image.rootfs()?;
    let path_err = |source: FsError| CliError::path(image_path, path, source);
    let r = root.resolve(path.as_bytes(), true).map_err(path_err)?;
    let meta = root.metadata_at(r.loc).map_err(path_err)?;
    if meta.file_type == FileType::Dir {
        return Err(path_err(FsError::IsADirectory(for_terminal(&r.path))));
    }
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    loop {
        let n = root.read_at(r.loc, offset, &mut buf).map_err(path_err)?;
        if n == 0 {
            break;
        }
        if let Err(e) = out.write_all(&buf[..n]) {
            stdout_ok(Err(e))?;
            return Ok(EXIT_OK);
        }
        offset += n as u64;
    }
    stdout_ok(out.flush())?;
    Ok(EXIT_OK)
}
