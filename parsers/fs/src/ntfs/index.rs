//! Directory indexes ($I30): a B+ tree of $FILE_NAME keys whose root lives
//! in $INDEX_ROOT and whose other nodes are "INDX" blocks in
//! $INDEX_ALLOCATION.
//!
//! Walked by us rather than by the `ntfs` crate, whose index code panics on
//! hostile input (an index entry shorter than 13 bytes, an entries offset
//! past the end of an index block, a used size below the entries offset),
//! allocates whatever block size $INDEX_ROOT names (up to 4 GiB), and loops
//! forever, growing memory, on a subnode that points back to an ancestor.
//! Here every node is bounds-checked, block sizes are bounded, each block
//! is visited at most once, and depth and entry counts are capped.

use std::collections::HashSet;

use coldscan_disk::ReadAt;

use super::bytes::{u16_at, u32_at, u64_at, u8_at};
use super::record::apply_fixup;
use super::stream::Stream;
use crate::error::{FsError, Result};

/// Most entries (all namespaces) one directory may have.
pub(super) const MAX_DIR_ENTRIES: usize = 1_000_000;
/// Most bytes of names (UTF-16) one directory may hold.
const MAX_NAME_BYTES: usize = 128 * 1024 * 1024;
/// Most index blocks one directory walk reads.
const MAX_BLOCKS: usize = 65_536;
/// B+ trees of NTFS directories are a few levels deep; 32 is generous.
const MAX_DEPTH: usize = 32;

pub(super) const NAMESPACE_DOS: u8 = 2;

/// $FILE_NAME flag set on directories (`FILE_ATTR_DUP_FILE_NAME_INDEX_PRESENT`).
pub(super) const FILE_NAME_IS_DIRECTORY: u32 = 0x1000_0000;
pub(super) const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x0400;

/// One key of a directory index.
#[derive(Debug, Clone)]
pub(super) struct IndexEntry {
    /// UTF-16LE name bytes as stored.
    pub(super) name_utf16: Vec<u8>,
    pub(super) record: u64,
    pub(super) namespace: u8,
    pub(super) file_attributes: u32,
    /// Reparse tag, valid when `file_attributes` has the reparse bit.
    pub(super) reparse_tag: u32,
}

struct Walker<'a> {
    volume: &'a dyn ReadAt,
    record: u64,
    allocation: Option<&'a Stream>,
    block_size: usize,
    /// Bytes per VCN of an index block number.
    vcn_size: u64,
    visited: HashSet<u64>,
    out: Vec<IndexEntry>,
    name_bytes: usize,
}

fn corrupt(record: u64, detail: impl std::fmt::Display) -> FsError {
    FsError::corrupt(
        "NTFS directory index",
        format!("MFT record {record}: {detail}"),
    )
}

/// All entries of the index whose $INDEX_ROOT value is `root` and whose
/// $INDEX_ALLOCATION value (if any) is `allocation`, in collation order.
pub(super) fn read_entries(
    volume: &dyn ReadAt,
    record: u64,
    root: &[u8],
    allocation: Option<&Stream>,
    cluster_size: u64,
) -> Result<Vec<IndexEntry>> {
    if root.len() < 32 {
        return Err(corrupt(
            record,
            format!("$INDEX_ROOT of {} bytes", root.len()),
        ));
    }
    let block_size = u32_at(root, 8) as usize;
    if allocation.is_some()
        && (!(512..=65_536).contains(&block_size) || !block_size.is_power_of_two())
    {
        return Err(corrupt(record, format!("index block size {block_size}")));
    }
    let vcn_size = if block_size as u64 >= cluster_size {
        cluster_size
    } else {
        512
    };
    let mut w = Walker {
        volume,
        record,
        allocation,
        block_size,
        vcn_size,
        visited: HashSet::new(),
        out: Vec::new(),
        name_bytes: 0,
    };
    let entries =
        node_entries(root, 16).map_err(|e| corrupt(record, format!("$INDEX_ROOT: {e}")))?;
    w.walk(entries, 0)?;
    Ok(w.out)
}

