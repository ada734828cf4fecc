//! GUID partition tables: primary header at LBA 1, backup at the last LBA,
//! 512- or 4096-byte logical sectors, CRC32 over header and entry array.
//!
//! Written here rather than with `gptman` because we need positional `&self`
//! reads, a bound on entry counts from a hostile header before anything is
//! allocated, and to say which header was used and why.

use crate::table::{Partition, PartitionType};
use crate::{DiskError, Guid, ReadAt};

/// Entry arrays larger than this are refused (the usual one is 16 KiB).
const MAX_ENTRY_ARRAY: u64 = 1 << 20;

pub(crate) struct Found {
    pub disk_guid: Guid,
    pub sector_size: u32,
    pub header_used: &'static str,
    pub partitions: Vec<Partition>,
}

struct Header {
    alternate_lba: u64,
    disk_guid: Guid,
    entries_lba: u64,
    num_entries: u32,
    entry_size: u32,
    entries_crc: u32,
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// Parses and checks the header at `lba`; `Err` says what is wrong with it.
fn read_header(disk: &dyn ReadAt, sector_size: u64, lba: u64) -> Result<Header, String> {
    let mut buf = vec![0u8; sector_size as usize];
    let offset = lba
        .checked_mul(sector_size)
        .ok_or_else(|| "header LBA overflows".to_string())?;
    disk.read_exact_at(offset, &mut buf)
        .map_err(|e| format!("unreadable: {e}"))?;
    if &buf[0..8] != b"EFI PART" {
        return Err("no \"EFI PART\" signature".to_string());
    }
    let header_size = le_u32(&buf, 12) as u64;
    if !(92..=sector_size).contains(&header_size) {
        return Err(format!("header size {header_size} out of range"));
    }
    let stored_crc = le_u32(&buf, 16);
    let mut check = buf[..header_size as usize].to_vec();
    check[16..20].fill(0);
    let crc = crc32fast::hash(&check);
    if crc != stored_crc {
        return Err(format!(
            "header CRC32 mismatch (stored {stored_crc:08x}, computed {crc:08x})"
        ));
    }
    let my_lba = le_u64(&buf, 24);
    if my_lba != lba {
        return Err(format!(
            "header says it is at LBA {my_lba}, found at LBA {lba}"
        ));
    }
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&buf[56..72]);
    let header = Header {
        alternate_lba: le_u64(&buf, 32),
        disk_guid: Guid(guid),
        entries_lba: le_u64(&buf, 72),
        num_entries: le_u32(&buf, 80),
        entry_size: le_u32(&buf, 84),
        entries_crc: le_u32(&buf, 88),
    };
    if header.entry_size < 128 || header.entry_size % 8 != 0 || header.entry_size > 4096 {
        return Err(format!("entry size {} invalid", header.entry_size));
    }
    let array = header.num_entries as u64 * header.entry_size as u64;
    if array > MAX_ENTRY_ARRAY {
        return Err(format!(
            "{} entries of {} bytes exceed the {MAX_ENTRY_ARRAY}-byte bound",
            header.num_entries, header.entry_size
        ));
    }
    Ok(header)
}

