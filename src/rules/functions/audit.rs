//! Audit rules for privileged programs: every SUID/SGID file the image has
//! must be watched by an `-F path=… -F perm=x` rule in /etc/audit/rules.d.

use std::collections::HashSet;

use super::Params;
use crate::rules::eval::Context;
use crate::rules::outcome::{Evidence, Outcome};

pub const RULES: &str = "/etc/audit/rules.d/*.rules";

/// Paths named by `-F path=X` in rules that also carry `-F perm=…x…`.
fn audited_paths(ctx: &Context) -> HashSet<String> {
    let mut paths = HashSet::new();
    let Some(w) = ctx.watched(RULES) else {
        return paths;
    };
    for text in w.matches.iter().filter_map(|m| m.text.as_deref()) {
        for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut path = None;
            let mut exec = false;
            for pair in words.windows(2).filter(|p| p[0] == "-F") {
                if let Some(p) = pair[1].strip_prefix("path=") {
                    path = Some(p.to_string());
                }
                if pair[1]
                    .strip_prefix("perm=")
                    .is_some_and(|p| p.contains('x'))
                {
                    exec = true;
                }
            }
            if let (Some(p), true) = (path, exec) {
                paths.insert(p);
            }
        }
    }
    paths
}

pub fn privileged_commands(_: &Params, ctx: &Context) -> Outcome {
    if ctx.watched(RULES).is_none() {
        return Context::not_collected(RULES);
    }
    let audited = audited_paths(ctx);
    let programs: Vec<&str> = ctx
        .t
        .files
        .suid_sgid
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    let bad: Vec<Evidence> = programs
        .iter()
        .filter(|p| !audited.contains(**p))
        .take(50)
        .map(|p| {
            Evidence::in_file(
                p,
                "SUID/SGID program without an audit rule (-F path=… -F perm=x)",
            )
        })
        .collect();
    if bad.is_empty() {
        Outcome::pass(vec![Evidence::note(format!(
            "all {} SUID/SGID programs have an execution audit rule",
            programs.len()
        ))])
    } else {
        Outcome::fail(bad)
    }
}
