//! MFT file records ("FILE") and their attributes, parsed and validated by
//! us from the raw bytes.
//!
//! The `ntfs` crate reads attribute header fields with unchecked slice
//! indexing: an attribute that claims to be non-resident, or resident with
//! a value offset, while sitting in the last bytes of a record makes it
//! panic (index out of range). Every record that the crate is given is
//! first validated here (see `Ntfs::open`), and per-file work uses these
//! parsed records directly.

use super::boot::Geometry;
use super::bytes::{slice, u16_at, u32_at, u64_at, u8_at};
use super::runs::{self, Run};

pub(super) const ATTR_STANDARD_INFORMATION: u32 = 0x10;
pub(super) const ATTR_ATTRIBUTE_LIST: u32 = 0x20;
pub(super) const ATTR_FILE_NAME: u32 = 0x30;
pub(super) const ATTR_DATA: u32 = 0x80;
pub(super) const ATTR_INDEX_ROOT: u32 = 0x90;
pub(super) const ATTR_INDEX_ALLOCATION: u32 = 0xA0;
pub(super) const ATTR_REPARSE_POINT: u32 = 0xC0;
const ATTR_END: u32 = 0xFFFF_FFFF;

/// Attribute flags.
pub(super) const ATTR_FLAG_COMPRESSED: u16 = 0x0001;
pub(super) const ATTR_FLAG_ENCRYPTED: u16 = 0x4000;

/// Record flags.
pub(super) const RECORD_IN_USE: u16 = 0x0001;
pub(super) const RECORD_IS_DIRECTORY: u16 = 0x0002;

/// NTFS applies update sequence fixups in 512-byte strides whatever the
/// sector size.
const FIXUP_STRIDE: usize = 512;

/// One MFT record, fixed up and with every attribute header validated.
#[derive(Debug, Clone)]
pub(super) struct MftRecord {
    pub(super) number: u64,
    pub(super) link_count: u16,
    pub(super) flags: u16,
    /// Record number of the base record; 0 for a base record.
    pub(super) base_record: u64,
    pub(super) attrs: Vec<Attr>,
}

