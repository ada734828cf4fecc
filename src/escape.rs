//! Strings from the image are hostile: terminal control sequences in a file
//! name must never reach the user's terminal unescaped.

/// Renders bytes for a terminal: printable ASCII and valid non-control UTF-8
/// as is, everything else as `\xNN` (and a backslash as `\\`).
pub fn for_terminal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Lowercase hex of raw bytes, for JSON fields that must keep non-UTF-8
/// names exactly.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invalid_bytes_are_escaped() {
        assert_eq!(for_terminal(b"a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(for_terminal(b"caf\xe9"), "caf\\xe9");
        assert_eq!(for_terminal("ok é".as_bytes()), "ok é");
        assert_eq!(for_terminal(b"a\\b\n"), "a\\\\b\\x0a");
    }
}
