//! Line splitting shared by the text databases (dpkg, apk).

/// Lines of `bytes` with their 1-based numbers; `\n` separated, a trailing `\r`
/// removed, invalid UTF-8 replaced.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, String)> + '_ {
    let mut parts = bytes.split(|&b| b == b'\n').enumerate().peekable();
    std::iter::from_fn(move || {
        let (i, raw) = parts.next()?;
        // A final empty piece after the last '\n' is not a line.
        if raw.is_empty() && parts.peek().is_none() {
            return None;
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        Some((i + 1, String::from_utf8_lossy(raw).into_owned()))
    })
}

/// Stanzas separated by blank lines: (first line number, lines).
pub(crate) fn stanzas(bytes: &[u8]) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut first = 0;
    for (n, line) in lines(bytes) {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push((first, std::mem::take(&mut cur)));
            }
            continue;
        }
        if cur.is_empty() {
            first = n;
        }
        cur.push(line);
    }
    if !cur.is_empty() {
        out.push((first, cur));
    }
    out
}
