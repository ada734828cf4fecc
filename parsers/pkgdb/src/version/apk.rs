//! apk (Alpine) version ordering, following apk-tools' tokenizer:
//! `{digits}{.digits}...{letter}{_suffix{digits}}...{-rN}`.
//!
//! Tokens are compared in order while both sides have the same token kind and
//! value. A component after `.` that starts with `0` compares its leading zeros
//! (more zeros = older) instead of its numeric value. Suffixes `_alpha`, `_beta`,
//! `_pre`, `_rc` are pre-releases (older than no suffix); `_cvs`, `_svn`, `_git`,
//! `_hg`, `_p` are post-releases. When one side ends first, the longer one is
//! newer unless what follows is a pre-release suffix. Invalid input is ordered
//! as apk-tools orders it: comparison stops at the first unparsable token.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tok {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

/// The value of one token; only values read under the same token kind meet.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    /// A small integer: letters, suffix ranks (pre-releases negative), 0.
    Int(i64),
    /// A run of `n` leading zeros after a dot: the value `-n`.
    Zeros(usize),
    /// A digit run, compared numerically as a string.
    Digits(&'a [u8]),
}

fn cmp_val(a: Val, b: Val) -> Ordering {
    use Val::*;
    // Map each value to (sign class, magnitude) without overflow.
    fn int_vs_digits(i: i64, d: &[u8]) -> Ordering {
        if i < 0 {
            return Ordering::Less;
        }
        let s = i.to_string();
        cmp_digits(s.as_bytes(), d)
    }
    match (a, b) {
        (Int(x), Int(y)) => x.cmp(&y),
        (Digits(x), Digits(y)) => cmp_digits(x, y),
        (Zeros(x), Zeros(y)) => y.cmp(&x),
        (Zeros(x), Int(y)) => {
            if y >= 0 {
                Ordering::Less
            } else {
                (y.unsigned_abs()).cmp(&(x as u64))
            }
        }
        (Int(_), Zeros(_)) => cmp_val(b, a).reverse(),
        (Zeros(_), Digits(_)) => Ordering::Less,
        (Digits(_), Zeros(_)) => Ordering::Greater,
        (Int(x), Digits(y)) => int_vs_digits(x, y),
        (Digits(x), Int(y)) => int_vs_digits(y, x).reverse(),
    }
}

const PRE: [&[u8]; 4] = [b"alpha", b"beta", b"pre", b"rc"];
const POST: [&[u8]; 5] = [b"cvs", b"svn", b"git", b"hg", b"p"];

/// Advance past a separator and decide the kind of the next token.
fn next_token(ty: &mut Tok, s: &mut &[u8]) {
    let mut n = Tok::Invalid;
    match s.first().copied() {
        None | Some(0) => n = Tok::End,
        Some(c) if matches!(*ty, Tok::Digit | Tok::DigitOrZero) && c.is_ascii_lowercase() => {
            n = Tok::Letter
        }
        Some(c) if *ty == Tok::Letter && c.is_ascii_digit() => n = Tok::Digit,
        Some(c) if *ty == Tok::Suffix && c.is_ascii_digit() => n = Tok::SuffixNo,
        Some(c) => {
            match c {
                b'.' => n = Tok::DigitOrZero,
                b'_' => n = Tok::Suffix,
                b'-' if s.get(1) == Some(&b'r') => {
                    n = Tok::RevisionNo;
                    *s = &s[1..];
                }
                _ => {}
            }
            *s = &s[1..];
        }
    }
    if n < *ty
        && !((n == Tok::DigitOrZero && *ty == Tok::Digit)
            || (n == Tok::Suffix && *ty == Tok::SuffixNo)
            || (n == Tok::Digit && *ty == Tok::Letter))
    {
        n = Tok::Invalid;
    }
    *ty = n;
}

/// Read the value of the current token and move to the next one.
fn get_token<'a>(ty: &mut Tok, s: &mut &'a [u8]) -> Val<'a> {
    if s.is_empty() {
        *ty = Tok::End;
        return Val::Int(0);
    }
    let mut nt = Tok::Invalid;
    let (val, used) = match *ty {
        Tok::DigitOrZero if s[0] == b'0' => {
            let i = s.iter().take_while(|&&c| c == b'0').count();
            nt = Tok::Digit;
            (Val::Zeros(i), i)
        }
        Tok::DigitOrZero | Tok::Digit | Tok::SuffixNo | Tok::RevisionNo => {
            let i = s.iter().take_while(|c| c.is_ascii_digit()).count();
            (Val::Digits(&s[..i]), i)
        }
        Tok::Letter => (Val::Int(i64::from(s[0])), 1),
        Tok::Suffix => {
            if let Some(v) = PRE.iter().position(|p| s.starts_with(p)) {
                nt = Tok::SuffixNo;
                (Val::Int(v as i64 - PRE.len() as i64), PRE[v].len())
            } else if let Some(v) = POST.iter().position(|p| s.starts_with(p)) {
                nt = Tok::SuffixNo;
                (Val::Int(v as i64), POST[v].len())
            } else {
                *ty = Tok::Invalid;
                return Val::Int(-1);
            }
        }
        Tok::Invalid | Tok::End => {
            *ty = Tok::Invalid;
            return Val::Int(-1);
        }
    };
    *s = &s[used..];
    if s.is_empty() {
        *ty = Tok::End;
    } else if nt != Tok::Invalid {
        *ty = nt;
    } else {
        next_token(ty, s);
    }
    val
}

/// Compare two apk versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let (mut at, mut bt) = (Tok::Digit, Tok::Digit);
    let (mut av, mut bv) = (Val::Int(0), Val::Int(0));
    while at == bt && at != Tok::End && at != Tok::Invalid && cmp_val(av, bv).is_eq() {
        av = get_token(&mut at, &mut a);
        bv = get_token(&mut bt, &mut b);
    }
    let ord = cmp_val(av, bv);
    if ord.is_ne() {
        return ord;
    }
    if at == bt {
        return Ordering::Equal;
    }
    // Equal so far: the longer one is newer unless it goes on with a pre-release.
    let is_pre = |t: Tok, s: &mut &[u8]| {
        let mut tt = t;
        t == Tok::Suffix && cmp_val(get_token(&mut tt, s), Val::Int(0)).is_lt()
    };
    if is_pre(at, &mut a) {
        return Ordering::Less;
    }
    if is_pre(bt, &mut b) {
        return Ordering::Greater;
    }
    bt.cmp(&at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert_eq!(compare("1.2.3-r1", "1.2.3-r0"), Ordering::Greater);
        assert_eq!(compare("1.2_rc1", "1.2"), Ordering::Less);
        assert_eq!(compare("1.2_p1", "1.2"), Ordering::Greater);
        assert_eq!(compare("1.02", "1.1"), Ordering::Less);
        assert_eq!(compare("1.2a", "1.2"), Ordering::Greater);
    }
}
