//! ELF hardening facts, as `checksec` reports them, from the program headers,
//! the dynamic section, `.dynsym`/`.dynstr`, the section headers and, only
//! when the answer is not found elsewhere, `.symtab`/`.strtab`.

use std::cell::RefCell;

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader, Sym};
use object::read::{ReadRef, StringTable};
use object::Endianness as ObjEndian;

use crate::reader::Reader;
use crate::{Error, RangeSource, Result};

/// Most program headers accepted (real files have < 20).
const MAX_PHNUM: u32 = 4096;
/// Most section headers accepted (real files have < 100; huge C++ objects
/// with many COMDAT groups can have tens of thousands).
const MAX_SHNUM: u32 = 1 << 20;
/// Most dynamic entries examined.
const MAX_DYN: usize = 1 << 16;
/// Longest interpreter path kept.
const MAX_INTERP: u64 = 4096;

/// ELF class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ElfClass {
    #[serde(rename = "32")]
    Elf32,
    #[serde(rename = "64")]
    Elf64,
}

/// Byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endianness {
    Little,
    Big,
}

/// What the file is. `ET_DYN` is split into PIE executables and shared
/// libraries: PIE when `DT_FLAGS_1` has `DF_1_PIE` or when it has `PT_INTERP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElfType {
    /// `ET_EXEC`: fixed-address executable.
    Exec,
    /// `ET_DYN` with `DF_1_PIE` or `PT_INTERP`.
    PieExecutable,
    /// `ET_DYN` otherwise.
    SharedObject,
    /// `ET_REL`.
    Relocatable,
    /// `ET_CORE`.
    Core,
    /// Any other `e_type`.
    Other(u16),
}

/// RELRO as checksec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relro {
    /// No `PT_GNU_RELRO`.
    None,
    /// `PT_GNU_RELRO` without immediate binding.
    Partial,
    /// `PT_GNU_RELRO` plus `DT_BIND_NOW`, `DF_BIND_NOW` or `DF_1_NOW`.
    Full,
}

/// Hardening facts of one ELF file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ElfFacts {
    pub class: ElfClass,
    pub endianness: Endianness,
    /// e.g. "x86_64", "aarch64"; "em_<n>" for machines not named here.
    pub machine: String,
    #[serde(rename = "type")]
    pub elf_type: ElfType,
    /// `PT_INTERP` contents (lossy UTF-8).
    pub interpreter: Option<String>,
    /// `PT_GNU_STACK`: `Some(true)` when it has `PF_X`, `None` when absent.
    pub gnu_stack: Option<bool>,
    /// Non-executable stack as checksec reports it: `PT_GNU_STACK` present
    /// and without `PF_X`. An absent `PT_GNU_STACK` means an executable
    /// stack on most architectures (and to checksec), so `false`.
    pub nx: bool,
    /// A symbol (dynamic or static) containing `__stack_chk_fail`,
    /// `__stack_chk_guard` or `__intel_security_cookie`.
    pub canary: bool,
    /// Load address randomisable: `ET_DYN` (PIE executable or shared
    /// library; `elf_type` tells which).
    pub pie: bool,
    pub relro: Relro,
    /// Immediate binding requested (`DT_BIND_NOW`, `DF_BIND_NOW`, `DF_1_NOW`).
    pub bind_now: bool,
    /// Any `__*_chk` function imported (static binaries: present in `.symtab`).
    pub fortify: bool,
    /// The `__*_chk` functions, sorted, without version suffixes.
    pub fortified: Vec<String>,
    /// Dynamic symbols that are glibc functions with a `_chk` variant, or
    /// those variants (checksec's "fortify-able").
    pub fortifiable: usize,
    /// `DT_RPATH` (raw, colon-separated).
    pub rpath: Option<String>,
    /// `DT_RUNPATH` (raw, colon-separated).
    pub runpath: Option<String>,
    /// `DT_NEEDED` entries in order.
    pub needed: Vec<String>,
    /// No `.symtab` section.
    pub stripped: bool,
    /// No `PT_INTERP` and no `DT_NEEDED`: nothing loaded at run time.
    pub is_static: bool,
    /// Section headers present (facts then come from sections where useful).
    pub has_section_headers: bool,
}

