//! ext2/ext3/ext4, read by inode number.
//!
//! Our own reader, written from the ext4 on-disk format documentation,
//! rather than the `ext4-view` crate: ext4-view resolves every path from `/`
//! (quadratic on the linear directories `mke2fs -d` writes; 61 s for a tree
//! that `fls` lists in 2 s, see shared/CRATES.md) and exposes no inode
//! numbers, link counts or extended attributes, which the telemetry needs
//! (file capabilities). ext4-view remains a test oracle for file contents.
//!
//! A volume that needs recovery (a snapshot of a running machine) is read
//! as the kernel would see it after replaying the journal: the replay
//! happens in memory (see `journal`), the image is never written, and
//! [`FsInfo::notes`] says what was replayed, or why the journal could not
//! be and the volume was read as it is on disk.

mod block_map;
mod dir;
mod extent;
mod group_desc;
mod inode;
mod journal;
mod overlay;
mod superblock;
mod xattr;

use std::sync::Arc;

use coldscan_disk::ReadAt;

pub use xattr::Xattr;

use crate::error::{FsError, Result};
use crate::filesystem::FileSystem;
use crate::types::{DirEntry, FileType, FsInfo, Metadata, NodeId};
use extent::Mapping;
use group_desc::GroupDesc;
use inode::{Inode, FLAG_ENCRYPT, FLAG_EXTENTS, FLAG_INLINE_DATA};
use superblock::{Superblock, INCOMPAT_FILETYPE, INCOMPAT_RECOVER};

/// Directories larger than this are refused (real ones are a few MiB at most).
const MAX_DIR_BYTES: u64 = 256 << 20;
/// PATH_MAX: longer symlink targets are refused.
const MAX_LINK_BYTES: u64 = 4096;
const ROOT_INO: u64 = 2;

/// An ext2/3/4 filesystem on a read-only volume.
pub struct Ext4 {
    vol: Arc<dyn ReadAt>,
    sb: Superblock,
    groups: Vec<GroupDesc>,
    info: FsInfo,
}

impl Ext4 {
    /// Reads the superblock and group descriptors of the volume.
    ///
    /// If the superblock says the journal needs recovery, the committed
    /// transactions of the journal are replayed in memory first and every
    /// later read (superblock and group descriptors included) sees the
    /// replayed blocks. A journal that cannot be replayed never fails the
    /// open: the volume is then read as on disk and a note says why.
    pub fn open(vol: Arc<dyn ReadAt>) -> Result<Ext4> {
        let sb = read_superblock(&*vol)?;
        let groups = group_desc::read_all(&*vol, &sb)?;
        let mut notes = Vec::new();
        let mut problems = Vec::new();
        let (vol, sb, groups) = if sb.has_incompat(INCOMPAT_RECOVER) {
            Self::replay_journal(vol, sb, groups, &mut notes, &mut problems)
        } else {
            (vol, sb, groups)
        };
        let bs = sb.block_size as u64;
        let fs_type = if sb.has_incompat(superblock::INCOMPAT_EXTENTS)
            || sb.has_incompat(superblock::INCOMPAT_64BIT)
            || sb.has_incompat(superblock::INCOMPAT_FLEX_BG)
        {
            "ext4"
        } else if sb.has_journal() {
            "ext3"
        } else {
            "ext2"
        };
        if sb.state & 0x2 != 0 {
            problems.push("superblock state says errors were detected".to_string());
        }
        if sb.blocks_count.saturating_mul(bs) > vol.size() {
            problems.push(format!(
                "filesystem claims {} bytes but the volume holds {}: truncated image, reads past the end will fail",
                sb.blocks_count.saturating_mul(bs),
                vol.size()
            ));
        }
        if sb.has_incompat(superblock::INCOMPAT_ENCRYPT) {
            problems.push("some directories may be encrypted (fscrypt): their names and contents are unreadable".into());
        }
        let info = FsInfo {
            fs_type: fs_type.to_string(),
            label: (!sb.volume_name.is_empty())
                .then(|| String::from_utf8_lossy(&sb.volume_name).into_owned()),
            uuid: Some(sb.uuid_string()),
            block_size: sb.block_size,
            size_bytes: sb.blocks_count.saturating_mul(bs),
            used_bytes: sb
                .blocks_count
                .saturating_sub(sb.free_blocks_count)
                .saturating_mul(bs),
            posix: true,
            notes,
            problems,
        };
        Ok(Ext4 {
            vol,
            sb,
            groups,
            info,
        })
    }

