//! Little-endian field reads that never panic, and UTF-16 name decoding.
//!
//! Out-of-range reads return 0: every caller checks the bounds of the
//! structure it parses before reading its fields, so a 0 here only ever
//! stands for bytes that were validated to exist.

pub(super) fn u8_at(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

pub(super) fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut v = [0u8; 2];
    if let Some(s) = at.checked_add(2).and_then(|end| b.get(at..end)) {
        v.copy_from_slice(s);
    }
    u16::from_le_bytes(v)
}

pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    if let Some(s) = at.checked_add(4).and_then(|end| b.get(at..end)) {
        v.copy_from_slice(s);
    }
    u32::from_le_bytes(v)
}

pub(super) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    if let Some(s) = at.checked_add(8).and_then(|end| b.get(at..end)) {
        v.copy_from_slice(s);
    }
    u64::from_le_bytes(v)
}

/// `b[start..start + len]`, or `None` when that range is not inside `b`.
pub(super) fn slice(b: &[u8], start: usize, len: usize) -> Option<&[u8]> {
    b.get(start..start.checked_add(len)?)
}

/// UTF-16LE code units of `b` (an odd trailing byte is ignored).
pub(super) fn utf16_units(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// Decodes UTF-16LE into UTF-8 bytes. NTFS names are sequences of UTF-16
/// code units that need not be valid UTF-16: an unpaired surrogate becomes
/// U+FFFD, so this conversion is lossy for such (rare, usually hostile)
/// names, and two distinct on-disk names can map to the same bytes.
pub(super) fn utf16le_to_utf8_lossy(b: &[u8]) -> Vec<u8> {
    char::decode_utf16(utf16_units(b))
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_out_of_range_are_zero() {
        let b = [1u8, 2, 3];
        assert_eq!(u16_at(&b, 1), 0x0302);
        assert_eq!(u16_at(&b, 2), 0);
        assert_eq!(u32_at(&b, usize::MAX), 0);
        assert_eq!(u64_at(&b, 0), 0);
        assert!(slice(&b, usize::MAX, 2).is_none());
    }

    #[test]
    fn lossy_utf16() {
        let name: Vec<u8> = [0x0061u16, 0xD800, 0x00E9]
            .iter()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(utf16le_to_utf8_lossy(&name), "a\u{FFFD}é".as_bytes());
    }
}
