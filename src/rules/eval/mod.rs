//! Evaluation of check kinds against one telemetry document. Each kind is
//! implemented once here; rules only choose kinds and parameters.

pub mod cmdline;
mod files;
mod keyvalue;
mod modules;
mod mount;
mod packages;
mod pam;
mod sshd;
pub mod value;

pub use pam::{
    argument as pam_argument, effective_pwquality, find_module as pam_find_module, PASSWORD_STACKS,
};

use std::collections::HashMap;

use crate::collect::watched::Watched;
use crate::collect::Telemetry;

use super::check::{Check, ContentExpectation, Missing};
use super::functions;
use super::outcome::Outcome;

/// The telemetry with the look-ups the checks need.
pub struct Context<'a> {
    pub t: &'a Telemetry,
    watched: HashMap<&'a str, &'a Watched>,
    user_names: HashMap<u32, &'a str>,
    group_names: HashMap<u32, &'a str>,
}

impl<'a> Context<'a> {
    pub fn new(t: &'a Telemetry) -> Context<'a> {
        let watched = t
            .files
            .watched
            .iter()
            .map(|w| (w.pattern.as_str(), w))
            .collect();
        let mut user_names = HashMap::new();
        for u in &t.config.accounts.users {
            if let Some(uid) = u.uid {
                user_names.entry(uid).or_insert(u.name.as_str());
            }
        }
        let mut group_names = HashMap::new();
        for g in &t.config.accounts.groups {
            if let Some(gid) = g.gid {
                group_names.entry(gid).or_insert(g.name.as_str());
            }
        }
        Context {
            t,
            watched,
            user_names,
            group_names,
        }
    }

    /// What a rule's glob matched, or `None` if the collection did not
    /// watch that glob (the telemetry came from other rules).
    pub fn watched(&self, pattern: &str) -> Option<&'a Watched> {
        self.watched.get(pattern).copied()
    }

    pub fn user_name(&self, uid: u32) -> Option<&'a str> {
        self.user_names.get(&uid).copied()
    }

    pub fn group_name(&self, gid: u32) -> Option<&'a str> {
        self.group_names.get(&gid).copied()
    }

    /// `user:group` of an entry, by the image's names (numbers when it has
    /// none, `?` when the filesystem has no owners).
    pub fn owner_group(&self, uid: Option<u32>, gid: Option<u32>) -> String {
        let name = |id: Option<u32>, lookup: &dyn Fn(u32) -> Option<&'a str>| match id {
            Some(id) => lookup(id).map(str::to_string).unwrap_or(id.to_string()),
            None => "?".to_string(),
        };
        format!(
            "{}:{}",
            name(uid, &|u| self.user_name(u)),
            name(gid, &|g| self.group_name(g))
        )
    }

    /// A pass judged on a list the collection cut short is not a pass: the
    /// entries left out may hold the violation.
    pub fn unless_cut(outcome: Outcome, cut: bool, what: &str) -> Outcome {
        if cut && outcome.status == super::outcome::Status::Pass {
            Outcome::error(format!(
                "{what}: the image has more entries than the collection keeps; nothing wrong among those kept"
            ))
        } else {
            outcome
        }
    }

    /// The reason given when a rule needs a file the telemetry lacks.
    pub fn not_collected(pattern: &str) -> Outcome {
        Outcome::error(format!(
            "the telemetry does not hold {pattern}: it was collected without this rule; \
             collect again with the same rules packages"
        ))
    }
}

/// Evaluates one check.
pub fn evaluate(check: &Check, ctx: &Context) -> Outcome {
    match check {
        Check::All { checks } => Outcome::all(checks.iter().map(|c| evaluate(c, ctx)).collect()),
        Check::Any { checks } => Outcome::any(checks.iter().map(|c| evaluate(c, ctx)).collect()),
        Check::Not { check } => evaluate(check, ctx).negate(),
        Check::Sshd { key, test } => sshd::evaluate(ctx, key, test),
        Check::Pam {
            stacks,
            rule_type,
            modules,
            option,
            test,
        } => pam::evaluate(ctx, stacks, rule_type, modules, option.as_deref(), test),
        Check::LoginDefs { key, test } => keyvalue::login_defs(ctx, key, test),
        Check::Pwquality { key, test } => pam::pwquality(ctx, key, test),
        Check::Sysctl { key, test } => keyvalue::sysctl(ctx, key, test),
        Check::KernelCmdline { arg, test } => cmdline::evaluate(ctx, arg, test),
        Check::File {
            path,
            max_mode,
            owner,
            group,
            file_type,
            exists,
            when_missing,
        } => files::file(
            ctx,
            &files::FileSpec {
                path,
                max_mode: max_mode.as_deref(),
                owner: owner.as_deref(),
                group: group.as_deref(),
                file_type: file_type.as_deref(),
                exists: *exists,
                when_missing: *when_missing,
            },
        ),
        Check::FileContent {
            path,
            pattern,
            expect,
            when_missing,
            ..
        } => {
            let when_missing = when_missing.unwrap_or(match expect {
                ContentExpectation::Match => Missing::Fail,
                ContentExpectation::NoMatch => Missing::Pass,
            });
            files::content(ctx, path, pattern, *expect, when_missing)
        }
        Check::Package { names, state } => packages::package(ctx, names, *state),
        Check::Service { units, state } => packages::service(ctx, units, *state),
        Check::Mount {
            mount_point,
            separate,
            options,
        } => mount::evaluate(ctx, mount_point, *separate, options),
        Check::KernelModuleDisabled { module } => modules::evaluate(ctx, module),
        Check::Function { name, params } => functions::call(name, params, ctx),
        Check::NotApplicable { reason } => Outcome::not_applicable(reason.clone()),
    }
}
