//! The on-disk inode: mode, owner, size, times, flags and the 60-byte
//! `i_block` area (extent tree root, block map, inline data or fast symlink).

use crate::le::{u16_at, u32_at};
use crate::types::{FileType, Timestamp};

pub(crate) const FLAG_EXTENTS: u32 = 0x80000;
pub(crate) const FLAG_INLINE_DATA: u32 = 0x10000000;
pub(crate) const FLAG_ENCRYPT: u32 = 0x800;

#[derive(Debug, Clone)]
pub(crate) struct Inode {
    pub ino: u64,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub links: u16,
    pub flags: u32,
    /// `i_blocks` in 512-byte units (low 32 bits suffice for symlinks).
    pub blocks_512: u32,
    pub mtime: Timestamp,
    pub block: [u8; 60],
    pub file_acl: u64,
    /// The bytes after the 128-byte base inode (extra fields and in-inode
    /// extended attributes), as stored.
    pub extra: Vec<u8>,
}

impl Inode {
    /// Parses `raw` (`inode_size` bytes). Never fails: every field is a fact
    /// and is validated where it is used.
    pub fn parse(ino: u64, raw: &[u8]) -> Inode {
        let mut block = [0u8; 60];
        block.copy_from_slice(raw.get(0x28..0x64).unwrap_or(&[0; 60]));
        let extra = raw.get(128..).unwrap_or(&[]).to_vec();
        let extra_isize = u16_at(raw, 0x80) as usize;
        // The nanosecond/epoch field exists only if the extra area covers it.
        let mtime_extra = if raw.len() > 128 && extra_isize >= 0x8C - 0x80 {
            u32_at(raw, 0x88)
        } else {
            0
        };
        let secs = u32_at(raw, 0x10) as i32 as i64 + (((mtime_extra & 3) as i64) << 32);
        Inode {
            ino,
            mode: u16_at(raw, 0x0),
            uid: u16_at(raw, 0x2) as u32 | (u16_at(raw, 0x78) as u32) << 16,
            gid: u16_at(raw, 0x18) as u32 | (u16_at(raw, 0x7A) as u32) << 16,
            size: u32_at(raw, 0x4) as u64 | (u32_at(raw, 0x6C) as u64) << 32,
            links: u16_at(raw, 0x1A),
            flags: u32_at(raw, 0x20),
            blocks_512: u32_at(raw, 0x1C),
            mtime: Timestamp {
                secs,
                nanos: (mtime_extra >> 2).min(999_999_999),
            },
            block,
            file_acl: u32_at(raw, 0x68) as u64 | (u16_at(raw, 0x76) as u64) << 32,
            extra,
        }
    }

    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.mode as u32)
    }

    pub fn has_flag(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Length of the extra fields in use (`i_extra_isize`); in-inode
    /// extended attributes start right after it.
    pub fn extra_isize(&self) -> usize {
        u16_at(&self.extra, 0) as usize
    }
}
