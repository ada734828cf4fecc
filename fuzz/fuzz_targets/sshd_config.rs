//! Any bytes as sshd configuration: the main file plus a few include files
//! (parts separated by two NUL bytes). `sshd::effective` must return, never
//! panic, hang or over-allocate.
#![no_main]

use coldscan_config::{sshd, MemFiles};
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d/10-a.conf",
    "/etc/ssh/sshd_config.d/50-cloud-init.conf",
    "/etc/ssh/extra.conf",
    "/etc/ssh/conf.d/nested/x.conf",
];
const VERSIONS: &[Option<&str>] = &[None, Some("1:9.2p1-2+deb12u6"), Some("6.6p1"), Some("x")];

fuzz_target!(|data: &[u8]| {
    let (version, data) = match data.split_first() {
        Some((v, rest)) => (VERSIONS[*v as usize % VERSIONS.len()], rest),
        None => (None, data),
    };
    let mut files = MemFiles::default();
    for (part, path) in split(data).into_iter().zip(PATHS) {
        files = files.with(path, part);
    }
    let cfg = sshd::effective(&files, version);
    assert!(cfg.files.len() <= sshd::MAX_FILES);
    assert!(cfg.value("passwordauthentication").is_some());
    assert!(cfg.value("permitrootlogin").is_some());
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
