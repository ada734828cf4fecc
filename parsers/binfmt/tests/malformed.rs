//! Hostile input: truncated files, extreme field values, self-references and
//! random corruption must give `Ok` or `Err`, never a panic, a hang, or
//! reads (hence allocations) beyond a small multiple of the file's size.

mod common;

use std::cell::Cell;
use std::time::{Duration, Instant};

use coldscan_binfmt::{elf_hardening, pe_hardening, RangeSource};
use common::elfgen::{build_elf, ElfSpec, Layout};
use common::pegen::{build_pe, load_config, PeSpec};

/// In-memory source counting bytes read.
struct Counting<'a> {
    data: &'a [u8],
    read: Cell<u64>,
}

impl RangeSource for Counting<'_> {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = RangeSource::read_at(&self.data, offset, buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

fn check(data: &[u8], what: &str) {
    let start = Instant::now();
    for pe in [false, true] {
        let src = Counting {
            data,
            read: Cell::new(0),
        };
        let _ = if pe {
            pe_hardening(&src).map(|_| ())
        } else {
            elf_hardening(&src).map(|_| ())
        };
        let limit = 16 * data.len() as u64 + (1 << 16);
        assert!(
            src.read.get() <= limit,
            "{what}: read {} bytes of a {}-byte file",
            src.read.get(),
            data.len()
        );
    }
    assert!(start.elapsed() < Duration::from_secs(2), "{what}: too slow");
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn elf_variants() -> Vec<(Vec<u8>, Layout, bool)> {
    let mut v = vec![];
    for (is64, big_endian) in [(true, false), (false, true)] {
        for sections in [true, false] {
            let (b, l) = build_elf(&ElfSpec {
                is64,
                big_endian,
                sections,
                static_syms: vec!["main", "x"],
                imports: vec!["puts"],
                rpath: Some("/r"),
                ..Default::default()
            });
            v.push((b, l, is64));
        }
    }
    v
}

const EXTREMES: &[u64] = &[
    0,
    1,
    2,
    3,
    0x7f,
    0xff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    u64::MAX,
    u64::MAX / 2,
    1 << 40,
];

fn put(b: &mut [u8], off: usize, width: usize, v: u64, be: bool) {
    for i in 0..width {
        let at = if be { off + width - 1 - i } else { off + i };
        if at < b.len() {
            b[at] = (v >> (8 * i)) as u8;
        }
    }
}

#[test]
fn elf_truncated_everywhere() {
    for (b, _, _) in elf_variants() {
        for n in 0..=b.len() {
            check(&b[..n], &format!("truncated at {n}"));
        }
    }
    // A real binary, truncated at its header boundaries and on a grid.
    if let Ok(real) = std::fs::read("/usr/bin/true") {
        let mut cuts: Vec<usize> = (0..=64).collect();
        cuts.extend((0..real.len()).step_by(211));
        for n in cuts {
            check(
                &real[..n.min(real.len())],
                &format!("/usr/bin/true truncated at {n}"),
            );
        }
    }
}

#[test]
fn elf_extreme_fields() {
    for (b, l, is64) in elf_variants() {
        let be = b[5] == 2;
        let ws = if is64 { 8 } else { 4 };
        let len = b.len() as u64;
        // (offset, width) of every header, program header, section header
        // and dynamic field.
        let mut fields: Vec<(usize, usize)> = if is64 {
            vec![
                (16, 2),
                (18, 2),
                (24, 8),
                (32, 8),
                (40, 8),
                (52, 2),
                (54, 2),
                (56, 2),
                (58, 2),
                (60, 2),
                (62, 2),
            ]
        } else {
            vec![
                (16, 2),
                (18, 2),
                (24, 4),
                (28, 4),
                (32, 4),
                (40, 2),
                (42, 2),
                (44, 2),
                (46, 2),
                (48, 2),
                (50, 2),
            ]
        };
        for i in 0..l.phnum {
            let at = l.phoff + i * l.phentsize;
            for k in (0..l.phentsize).step_by(4) {
                fields.push((at + k, if is64 && k >= 8 { 8 } else { 4 }));
            }
        }
        for i in 0..l.shnum {
            let at = l.shoff + i * l.shentsize;
            for k in (0..l.shentsize).step_by(4) {
                fields.push((at + k, 4));
            }
            if is64 {
                for k in [24, 32, 56] {
                    fields.push((at + k, 8));
                }
            }
        }
        for k in (0..l.dynamic_len).step_by(ws) {
            fields.push((l.dynamic + k, ws));
        }
        // DT_HASH nchain.
        fields.push((l.hash + 4, 4));
        let mut values = EXTREMES.to_vec();
        values.extend([
            len - 1,
            len,
            len + 1,
            l.phoff as u64,
            l.dynamic as u64,
            l.shoff as u64,
            l.dynsym as u64,
        ]);
        for &(off, width) in &fields {
            for &v in &values {
                let mut m = b.clone();
                put(&mut m, off, width, v, be);
                check(&m, &format!("field {off}+{width} = {v:#x}"));
            }
        }
    }
}

/// Structures that point at themselves or at each other.
#[test]
fn elf_self_references() {
    let (b, l) = build_elf(&ElfSpec {
        static_syms: vec!["a"],
        ..Default::default()
    });
    // PT_DYNAMIC over the program header table; DT_STRTAB at the dynamic
    // section; every section linked to itself; e_shstrndx to .dynsym.
    let mut m = b.clone();
    let dyn_ph = l.phoff + 2 * l.phentsize;
    put(&mut m, dyn_ph + 8, 8, l.phoff as u64, false);
    check(&m, "dynamic over phdrs");
    let mut m = b.clone();
    for i in 0..l.shnum {
        put(&mut m, l.shoff + i * l.shentsize + 40, 4, i as u64, false);
    }
    check(&m, "sections linked to themselves");
    let mut m = b.clone();
    put(&mut m, 62, 2, 1, false);
    check(&m, "shstrndx to dynsym");
    let mut m = b.clone();
    put(&mut m, 40, 8, l.phoff as u64, false);
    check(&m, "section headers over program headers");
}

#[test]
fn elf_random_corruption() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let variants = elf_variants();
    for i in 0..20_000 {
        let (b, _, _) = &variants[i % variants.len()];
        let mut m = b.clone();
        for _ in 0..1 + rng.next() % 8 {
            let at = (rng.next() % m.len() as u64) as usize;
            m[at] = rng.next() as u8;
        }
        check(&m, &format!("random {i}"));
    }
}

