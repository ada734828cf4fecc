//! The ext2/3/4 superblock (1024 bytes at byte 1024 of the volume).

use crate::error::{FsError, Result};
use crate::le::{u16_at, u32_at};

pub(crate) const INCOMPAT_FILETYPE: u32 = 0x2;
pub(crate) const INCOMPAT_RECOVER: u32 = 0x4;
pub(crate) const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
pub(crate) const INCOMPAT_META_BG: u32 = 0x10;
pub(crate) const INCOMPAT_EXTENTS: u32 = 0x40;
pub(crate) const INCOMPAT_64BIT: u32 = 0x80;
pub(crate) const INCOMPAT_MMP: u32 = 0x100;
pub(crate) const INCOMPAT_FLEX_BG: u32 = 0x200;
pub(crate) const INCOMPAT_EA_INODE: u32 = 0x400;
pub(crate) const INCOMPAT_DIRDATA: u32 = 0x1000;
pub(crate) const INCOMPAT_CSUM_SEED: u32 = 0x2000;
pub(crate) const INCOMPAT_LARGEDIR: u32 = 0x4000;
pub(crate) const INCOMPAT_INLINE_DATA: u32 = 0x8000;
pub(crate) const INCOMPAT_ENCRYPT: u32 = 0x10000;
pub(crate) const INCOMPAT_CASEFOLD: u32 = 0x20000;
pub(crate) const INCOMPAT_COMPRESSION: u32 = 0x1;

/// Incompatible features this reader understands. Anything else set in
/// `s_feature_incompat` changes the on-disk layout in ways we cannot read.
const INCOMPAT_KNOWN: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_META_BG
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_MMP
    | INCOMPAT_FLEX_BG
    | INCOMPAT_EA_INODE
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR
    | INCOMPAT_INLINE_DATA
    | INCOMPAT_ENCRYPT
    | INCOMPAT_CASEFOLD;

const COMPAT_HAS_JOURNAL: u32 = 0x4;

/// The superblock fields this reader uses.
#[derive(Debug, Clone)]
pub(crate) struct Superblock {
    pub inodes_count: u32,
    pub blocks_count: u64,
    pub free_blocks_count: u64,
    pub first_data_block: u32,
    pub block_size: u32,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    pub state: u16,
    pub inode_size: u16,
    pub feature_compat: u32,
    pub feature_incompat: u32,
    pub feature_ro_compat: u32,
    pub uuid: [u8; 16],
    pub volume_name: Vec<u8>,
    pub desc_size: u16,
    pub first_meta_bg: u32,
    /// `s_journal_inum`: the inode holding an internal journal (normally 8).
    pub journal_inum: u32,
    /// `s_journal_dev`: the device number of an external journal.
    pub journal_dev: u32,
    /// `s_journal_uuid`: the UUID of an external journal.
    pub journal_uuid: [u8; 16],
}

