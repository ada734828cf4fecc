//! Exact version ordering per package ecosystem, for the `installed < fixed` test.
//!
//! Every comparator is total over arbitrary strings and never panics: digit runs
//! are compared as strings (length after stripping leading zeros, then bytes), so
//! huge numbers never overflow.
//!
//! | ecosystem | rules | function |
//! |---|---|---|
//! | Debian/Ubuntu | deb-version(7), dpkg's `verrevcmp` | [`dpkg::compare`] |
//! | RHEL & co. | rpm's `rpmvercmp` over `[E:]V[-R]` | [`rpm::compare`] |
//! | Alpine | apk-tools' version ordering | [`apk::compare`] |

use std::cmp::Ordering;

pub mod apk;
pub mod dpkg;
pub mod rpm;

/// Which ordering to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    Dpkg,
    Rpm,
    Apk,
}

/// Compare two version strings with the ordering of `ecosystem`.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Ordering {
    match ecosystem {
        Ecosystem::Dpkg => dpkg::compare(a, b),
        Ecosystem::Rpm => rpm::compare(a, b),
        Ecosystem::Apk => apk::compare(a, b),
    }
}

/// Compare two runs of ASCII digits numerically, without parsing them.
fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let a = &a[strip(a)..];
    let b = &b[strip(b)..];
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        assert_eq!(cmp_digits(b"0010", b"9"), Ordering::Greater);
        assert_eq!(cmp_digits(b"000", b""), Ordering::Equal);
        assert_eq!(
            cmp_digits(
                b"99999999999999999999999999",
                b"100000000000000000000000000"
            ),
            Ordering::Less
        );
    }
}
