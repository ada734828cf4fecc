//! PE facts: hand-built minimal PE files (every flag and load-config field
//! set and unset), and, when MinGW-w64 is installed, compiled executables
//! and DLLs checked against the linker flags and against `pefile` (PyPI)
//! when python3 has it.

mod common;

use std::process::Command;

use coldscan_binfmt::{identify, pe_hardening, Format, GsSource, PeFacts};
use common::pegen::{build_pe, load_config, PeSpec};
use common::which;

fn facts(bytes: &[u8]) -> PeFacts {
    assert_eq!(identify(&bytes[..64]), Some(Format::Pe));
    pe_hardening(&bytes).unwrap()
}

#[test]
fn dll_characteristics_flags() {
    for (bit, pick) in [
        (
            0x0100u16,
            (|f: &PeFacts| f.nx_compat) as fn(&PeFacts) -> bool,
        ),
        (0x0040, |f| f.dynamic_base),
        (0x0020, |f| f.high_entropy_va),
        (0x0080, |f| f.force_integrity),
        (0x0400, |f| f.no_seh),
    ] {
        let on = facts(&build_pe(&PeSpec {
            dll_chars: bit,
            ..Default::default()
        }));
        let off = facts(&build_pe(&PeSpec {
            dll_chars: !bit,
            ..Default::default()
        }));
        assert!(pick(&on) && !pick(&off), "bit {bit:#x}");
        assert_eq!(on.dll_characteristics, bit);
    }
    let f = facts(&build_pe(&PeSpec::default()));
    assert_eq!(
        (
            f.machine.as_str(),
            f.subsystem.as_str(),
            f.is_dll,
            f.pe32_plus
        ),
        ("x86_64", "windows_cui", false, true)
    );
    assert!(!f.has_load_config && !f.gs && f.safe_seh.is_none() && !f.dotnet);
    let dll = facts(&build_pe(&PeSpec {
        characteristics: 0x2022,
        subsystem: 2,
        ..Default::default()
    }));
    assert!(dll.is_dll);
    assert_eq!(dll.subsystem, "windows_gui");
}

#[test]
fn load_config_gs_cfg_safeseh() {
    // PE32+ with cookie and CFG instrumented.
    let lc = load_config(true, 148, 0x1400_0300, (0, 0), 0x0000_0100 | 0x0000_0400);
    let f = facts(&build_pe(&PeSpec {
        dll_chars: 0x4000 | 0x140,
        load_config: Some(lc),
        ..Default::default()
    }));
    assert!(f.has_load_config && f.gs && f.guard_cf);
    assert_eq!(f.gs_source, Some(GsSource::LoadConfigCookie));
    // GUARD_CF bit without the instrumented flag, and the reverse.
    let lc = load_config(true, 148, 0, (0, 0), 0);
    let f = facts(&build_pe(&PeSpec {
        dll_chars: 0x4000,
        load_config: Some(lc),
        ..Default::default()
    }));
    assert!(f.has_load_config && !f.gs && !f.guard_cf);
    let lc = load_config(true, 148, 1, (0, 0), 0x100);
    let f = facts(&build_pe(&PeSpec {
        dll_chars: 0,
        load_config: Some(lc),
        ..Default::default()
    }));
    assert!(!f.guard_cf && f.guard_flags == 0x100);
    // A short (old) load config: Size covers the cookie but not GuardFlags.
    let lc = load_config(true, 96, 7, (0, 0), 0x100);
    let f = facts(&build_pe(&PeSpec {
        dll_chars: 0x4000,
        load_config: Some(lc),
        ..Default::default()
    }));
    assert!(f.gs && !f.guard_cf && f.guard_flags == 0);
    // x86: SafeSEH table, cookie.
    let lc = load_config(false, 92, 0x40_3000, (0x40_2000, 3), 0);
    let f = facts(&build_pe(&PeSpec {
        pe64: false,
        machine: 0x14c,
        load_config: Some(lc),
        ..Default::default()
    }));
    assert_eq!(
        (f.machine.as_str(), f.pe32_plus, f.safe_seh, f.gs),
        ("x86", false, Some(true), true)
    );
    let lc = load_config(false, 72, 0, (0, 0), 0);
    let f = facts(&build_pe(&PeSpec {
        pe64: false,
        machine: 0x14c,
        load_config: Some(lc),
        ..Default::default()
    }));
    assert_eq!((f.safe_seh, f.gs), (Some(false), false));
    // x86 load config whose Size stops before the SEH fields.
    let lc = load_config(false, 64, 0x40_3000, (0x40_2000, 3), 0);
    let f = facts(&build_pe(&PeSpec {
        pe64: false,
        machine: 0x14c,
        load_config: Some(lc),
        ..Default::default()
    }));
    assert_eq!((f.safe_seh, f.gs), (Some(false), true));
}

