//! ELF facts on generated files: each fact switched on and off, both
//! classes and byte orders, with and without section headers.

mod common;

use coldscan_binfmt::{elf_hardening, identify, ElfClass, ElfType, Endianness, Format, Relro};
use common::elfgen::{build_elf, ElfSpec};

fn facts(s: &ElfSpec) -> coldscan_binfmt::ElfFacts {
    let (bytes, _) = build_elf(s);
    assert_eq!(identify(&bytes), Some(Format::Elf));
    elf_hardening(&bytes.as_slice()).unwrap()
}

#[test]
fn defaults_all_classes() {
    for (is64, big_endian) in [(true, false), (false, false), (true, true), (false, true)] {
        let f = facts(&ElfSpec {
            is64,
            big_endian,
            ..Default::default()
        });
        assert_eq!(
            f.class,
            if is64 {
                ElfClass::Elf64
            } else {
                ElfClass::Elf32
            }
        );
        assert_eq!(
            f.endianness,
            if big_endian {
                Endianness::Big
            } else {
                Endianness::Little
            }
        );
        assert_eq!(f.machine, "x86_64");
        assert_eq!(f.elf_type, ElfType::PieExecutable);
        assert_eq!(
            f.interpreter.as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        assert!(f.nx && f.canary && f.pie && f.fortify && f.stripped && !f.is_static);
        assert_eq!(f.gnu_stack, Some(false));
        assert_eq!(f.relro, Relro::Partial);
        assert_eq!(f.fortified, vec!["__memcpy_chk".to_string()]);
        assert_eq!(f.fortifiable, 2); // __memcpy_chk, printf
        assert_eq!(f.needed, vec!["libc.so.6".to_string()]);
    }
}

#[test]
fn each_fact() {
    // Executable stack, and no PT_GNU_STACK at all.
    let f = facts(&ElfSpec {
        gnu_stack: Some(7),
        ..Default::default()
    });
    assert_eq!((f.gnu_stack, f.nx), (Some(true), false));
    let f = facts(&ElfSpec {
        gnu_stack: None,
        ..Default::default()
    });
    assert_eq!((f.gnu_stack, f.nx), (None, false));
    // RELRO levels and the three ways of asking for BIND_NOW.
    assert_eq!(
        facts(&ElfSpec {
            relro: false,
            dt_bind_now: true,
            ..Default::default()
        })
        .relro,
        Relro::None
    );
    assert_eq!(
        facts(&ElfSpec {
            dt_bind_now: true,
            ..Default::default()
        })
        .relro,
        Relro::Full
    );
    assert_eq!(
        facts(&ElfSpec {
            dt_flags: 8,
            ..Default::default()
        })
        .relro,
        Relro::Full
    );
    assert_eq!(
        facts(&ElfSpec {
            dt_flags_1: 1,
            ..Default::default()
        })
        .relro,
        Relro::Full
    );
    assert_eq!(
        facts(&ElfSpec {
            dt_flags: 2,
            ..Default::default()
        })
        .relro,
        Relro::Partial
    );
    // Canary only from static symbols; none at all.
    let f = facts(&ElfSpec {
        imports: vec!["puts"],
        static_syms: vec!["main", "__stack_chk_fail_local"],
        ..Default::default()
    });
    assert!(f.canary && !f.stripped && !f.fortify);
    let f = facts(&ElfSpec {
        imports: vec!["puts"],
        ..Default::default()
    });
    assert!(!f.canary);
    assert!(
        facts(&ElfSpec {
            imports: vec!["__intel_security_cookie"],
            ..Default::default()
        })
        .canary
    );
    // Types.
    let f = facts(&ElfSpec {
        interp: false,
        ..Default::default()
    });
    assert_eq!(f.elf_type, ElfType::SharedObject);
    assert!(f.pie);
    let f = facts(&ElfSpec {
        interp: false,
        dt_flags_1: 0x0800_0000,
        needed: vec![],
        ..Default::default()
    });
    assert_eq!(f.elf_type, ElfType::PieExecutable);
    assert!(f.is_static);
    let f = facts(&ElfSpec {
        e_type: 2,
        ..Default::default()
    });
    assert_eq!(f.elf_type, ElfType::Exec);
    assert!(!f.pie);
    assert_eq!(
        facts(&ElfSpec {
            e_type: 1,
            ..Default::default()
        })
        .elf_type,
        ElfType::Relocatable
    );
    assert_eq!(
        facts(&ElfSpec {
            e_type: 4,
            ..Default::default()
        })
        .elf_type,
        ElfType::Core
    );
    // Static: no interpreter, no dynamic section.
    let f = facts(&ElfSpec {
        interp: false,
        dynamic: false,
        e_type: 2,
        imports: vec![],
        static_syms: vec!["__stack_chk_guard", "__strcpy_chk"],
        ..Default::default()
    });
    assert!(f.is_static && f.canary && f.fortify);
    assert_eq!(f.fortified, vec!["__strcpy_chk".to_string()]);
    // RPATH / RUNPATH.
    let f = facts(&ElfSpec {
        rpath: Some("/a:/b"),
        runpath: Some("$ORIGIN/../lib"),
        ..Default::default()
    });
    assert_eq!(f.rpath.as_deref(), Some("/a:/b"));
    assert_eq!(f.runpath.as_deref(), Some("$ORIGIN/../lib"));
    // Machine names.
    assert_eq!(
        facts(&ElfSpec {
            machine: 183,
            ..Default::default()
        })
        .machine,
        "aarch64"
    );
    assert_eq!(
        facts(&ElfSpec {
            machine: 0x7777,
            ..Default::default()
        })
        .machine,
        format!("em_{}", 0x7777)
    );
}

/// Without section headers the dynamic symbols come from DT_SYMTAB with a
/// count from DT_HASH.
#[test]
fn no_section_headers() {
    for is64 in [true, false] {
        let f = facts(&ElfSpec {
            is64,
            sections: false,
            ..Default::default()
        });
        assert!(!f.has_section_headers && f.stripped);
        assert!(f.canary && f.fortify, "{f:?}");
        assert_eq!(f.needed, vec!["libc.so.6".to_string()]);
    }
}

#[test]
fn serde_shape() {
    let f = facts(&ElfSpec::default());
    let v = serde_json::to_value(&f).unwrap();
    assert_eq!(v["class"], "64");
    assert_eq!(v["type"], "pie_executable");
    assert_eq!(v["relro"], "partial");
    let back: coldscan_binfmt::ElfFacts = serde_json::from_value(v).unwrap();
    assert_eq!(back, f);
}
