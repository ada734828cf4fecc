use std::io;

/// Why a filesystem operation failed. Messages name the structure and, where
/// known, the inode and offset, so a user can check the image by hand.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("read of {len} bytes at byte {offset} of the volume failed: {source}")]
    Io {
        offset: u64,
        len: usize,
        #[source]
        source: io::Error,
    },
    #[error("corrupt {structure}: {detail}")]
    Corrupt {
        structure: &'static str,
        detail: String,
    },
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("no such file or directory: {0}")]
    NotFound(String),
    #[error("not a directory: {0}")]
    NotADirectory(String),
    #[error("not a symbolic link: {0}")]
    NotASymlink(String),
    #[error("is a directory: {0}")]
    IsADirectory(String),
    #[error("too many levels of symbolic links (more than {limit}) resolving {path}")]
    SymlinkLoop { path: String, limit: u32 },
    #[error("{what} is larger than the {limit}-byte bound")]
    TooLarge { what: String, limit: u64 },
    /// An error from one volume of an assembled tree, naming the volume.
    #[error("partition {partition} ({fs_type}): {source}")]
    OnVolume {
        partition: u32,
        fs_type: String,
        #[source]
        source: Box<FsError>,
    },
}

impl FsError {
    pub fn corrupt(structure: &'static str, detail: impl Into<String>) -> Self {
        FsError::Corrupt {
            structure,
            detail: detail.into(),
        }
    }
}

impl FsError {
    /// The error itself, without the volume it happened on.
    pub fn inner(&self) -> &FsError {
        match self {
            FsError::OnVolume { source, .. } => source.inner(),
            other => other,
        }
    }

    /// True for damaged or unreadable structures (as opposed to a path
    /// that does not exist or has the wrong type).
    pub fn is_structural(&self) -> bool {
        matches!(
            self.inner(),
            FsError::Io { .. }
                | FsError::Corrupt { .. }
                | FsError::Unsupported(_)
                | FsError::TooLarge { .. }
        )
    }
}

/// Shorthand used by the readers.
pub type Result<T, E = FsError> = std::result::Result<T, E>;
