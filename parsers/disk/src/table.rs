//! The partition table of a disk image, whatever its kind.

use serde::{Deserialize, Serialize};

use crate::probe::{probe_filesystem, FsKind};
use crate::{gpt, mbr, DiskError, Guid, ReadAt};

/// Which kind of table was found, with its identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TableKind {
    /// GUID partition table.
    Gpt {
        disk_guid: Guid,
        sector_size: u32,
        /// `primary` or `backup`: which header the entries were taken from.
        header_used: String,
    },
    /// DOS/MBR table, possibly with an extended partition chain.
    Mbr { disk_signature: String },
    /// No partition table: the image is one bare filesystem (or unknown data).
    None,
}

/// The type of a partition as its table records it. Filesystems are never
/// inferred from this: see [`Partition::filesystem`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PartitionType {
    Mbr { mbr_type: String },
    Gpt { gpt_type: Guid },
    Whole { whole_disk: bool },
}

impl PartitionType {
    /// A short human description of the type code, where it is well known.
    pub fn describe(&self) -> String {
        match self {
            PartitionType::Mbr { mbr_type } => {
                let name = match u8::from_str_radix(mbr_type.trim_start_matches("0x"), 16) {
                    Ok(0x83) => "Linux",
                    Ok(0x82) => "Linux swap",
                    Ok(0x8e) => "Linux LVM",
                    Ok(0xfd) => "Linux RAID",
                    Ok(0x07) => "NTFS/exFAT/HPFS",
                    Ok(0x0b) | Ok(0x0c) => "FAT32",
                    Ok(0x05) | Ok(0x0f) | Ok(0x85) => "extended",
                    Ok(0xee) => "GPT protective",
                    Ok(0xef) => "EFI system",
                    _ => "other",
                };
                format!("{mbr_type} ({name})")
            }
            PartitionType::Gpt { gpt_type } => {
                let s = gpt_type.to_string();
                let name = match s.as_str() {
                    "0fc63daf-8483-4772-8e79-3d69d8477de4" => "Linux filesystem",
                    "4f68bce3-e8cd-4db1-96e7-fbcaf984b709" => "Linux root (x86-64)",
                    "b921b045-1df0-41c3-af44-4c6f280d3fae" => "Linux root (arm64)",
                    "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f" => "Linux swap",
                    "e6d6d379-f507-44c2-a23c-238f2a3df928" => "Linux LVM",
                    "4d21b016-b534-45c2-a9fb-5c16e091fd2d" => "Linux /var",
                    "933ac7e1-2eb4-4f13-b844-0e14e2aef915" => "Linux /home",
                    "bc13c2ff-59e6-4262-a352-b275fd6f7172" => "Linux extended boot",
                    "c12a7328-f81f-11d2-ba4b-00a0c93ec93b" => "EFI system",
                    "21686148-6449-6e6f-744e-656564454649" => "BIOS boot",
                    "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7" => "Microsoft basic data",
                    "e3c9e316-0b5c-4db8-817d-f92df00215ae" => "Microsoft reserved",
                    "de94bba4-06d1-4d40-a16a-bfd50179d6ac" => "Windows recovery",
                    _ => "other",
                };
                format!("{s} ({name})")
            }
            PartitionType::Whole { .. } => "whole disk".to_string(),
        }
    }
}

/// One partition (or the whole disk when there is no table).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partition {
    /// Linux numbering: GPT entry index + 1; MBR primaries 1–4, logicals from 5;
    /// 0 for a whole disk without a table.
    pub index: u32,
    /// Byte offset of the first byte in the image.
    pub start: u64,
    /// Size in bytes as the table records it.
    pub size: u64,
    #[serde(rename = "type")]
    pub part_type: PartitionType,
    /// GPT partition name; empty for MBR.
    pub name: String,
    /// PARTUUID as Linux reports it (GPT unique GUID, or `SSSSSSSS-PP` for MBR).
    pub partuuid: Option<String>,
    pub bootable: bool,
    /// True for an MBR extended partition: a container, not a volume.
    pub container: bool,
    /// Filesystem identified by its superblock magic (`None` for containers).
    pub filesystem: Option<FsKind>,
    /// Problems with this entry (e.g. it extends past the end of the image).
    pub problems: Vec<String>,
}