impl Superblock {
    /// Parses and validates the 1024 superblock bytes. Every field that
    /// sizes a later allocation or loop is checked here.
    pub fn parse(b: &[u8]) -> Result<Superblock> {
        let bad = |detail: String| FsError::corrupt("ext4 superblock", detail);
        if u16_at(b, 0x38) != 0xEF53 {
            return Err(bad("magic 0xEF53 not found at byte 1080".into()));
        }
        let log_block = u32_at(b, 0x18);
        if log_block > 6 {
            return Err(bad(format!(
                "s_log_block_size {log_block} gives a block size over 64 KiB"
            )));
        }
        let block_size = 1024u32 << log_block;
        let rev_level = u32_at(b, 0x4C);
        let inode_size = if rev_level == 0 { 128 } else { u16_at(b, 0x58) };
        if inode_size < 128 || !inode_size.is_power_of_two() || inode_size as u32 > block_size {
            return Err(bad(format!("inode size {inode_size} invalid")));
        }
        let feature_incompat = u32_at(b, 0x60);
        let is64 = feature_incompat & INCOMPAT_64BIT != 0;
        let desc_size = if is64 { u16_at(b, 0xFE) } else { 32 };
        if desc_size < 32 || !desc_size.is_power_of_two() || desc_size as u32 > block_size {
            return Err(bad(format!("group descriptor size {desc_size} invalid")));
        }
        let hi = |at| {
            if is64 {
                (u32_at(b, at) as u64) << 32
            } else {
                0
            }
        };
        let blocks_count = u32_at(b, 0x4) as u64 | hi(0x150);
        let free_blocks_count = u32_at(b, 0xC) as u64 | hi(0x158);
        let blocks_per_group = u32_at(b, 0x20);
        let inodes_per_group = u32_at(b, 0x28);
        if blocks_per_group == 0 || blocks_per_group > block_size * 8 {
            return Err(bad(format!("blocks per group {blocks_per_group} invalid")));
        }
        if inodes_per_group == 0 || inodes_per_group > block_size * 8 {
            return Err(bad(format!("inodes per group {inodes_per_group} invalid")));
        }
        let first_data_block = u32_at(b, 0x14);
        if first_data_block as u64 >= blocks_count {
            return Err(bad(format!(
                "first data block {first_data_block} not below block count {blocks_count}"
            )));
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(b.get(0x68..0x78).unwrap_or(&[0; 16]));
        let mut journal_uuid = [0u8; 16];
        journal_uuid.copy_from_slice(b.get(0xD0..0xE0).unwrap_or(&[0; 16]));
        let name = b.get(0x78..0x88).unwrap_or(&[]);
        let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
        let unknown = feature_incompat & !INCOMPAT_KNOWN;
        if unknown != 0 {
            let named = match unknown {
                u if u & INCOMPAT_COMPRESSION != 0 => "compression",
                u if u & INCOMPAT_JOURNAL_DEV != 0 => "external journal device",
                u if u & INCOMPAT_DIRDATA != 0 => "dirdata",
                _ => "unknown",
            };
            return Err(FsError::Unsupported(format!(
                "ext4 incompatible feature flags {unknown:#x} ({named}) change the on-disk layout"
            )));
        }
        Ok(Superblock {
            inodes_count: u32_at(b, 0x0),
            blocks_count,
            free_blocks_count,
            first_data_block,
            block_size,
            blocks_per_group,
            inodes_per_group,
            state: u16_at(b, 0x3A),
            inode_size,
            feature_compat: u32_at(b, 0x5C),
            feature_incompat,
            feature_ro_compat: u32_at(b, 0x64),
            uuid,
            volume_name: name[..end].to_vec(),
            desc_size,
            first_meta_bg: u32_at(b, 0x104),
            journal_inum: u32_at(b, 0xE0),
            journal_dev: u32_at(b, 0xE4),
            journal_uuid,
        })
    }

    pub fn has_incompat(&self, flag: u32) -> bool {
        self.feature_incompat & flag != 0
    }

    /// With `sparse_super`, only groups 0, 1 and powers of 3, 5 and 7 hold a
    /// superblock backup (and, without meta_bg, a descriptor table copy).
    pub fn group_has_super(&self, group: u64) -> bool {
        if self.feature_ro_compat & 0x1 == 0 || group <= 1 {
            return true;
        }
        [3u64, 5, 7].iter().any(|&base| {
            let mut n = base;
            while n < group {
                n = n.saturating_mul(base);
            }
            n == group
        })
    }

    pub fn has_journal(&self) -> bool {
        self.feature_compat & COMPAT_HAS_JOURNAL != 0
    }

    /// Number of block groups, from the block count.
    pub fn group_count(&self) -> u64 {
        (self.blocks_count - self.first_data_block as u64).div_ceil(self.blocks_per_group as u64)
    }

    /// The UUID in the 8-4-4-4-12 form blkid prints (big-endian bytes).
    pub fn uuid_string(&self) -> String {
        let u = &self.uuid;
        format!(
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]
        )
    }
}
