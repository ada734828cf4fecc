//! Opening an image: partition table, one filesystem per volume, the root
//! volume with its fstab mounts, and a ledger of everything that could not
//! be read and why. The image file is opened read-only and never written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use coldscan_disk::{
    read_partition_table, CountingSource, FileSource, FsKind, Partition, PartitionTable, ReadAt,
    ReadCounter, Slice,
};
use coldscan_fs::rootfs::{assemble, PlannedMount, Volume};
use coldscan_fs::{open_filesystem, FileSystem, FsInfo, RootFs};
use serde::{Deserialize, Serialize};

/// A failure that stops work on an image. Its message names the image and
/// the structure that failed.
#[derive(Debug, thiserror::Error)]
#[error("{image}: {detail}")]
pub struct ImageError {
    pub image: String,
    pub detail: String,
}

/// Something the scan could not read, and why: nothing is skipped silently.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unreadable {
    /// What was not read, e.g. `partition 3` or `/etc/fstab`.
    pub what: String,
    pub reason: String,
}

/// One partition with the outcome of opening its filesystem.
pub struct PartitionState {
    pub partition: Partition,
    pub fs: Option<Arc<dyn FileSystem>>,
}

/// An opened image.
pub struct Image {
    pub path: PathBuf,
    pub size: u64,
    pub table: PartitionTable,
    pub partitions: Vec<PartitionState>,
    /// The machine's tree; `None` if no volume could serve as root.
    pub rootfs: Option<RootFs>,
    pub root_partition: Option<u32>,
    pub mount_plan: Vec<PlannedMount>,
    pub unreadable: Vec<Unreadable>,
    counter: Arc<ReadCounter>,
}

impl Image {
    /// Opens `path` read-only and assembles what it holds. Errors only when
    /// the file cannot be opened or holds no partition table or filesystem
    /// at all; problems with single partitions go to [`Image::unreadable`].
    pub fn open(path: &Path) -> Result<Image, ImageError> {
        let err = |detail: String| ImageError {
            image: path.display().to_string(),
            detail,
        };
        let file = FileSource::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
        let counting = CountingSource::new(file);
        let counter = counting.counter();
        let disk: Arc<dyn ReadAt> = Arc::new(counting);
        let size = disk.size();
        let table = read_partition_table(&*disk).map_err(|e| {
            let mut detail = e.to_string();
            if let Some(hint) = backup_superblock_hint(&*disk) {
                detail.push_str("; ");
                detail.push_str(&hint);
            }
            err(detail)
        })?;

        let mut unreadable: Vec<Unreadable> = table
            .problems
            .iter()
            .map(|p| Unreadable {
                what: "partition table".into(),
                reason: p.clone(),
            })
            .collect();
        let mut partitions = Vec::new();
        let mut volumes = Vec::new();
        for p in &table.partitions {
            let what = partition_name(p);
            for problem in &p.problems {
                unreadable.push(Unreadable {
                    what: what.clone(),
                    reason: problem.clone(),
                });
            }
            let fs = match (p.container, p.filesystem) {
                (true, _) => None,
                (false, None) => {
                    unreadable.push(Unreadable {
                        what: what.clone(),
                        reason: "lies outside the image: nothing could be read".into(),
                    });
                    None
                }
                (false, Some(kind @ (FsKind::Empty | FsKind::Unknown))) => {
                    unreadable.push(Unreadable {
                        what: what.clone(),
                        reason: match kind {
                            FsKind::Empty => "no filesystem: the first 68 KiB are zero".into(),
                            _ => {
                                let mut r =
                                    "no known filesystem signature (unknown data)".to_string();
                                let vol = Slice::new(disk.clone(), p.start, p.size);
                                if let Some(hint) = backup_superblock_hint(&vol) {
                                    r.push_str("; ");
                                    r.push_str(&hint);
                                }
                                r
                            }
                        },
                    });
                    None
                }
                (false, Some(kind)) => {
                    let vol: Arc<dyn ReadAt> = Arc::new(Slice::new(disk.clone(), p.start, p.size));
                    match open_filesystem(vol, kind) {
                        Ok(fs) => {
                            for problem in &fs.info().problems {
                                unreadable.push(Unreadable {
                                    what: format!("{what} ({})", kind.name()),
                                    reason: problem.clone(),
                                });
                            }
                            volumes.push(Volume {
                                partition: p.index,
                                partuuid: p.partuuid.clone(),
                                partlabel: (!p.name.is_empty()).then(|| p.name.clone()),
                                fs: fs.clone(),
                            });
                            Some(fs)
                        }
                        Err(e) => {
                            unreadable.push(Unreadable {
                                what: format!("{what} ({})", kind.name()),
                                reason: e.to_string(),
                            });
                            None
                        }
                    }
                }
            };
            partitions.push(PartitionState {
                partition: p.clone(),
                fs,
            });
        }

        let assembly = if volumes.is_empty() {
            None
        } else {
            Some(assemble(&volumes))
        };
        let (rootfs, root_partition, mount_plan) = match assembly {
            Some(a) => {
                for p in a.problems {
                    unreadable.push(Unreadable {
                        what: "root filesystem".into(),
                        reason: p,
                    });
                }
                for m in &a.plan {
                    if let coldscan_fs::rootfs::MountStatus::NotFound { reason } = &m.status {
                        unreadable.push(Unreadable {
                            what: format!(
                                "/etc/fstab line {} ({} on {})",
                                m.entry.line, m.entry.spec, m.entry.mount_point
                            ),
                            reason: reason.clone(),
                        });
                    }
                }
                (a.rootfs, a.root_partition, a.plan)
            }
            None => (None, None, Vec::new()),
        };
        Ok(Image {
            path: path.to_path_buf(),
            size,
            table,
            partitions,
            rootfs,
            root_partition,
            mount_plan,
            unreadable,
            counter,
        })
    }

