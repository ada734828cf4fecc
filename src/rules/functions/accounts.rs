//! User and group integrity from passwd, shadow, group and gshadow.

use std::collections::{HashMap, HashSet};

use coldscan_config::accounts::PasswordState;

use super::Params;
use crate::collect::files::is_login_shell;
use crate::rules::eval::Context;
use crate::rules::outcome::{Evidence, Outcome};

fn verdict(bad: Vec<Evidence>, good: &str) -> Outcome {
    if bad.is_empty() {
        Outcome::pass(vec![Evidence::note(good)])
    } else {
        Outcome::fail(bad)
    }
}

/// A shadow password state in words, for evidence.
fn state_text(state: PasswordState) -> &'static str {
    match state {
        PasswordState::Set => "password set",
        PasswordState::Empty => "empty password",
        PasswordState::Locked => "password locked",
        PasswordState::NoPassword => "no password (locked)",
    }
}

fn uid_min(ctx: &Context) -> u32 {
    ctx.t
        .config
        .login_defs
        .entries
        .get("UID_MIN")
        .and_then(|v| v.value.trim().parse().ok())
        .unwrap_or(1000)
}

pub fn shadowed(_: &Params, ctx: &Context) -> Outcome {
    let bad = ctx
        .t
        .config
        .accounts
        .users
        .iter()
        .filter(|u| !u.shadowed)
        .map(|u| {
            Evidence::at(
                &u.file,
                u.line,
                format!("{}: password field is not `x`", u.name),
            )
        })
        .collect();
    verdict(bad, "every account's password is in /etc/shadow")
}

pub fn no_empty_password(_: &Params, ctx: &Context) -> Outcome {
    let a = &ctx.t.config.accounts;
    let mut bad: Vec<Evidence> = a
        .shadow
        .iter()
        .filter(|s| s.state == PasswordState::Empty)
        .map(|s| Evidence::at(&s.file, s.line, format!("{}: empty password", s.name)))
        .collect();
    bad.extend(
        a.users
            .iter()
            .filter(|u| !u.shadowed && u.passwd_field == PasswordState::Empty)
            .map(|u| Evidence::at(&u.file, u.line, format!("{}: empty password", u.name))),
    );
    verdict(bad, "no account has an empty password")
}

pub fn uid0_only_root(_: &Params, ctx: &Context) -> Outcome {
    let bad = ctx
        .t
        .config
        .accounts
        .users
        .iter()
        .filter(|u| u.uid == Some(0) && u.name != "root")
        .map(|u| Evidence::at(&u.file, u.line, format!("{}: uid 0", u.name)))
        .collect();
    verdict(bad, "root is the only account with uid 0")
}

pub fn gid0_only_root(_: &Params, ctx: &Context) -> Outcome {
    let a = &ctx.t.config.accounts;
    let mut bad: Vec<Evidence> = a
        .users
        .iter()
        .filter(|u| {
            u.gid == Some(0)
                && !matches!(
                    u.name.as_str(),
                    "root" | "sync" | "shutdown" | "halt" | "operator"
                )
        })
        .map(|u| Evidence::at(&u.file, u.line, format!("{}: primary gid 0", u.name)))
        .collect();
    bad.extend(
        a.groups
            .iter()
            .filter(|g| g.gid == Some(0) && g.name != "root")
            .map(|g| Evidence::at(&g.file, g.line, format!("group {} has gid 0", g.name))),
    );
    verdict(bad, "only root has gid 0")
}

pub fn root_gid0(_: &Params, ctx: &Context) -> Outcome {
    match ctx
        .t
        .config
        .accounts
        .users
        .iter()
        .find(|u| u.name == "root")
    {
        Some(u) if u.gid == Some(0) => {
            Outcome::pass(vec![Evidence::at(&u.file, u.line, "root: primary gid 0")])
        }
        Some(u) => Outcome::fail(vec![Evidence::at(
            &u.file,
            u.line,
            format!("root: primary gid {:?}", u.gid),
        )]),
        None => Outcome::fail(vec![Evidence::note("no root account in /etc/passwd")]),
    }
}

