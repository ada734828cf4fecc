//! Password aging (login.defs and each account's shadow fields), length and
//! complexity (pam_pwquality / pam_cracklib), and reuse (`remember`).

use coldscan_config::accounts::{PasswordState, ShadowEntry};

use super::{int, Params};
use crate::rules::eval::value::Found;
use crate::rules::eval::Context;
use crate::rules::eval::{effective_pwquality, pam_argument, pam_find_module, PASSWORD_STACKS};
use crate::rules::outcome::{Evidence, Outcome};

/// A login.defs number with its place, or a note that it is unset.
fn login_defs_number(ctx: &Context, key: &str) -> (Option<i64>, Evidence) {
    match ctx.t.config.login_defs.entries.get(key) {
        Some(v) => (
            v.value.trim().parse().ok(),
            Evidence::at(&v.file, v.line, format!("{key} {}", v.value)),
        ),
        None => (
            None,
            Evidence::in_file("/etc/login.defs", format!("{key} is not set")),
        ),
    }
}

/// Accounts that can log in with a password.
fn with_password<'a>(ctx: &Context<'a>) -> impl Iterator<Item = &'a ShadowEntry> {
    ctx.t
        .config
        .accounts
        .shadow
        .iter()
        .filter(|s| s.state == PasswordState::Set)
}

/// login.defs `key` and each account's shadow field must satisfy `ok`.
fn aging(
    ctx: &Context,
    key: &str,
    field: &str,
    get: fn(&ShadowEntry) -> Option<i64>,
    ok: &dyn Fn(i64) -> bool,
) -> Outcome {
    let (value, place) = login_defs_number(ctx, key);
    let mut bad = Vec::new();
    if !value.is_some_and(ok) {
        bad.push(place.clone());
    }
    for s in with_password(ctx) {
        let v = get(s);
        if !v.is_some_and(ok) {
            let shown = v.map_or("empty".to_string(), |d| d.to_string());
            bad.push(Evidence::at(
                &s.file,
                s.line,
                format!("{}: {field} {shown}", s.name),
            ));
        }
    }
    if bad.is_empty() {
        Outcome::pass(vec![place])
    } else {
        Outcome::fail(bad)
    }
}

pub fn max_age(params: &Params, ctx: &Context) -> Outcome {
    let max = match int(params, "max_days") {
        Ok(m) => m,
        Err(e) => return e,
    };
    aging(
        ctx,
        "PASS_MAX_DAYS",
        "maximum password age",
        |s| s.max_days,
        &|d| (1..=max).contains(&d),
    )
}

pub fn min_days(params: &Params, ctx: &Context) -> Outcome {
    let min = match int(params, "min_days") {
        Ok(m) => m,
        Err(e) => return e,
    };
    aging(
        ctx,
        "PASS_MIN_DAYS",
        "minimum password age",
        |s| s.min_days,
        &|d| d >= min,
    )
}

pub fn warn_age(params: &Params, ctx: &Context) -> Outcome {
    let min = match int(params, "min_days") {
        Ok(m) => m,
        Err(e) => return e,
    };
    aging(
        ctx,
        "PASS_WARN_AGE",
        "warning days",
        |s| s.warn_days,
        &|d| d >= min,
    )
}

pub fn inactive(params: &Params, ctx: &Context) -> Outcome {
    let max = match int(params, "max_days") {
        Ok(m) => m,
        Err(e) => return e,
    };
    let bad: Vec<Evidence> = with_password(ctx)
        .filter(|s| !s.inactive_days.is_some_and(|d| (0..=max).contains(&d)))
        .map(|s| {
            let shown = s.inactive_days.map_or("empty".into(), |d| d.to_string());
            Evidence::at(
                &s.file,
                s.line,
                format!("{}: inactivity period {shown}", s.name),
            )
        })
        .collect();
    Outcome::judge(
        bad.is_empty(),
        if bad.is_empty() {
            vec![Evidence::note(format!(
                "every account with a password is disabled at most {max} days after expiry"
            ))]
        } else {
            bad
        },
    )
}

