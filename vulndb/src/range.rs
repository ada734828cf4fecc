//! Is a version inside an OSV `affected` entry, and what fixes it?
//!
//! OSV semantics: a version is affected if any range contains it or it is in
//! the explicit `versions` list. Within a range, events are taken in version
//! order (`introduced: "0"` first): `introduced` at or below the version opens
//! it, `fixed` or `limit` at or below closes it, `last_affected` below it
//! closes it. `GIT` ranges (commit hashes) cannot be compared with package
//! versions and are ignored.

use std::cmp::Ordering;

use crate::model::{Event, Range};

/// The verdict for one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub affected: bool,
    /// The lowest `fixed` above the version (in the range that holds it, or in
    /// any range when only the `versions` list names it).
    pub fixed: Option<String>,
}

fn is_zero(v: &str) -> bool {
    v.trim() == "0"
}

/// Compare event versions, with `introduced: "0"` below everything.
fn order(cmp: &dyn Fn(&str, &str) -> Ordering, a: &Event, b: &Event) -> Ordering {
    match (a, b) {
        (Event::Introduced(x), Event::Introduced(y)) if is_zero(x) && is_zero(y) => Ordering::Equal,
        (Event::Introduced(x), _) if is_zero(x) => Ordering::Less,
        (_, Event::Introduced(y)) if is_zero(y) => Ordering::Greater,
        _ => cmp(a.version(), b.version()),
    }
}

fn lowest_fix_above(
    cmp: &dyn Fn(&str, &str) -> Ordering,
    version: &str,
    events: &[&Event],
) -> Option<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Fixed(f) if cmp(f, version) == Ordering::Greater => Some(f.as_str()),
            _ => None,
        })
        .min_by(|a, b| cmp(a, b))
        .map(str::to_string)
}

