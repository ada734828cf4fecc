//! Any bytes as a disk image: the partition table reader and the
//! filesystem probe must return, never panic, hang or over-allocate.
#![no_main]

use coldscan_disk::{probe_filesystem, read_partition_table, MemSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let disk = MemSource::new(data.to_vec());
    let _ = probe_filesystem(&disk);
    if let Ok(table) = read_partition_table(&disk) {
        for p in &table.partitions {
            assert!(p.index <= 4096);
        }
    }
});
