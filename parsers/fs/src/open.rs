use std::sync::Arc;

use coldscan_disk::{FsKind, ReadAt};

use crate::error::{FsError, Result};
use crate::FileSystem;

/// Opens the filesystem of kind `kind` (as identified by magic) on `volume`.
/// Kinds we cannot read yet are an `Unsupported` error naming the kind.
pub fn open_filesystem(volume: Arc<dyn ReadAt>, kind: FsKind) -> Result<Arc<dyn FileSystem>> {
    match kind {
        FsKind::Ext2 | FsKind::Ext3 | FsKind::Ext4 => {
            Ok(Arc::new(crate::ext4::Ext4::open(volume)?))
        }
        FsKind::Ntfs => Ok(Arc::new(crate::ntfs::Ntfs::open(volume)?)),
        other => Err(FsError::Unsupported(format!(
            "{} volumes cannot be read yet",
            other.name()
        ))),
    }
}