    /// SHA-256 of the whole image file, read in 1 MiB chunks.
    pub fn sha256(&self) -> std::io::Result<String> {
        use sha2::{Digest, Sha256};
        let file = FileSource::open(&self.path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut offset = 0u64;
        loop {
            let n = file.read_at(offset, &mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            offset += n as u64;
        }
        Ok(crate::escape::hex(&hasher.finalize()))
    }

    /// Bytes read from the image file so far.
    pub fn bytes_read(&self) -> u64 {
        self.counter.bytes()
    }

    /// The machine's tree, or an error saying why there is none.
    pub fn rootfs(&self) -> Result<&RootFs, ImageError> {
        self.rootfs.as_ref().ok_or_else(|| {
            let reasons: Vec<String> = self
                .unreadable
                .iter()
                .map(|u| format!("{}: {}", u.what, u.reason))
                .collect();
            ImageError {
                image: self.path.display().to_string(),
                detail: if reasons.is_empty() {
                    "no readable filesystem".to_string()
                } else {
                    format!("no readable filesystem: {}", reasons.join("; "))
                },
            }
        })
    }

    /// Filesystem facts for a partition, if it was opened.
    pub fn fs_info(&self, index: u32) -> Option<&FsInfo> {
        self.partitions
            .iter()
            .find(|p| p.partition.index == index)
            .and_then(|p| p.fs.as_ref())
            .map(|fs| fs.info())
    }
}

/// How a partition is named in messages.
pub fn partition_name(p: &Partition) -> String {
    if p.index == 0 {
        "whole-disk volume".to_string()
    } else {
        format!("partition {}", p.index)
    }
}

/// When no ext superblock is at byte 1024, look where mke2fs puts the first
/// backup (group 1) for 1, 2 and 4 KiB blocks, so the user learns that the
/// primary was destroyed and that e2fsck can recover from the backup.
fn backup_superblock_hint(vol: &dyn ReadAt) -> Option<String> {
    for (block_size, block) in [(1024u64, 8193u64), (2048, 16384), (4096, 32768)] {
        let at = block * block_size;
        let mut magic = [0u8; 2];
        if vol.read_exact_at(at + 56, &mut magic).is_ok() && magic == [0x53, 0xef] {
            return Some(format!(
                "an ext2/3/4 backup superblock exists at byte {at} (block {block} of {block_size} bytes): the primary superblock is damaged; `e2fsck -b {block} -B {block_size}` on a copy can repair it"
            ));
        }
    }
    None
}
