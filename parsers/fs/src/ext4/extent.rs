//! Extent trees: mapping a file's logical blocks to volume blocks.
//!
//! A lookup walks one path from the root in `i_block` down to a leaf,
//! reading at most `MAX_DEPTH` blocks; it never collects the whole tree, so
//! the cost of a hostile tree is bounded per call.

use crate::error::{FsError, Result};
use crate::le::{u16_at, u32_at};

const MAGIC: u16 = 0xF30A;
/// The kernel never builds deeper trees than this.
const MAX_DEPTH: u16 = 5;

/// Where a logical block lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mapping {
    /// `len` blocks starting at volume block `start` hold the data.
    Data { start: u64, len: u64 },
    /// `len` blocks read as zeros (a hole, or an unwritten extent).
    Zero { len: u64 },
}

struct Header {
    entries: usize,
    depth: u16,
}

fn header(node: &[u8], what: &str) -> Result<Header> {
    if u16_at(node, 0) != MAGIC {
        return Err(FsError::corrupt(
            "ext4 extent tree",
            format!("{what}: bad header magic {:#06x}", u16_at(node, 0)),
        ));
    }
    let entries = u16_at(node, 2) as usize;
    let max = u16_at(node, 4) as usize;
    let depth = u16_at(node, 6);
    if entries > max || 12 + entries * 12 > node.len() || depth > MAX_DEPTH {
        return Err(FsError::corrupt(
            "ext4 extent tree",
            format!(
                "{what}: header claims {entries} entries (max {max}, depth {depth}) in a {}-byte node",
                node.len()
            ),
        ));
    }
    Ok(Header { entries, depth })
}

/// Maps logical block `lblk` of the file whose extent root is `root`.
/// `read_block` fetches one tree block by volume block number.
pub(crate) fn map(
    root: &[u8],
    lblk: u32,
    ino: u64,
    mut read_block: impl FnMut(u64) -> Result<Vec<u8>>,
) -> Result<Mapping> {
    let mut node: Vec<u8> = root.to_vec();
    let mut h = header(&node, &format!("inode {ino} root"))?;
    // First logical block after the subtree we are in (exclusive bound).
    let mut upper = u64::from(u32::MAX) + 1;
    loop {
        let entry = |i: usize| &node[12 + i * 12..24 + i * 12];
        if h.depth == 0 {
            let mut next = upper;
            for i in 0..h.entries {
                let e = entry(i);
                let first = u32_at(e, 0) as u64;
                let raw_len = u16_at(e, 4) as u64;
                let (len, unwritten) = if raw_len > 32768 {
                    (raw_len - 32768, true)
                } else {
                    (raw_len, false)
                };
                let start = (u16_at(e, 6) as u64) << 32 | u32_at(e, 8) as u64;
                let l = lblk as u64;
                if first <= l && l < first + len {
                    let remaining = first + len - l;
                    return Ok(if unwritten {
                        Mapping::Zero { len: remaining }
                    } else {
                        Mapping::Data {
                            start: start + (l - first),
                            len: remaining,
                        }
                    });
                }
                if first > l {
                    next = next.min(first);
                }
            }
            return Ok(Mapping::Zero {
                len: next.saturating_sub(lblk as u64).max(1),
            });
        }
        // Index node: take the last entry whose first block is <= lblk.
        let mut chosen = None;
        for i in 0..h.entries {
            let first = u32_at(entry(i), 0);
            if first <= lblk {
                chosen = Some(i);
            } else {
                upper = upper.min(first as u64);
                break;
            }
        }
        let Some(i) = chosen else {
            return Ok(Mapping::Zero {
                len: upper.saturating_sub(lblk as u64).max(1),
            });
        };
        let e = entry(i);
        let child = (u16_at(e, 8) as u64) << 32 | u32_at(e, 4) as u64;
        let parent_depth = h.depth;
        node = read_block(child)?;
        h = header(&node, &format!("inode {ino} tree block {child}"))?;
        // Depth must fall by one at each level: this is what bounds the walk.
        if h.depth + 1 != parent_depth {
            return Err(FsError::corrupt(
                "ext4 extent tree",
                format!(
                    "inode {ino} tree block {child}: depth {} below a node of depth {parent_depth}",
                    h.depth
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(depth: u16, entries: &[[u32; 3]]) -> Vec<u8> {
        let mut n = vec![0u8; 60];
        n[0..2].copy_from_slice(&MAGIC.to_le_bytes());
        n[2..4].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        n[4..6].copy_from_slice(&4u16.to_le_bytes());
        n[6..8].copy_from_slice(&depth.to_le_bytes());
        for (i, e) in entries.iter().enumerate() {
            let o = 12 + i * 12;
            n[o..o + 4].copy_from_slice(&e[0].to_le_bytes());
            if depth == 0 {
                n[o + 4..o + 6].copy_from_slice(&(e[1] as u16).to_le_bytes());
                n[o + 8..o + 12].copy_from_slice(&e[2].to_le_bytes());
            } else {
                n[o + 4..o + 8].copy_from_slice(&e[2].to_le_bytes());
            }
        }
        n
    }

    #[test]
    fn leaf_maps_and_holes() {
        let root = node(0, &[[0, 4, 100], [10, 2, 200]]);
        let none = |_| unreachable!();
        assert_eq!(
            map(&root, 2, 1, none).unwrap(),
            Mapping::Data { start: 102, len: 2 }
        );
        assert_eq!(map(&root, 5, 1, none).unwrap(), Mapping::Zero { len: 5 });
        assert_eq!(
            map(&root, 11, 1, none).unwrap(),
            Mapping::Data { start: 201, len: 1 }
        );
    }

    #[test]
    fn self_referencing_index_is_an_error_not_a_loop() {
        let root = node(1, &[[0, 0, 7]]);
        let r = map(&root, 0, 1, |_| Ok(node(1, &[[0, 0, 7]])));
        assert!(r.is_err());
    }

    #[test]
    fn bad_counts_are_errors() {
        let mut root = node(0, &[]);
        root[2..4].copy_from_slice(&40u16.to_le_bytes());
        root[4..6].copy_from_slice(&40u16.to_le_bytes());
        assert!(map(&root, 0, 1, |_| unreachable!()).is_err());
    }
}
