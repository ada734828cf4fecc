//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod elfgen;
pub mod pegen;

use std::cell::Cell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use coldscan_binfmt::RangeSource;

/// A host file as a `RangeSource`, counting bytes and calls.
pub struct FileSource {
    file: File,
    len: u64,
    pub bytes: Cell<u64>,
    pub calls: Cell<u64>,
}

impl FileSource {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource {
            file,
            len,
            bytes: Cell::new(0),
            calls: Cell::new(0),
        })
    }
}

impl RangeSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, offset)?;
        self.bytes.set(self.bytes.get() + n as u64);
        self.calls.set(self.calls.get() + 1);
        Ok(n)
    }
}

/// First 64 bytes of a file (fewer if shorter).
pub fn head(path: &Path) -> Option<Vec<u8>> {
    let f = File::open(path).ok()?;
    let mut buf = vec![0u8; 64];
    let n = f.read_at(&mut buf, 0).ok()?;
    buf.truncate(n);
    Some(buf)
}

pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}
