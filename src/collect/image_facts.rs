//! What the image is made of: table, partitions, filesystems, root and
//! mounts. Shared by `inspect` and the telemetry document.

use coldscan_disk::TableKind;
use coldscan_fs::rootfs::PlannedMount;
use coldscan_fs::FsInfo;
use serde::{Deserialize, Serialize};

use crate::image::{Image, Unreadable};

#[derive(Debug, Serialize, Deserialize)]
pub struct ImageFacts {
    pub path: String,
    pub size: u64,
    /// SHA-256 of the whole image, when asked for (it reads every byte).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub partition_table: TableKind,
    pub partitions: Vec<PartitionFacts>,
    /// Partition holding the system root (0: a whole-disk filesystem).
    pub root_partition: Option<u32>,
    /// Filesystems attached, from `/`.
    pub mounts: Vec<MountFacts>,
    /// Each fstab line and what became of it.
    pub mount_plan: Vec<PlannedMount>,
    /// What could not be read while opening the image, and why.
    pub unreadable: Vec<Unreadable>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PartitionFacts {
    pub index: u32,
    pub start: u64,
    pub size: u64,
    #[serde(rename = "type")]
    pub part_type: String,
    pub name: String,
    pub partuuid: Option<String>,
    pub bootable: bool,
    pub container: bool,
    /// What the superblock magic says the volume holds.
    pub detected: Option<String>,
    /// Facts read from the filesystem, when it could be opened.
    pub filesystem: Option<FsInfo>,
    pub root: bool,
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MountFacts {
    pub mount_point: String,
    pub partition: u32,
}

impl ImageFacts {
    pub fn of(image: &Image) -> ImageFacts {
        let partitions = image
            .partitions
            .iter()
            .map(|s| {
                let p = &s.partition;
                PartitionFacts {
                    index: p.index,
                    start: p.start,
                    size: p.size,
                    part_type: p.part_type.describe(),
                    name: p.name.clone(),
                    partuuid: p.partuuid.clone(),
                    bootable: p.bootable,
                    container: p.container,
                    detected: p.filesystem.map(|k| k.name().to_string()),
                    filesystem: s.fs.as_ref().map(|fs| fs.info().clone()),
                    root: image.root_partition == Some(p.index),
                    problems: p.problems.clone(),
                }
            })
            .collect();
        let mounts = image
            .rootfs
            .as_ref()
            .map(|r| {
                r.mounts()
                    .iter()
                    .map(|m| MountFacts {
                        mount_point: m.mount_point.clone(),
                        partition: m.partition,
                    })
                    .collect()
            })
            .unwrap_or_default();
        ImageFacts {
            path: image.path.display().to_string(),
            size: image.size,
            sha256: None,
            partition_table: image.table.table.clone(),
            partitions,
            root_partition: image.root_partition,
            mounts,
            mount_plan: image.mount_plan.clone(),
            unreadable: image.unreadable.clone(),
        }
    }
}
