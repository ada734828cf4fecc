use std::io;

/// Why a disk structure could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("read of {len} bytes at offset {offset} failed: {source}")]
    Io {
        offset: u64,
        len: usize,
        #[source]
        source: io::Error,
    },
    #[error("{structure}: {detail}")]
    Corrupt {
        structure: &'static str,
        detail: String,
    },
}

impl DiskError {
    pub(crate) fn corrupt(structure: &'static str, detail: impl Into<String>) -> Self {
        DiskError::Corrupt {
            structure,
            detail: detail.into(),
        }
    }
}