/// Read the hardening facts of an ELF file.
pub fn elf_hardening(src: &dyn RangeSource) -> Result<ElfFacts> {
    let mut ident = [0u8; 16];
    let n = read_full(src, 0, &mut ident)?;
    if n < 16 || ident[..4] != *b"\x7fELF" {
        return Err(Error::WrongFormat("ELF"));
    }
    let io = RefCell::new(None);
    let reader = Reader::new(src, &io);
    match ident[4] {
        1 => analyze::<elf::FileHeader32<ObjEndian>>(&reader),
        2 => analyze::<elf::FileHeader64<ObjEndian>>(&reader),
        _ => Err(Error::Malformed("ELF class")),
    }
}

fn read_full(src: &dyn RangeSource, offset: u64, buf: &mut [u8]) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = src.read_at(offset + done as u64, &mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n.min(buf.len() - done);
    }
    Ok(done)
}

/// Names of glibc functions that have a `__*_chk` variant (glibc 2.36).
const CHK_FUNCS: &[&str] = &[
    "asprintf",
    "confstr",
    "dprintf",
    "explicit_bzero",
    "fdelt",
    "fgets",
    "fgets_unlocked",
    "fgetws",
    "fgetws_unlocked",
    "fprintf",
    "fread",
    "fread_unlocked",
    "fwprintf",
    "getcwd",
    "getdomainname",
    "getgroups",
    "gethostname",
    "getlogin_r",
    "gets",
    "getwd",
    "longjmp",
    "mbsnrtowcs",
    "mbsrtowcs",
    "mbstowcs",
    "memcpy",
    "memmove",
    "mempcpy",
    "memset",
    "obstack_printf",
    "obstack_vprintf",
    "poll",
    "ppoll",
    "pread64",
    "pread",
    "printf",
    "ptsname_r",
    "read",
    "readlink",
    "readlinkat",
    "realpath",
    "recv",
    "recvfrom",
    "snprintf",
    "sprintf",
    "stpcpy",
    "stpncpy",
    "strcat",
    "strcpy",
    "strncat",
    "strncpy",
    "swprintf",
    "syslog",
    "ttyname_r",
    "vasprintf",
    "vdprintf",
    "vfprintf",
    "vfwprintf",
    "vprintf",
    "vsnprintf",
    "vsprintf",
    "vswprintf",
    "vsyslog",
    "vwprintf",
    "wcpcpy",
    "wcpncpy",
    "wcrtomb",
    "wcscat",
    "wcscpy",
    "wcsncat",
    "wcsncpy",
    "wcsnrtombs",
    "wcsrtombs",
    "wcstombs",
    "wctomb",
    "wmemcpy",
    "wmemmove",
    "wmempcpy",
    "wmemset",
    "wprintf",
];

const CANARY_NAMES: &[&[u8]] = &[
    b"__stack_chk_fail",
    b"__stack_chk_guard",
    b"__intel_security_cookie",
];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn is_canary(name: &[u8]) -> bool {
    CANARY_NAMES.iter().any(|n| contains(name, n))
}

/// `__foo_chk` → Some("__foo_chk").
fn chk_name(name: &[u8]) -> Option<String> {
    let base = name.split(|&b| b == b'@').next().unwrap_or(name);
    if base.len() > 6 && base.starts_with(b"__") && base.ends_with(b"_chk") {
        Some(String::from_utf8_lossy(base).into_owned())
    } else {
        None
    }
}