    /// Replays the journal of a volume that needs recovery, in memory.
    /// Returns the volume to read from (the replayed view, or `vol` itself
    /// if the journal cannot be replayed) and its superblock and group
    /// descriptors as read through it.
    fn replay_journal(
        vol: Arc<dyn ReadAt>,
        sb: Superblock,
        groups: Vec<GroupDesc>,
        notes: &mut Vec<String>,
        problems: &mut Vec<String>,
    ) -> (Arc<dyn ReadAt>, Superblock, Vec<GroupDesc>) {
        let on_disk = Ext4 {
            vol,
            sb,
            groups,
            info: FsInfo::default(),
        };
        let failed = |e: &dyn std::fmt::Display| {
            format!(
                "journal could not be replayed: {e}; read as on disk (volume not cleanly unmounted), so the newest metadata changes may be missing"
            )
        };
        let recovery = match journal::recover(&on_disk) {
            Ok(r) => r,
            Err(e) => {
                problems.push(failed(&e));
                return (on_disk.vol, on_disk.sb, on_disk.groups);
            }
        };
        let bs = on_disk.sb.block_size;
        let summary = format!(
            "journal replayed in memory: {} transaction{}, {} block{}{} (the image is unchanged)",
            recovery.transactions,
            if recovery.transactions == 1 { "" } else { "s" },
            recovery.blocks.len(),
            if recovery.blocks.len() == 1 { "" } else { "s" },
            if recovery.revoked > 0 {
                format!(
                    ", {} revoked cop{} skipped",
                    recovery.revoked,
                    if recovery.revoked == 1 { "y" } else { "ies" }
                )
            } else {
                String::new()
            }
        );
        if recovery.blocks.is_empty() {
            notes.push(summary);
            notes.extend(recovery.notes);
            problems.extend(recovery.problems);
            return (on_disk.vol, on_disk.sb, on_disk.groups);
        }
        let replayed: Arc<dyn ReadAt> = Arc::new(overlay::Overlay::new(
            on_disk.vol.clone(),
            bs as u64,
            recovery.blocks,
        ));
        // The journal often holds newer copies of the superblock and the
        // group descriptors: read them again through the replayed view.
        let reread = read_superblock(&*replayed).and_then(|sb| {
            if sb.block_size != bs {
                return Err(FsError::corrupt(
                    "ext4 superblock",
                    format!(
                        "the journal's copy changes the block size from {bs} to {}",
                        sb.block_size
                    ),
                ));
            }
            let groups = group_desc::read_all(&*replayed, &sb)?;
            Ok((sb, groups))
        });
        match reread {
            Ok((sb, groups)) => {
                notes.push(summary);
                notes.extend(recovery.notes);
                problems.extend(recovery.problems);
                (replayed, sb, groups)
            }
            Err(e) => {
                problems.push(failed(&format!(
                    "the replayed superblock or group descriptors are unusable ({e})"
                )));
                (on_disk.vol, on_disk.sb, on_disk.groups)
            }
        }
    }

    fn io(offset: u64, len: usize) -> impl FnOnce(std::io::Error) -> FsError {
        move |source| FsError::Io {
            offset,
            len,
            source,
        }
    }

    /// Reads volume block `block`, refusing numbers outside the filesystem.
    fn read_block(&self, block: u64) -> Result<Vec<u8>> {
        if block >= self.sb.blocks_count {
            return Err(FsError::corrupt(
                "ext4 block pointer",
                format!(
                    "block {block} is beyond the {} blocks of the filesystem",
                    self.sb.blocks_count
                ),
            ));
        }
        let bs = self.sb.block_size as usize;
        let mut buf = vec![0u8; bs];
        let at = block * bs as u64;
        self.vol
            .read_exact_at(at, &mut buf)
            .map_err(Self::io(at, bs))?;
        Ok(buf)
    }

