//! A small ELF writer for tests: one PT_LOAD mapping the whole file at
//! address 0, with optional interpreter, dynamic section, dynamic and static
//! symbols, and section headers. Both classes, both byte orders.

pub struct ElfSpec {
    pub is64: bool,
    pub big_endian: bool,
    pub e_type: u16,
    pub machine: u16,
    pub interp: bool,
    /// PT_GNU_STACK flags, or None for no PT_GNU_STACK.
    pub gnu_stack: Option<u32>,
    pub relro: bool,
    pub dt_bind_now: bool,
    pub dt_flags: u64,
    pub dt_flags_1: u64,
    pub dynamic: bool,
    /// Undefined dynamic symbols.
    pub imports: Vec<&'static str>,
    /// Names in .symtab (none → no .symtab).
    pub static_syms: Vec<&'static str>,
    pub needed: Vec<&'static str>,
    pub rpath: Option<&'static str>,
    pub runpath: Option<&'static str>,
    pub sections: bool,
}

impl Default for ElfSpec {
    fn default() -> Self {
        ElfSpec {
            is64: true,
            big_endian: false,
            e_type: 3,
            machine: 62,
            interp: true,
            gnu_stack: Some(6),
            relro: true,
            dt_bind_now: false,
            dt_flags: 0,
            dt_flags_1: 0,
            dynamic: true,
            imports: vec!["__stack_chk_fail", "__memcpy_chk", "printf"],
            static_syms: vec![],
            needed: vec!["libc.so.6"],
            rpath: None,
            runpath: None,
            sections: true,
        }
    }
}

struct W {
    b: Vec<u8>,
    be: bool,
    is64: bool,
}

impl W {
    fn put(&mut self, off: usize, width: usize, v: u64) {
        if self.b.len() < off + width {
            self.b.resize(off + width, 0);
        }
        for i in 0..width {
            let byte = (v >> (8 * i)) as u8;
            let at = if self.be {
                off + width - 1 - i
            } else {
                off + i
            };
            self.b[at] = byte;
        }
    }
    fn word(&mut self, off: usize, v: u64) {
        let w = if self.is64 { 8 } else { 4 };
        self.put(off, w, v)
    }
    fn bytes(&mut self, off: usize, data: &[u8]) {
        if self.b.len() < off + data.len() {
            self.b.resize(off + data.len(), 0);
        }
        self.b[off..off + data.len()].copy_from_slice(data);
    }
}

/// Offsets of the pieces, for tests that corrupt them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Layout {
    pub phoff: usize,
    pub phnum: usize,
    pub phentsize: usize,
    pub interp: usize,
    pub dynstr: usize,
    pub dynsym: usize,
    pub hash: usize,
    pub dynamic: usize,
    pub dynamic_len: usize,
    pub symtab: usize,
    pub shoff: usize,
    pub shnum: usize,
    pub shentsize: usize,
}

