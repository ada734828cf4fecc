//! Depth-first listing of a tree inside the image, crossing into mounted
//! volumes, never following symlinks, each directory listed at most once.

use std::collections::HashSet;

use super::{join, Loc, RootFs};
use crate::error::{FsError, Result};
use crate::types::{DirEntry, FileType, Metadata};

/// What to list.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    /// Descend into subdirectories (otherwise list one level).
    pub recursive: bool,
    /// Read each entry's inode (mode, owner, size); without it only the
    /// type from the directory entry is known.
    pub metadata: bool,
}

/// One listed entry. Errors are per entry: a directory that cannot be read
/// is reported and the walk goes on.
#[derive(Debug)]
pub struct WalkEntry {
    /// Absolute path inside the image (raw bytes).
    pub path: Vec<u8>,
    pub loc: Loc,
    pub file_type: FileType,
    pub metadata: Option<Result<Metadata>>,
    /// Symlink target, when metadata was asked for.
    pub target: Option<Result<Vec<u8>>>,
    /// Why this directory's contents are missing from the listing.
    pub dir_error: Option<FsError>,
}

/// A directory being listed: its path, and its remaining entries.
struct Frame {
    path: Vec<u8>,
    loc: Loc,
    entries: std::vec::IntoIter<DirEntry>,
}

fn sorted(mut entries: Vec<DirEntry>) -> std::vec::IntoIter<DirEntry> {
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries.into_iter()
}

impl RootFs {
    /// Lists `start` (symlinks in `start` itself are followed, like `ls`)
    /// and, if asked, everything below it, in pre-order with names sorted
    /// bytewise (like `find`), calling `visit` for each entry. `start`
    /// itself is not reported. Only memory for the directories on the
    /// current path is held. Returns an error only if `start` cannot be
    /// resolved or read.
    pub fn walk(
        &self,
        start: &[u8],
        opts: WalkOptions,
        visit: &mut dyn FnMut(WalkEntry),
    ) -> Result<()> {
        let r = self.resolve(start, true)?;
        let first = self
            .fs(r.loc)
            .read_dir(r.loc.node)
            .map_err(|e| self.on_volume(r.loc.mount, e))?;
        let mount_paths: Vec<Vec<u8>> = self.mounts.iter().map(|m| join(&m.components)).collect();
        // Every directory listed so far: a corrupt or hostile image can link
        // one directory from several places (or from below itself).
        let mut seen: HashSet<Loc> = HashSet::new();
        seen.insert(r.loc);
        let mut stack = vec![Frame {
            path: r.path,
            loc: r.loc,
            entries: sorted(first),
        }];
        while let Some(frame) = stack.last_mut() {
            let Some(e) = frame.entries.next() else {
                stack.pop();
                continue;
            };
            let dir_loc = frame.loc;
            let mut path = frame.path.clone();
            if path != b"/" {
                path.push(b'/');
            }
            path.extend_from_slice(&e.name);
            let fs = self.fs(dir_loc);
            let mut loc = Loc {
                mount: dir_loc.mount,
                node: e.node,
            };
            let metadata = (opts.metadata || e.file_type == FileType::Unknown).then(|| {
                fs.metadata(e.node)
                    .map_err(|err| self.on_volume(dir_loc.mount, err))
            });
            let file_type = match &metadata {
                Some(Ok(m)) => m.file_type,
                _ => e.file_type,
            };
            let target = (opts.metadata && file_type == FileType::Symlink).then(|| {
                fs.read_link(e.node)
                    .map_err(|err| self.on_volume(dir_loc.mount, err))
            });
            let mut metadata = metadata.filter(|_| opts.metadata);
            let mut dir_error = None;
            let mut child = None;
            if file_type == FileType::Dir {
                // A mount point shows the mounted volume's root.
                if let Some(m) = mount_paths.iter().rposition(|p| *p == path) {
                    if m != 0 {
                        loc = Loc {
                            mount: m,
                            node: self.mounts[m].fs.root(),
                        };
                        if opts.metadata {
                            metadata = Some(self.metadata_at(loc));
                        }
                    }
                }
                if opts.recursive {
                    if !seen.insert(loc) {
                        dir_error = Some(FsError::corrupt(
                            "directory tree",
                            format!(
                                "directory node {} is linked from more than one place: its contents are listed only once",
                                loc.node
                            ),
                        ));
                    } else {
                        match self.fs(loc).read_dir(loc.node) {
                            Ok(entries) => child = Some(sorted(entries)),
                            Err(err) => dir_error = Some(self.on_volume(loc.mount, err)),
                        }
                    }
                }
            }
            if let Some(entries) = child {
                stack.push(Frame {
                    path: path.clone(),
                    loc,
                    entries,
                });
            }
            visit(WalkEntry {
                path,
                loc,
                file_type,
                metadata,
                target,
                dir_error,
            });
        }
        Ok(())
    }
}
