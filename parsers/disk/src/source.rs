//! Positional, read-only, thread-safe byte sources.
//!
//! All image access goes through [`ReadAt`] so that collectors can share one
//! source across threads (`&self`, no seek position) and so that the bytes
//! read can be counted in one place ([`CountingSource`]).

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A read-only byte source addressed by absolute offset.
pub trait ReadAt: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; returns the number read
    /// (0 at or past the end).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;

    /// Total size in bytes.
    fn size(&self) -> u64;

    /// Fills `buf` completely or fails with `UnexpectedEof` naming the offset.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let pos = offset.checked_add(done as u64).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "offset overflows u64")
            })?;
            match self.read_at(pos, &mut buf[done..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "only {done} of {} bytes at offset {offset} exist: the data ends early (truncated image?)",
                            buf.len()
                        ),
                    ))
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Arc<T> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
    fn size(&self) -> u64 {
        (**self).size()
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Box<T> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
    fn size(&self) -> u64 {
        (**self).size()
    }
}

/// An image file opened read-only (never for writing) and read with pread.
#[derive(Debug)]
pub struct FileSource {
    file: File,
    size: u64,
}

impl FileSource {
    /// Opens `path` for reading only. Regular files and block devices are
    /// accepted; directories are refused.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::options().read(true).open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory, not a disk image",
            ));
        }
        // Block devices report size 0 in metadata; seek to the end instead.
        let size = if meta.len() == 0 {
            use std::io::Seek;
            let mut f = &file;
            f.seek(io::SeekFrom::End(0))?
        } else {
            meta.len()
        };
        Ok(FileSource { file, size })
    }
}

impl ReadAt for FileSource {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.size - offset).unwrap_or(usize::MAX));
        platform_read_at(&self.file, &mut buf[..want], offset)
    }
    fn size(&self) -> u64 {
        self.size
    }
}

#[cfg(unix)]
fn platform_read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn platform_read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// An in-memory source, for tests, fuzzing and small embedded images.
#[derive(Debug, Clone)]
pub struct MemSource(pub Arc<[u8]>);

impl MemSource {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        MemSource(bytes.into().into())
    }
}

impl ReadAt for MemSource {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let len = self.0.len() as u64;
        if offset >= len {
            return Ok(0);
        }
        let start = offset as usize;
        let n = buf.len().min(self.0.len() - start);
        buf[..n].copy_from_slice(&self.0[start..start + n]);
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
    fn size(&self) -> u64 {
        (**self).size()
    }
}

/// A window `[start, start + len)` of another source, e.g. one partition.
/// Reads never leave the window.
#[derive(Clone)]
pub struct Slice<S = Arc<dyn ReadAt>> {
    inner: S,
    start: u64,
    len: u64,
}

impl<S: ReadAt> Slice<S> {
    pub fn new(inner: S, start: u64, len: u64) -> Self {
        Slice { inner, start, len }
    }
    pub fn start(&self) -> u64 {
        self.start
    }
}

impl<S: ReadAt> ReadAt for Slice<S> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.len - offset).unwrap_or(usize::MAX));
        let abs = self.start.checked_add(offset).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "partition offset overflows u64",
            )
        })?;
        self.inner.read_at(abs, &mut buf[..want])
    }
    fn size(&self) -> u64 {
        self.len
    }
}

/// Shared counters of what was read through a [`CountingSource`].
#[derive(Debug, Default)]
pub struct ReadCounter {
    bytes: AtomicU64,
    calls: AtomicU64,
}

impl ReadCounter {
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

/// Wraps a source and counts the bytes and calls that went through it.
pub struct CountingSource<S> {
    inner: S,
    counter: Arc<ReadCounter>,
}

impl<S: ReadAt> CountingSource<S> {
    pub fn new(inner: S) -> Self {
        CountingSource {
            inner,
            counter: Arc::new(ReadCounter::default()),
        }
    }
    pub fn counter(&self) -> Arc<ReadCounter> {
        self.counter.clone()
    }
}

impl<S: ReadAt> ReadAt for CountingSource<S> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read_at(offset, buf)?;
        self.counter.bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.counter.calls.fetch_add(1, Ordering::Relaxed);
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.inner.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_never_reads_outside_its_window() {
        let mem: Arc<dyn ReadAt> = Arc::new(MemSource::new((0u8..100).collect::<Vec<_>>()));
        let s = Slice::new(mem, 10, 5);
        let mut buf = [0u8; 10];
        assert_eq!(s.read_at(0, &mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], &[10, 11, 12, 13, 14]);
        assert_eq!(s.read_at(5, &mut buf).unwrap(), 0);
        assert!(s.read_exact_at(3, &mut buf).is_err());
    }

    #[test]
    fn slice_past_end_of_image_is_short_read() {
        let mem: Arc<dyn ReadAt> = Arc::new(MemSource::new(vec![1u8; 16]));
        let s = Slice::new(mem, 12, 100);
        let mut buf = [0u8; 8];
        assert_eq!(s.read_at(0, &mut buf).unwrap(), 4);
        let err = s.read_exact_at(0, &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn huge_offsets_do_not_overflow() {
        let mem: Arc<dyn ReadAt> = Arc::new(MemSource::new(vec![0u8; 16]));
        let s = Slice::new(mem, u64::MAX - 2, u64::MAX);
        let mut buf = [0u8; 8];
        assert!(s.read_at(10, &mut buf).is_err());
    }

    #[test]
    fn counting_source_counts_bytes() {
        let c = CountingSource::new(MemSource::new(vec![0u8; 64]));
        let counter = c.counter();
        let mut buf = [0u8; 40];
        c.read_exact_at(0, &mut buf).unwrap();
        c.read_at(50, &mut buf).unwrap();
        assert_eq!(counter.bytes(), 54);
        assert_eq!(counter.calls(), 2);
    }
}
