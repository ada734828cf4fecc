use crate::error::{FsError, Result};
use crate::types::{DirEntry, FsInfo, Metadata, NodeId, Xattr};

/// A read-only filesystem addressed by node (inode / MFT record) number.
///
/// Node-addressed rather than path-addressed so that a tree walk reads each
/// directory once instead of re-resolving every path from `/`. Path
/// resolution, symlinks and mounts live above, in [`crate::RootFs`].
/// Implementations are `Send + Sync` so collectors can share one in parallel.
pub trait FileSystem: Send + Sync {
    /// Type, label, UUID, sizes.
    fn info(&self) -> &FsInfo;

    /// The root directory's node.
    fn root(&self) -> NodeId;

    fn metadata(&self, node: NodeId) -> Result<Metadata>;

    /// Entries of a directory, without `.` and `..`, in on-disk order.
    fn read_dir(&self, node: NodeId) -> Result<Vec<DirEntry>>;

    /// Finds `name` in directory `dir`. The default scans [`Self::read_dir`].
    fn lookup(&self, dir: NodeId, name: &[u8]) -> Result<Option<DirEntry>> {
        Ok(self.read_dir(dir)?.into_iter().find(|e| e.name == name))
    }

    /// Reads file contents at `offset`; returns bytes read (0 at end of file).
    fn read_at(&self, node: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize>;

    /// Target of a symbolic link, as raw bytes.
    fn read_link(&self, node: NodeId) -> Result<Vec<u8>>;

    /// Extended attributes (file capabilities, ACLs, SELinux labels). The
    /// default is none: filesystems without POSIX xattrs.
    fn xattrs(&self, _node: NodeId) -> Result<Vec<Xattr>> {
        Ok(Vec::new())
    }
}

/// Reads a whole file, refusing files larger than `limit` bytes so a hostile
/// size field cannot exhaust memory.
pub fn read_all(fs: &dyn FileSystem, node: NodeId, limit: u64) -> Result<Vec<u8>> {
    let meta = fs.metadata(node)?;
    if meta.size > limit {
        return Err(FsError::TooLarge {
            what: format!("file (node {node}, {} bytes)", meta.size),
            limit,
        });
    }
    let mut out = vec![0u8; meta.size as usize];
    let mut done = 0;
    while done < out.len() {
        let n = fs.read_at(node, done as u64, &mut out[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    out.truncate(done);
    Ok(out)
}
