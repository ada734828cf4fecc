//! Any bytes as an NTFS volume: open it, walk the whole tree, read every
//! file and link. Errors are fine; panics, hangs and unbounded allocations
//! are not.
#![no_main]

use std::sync::Arc;

use coldscan_disk::{MemSource, ReadAt};
use coldscan_fs::ntfs::Ntfs;
use coldscan_fs::rootfs::{Mount, RootFs, WalkOptions};
use coldscan_fs::{FileSystem, FileType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let vol: Arc<dyn ReadAt> = Arc::new(MemSource::new(data.to_vec()));
    let Ok(fs) = Ntfs::open(vol) else {
        return;
    };
    let fs: Arc<dyn FileSystem> = Arc::new(fs);
    let Ok(root) = RootFs::new(vec![Mount::new("/", fs, 0)]) else {
        return;
    };
    let mut files = Vec::new();
    let _ = root.walk(
        b"/",
        WalkOptions {
            recursive: true,
            metadata: true,
        },
        &mut |e| {
            if e.file_type == FileType::File && files.len() < 64 {
                files.push(e.path);
            }
        },
    );
    for f in files {
        let _ = root.read_file(&f, 1 << 20);
    }
});
