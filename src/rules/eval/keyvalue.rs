//! `login_defs` and `sysctl`: one key, one effective value.

use super::value::{judge, Found};
use super::Context;
use crate::rules::check::ValueTest;
use crate::rules::outcome::Outcome;

pub fn login_defs(ctx: &Context, key: &str, test: &ValueTest) -> Outcome {
    let defs = &ctx.t.config.login_defs;
    let found = defs
        .entries
        .get(key)
        .map(|v| Found::new(v.value.clone(), v.file.clone(), v.line));
    let mut outcome = judge(key, test, found.as_ref());
    if !defs.present && found.is_none() {
        for e in &mut outcome.evidence {
            e.value.push_str(" (/etc/login.defs is missing)");
        }
    }
    outcome
}

pub fn sysctl(ctx: &Context, key: &str, test: &ValueTest) -> Outcome {
    let entry = ctx.t.config.sysctl.get(key);
    let found =
        entry.map(|e| Found::new(e.value.value.clone(), e.value.file.clone(), e.value.line));
    let label = entry.map(|e| e.key.as_str()).unwrap_or(key);
    judge(&format!("{label} ="), test, found.as_ref())
}
