//! Any bytes as a dpkg status file, a status.d stanza or a .list file: the
//! readers must return, never panic, hang or over-allocate.
#![no_main]

use coldscan_pkgdb::dpkg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for listing in [
        dpkg::parse_status(data, "status"),
        dpkg::parse_status_d(data, "status.d/x"),
    ] {
        for p in &listing.packages {
            assert!(!p.name.is_empty() && !p.version.is_empty());
            assert!(p.source_name.is_some() && p.source_version.is_some());
        }
        assert!(listing.packages.len() + listing.skipped.len() <= data.len());
    }
    assert!(dpkg::parse_list(data).len() <= data.len());
});
