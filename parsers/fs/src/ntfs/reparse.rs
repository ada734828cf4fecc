//! $REPARSE_POINT values: symbolic links, junctions (mount points), WSL
//! symlinks, and the tags whose file data lives somewhere else.

use super::bytes::{slice, u16_at, u32_at, utf16le_to_utf8_lossy};

pub(super) const TAG_MOUNT_POINT: u32 = 0xA000_0003;
pub(super) const TAG_SYMLINK: u32 = 0xA000_000C;
/// Symlink created by WSL (target stored as UTF-8).
pub(super) const TAG_LX_SYMLINK: u32 = 0xA000_001D;
/// Windows Overlay Filter: data compressed into a named stream (CompactOS).
pub(super) const TAG_WOF: u32 = 0x8000_0017;
/// Data deduplication: data lives in the chunk store.
pub(super) const TAG_DEDUP: u32 = 0x8000_0013;

/// Largest reparse point value NTFS allows.
pub(super) const MAX_REPARSE_BYTES: u64 = 16 * 1024;

pub(super) fn is_link(tag: u32) -> bool {
    matches!(tag, TAG_MOUNT_POINT | TAG_SYMLINK | TAG_LX_SYMLINK)
}

/// Why reading this file's unnamed data stream would not give its content,
/// for reparse tags that keep the data elsewhere.
pub(super) fn data_elsewhere(tag: u32) -> Option<&'static str> {
    match tag {
        TAG_WOF => Some("WOF-compressed (CompactOS)"),
        TAG_DEDUP => Some("deduplicated"),
        _ => None,
    }
}

pub(super) fn tag(value: &[u8]) -> Option<u32> {
    (value.len() >= 4).then(|| u32_at(value, 0))
}

/// The target of a symlink, junction or WSL symlink reparse point.
///
/// For Windows symlinks and junctions this is the print name (what `dir`
/// shows), or the substitute name without its `\??\` prefix when the print
/// name is empty, with `\` turned into `/` so that relative targets resolve
/// like POSIX paths inside the image. Absolute targets keep their drive
/// letter (`C:/Windows`). UTF-16 is converted lossily (see
/// [`utf16le_to_utf8_lossy`]).
pub(super) fn link_target(value: &[u8]) -> Result<Vec<u8>, String> {
    let tag = tag(value).ok_or("reparse value shorter than its header")?;
    let data_len = usize::from(u16_at(value, 4));
    let data = slice(value, 8, data_len)
        .ok_or_else(|| format!("reparse data length {data_len} exceeds the value"))?;
    match tag {
        TAG_LX_SYMLINK => {
            // u32 version (2), then the target in UTF-8.
            if data.len() < 4 {
                return Err("WSL symlink data shorter than its version field".into());
            }
            Ok(data[4..].to_vec())
        }
        TAG_SYMLINK | TAG_MOUNT_POINT => {
            let buffer_start = if tag == TAG_SYMLINK { 12 } else { 8 };
            let path_buffer = data
                .get(buffer_start..)
                .ok_or("reparse data shorter than its header")?;
            let name = |off: usize, len: usize| -> Result<Vec<u8>, String> {
                slice(path_buffer, off, len)
                    .map(utf16le_to_utf8_lossy)
                    .ok_or_else(|| format!("name at {off}+{len} lies outside the reparse data"))
            };
            let print = name(usize::from(u16_at(data, 4)), usize::from(u16_at(data, 6)))?;
            let target = if print.is_empty() {
                let sub = name(usize::from(u16_at(data, 0)), usize::from(u16_at(data, 2)))?;
                match sub.strip_prefix(b"\\??\\") {
                    Some(rest) => rest.to_vec(),
                    None => sub,
                }
            } else {
                print
            };
            Ok(target
                .into_iter()
                .map(|b| if b == b'\\' { b'/' } else { b })
                .collect())
        }
        other => Err(format!("reparse tag {other:#010x} is not a link")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn symlink(tag: u32, subst: &str, print: &str) -> Vec<u8> {
        let (s, p) = (utf16(subst), utf16(print));
        let mut data = Vec::new();
        data.extend((0u16).to_le_bytes());
        data.extend((s.len() as u16).to_le_bytes());
        data.extend((s.len() as u16).to_le_bytes());
        data.extend((p.len() as u16).to_le_bytes());
        if tag == TAG_SYMLINK {
            data.extend(1u32.to_le_bytes());
        }
        data.extend(&s);
        data.extend(&p);
        let mut v = tag.to_le_bytes().to_vec();
        v.extend((data.len() as u16).to_le_bytes());
        v.extend([0, 0]);
        v.extend(data);
        v
    }

    #[test]
    fn decodes_symlinks_and_junctions() {
        let v = symlink(TAG_SYMLINK, "dir1\\sub\\a.txt", "dir1\\sub\\a.txt");
        assert_eq!(link_target(&v).unwrap(), b"dir1/sub/a.txt");
        let v = symlink(TAG_MOUNT_POINT, "\\??\\C:\\Users\\x", "");
        assert_eq!(link_target(&v).unwrap(), b"C:/Users/x");
        let mut v = TAG_LX_SYMLINK.to_le_bytes().to_vec();
        v.extend(10u16.to_le_bytes());
        v.extend([0, 0]);
        v.extend(2u32.to_le_bytes());
        v.extend(b"/etc/x");
        assert_eq!(link_target(&v).unwrap(), b"/etc/x");
    }

    #[test]
    fn rejects_out_of_bounds_names() {
        let mut v = symlink(TAG_SYMLINK, "abc", "abc");
        v[8 + 6] = 0xFF; // print name length
        assert!(link_target(&v).is_err());
        let mut v = symlink(TAG_SYMLINK, "abc", "abc");
        v[4] = 0xFF;
        v[5] = 0xFF;
        assert!(link_target(&v).is_err());
        assert!(link_target(&[1, 2]).is_err());
        assert!(link_target(&TAG_WOF.to_le_bytes()).is_err());
    }
}
