//! Extended attributes, stored after the extra inode fields and/or in one
//! external block (`i_file_acl`). File capabilities (`security.capability`),
//! ACLs and SELinux labels live here, and so does the tail of inline data
//! (`system.data`).

use crate::error::{FsError, Result};
use crate::le::{u16_at, u32_at, u8_at};
pub use crate::types::Xattr;

const MAGIC: u32 = 0xEA02_0000;

fn prefix(index: u8) -> &'static [u8] {
    match index {
        1 => b"user.",
        2 => b"system.posix_acl_access",
        3 => b"system.posix_acl_default",
        4 => b"trusted.",
        6 => b"security.",
        7 => b"system.",
        8 => b"system.richacl",
        _ => b"",
    }
}

/// Parses the entries in `region`. Entries start at `entries_at`; values
/// are found at `values_base + e_value_offs`, both inside `region`.
pub(crate) fn parse_entries(
    region: &[u8],
    entries_at: usize,
    values_base: usize,
    what: &str,
    out: &mut Vec<Xattr>,
) -> Result<()> {
    let bad =
        |detail: String| FsError::corrupt("ext4 extended attribute", format!("{what}: {detail}"));
    let mut pos = entries_at;
    // Each entry is at least 16 bytes, so this bounds the loop by the region size.
    while pos + 16 <= region.len() {
        if u32_at(region, pos) == 0 {
            return Ok(());
        }
        let name_len = u8_at(region, pos) as usize;
        let index = u8_at(region, pos + 1);
        let value_offs = u16_at(region, pos + 2) as usize;
        let value_inum = u32_at(region, pos + 4) as u64;
        let value_size = u32_at(region, pos + 8) as usize;
        let name = region
            .get(pos + 16..pos + 16 + name_len)
            .ok_or_else(|| bad(format!("name at offset {pos} runs past the end")))?;
        let mut full = prefix(index).to_vec();
        full.extend_from_slice(name);
        let value = if value_inum != 0 {
            Vec::new()
        } else {
            let start = values_base + value_offs;
            region
                .get(start..start.saturating_add(value_size))
                .ok_or_else(|| {
                    bad(format!(
                        "value of {} bytes at offset {start} runs past the end",
                        value_size
                    ))
                })?
                .to_vec()
        };
        out.push(Xattr {
            name: full,
            value,
            value_inode: (value_inum != 0).then_some(value_inum),
        });
        pos += (16 + name_len).next_multiple_of(4);
    }
    Ok(())
}

/// Attributes stored inside the inode, after `i_extra_isize`.
/// `extra` is the inode past its first 128 bytes.
pub(crate) fn in_inode(
    extra: &[u8],
    extra_isize: usize,
    ino: u64,
    out: &mut Vec<Xattr>,
) -> Result<()> {
    if extra_isize < 4 || extra_isize % 4 != 0 || extra_isize + 4 > extra.len() {
        return Ok(());
    }
    if u32_at(extra, extra_isize) != MAGIC {
        return Ok(());
    }
    let region = &extra[extra_isize + 4..];
    parse_entries(
        region,
        0,
        0,
        &format!("inode {ino} in-inode attributes"),
        out,
    )
}

/// Attributes in an external attribute block.
pub(crate) fn in_block(block: &[u8], ino: u64, block_no: u64, out: &mut Vec<Xattr>) -> Result<()> {
    if u32_at(block, 0) != MAGIC {
        return Err(FsError::corrupt(
            "ext4 extended attribute",
            format!("inode {ino}: attribute block {block_no} has no magic"),
        ));
    }
    parse_entries(
        block,
        32,
        0,
        &format!("inode {ino} attribute block {block_no}"),
        out,
    )
}
