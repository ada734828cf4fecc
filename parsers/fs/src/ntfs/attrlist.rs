//! $ATTRIBUTE_LIST: a file whose attributes do not fit in one MFT record
//! lists where each attribute (or each piece of a large one) lives.

use super::bytes::{slice, u16_at, u32_at, u64_at, u8_at, utf16_units};

/// One entry of an attribute list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListEntry {
    pub(super) ty: u32,
    pub(super) name: Vec<u16>,
    /// MFT record holding the attribute.
    pub(super) record: u64,
    pub(super) instance: u16,
}

/// Largest attribute list value we read (Windows' own limit is 256 KiB).
pub(super) const MAX_LIST_BYTES: u64 = 4 * 1024 * 1024;

/// Parses the entries of an attribute list value.
pub(super) fn parse(value: &[u8]) -> Result<Vec<ListEntry>, String> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < value.len() {
        let e = &value[pos..];
        if e.len() < 26 {
            // Trailing padding shorter than an entry header.
            if e.iter().all(|&b| b == 0) {
                break;
            }
            return Err(format!("truncated entry at byte {pos}"));
        }
        let len = usize::from(u16_at(e, 4));
        if len < 26 || len > e.len() {
            return Err(format!("entry at byte {pos} has length {len}"));
        }
        let name_len = usize::from(u8_at(e, 6)) * 2;
        let name_off = usize::from(u8_at(e, 7));
        let name = if name_len == 0 {
            Vec::new()
        } else {
            utf16_units(
                slice(&e[..len], name_off, name_len)
                    .ok_or_else(|| format!("entry at byte {pos}: name outside the entry"))?,
            )
        };
        out.push(ListEntry {
            ty: u32_at(e, 0),
            name,
            record: u64_at(e, 16) & 0xFFFF_FFFF_FFFF,
            instance: u16_at(e, 24),
        });
        pos += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ty: u32, record: u64, instance: u16, name: &str) -> Vec<u8> {
        let units: Vec<u16> = name.encode_utf16().collect();
        let len = (26 + units.len() * 2).div_ceil(8) * 8;
        let mut e = vec![0u8; len];
        e[0..4].copy_from_slice(&ty.to_le_bytes());
        e[4..6].copy_from_slice(&(len as u16).to_le_bytes());
        e[6] = units.len() as u8;
        e[7] = 26;
        e[16..24].copy_from_slice(&(record | (3 << 48)).to_le_bytes());
        e[24..26].copy_from_slice(&instance.to_le_bytes());
        for (i, u) in units.iter().enumerate() {
            e[26 + 2 * i..28 + 2 * i].copy_from_slice(&u.to_le_bytes());
        }
        e
    }

    #[test]
    fn parses_entries() {
        let mut v = entry(0x10, 40, 0, "");
        v.extend(entry(0x80, 41, 3, ""));
        v.extend(entry(0xA0, 41, 4, "$I30"));
        let list = parse(&v).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[1].record, 41);
        assert_eq!(list[2].name, "$I30".encode_utf16().collect::<Vec<_>>());
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut v = entry(0x80, 41, 3, "x");
        v[4] = 10;
        assert!(parse(&v).is_err());
        let mut v = entry(0x80, 41, 3, "x");
        v[6] = 200;
        assert!(parse(&v).is_err());
        assert!(parse(&[1u8; 10]).is_err());
        assert!(parse(&[0u8; 10]).unwrap().is_empty());
    }
}