/// pefile's reading of the load config of hand-built files, so the field
/// offsets used by the crate are checked against an independent parser.
#[test]
fn load_config_offsets_match_pefile() {
    let probe = Command::new("python3")
        .args(["-c", "import pefile"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: pefile not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            true,
            0x8664u16,
            load_config(true, 148, 0x1122_3344_5566, (0x7000, 5), 0x0001_0500),
        ),
        (
            false,
            0x14c,
            load_config(false, 92, 0x0040_3000, (0x0040_2000, 3), 0x0000_0100),
        ),
    ];
    for (i, (pe64, machine, lc)) in cases.into_iter().enumerate() {
        let bytes = build_pe(&PeSpec {
            pe64,
            machine,
            load_config: Some(lc),
            dll_chars: 0x4000,
            ..Default::default()
        });
        let path = tmp.path().join(format!("h{i}.exe"));
        std::fs::write(&path, &bytes).unwrap();
        let o = Command::new("python3")
            .arg("-c")
            .arg("import sys,pefile\npe=pefile.PE(sys.argv[1])\ns=pe.DIRECTORY_ENTRY_LOAD_CONFIG.struct\nprint(s.SecurityCookie,s.SEHandlerTable,s.SEHandlerCount,s.GuardFlags)")
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Vec<u64> = String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        let f = facts(&bytes);
        assert_eq!(v[0] != 0, f.gs);
        assert_eq!(v[3] as u32, f.guard_flags);
        assert_eq!(f.guard_cf, v[3] & 0x100 != 0);
        if !pe64 {
            assert_eq!(Some(v[1] != 0 && v[2] != 0), f.safe_seh);
        }
        assert_eq!(
            if pe64 {
                vec![0x1122_3344_5566, 0x7000, 5, 0x0001_0500]
            } else {
                vec![0x0040_3000, 0x0040_2000, 3, 0x100]
            },
            v
        );
    }
}

#[test]
fn dotnet() {
    let f = facts(&build_pe(&PeSpec {
        clr: true,
        dll_chars: 0x8160,
        ..Default::default()
    }));
    assert!(f.dotnet && f.nx_compat && f.dynamic_base);
}

/// Compiled with MinGW-w64 when present.
#[test]
fn mingw_compiled() {
    let cc64 = which("x86_64-w64-mingw32-gcc");
    let cc32 = which("i686-w64-mingw32-gcc");
    if cc64.is_none() && cc32.is_none() {
        eprintln!("SKIPPED: x86_64-w64-mingw32-gcc not found");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("p.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include <string.h>\n__declspec(dllexport) int f(const char*s){char b[32];strcpy(b,s);return puts(b);}\nint main(int c,char**v){return f(v[0]);}\n",
    )
    .unwrap();
    // (name, compiler, flags, expect: nx, aslr, heva, gs, dll)
    type Case = (&'static str, bool, &'static [&'static str], [bool; 5]);
    let cases: &[Case] = &[
        ("default64.exe", true, &[], [true, true, true, false, false]),
        (
            "nodyn64.exe",
            true,
            &["-Wl,--disable-dynamicbase", "-Wl,--disable-high-entropy-va"],
            [true, false, false, false, false],
        ),
        (
            "nonx64.exe",
            true,
            &["-Wl,--disable-nxcompat"],
            [false, true, true, false, false],
        ),
        (
            "nohe64.exe",
            true,
            &["-Wl,--disable-high-entropy-va"],
            [true, true, false, false, false],
        ),
        (
            "ssp64.exe",
            true,
            &["-fstack-protector-strong"],
            [true, true, true, true, false],
        ),
        (
            "lib64.dll",
            true,
            &["-shared"],
            [true, true, true, false, true],
        ),
        (
            "ssp32.exe",
            false,
            &["-fstack-protector-all"],
            [true, true, false, true, false],
        ),
        (
            "nodyn32.exe",
            false,
            &["-Wl,--disable-dynamicbase", "-Wl,--disable-nxcompat"],
            [false, false, false, false, false],
        ),
    ];
    let mut built = vec![];
    for (name, is64, flags, expect) in cases {
        let Some(cc) = (if *is64 { &cc64 } else { &cc32 }) else {
            continue;
        };
        let out = tmp.path().join(name);
        let o = Command::new(cc)
            .args(*flags)
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let bytes = std::fs::read(&out).unwrap();
        let f = facts(&bytes);
        let got = [
            f.nx_compat,
            f.dynamic_base,
            f.high_entropy_va,
            f.gs,
            f.is_dll,
        ];
        assert_eq!(&got, expect, "{name}: {f:?}");
        if f.gs {
            assert_eq!(f.gs_source, Some(GsSource::StackChkFailImport), "{name}");
        }
        assert_eq!(f.safe_seh.is_some(), !is64);
        built.push((out, f));
    }
    // pefile as an oracle, when installed.
    let probe = Command::new("python3")
        .args(["-c", "import pefile"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("pefile not installed: oracle comparison skipped");
        return;
    }
    let script = r#"
import sys, pefile
for p in sys.argv[1:]:
    pe = pefile.PE(p)
    dc = pe.OPTIONAL_HEADER.DllCharacteristics
    lc = getattr(pe, 'DIRECTORY_ENTRY_LOAD_CONFIG', None)
    cookie = bool(lc and getattr(lc.struct, 'SecurityCookie', 0))
    ssp = any(i.name == b'__stack_chk_fail' for e in getattr(pe, 'DIRECTORY_ENTRY_IMPORT', []) for i in e.imports)
    clr = pe.OPTIONAL_HEADER.DATA_DIRECTORY[14].VirtualAddress != 0
    print(p, int(bool(dc & 0x100)), int(bool(dc & 0x40)), int(bool(dc & 0x20)), int(bool(dc & 0x400)), int(cookie or ssp), int(lc is not None), int(clr), int(pe.is_dll()))
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(built.iter().map(|b| &b.0))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let mut n = 0;
    for (line, (_, f)) in text.lines().zip(&built) {
        let v: Vec<&str> = line.split(' ').skip(1).collect();
        let ours = [
            f.nx_compat,
            f.dynamic_base,
            f.high_entropy_va,
            f.no_seh,
            f.gs,
            f.has_load_config,
            f.dotnet,
            f.is_dll,
        ]
        .map(|b| if b { "1" } else { "0" });
        assert_eq!(v, ours, "{line}");
        n += 1;
    }
    eprintln!("pefile agrees on {n} MinGW binaries");
}