pub fn build_elf(s: &ElfSpec) -> (Vec<u8>, Layout) {
    let mut w = W {
        b: vec![0; 0x800],
        be: s.big_endian,
        is64: s.is64,
    };
    let ws = if s.is64 { 8 } else { 4 };
    let mut l = Layout {
        phoff: if s.is64 { 64 } else { 52 },
        ..Default::default()
    };
    l.phentsize = if s.is64 { 56 } else { 32 };
    l.shentsize = if s.is64 { 64 } else { 40 };
    l.interp = 0x200;
    l.dynstr = 0x240;
    l.dynsym = 0x300;
    l.hash = 0x3c0;
    l.dynamic = 0x400;
    l.symtab = 0x520;
    let strtab = 0x5a0;
    let shstrtab = 0x5e0;
    l.shoff = 0x640;

    // .dynstr
    let mut dynstr = vec![0u8];
    let add = |v: &mut Vec<u8>, n: &str| {
        let o = v.len();
        v.extend_from_slice(n.as_bytes());
        v.push(0);
        o as u64
    };
    let import_offs: Vec<u64> = s.imports.iter().map(|n| add(&mut dynstr, n)).collect();
    let needed_offs: Vec<u64> = s.needed.iter().map(|n| add(&mut dynstr, n)).collect();
    let rpath_off = s.rpath.map(|n| add(&mut dynstr, n));
    let runpath_off = s.runpath.map(|n| add(&mut dynstr, n));
    assert!(dynstr.len() <= 0xc0);
    w.bytes(l.dynstr, &dynstr);
    // .dynsym: null + imports (UND, FUNC, GLOBAL).
    let syment = if s.is64 { 24 } else { 16 };
    let sym = |w: &mut W, at: usize, name: u64, info: u8, shndx: u16| {
        w.put(at, 4, name);
        if w.is64 {
            w.put(at + 4, 1, info as u64);
            w.put(at + 6, 2, shndx as u64);
        } else {
            w.put(at + 12, 1, info as u64);
            w.put(at + 14, 2, shndx as u64);
        }
    };
    let nsyms = 1 + s.imports.len();
    assert!(nsyms * syment <= 0xc0);
    for (i, &o) in import_offs.iter().enumerate() {
        sym(&mut w, l.dynsym + (i + 1) * syment, o, 0x12, 0);
    }
    // DT_HASH: nbucket 1, nchain nsyms.
    w.put(l.hash, 4, 1);
    w.put(l.hash + 4, 4, nsyms as u64);
    // .dynamic
    let mut d = l.dynamic;
    let mut dynent = |w: &mut W, tag: u64, val: u64| {
        w.word(d, tag);
        w.word(d + ws, val);
        d += 2 * ws;
    };
    if s.dynamic {
        for &o in &needed_offs {
            dynent(&mut w, 1, o);
        }
        if let Some(o) = rpath_off {
            dynent(&mut w, 15, o);
        }
        if let Some(o) = runpath_off {
            dynent(&mut w, 29, o);
        }
        dynent(&mut w, 4, l.hash as u64);
        dynent(&mut w, 5, l.dynstr as u64);
        dynent(&mut w, 6, l.dynsym as u64);
        dynent(&mut w, 10, dynstr.len() as u64);
        dynent(&mut w, 11, syment as u64);
        if s.dt_bind_now {
            dynent(&mut w, 24, 0);
        }
        if s.dt_flags != 0 {
            dynent(&mut w, 30, s.dt_flags);
        }
        if s.dt_flags_1 != 0 {
            dynent(&mut w, 0x6fff_fffb, s.dt_flags_1);
        }
        dynent(&mut w, 0, 0);
    }
    l.dynamic_len = d - l.dynamic;
    // .symtab / .strtab
    let mut strs = vec![0u8];
    let static_offs: Vec<u64> = s.static_syms.iter().map(|n| add(&mut strs, n)).collect();
    for (i, &o) in static_offs.iter().enumerate() {
        sym(&mut w, l.symtab + (i + 1) * syment, o, 0x12, 1);
    }
    w.bytes(strtab, &strs);
    let interp = b"/lib64/ld-linux-x86-64.so.2\0";
    w.bytes(l.interp, interp);

    // Section headers: null, .dynsym, .dynstr, .symtab?, .strtab?, .shstrtab
    let shstr = b"\0.dynsym\0.dynstr\0.symtab\0.strtab\0.shstrtab\0.dynamic\0";
    w.bytes(shstrtab, shstr);
    let mut sh = vec![(0u32, 0u32, 0usize, 0usize, 0u32, 0usize)]; // name, type, off, size, link, entsize
    sh.push((1, 11, l.dynsym, nsyms * syment, 2, syment));
    sh.push((9, 3, l.dynstr, dynstr.len(), 0, 0));
    if !s.static_syms.is_empty() {
        let idx = sh.len() as u32;
        sh.push((
            17,
            2,
            l.symtab,
            (1 + s.static_syms.len()) * syment,
            idx + 1,
            syment,
        ));
        sh.push((25, 3, strtab, strs.len(), 0, 0));
    }
    sh.push((33, 3, shstrtab, shstr.len(), 0, 0));
    sh.push((43, 6, l.dynamic, l.dynamic_len, 2, 2 * ws));
    l.shnum = sh.len();
    for (i, &(name, ty, off, size, link, entsize)) in sh.iter().enumerate() {
        let at = l.shoff + i * l.shentsize;
        w.put(at, 4, name as u64);
        w.put(at + 4, 4, ty as u64);
        if s.is64 {
            w.put(at + 24, 8, off as u64);
            w.put(at + 32, 8, size as u64);
            w.put(at + 40, 4, link as u64);
            w.put(at + 56, 8, entsize as u64);
        } else {
            w.put(at + 16, 4, off as u64);
            w.put(at + 20, 4, size as u64);
            w.put(at + 24, 4, link as u64);
            w.put(at + 36, 4, entsize as u64);
        }
    }
    let file_len = l.shoff + sh.len() * l.shentsize;
    w.b.resize(file_len, 0);

    // Program headers.
    let mut ph = vec![(1u32, 5u32, 0usize, file_len)];
    if s.interp {
        ph.push((3, 4, l.interp, interp.len()));
    }
    if s.dynamic {
        ph.push((2, 6, l.dynamic, l.dynamic_len));
    }
    if let Some(flags) = s.gnu_stack {
        ph.push((0x6474_e551, flags, 0, 0));
    }
    if s.relro {
        ph.push((0x6474_e552, 4, l.dynamic, l.dynamic_len));
    }
    l.phnum = ph.len();
    for (i, &(ty, flags, off, size)) in ph.iter().enumerate() {
        let at = l.phoff + i * l.phentsize;
        w.put(at, 4, ty as u64);
        if s.is64 {
            w.put(at + 4, 4, flags as u64);
            w.put(at + 8, 8, off as u64);
            w.put(at + 16, 8, off as u64);
            w.put(at + 32, 8, size as u64);
            w.put(at + 40, 8, size as u64);
        } else {
            w.put(at + 4, 4, off as u64);
            w.put(at + 8, 4, off as u64);
            w.put(at + 16, 4, size as u64);
            w.put(at + 20, 4, size as u64);
            w.put(at + 24, 4, flags as u64);
        }
    }

    // ELF header.
    w.bytes(0, b"\x7fELF");
    w.b[4] = if s.is64 { 2 } else { 1 };
    w.b[5] = if s.big_endian { 2 } else { 1 };
    w.b[6] = 1;
    w.put(16, 2, s.e_type as u64);
    w.put(18, 2, s.machine as u64);
    w.put(20, 4, 1);
    let (phoff_at, shoff_at, rest) = if s.is64 { (32, 40, 48) } else { (28, 32, 36) };
    w.word(phoff_at, l.phoff as u64);
    w.word(shoff_at, if s.sections { l.shoff as u64 } else { 0 });
    w.put(rest + 4, 2, l.phoff as u64); // e_ehsize
    w.put(rest + 6, 2, l.phentsize as u64);
    w.put(rest + 8, 2, l.phnum as u64);
    w.put(rest + 10, 2, l.shentsize as u64);
    w.put(rest + 12, 2, if s.sections { l.shnum as u64 } else { 0 });
    w.put(
        rest + 14,
        2,
        if s.sections { (l.shnum - 2) as u64 } else { 0 },
    );
    (w.b, l)
}
