#![no_main]
//! passwd/group/shadow/gshadow: the input is cut at 0xFF bytes into the four
//! files. Besides not panicking, no hash-shaped field of the input may
//! come out in the result's Debug form.
use coldscan_config::{accounts, MemFiles};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let names = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"];
    let mut f = MemFiles::default();
    let chunks: Vec<&[u8]> = data.split(|b| *b == 0xFF).take(4).collect();
    for (name, chunk) in names.iter().zip(&chunks) {
        f = f.with(name, *chunk);
    }
    let a = accounts::parse(&f);
    let debug = format!("{a:?}");
    for chunk in &chunks {
        let text = String::from_utf8_lossy(chunk);
        for field in text.lines().flat_map(|l| l.split(':')) {
            // Any long, distinctive hash-shaped field (`$id$...`), wherever
            // it stands: short ones may match unrelated output by chance.
            let Some(at) = field.find('$') else { continue };
            let h = &field[at..];
            let id_ok = h[1..].find('$').is_some_and(|j| {
                j > 0 && j <= 4 && h[1..1 + j].bytes().all(|b| b.is_ascii_alphanumeric())
            });
            if id_ok && h.len() >= 24 && !h.contains('\u{fffd}') {
                assert!(!debug.contains(h), "hash-shaped field leaked");
            }
        }
    }
});