    fn inode(&self, ino: u64) -> Result<Inode> {
        if ino == 0 || ino > self.sb.inodes_count as u64 {
            return Err(FsError::corrupt(
                "ext4 inode number",
                format!(
                    "inode {ino} is outside 1..={} of this filesystem",
                    self.sb.inodes_count
                ),
            ));
        }
        let ipg = self.sb.inodes_per_group as u64;
        let group = (ino - 1) / ipg;
        let gd = self.groups.get(group as usize).ok_or_else(|| {
            FsError::corrupt(
                "ext4 inode number",
                format!("inode {ino} lies in group {group}, which does not exist"),
            )
        })?;
        let isz = self.sb.inode_size as u64;
        let at = gd
            .inode_table
            .checked_mul(self.sb.block_size as u64)
            .and_then(|t| t.checked_add(((ino - 1) % ipg) * isz))
            .ok_or_else(|| {
                FsError::corrupt(
                    "ext4 group descriptor",
                    format!("group {group}: inode table offset overflows"),
                )
            })?;
        let mut raw = vec![0u8; isz as usize];
        self.vol
            .read_exact_at(at, &mut raw)
            .map_err(Self::io(at, isz as usize))?;
        Ok(Inode::parse(ino, &raw))
    }

    /// Where logical block `lblk` of `inode` lives.
    fn map(&self, inode: &Inode, lblk: u32) -> Result<Mapping> {
        let read = |b| self.read_block(b);
        if inode.has_flag(FLAG_EXTENTS) {
            extent::map(&inode.block, lblk, inode.ino, read)
        } else {
            block_map::map(&inode.block, lblk, self.sb.block_size, read)
        }
    }

    /// Inline data: the 60 bytes of `i_block` followed by `system.data`.
    fn inline_data(&self, inode: &Inode) -> Result<Vec<u8>> {
        let mut data = inode.block.to_vec();
        let mut attrs = Vec::new();
        xattr::in_inode(&inode.extra, inode.extra_isize(), inode.ino, &mut attrs)?;
        if let Some(a) = attrs.iter().find(|a| a.name == b"system.data") {
            data.extend_from_slice(&a.value);
        }
        Ok(data)
    }

    fn read_inode_data(&self, inode: &Inode, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if offset >= inode.size {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(inode.size - offset).unwrap_or(usize::MAX));
        if inode.has_flag(FLAG_INLINE_DATA) {
            let data = self.inline_data(inode)?;
            let start = offset as usize;
            let n = want.min(data.len().saturating_sub(start));
            buf[..n].copy_from_slice(&data[start..start + n]);
            buf[n..want].fill(0);
            return Ok(want);
        }
        let bs = self.sb.block_size as u64;
        let mut done = 0usize;
        while done < want {
            let pos = offset + done as u64;
            let Ok(lblk) = u32::try_from(pos / bs) else {
                break;
            };
            let within = pos % bs;
            let chunk = |len: u64| ((len * bs - within).min((want - done) as u64)) as usize;
            match self.map(inode, lblk)? {
                Mapping::Zero { len } => {
                    let n = chunk(len);
                    buf[done..done + n].fill(0);
                    done += n;
                }
                Mapping::Data { start, len } => {
                    if start.saturating_add(len) > self.sb.blocks_count {
                        return Err(FsError::corrupt(
                            "ext4 extent",
                            format!(
                                "inode {}: blocks {start}..{} lie beyond the filesystem's {} blocks",
                                inode.ino,
                                start.saturating_add(len),
                                self.sb.blocks_count
                            ),
                        ));
                    }
                    let n = chunk(len);
                    let at = start * bs + within;
                    self.vol
                        .read_exact_at(at, &mut buf[done..done + n])
                        .map_err(Self::io(at, n))?;
                    done += n;
                }
            }
        }
        Ok(done)
    }

    /// All extended attributes of a node (values stored in separate inodes
    /// are left empty with `value_inode` set).
    pub fn all_xattrs(&self, node: NodeId) -> Result<Vec<Xattr>> {
        let inode = self.inode(node)?;
        let mut out = Vec::new();
        xattr::in_inode(&inode.extra, inode.extra_isize(), node, &mut out)?;
        if inode.file_acl != 0 {
            let block = self.read_block(inode.file_acl)?;
            xattr::in_block(&block, node, inode.file_acl, &mut out)?;
        }
        Ok(out)
    }
}

/// Reads and parses the superblock (1024 bytes at byte 1024).
fn read_superblock(vol: &dyn ReadAt) -> Result<Superblock> {
    let mut raw = [0u8; 1024];
    vol.read_exact_at(1024, &mut raw)
        .map_err(|source| FsError::Io {
            offset: 1024,
            len: 1024,
            source,
        })?;
    Superblock::parse(&raw)
}

