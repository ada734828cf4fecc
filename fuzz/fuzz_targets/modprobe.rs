#![no_main]
//! modprobe.d merging: the input is cut at 0xFF bytes into files spread over
//! the five directories (same names recur, so masking is exercised; some are
//! `.alias` files) and /etc/modprobe.conf; parsing and the lookups must
//! finish without a panic.
use coldscan_config::modprobe::{self, DIRS};
use coldscan_config::MemFiles;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut f = MemFiles::default();
    for (i, chunk) in data.split(|b| *b == 0xFF).take(16).enumerate() {
        let path = if i == 0 {
            "/etc/modprobe.conf".to_string()
        } else {
            let dir = DIRS[i % DIRS.len()];
            let ext = if i % 7 == 0 { "alias" } else { "conf" };
            format!("{dir}/{}-x.{ext}", i % 3)
        };
        f = f.with(&path, chunk);
    }
    let m = modprobe::effective(&f);
    for name in m.install.keys().chain(m.blacklist.keys()).take(64) {
        let name: String = name.chars().take(256).collect();
        let _ = m.effective_install(&name);
        let _ = m.is_blacklisted(&name);
    }
    for name in ["usb-storage", "cramfs", "snd_hda_intel", ""] {
        let _ = m.effective_install(name);
        let _ = m.is_blacklisted(name);
    }
});