/// Days since 1970-01-01 of an RFC 3339 date (`2026-11-28T…`).
fn epoch_days(rfc3339: &str) -> Option<i64> {
    let date = rfc3339.get(..10)?;
    let mut it = date.split('-');
    let (y, m, d): (i64, i64, i64) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

pub fn last_change_in_past(_: &Params, ctx: &Context) -> Outcome {
    let Some(today) = epoch_days(&ctx.t.collected_at) else {
        return Outcome::error("the telemetry has no usable collection time");
    };
    let bad: Vec<Evidence> = ctx
        .t
        .config
        .accounts
        .shadow
        .iter()
        .filter(|s| s.last_change.is_some_and(|d| d > today))
        .map(|s| {
            Evidence::at(
                &s.file,
                s.line,
                format!(
                    "{}: last change on day {} after the collection (day {today})",
                    s.name,
                    s.last_change.unwrap_or(0)
                ),
            )
        })
        .collect();
    if bad.is_empty() {
        return Outcome::pass(vec![Evidence::note(
            "no account's last password change is after the collection date",
        )]);
    }
    Outcome::fail(bad)
}

/// The password-quality module in the first password stack that has one.
struct Quality {
    module: &'static str,
    file: String,
    line: usize,
    text: String,
}

fn quality_module(ctx: &Context) -> Result<Quality, Outcome> {
    let pam = &ctx.t.config.pam;
    let stacks: Vec<_> = PASSWORD_STACKS
        .iter()
        .filter_map(|s| pam.stacks.get(*s))
        .collect();
    if stacks.is_empty() {
        return Err(Outcome::fail(vec![Evidence::note(format!(
            "no password stack ({}) in /etc/pam.d",
            PASSWORD_STACKS.join(", ")
        ))]));
    }
    for stack in &stacks {
        for module in ["pam_pwquality.so", "pam_cracklib.so"] {
            if let Some(rule) = pam_find_module(stack, "password", &[module.to_string()]) {
                return Ok(Quality {
                    module,
                    file: rule.source.file.clone(),
                    line: rule.source.line,
                    text: rule.source.value.clone(),
                });
            }
        }
    }
    Err(Outcome::fail(
        stacks
            .iter()
            .map(|s| Evidence::in_file(&s.file, "no pam_pwquality or pam_cracklib password rule"))
            .collect(),
    ))
}

/// A quality setting as the module in use sees it: pwquality reads its
/// argument, else pwquality.conf; cracklib reads only its argument.
fn quality_setting(ctx: &Context, q: &Quality, key: &str) -> Option<Found> {
    if q.module == "pam_pwquality.so" {
        return effective_pwquality(ctx, key);
    }
    let pam = &ctx.t.config.pam;
    PASSWORD_STACKS
        .iter()
        .filter_map(|s| pam.stacks.get(*s))
        .find_map(|stack| {
            let rule = pam_find_module(stack, "password", &[q.module.to_string()])?;
            pam_argument(rule, key)
                .map(|v| Found::new(v, rule.source.file.clone(), rule.source.line))
        })
}

fn shown(f: &Found, key: &str) -> Evidence {
    Evidence::at(&f.file, f.line, format!("{key}={}", f.value))
}

pub fn min_length(params: &Params, ctx: &Context) -> Outcome {
    let min = match int(params, "min") {
        Ok(m) => m,
        Err(e) => return e,
    };
    let q = match quality_module(ctx) {
        Ok(q) => q,
        Err(o) => return o,
    };
    // Compiled-in defaults: pwquality 8, cracklib 9.
    let default = if q.module == "pam_pwquality.so" { 8 } else { 9 };
    match quality_setting(ctx, &q, "minlen") {
        Some(f) => {
            let ok = f.value.trim().parse::<i64>().is_ok_and(|v| v >= min);
            Outcome::judge(ok, vec![shown(&f, "minlen")])
        }
        None => Outcome::judge(
            default >= min,
            vec![Evidence::at(
                &q.file,
                q.line,
                format!("{} (minlen not set: default {default})", q.text),
            )],
        ),
    }
}

pub fn complexity(params: &Params, ctx: &Context) -> Outcome {
    let (minclass, remember) = match (int(params, "minclass"), int(params, "remember")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let mut evidence = Vec::new();
    let mut ok = true;
    match quality_module(ctx) {
        Err(o) => {
            ok = false;
            evidence.extend(o.evidence);
        }
        Ok(q) => {
            let class = quality_setting(ctx, &q, "minclass");
            let class_ok = class
                .as_ref()
                .and_then(|f| f.value.trim().parse::<i64>().ok())
                .is_some_and(|v| v >= minclass);
            let credits: Vec<(&str, Option<Found>)> = ["dcredit", "ucredit", "lcredit", "ocredit"]
                .into_iter()
                .map(|k| (k, quality_setting(ctx, &q, k)))
                .collect();
            let credits_ok = credits.iter().all(|(_, f)| {
                f.as_ref()
                    .and_then(|f| f.value.trim().parse::<i64>().ok())
                    .is_some_and(|v| v <= -1)
            });
            if class_ok {
                evidence.push(shown(class.as_ref().unwrap(), "minclass"));
            } else if credits_ok {
                evidence.extend(
                    credits
                        .iter()
                        .filter_map(|(k, f)| f.as_ref().map(|f| shown(f, k))),
                );
            } else {
                ok = false;
                match &class {
                    Some(f) => evidence.push(shown(f, "minclass")),
                    None => evidence.push(Evidence::at(
                        &q.file,
                        q.line,
                        format!("{} (no minclass, no required credits)", q.text),
                    )),
                }
                evidence.extend(
                    credits
                        .iter()
                        .filter_map(|(k, f)| f.as_ref().map(|f| shown(f, k))),
                );
            }
        }
    }
    // Reuse: pam_pwhistory's or pam_unix's `remember` in a password stack.
    let pam = &ctx.t.config.pam;
    let mut remembered: Option<Found> = None;
    let mut seen_stack = None;
    for stack in PASSWORD_STACKS.iter().filter_map(|s| pam.stacks.get(*s)) {
        seen_stack.get_or_insert(stack.file.clone());
        for module in ["pam_pwhistory.so", "pam_unix.so"] {
            if let Some(rule) = pam_find_module(stack, "password", &[module.to_string()]) {
                if let Some(v) = pam_argument(rule, "remember") {
                    remembered.get_or_insert(Found::new(
                        v,
                        rule.source.file.clone(),
                        rule.source.line,
                    ));
                }
            }
        }
    }
    match remembered {
        Some(f) if f.value.trim().parse::<i64>().is_ok_and(|v| v >= remember) => {
            evidence.push(shown(&f, "remember"))
        }
        Some(f) => {
            ok = false;
            evidence.push(shown(&f, "remember"));
        }
        None => {
            ok = false;
            evidence.push(Evidence::in_file(
                seen_stack.as_deref().unwrap_or("/etc/pam.d"),
                "no pam_pwhistory or pam_unix `remember` in the password stack",
            ));
        }
    }
    if ok {
        Outcome::pass(evidence)
    } else {
        Outcome::fail(evidence)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn epoch_days_of_dates() {
        assert_eq!(super::epoch_days("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(super::epoch_days("2000-03-01T00:00:00Z"), Some(11_017));
        assert_eq!(super::epoch_days("2026-11-28T04:00:00Z"), Some(20_785));
        assert_eq!(super::epoch_days("garbage"), None);
    }
}