/// checksec's fortify-able test: strip the first run of leading
/// underscores and any version, then match `f` or `f_chk` for `f` in the
/// glibc list.
fn is_fortifiable(name: &[u8]) -> bool {
    let base = name.split(|&b| b == b'@').next().unwrap_or(name);
    let start = base.iter().position(|&b| b != b'_').unwrap_or(base.len());
    let base = &base[start..];
    let base = base.strip_suffix(b"_chk").unwrap_or(base);
    CHK_FUNCS.iter().any(|f| f.as_bytes() == base)
}

fn machine_name(m: elf::Machine) -> String {
    let s = match m {
        elf::EM_386 => "x86",
        elf::EM_X86_64 => "x86_64",
        elf::EM_AARCH64 => "aarch64",
        elf::EM_ARM => "arm",
        elf::EM_PPC => "powerpc",
        elf::EM_PPC64 => "powerpc64",
        elf::EM_S390 => "s390",
        elf::EM_RISCV => "riscv",
        elf::EM_MIPS => "mips",
        elf::EM_SPARC => "sparc",
        elf::EM_SPARCV9 => "sparcv9",
        elf::EM_IA_64 => "ia64",
        elf::EM_LOONGARCH => "loongarch",
        elf::EM_68K => "m68k",
        elf::EM_SH => "sh",
        elf::EM_ALPHA => "alpha",
        elf::EM_PARISC => "parisc",
        elf::EM_BPF => "bpf",
        _ => return format!("em_{}", m.0),
    };
    s.to_string()
}

struct Segments {
    loads: Vec<(u64, u64, u64)>, // (vaddr, filesz, offset)
}

impl Segments {
    fn offset_of(&self, vaddr: u64) -> Option<u64> {
        self.loads.iter().find_map(|&(va, filesz, off)| {
            (vaddr >= va && vaddr - va < filesz).then(|| off.saturating_add(vaddr - va))
        })
    }
    /// Bytes of file data mapped from `vaddr` to the end of its segment.
    fn avail_from(&self, vaddr: u64) -> Option<u64> {
        self.loads.iter().find_map(|&(va, filesz, _)| {
            (vaddr >= va && vaddr - va < filesz).then(|| filesz - (vaddr - va))
        })
    }
}

#[derive(Default)]
struct DynInfo {
    needed: Vec<u64>,
    rpath: Option<u64>,
    runpath: Option<u64>,
    strtab: Option<u64>,
    strsz: Option<u64>,
    symtab: Option<u64>,
    syment: Option<u64>,
    hash: Option<u64>,
    gnu_hash: Option<u64>,
    flags: u64,
    flags_1: u64,
    bind_now: bool,
}

