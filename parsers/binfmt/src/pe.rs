//! PE hardening facts from the headers, the load configuration directory
//! and, only when no security cookie is found there, the import table (and
//! the COFF symbol table) for MinGW's `__stack_chk_fail`.
//!
//! `object` reads the headers lazily through the range reader; the load
//! configuration is decoded here from the documented offsets, honouring its
//! `Size` field (older, shorter layouts leave later fields absent). goblin
//! was not used: it wants the whole file in memory and has open fuzz-panic
//! issues; nothing it offers is needed beyond these few fields.

use std::cell::RefCell;

use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, ImageThunkData, Import};
use object::LittleEndian as LE;

use crate::reader::Reader;
use crate::{Error, RangeSource, Result};

/// Most import descriptors / thunks examined.
const MAX_IMPORT_DLLS: usize = 4096;
const MAX_IMPORT_THUNKS: usize = 1 << 16;
/// Most COFF symbols examined (MinGW static `__stack_chk_fail`).
const MAX_COFF_SYMBOLS: u32 = 1 << 20;

/// Where the /GS-style stack protection evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GsSource {
    /// Load config `SecurityCookie` is non-zero (MSVC /GS).
    LoadConfigCookie,
    /// `__stack_chk_fail` imported (MinGW `-fstack-protector` with libssp DLL).
    StackChkFailImport,
    /// `__stack_chk_fail` in the COFF symbol table (MinGW, statically linked).
    StackChkFailSymbol,
}

/// Hardening facts of one PE file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeFacts {
    /// e.g. "x86", "x86_64", "aarch64"; "machine_0x…" otherwise.
    pub machine: String,
    /// PE32+ (64-bit optional header).
    pub pe32_plus: bool,
    /// `IMAGE_FILE_DLL`.
    pub is_dll: bool,
    /// e.g. "windows_gui", "windows_cui", "native", "efi_application".
    pub subsystem: String,
    /// Raw `DllCharacteristics`.
    pub dll_characteristics: u16,
    /// DEP: `IMAGE_DLLCHARACTERISTICS_NX_COMPAT` (0x100).
    pub nx_compat: bool,
    /// ASLR: `DYNAMIC_BASE` (0x40).
    pub dynamic_base: bool,
    /// `HIGH_ENTROPY_VA` (0x20; meaningful for PE32+).
    pub high_entropy_va: bool,
    /// `FORCE_INTEGRITY` (0x80).
    pub force_integrity: bool,
    /// `NO_SEH` (0x400).
    pub no_seh: bool,
    /// Control Flow Guard: `GUARD_CF` (0x4000) and load config `GuardFlags`
    /// has `CF_INSTRUMENTED` (0x100).
    pub guard_cf: bool,
    /// Stack cookies: see `gs_source`.
    pub gs: bool,
    pub gs_source: Option<GsSource>,
    /// x86 only: load config `SEHandlerTable` and `SEHandlerCount` non-zero.
    /// `None` on other machines (table-based exception handling).
    pub safe_seh: Option<bool>,
    /// CLR runtime header data directory non-empty (.NET assembly: the
    /// native flags above mean something else there).
    pub dotnet: bool,
    /// Load configuration directory present and readable.
    pub has_load_config: bool,
    /// Load config `GuardFlags` (0 when absent).
    pub guard_flags: u32,
}

/// Read the hardening facts of a PE file.
pub fn pe_hardening(src: &dyn RangeSource) -> Result<PeFacts> {
    let io = RefCell::new(None);
    let r = Reader::new(src, &io);
    let data = r.data();
    let dos = pe::ImageDosHeader::parse(data).map_err(|_| match r.fail("DOS header") {
        Error::Io(e) => Error::Io(e),
        _ => Error::WrongFormat("PE"),
    })?;
    let nt_off = u64::from(dos.nt_headers_offset());
    // Signature (4) + file header (20) precede the optional header magic.
    let magic = r.bytes(nt_off + 24, 2, "PE optional header magic")?;
    match u16::from_le_bytes([magic[0], magic[1]]) {
        pe::IMAGE_NT_OPTIONAL_HDR32_MAGIC => analyze::<pe::ImageNtHeaders32>(&r, nt_off),
        pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC => analyze::<pe::ImageNtHeaders64>(&r, nt_off),
        _ => Err(Error::Malformed("PE optional header magic")),
    }
}

