//! `/etc/fstab` as far as assembling mounts needs it: spec, mount point,
//! type, options, with the line each came from.

use serde::{Deserialize, Serialize};

/// One mount line of fstab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FstabEntry {
    /// 1-based line number in the file.
    pub line: usize,
    pub spec: String,
    pub mount_point: String,
    pub fs_type: String,
    pub options: String,
}

/// fstab escapes spaces and tabs in fields as octal (`\040`, `\011`).
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses fstab text. Comments, blank lines and lines with fewer than two
/// fields are skipped; missing type and options read as `auto`/`defaults`,
/// as mount(8) does.
pub fn parse_fstab(text: &str) -> Vec<FstabEntry> {
    text.lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let mut f = line.split_whitespace();
            let spec = unescape(f.next()?);
            let mount_point = unescape(f.next()?);
            Some(FstabEntry {
                line: i + 1,
                spec,
                mount_point,
                fs_type: f.next().unwrap_or("auto").to_string(),
                options: f.next().unwrap_or("defaults").to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_escapes() {
        let t = "# comment\n\nUUID=abc / ext4 errors=remount-ro 0 1\nLABEL=my\\040disk /mnt/my\\040disk ext4\n/dev/sda2\n";
        let e = parse_fstab(t);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].line, 3);
        assert_eq!(e[0].spec, "UUID=abc");
        assert_eq!(e[0].options, "errors=remount-ro");
        assert_eq!(e[1].spec, "LABEL=my disk");
        assert_eq!(e[1].mount_point, "/mnt/my disk");
        assert_eq!(e[1].options, "defaults");
    }
}
