//! DOS/MBR partition tables, including the chain of extended boot records
//! (EBRs) that holds logical partitions.
//!
//! Written here rather than with `mbrman` because we need positional `&self`
//! reads, a hard bound and cycle detection on the EBR chain of a hostile
//! image, and a list of problems instead of an all-or-nothing error.

use std::collections::HashSet;

use crate::table::{Partition, PartitionType};
use crate::{DiskError, ReadAt};

const SECTOR: u64 = 512;
/// Linux stops at a few hundred logicals; a longer chain is hostile.
const MAX_LOGICAL: usize = 128;

pub(crate) struct Found {
    pub signature: u32,
    pub partitions: Vec<Partition>,
}

struct Entry {
    status: u8,
    kind: u8,
    lba_start: u32,
    sectors: u32,
}

fn entries(sector: &[u8; 512]) -> [Entry; 4] {
    std::array::from_fn(|i| {
        let e = &sector[446 + i * 16..446 + (i + 1) * 16];
        Entry {
            status: e[0],
            kind: e[4],
            lba_start: u32::from_le_bytes([e[8], e[9], e[10], e[11]]),
            sectors: u32::from_le_bytes([e[12], e[13], e[14], e[15]]),
        }
    })
}

fn has_boot_signature(sector: &[u8; 512]) -> bool {
    sector[510] == 0x55 && sector[511] == 0xaa
}

fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0f | 0x85)
}

/// True when sector 0 is a protective MBR for a GPT disk.
pub(crate) fn has_protective_entry(sector0: &[u8; 512]) -> bool {
    has_boot_signature(sector0) && entries(sector0).iter().any(|e| e.kind == 0xee)
}

/// Reads the MBR in `sector0`; `Ok(None)` when it is not an MBR at all.
pub(crate) fn read(
    disk: &dyn ReadAt,
    sector0: &[u8; 512],
    problems: &mut Vec<String>,
) -> Result<Option<Found>, DiskError> {
    if !has_boot_signature(sector0) {
        return Ok(None);
    }
    let table = entries(sector0);
    // Boot flags other than 0x00/0x80 mean this is boot code, not a table.
    if table.iter().any(|e| e.status != 0 && e.status != 0x80) {
        return Ok(None);
    }
    let signature = u32::from_le_bytes([sector0[440], sector0[441], sector0[442], sector0[443]]);
    let partuuid = |n: u32| Some(format!("{signature:08x}-{n:02x}"));
    let mut partitions = Vec::new();
    let mut extended = None;
    for (i, e) in table.iter().enumerate() {
        if e.kind == 0 || e.sectors == 0 {
            continue;
        }
        let index = i as u32 + 1;
        let container = is_extended(e.kind);
        if container {
            if extended.is_some() {
                problems.push(format!(
                    "MBR entry {index}: a second extended partition is ignored"
                ));
            } else {
                extended = Some((e.lba_start as u64, e.sectors as u64));
            }
        }
        partitions.push(Partition {
            index,
            start: e.lba_start as u64 * SECTOR,
            size: e.sectors as u64 * SECTOR,
            part_type: PartitionType::Mbr {
                mbr_type: format!("0x{:02x}", e.kind),
            },
            name: String::new(),
            partuuid: partuuid(index),
            bootable: e.status == 0x80,
            container,
            filesystem: None,
            problems: Vec::new(),
        });
    }
    if let Some((ext_start, ext_len)) = extended {
        read_logicals(
            disk,
            ext_start,
            ext_len,
            signature,
            &mut partitions,
            problems,
        )?;
    }
    Ok(Some(Found {
        signature,
        partitions,
    }))
}

/// Follows the EBR chain inside the extended partition at `ext_start`.
/// Each EBR's first entry is a logical partition relative to that EBR; its
/// second entry links to the next EBR, relative to the extended partition.
fn read_logicals(
    disk: &dyn ReadAt,
    ext_start: u64,
    ext_len: u64,
    signature: u32,
    partitions: &mut Vec<Partition>,
    problems: &mut Vec<String>,
) -> Result<(), DiskError> {
    let mut seen = HashSet::new();
    let mut ebr_lba = ext_start;
    let mut index = 5u32;
    loop {
        if !seen.insert(ebr_lba) {
            problems.push(format!(
                "extended partition: EBR chain loops back to sector {ebr_lba}; stopped there"
            ));
            return Ok(());
        }
        if seen.len() > MAX_LOGICAL {
            problems.push(format!(
                "extended partition: more than {MAX_LOGICAL} logical partitions; stopped there"
            ));
            return Ok(());
        }
        let mut sector = [0u8; 512];
        if let Err(e) = disk.read_exact_at(ebr_lba * SECTOR, &mut sector) {
            problems.push(format!(
                "extended partition: EBR at sector {ebr_lba} unreadable: {e}"
            ));
            return Ok(());
        }
        if !has_boot_signature(&sector) {
            problems.push(format!(
                "extended partition: EBR at sector {ebr_lba} has no 0x55AA signature; chain ends"
            ));
            return Ok(());
        }
        let [logical, next, ..] = entries(&sector);
        if logical.kind != 0 && logical.sectors != 0 {
            let start = ebr_lba + logical.lba_start as u64;
            let mut p = Partition {
                index,
                start: start * SECTOR,
                size: logical.sectors as u64 * SECTOR,
                part_type: PartitionType::Mbr {
                    mbr_type: format!("0x{:02x}", logical.kind),
                },
                name: String::new(),
                partuuid: Some(format!("{signature:08x}-{index:02x}")),
                bootable: logical.status == 0x80,
                container: false,
                filesystem: None,
                problems: Vec::new(),
            };
            if start + logical.sectors as u64 > ext_start + ext_len {
                p.problems
                    .push("logical partition extends past its extended partition".to_string());
            }
            partitions.push(p);
            index += 1;
        }
        if !is_extended(next.kind) || next.sectors == 0 {
            return Ok(());
        }
        let next_lba = ext_start + next.lba_start as u64;
        if next_lba >= ext_start + ext_len {
            problems.push(format!(
                "extended partition: next EBR at sector {next_lba} lies outside the extended partition; chain ends"
            ));
            return Ok(());
        }
        ebr_lba = next_lba;
    }
}
