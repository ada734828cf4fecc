//! Rules whose logic is not a template: Rust functions registered by name
//! and called from rule files with `kind = "function"`.

mod accounts;
mod audit;
mod kernel;
mod password;
mod permissions;
mod ssh;
mod sudo;

use std::collections::BTreeMap;

use super::eval::Context;
use super::outcome::Outcome;

type Params = BTreeMap<String, toml::Value>;
type Function = fn(&Params, &Context) -> Outcome;

/// name → (required integer/string params, function).
const REGISTRY: &[(&str, &[&str], Function)] = &[
    ("sshd_protocol_2_only", &[], ssh::protocol_2_only),
    ("password_max_age", &["max_days"], password::max_age),
    ("password_min_days", &["min_days"], password::min_days),
    ("password_warn_age", &["min_days"], password::warn_age),
    ("password_inactive", &["max_days"], password::inactive),
    (
        "password_last_change_in_past",
        &[],
        password::last_change_in_past,
    ),
    ("password_min_length", &["min"], password::min_length),
    (
        "password_complexity",
        &["minclass", "remember"],
        password::complexity,
    ),
    ("aslr", &[], kernel::aslr),
    ("dep", &[], kernel::dep),
    (
        "system_dirs_root_only",
        &[],
        permissions::system_dirs_root_only,
    ),
    (
        "world_writable_files_none",
        &[],
        permissions::world_writable_files_none,
    ),
    (
        "world_writable_dirs_sticky",
        &[],
        permissions::world_writable_dirs_sticky,
    ),
    ("unowned_files_none", &[], permissions::unowned_files_none),
    (
        "home_directories",
        &["max_mode"],
        permissions::home_directories,
    ),
    ("dot_files", &[], permissions::dot_files),
    ("accounts_shadowed", &[], accounts::shadowed),
    (
        "accounts_no_empty_password",
        &[],
        accounts::no_empty_password,
    ),
    ("accounts_uid0_only_root", &[], accounts::uid0_only_root),
    ("accounts_root_gid0", &[], accounts::root_gid0),
    ("accounts_gid0_only_root", &[], accounts::gid0_only_root),
    ("accounts_unique_uids", &[], accounts::unique_uids),
    ("accounts_unique_names", &[], accounts::unique_names),
    ("groups_unique_gids", &[], accounts::groups_unique_gids),
    ("groups_unique_names", &[], accounts::groups_unique_names),
    ("accounts_groups_exist", &[], accounts::groups_exist),
    ("groups_shadow_empty", &[], accounts::shadow_group_empty),
    ("accounts_system_nologin", &[], accounts::system_nologin),
    ("accounts_system_locked", &[], accounts::system_locked),
    ("root_password_set_or_locked", &[], accounts::root_password),
    ("root_password_set", &[], accounts::root_password_set),
    (
        "accounts_without_shell_locked",
        &[],
        accounts::without_shell_locked,
    ),
    ("audit_privileged_commands", &[], audit::privileged_commands),
    ("sudo_defaults", &["option"], sudo::defaults),
    ("sudo_no_nopasswd", &[], sudo::no_nopasswd),
    ("sudo_authenticate", &[], sudo::authenticate),
    ("sudo_timestamp_timeout", &["max"], sudo::timestamp_timeout),
    ("pam_su_restricted", &[], sudo::pam_su_restricted),
];

/// Checks at load time that the function exists and has its parameters.
pub fn validate(name: &str, params: &Params) -> Result<(), String> {
    let Some((_, required, _)) = REGISTRY.iter().find(|(n, _, _)| *n == name) else {
        return Err(format!("unknown function {name:?}"));
    };
    for r in *required {
        if !params.contains_key(*r) {
            return Err(format!("function {name:?} needs params.{r}"));
        }
    }
    Ok(())
}

pub fn call(name: &str, params: &Params, ctx: &Context) -> Outcome {
    match REGISTRY.iter().find(|(n, _, _)| *n == name) {
        Some((_, _, f)) => f(params, ctx),
        None => Outcome::error(format!("unknown function {name:?}")),
    }
}

/// Globs some functions read from the telemetry: the collection watches
/// them when such a rule is loaded. (function, glob, with text)
pub const WATCHED: &[(&str, &str, bool)] = &[
    ("dep", "/boot/config-*", true),
    ("accounts_without_shell_locked", accounts::SHELLS, true),
    ("audit_privileged_commands", audit::RULES, true),
];

pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|(n, _, _)| *n)
}

fn int(params: &Params, key: &str) -> Result<i64, Outcome> {
    match params.get(key) {
        Some(toml::Value::Integer(i)) => Ok(*i),
        Some(toml::Value::String(s)) => s
            .parse()
            .map_err(|_| Outcome::error(format!("params.{key} {s:?} is not a number"))),
        _ => Err(Outcome::error(format!(
            "params.{key} is missing or not a number"
        ))),
    }
}

fn text<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params.get(key).and_then(toml::Value::as_str)
}