fn analyze<Elf: FileHeader<Endian = ObjEndian>>(r: &Reader<'_>) -> Result<ElfFacts> {
    let data = r.data();
    let header = Elf::parse(data).map_err(|_| r.fail("ELF header"))?;
    let endian = header
        .endian()
        .map_err(|_| Error::Malformed("ELF data encoding"))?;
    let class = if header.is_type_64() {
        ElfClass::Elf64
    } else {
        ElfClass::Elf32
    };
    let endianness = if header.is_little_endian() {
        Endianness::Little
    } else {
        Endianness::Big
    };
    let e_type = header.e_type(endian).0;
    let machine = machine_name(header.e_machine(endian));

    // Program headers.
    let phnum = header
        .phnum(endian, data)
        .map_err(|_| r.fail("program header count"))?;
    if phnum > MAX_PHNUM {
        return Err(Error::TooLarge {
            what: "program header table",
            size: phnum as u64,
            limit: MAX_PHNUM as u64,
        });
    }
    let phdrs: &[Elf::ProgramHeader] = if phnum == 0 {
        &[]
    } else {
        header
            .program_headers(endian, data)
            .map_err(|_| r.fail("program headers"))?
    };

    let mut segs = Segments { loads: Vec::new() };
    let mut interp_range = None;
    let mut dynamic_range = None;
    let mut gnu_stack = None;
    let mut has_relro = false;
    for ph in phdrs {
        let off: u64 = ph.p_offset(endian).into();
        let filesz: u64 = ph.p_filesz(endian).into();
        match ph.p_type(endian).0 {
            t if t == elf::PT_LOAD.0 => {
                segs.loads.push((ph.p_vaddr(endian).into(), filesz, off));
            }
            t if t == elf::PT_INTERP.0 => interp_range = Some((off, filesz)),
            t if t == elf::PT_DYNAMIC.0 && dynamic_range.is_none() => {
                dynamic_range = Some((off, filesz));
            }
            t if t == elf::PT_GNU_STACK.0 => {
                gnu_stack = Some(ph.p_flags(endian).0 & elf::PF_X.0 != 0);
            }
            t if t == elf::PT_GNU_RELRO.0 => has_relro = true,
            _ => {}
        }
    }

    let interpreter = match interp_range {
        Some((off, size)) => {
            let size = size.min(MAX_INTERP);
            let bytes = r.bytes(off, size, "PT_INTERP")?;
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
        }
        None => None,
    };

    // Dynamic section.
    let mut dy = DynInfo::default();
    if let Some((off, size)) = dynamic_range {
        let entsize = std::mem::size_of::<Elf::Dyn>() as u64;
        let count = (size / entsize).min(MAX_DYN as u64);
        let dyns: &[Elf::Dyn] = r.slice(off, count, "dynamic section")?;
        for d in dyns {
            let tag = d.d_tag(endian).0;
            let val: u64 = d.d_val(endian).into();
            match tag {
                t if t == elf::DT_NULL.0 => break,
                t if t == elf::DT_NEEDED.0 && dy.needed.len() < 4096 => dy.needed.push(val),
                t if t == elf::DT_RPATH.0 => dy.rpath = Some(val),
                t if t == elf::DT_RUNPATH.0 => dy.runpath = Some(val),
                t if t == elf::DT_STRTAB.0 => dy.strtab = Some(val),
                t if t == elf::DT_STRSZ.0 => dy.strsz = Some(val),
                t if t == elf::DT_SYMTAB.0 => dy.symtab = Some(val),
                t if t == elf::DT_SYMENT.0 => dy.syment = Some(val),
                t if t == elf::DT_HASH.0 => dy.hash = Some(val),
                t if t == elf::DT_GNU_HASH.0 => dy.gnu_hash = Some(val),
                t if t == elf::DT_FLAGS.0 => dy.flags |= val,
                t if t == elf::DT_FLAGS_1.0 => dy.flags_1 |= val,
                t if t == elf::DT_BIND_NOW.0 => dy.bind_now = true,
                _ => {}
            }
        }
    }
    let bind_now =
        dy.bind_now || dy.flags & elf::DF_BIND_NOW.0 != 0 || dy.flags_1 & elf::DF_1_NOW.0 != 0;

    // Section headers (for .dynsym's exact extent and .symtab).
    let shnum = header
        .shnum(endian, data)
        .map_err(|_| r.fail("section header count"))?;
    if shnum > MAX_SHNUM {
        return Err(Error::TooLarge {
            what: "section header table",
            size: shnum as u64,
            limit: MAX_SHNUM as u64,
        });
    }
    let shdrs: &[Elf::SectionHeader] = if shnum == 0 {
        &[]
    } else {
        match header.section_headers(endian, data) {
            Ok(s) => s,
            // Section headers are optional for execution; a file whose
            // table points past the end still has its segments' facts.
            Err(_) if !phdrs.is_empty() => {
                if let Some(e) = r.fail("section headers").into_io() {
                    return Err(Error::Io(e));
                }
                &[]
            }
            Err(_) => return Err(r.fail("section headers")),
        }
    };
    let find = |ty: u32| {
        shdrs
            .iter()
            .find(|s| s.sh_type(endian).0 == ty && s.sh_type(endian).0 != elf::SHT_NOBITS.0)
    };
    let dynsym_sec = find(elf::SHT_DYNSYM.0);
    let symtab_sec = find(elf::SHT_SYMTAB.0);
    let linked = |s: &Elf::SectionHeader| -> Option<(u64, u64)> {
        let link = s.sh_link(endian) as usize;
        let l = shdrs.get(link)?;
        (l.sh_type(endian).0 == elf::SHT_STRTAB.0)
            .then(|| (l.sh_offset(endian).into(), l.sh_size(endian).into()))
    };

    // Dynamic string table: the loader's view (DT_STRTAB/DT_STRSZ) first,
    // else the section linked from .dynsym.
    let dynstr_range = dy
        .strtab
        .and_then(|va| {
            let off = segs.offset_of(va)?;
            let avail = segs.avail_from(va)?;
            Some((off, dy.strsz.unwrap_or(avail).min(avail)))
        })
        .or_else(|| dynsym_sec.and_then(&linked));
    let dynstr: &[u8] = match dynstr_range {
        Some((off, size)) if size > 0 => r.bytes(off, size, "dynamic string table")?,
        _ => &[],
    };
    let dstrings = StringTable::new(dynstr, 0, dynstr.len() as u64);
    let dstr = |off: u64| -> String {
        u32::try_from(off)
            .ok()
            .and_then(|o| dstrings.get(o).ok())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    let needed: Vec<String> = dy.needed.iter().map(|&o| dstr(o)).collect();
    let rpath = dy.rpath.map(dstr);
    let runpath = dy.runpath.map(dstr);

    // Dynamic symbols: .dynsym if sections exist, else DT_SYMTAB with a
    // count from DT_HASH, DT_GNU_HASH, or the gap up to DT_STRTAB.
    let sym_size = std::mem::size_of::<Elf::Sym>() as u64;
    let dynsym_range = match dynsym_sec {
        Some(s) => Some((
            s.sh_offset(endian).into(),
            Into::<u64>::into(s.sh_size(endian)) / sym_size,
        )),
        None => match dy.symtab {
            Some(va) if dy.syment.is_none_or(|e| e == sym_size) => {
                let off = segs.offset_of(va);
                let avail = segs.avail_from(va).unwrap_or(0) / sym_size;
                let count = dyn_sym_count::<Elf>(r, endian, &segs, &dy).unwrap_or(avail);
                off.map(|o| (o, count.min(avail)))
            }
            _ => None,
        },
    };
    let dynsyms: &[Elf::Sym] = match dynsym_range {
        Some((off, count)) if count > 0 => r.slice(off, count, "dynamic symbol table")?,
        _ => &[],
    };

    let mut canary = false;
    let mut fortified = Vec::new();
    let mut fortifiable = 0usize;
    for sym in dynsyms {
        let Ok(name) = dstrings.get(sym.st_name(endian)) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        canary |= is_canary(name);
        if is_fortifiable(name) {
            fortifiable += 1;
        }
        if sym.is_undefined(endian) {
            if let Some(n) = chk_name(name) {
                fortified.push(n);
            }
        }
    }

    let is_static = interpreter.is_none() && needed.is_empty();
    // Static symbols: only when the answer still depends on them.
    if let Some(st) = symtab_sec {
        if !canary || (is_static && fortified.is_empty()) {
            let count = Into::<u64>::into(st.sh_size(endian)) / sym_size;
            let syms: &[Elf::Sym] = r.slice(st.sh_offset(endian).into(), count, "symbol table")?;
            let strtab = match linked(st) {
                Some((off, size)) => r.bytes(off, size, "string table")?,
                None => &[],
            };
            let strings = StringTable::new(strtab, 0, strtab.len() as u64);
            for sym in syms {
                let Ok(name) = strings.get(sym.st_name(endian)) else {
                    continue;
                };
                canary |= is_canary(name);
                if is_static && sym.st_type() == elf::STT_FUNC {
                    if let Some(n) = chk_name(name) {
                        fortified.push(n);
                    }
                }
            }
        }
    }
    fortified.sort();
    fortified.dedup();

    let elf_type = match e_type {
        t if t == elf::ET_EXEC.0 => ElfType::Exec,
        t if t == elf::ET_DYN.0 => {
            if dy.flags_1 & elf::DF_1_PIE.0 != 0 || interpreter.is_some() {
                ElfType::PieExecutable
            } else {
                ElfType::SharedObject
            }
        }
        t if t == elf::ET_REL.0 => ElfType::Relocatable,
        t if t == elf::ET_CORE.0 => ElfType::Core,
        t => ElfType::Other(t),
    };

    Ok(ElfFacts {
        class,
        endianness,
        machine,
        elf_type,
        interpreter,
        gnu_stack,
        nx: gnu_stack == Some(false),
        canary,
        pie: e_type == elf::ET_DYN.0,
        relro: match (has_relro, bind_now) {
            (false, _) => Relro::None,
            (true, false) => Relro::Partial,
            (true, true) => Relro::Full,
        },
        bind_now,
        fortify: !fortified.is_empty(),
        fortified,
        fortifiable,
        rpath,
        runpath,
        needed,
        stripped: symtab_sec.is_none(),
        is_static,
        has_section_headers: !shdrs.is_empty(),
    })
}

/// Number of dynamic symbols without section headers: `DT_HASH`'s nchain,
/// else the highest symbol index reachable through `DT_GNU_HASH`.
fn dyn_sym_count<Elf: FileHeader<Endian = ObjEndian>>(
    r: &Reader<'_>,
    endian: ObjEndian,
    segs: &Segments,
    dy: &DynInfo,
) -> Option<u64> {
    if let Some(off) = dy.hash.and_then(|va| segs.offset_of(va)) {
        let b = r.bytes(off, 8, "DT_HASH").ok()?;
        return Some(u32_at(endian, &b[4..]) as u64);
    }
    let off = dy.gnu_hash.and_then(|va| segs.offset_of(va))?;
    let b = r.bytes(off, 16, "DT_GNU_HASH").ok()?;
    // (reads past the end fail in the reader)
    let word = |i: usize| u32_at(endian, &b[i..]) as u64;
    let (nbuckets, symoffset, bloom_size) = (word(0), word(4), word(8));
    if nbuckets == 0 || nbuckets > 1 << 20 || bloom_size > 1 << 20 {
        return None;
    }
    let word_size: u64 = if Elf::is_type_64_sized() { 8 } else { 4 };
    let buckets_off = off.saturating_add(16 + bloom_size * word_size);
    let buckets = r
        .bytes(buckets_off, nbuckets * 4, "DT_GNU_HASH buckets")
        .ok()?;
    let max = buckets
        .chunks_exact(4)
        .map(|c| u32_at(endian, c) as u64)
        .max()?;
    if max < symoffset {
        return Some(symoffset);
    }
    // Walk the chain of the last bucket until its end marker (low bit), in
    // chunks, at most 64 Ki entries.
    let chains_off = buckets_off.saturating_add(nbuckets * 4);
    let mut idx = max;
    for _ in 0..64 {
        let start = chains_off.saturating_add((idx - symoffset).saturating_mul(4));
        let avail = r.data().len().ok()?.saturating_sub(start) / 4;
        let n = avail.min(1024);
        if n == 0 {
            return None;
        }
        let b = r.bytes(start, n * 4, "DT_GNU_HASH chain").ok()?;
        for c in b.chunks_exact(4) {
            if u32_at(endian, c) & 1 != 0 {
                return Some(idx + 1);
            }
            idx += 1;
        }
    }
    None
}

fn u32_at(endian: ObjEndian, b: &[u8]) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    match endian {
        ObjEndian::Little => u32::from_le_bytes(a),
        ObjEndian::Big => u32::from_be_bytes(a),
    }
}

impl Error {
    fn into_io(self) -> Option<std::io::Error> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}
