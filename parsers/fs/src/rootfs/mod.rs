//! The machine's view from `/`: the root filesystem with the other volumes
//! attached at their mount points, and path resolution that never leaves the
//! image.
//!
//! Resolution follows the kernel's rules inside the image: absolute symlink
//! targets start again at the image's `/`, `..` at `/` stays at `/`, `..`
//! out of a mount root returns to the parent mount, and at most
//! [`MAX_SYMLINKS`] links are followed per lookup. No path ever reaches the
//! host's file system: every lookup goes through [`FileSystem`].

mod fstab;
mod plan;
mod walk;

use std::sync::Arc;

pub use fstab::{parse_fstab, FstabEntry};
pub use plan::{assemble, looks_like_root, Assembly, MountStatus, PlannedMount, Volume};
pub use walk::{WalkEntry, WalkOptions};

use crate::error::{FsError, Result};
use crate::filesystem::{read_all, FileSystem};
use crate::types::{DirEntry, FileType, Metadata, NodeId};

/// Linux's limit on symlinks followed in one lookup (ELOOP after that).
pub const MAX_SYMLINKS: u32 = 40;

/// One filesystem attached at an absolute path.
#[derive(Clone)]
pub struct Mount {
    /// Absolute mount point, e.g. `/` or `/var`.
    pub mount_point: String,
    pub fs: Arc<dyn FileSystem>,
    /// Partition of the image it lives on (0: a whole-disk filesystem).
    pub partition: u32,
    components: Vec<Vec<u8>>,
}

impl Mount {
    pub fn new(mount_point: &str, fs: Arc<dyn FileSystem>, partition: u32) -> Mount {
        Mount {
            mount_point: mount_point.to_string(),
            fs,
            partition,
            components: split(mount_point.as_bytes()),
        }
    }
}

/// A node in a specific mounted filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub mount: usize,
    pub node: NodeId,
}

/// The result of resolving a path: where it landed and its canonical path.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub loc: Loc,
    /// Absolute path with symlinks, `.` and `..` resolved (raw bytes).
    pub path: Vec<u8>,
}

fn split(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| c.to_vec())
        .collect()
}