/// Entries sharing a key, each shown at its line.
fn duplicates<K: std::hash::Hash + Eq + std::fmt::Display>(
    items: impl Iterator<Item = (K, String, String, usize)>,
    what: &str,
) -> Vec<Evidence> {
    let mut by: HashMap<K, Vec<(String, String, usize)>> = HashMap::new();
    let mut order = Vec::new();
    for (k, name, file, line) in items {
        let list = by.entry(k).or_default();
        if list.is_empty() {
            order.push(line);
        }
        list.push((name, file, line));
    }
    let mut bad: Vec<(usize, Evidence)> = Vec::new();
    for (k, list) in by {
        if list.len() > 1 {
            let names: Vec<&str> = list.iter().map(|(n, _, _)| n.as_str()).collect();
            for (_, file, line) in &list {
                bad.push((
                    *line,
                    Evidence::at(
                        file,
                        *line,
                        format!("{what} {k} shared by {}", names.join(", ")),
                    ),
                ));
            }
        }
    }
    bad.sort_by_key(|(l, _)| *l);
    bad.into_iter().map(|(_, e)| e).collect()
}

pub fn unique_uids(_: &Params, ctx: &Context) -> Outcome {
    let users = &ctx.t.config.accounts.users;
    let bad = duplicates(
        users
            .iter()
            .filter_map(|u| u.uid.map(|id| (id, u.name.clone(), u.file.clone(), u.line))),
        "uid",
    );
    verdict(bad, "every uid is unique")
}

pub fn unique_names(_: &Params, ctx: &Context) -> Outcome {
    let users = &ctx.t.config.accounts.users;
    let bad = duplicates(
        users
            .iter()
            .map(|u| (u.name.clone(), u.name.clone(), u.file.clone(), u.line)),
        "user name",
    );
    verdict(bad, "every user name is unique")
}

pub fn groups_unique_gids(_: &Params, ctx: &Context) -> Outcome {
    let groups = &ctx.t.config.accounts.groups;
    let bad = duplicates(
        groups
            .iter()
            .filter_map(|g| g.gid.map(|id| (id, g.name.clone(), g.file.clone(), g.line))),
        "gid",
    );
    verdict(bad, "every gid is unique")
}

pub fn groups_unique_names(_: &Params, ctx: &Context) -> Outcome {
    let groups = &ctx.t.config.accounts.groups;
    let bad = duplicates(
        groups
            .iter()
            .map(|g| (g.name.clone(), g.name.clone(), g.file.clone(), g.line)),
        "group name",
    );
    verdict(bad, "every group name is unique")
}

pub fn groups_exist(_: &Params, ctx: &Context) -> Outcome {
    let a = &ctx.t.config.accounts;
    let gids: HashSet<u32> = a.groups.iter().filter_map(|g| g.gid).collect();
    let bad = a
        .users
        .iter()
        .filter(|u| u.gid.is_some_and(|g| !gids.contains(&g)))
        .map(|u| {
            Evidence::at(
                &u.file,
                u.line,
                format!(
                    "{}: primary gid {} is not in /etc/group",
                    u.name,
                    u.gid.unwrap_or(0)
                ),
            )
        })
        .collect();
    verdict(bad, "every account's primary group exists")
}

pub fn shadow_group_empty(_: &Params, ctx: &Context) -> Outcome {
    let a = &ctx.t.config.accounts;
    let Some(shadow) = a.groups.iter().find(|g| g.name == "shadow") else {
        return Outcome::pass(vec![Evidence::note("no shadow group")]);
    };
    let mut bad = Vec::new();
    if !shadow.members.is_empty() {
        bad.push(Evidence::at(
            &shadow.file,
            shadow.line,
            format!("shadow group members: {}", shadow.members.join(",")),
        ));
    }
    for u in a
        .users
        .iter()
        .filter(|u| u.gid.is_some() && u.gid == shadow.gid)
    {
        bad.push(Evidence::at(
            &u.file,
            u.line,
            format!("{}: primary group shadow", u.name),
        ));
    }
    verdict(bad, "the shadow group has no members")
}

