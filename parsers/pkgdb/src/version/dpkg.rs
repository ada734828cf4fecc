//! dpkg version ordering, from deb-version(7): `[epoch:]upstream[-revision]`.
//!
//! The epoch is the part before the first `:` (a missing epoch is 0), the
//! revision the part after the last `-` (a missing revision compares like `0`).
//! Upstream and revision are compared by `verrevcmp`: alternating non-digit parts
//! (letters sort before non-letters, `~` before everything, even the end) and
//! digit parts compared numerically.
//!
//! Strings dpkg would reject (a non-numeric epoch, say) still get a total order:
//! a prefix before `:` that is not all digits is kept as part of the upstream.

use std::cmp::Ordering;

use super::cmp_digits;

/// Compare two Debian versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a.trim().as_bytes());
    let (eb, ub, rb) = split(b.trim().as_bytes());
    cmp_digits(ea, eb)
        .then_with(|| verrevcmp(ua, ub))
        .then_with(|| verrevcmp(ra, rb))
}

/// `(epoch, upstream, revision)`; empty slices where absent.
fn split(v: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let (epoch, rest) = match v.iter().position(|&c| c == b':') {
        Some(i) if v[..i].iter().all(u8::is_ascii_digit) => (&v[..i], &v[i + 1..]),
        _ => (&v[..0], v),
    };
    match rest.iter().rposition(|&c| c == b'-') {
        Some(i) => (epoch, &rest[..i], &rest[i + 1..]),
        None => (epoch, rest, &rest[rest.len()..]),
    }
}

/// Weight of one byte in a non-digit part; 0 is the end of the string (and digits).
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

fn verrevcmp(mut a: &[u8], mut b: &[u8]) -> Ordering {
    let non_digit = |s: &[u8]| s.first().is_some_and(|c| !c.is_ascii_digit());
    while !a.is_empty() || !b.is_empty() {
        while non_digit(a) || non_digit(b) {
            let (ac, bc) = (order(a.first().copied()), order(b.first().copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            a = a.get(1..).unwrap_or_default();
            b = b.get(1..).unwrap_or_default();
        }
        let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
        let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let ord = cmp_digits(&a[..na], &b[..nb]);
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[na..];
        b = &b[nb..];
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert_eq!(
            compare("1:2.38.1-5+deb12u3", "2.38.1-5+deb12u4"),
            Ordering::Greater
        );
        assert_eq!(compare("1.0~rc1-1", "1.0-1"), Ordering::Less);
        assert_eq!(compare("", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0", "1.0-0"), Ordering::Equal);
        assert_eq!(compare("1.0~", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0a", "1.0+"), Ordering::Less);
    }
}
