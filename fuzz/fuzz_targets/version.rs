//! Any two strings through every version comparator: it must return, never
//! panic, order a string equal to itself, and (dpkg, rpm) be antisymmetric.
#![no_main]

use coldscan_pkgdb::version::{self, Ecosystem};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str)| {
    let (a, b) = input;
    for eco in [Ecosystem::Dpkg, Ecosystem::Rpm, Ecosystem::Apk] {
        let x = version::compare(eco, a, b);
        let y = version::compare(eco, b, a);
        assert!(version::compare(eco, a, a).is_eq());
        // apk-tools' own order is not antisymmetric for invalid versions.
        if eco != Ecosystem::Apk {
            assert_eq!(x, y.reverse(), "{eco:?} {a:?} {b:?}");
        }
    }
});
