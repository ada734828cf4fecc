//! Any bytes through the Debian security tracker reader: it must return, never
//! panic, and every entry it makes has one range starting at `introduced 0`.
#![no_main]

use coldscan_vulndb::{tracker, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(d) = tracker::parse(data) else { return };
    for a in &d.advisories {
        assert!(!a.affected.is_empty());
        for e in &a.affected {
            assert!(e.ecosystem.starts_with("Debian:"));
            assert_eq!(e.ranges.len(), 1);
            assert_eq!(e.ranges[0].events[0], Event::Introduced("0".into()));
        }
    }
});