impl FileSystem for Ext4 {
    fn info(&self) -> &FsInfo {
        &self.info
    }

    fn root(&self) -> NodeId {
        ROOT_INO
    }

    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        let inode = self.inode(node)?;
        Ok(Metadata {
            node,
            file_type: inode.file_type(),
            mode: Some(inode.mode as u32 & 0o7777),
            uid: Some(inode.uid),
            gid: Some(inode.gid),
            size: inode.size,
            mtime: Some(inode.mtime),
            nlink: inode.links as u32,
        })
    }

    fn read_dir(&self, node: NodeId) -> Result<Vec<DirEntry>> {
        let inode = self.inode(node)?;
        if inode.file_type() != FileType::Dir {
            return Err(FsError::NotADirectory(format!("inode {node}")));
        }
        if inode.has_flag(FLAG_ENCRYPT) {
            return Err(FsError::Unsupported(format!(
                "directory inode {node} is encrypted (fscrypt)"
            )));
        }
        let has_ft = self.sb.has_incompat(INCOMPAT_FILETYPE);
        let mut out = Vec::new();
        if inode.has_flag(FLAG_INLINE_DATA) {
            // The first 4 bytes name the parent; entries follow, then
            // continue in the `system.data` attribute.
            let data = self.inline_data(&inode)?;
            let (head, tail) = data.split_at(60.min(data.len()));
            dir::parse_block(head.get(4..).unwrap_or(&[]), 0, has_ft, node, 0, &mut out)?;
            if !tail.is_empty() {
                dir::parse_block(tail, 0, has_ft, node, 1, &mut out)?;
            }
            return Ok(out);
        }
        // A directory holds no holes worth reading past the filesystem's
        // own size, so that bounds it too (and keeps tiny hostile volumes
        // from asking for 256 MiB buffers).
        let limit = MAX_DIR_BYTES.min(self.vol.size());
        if inode.size > limit {
            return Err(FsError::TooLarge {
                what: format!("directory inode {node} ({} bytes)", inode.size),
                limit,
            });
        }
        let bs = self.sb.block_size as usize;
        let mut data = vec![0u8; inode.size as usize];
        let n = self.read_inode_data(&inode, 0, &mut data)?;
        data.truncate(n);
        for (i, block) in data.chunks(bs).enumerate() {
            // Holes in directories read as zeros; the kernel skips them.
            if block.iter().all(|&b| b == 0) {
                continue;
            }
            dir::parse_block(block, bs, has_ft, node, i as u64, &mut out)?;
        }
        Ok(out)
    }

    fn read_at(&self, node: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let inode = self.inode(node)?;
        match inode.file_type() {
            FileType::Dir => return Err(FsError::IsADirectory(format!("inode {node}"))),
            FileType::File | FileType::Symlink => {}
            // Device nodes, fifos and sockets have no data on disk.
            _ => return Ok(0),
        }
        if inode.has_flag(FLAG_ENCRYPT) {
            return Err(FsError::Unsupported(format!(
                "inode {node} is encrypted (fscrypt)"
            )));
        }
        self.read_inode_data(&inode, offset, buf)
    }

    fn xattrs(&self, node: NodeId) -> Result<Vec<Xattr>> {
        self.all_xattrs(node)
    }

    fn read_link(&self, node: NodeId) -> Result<Vec<u8>> {
        let inode = self.inode(node)?;
        if inode.file_type() != FileType::Symlink {
            return Err(FsError::NotASymlink(format!("inode {node}")));
        }
        if inode.size > MAX_LINK_BYTES {
            return Err(FsError::TooLarge {
                what: format!("symlink target of inode {node}"),
                limit: MAX_LINK_BYTES,
            });
        }
        let len = inode.size as usize;
        // Fast symlinks keep the target in i_block and own no data blocks
        // (blocks counted, less the attribute block, are zero: the kernel's test).
        let acl_blocks = if inode.file_acl != 0 {
            self.sb.block_size / 512
        } else {
            0
        };
        let is_fast = len < 60
            && !inode.has_flag(FLAG_INLINE_DATA)
            && inode.blocks_512.saturating_sub(acl_blocks) == 0;
        if is_fast {
            return Ok(inode.block[..len].to_vec());
        }
        let mut buf = vec![0u8; len];
        let n = self.read_inode_data(&inode, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }
}
