#![no_main]
//! /etc/login.defs: any bytes, never a panic; typed getters on any value.
use coldscan_config::{login_defs, MemFiles};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = MemFiles::default().with("/etc/login.defs", data);
    let d = login_defs::parse(&f);
    let _ = (
        d.pass_max_days(),
        d.pass_min_days(),
        d.pass_warn_age(),
        d.pass_min_len(),
        d.umask(),
        d.encrypt_method(),
        d.sha_crypt_min_rounds(),
        d.yescrypt_cost_factor(),
        d.login_retries(),
        d.fail_delay(),
    );
});