fn machine_name(m: pe::Machine) -> String {
    let s = match m {
        pe::IMAGE_FILE_MACHINE_I386 => "x86",
        pe::IMAGE_FILE_MACHINE_AMD64 => "x86_64",
        pe::IMAGE_FILE_MACHINE_ARM64 => "aarch64",
        pe::IMAGE_FILE_MACHINE_ARM64EC => "arm64ec",
        pe::IMAGE_FILE_MACHINE_ARM => "arm",
        pe::IMAGE_FILE_MACHINE_ARMNT => "armnt",
        pe::IMAGE_FILE_MACHINE_THUMB => "thumb",
        pe::IMAGE_FILE_MACHINE_IA64 => "ia64",
        pe::IMAGE_FILE_MACHINE_EBC => "ebc",
        pe::IMAGE_FILE_MACHINE_RISCV64 => "riscv64",
        _ => return format!("machine_{:#06x}", m.0),
    };
    s.to_string()
}

fn subsystem_name(s: u16) -> String {
    let n = match s {
        1 => "native",
        2 => "windows_gui",
        3 => "windows_cui",
        5 => "os2_cui",
        7 => "posix_cui",
        8 => "native_windows",
        9 => "windows_ce_gui",
        10 => "efi_application",
        11 => "efi_boot_service_driver",
        12 => "efi_runtime_driver",
        13 => "efi_rom",
        14 => "xbox",
        16 => "windows_boot_application",
        _ => return format!("subsystem_{s}"),
    };
    n.to_string()
}

/// Fields of `IMAGE_LOAD_CONFIG_DIRECTORY{32,64}` that we use.
#[derive(Default)]
struct LoadConfig {
    security_cookie: u64,
    se_handler_table: u64,
    se_handler_count: u64,
    guard_flags: u32,
}

fn le(bytes: &[u8], off: usize, width: usize) -> u64 {
    // Absent (beyond `Size`) fields read as zero.
    match bytes.get(off..off + width) {
        Some(b) => b
            .iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)),
        None => 0,
    }
}

fn analyze<Pe: ImageNtHeaders>(r: &Reader<'_>, nt_off: u64) -> Result<PeFacts> {
    let data = r.data();
    let mut offset = nt_off;
    let (nt, dirs) = Pe::parse(data, &mut offset).map_err(|_| r.fail("PE headers"))?;
    let sections = nt
        .sections(data, offset)
        .map_err(|_| r.fail("PE section table"))?;
    let fh = nt.file_header();
    let oh = nt.optional_header();
    let machine = fh.machine.get(LE);
    let is_dll = fh.characteristics.get(LE).0 & pe::IMAGE_FILE_DLL.0 != 0;
    let dll = oh.dll_characteristics().0;
    let has = |flag: u16| dll & flag != 0;
    let is64 = oh.magic() == pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC;

    let dir = |index: usize| {
        dirs.get(index)
            .map(|d| (d.virtual_address.get(LE), d.size.get(LE)))
    };
    let dotnet = matches!(dir(pe::IMAGE_DIRECTORY_ENTRY_COM_DESCRIPTOR), Some((va, size)) if va != 0 && size != 0);

    // Load configuration.
    let mut lc = None;
    if let Some((va, size)) = dir(pe::IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG) {
        if va != 0 && size != 0 {
            if let Some((file_off, avail)) = sections.pe_file_range_at(va) {
                let file_off = u64::from(file_off);
                let head = r.bytes(file_off, 4.min(avail as u64), "load config size");
                if let Ok(head) = head.map(|h| h.to_vec()) {
                    if head.len() == 4 {
                        let declared = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
                        // We need at most the first 148 bytes.
                        let want = declared.min(avail).min(160) as u64;
                        let b = r.bytes(file_off, want, "load config")?;
                        lc = Some(if is64 {
                            LoadConfig {
                                security_cookie: le(b, 88, 8),
                                se_handler_table: le(b, 96, 8),
                                se_handler_count: le(b, 104, 8),
                                guard_flags: le(b, 144, 4) as u32,
                            }
                        } else {
                            LoadConfig {
                                security_cookie: le(b, 60, 4),
                                se_handler_table: le(b, 64, 4),
                                se_handler_count: le(b, 68, 4),
                                guard_flags: le(b, 88, 4) as u32,
                            }
                        });
                    }
                }
            }
        }
    }
    let has_load_config = lc.is_some();
    let lc = lc.unwrap_or_default();

    let mut gs_source = (lc.security_cookie != 0).then_some(GsSource::LoadConfigCookie);
    if gs_source.is_none() && !dotnet {
        if imports_stack_chk_fail::<Pe>(r, &dirs, &sections) {
            gs_source = Some(GsSource::StackChkFailImport);
        } else if coff_symbol_stack_chk_fail(r, fh) {
            gs_source = Some(GsSource::StackChkFailSymbol);
        }
    }

    Ok(PeFacts {
        machine: machine_name(machine),
        pe32_plus: is64,
        is_dll,
        subsystem: subsystem_name(oh.subsystem().0),
        dll_characteristics: dll,
        nx_compat: has(pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT.0),
        dynamic_base: has(pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE.0),
        high_entropy_va: has(pe::IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA.0),
        force_integrity: has(pe::IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY.0),
        no_seh: has(pe::IMAGE_DLLCHARACTERISTICS_NO_SEH.0),
        guard_cf: has(pe::IMAGE_DLLCHARACTERISTICS_GUARD_CF.0) && lc.guard_flags & 0x100 != 0,
        gs: gs_source.is_some(),
        gs_source,
        safe_seh: (machine == pe::IMAGE_FILE_MACHINE_I386)
            .then_some(lc.se_handler_table != 0 && lc.se_handler_count != 0),
        dotnet,
        has_load_config,
        guard_flags: lc.guard_flags,
    })
}