/// The table and the partitions found, plus problems that did not stop reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartitionTable {
    pub table: TableKind,
    pub image_size: u64,
    pub partitions: Vec<Partition>,
    pub problems: Vec<String>,
}

/// Reads the partition table of `disk`: GPT (512- or 4096-byte sectors,
/// backup header if the primary is damaged), else a bare filesystem, else MBR.
/// Each partition's filesystem is identified by magic, not by its type code.
pub fn read_partition_table(disk: &dyn ReadAt) -> Result<PartitionTable, DiskError> {
    let image_size = disk.size();
    if image_size < 512 {
        return Err(DiskError::corrupt(
            "disk image",
            format!("only {image_size} bytes: too small to hold a partition table or filesystem"),
        ));
    }
    let mut problems = Vec::new();

    let mut sector0 = [0u8; 512];
    disk.read_exact_at(0, &mut sector0)
        .map_err(|source| DiskError::Io {
            offset: 0,
            len: 512,
            source,
        })?;

    let protective = mbr::has_protective_entry(&sector0);
    if let Some(found) = gpt::read(disk, protective, &mut problems)? {
        let mut partitions = found.partitions;
        finish(disk, &mut partitions);
        return Ok(PartitionTable {
            table: TableKind::Gpt {
                disk_guid: found.disk_guid,
                sector_size: found.sector_size,
                header_used: found.header_used.to_string(),
            },
            image_size,
            partitions,
            problems,
        });
    }
    if protective {
        problems
            .push("protective MBR (type 0xee) present but neither GPT header is valid".to_string());
    }

    // A bare filesystem at offset 0. Checked before MBR because NTFS and FAT
    // boot sectors also end in 0x55AA.
    if let Some(kind) = probe_filesystem(disk) {
        if !matches!(kind, FsKind::Unknown | FsKind::Empty) {
            return Ok(PartitionTable {
                table: TableKind::None,
                image_size,
                partitions: vec![Partition {
                    index: 0,
                    start: 0,
                    size: image_size,
                    part_type: PartitionType::Whole { whole_disk: true },
                    name: String::new(),
                    partuuid: None,
                    bootable: false,
                    container: false,
                    filesystem: Some(kind),
                    problems: Vec::new(),
                }],
                problems,
            });
        }
    }

    if let Some(found) = mbr::read(disk, &sector0, &mut problems)? {
        let mut partitions = found.partitions;
        finish(disk, &mut partitions);
        return Ok(PartitionTable {
            table: TableKind::Mbr {
                disk_signature: format!("{:08x}", found.signature),
            },
            image_size,
            partitions,
            problems,
        });
    }

    Err(DiskError::corrupt(
        "disk image",
        "no GPT, no MBR and no known filesystem signature found: not a disk image",
    ))
}

/// Flags entries outside the image and probes each volume's filesystem.
fn finish(disk: &dyn ReadAt, partitions: &mut [Partition]) {
    let image_size = disk.size();
    for p in partitions.iter_mut() {
        let end = p.start.saturating_add(p.size);
        if p.start >= image_size {
            p.problems.push(format!(
                "starts at byte {} but the image ends at byte {image_size} (truncated image?)",
                p.start
            ));
        } else if end > image_size {
            p.problems.push(format!(
                "ends at byte {end} but the image ends at byte {image_size} (truncated image?)"
            ));
        }
        if !p.container && p.start < image_size {
            let slice = crate::Slice::new(disk, p.start, p.size);
            p.filesystem = probe_filesystem(&slice);
        }
    }
}
