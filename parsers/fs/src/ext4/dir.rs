//! Linear directory entries. Hash-indexed (htree) directories keep their
//! entries in ordinary leaf blocks and hide the index inside entries with
//! inode 0, so a linear scan reads both kinds.

use crate::error::{FsError, Result};
use crate::le::{u16_at, u32_at, u8_at};
use crate::types::{DirEntry, FileType};

fn dirent_type(t: u8) -> FileType {
    match t {
        1 => FileType::File,
        2 => FileType::Dir,
        3 => FileType::Char,
        4 => FileType::Block,
        5 => FileType::Fifo,
        6 => FileType::Socket,
        7 => FileType::Symlink,
        _ => FileType::Unknown,
    }
}

/// Record lengths of 64 KiB blocks do not fit 16 bits; ext4 encodes them.
fn rec_len(raw: u16, block_size: usize) -> usize {
    if block_size < 65536 {
        return raw as usize;
    }
    if raw == 65535 || raw == 0 {
        return block_size;
    }
    (raw as usize & 65532) | ((raw as usize & 3) << 16)
}

/// Parses one directory block (or inline-data region) of `len` bytes and
/// appends its live entries to `out`. `has_filetype`: the name length is one
/// byte and the next byte is the file type.
pub(crate) fn parse_block(
    block: &[u8],
    block_size: usize,
    has_filetype: bool,
    ino: u64,
    block_index: u64,
    out: &mut Vec<DirEntry>,
) -> Result<()> {
    let mut pos = 0usize;
    while pos + 8 <= block.len() {
        let inode = u32_at(block, pos);
        let len = rec_len(u16_at(block, pos + 4), block_size);
        let (name_len, ftype) = if has_filetype {
            (u8_at(block, pos + 6) as usize, u8_at(block, pos + 7))
        } else {
            (u16_at(block, pos + 6) as usize, 0)
        };
        if len < 8 || len % 4 != 0 || pos + len > block.len() || 8 + name_len > len {
            return Err(FsError::corrupt(
                "ext4 directory entry",
                format!(
                    "directory inode {ino}, block {block_index}, offset {pos}: rec_len {len} with name length {name_len} does not fit the {}-byte block",
                    block.len()
                ),
            ));
        }
        if inode != 0 {
            let name = &block[pos + 8..pos + 8 + name_len];
            if name != b"." && name != b".." && !name.is_empty() {
                out.push(DirEntry {
                    name: name.to_vec(),
                    node: inode as u64,
                    file_type: dirent_type(ftype),
                });
            }
        }
        pos += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(inode: u32, rec: u16, name: &[u8], t: u8) -> Vec<u8> {
        let mut e = vec![0u8; rec as usize];
        e[0..4].copy_from_slice(&inode.to_le_bytes());
        e[4..6].copy_from_slice(&rec.to_le_bytes());
        e[6] = name.len() as u8;
        e[7] = t;
        e[8..8 + name.len()].copy_from_slice(name);
        e
    }

    #[test]
    fn parses_and_skips_dots_and_deleted() {
        let mut b = entry(2, 12, b".", 2);
        b.extend(entry(2, 12, b"..", 2));
        b.extend(entry(0, 16, b"gone", 1));
        b.extend(entry(12, 1024 - 40, b"passwd", 1));
        let mut out = Vec::new();
        parse_block(&b, 1024, true, 2, 0, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name, b"passwd");
        assert_eq!(out[0].node, 12);
        assert_eq!(out[0].file_type, FileType::File);
    }

    #[test]
    fn zero_rec_len_is_an_error_not_a_hang() {
        let b = vec![0u8; 1024];
        let mut out = Vec::new();
        assert!(parse_block(&b, 1024, true, 2, 0, &mut out).is_err());
    }
}