/// Evaluate one entry.
pub fn evaluate(
    cmp: &dyn Fn(&str, &str) -> Ordering,
    version: &str,
    ranges: &[Range],
    versions: &[String],
) -> Verdict {
    let usable: Vec<&Range> = ranges
        .iter()
        .filter(|r| !r.kind.eq_ignore_ascii_case("GIT"))
        .collect();
    for r in &usable {
        let mut events: Vec<&Event> = r.events.iter().collect();
        events.sort_by(|a, b| order(cmp, a, b));
        let mut affected = false;
        for e in &events {
            match e {
                Event::Introduced(v) => {
                    if is_zero(v) || cmp(version, v) != Ordering::Less {
                        affected = true;
                    }
                }
                Event::Fixed(v) | Event::Limit(v) => {
                    if cmp(version, v) != Ordering::Less {
                        affected = false;
                    }
                }
                Event::LastAffected(v) => {
                    if cmp(version, v) == Ordering::Greater {
                        affected = false;
                    }
                }
            }
        }
        if affected {
            return Verdict {
                affected: true,
                fixed: lowest_fix_above(cmp, version, &events),
            };
        }
    }
    if versions
        .iter()
        .any(|v| v == version || cmp(v, version) == Ordering::Equal)
    {
        let all: Vec<&Event> = usable.iter().flat_map(|r| r.events.iter()).collect();
        return Verdict {
            affected: true,
            fixed: lowest_fix_above(cmp, version, &all),
        };
    }
    Verdict {
        affected: false,
        fixed: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldscan_pkgdb::version::{self, Ecosystem};

    fn range(events: &[(&str, &str)]) -> Range {
        Range {
            kind: "ECOSYSTEM".into(),
            events: events
                .iter()
                .map(|(k, v)| match *k {
                    "i" => Event::Introduced(v.to_string()),
                    "f" => Event::Fixed(v.to_string()),
                    "l" => Event::LastAffected(v.to_string()),
                    _ => Event::Limit(v.to_string()),
                })
                .collect(),
        }
    }

    fn check(
        eco: Ecosystem,
        ranges: &[Range],
        versions: &[&str],
        table: &[(&str, bool, Option<&str>)],
    ) {
        let cmp = move |a: &str, b: &str| version::compare(eco, a, b);
        let versions: Vec<String> = versions.iter().map(|s| s.to_string()).collect();
        for (v, affected, fixed) in table {
            let got = evaluate(&cmp, v, ranges, &versions);
            assert_eq!(
                (got.affected, got.fixed.as_deref()),
                (*affected, *fixed),
                "{eco:?} {v} in {ranges:?} / {versions:?}"
            );
        }
    }

    #[test]
    fn introduced_fixed_dpkg_with_epoch_and_tilde() {
        let r = [range(&[("i", "0"), ("f", "1:9.2p1-2+deb12u2")])];
        check(
            Ecosystem::Dpkg,
            &r,
            &[],
            &[
                ("1:9.2p1-2", true, Some("1:9.2p1-2+deb12u2")),
                ("1:9.2p1-2+deb12u1", true, Some("1:9.2p1-2+deb12u2")),
                ("1:9.2p1-2+deb12u2", false, None),
                ("1:9.2p1-2+deb12u6", false, None),
                // no epoch: older than anything with epoch 1
                ("9.9p1-1", true, Some("1:9.2p1-2+deb12u2")),
                ("1:9.2p1-2+deb12u2~bpo1", true, Some("1:9.2p1-2+deb12u2")),
            ],
        );
    }

    #[test]
    fn several_ranges_last_affected_limit_and_unfixed() {
        let r = [
            range(&[("i", "1.0-1"), ("f", "1.2-1")]),
            range(&[("i", "2.0-1"), ("l", "2.3-1")]),
            range(&[("i", "3.0-1")]),
            range(&[("i", "0"), ("lim", "0.5-1")]),
        ];
        check(
            Ecosystem::Dpkg,
            &r,
            &[],
            &[
                ("0.1-1", true, None),
                ("0.5-1", false, None),
                ("1.0-1", true, Some("1.2-1")),
                ("1.1-1", true, Some("1.2-1")),
                ("1.2-1", false, None),
                ("2.0-1", true, None),
                ("2.3-1", true, None),
                ("2.3-2", false, None),
                ("3.5-1", true, None),
            ],
        );
    }

    #[test]
    fn versions_list_and_git_ranges() {
        let r = [
            Range {
                kind: "GIT".into(),
                events: vec![Event::Introduced("0".into()), Event::Fixed("abcdef".into())],
            },
            range(&[("i", "0"), ("f", "2.0-r0")]),
        ];
        check(
            Ecosystem::Apk,
            &r[..1],
            &["1.1-r0", "1.1-r1"],
            &[("1.1-r1", true, None), ("1.1-r2", false, None)],
        );
        check(
            Ecosystem::Apk,
            &r,
            &["3.0-r0"],
            &[
                ("3.0-r0", true, None),
                ("1.9_rc1-r0", true, Some("2.0-r0")),
                ("2.0-r0", false, None),
            ],
        );
    }

    #[test]
    fn rpm_missing_epoch_is_zero() {
        let r = [range(&[("i", "0"), ("f", "1:3.0.1-47.el9_1")])];
        check(
            Ecosystem::Rpm,
            &r,
            &[],
            &[
                ("1:3.0.1-43.el9_0", true, Some("1:3.0.1-47.el9_1")),
                ("3.0.7-27.el9", true, Some("1:3.0.1-47.el9_1")),
                ("1:3.0.1-47.el9_1", false, None),
                ("1:3.0.7-27.el9", false, None),
            ],
        );
        let r = [range(&[("i", "0"), ("f", "0:4.9.3-2.el9_8.1")])];
        check(
            Ecosystem::Rpm,
            &r,
            &[],
            &[
                ("4.9.3-2.el9", true, Some("0:4.9.3-2.el9_8.1")),
                ("4.9.3-2.el9_8.1", false, None),
            ],
        );
    }
}
