//! Any bytes as a PE file: `identify` and `pe_hardening` must return,
//! never panic, hang or over-allocate; reads stay within the file.
#![no_main]

use std::cell::Cell;

use coldscan_binfmt::{identify, pe_hardening, RangeSource};
use libfuzzer_sys::fuzz_target;

struct Mem<'a> {
    data: &'a [u8],
    read: Cell<u64>,
}

impl RangeSource for Mem<'_> {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = RangeSource::read_at(&self.data, offset, buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = identify(&data[..data.len().min(64)]);
    let src = Mem { data, read: Cell::new(0) };
    if let Ok(facts) = pe_hardening(&src) {
        assert_eq!(facts.gs, facts.gs_source.is_some());
    }
    assert!(src.read.get() <= 16 * data.len() as u64 + (1 << 16));
});
