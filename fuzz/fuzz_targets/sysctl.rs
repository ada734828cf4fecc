#![no_main]
//! sysctl.d merging: the input is cut at 0xFF bytes into files spread over
//! the five directories (same names recur, so masking is exercised) and
//! /etc/sysctl.conf; both appliers must finish without a panic.
use coldscan_config::sysctl::{self, Applier, DIRS};
use coldscan_config::MemFiles;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut f = MemFiles::default();
    for (i, chunk) in data.split(|b| *b == 0xFF).take(16).enumerate() {
        let path = if i == 0 {
            "/etc/sysctl.conf".to_string()
        } else {
            let dir = DIRS[i % DIRS.len()];
            format!("{dir}/{}-x.conf", i % 3)
        };
        f = f.with(&path, chunk);
    }
    let _ = sysctl::effective(&f);
    let _ = sysctl::effective_with(&f, Applier::ProcpsSystem);
});
