//! Any bytes as /lib/apk/db/installed: the reader must return, never panic,
//! hang or over-allocate.
#![no_main]

use coldscan_pkgdb::apk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let listing = apk::parse_installed(data, "installed");
    for p in &listing.packages {
        assert!(!p.name.is_empty() && !p.version.is_empty());
        assert!(p.files.len() <= data.len());
    }
    assert!(listing.packages.len() + listing.skipped.len() <= data.len());
});
