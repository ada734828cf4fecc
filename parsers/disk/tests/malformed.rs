//! Hostile partition tables built in memory: truncated, corrupted, cyclic,
//! huge counts. Each must give a result or an error, never a panic or a hang.

use coldscan_disk::{read_partition_table, MemSource, TableKind};

const SECTOR: usize = 512;

fn mbr_entry(disk: &mut [u8], at: usize, slot: usize, kind: u8, lba: u32, sectors: u32) {
    let o = at + 446 + slot * 16;
    disk[o + 4] = kind;
    disk[o + 8..o + 12].copy_from_slice(&lba.to_le_bytes());
    disk[o + 12..o + 16].copy_from_slice(&sectors.to_le_bytes());
    disk[at + 510] = 0x55;
    disk[at + 511] = 0xaa;
}

/// A GPT disk of `sectors` 512-byte sectors with one partition; the header
/// fields can be overridden by `patch` before CRCs are computed.
fn gpt_disk(sectors: usize, patch: impl Fn(&mut [u8])) -> Vec<u8> {
    let mut d = vec![0u8; sectors * SECTOR];
    mbr_entry(&mut d, 0, 0, 0xee, 1, (sectors - 1) as u32);
    let last = (sectors - 1) as u64;
    let write_header = |d: &mut Vec<u8>, lba: u64, alt: u64, entries_lba: u64| {
        let h = lba as usize * SECTOR;
        d[h..h + 8].copy_from_slice(b"EFI PART");
        d[h + 8..h + 12].copy_from_slice(&0x10000u32.to_le_bytes());
        d[h + 12..h + 16].copy_from_slice(&92u32.to_le_bytes());
        d[h + 24..h + 32].copy_from_slice(&lba.to_le_bytes());
        d[h + 32..h + 40].copy_from_slice(&alt.to_le_bytes());
        d[h + 40..h + 48].copy_from_slice(&34u64.to_le_bytes());
        d[h + 48..h + 56].copy_from_slice(&(last - 33).to_le_bytes());
        d[h + 72..h + 80].copy_from_slice(&entries_lba.to_le_bytes());
        d[h + 80..h + 84].copy_from_slice(&128u32.to_le_bytes());
        d[h + 84..h + 88].copy_from_slice(&128u32.to_le_bytes());
    };
    write_header(&mut d, 1, last, 2);
    write_header(&mut d, last, 1, last - 32);
    // One Linux partition at LBA 34..=40, in both entry arrays.
    for entries in [2usize, sectors - 33] {
        let e = entries * SECTOR;
        d[e..e + 16].copy_from_slice(&[
            0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47,
            0x7d, 0xe4,
        ]);
        d[e + 16] = 1;
        d[e + 32..e + 40].copy_from_slice(&34u64.to_le_bytes());
        d[e + 40..e + 48].copy_from_slice(&40u64.to_le_bytes());
    }
    patch(&mut d);
    for (h, entries) in [
        (SECTOR, 2 * SECTOR),
        ((sectors - 1) * SECTOR, (sectors - 33) * SECTOR),
    ] {
        let n = u32::from_le_bytes(d[h + 80..h + 84].try_into().unwrap()) as usize;
        let size = u32::from_le_bytes(d[h + 84..h + 88].try_into().unwrap()) as usize;
        let len = (n * size).min(d.len() - entries);
        let crc = crc32(&d[entries..entries + len]);
        d[h + 88..h + 92].copy_from_slice(&crc.to_le_bytes());
        d[h + 16..h + 20].fill(0);
        let hcrc = crc32(&d[h..h + 92]);
        d[h + 16..h + 20].copy_from_slice(&hcrc.to_le_bytes());
    }
    d
}

/// Plain CRC-32 (IEEE), bit by bit: test code, speed is irrelevant.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn well_formed_gpt_reads() {
    let d = gpt_disk(128, |_| {});
    let t = read_partition_table(&MemSource::new(d)).unwrap();
    assert!(matches!(
        &t.table,
        TableKind::Gpt { header_used, .. } if header_used == "primary"
    ));
    assert_eq!(t.partitions.len(), 1);
    assert_eq!(t.partitions[0].start, 34 * 512);
    assert_eq!(t.partitions[0].size, 7 * 512);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
}

#[test]
fn huge_entry_count_is_refused_before_allocating() {
    // 2^32-1 entries of 4 KiB would be 16 TiB: both headers claim it.
    let d = gpt_disk(128, |d| {
        for h in [512usize, 127 * 512] {
            d[h + 80..h + 84].copy_from_slice(&u32::MAX.to_le_bytes());
            d[h + 84..h + 88].copy_from_slice(&4096u32.to_le_bytes());
        }
    });
    let err = read_partition_table(&MemSource::new(d)).unwrap_err();
    assert!(err.to_string().contains("exceed"), "{err}");
}