pub fn system_nologin(_: &Params, ctx: &Context) -> Outcome {
    let min = uid_min(ctx);
    let bad = ctx
        .t
        .config
        .accounts
        .users
        .iter()
        .filter(|u| {
            u.uid.is_some_and(|id| id < min)
                && !matches!(u.name.as_str(), "root" | "sync" | "shutdown" | "halt")
                && is_login_shell(&u.shell)
        })
        .map(|u| {
            Evidence::at(
                &u.file,
                u.line,
                format!("{} (uid {}): shell {}", u.name, u.uid.unwrap_or(0), u.shell),
            )
        })
        .collect();
    verdict(bad, "system accounts have no login shell")
}

pub fn system_locked(_: &Params, ctx: &Context) -> Outcome {
    let a = &ctx.t.config.accounts;
    let min = uid_min(ctx);
    let system: HashSet<&str> = a
        .users
        .iter()
        .filter(|u| u.uid.is_some_and(|id| id < min) && u.name != "root")
        .map(|u| u.name.as_str())
        .collect();
    let bad = a
        .shadow
        .iter()
        .filter(|s| {
            system.contains(s.name.as_str())
                && matches!(s.state, PasswordState::Set | PasswordState::Empty)
        })
        .map(|s| Evidence::at(&s.file, s.line, format!("{}: password usable", s.name)))
        .collect();
    verdict(bad, "system accounts are locked")
}

pub fn root_password(_: &Params, ctx: &Context) -> Outcome {
    match ctx
        .t
        .config
        .accounts
        .shadow
        .iter()
        .find(|s| s.name == "root")
    {
        Some(s) if s.state == PasswordState::Empty => {
            Outcome::fail(vec![Evidence::at(&s.file, s.line, "root: empty password")])
        }
        Some(s) => Outcome::pass(vec![Evidence::at(
            &s.file,
            s.line,
            format!("root: {}", state_text(s.state)),
        )]),
        None => Outcome::fail(vec![Evidence::note("root has no /etc/shadow entry")]),
    }
}

pub fn root_password_set(_: &Params, ctx: &Context) -> Outcome {
    match ctx
        .t
        .config
        .accounts
        .shadow
        .iter()
        .find(|s| s.name == "root")
    {
        Some(s) if s.state == PasswordState::Set => {
            Outcome::pass(vec![Evidence::at(&s.file, s.line, "root: password set")])
        }
        Some(s) => Outcome::fail(vec![Evidence::at(
            &s.file,
            s.line,
            format!("root: {}", state_text(s.state)),
        )]),
        None => Outcome::fail(vec![Evidence::note("root has no /etc/shadow entry")]),
    }
}

/// The shells /etc/shells lists (comments and blanks skipped).
fn valid_shells(ctx: &Context) -> Option<Vec<String>> {
    let watched = ctx.watched(SHELLS)?;
    let text = watched.matches.iter().find_map(|m| m.text.as_deref())?;
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect(),
    )
}

pub const SHELLS: &str = "/etc/shells";

pub fn without_shell_locked(_: &Params, ctx: &Context) -> Outcome {
    if ctx.watched(SHELLS).is_none() {
        return Context::not_collected(SHELLS);
    }
    let Some(shells) = valid_shells(ctx) else {
        return Outcome::not_applicable("the image has no /etc/shells");
    };
    let a = &ctx.t.config.accounts;
    let outside: HashSet<&str> = a
        .users
        .iter()
        .filter(|u| u.name != "root" && !shells.contains(&u.shell))
        .map(|u| u.name.as_str())
        .collect();
    let bad = a
        .shadow
        .iter()
        .filter(|s| {
            outside.contains(s.name.as_str())
                && matches!(s.state, PasswordState::Set | PasswordState::Empty)
        })
        .map(|s| {
            Evidence::at(
                &s.file,
                s.line,
                format!("{}: shell not in /etc/shells, password usable", s.name),
            )
        })
        .collect();
    verdict(bad, "accounts without a valid shell are locked")
}
