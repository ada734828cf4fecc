//! Any bytes as a bare rpm header blob (as stored in rpmdb): the parser must
//! return, never panic, hang or over-allocate.
#![no_main]

use coldscan_pkgdb::rpm::{self, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = header::parse(data) {
        let bytes: usize = h.files.iter().map(String::len).sum();
        assert!(bytes <= (data.len() * header::MAX_FILE_BYTES_PER_BLOB_BYTE).max(64 << 10));
        let _ = h.evr();
        if let Some(s) = &h.sourcerpm {
            let _ = header::split_sourcerpm(s);
        }
    }
    let _ = rpm::package_from_blob(data, "Packages", "1");
});