#[test]
fn bad_primary_crc_falls_back_to_backup() {
    let mut d = gpt_disk(128, |_| {});
    d[512 + 16] ^= 0xff;
    let t = read_partition_table(&MemSource::new(d)).unwrap();
    assert!(matches!(
        &t.table,
        TableKind::Gpt { header_used, .. } if header_used == "backup"
    ));
    assert_eq!(t.partitions.len(), 1);
    assert!(
        t.problems.iter().any(|p| p.contains("CRC32")),
        "{:?}",
        t.problems
    );
}

#[test]
fn corrupt_entry_array_is_detected() {
    let mut d = gpt_disk(128, |_| {});
    d[2 * 512 + 40] ^= 1; // primary entries changed after CRC
    let t = read_partition_table(&MemSource::new(d)).unwrap();
    assert!(matches!(
        &t.table,
        TableKind::Gpt { header_used, .. } if header_used == "backup"
    ));
}

#[test]
fn both_headers_bad_is_an_error() {
    let mut d = gpt_disk(128, |_| {});
    d[512 + 16] ^= 0xff;
    d[127 * 512 + 16] ^= 0xff;
    assert!(read_partition_table(&MemSource::new(d)).is_err());
}

#[test]
fn truncated_gpt_disk_does_not_panic() {
    let d = gpt_disk(128, |_| {});
    for len in [
        0,
        1,
        511,
        512,
        513,
        1023,
        1024,
        1100,
        2 * 512,
        17 * 512,
        34 * 512,
        100 * 512,
    ] {
        let _ = read_partition_table(&MemSource::new(d[..len].to_vec()));
    }
}

#[test]
fn partition_past_end_is_reported_not_fatal() {
    let d = gpt_disk(128, |d| {
        for e in [2usize, 128 - 33] {
            d[e * 512 + 40..e * 512 + 48].copy_from_slice(&u64::MAX.to_le_bytes());
        }
    });
    let t = read_partition_table(&MemSource::new(d)).unwrap();
    assert!(!t.partitions[0].problems.is_empty());
}

#[test]
fn ebr_chain_loop_terminates() {
    let mut d = vec![0u8; 64 * SECTOR];
    mbr_entry(&mut d, 0, 0, 0x05, 8, 50);
    // EBR at 8: logical at +1, next EBR at extended+0 (itself).
    mbr_entry(&mut d, 8 * SECTOR, 0, 0x83, 1, 2);
    mbr_entry(&mut d, 8 * SECTOR, 1, 0x05, 0, 10);
    let t = read_partition_table(&MemSource::new(d)).unwrap();
    let logicals = t.partitions.iter().filter(|p| p.index >= 5).count();
    assert_eq!(logicals, 1);
    assert!(
        t.problems.iter().any(|p| p.contains("loops back")),
        "{:?}",
        t.problems
    );
}

#[test]
fn long_ebr_chain_is_bounded() {
    let sectors = 2000;
    let mut d = vec![0u8; sectors * SECTOR];
    mbr_entry(&mut d, 0, 0, 0x0f, 2, (sectors - 2) as u32);
    // 600 EBRs, each linking to the next three sectors on.
    for i in 0..600usize {
        let at = 2 + i * 3;
        mbr_entry(&mut d, at * SECTOR, 0, 0x83, 1, 1);
        mbr_entry(&mut d, at * SECTOR, 1, 0x05, (at + 3 - 2) as u32, 3);
    }
    let t = read_partition_table(&MemSource::new(d)).unwrap();
    let logicals = t.partitions.iter().filter(|p| p.index >= 5).count();
    assert!(logicals <= 128, "{logicals}");
    assert!(
        t.problems.iter().any(|p| p.contains("more than")),
        "{:?}",
        t.problems
    );
}

#[test]
fn boot_code_is_not_a_table() {
    let mut d = vec![0u8; 16 * SECTOR];
    d[446] = 0x42; // a status byte that is neither 0x00 nor 0x80
    d[510] = 0x55;
    d[511] = 0xaa;
    assert!(read_partition_table(&MemSource::new(d)).is_err());
}

#[test]
fn random_bytes_never_panic() {
    // A small xorshift generator: deterministic and dependency-free.
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let base = gpt_disk(128, |_| {});
    for _ in 0..2000 {
        let mut d = base.clone();
        for _ in 0..(next() % 16 + 1) {
            let at = (next() % 40 * 512 + next() % 512) as usize % d.len();
            d[at] = next() as u8;
        }
        let _ = read_partition_table(&MemSource::new(d));
    }
}
