//! Any bytes as PAM service files: a few files in /etc/pam.d and the vendor
//! directory (parts separated by two NUL bytes) that may include each other.
//! `pam::stacks` must return, never panic, hang or over-allocate.
#![no_main]

use coldscan_config::{pam, MemFiles};
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "/etc/pam.d/sshd",
    "/etc/pam.d/common-auth",
    "/etc/pam.d/system-auth",
    "/usr/lib/pam.d/common-auth",
    "/usr/lib/pam.d/postlogin",
];

fuzz_target!(|data: &[u8]| {
    let mut files = MemFiles::default();
    for (part, path) in split(data).into_iter().zip(PATHS) {
        files = files.with(path, part);
    }
    let cfg = pam::stacks(&files);
    for stack in cfg.stacks.values() {
        assert!(stack.rules.len() <= pam::MAX_LINES);
        for r in &stack.rules {
            assert!(r.via.len() <= pam::MAX_DEPTH);
        }
    }
    let _ = cfg.module_args("sshd", "password", "pam_unix");
});

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(2).position(|w| w == b"\0\0") {
        parts.push(&rest[..i]);
        rest = &rest[i + 2..];
    }
    parts.push(rest);
    parts
}
