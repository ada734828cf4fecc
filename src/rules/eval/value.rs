//! Comparing one configured value with a rule's expectation.

use regex::Regex;

use crate::rules::check::{Op, ValueTest};
use crate::rules::outcome::{Evidence, Outcome};

/// A value as found in the telemetry, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    pub file: String,
    pub line: usize,
}

impl Found {
    pub fn new(value: impl Into<String>, file: impl Into<String>, line: usize) -> Found {
        Found {
            value: value.into(),
            file: file.into(),
            line,
        }
    }
}

/// Judges `found` (the effective value of `label`, if set) against `test`.
/// The evidence shows `label value` at the file and line it came from.
pub fn judge(label: &str, test: &ValueTest, found: Option<&Found>) -> Outcome {
    let found = match found {
        Some(f) => f.clone(),
        None => match &test.default {
            Some(d) => Found::new(d.clone(), "(default)", 0),
            None => {
                let key = label.trim_end_matches(['=', ' ']);
                let evidence = vec![Evidence::note(format!("{key} is not set"))];
                return Outcome::judge(test.op == Op::Absent, evidence);
            }
        },
    };
    // `audit=1` reads better than `audit= 1`; `key = 1` keeps its blanks.
    let sep = if label.ends_with('=') && !label.ends_with(" =") {
        ""
    } else {
        " "
    };
    let shown = if found.file == "(default)" {
        format!("{label}{sep}{} (default: not set in any file)", found.value)
    } else {
        format!("{label}{sep}{}", found.value)
    };
    let evidence = vec![Evidence::at(&found.file, found.line, shown)];
    match satisfies(test, &found.value) {
        Ok(ok) => Outcome::judge(ok, evidence),
        Err(e) => Outcome::error(format!("{label}: {e}")),
    }
}

/// Whether `value` passes `test`; `Err` for a test that cannot be applied
/// (bad pattern, missing operand).
pub fn satisfies(test: &ValueTest, value: &str) -> Result<bool, String> {
    let value = value.trim();
    let eq = |a: &str, b: &str| {
        if test.case_sensitive {
            a == b
        } else {
            a.eq_ignore_ascii_case(b)
        }
    };
    let one = || {
        test.value
            .as_deref()
            .ok_or_else(|| format!("operator {:?} needs `value`", test.op))
    };
    let many = || {
        test.values
            .as_deref()
            .ok_or_else(|| format!("operator {:?} needs `values`", test.op))
    };
    let number = |text: &str| -> Option<i64> { text.trim().parse::<i64>().ok() };
    let compare = |f: fn(i64, i64) -> bool| -> Result<bool, String> {
        let want =
            number(one()?).ok_or_else(|| format!("`value` {:?} is not a number", test.value))?;
        Ok(number(value).is_some_and(|have| f(have, want)))
    };
    Ok(match test.op {
        Op::Equals => eq(value, one()?),
        Op::NotEquals => !eq(value, one()?),
        Op::In => many()?.iter().any(|v| eq(value, v)),
        Op::NotIn => !many()?.iter().any(|v| eq(value, v)),
        Op::Le => compare(|a, b| a <= b)?,
        Op::Ge => compare(|a, b| a >= b)?,
        Op::Lt => compare(|a, b| a < b)?,
        Op::Gt => compare(|a, b| a > b)?,
        Op::Matches | Op::NotMatches => {
            let re = whole_match(one()?, test.case_sensitive)?;
            re.is_match(value) == (test.op == Op::Matches)
        }
        Op::Present => true,
        Op::Absent => false,
        Op::ListExcludes | Op::ListIncludes => {
            let items: Vec<&str> = value.split(',').map(str::trim).collect();
            let wanted = many()?;
            if test.op == Op::ListExcludes {
                !wanted.iter().any(|w| items.iter().any(|i| eq(i, w)))
            } else {
                wanted.iter().all(|w| items.iter().any(|i| eq(i, w)))
            }
        }
    })
}

/// A regex that must match the whole value.
pub fn whole_match(pattern: &str, case_sensitive: bool) -> Result<Regex, String> {
    let flags = if case_sensitive { "" } else { "(?i)" };
    Regex::new(&format!("^{flags}(?:{pattern})$")).map_err(|e| format!("bad pattern: {e}"))
}

/// Checks that a test is well formed (operands present, pattern compiles
/// and matches its example): used when rule files are loaded.
pub fn validate(test: &ValueTest) -> Result<(), String> {
    match test.op {
        Op::In | Op::NotIn | Op::ListExcludes | Op::ListIncludes => {
            if test.values.as_ref().is_none_or(|v| v.is_empty()) {
                return Err(format!("operator {:?} needs non-empty `values`", test.op));
            }
        }
        Op::Present | Op::Absent => {}
        Op::Le | Op::Ge | Op::Lt | Op::Gt => {
            let v = test.value.as_deref().unwrap_or("");
            if v.trim().parse::<i64>().is_err() {
                return Err(format!("operator {:?} needs a numeric `value`", test.op));
            }
        }
        Op::Equals | Op::NotEquals => {
            if test.value.is_none() {
                return Err(format!("operator {:?} needs `value`", test.op));
            }
        }
        Op::Matches | Op::NotMatches => {
            let pattern = test
                .value
                .as_deref()
                .ok_or("a pattern operator needs `value`")?;
            let re = whole_match(pattern, test.case_sensitive)?;
            let example = test
                .example
                .as_deref()
                .ok_or("a pattern operator needs `example`")?;
            if !re.is_match(example) {
                return Err(format!(
                    "pattern {pattern:?} does not match its example {example:?}"
                ));
            }
        }
    }
    Ok(())
}
