//! Block group descriptors: where each group's inode table lives.

use coldscan_disk::ReadAt;

use super::superblock::{Superblock, INCOMPAT_META_BG};
use crate::error::{FsError, Result};
use crate::le::u32_at;

#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupDesc {
    pub inode_table: u64,
}

fn parse(b: &[u8], is64: bool) -> GroupDesc {
    let hi = if is64 {
        (u32_at(b, 0x28) as u64) << 32
    } else {
        0
    };
    GroupDesc {
        inode_table: u32_at(b, 0x8) as u64 | hi,
    }
}

/// Reads every group descriptor. The table size is bounded by the volume
/// size, so a hostile block count cannot make us allocate without limit.
pub(crate) fn read_all(vol: &dyn ReadAt, sb: &Superblock) -> Result<Vec<GroupDesc>> {
    let groups = sb.group_count();
    let ds = sb.desc_size as u64;
    let bs = sb.block_size as u64;
    let table_bytes = groups.saturating_mul(ds);
    if table_bytes > vol.size() {
        return Err(FsError::corrupt(
            "ext4 superblock",
            format!(
                "{groups} block groups need a {table_bytes}-byte descriptor table, larger than the {}-byte volume",
                vol.size()
            ),
        ));
    }
    let is64 = ds >= 64;
    let per_block = bs / ds;
    let table_start = (sb.first_data_block as u64 + 1) * bs;
    let io = |offset: u64, len: usize, source| FsError::Io {
        offset,
        len,
        source,
    };

    let meta_bg = sb.has_incompat(INCOMPAT_META_BG);
    // Groups described by the contiguous table (all of them without meta_bg).
    let contiguous = if meta_bg {
        groups.min((sb.first_meta_bg as u64).saturating_mul(per_block))
    } else {
        groups
    };
    let mut out = Vec::with_capacity(groups as usize);
    let mut buf = vec![0u8; (contiguous * ds) as usize];
    vol.read_exact_at(table_start, &mut buf)
        .map_err(|e| io(table_start, buf.len(), e))?;
    out.extend(buf.chunks_exact(ds as usize).map(|d| parse(d, is64)));

    // meta_bg: each meta group (per_block groups) keeps its descriptors in
    // the first block of its first group, after the superblock backup if any.
    let mut block = vec![0u8; bs as usize];
    let mut g = contiguous;
    while g < groups {
        let first = g - g % per_block;
        let at = (sb.first_data_block as u64
            + first * sb.blocks_per_group as u64
            + sb.group_has_super(first) as u64)
            * bs;
        vol.read_exact_at(at, &mut block)
            .map_err(|e| io(at, block.len(), e))?;
        let end = (first + per_block).min(groups);
        for i in g..end {
            let o = ((i - first) * ds) as usize;
            out.push(parse(&block[o..o + ds as usize], is64));
        }
        g = end;
    }
    Ok(out)
}