fn pe_variants() -> Vec<Vec<u8>> {
    vec![
        build_pe(&PeSpec {
            dll_chars: 0x4160,
            load_config: Some(load_config(true, 148, 1, (0, 0), 0x100)),
            clr: true,
            ..Default::default()
        }),
        build_pe(&PeSpec {
            pe64: false,
            machine: 0x14c,
            load_config: Some(load_config(false, 92, 1, (0x1000, 2), 0)),
            ..Default::default()
        }),
    ]
}

#[test]
fn pe_truncated_and_extreme() {
    for b in pe_variants() {
        for n in 0..=b.len() {
            check(&b[..n], &format!("pe truncated at {n}"));
        }
        let mut values = EXTREMES.to_vec();
        values.extend([b.len() as u64 - 1, b.len() as u64, 0x40, 0x200, 0x1000]);
        // Every 2- and 4-byte field of the headers and the section table,
        // and of the load config.
        for off in (0..0x200).step_by(2).chain((0x200..0x300).step_by(4)) {
            for width in [2, 4] {
                for &v in &values {
                    let mut m = b.clone();
                    put(&mut m, off, width, v, false);
                    check(&m, &format!("pe field {off:#x}+{width} = {v:#x}"));
                }
            }
        }
    }
}

#[test]
fn pe_random_corruption() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut variants = pe_variants();
    // A MinGW executable exercises the import-table walk.
    if let Some(cc) = common::which("x86_64-w64-mingw32-gcc") {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("p.c");
        std::fs::write(
            &src,
            "#include <stdio.h>\nint main(){puts(\"x\");return 0;}\n",
        )
        .unwrap();
        let out = tmp.path().join("p.exe");
        let ok = std::process::Command::new(cc)
            .args(["-s", "-fstack-protector-all", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            let exe = std::fs::read(&out).unwrap();
            for n in (0..exe.len()).step_by(509) {
                check(&exe[..n], &format!("mingw truncated at {n}"));
            }
            variants.push(exe);
        }
    }
    for i in 0..20_000 {
        let b = &variants[i % variants.len()];
        let mut m = b.clone();
        // Corrupt mostly the first 4 KiB (headers, tables).
        let span = m.len().min(4096) as u64;
        for _ in 0..1 + rng.next() % 8 {
            let at = (rng.next() % span) as usize;
            m[at] = rng.next() as u8;
        }
        check(&m, &format!("pe random {i}"));
    }
}
