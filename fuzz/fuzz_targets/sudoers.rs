#![no_main]
//! sudoers with includes: the input is cut at 0xFF bytes into /etc/sudoers
//! and files under /etc/sudoers.d (which the text may include, so cycles
//! and depth limits are exercised).
use coldscan_config::{sudoers, MemFiles};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut f = MemFiles::default();
    for (i, chunk) in data.split(|b| *b == 0xFF).take(8).enumerate() {
        let path = match i {
            0 => "/etc/sudoers".to_string(),
            1 => "/etc/sudoers.local".to_string(),
            n => format!("/etc/sudoers.d/f{n}"),
        };
        f = f.with(&path, chunk);
    }
    let _ = sudoers::parse(&f);
    let _ = sudoers::parse_text(&String::from_utf8_lossy(data), "fuzz");
});
