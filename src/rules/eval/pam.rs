//! `pam` (a module's argument in named stacks) and `pwquality` (the
//! pam_pwquality argument, else pwquality.conf).

use coldscan_config::pam::{PamRule, PamStack};

use super::value::{judge, Found};
use super::Context;
use crate::rules::check::{Op, ValueTest};
use crate::rules::outcome::{Evidence, Outcome};

/// The password stacks pam_pwquality is configured in, per distribution.
pub const PASSWORD_STACKS: &[&str] = &["common-password", "system-auth", "password-auth"];

/// The first module of `modules` (in that order of preference) in the
/// stack's rules of `rule_type`.
pub fn find_module<'a>(
    stack: &'a PamStack,
    rule_type: &str,
    modules: &[String],
) -> Option<&'a PamRule> {
    modules.iter().find_map(|m| {
        stack
            .rules
            .iter()
            .find(|r| r.rule_type == rule_type && r.module_name == *m)
    })
}

/// An argument of a PAM rule: `Some("")` for a flag without a value; the
/// last occurrence wins, as modules parse their arguments in order.
pub fn argument(rule: &PamRule, option: &str) -> Option<String> {
    rule.args
        .iter()
        .rev()
        .find(|a| a.key == option)
        .map(|a| a.value.clone().unwrap_or_default())
}

fn rule_place(rule: &PamRule) -> (String, usize) {
    (rule.source.file.clone(), rule.source.line)
}

pub fn evaluate(
    ctx: &Context,
    stacks: &[String],
    rule_type: &str,
    modules: &[String],
    option: Option<&str>,
    test: &ValueTest,
) -> Outcome {
    let pam = &ctx.t.config.pam;
    let present: Vec<&PamStack> = stacks.iter().filter_map(|s| pam.stacks.get(s)).collect();
    if present.is_empty() {
        let evidence = vec![Evidence::note(format!(
            "no PAM stack {} in /etc/pam.d",
            stacks.join(" or ")
        ))];
        // No stack: neither the module nor any option of it is there.
        return Outcome::judge(test.op == Op::Absent, evidence);
    }
    let mut parts = Vec::new();
    for stack in present {
        let rule = find_module(stack, rule_type, modules);
        let outcome = match (rule, option) {
            (None, _) => {
                let evidence = vec![Evidence::in_file(
                    &stack.file,
                    format!("no {rule_type} rule with {}", modules.join(" or ")),
                )];
                Outcome::judge(test.op == Op::Absent, evidence)
            }
            (Some(rule), None) => {
                let (file, line) = rule_place(rule);
                let evidence = vec![Evidence::at(&file, line, rule.source.value.clone())];
                Outcome::judge(test.op != Op::Absent, evidence)
            }
            (Some(rule), Some(option)) => {
                let (file, line) = rule_place(rule);
                let found = argument(rule, option).map(|v| Found::new(v, file.clone(), line));
                let mut o = judge(
                    &format!("{} {option}", rule.module_name),
                    test,
                    found.as_ref(),
                );
                if found.is_none() {
                    o.evidence = vec![Evidence::at(
                        &file,
                        line,
                        format!("{} (no {option})", rule.source.value),
                    )];
                } else {
                    o.evidence = vec![Evidence::at(&file, line, rule.source.value.clone())];
                }
                o
            }
        };
        parts.push(outcome);
    }
    Outcome::all(parts)
}

/// The effective pwquality setting: a pam_pwquality argument in a password
/// stack overrides the configuration files.
pub fn effective_pwquality(ctx: &Context, key: &str) -> Option<Found> {
    let pam = &ctx.t.config.pam;
    for name in PASSWORD_STACKS {
        if let Some(stack) = pam.stacks.get(*name) {
            let module = ["pam_pwquality.so".to_string()];
            if let Some(rule) = find_module(stack, "password", &module) {
                if let Some(v) = argument(rule, key) {
                    return Some(Found::new(v, rule.source.file.clone(), rule.source.line));
                }
            }
        }
    }
    ctx.t
        .config
        .pwquality
        .entries
        .get(key)
        .map(|v| Found::new(v.value.clone(), v.file.clone(), v.line))
}

pub fn pwquality(ctx: &Context, key: &str, test: &ValueTest) -> Outcome {
    judge(key, test, effective_pwquality(ctx, key).as_ref())
}
