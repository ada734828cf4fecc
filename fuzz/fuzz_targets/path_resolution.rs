//! Path resolution and tree walking over an arbitrary in-memory tree:
//! directories that contain themselves or their ancestors, symlink loops,
//! targets full of `..`, mounts in odd places. Every lookup must end (ELOOP
//! after 40 links), never leave the tree, and never panic.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use coldscan_fs::rootfs::{Mount, RootFs, WalkOptions};
use coldscan_fs::{DirEntry, FileSystem, FileType, FsError, FsInfo, Metadata, NodeId};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Node {
    Dir(Vec<(Vec<u8>, u8)>),
    Symlink(Vec<u8>),
    File(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    nodes: Vec<Node>,
    /// (mount point, root node) for extra mounts over the same node set.
    mounts: Vec<(Vec<u8>, u8)>,
    paths: Vec<(Vec<u8>, bool)>,
}

struct MemFs {
    nodes: Vec<Node>,
    root: NodeId,
    info: FsInfo,
}

impl MemFs {
    fn node(&self, n: NodeId) -> Result<&Node, FsError> {
        self.nodes
            .get(n as usize)
            .ok_or_else(|| FsError::corrupt("node", format!("{n} out of range")))
    }
}

impl FileSystem for MemFs {
    fn info(&self) -> &FsInfo {
        &self.info
    }
    fn root(&self) -> NodeId {
        self.root
    }
    fn metadata(&self, node: NodeId) -> Result<Metadata, FsError> {
        let (file_type, size) = match self.node(node)? {
            Node::Dir(e) => (FileType::Dir, e.len() as u64),
            Node::Symlink(t) => (FileType::Symlink, t.len() as u64),
            Node::File(d) => (FileType::File, d.len() as u64),
        };
        Ok(Metadata {
            node,
            file_type,
            mode: Some(0o755),
            uid: Some(0),
            gid: Some(0),
            size,
            mtime: None,
            nlink: 1,
        })
    }
    fn read_dir(&self, node: NodeId) -> Result<Vec<DirEntry>, FsError> {
        match self.node(node)? {
            Node::Dir(entries) => Ok(entries
                .iter()
                .filter(|(name, _)| !name.is_empty() && !name.contains(&b'/'))
                .map(|(name, child)| DirEntry {
                    name: name.clone(),
                    node: *child as NodeId,
                    file_type: FileType::Unknown,
                })
                .collect()),
            _ => Err(FsError::NotADirectory(format!("node {node}"))),
        }
    }
    fn read_at(&self, node: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        match self.node(node)? {
            Node::File(d) => {
                let start = (offset as usize).min(d.len());
                let n = buf.len().min(d.len() - start);
                buf[..n].copy_from_slice(&d[start..start + n]);
                Ok(n)
            }
            _ => Ok(0),
        }
    }
    fn read_link(&self, node: NodeId) -> Result<Vec<u8>, FsError> {
        match self.node(node)? {
            Node::Symlink(t) => Ok(t.clone()),
            _ => Err(FsError::NotASymlink(format!("node {node}"))),
        }
    }
}

fuzz_target!(|input: Input| {
    if input.nodes.is_empty() || input.nodes.len() > 64 {
        return;
    }
    let nodes = Arc::new(input.nodes);
    let fs = |root: u8| -> Arc<dyn FileSystem> {
        Arc::new(MemFs {
            nodes: Arc::try_unwrap(nodes.clone()).unwrap_or_else(|a| {
                a.iter()
                    .map(|n| match n {
                        Node::Dir(e) => Node::Dir(e.clone()),
                        Node::Symlink(t) => Node::Symlink(t.clone()),
                        Node::File(d) => Node::File(d.clone()),
                    })
                    .collect()
            }),
            root: root as NodeId,
            info: FsInfo::default(),
        })
    };
    let mut mounts = vec![Mount::new("/", fs(0), 1)];
    for (point, root) in input.mounts.iter().take(4) {
        if point.first() == Some(&b'/') {
            let p = String::from_utf8_lossy(point);
            mounts.push(Mount::new(&p, fs(*root), 2));
        }
    }
    let Ok(rootfs) = RootFs::new(mounts) else {
        return;
    };
    for (path, follow) in input.paths.iter().take(8) {
        if let Ok(r) = rootfs.resolve(path, *follow) {
            assert!(r.path.starts_with(b"/"));
            assert!(!r.path.windows(3).any(|w| w == b"/.."));
        }
        let _ = rootfs.read_file(path, 1 << 16);
    }
    let mut count = 0usize;
    let _ = rootfs.walk(
        b"/",
        WalkOptions {
            recursive: true,
            metadata: true,
        },
        &mut |_| count += 1,
    );
    // Each directory is listed once: at most nodes × entries entries.
    assert!(count <= 64 * 256 * 5);
});