/// The entry bytes of the node whose 16-byte node header starts at `at`.
fn node_entries(b: &[u8], at: usize) -> Result<&[u8], String> {
    let first = u32_at(b, at) as usize;
    let used = u32_at(b, at + 4) as usize;
    let start = at.checked_add(first);
    let end = at.checked_add(used);
    match (start, end) {
        (Some(s), Some(e)) if first >= 16 && s <= e && e <= b.len() => Ok(&b[s..e]),
        _ => Err(format!(
            "entries at {first}..{used} do not fit the {}-byte node",
            b.len().saturating_sub(at)
        )),
    }
}

impl Walker<'_> {
    fn walk(&mut self, entries: &[u8], depth: usize) -> Result<()> {
        let mut pos = 0usize;
        while pos < entries.len() {
            let e = &entries[pos..];
            if e.len() < 16 {
                return Err(corrupt(
                    self.record,
                    format!("index entry at byte {pos} is truncated"),
                ));
            }
            let len = usize::from(u16_at(e, 8));
            let key_len = usize::from(u16_at(e, 10));
            let flags = u8_at(e, 12);
            if len < 16 || len % 8 != 0 || len > e.len() {
                return Err(corrupt(
                    self.record,
                    format!("index entry at byte {pos} has length {len}"),
                ));
            }
            let e = &e[..len];
            if flags & 0x01 != 0 {
                if len < 24 {
                    return Err(corrupt(self.record, "index entry too short for a subnode"));
                }
                let vcn = u64_at(e, len - 8);
                self.descend(vcn, depth)?;
            }
            if flags & 0x02 != 0 {
                break; // the last entry carries no key
            }
            if key_len < 0x42 || 16 + key_len > len {
                return Err(corrupt(
                    self.record,
                    format!("index key of {key_len} bytes at byte {pos}"),
                ));
            }
            let key = &e[16..16 + key_len];
            let name_len = usize::from(u8_at(key, 0x40)) * 2;
            let Some(name) = key.get(0x42..0x42 + name_len) else {
                return Err(corrupt(
                    self.record,
                    format!("file name at byte {pos} overruns its key"),
                ));
            };
            if self.out.len() >= MAX_DIR_ENTRIES {
                return Err(FsError::TooLarge {
                    what: format!("NTFS directory (MFT record {}), in entries", self.record),
                    limit: MAX_DIR_ENTRIES as u64,
                });
            }
            self.name_bytes += name.len();
            if self.name_bytes > MAX_NAME_BYTES {
                return Err(FsError::TooLarge {
                    what: format!("NTFS directory (MFT record {}), in name bytes", self.record),
                    limit: MAX_NAME_BYTES as u64,
                });
            }
            self.out.push(IndexEntry {
                name_utf16: name.to_vec(),
                record: u64_at(e, 0) & 0xFFFF_FFFF_FFFF,
                namespace: u8_at(key, 0x41),
                file_attributes: u32_at(key, 0x38),
                reparse_tag: u32_at(key, 0x3C),
            });
            pos += len;
        }
        Ok(())
    }

    fn descend(&mut self, vcn: u64, depth: usize) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(corrupt(
                self.record,
                format!("index deeper than {MAX_DEPTH} levels"),
            ));
        }
        if !self.visited.insert(vcn) {
            return Err(corrupt(
                self.record,
                format!("index block {vcn} is reached twice (a cycle)"),
            ));
        }
        if self.visited.len() > MAX_BLOCKS {
            return Err(FsError::TooLarge {
                what: format!("NTFS directory index (MFT record {})", self.record),
                limit: MAX_BLOCKS as u64,
            });
        }
        let Some(allocation) = self.allocation else {
            return Err(corrupt(self.record, "subnode without $INDEX_ALLOCATION"));
        };
        let offset = vcn
            .checked_mul(self.vcn_size)
            .filter(|o| o.saturating_add(self.block_size as u64) <= allocation.len())
            .ok_or_else(|| {
                corrupt(
                    self.record,
                    format!("index block {vcn} outside $INDEX_ALLOCATION"),
                )
            })?;
        let mut block = vec![0u8; self.block_size];
        allocation.read_exact_at(self.volume, offset, &mut block)?;
        if &block[0..4] != b"INDX" {
            return Err(corrupt(
                self.record,
                format!("index block {vcn} has no INDX signature"),
            ));
        }
        apply_fixup(&mut block)
            .map_err(|e| corrupt(self.record, format!("index block {vcn}: {e}")))?;
        if u64_at(&block, 0x10) != vcn {
            return Err(corrupt(
                self.record,
                format!(
                    "index block {vcn} says it is block {}",
                    u64_at(&block, 0x10)
                ),
            ));
        }
        let entries = node_entries(&block, 0x18)
            .map_err(|e| corrupt(self.record, format!("index block {vcn}: {e}")))?;
        self.walk(entries, depth + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldscan_disk::MemSource;

    fn entry(record: u64, name: &str, namespace: u8) -> Vec<u8> {
        let units: Vec<u16> = name.encode_utf16().collect();
        let key_len = 0x42 + 2 * units.len();
        let len = (16 + key_len).div_ceil(8) * 8;
        let mut e = vec![0u8; len];
        e[0..8].copy_from_slice(&(record | (1 << 48)).to_le_bytes());
        e[8..10].copy_from_slice(&(len as u16).to_le_bytes());
        e[10..12].copy_from_slice(&(key_len as u16).to_le_bytes());
        let k = &mut e[16..];
        k[0..8].copy_from_slice(&5u64.to_le_bytes());
        k[0x40] = units.len() as u8;
        k[0x41] = namespace;
        for (i, u) in units.iter().enumerate() {
            k[0x42 + 2 * i..0x44 + 2 * i].copy_from_slice(&u.to_le_bytes());
        }
        e
    }

    fn root(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut body: Vec<u8> = entries.concat();
        let mut last = vec![0u8; 16];
        last[8] = 16;
        last[12] = 2;
        body.extend(last);
        let mut v = vec![0u8; 32];
        v[0..4].copy_from_slice(&0x30u32.to_le_bytes());
        v[4..8].copy_from_slice(&1u32.to_le_bytes());
        v[8..12].copy_from_slice(&4096u32.to_le_bytes());
        v[12] = 1;
        v[16..20].copy_from_slice(&16u32.to_le_bytes());
        v[20..24].copy_from_slice(&(16 + body.len() as u32).to_le_bytes());
        v[24..28].copy_from_slice(&(16 + body.len() as u32).to_le_bytes());
        v.extend(body);
        v
    }

    #[test]
    fn reads_a_small_index() {
        let r = root(&[
            entry(64, "a.txt", 1),
            entry(64, "A~1.TXT", 2),
            entry(70, "b", 0),
        ]);
        let mem = MemSource::new(Vec::new());
        let got = read_entries(&mem, 5, &r, None, 4096).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].record, 64);
        assert_eq!(got[1].namespace, NAMESPACE_DOS);
        assert_eq!(got[2].name_utf16, b"b\0");
    }

    #[test]
    fn subnode_without_allocation_is_an_error() {
        let mut r = root(&[entry(64, "a", 1)]);
        let last = r.len() - 16;
        r[last + 12] |= 1; // has subnode, but the entry is too short for a VCN
        let mem = MemSource::new(Vec::new());
        assert!(read_entries(&mem, 5, &r, None, 4096).is_err());
    }

    #[test]
    fn mutated_roots_never_panic() {
        let base = root(&[
            entry(64, "a.txt", 1),
            entry(65, "bbbbbbbb", 3),
            entry(70, "c", 0),
        ]);
        let mem = MemSource::new(vec![0u8; 1 << 16]);
        let mut x = 0x0BAD_CAFE_F00D_1234u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let mut r = base.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % r.len() as u64) as usize;
                r[at] = next() as u8;
            }
            let _ = read_entries(&mem, 5, &r, None, 4096);
        }
    }
}
