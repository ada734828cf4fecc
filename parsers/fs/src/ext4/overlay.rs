//! A read-only view of a volume with some blocks replaced: the volume as
//! the kernel would see it after replaying the journal. Nothing is written;
//! replaced blocks are served from their copy in the journal, which stays
//! where it is on the volume.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use coldscan_disk::ReadAt;

use super::journal::JBD2_MAGIC;

/// Where the replacement of one filesystem block lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockCopy {
    /// Byte offset on the underlying volume of the journal's copy.
    pub at: u64,
    /// The journal escaped the block (its first four bytes were the jbd2
    /// magic and were zeroed in the log): restore them when reading.
    pub escape: bool,
}

/// `inner` with the blocks in `blocks` (filesystem block number -> copy)
/// replaced. Same size as `inner`.
pub(crate) struct Overlay {
    inner: Arc<dyn ReadAt>,
    block_size: u64,
    blocks: BTreeMap<u64, BlockCopy>,
}

impl Overlay {
    /// Every block number and copy must lie within `inner` (the caller
    /// checks); `block_size` is non-zero.
    pub fn new(inner: Arc<dyn ReadAt>, block_size: u64, blocks: BTreeMap<u64, BlockCopy>) -> Self {
        Overlay {
            inner,
            block_size: block_size.max(1),
            blocks,
        }
    }

    /// Reads the part of the journal copy `copy` that stands for bytes
    /// `within..within + out.len()` of its block.
    fn read_copy(&self, copy: BlockCopy, within: u64, out: &mut [u8]) -> io::Result<()> {
        let at = copy.at.checked_add(within).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "journal copy offset overflows")
        })?;
        self.inner.read_exact_at(at, out)?;
        if copy.escape && within < 4 {
            let magic = JBD2_MAGIC.to_be_bytes();
            for (i, b) in out.iter_mut().enumerate() {
                let k = within as usize + i;
                if k >= 4 {
                    break;
                }
                *b = magic[k];
            }
        }
        Ok(())
    }
}

impl ReadAt for Overlay {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.inner.size();
        if offset >= size {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(size - offset).unwrap_or(usize::MAX));
        let bs = self.block_size;
        let mut done = 0usize;
        // An error after some bytes were served is reported by the next
        // call (at the failing offset), as pread would.
        let partial = |done: usize, e: io::Error| if done > 0 { Ok(done) } else { Err(e) };
        while done < want {
            let pos = offset + done as u64;
            let block = pos / bs;
            let within = pos % bs;
            match self.blocks.range(block..).next() {
                Some((&b, &copy)) if b == block => {
                    let n = ((bs - within) as usize).min(want - done);
                    if let Err(e) = self.read_copy(copy, within, &mut buf[done..done + n]) {
                        return partial(done, e);
                    }
                    done += n;
                }
                next => {
                    // Untouched blocks up to the next replaced one: one read.
                    let end = next.map_or(u64::MAX, |(&b, _)| b.saturating_mul(bs));
                    let n = usize::try_from(end - pos)
                        .unwrap_or(usize::MAX)
                        .min(want - done);
                    match self.inner.read_at(pos, &mut buf[done..done + n]) {
                        Ok(0) => break,
                        Ok(got) => done += got,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return partial(done, e),
                    }
                }
            }
        }
        Ok(done)
    }

    fn size(&self) -> u64 {
        self.inner.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldscan_disk::MemSource;

    /// 8 blocks of 16 bytes, block i filled with i; blocks 6 and 7 hold
    /// "journal copies" (0xA0.. and the magic-escaped 0x00 0x00 0x00 0x00 0xB1..).
    fn volume() -> Arc<dyn ReadAt> {
        let mut v = Vec::new();
        for i in 0..6u8 {
            v.extend_from_slice(&[i; 16]);
        }
        v.extend_from_slice(&[0xA0; 16]);
        let mut esc = [0xB1u8; 16];
        esc[..4].fill(0);
        v.extend_from_slice(&esc);
        Arc::new(MemSource::new(v))
    }

    fn overlay() -> Overlay {
        let mut m = BTreeMap::new();
        m.insert(
            2,
            BlockCopy {
                at: 6 * 16,
                escape: false,
            },
        );
        m.insert(
            3,
            BlockCopy {
                at: 7 * 16,
                escape: true,
            },
        );
        Overlay::new(volume(), 16, m)
    }

    fn expected() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..8u8 {
            match i {
                2 => v.extend_from_slice(&[0xA0; 16]),
                3 => {
                    let mut b = [0xB1u8; 16];
                    b[..4].copy_from_slice(&JBD2_MAGIC.to_be_bytes());
                    v.extend_from_slice(&b);
                }
                6 => v.extend_from_slice(&[0xA0; 16]),
                7 => {
                    let mut b = [0xB1u8; 16];
                    b[..4].fill(0);
                    v.extend_from_slice(&b);
                }
                _ => v.extend_from_slice(&[i; 16]),
            }
        }
        v
    }

    #[test]
    fn every_range_reads_like_the_replayed_volume() {
        let o = overlay();
        let want = expected();
        assert_eq!(o.size(), want.len() as u64);
        for start in 0..want.len() {
            for end in start..=want.len() {
                let mut buf = vec![0xEE; end - start];
                o.read_exact_at(start as u64, &mut buf).unwrap();
                assert_eq!(buf, want[start..end], "range {start}..{end}");
            }
        }
    }

    #[test]
    fn reads_past_the_end_are_short() {
        let o = overlay();
        let mut buf = [0u8; 64];
        assert_eq!(o.read_at(120, &mut buf).unwrap(), 8);
        assert_eq!(o.read_at(128, &mut buf).unwrap(), 0);
        assert!(o.read_exact_at(100, &mut buf).is_err());
    }

    #[test]
    fn a_copy_outside_the_volume_is_an_error_not_a_panic() {
        let mut m = BTreeMap::new();
        m.insert(
            1,
            BlockCopy {
                at: u64::MAX - 3,
                escape: true,
            },
        );
        let o = Overlay::new(volume(), 16, m);
        let mut buf = [0u8; 40];
        // Block 0 is served, then the bad copy stops the read.
        assert_eq!(o.read_at(0, &mut buf).unwrap(), 16);
        assert!(o.read_at(16, &mut buf).is_err());
    }
}
