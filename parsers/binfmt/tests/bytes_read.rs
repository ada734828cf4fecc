//! How much of each binary is read: over every ELF file in /usr/bin, the
//! bytes asked of the source vs the files' sizes. Prints the numbers (run
//! with `--nocapture`) and fails if more than 25% of the bytes are read or
//! if a system binary cannot be parsed.

mod common;

use coldscan_binfmt::{elf_hardening, identify, Format};
use common::{head, FileSource};

#[test]
fn usr_bin_bytes_read() {
    let Ok(rd) = std::fs::read_dir("/usr/bin") else {
        eprintln!("SKIPPED: no /usr/bin");
        return;
    };
    let mut paths: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let (mut files, mut size, mut read, mut calls, mut max_ratio) = (0u64, 0u64, 0u64, 0u64, 0f64);
    let mut worst = String::new();
    let mut errors = vec![];
    let mut per_file = vec![];
    for p in paths {
        if p.is_symlink() || !p.is_file() {
            continue;
        }
        let Some(h) = head(&p) else { continue };
        if identify(&h) != Some(Format::Elf) {
            continue;
        }
        let src = FileSource::open(&p).unwrap();
        match elf_hardening(&src) {
            Ok(_) => {}
            Err(e) => errors.push(format!("{}: {e}", p.display())),
        }
        files += 1;
        per_file.push((src.bytes.get(), src.len_u64(), p.display().to_string()));
        size += src.len_u64();
        read += src.bytes.get();
        calls += src.calls.get();
        let ratio = src.bytes.get() as f64 / src.len_u64().max(1) as f64;
        if ratio > max_ratio {
            max_ratio = ratio;
            worst = format!(
                "{} ({} of {} bytes)",
                p.display(),
                src.bytes.get(),
                src.len_u64()
            );
        }
    }
    if files == 0 {
        eprintln!("SKIPPED: no ELF files in /usr/bin");
        return;
    }
    let pct = 100.0 * read as f64 / size as f64;
    eprintln!(
        "/usr/bin: {files} ELF files, {size} bytes, read {read} bytes ({pct:.2}%) in {calls} reads; \
         mean {} bytes/file; highest ratio {:.1}%: {worst}",
        read / files,
        100.0 * max_ratio
    );
    per_file.sort();
    for (r, l, p) in per_file.iter().rev().take(5) {
        eprintln!("  most read: {p}: {r} of {l} bytes");
    }
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(pct < 25.0, "read {pct:.2}% of the bytes");
}

trait LenU64 {
    fn len_u64(&self) -> u64;
}
impl LenU64 for FileSource {
    fn len_u64(&self) -> u64 {
        coldscan_binfmt::RangeSource::len(self)
    }
}
