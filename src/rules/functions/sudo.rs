//! sudo policy (sudoers Defaults and rule tags) and who may use `su`.

use super::{int, text, Params};
use crate::rules::eval::{pam_argument, pam_find_module, Context};
use crate::rules::outcome::{Evidence, Outcome};

fn no_sudoers(ctx: &Context) -> Option<Outcome> {
    ctx.t
        .config
        .sudoers
        .files
        .is_empty()
        .then(|| Outcome::not_applicable("the image has no /etc/sudoers"))
}

pub fn defaults(params: &Params, ctx: &Context) -> Outcome {
    if let Some(o) = no_sudoers(ctx) {
        return o;
    }
    let Some(option) = text(params, "option") else {
        return Outcome::error("params.option must be a string");
    };
    let want = text(params, "value");
    match ctx.t.config.sudoers.global_default(option) {
        None => Outcome::fail(vec![Evidence::note(format!(
            "no `Defaults {option}` in sudoers"
        ))]),
        Some(d) => {
            let shown = format!(
                "Defaults {}{}{}{}",
                if d.negated { "!" } else { "" },
                d.name,
                d.op,
                d.value.as_deref().unwrap_or("")
            );
            let ok = !d.negated && want.is_none_or(|w| d.value.as_deref() == Some(w));
            Outcome::judge(ok, vec![Evidence::at(&d.file, d.line, shown)])
        }
    }
}

pub fn no_nopasswd(_: &Params, ctx: &Context) -> Outcome {
    if let Some(o) = no_sudoers(ctx) {
        return o;
    }
    let mut bad = Vec::new();
    for spec in &ctx.t.config.sudoers.user_specs {
        let tagged = spec
            .privileges
            .iter()
            .flat_map(|p| p.commands.iter())
            .any(|c| c.tags.iter().any(|t| t == "NOPASSWD"));
        if tagged {
            bad.push(Evidence::at(
                &spec.file,
                spec.line,
                format!("{}: NOPASSWD", spec.users.join(",")),
            ));
        }
    }
    if bad.is_empty() {
        return Outcome::pass(vec![Evidence::note("no sudoers rule carries NOPASSWD")]);
    }
    Outcome::fail(bad)
}

pub fn authenticate(_: &Params, ctx: &Context) -> Outcome {
    if let Some(o) = no_sudoers(ctx) {
        return o;
    }
    let bad: Vec<Evidence> = ctx
        .t
        .config
        .sudoers
        .defaults
        .iter()
        .filter(|d| d.name == "authenticate" && d.negated)
        .map(|d| Evidence::at(&d.file, d.line, "Defaults !authenticate"))
        .collect();
    if bad.is_empty() {
        return Outcome::pass(vec![Evidence::note(
            "no `Defaults !authenticate` in sudoers",
        )]);
    }
    Outcome::fail(bad)
}

pub fn timestamp_timeout(params: &Params, ctx: &Context) -> Outcome {
    if let Some(o) = no_sudoers(ctx) {
        return o;
    }
    let max = match int(params, "max") {
        Ok(m) => m as f64,
        Err(e) => return e,
    };
    match ctx.t.config.sudoers.global_default("timestamp_timeout") {
        // sudo's compiled-in default is 15 minutes.
        None => Outcome::judge(
            15.0 <= max,
            vec![Evidence::note(
                "timestamp_timeout not set: sudo's default 15 minutes",
            )],
        ),
        Some(d) => {
            let v = d
                .value
                .as_deref()
                .and_then(|v| v.trim().parse::<f64>().ok());
            let ok = v.is_some_and(|v| (0.0..=max).contains(&v));
            Outcome::judge(
                ok,
                vec![Evidence::at(
                    &d.file,
                    d.line,
                    format!(
                        "Defaults timestamp_timeout={}",
                        d.value.as_deref().unwrap_or("")
                    ),
                )],
            )
        }
    }
}

pub fn pam_su_restricted(_: &Params, ctx: &Context) -> Outcome {
    let Some(stack) = ctx.t.config.pam.stacks.get("su") else {
        return Outcome::fail(vec![Evidence::note("no /etc/pam.d/su")]);
    };
    let Some(rule) = pam_find_module(stack, "auth", &["pam_wheel.so".to_string()]) else {
        return Outcome::fail(vec![Evidence::in_file(
            &stack.file,
            "no auth pam_wheel.so rule",
        )]);
    };
    let place = Evidence::at(
        &rule.source.file,
        rule.source.line,
        rule.source.value.clone(),
    );
    if pam_argument(rule, "use_uid").is_none() {
        return Outcome::fail(vec![place]);
    }
    let Some(group) = pam_argument(rule, "group") else {
        return Outcome::fail(vec![place]);
    };
    let groups = &ctx.t.config.accounts.groups;
    match groups.iter().find(|g| g.name == group) {
        Some(g) if g.members.is_empty() => Outcome::pass(vec![place]),
        Some(g) => Outcome::fail(vec![
            place,
            Evidence::at(
                &g.file,
                g.line,
                format!("{group} members: {}", g.members.join(",")),
            ),
        ]),
        None => Outcome::fail(vec![place, Evidence::note(format!("no group {group}"))]),
    }
}
