//! A minimal PE writer for tests.

/// Load config image for PE32+ (`pe64`) or PE32 with the given fields.
pub fn load_config(
    pe64: bool,
    size: u32,
    cookie: u64,
    seh: (u64, u64),
    guard_flags: u32,
) -> Vec<u8> {
    let mut b = vec![0u8; if pe64 { 148 } else { 92 }];
    b[..4].copy_from_slice(&size.to_le_bytes());
    if pe64 {
        b[88..96].copy_from_slice(&cookie.to_le_bytes());
        b[96..104].copy_from_slice(&seh.0.to_le_bytes());
        b[104..112].copy_from_slice(&seh.1.to_le_bytes());
        b[144..148].copy_from_slice(&guard_flags.to_le_bytes());
    } else {
        b[60..64].copy_from_slice(&(cookie as u32).to_le_bytes());
        b[64..68].copy_from_slice(&(seh.0 as u32).to_le_bytes());
        b[68..72].copy_from_slice(&(seh.1 as u32).to_le_bytes());
        b[88..92].copy_from_slice(&guard_flags.to_le_bytes());
    }
    b
}

pub struct PeSpec {
    pub pe64: bool,
    pub machine: u16,
    pub characteristics: u16,
    pub dll_chars: u16,
    pub subsystem: u16,
    pub load_config: Option<Vec<u8>>,
    pub clr: bool,
}

impl Default for PeSpec {
    fn default() -> Self {
        PeSpec {
            pe64: true,
            machine: 0x8664,
            characteristics: 0x0022,
            dll_chars: 0,
            subsystem: 3,
            load_config: None,
            clr: false,
        }
    }
}

/// A minimal PE: DOS header, NT headers, one section `.rdata` at RVA 0x1000
/// (file offset 0x200) holding the load config at its start and a fake CLR
/// header at +0x100.
pub fn build_pe(s: &PeSpec) -> Vec<u8> {
    let mut f = vec![0u8; 0x400];
    f[0] = b'M';
    f[1] = b'Z';
    f[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    let nt = 0x40;
    f[nt..nt + 4].copy_from_slice(b"PE\0\0");
    let fh = nt + 4;
    let opt_size: u16 = if s.pe64 { 240 } else { 224 };
    f[fh..fh + 2].copy_from_slice(&s.machine.to_le_bytes());
    f[fh + 2..fh + 4].copy_from_slice(&1u16.to_le_bytes());
    f[fh + 16..fh + 18].copy_from_slice(&opt_size.to_le_bytes());
    f[fh + 18..fh + 20].copy_from_slice(&s.characteristics.to_le_bytes());
    let oh = fh + 20;
    let put16 = |f: &mut Vec<u8>, o: usize, v: u16| f[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |f: &mut Vec<u8>, o: usize, v: u32| f[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put16(&mut f, oh, if s.pe64 { 0x20b } else { 0x10b });
    // Offsets common to both after the magic-specific part.
    let (sect_align, subsys, dllc, nrva, dirs) = if s.pe64 {
        (oh + 32, oh + 68, oh + 70, oh + 108, oh + 112)
    } else {
        (oh + 32, oh + 68, oh + 70, oh + 92, oh + 96)
    };
    put32(&mut f, sect_align, 0x1000);
    put32(&mut f, sect_align + 4, 0x200);
    put32(&mut f, oh + 56, 0x2000); // SizeOfImage
    put32(&mut f, oh + 60, 0x200); // SizeOfHeaders
    put16(&mut f, subsys, s.subsystem);
    put16(&mut f, dllc, s.dll_chars);
    put32(&mut f, nrva, 16);
    if let Some(lc) = &s.load_config {
        put32(&mut f, dirs + 10 * 8, 0x1000);
        put32(&mut f, dirs + 10 * 8 + 4, lc.len() as u32);
        f[0x200..0x200 + lc.len()].copy_from_slice(lc);
    }
    if s.clr {
        put32(&mut f, dirs + 14 * 8, 0x1100);
        put32(&mut f, dirs + 14 * 8 + 4, 72);
        f[0x300] = 72;
    }
    let sh = oh + opt_size as usize;
    f[sh..sh + 6].copy_from_slice(b".rdata");
    put32(&mut f, sh + 8, 0x200); // VirtualSize
    put32(&mut f, sh + 12, 0x1000); // VirtualAddress
    put32(&mut f, sh + 16, 0x200); // SizeOfRawData
    put32(&mut f, sh + 20, 0x200); // PointerToRawData
    put32(&mut f, sh + 36, 0x4000_0040);
    f
}
