//! Any bytes through the Alpine secdb reader: it must return, never panic, and
//! never make an entry for the "never affected" version `0`.
#![no_main]

use coldscan_vulndb::{secdb, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(d) = secdb::parse(data) else { return };
    assert!(d.ecosystem.starts_with("Alpine:"));
    for a in &d.advisories {
        for e in &a.affected {
            assert_ne!(e.ranges[0].events[1], Event::Fixed("0".into()));
        }
    }
});
