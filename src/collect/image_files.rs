//! The image's files as the configuration parsers see them: reads resolve
//! inside the image (symlinks included), sizes are bounded, and a failure
//! says why.

use coldscan_config::ConfigFiles;
use coldscan_fs::rootfs::RootFs;
use coldscan_fs::{FileType, FsError};

use super::ledger::Ledger;

/// Configuration files larger than this are not read (the largest real
/// ones, e.g. a big sudoers or grub.cfg, are a few hundred KiB).
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// True when the path is simply not there (as opposed to unreadable).
fn is_absent(e: &FsError) -> bool {
    matches!(e.inner(), FsError::NotFound(_) | FsError::NotADirectory(_))
}

/// The file at `path`, up to `limit` bytes: `None` if it does not exist,
/// `Err` with the reason if it exists but cannot be read.
pub fn read_optional(root: &RootFs, path: &str, limit: u64) -> Option<Result<Vec<u8>, String>> {
    match root.read_file(path.as_bytes(), limit) {
        Ok(b) => Some(Ok(b)),
        Err(e) if is_absent(&e) => None,
        Err(e) => Some(Err(e.to_string())),
    }
}

/// Like [`read_optional`], recording an unreadable file in the ledger.
pub fn read_or_note(root: &RootFs, path: &str, limit: u64, ledger: &Ledger) -> Option<Vec<u8>> {
    match read_optional(root, path, limit)? {
        Ok(b) => Some(b),
        Err(reason) => {
            ledger.add(path, reason);
            None
        }
    }
}

/// [`ConfigFiles`] over an assembled image tree.
pub struct ImageFiles<'a> {
    pub root: &'a RootFs,
}

impl ConfigFiles for ImageFiles<'_> {
    fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>> {
        read_optional(self.root, path, MAX_CONFIG_BYTES)
    }

    fn list(&self, dir: &str) -> Option<Result<Vec<String>, String>> {
        match self.root.read_dir(dir.as_bytes()) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .into_iter()
                    .map(|e| String::from_utf8_lossy(&e.name).into_owned())
                    .collect();
                names.sort();
                Some(Ok(names))
            }
            Err(e) if is_absent(&e) => None,
            Err(e) => Some(Err(e.to_string())),
        }
    }
}

impl ImageFiles<'_> {
    /// Target of the symlink at `path`, if it is one.
    pub fn link_target(&self, path: &str) -> Option<String> {
        let r = self.root.resolve(path.as_bytes(), false).ok()?;
        let meta = self.root.metadata_at(r.loc).ok()?;
        if meta.file_type != FileType::Symlink {
            return None;
        }
        self.root
            .fs(r.loc)
            .read_link(r.loc.node)
            .ok()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
    }
}
