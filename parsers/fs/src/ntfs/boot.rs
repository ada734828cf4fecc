//! Our own checks of the NTFS boot sector, made before the `ntfs` crate sees
//! it, and the volume geometry every other part of the reader uses.
//!
//! The crate accepts any positive "clusters per file record" count, so a
//! hostile boot sector could make it allocate up to 254 MiB for each file
//! record it reads. We bound the record size (512..=4096 bytes, a power of
//! two) before handing the volume to the crate.

use coldscan_disk::ReadAt;

use super::bytes::{u16_at, u64_at, u8_at};
use crate::error::{FsError, Result};

/// Layout facts from the boot sector, all validated.
#[derive(Debug, Clone, Copy)]
pub(super) struct Geometry {
    pub(super) cluster_size: u64,
    /// Size of one MFT (file) record in bytes.
    pub(super) record_size: usize,
    /// Size of the volume according to the boot sector, in bytes.
    pub(super) size: u64,
    /// Number of clusters of the volume; every cluster a data run names is
    /// below this.
    pub(super) total_clusters: u64,
    pub(super) mft_lcn: u64,
    pub(super) mft_mirror_lcn: u64,
    pub(super) serial_number: u64,
}

const MIN_RECORD_SIZE: usize = 512;
const MAX_RECORD_SIZE: usize = 4096;
/// Windows supports clusters up to 2 MiB.
const MAX_CLUSTER_SIZE: u64 = 2 * 1024 * 1024;

fn corrupt(detail: impl Into<String>) -> FsError {
    FsError::corrupt("NTFS boot sector", detail)
}

pub(super) fn read_geometry(volume: &dyn ReadAt) -> Result<Geometry> {
    let mut bs = [0u8; 512];
    let have = volume.size();
    if have < bs.len() as u64 {
        return Err(corrupt(format!(
            "the volume is only {have} bytes, smaller than one boot sector"
        )));
    }
    volume
        .read_exact_at(0, &mut bs)
        .map_err(|source| FsError::Io {
            offset: 0,
            len: bs.len(),
            source,
        })?;
    parse(&bs)
}

fn parse(bs: &[u8; 512]) -> Result<Geometry> {
    if &bs[3..11] != b"NTFS    " {
        return Err(corrupt("OEM id at byte 3 is not \"NTFS    \""));
    }
    if bs[510..512] != [0x55, 0xAA] {
        return Err(corrupt("signature 55 AA missing at byte 510"));
    }
    let sector_size = u64::from(u16_at(bs, 0x0B));
    if !(512..=4096).contains(&sector_size) || !sector_size.is_power_of_two() {
        return Err(corrupt(format!("bytes per sector {sector_size}")));
    }
    let spc_raw = u8_at(bs, 0x0D);
    let sectors_per_cluster: u64 = if spc_raw > 0x80 {
        // Large clusters: the field is a negated binary exponent.
        let exp = u32::from(spc_raw.wrapping_neg());
        if exp > 12 {
            return Err(corrupt(format!("sectors per cluster field {spc_raw:#x}")));
        }
        1u64 << exp
    } else if spc_raw == 0 || !spc_raw.is_power_of_two() {
        return Err(corrupt(format!("sectors per cluster {spc_raw}")));
    } else {
        u64::from(spc_raw)
    };
    let cluster_size = sectors_per_cluster * sector_size;
    if cluster_size > MAX_CLUSTER_SIZE {
        return Err(corrupt(format!("cluster size {cluster_size}")));
    }
    let total_sectors = u64_at(bs, 0x28);
    let size = total_sectors
        .checked_mul(sector_size)
        .ok_or_else(|| corrupt(format!("total sectors {total_sectors} overflow")))?;
    let total_clusters = size / cluster_size;
    if total_clusters < 16 {
        return Err(corrupt(format!(
            "volume of {total_clusters} clusters is too small"
        )));
    }
    let record_size = record_size(u8_at(bs, 0x40) as i8, cluster_size)
        .ok_or_else(|| corrupt(format!("file record size field {}", u8_at(bs, 0x40) as i8)))?;
    let mft_lcn = u64_at(bs, 0x30);
    let mft_mirror_lcn = u64_at(bs, 0x38);
    for (what, lcn) in [("MFT", mft_lcn), ("MFT mirror", mft_mirror_lcn)] {
        if lcn == 0 || lcn >= total_clusters {
            return Err(corrupt(format!(
                "{what} cluster {lcn} outside the volume of {total_clusters} clusters"
            )));
        }
    }
    Ok(Geometry {
        cluster_size,
        record_size,
        size,
        total_clusters,
        mft_lcn,
        mft_mirror_lcn,
        serial_number: u64_at(bs, 0x48),
    })
}

/// The record size field is a cluster count when positive, else the negated
/// binary exponent of a byte count.
fn record_size(field: i8, cluster_size: u64) -> Option<usize> {
    let size = if field > 0 {
        cluster_size.checked_mul(field as u64)?
    } else {
        let exp = u32::from(field.unsigned_abs());
        if exp >= 32 {
            return None;
        }
        1u64 << exp
    };
    let size = usize::try_from(size).ok()?;
    ((MIN_RECORD_SIZE..=MAX_RECORD_SIZE).contains(&size) && size.is_power_of_two()).then_some(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot() -> [u8; 512] {
        let mut b = [0u8; 512];
        b[3..11].copy_from_slice(b"NTFS    ");
        b[0x0B..0x0D].copy_from_slice(&512u16.to_le_bytes());
        b[0x0D] = 8;
        b[0x28..0x30].copy_from_slice(&131_071u64.to_le_bytes());
        b[0x30..0x38].copy_from_slice(&4u64.to_le_bytes());
        b[0x38..0x40].copy_from_slice(&8000u64.to_le_bytes());
        b[0x40] = (-10i8) as u8;
        b[0x48..0x50].copy_from_slice(&0x1234u64.to_le_bytes());
        b[510] = 0x55;
        b[511] = 0xAA;
        b
    }

    #[test]
    fn parses_a_normal_boot_sector() {
        let g = parse(&boot()).unwrap();
        assert_eq!(g.cluster_size, 4096);
        assert_eq!(g.record_size, 1024);
        assert_eq!(g.total_clusters, 131_071 * 512 / 4096);
        assert_eq!(g.serial_number, 0x1234);
    }

    #[test]
    fn refuses_huge_records_and_bad_fields() {
        let mut b = boot();
        b[0x40] = 127; // 127 clusters per record
        assert!(parse(&b).is_err());
        let mut b = boot();
        b[0x0D] = 3;
        assert!(parse(&b).is_err());
        let mut b = boot();
        b[0x0D] = 0xF0; // 2^16 sectors per cluster
        assert!(parse(&b).is_err());
        let mut b = boot();
        b[0x30..0x38].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse(&b).is_err());
        let mut b = boot();
        b[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse(&b).is_err());
        assert!(parse(&[0u8; 512]).is_err());
    }
}
