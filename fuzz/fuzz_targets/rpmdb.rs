//! Any bytes as an rpmdb: BerkeleyDB `Packages`, NDB `Packages.db` and
//! `rpmdb.sqlite` (in memory, no wal). Each reader must return, never panic,
//! hang or over-allocate; a database cannot yield more headers than it has bytes
//! for.
#![no_main]

use coldscan_pkgdb::rpm::{bdb, ndb, sqlite};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for r in [
        bdb::read(data, "Packages"),
        ndb::read(data, "Packages.db"),
        sqlite::read(data, None, "rpmdb.sqlite"),
    ] {
        if let Ok(listing) = r {
            // The smallest header blob is 8 bytes of counts + 3 index entries.
            assert!(listing.packages.len() <= data.len() / 56);
        }
    }
});