fn join(components: &[Vec<u8>]) -> Vec<u8> {
    if components.is_empty() {
        return b"/".to_vec();
    }
    let mut out = Vec::new();
    for c in components {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    out
}

fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// Filesystems assembled into one tree, rooted at `mounts[0]`.
#[derive(Clone)]
pub struct RootFs {
    mounts: Vec<Mount>,
}

impl RootFs {
    /// `mounts[0]` must be mounted at `/`. Later mounts shadow earlier ones
    /// at the same point, as on a running system.
    pub fn new(mounts: Vec<Mount>) -> Result<RootFs> {
        match mounts.first() {
            Some(m) if m.components.is_empty() => Ok(RootFs { mounts }),
            _ => Err(FsError::NotFound("no filesystem mounted at /".into())),
        }
    }

    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    pub fn fs(&self, loc: Loc) -> &dyn FileSystem {
        &*self.mounts[loc.mount].fs
    }

    /// Names the volume in structural errors, so a message says which
    /// partition and filesystem failed.
    pub fn on_volume(&self, mount: usize, err: FsError) -> FsError {
        if !err.is_structural() || matches!(err, FsError::OnVolume { .. }) {
            return err;
        }
        match self.mounts.get(mount) {
            Some(m) => FsError::OnVolume {
                partition: m.partition,
                fs_type: m.fs.info().fs_type.clone(),
                source: Box::new(err),
            },
            None => err,
        }
    }

    fn root_loc(&self) -> Loc {
        Loc {
            mount: 0,
            node: self.mounts[0].fs.root(),
        }
    }

    /// The mount whose mount point is exactly `components`, if any (the
    /// last one listed wins).
    /// `path` yields the `len` components of an absolute path; compared
    /// in place, so resolving a path allocates nothing per component.
    fn mount_at<'a>(
        &self,
        path: impl Iterator<Item = &'a Vec<u8>> + Clone,
        len: usize,
    ) -> Option<usize> {
        self.mounts.iter().rposition(|m| {
            !m.components.is_empty()
                && m.components.len() == len
                && m.components.iter().eq(path.clone())
        })
    }

    /// Resolves `path` (relative paths start at `/`). With `follow_last`
    /// false, a final symlink is returned itself (lstat semantics).
    pub fn resolve(&self, path: &[u8], follow_last: bool) -> Result<Resolved> {
        let mut last_mount = 0;
        self.resolve_inner(path, follow_last, &mut last_mount)
            .map_err(|e| self.on_volume(last_mount, e))
    }

    fn resolve_inner(
        &self,
        path: &[u8],
        follow_last: bool,
        last_mount: &mut usize,
    ) -> Result<Resolved> {
        let root = self.root_loc();
        // The directories walked so far: name and location of each.
        let mut stack: Vec<(Vec<u8>, Loc)> = Vec::new();
        let mut pending: std::collections::VecDeque<Vec<u8>> = split(path).into();
        let mut links = 0u32;
        while let Some(comp) = pending.pop_front() {
            let cur = stack.last().map(|s| s.1).unwrap_or(root);
            *last_mount = cur.mount;
            if comp == b".." {
                stack.pop();
                continue;
            }
            let fs = self.fs(cur);
            let so_far = || {
                let mut names: Vec<Vec<u8>> = stack.iter().map(|s| s.0.clone()).collect();
                names.push(comp.clone());
                show(&join(&names))
            };
            let entry = match fs.lookup(cur.node, &comp) {
                Ok(Some(e)) => e,
                Ok(None) => return Err(FsError::NotFound(so_far())),
                Err(FsError::NotADirectory(_)) => {
                    return Err(FsError::NotADirectory(show(&join(
                        &stack.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
                    ))))
                }
                Err(e) => return Err(e),
            };
            let file_type = match entry.file_type {
                FileType::Unknown => fs.metadata(entry.node)?.file_type,
                t => t,
            };
            let is_last = pending.is_empty();
            if file_type == FileType::Symlink && (!is_last || follow_last) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(FsError::SymlinkLoop {
                        path: show(path),
                        limit: MAX_SYMLINKS,
                    });
                }
                let target = fs.read_link(entry.node)?;
                if target.is_empty() {
                    return Err(FsError::NotFound(format!("{} (empty symlink)", so_far())));
                }
                if target.starts_with(b"/") {
                    stack.clear();
                }
                for c in split(&target).into_iter().rev() {
                    pending.push_front(c);
                }
                continue;
            }
            let mut loc = Loc {
                mount: cur.mount,
                node: entry.node,
            };
            if file_type == FileType::Dir {
                let path = stack.iter().map(|s| &s.0).chain(std::iter::once(&comp));
                if let Some(m) = self.mount_at(path, stack.len() + 1) {
                    loc = Loc {
                        mount: m,
                        node: self.mounts[m].fs.root(),
                    };
                }
            }
            stack.push((comp, loc));
        }
        let names: Vec<Vec<u8>> = stack.iter().map(|s| s.0.clone()).collect();
        Ok(Resolved {
            loc: stack.last().map(|s| s.1).unwrap_or(root),
            path: join(&names),
        })
    }

    /// `lstat`: metadata of `path` without following a final symlink.
    pub fn symlink_metadata(&self, path: &[u8]) -> Result<Metadata> {
        let r = self.resolve(path, false)?;
        self.metadata_at(r.loc)
    }

    /// Metadata of the node at `loc`.
    pub fn metadata_at(&self, loc: Loc) -> Result<Metadata> {
        self.fs(loc)
            .metadata(loc.node)
            .map_err(|e| self.on_volume(loc.mount, e))
    }

    /// `stat`: metadata of what `path` finally points to.
    pub fn metadata(&self, path: &[u8]) -> Result<Metadata> {
        let r = self.resolve(path, true)?;
        self.metadata_at(r.loc)
    }

    /// Entries of the directory at `path` (symlinks followed).
    pub fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>> {
        let r = self.resolve(path, true)?;
        self.fs(r.loc)
            .read_dir(r.loc.node)
            .map_err(|e| self.on_volume(r.loc.mount, e))
    }

    /// The target of the symlink at `path`, as stored.
    pub fn read_link(&self, path: &[u8]) -> Result<Vec<u8>> {
        let r = self.resolve(path, false)?;
        self.fs(r.loc)
            .read_link(r.loc.node)
            .map_err(|e| self.on_volume(r.loc.mount, e))
    }

    /// The whole file at `path` (symlinks followed), up to `limit` bytes.
    pub fn read_file(&self, path: &[u8], limit: u64) -> Result<Vec<u8>> {
        let r = self.resolve(path, true)?;
        if self.metadata_at(r.loc)?.file_type == FileType::Dir {
            return Err(FsError::IsADirectory(show(&r.path)));
        }
        read_all(self.fs(r.loc), r.loc.node, limit).map_err(|e| self.on_volume(r.loc.mount, e))
    }

    /// Reads `buf.len()` bytes or fewer at `offset` of the file at `loc`.
    pub fn read_at(&self, loc: Loc, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.fs(loc)
            .read_at(loc.node, offset, buf)
            .map_err(|e| self.on_volume(loc.mount, e))
    }
}
