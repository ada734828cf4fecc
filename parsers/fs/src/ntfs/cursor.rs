//! A `Read + Seek` view of a [`ReadAt`] volume for the `ntfs` crate.
//!
//! The crate wants `&mut (Read + Seek)` on every call. Each call site makes
//! its own short-lived cursor (its own position), so `&self` methods of
//! [`super::Ntfs`] need no lock and can run on many threads at once.

use std::io::{self, Read, Seek, SeekFrom};

use coldscan_disk::ReadAt;

pub(super) struct VolumeCursor<'a> {
    volume: &'a dyn ReadAt,
    pos: u64,
}

impl<'a> VolumeCursor<'a> {
    pub(super) fn new(volume: &'a dyn ReadAt) -> Self {
        VolumeCursor { volume, pos: 0 }
    }
}

impl Read for VolumeCursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.volume.read_at(self.pos, buf)?;
        // `n <= buf.len()`, and a source never returns bytes past u64::MAX.
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for VolumeCursor<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let (base, delta) = match pos {
            SeekFrom::Start(n) => {
                self.pos = n;
                return Ok(n);
            }
            SeekFrom::End(d) => (self.volume.size(), d),
            SeekFrom::Current(d) => (self.pos, d),
        };
        let new = if delta >= 0 {
            base.checked_add(delta as u64)
        } else {
            base.checked_sub(delta.unsigned_abs())
        };
        match new {
            Some(n) => {
                self.pos = n;
                Ok(n)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldscan_disk::MemSource;

    #[test]
    fn reads_and_seeks() {
        let mem = MemSource::new((0u8..10).collect::<Vec<_>>());
        let mut c = VolumeCursor::new(&mem);
        let mut b = [0u8; 4];
        assert_eq!(c.read(&mut b).unwrap(), 4);
        assert_eq!(b, [0, 1, 2, 3]);
        assert_eq!(c.seek(SeekFrom::End(-2)).unwrap(), 8);
        assert_eq!(c.read(&mut b).unwrap(), 2);
        assert_eq!(c.read(&mut b).unwrap(), 0);
        assert!(c.seek(SeekFrom::Current(-100)).is_err());
        assert_eq!(c.seek(SeekFrom::Start(1)).unwrap(), 1);
    }
}
