//! A `ReadCache` for `object` over a [`RangeSource`]: every range `object`
//! asks for is read once, exactly, and checked against the file size before
//! any allocation (object's `ReadCache` does that check itself).

use std::cell::RefCell;

use object::read::{ReadCache, ReadCacheOps, ReadRef};

use crate::{Error, RangeSource, Result};

/// Largest single table (symbol table, string table, ...) read from a file.
pub(crate) const MAX_TABLE: u64 = 64 << 20;

pub(crate) struct SourceOps<'a> {
    src: &'a dyn RangeSource,
    pos: u64,
    io_error: &'a RefCell<Option<std::io::Error>>,
}

impl ReadCacheOps for SourceOps<'_> {
    fn len(&mut self) -> std::result::Result<u64, ()> {
        Ok(self.src.len())
    }

    fn seek(&mut self, pos: u64) -> std::result::Result<u64, ()> {
        self.pos = pos;
        Ok(pos)
    }

    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, ()> {
        match self.src.read_at(self.pos, buf) {
            Ok(n) => {
                let n = n.min(buf.len());
                self.pos = self.pos.saturating_add(n as u64);
                Ok(n)
            }
            Err(e) => {
                *self.io_error.borrow_mut() = Some(e);
                Err(())
            }
        }
    }

    fn read_exact(&mut self, mut buf: &mut [u8]) -> std::result::Result<(), ()> {
        while !buf.is_empty() {
            let n = self.read(buf)?;
            if n == 0 {
                return Err(());
            }
            buf = &mut buf[n..];
        }
        Ok(())
    }
}

/// The cache plus the slot where an I/O error of the source is kept, so it
/// can be reported as `Error::Io` rather than as a malformed file.
pub(crate) struct Reader<'a> {
    pub cache: ReadCache<SourceOps<'a>>,
    io_error: &'a RefCell<Option<std::io::Error>>,
}

impl<'a> Reader<'a> {
    pub fn new(src: &'a dyn RangeSource, io_error: &'a RefCell<Option<std::io::Error>>) -> Self {
        Reader {
            cache: ReadCache::new(SourceOps {
                src,
                pos: 0,
                io_error,
            }),
            io_error,
        }
    }

    pub fn data(&self) -> &ReadCache<SourceOps<'a>> {
        &self.cache
    }

    /// Map a failure from `object` to our error: an I/O error of the source
    /// if one happened, else `Malformed(what)`.
    pub fn fail(&self, what: &'static str) -> Error {
        match self.io_error.borrow_mut().take() {
            Some(e) => Error::Io(e),
            None => Error::Malformed(what),
        }
    }

    /// Read `size` bytes at `offset`, bounded by [`MAX_TABLE`] and the file.
    pub fn bytes(&self, offset: u64, size: u64, what: &'static str) -> Result<&[u8]> {
        if size > MAX_TABLE {
            return Err(Error::TooLarge {
                what,
                size,
                limit: MAX_TABLE,
            });
        }
        self.data()
            .read_bytes_at(offset, size)
            .map_err(|()| self.fail(what))
    }

    /// Read `count` values of a `Pod` type at `offset`, bounded likewise.
    pub fn slice<T: object::Pod>(
        &self,
        offset: u64,
        count: u64,
        what: &'static str,
    ) -> Result<&[T]> {
        let size = count
            .checked_mul(std::mem::size_of::<T>() as u64)
            .ok_or(Error::Malformed(what))?;
        let bytes = self.bytes(offset, size, what)?;
        object::pod::slice_from_all_bytes(bytes).map_err(|()| Error::Malformed(what))
    }
}