/// Reads the entry array of `header` and checks its CRC.
fn read_entries(
    disk: &dyn ReadAt,
    sector_size: u64,
    header: &Header,
) -> Result<Vec<Partition>, String> {
    let len = header.num_entries as usize * header.entry_size as usize;
    let mut buf = vec![0u8; len];
    let offset = header
        .entries_lba
        .checked_mul(sector_size)
        .ok_or_else(|| "entry array LBA overflows".to_string())?;
    disk.read_exact_at(offset, &mut buf)
        .map_err(|e| format!("entry array unreadable: {e}"))?;
    let crc = crc32fast::hash(&buf);
    if crc != header.entries_crc {
        return Err(format!(
            "entry array CRC32 mismatch (stored {:08x}, computed {crc:08x})",
            header.entries_crc
        ));
    }
    let mut partitions = Vec::new();
    for (i, e) in buf.chunks_exact(header.entry_size as usize).enumerate() {
        let mut type_guid = [0u8; 16];
        type_guid.copy_from_slice(&e[0..16]);
        if type_guid == [0; 16] {
            continue;
        }
        let mut unique = [0u8; 16];
        unique.copy_from_slice(&e[16..32]);
        let first = le_u64(e, 32);
        let last = le_u64(e, 40);
        let attrs = le_u64(e, 48);
        let name_units: Vec<u16> = e[56..128]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        let mut problems = Vec::new();
        let (start, size) = if last < first {
            problems.push(format!("last LBA {last} before first LBA {first}"));
            (first.saturating_mul(sector_size), 0)
        } else {
            (
                first.saturating_mul(sector_size),
                (last - first + 1).saturating_mul(sector_size),
            )
        };
        partitions.push(Partition {
            index: i as u32 + 1,
            start,
            size,
            part_type: PartitionType::Gpt {
                gpt_type: Guid(type_guid),
            },
            name: String::from_utf16_lossy(&name_units),
            partuuid: Some(Guid(unique).to_string()),
            // Bit 2: legacy BIOS bootable.
            bootable: attrs & 0b100 != 0,
            container: false,
            filesystem: None,
            problems,
        });
    }
    Ok(partitions)
}

/// Looks for a GPT with 512- then 4096-byte sectors. Returns `Ok(None)` when
/// there is no GPT signature at all. A damaged primary falls back to the
/// backup header; the reason is added to `problems`.
pub(crate) fn read(
    disk: &dyn ReadAt,
    protective_mbr: bool,
    problems: &mut Vec<String>,
) -> Result<Option<Found>, DiskError> {
    let size = disk.size();
    let mut primary_errors = Vec::new();
    for sector_size in [512u64, 4096] {
        if size < sector_size * 3 {
            continue;
        }
        let last_lba = size / sector_size - 1;
        let primary = read_header(disk, sector_size, 1)
            .and_then(|h| read_entries(disk, sector_size, &h).map(|p| (h, p)));
        let primary_err = match primary {
            Ok((h, partitions)) => {
                if !protective_mbr {
                    problems.push("GPT found but sector 0 has no protective MBR entry".into());
                }
                // Check the backup too, so a damaged backup is reported.
                let backup_lba = if h.alternate_lba != 0 && h.alternate_lba <= last_lba {
                    h.alternate_lba
                } else {
                    last_lba
                };
                if let Err(e) = read_header(disk, sector_size, backup_lba) {
                    problems.push(format!("backup GPT header at LBA {backup_lba}: {e}"));
                }
                return Ok(Some(Found {
                    disk_guid: h.disk_guid,
                    sector_size: sector_size as u32,
                    header_used: "primary",
                    partitions,
                }));
            }
            Err(e) => e,
        };
        // The primary is unusable; a backup is only trusted at the last LBA
        // (where the spec puts it), found with this same sector size.
        match read_header(disk, sector_size, last_lba)
            .and_then(|h| read_entries(disk, sector_size, &h).map(|p| (h, p)))
        {
            Ok((h, partitions)) => {
                problems.push(format!(
                    "primary GPT header (sector size {sector_size}): {primary_err}; used the backup header at LBA {last_lba}"
                ));
                return Ok(Some(Found {
                    disk_guid: h.disk_guid,
                    sector_size: sector_size as u32,
                    header_used: "backup",
                    partitions,
                }));
            }
            Err(backup_err) => {
                primary_errors.push((sector_size, primary_err, backup_err));
            }
        }
    }
    // Only report a broken GPT when there was a GPT signature somewhere.
    let signature_seen = primary_errors
        .iter()
        .any(|(_, p, b)| !p.starts_with("no \"EFI PART\"") || !b.starts_with("no \"EFI PART\""));
    if signature_seen {
        for (ss, p, b) in primary_errors {
            if !p.starts_with("no \"EFI PART\"") || !b.starts_with("no \"EFI PART\"") {
                problems.push(format!(
                    "GPT with {ss}-byte sectors unusable: primary: {p}; backup: {b}"
                ));
            }
        }
        if protective_mbr {
            return Err(DiskError::corrupt(
                "GPT",
                format!(
                    "both primary and backup headers are damaged: {}",
                    problems.join("; ")
                ),
            ));
        }
    }
    Ok(None)
}
