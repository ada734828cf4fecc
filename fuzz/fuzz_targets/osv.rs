//! Any bytes through the OSV reader: it must return, never panic. A record it
//! accepts is then matched against versions taken from its own events, with
//! each version ordering, and its CVSS vectors are scored.
#![no_main]

use coldscan_pkgdb::version::{self, Ecosystem};
use coldscan_vulndb::{cvss_score, osv, range};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(adv) = osv::parse(data) else { return };
    let _ = adv.cve_ids();
    let _ = cvss_score::scores(&adv.severity);
    for entry in adv.affected.iter().take(8) {
        let mut probes: Vec<String> = vec!["0".into(), "1.0-1".into(), String::new()];
        probes.extend(entry.versions.iter().take(4).cloned());
        for r in entry.ranges.iter().take(4) {
            probes.extend(r.events.iter().take(8).map(|e| e.version().to_string()));
        }
        for eco in [Ecosystem::Dpkg, Ecosystem::Rpm, Ecosystem::Apk] {
            let cmp = move |a: &str, b: &str| version::compare(eco, a, b);
            for p in &probes {
                let v = range::evaluate(&cmp, p, &entry.ranges, &entry.versions);
                // A reported fix is always above the version.
                if let Some(f) = &v.fixed {
                    assert!(v.affected);
                    assert!(cmp(f, p).is_gt(), "{eco:?} fix {f:?} not above {p:?}");
                }
            }
        }
    }
});