impl MftRecord {
    pub(super) fn in_use(&self) -> bool {
        self.flags & RECORD_IN_USE != 0
    }
    pub(super) fn is_directory(&self) -> bool {
        self.flags & RECORD_IS_DIRECTORY != 0
    }
    pub(super) fn has_attribute_list(&self) -> bool {
        self.attrs.iter().any(|a| a.ty == ATTR_ATTRIBUTE_LIST)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Attr {
    pub(super) ty: u32,
    /// Name as UTF-16 code units (`$I30` for directory indexes, empty for
    /// the unnamed data stream).
    pub(super) name: Vec<u16>,
    pub(super) flags: u16,
    pub(super) instance: u16,
    pub(super) body: AttrBody,
}

impl Attr {
    pub(super) fn name_is(&self, name: &str) -> bool {
        self.name.iter().copied().eq(name.encode_utf16())
    }
}

#[derive(Debug, Clone)]
pub(super) enum AttrBody {
    Resident(Vec<u8>),
    NonResident(NonResident),
}

#[derive(Debug, Clone)]
pub(super) struct NonResident {
    pub(super) lowest_vcn: u64,
    /// Binary exponent of the clusters per compression unit (0: none).
    pub(super) compression_unit: u8,
    pub(super) data_size: u64,
    pub(super) initialized_size: u64,
    /// The runs of this piece, starting at `lowest_vcn`.
    pub(super) runs: Vec<Run>,
}

/// Why a record could not be used.
#[derive(Debug)]
pub(super) enum RecordError {
    /// All-zero signature: a record slot that was never written.
    Unused,
    Corrupt(String),
}

impl From<String> for RecordError {
    fn from(s: String) -> Self {
        RecordError::Corrupt(s)
    }
}

/// Applies the update sequence array of a multi-sector record ("FILE" or
/// "INDX") in place: the last two bytes of each 512-byte stride must hold
/// the update sequence number and are replaced by the saved bytes.
pub(super) fn apply_fixup(buf: &mut [u8]) -> Result<(), String> {
    let usa_offset = usize::from(u16_at(buf, 4));
    let usa_count = usize::from(u16_at(buf, 6));
    let strides = buf.len() / FIXUP_STRIDE;
    if buf.len() % FIXUP_STRIDE != 0 || usa_count != strides + 1 {
        return Err(format!(
            "update sequence count {usa_count} does not match a {}-byte record",
            buf.len()
        ));
    }
    if usa_offset < 8 || usa_offset % 2 != 0 || usa_offset + 2 * usa_count > buf.len() {
        return Err(format!("update sequence array offset {usa_offset}"));
    }
    let usn = [buf[usa_offset], buf[usa_offset + 1]];
    for i in 1..usa_count {
        let end = i * FIXUP_STRIDE;
        if buf[end - 2..end] != usn {
            return Err(format!(
                "update sequence mismatch at byte {} (torn or damaged write)",
                end - 2
            ));
        }
        let saved = [buf[usa_offset + 2 * i], buf[usa_offset + 2 * i + 1]];
        buf[end - 2..end].copy_from_slice(&saved);
    }
    Ok(())
}

/// Parses MFT record `number` from its raw bytes (fixups are applied in
/// place).
pub(super) fn parse(buf: &mut [u8], number: u64, geo: &Geometry) -> Result<MftRecord, RecordError> {
    match buf.get(0..4) {
        Some(b"FILE") => {}
        Some([0, 0, 0, 0]) => return Err(RecordError::Unused),
        Some(b"BAAD") => {
            return Err("record is marked BAAD (failed multi-sector transfer)"
                .to_string()
                .into())
        }
        Some(other) => return Err(format!("signature {other:02x?} is not FILE").into()),
        None => return Err("record is empty".to_string().into()),
    }
    apply_fixup(buf)?;
    let buf = &*buf;
    let first_attr = usize::from(u16_at(buf, 0x14));
    let bytes_in_use = u32_at(buf, 0x18) as usize;
    let bytes_allocated = u32_at(buf, 0x1C) as usize;
    if bytes_allocated > buf.len() || bytes_in_use > bytes_allocated {
        return Err(format!(
            "bytes in use {bytes_in_use} / allocated {bytes_allocated} exceed the {}-byte record",
            buf.len()
        )
        .into());
    }
    if first_attr < 0x2A || first_attr % 8 != 0 || first_attr >= bytes_in_use {
        return Err(format!("first attribute offset {first_attr}").into());
    }
    let base_record = u64_at(buf, 0x20) & 0xFFFF_FFFF_FFFF;

    let mut attrs = Vec::new();
    let mut off = first_attr;
    loop {
        // Every record ends with an end marker inside the bytes in use; the
        // `ntfs` crate stops its attribute walk at the same marker.
        if off + 4 > bytes_in_use {
            return Err(format!("no attribute end marker before byte {bytes_in_use}").into());
        }
        let ty = u32_at(buf, off);
        if ty == ATTR_END {
            break;
        }
        attrs.push(parse_attr(buf, off, bytes_in_use, geo).map_err(|e| {
            RecordError::Corrupt(format!("attribute type {ty:#x} at byte {off}: {e}"))
        })?);
        off += u32_at(buf, off + 4) as usize;
    }
    Ok(MftRecord {
        number,
        link_count: u16_at(buf, 0x12),
        flags: u16_at(buf, 0x16),
        base_record,
        attrs,
    })
}

fn parse_attr(buf: &[u8], off: usize, end: usize, geo: &Geometry) -> Result<Attr, String> {
    if off + 16 > end {
        return Err("header runs past the bytes in use".into());
    }
    let len = u32_at(buf, off + 4) as usize;
    if len < 24 || len % 8 != 0 || len > end - off {
        return Err(format!("length {len}"));
    }
    let a = &buf[off..off + len];
    let non_resident = u8_at(a, 8);
    let name_len = usize::from(u8_at(a, 9)) * 2;
    let name_off = usize::from(u16_at(a, 10));
    let flags = u16_at(a, 12);
    let instance = u16_at(a, 14);
    let name = if name_len == 0 {
        Vec::new()
    } else {
        let raw = slice(a, name_off, name_len).ok_or("name lies outside the attribute")?;
        super::bytes::utf16_units(raw)
    };
    let body = match non_resident {
        0 => {
            let value_len = u32_at(a, 16) as usize;
            let value_off = usize::from(u16_at(a, 20));
            let value = slice(a, value_off, value_len).ok_or_else(|| {
                format!("resident value {value_off}+{value_len} lies outside the attribute")
            })?;
            AttrBody::Resident(value.to_vec())
        }
        1 => {
            let compression_unit = u8_at(a, 34);
            let header_len = if compression_unit != 0 { 72 } else { 64 };
            if len < header_len {
                return Err(format!(
                    "non-resident header needs {header_len} bytes, has {len}"
                ));
            }
            let lowest_vcn = u64_at(a, 16);
            if lowest_vcn > i64::MAX as u64 {
                return Err(format!("lowest VCN {lowest_vcn}"));
            }
            let runs_off = usize::from(u16_at(a, 32));
            if runs_off < 64 || runs_off > len {
                return Err(format!("data runs offset {runs_off}"));
            }
            let data_size = u64_at(a, 48);
            let initialized_size = u64_at(a, 56);
            if data_size > i64::MAX as u64 {
                return Err(format!("data size {data_size}"));
            }
            let mut runs = Vec::new();
            runs::decode(&a[runs_off..], lowest_vcn, geo.total_clusters, &mut runs)?;
            AttrBody::NonResident(NonResident {
                lowest_vcn,
                compression_unit,
                data_size,
                initialized_size,
                runs,
            })
        }
        other => return Err(format!("non-resident flag {other}")),
    };
    Ok(Attr {
        ty: u32_at(a, 0),
        name,
        flags,
        instance,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geo() -> Geometry {
        Geometry {
            cluster_size: 4096,
            record_size: 1024,
            size: 64 << 20,
            total_clusters: 16384,
            mft_lcn: 4,
            mft_mirror_lcn: 8000,
            serial_number: 0,
        }
    }

    /// A 1 KiB record with $STANDARD_INFORMATION, a named resident $DATA and
    /// a non-resident unnamed $DATA, with update sequence fixups applied
    /// (as stored on disk).
    fn record() -> Vec<u8> {
        let mut r = vec![0u8; 1024];
        r[0..4].copy_from_slice(b"FILE");
        r[4..6].copy_from_slice(&0x30u16.to_le_bytes());
        r[6..8].copy_from_slice(&3u16.to_le_bytes());
        r[0x12..0x14].copy_from_slice(&1u16.to_le_bytes());
        r[0x14..0x16].copy_from_slice(&0x38u16.to_le_bytes());
        r[0x16..0x18].copy_from_slice(&RECORD_IN_USE.to_le_bytes());
        r[0x1C..0x20].copy_from_slice(&1024u32.to_le_bytes());
        let mut off = 0x38;
        // $STANDARD_INFORMATION, resident, 48-byte value.
        let si = off;
        r[si..si + 4].copy_from_slice(&ATTR_STANDARD_INFORMATION.to_le_bytes());
        r[si + 4..si + 8].copy_from_slice(&72u32.to_le_bytes());
        r[si + 16..si + 20].copy_from_slice(&48u32.to_le_bytes());
        r[si + 20..si + 22].copy_from_slice(&24u16.to_le_bytes());
        off += 72;
        // $DATA named "ab", resident "xyz".
        let d = off;
        r[d..d + 4].copy_from_slice(&ATTR_DATA.to_le_bytes());
        r[d + 4..d + 8].copy_from_slice(&40u32.to_le_bytes());
        r[d + 9] = 2;
        r[d + 10..d + 12].copy_from_slice(&24u16.to_le_bytes());
        r[d + 16..d + 20].copy_from_slice(&3u32.to_le_bytes());
        r[d + 20..d + 22].copy_from_slice(&28u16.to_le_bytes());
        r[d + 24..d + 28].copy_from_slice(&[b'a', 0, b'b', 0]);
        r[d + 28..d + 31].copy_from_slice(b"xyz");
        off += 40;
        // Unnamed $DATA, non-resident: 2 clusters at LCN 100, 3 sparse.
        let n = off;
        r[n..n + 4].copy_from_slice(&ATTR_DATA.to_le_bytes());
        r[n + 4..n + 8].copy_from_slice(&72u32.to_le_bytes());
        r[n + 8] = 1;
        r[n + 14..n + 16].copy_from_slice(&3u16.to_le_bytes());
        r[n + 24..n + 32].copy_from_slice(&4u64.to_le_bytes());
        r[n + 32..n + 34].copy_from_slice(&64u16.to_le_bytes());
        r[n + 48..n + 56].copy_from_slice(&20_000u64.to_le_bytes());
        r[n + 56..n + 64].copy_from_slice(&20_000u64.to_le_bytes());
        r[n + 64..n + 70].copy_from_slice(&[0x11, 0x02, 0x64, 0x01, 0x03, 0x00]);
        off += 72;
        r[off..off + 4].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        r[0x18..0x1C].copy_from_slice(&((off + 8) as u32).to_le_bytes());
        // Update sequence: save the stride ends, write the USN there.
        let usn = [0x07, 0x00];
        r[0x30..0x32].copy_from_slice(&usn);
        for i in 1..3 {
            let end = i * 512;
            let saved = [r[end - 2], r[end - 1]];
            r[0x30 + 2 * i..0x32 + 2 * i].copy_from_slice(&saved);
            r[end - 2..end].copy_from_slice(&usn);
        }
        r
    }

    #[test]
    fn parses_a_record() {
        let mut r = record();
        let rec = parse(&mut r, 42, &geo()).unwrap();
        assert!(rec.in_use() && !rec.is_directory());
        assert_eq!(rec.attrs.len(), 3);
        assert!(rec.attrs[1].name_is("ab"));
        assert!(matches!(&rec.attrs[1].body, AttrBody::Resident(v) if v == b"xyz"));
        let AttrBody::NonResident(nr) = &rec.attrs[2].body else {
            panic!("expected non-resident");
        };
        assert_eq!(nr.data_size, 20_000);
        assert_eq!(nr.runs.len(), 2);
        assert_eq!(nr.runs[0].lcn, Some(100));
        assert_eq!(nr.runs[1].lcn, None);
    }

    #[test]
    fn detects_torn_writes_and_bad_headers() {
        let mut r = record();
        r[511] ^= 1;
        assert!(matches!(
            parse(&mut r, 1, &geo()),
            Err(RecordError::Corrupt(_))
        ));
        let mut r = vec![0u8; 1024];
        assert!(matches!(parse(&mut r, 1, &geo()), Err(RecordError::Unused)));
        let mut r = record();
        r[6] = 9; // update sequence count
        assert!(parse(&mut r, 1, &geo()).is_err());
    }

    /// Random byte changes never make the parser panic or loop.
    #[test]
    fn mutated_records_never_panic() {
        let base = record();
        let mut x = 0x1234_5678_9ABC_DEF1u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut ok = 0;
        for _ in 0..20_000 {
            let mut r = base.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % 1024) as usize;
                r[at] = next() as u8;
            }
            if parse(&mut r, 1, &geo()).is_ok() {
                ok += 1;
            }
        }
        assert!(ok > 0);
    }
}
