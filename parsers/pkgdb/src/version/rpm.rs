//! rpm version ordering: `rpmvercmp` over `[E:]V[-R]` strings.
//!
//! The epoch is the leading digits before a `:` (missing = 0); the release is the
//! part after the last `-`. Epochs, then versions, then releases are compared
//! with `rpmvercmp`; the release only when both strings have one (as rpm's
//! `rpmverCmp` does). `rpmvercmp` skips runs of separators (anything but ASCII
//! letters, digits, `~` and `^`), compares digit segments numerically and letter
//! segments bytewise, and a digit segment is newer than a letter segment. `~`
//! sorts before anything, even the end; `^` sorts after the end but before any
//! further segment.

use std::cmp::Ordering;

use super::cmp_digits;

/// Compare two `[E:]V[-R]` strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = parse_evr(a.trim());
    let (eb, vb, rb) = parse_evr(b.trim());
    let ord = rpmvercmp(ea.unwrap_or("0"), eb.unwrap_or("0")).then_with(|| rpmvercmp(va, vb));
    ord.then_with(|| match (ra, rb) {
        (Some(ra), Some(rb)) => rpmvercmp(ra, rb),
        (ra, rb) => ra.is_some().cmp(&rb.is_some()),
    })
}

/// rpm's `parseEVR`: `(epoch, version, release)`.
fn parse_evr(s: &str) -> (Option<&str>, &str, Option<&str>) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = if s.as_bytes().get(digits) == Some(&b':') {
        let e = &s[..digits];
        (Some(if e.is_empty() { "0" } else { e }), &s[digits + 1..])
    } else {
        (None, s)
    };
    match rest.rfind('-') {
        Some(i) => (epoch, &rest[..i], Some(&rest[i + 1..])),
        None => (epoch, rest, None),
    }
}

/// rpm's `rpmvercmp` on two version (or release) segments.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut one, mut two) = (a.as_bytes(), b.as_bytes());
    let skip = |s: &[u8]| -> usize {
        s.iter()
            .take_while(|&&c| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^')
            .count()
    };
    while !one.is_empty() || !two.is_empty() {
        one = &one[skip(one)..];
        two = &two[skip(two)..];
        let (c1, c2) = (one.first().copied(), two.first().copied());
        if c1 == Some(b'~') || c2 == Some(b'~') {
            if c1 != Some(b'~') {
                return Ordering::Greater;
            }
            if c2 != Some(b'~') {
                return Ordering::Less;
            }
            one = &one[1..];
            two = &two[1..];
            continue;
        }
        if c1 == Some(b'^') || c2 == Some(b'^') {
            if c1.is_none() {
                return Ordering::Less;
            }
            if c2.is_none() {
                return Ordering::Greater;
            }
            if c1 != Some(b'^') {
                return Ordering::Greater;
            }
            if c2 != Some(b'^') {
                return Ordering::Less;
            }
            one = &one[1..];
            two = &two[1..];
            continue;
        }
        let (Some(c1), Some(_)) = (c1, c2) else {
            break;
        };
        let isnum = c1.is_ascii_digit();
        let class = |c: &u8| {
            if isnum {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let n1 = one.iter().take_while(|c| class(c)).count();
        let n2 = two.iter().take_while(|c| class(c)).count();
        if n2 == 0 {
            // Segments of different kinds: a number is newer than letters.
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let ord = if isnum {
            cmp_digits(&one[..n1], &two[..n2])
        } else {
            one[..n1].cmp(&two[..n2])
        };
        if ord != Ordering::Equal {
            return ord;
        }
        one = &one[n1..];
        two = &two[n2..];
    }
    match (one.is_empty(), two.is_empty()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert_eq!(
            compare("1:3.0.1-47.el9_1", "3.0.7-16.el9_2"),
            Ordering::Greater
        );
        assert_eq!(
            compare("3.0.1-47.el9_1", "3.0.1-47.el9_1.1"),
            Ordering::Less
        );
        assert_eq!(
            compare("0:4.9.3-2.el9_8.1", "4.9.3-2.el9"),
            Ordering::Greater
        );
        assert_eq!(compare("1.0^", "1.0"), Ordering::Greater);
        assert_eq!(compare("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1", "1-0"), Ordering::Less);
        assert_eq!(compare("1", "0:1"), Ordering::Equal);
    }
}