fn imports_stack_chk_fail<Pe: ImageNtHeaders>(
    r: &Reader<'_>,
    dirs: &object::read::pe::DataDirectories<'_>,
    sections: &object::read::pe::SectionTable<'_>,
) -> bool {
    let Some(d) = dirs.get(pe::IMAGE_DIRECTORY_ENTRY_IMPORT) else {
        return false;
    };
    if d.virtual_address.get(LE) == 0 {
        return false;
    }
    // The import section is read from the descriptor to the section's end;
    // bound it like every other table.
    match sections.pe_file_range_at(d.virtual_address.get(LE)) {
        Some((_, size)) if u64::from(size) <= crate::reader::MAX_TABLE => {}
        _ => return false,
    }
    let Ok(Some(table)) = dirs.import_table(r.data(), sections) else {
        return false;
    };
    let Ok(mut descs) = table.descriptors() else {
        return false;
    };
    let mut thunks_seen = 0usize;
    for _ in 0..MAX_IMPORT_DLLS {
        let Ok(Some(desc)) = descs.next() else {
            break;
        };
        let first = match desc.original_first_thunk.get(LE) {
            0 => desc.first_thunk.get(LE),
            t => t,
        };
        let Ok(mut thunks) = table.thunks(first) else {
            continue;
        };
        while thunks_seen < MAX_IMPORT_THUNKS {
            thunks_seen += 1;
            let Ok(Some(thunk)) = thunks.next::<Pe>() else {
                break;
            };
            if thunk.is_ordinal() {
                continue;
            }
            if let Ok(Import::Name(_, name)) = table.import::<Pe>(thunk) {
                if name == b"__stack_chk_fail" {
                    return true;
                }
            }
        }
    }
    false
}

fn coff_symbol_stack_chk_fail(r: &Reader<'_>, fh: &pe::ImageFileHeader) -> bool {
    let ptr = fh.pointer_to_symbol_table.get(LE);
    let n = fh.number_of_symbols.get(LE);
    if ptr == 0 || n == 0 || n > MAX_COFF_SYMBOLS {
        return false;
    }
    let Ok(syms) = r.bytes(u64::from(ptr), u64::from(n) * 18, "COFF symbols") else {
        return false;
    };
    let str_off = u64::from(ptr) + u64::from(n) * 18;
    let Ok(len) = r.bytes(str_off, 4, "COFF string table size") else {
        return false;
    };
    let strsize = u64::from(u32::from_le_bytes([len[0], len[1], len[2], len[3]]));
    let strs = if strsize > 4 {
        r.bytes(str_off, strsize, "COFF string table")
            .unwrap_or(&[])
    } else {
        &[]
    };
    let target: &[u8] = b"__stack_chk_fail";
    let mut i = 0usize;
    while i + 18 <= syms.len() {
        let s = &syms[i..i + 18];
        let name: &[u8] = if s[..4] == [0, 0, 0, 0] {
            let off = u32::from_le_bytes([s[4], s[5], s[6], s[7]]) as usize;
            match strs.get(off..) {
                Some(rest) => &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())],
                None => &[],
            }
        } else {
            let n = &s[..8];
            &n[..n.iter().position(|&b| b == 0).unwrap_or(8)]
        };
        if name == target {
            return true;
        }
        // Skip auxiliary records.
        i += 18 * (1 + usize::from(s[17]));
    }
    false
}
