//! Directory and file permissions across the tree: system directories,
//! world-writable entries, files without an owner account, home
//! directories and dot files.

use std::collections::HashSet;

use coldscan_fs::FileType;

use super::{text, Params};
use crate::collect::files::SYSTEM_TREES;
use crate::listing::Entry;
use crate::rules::eval::Context;
use crate::rules::outcome::{Evidence, Outcome};

const MAX_EVIDENCE: usize = 50;

fn under(path: &str, trees: &[&str]) -> bool {
    trees
        .iter()
        .any(|t| path == *t || path.strip_prefix(t).is_some_and(|r| r.starts_with('/')))
}

fn mode(e: &Entry) -> Option<u32> {
    e.mode
        .as_deref()
        .and_then(|m| u32::from_str_radix(m, 8).ok())
}

fn show(ctx: &Context, e: &Entry, why: &str) -> Evidence {
    Evidence::in_file(
        &e.path,
        format!(
            "{} {} ({why})",
            e.mode.as_deref().unwrap_or("----"),
            ctx.owner_group(e.uid, e.gid)
        ),
    )
}

fn verdict(bad: Vec<Evidence>, good: &str) -> Outcome {
    if bad.is_empty() {
        Outcome::pass(vec![Evidence::note(good)])
    } else {
        let mut bad = bad;
        bad.truncate(MAX_EVIDENCE);
        Outcome::fail(bad)
    }
}

/// Why a directory is writable by someone other than root, if it is.
fn non_root_writable(e: &Entry) -> Option<&'static str> {
    let m = mode(e)?;
    if m & 0o002 != 0 {
        Some("writable by others")
    } else if m & 0o020 != 0 {
        Some("writable by its group")
    } else if e.uid != Some(0) {
        Some("owned by a non-root user")
    } else {
        None
    }
}

pub fn system_dirs_root_only(_: &Params, ctx: &Context) -> Outcome {
    let files = &ctx.t.files;
    let mut seen = HashSet::new();
    let mut bad = Vec::new();
    for e in files
        .system_dirs
        .iter()
        .chain(files.system_writable_or_non_root.iter())
        .filter(|e| e.file_type == FileType::Dir && under(&e.path, SYSTEM_TREES))
    {
        if let Some(why) = non_root_writable(e) {
            if seen.insert(e.path.clone()) {
                bad.push(show(ctx, e, why));
            }
        }
    }
    verdict(
        bad,
        "every directory under the system binary, library and configuration paths is writable by root only",
    )
}

pub fn world_writable_files_none(_: &Params, ctx: &Context) -> Outcome {
    let bad = ctx
        .t
        .files
        .world_writable
        .iter()
        .filter(|e| e.file_type == FileType::File)
        .map(|e| show(ctx, e, "world-writable file"))
        .collect();
    verdict(bad, "no world-writable regular file")
}

pub fn world_writable_dirs_sticky(_: &Params, ctx: &Context) -> Outcome {
    let bad = ctx
        .t
        .files
        .world_writable
        .iter()
        .filter(|e| e.file_type == FileType::Dir && mode(e).is_some_and(|m| m & 0o1000 == 0))
        .map(|e| show(ctx, e, "world-writable directory without the sticky bit"))
        .collect();
    verdict(bad, "every world-writable directory has the sticky bit")
}

pub fn unowned_files_none(_: &Params, ctx: &Context) -> Outcome {
    let mut bad = Vec::new();
    for o in &ctx.t.files.owners {
        let user = ctx.user_name(o.uid).is_some();
        let group = ctx.group_name(o.gid).is_some();
        if user && group {
            continue;
        }
        let why = match (user, group) {
            (false, false) => format!("uid {} and gid {} have no account or group", o.uid, o.gid),
            (false, true) => format!("uid {} has no account", o.uid),
            _ => format!("gid {} has no group", o.gid),
        };
        bad.push(Evidence::note(format!(
            "{} entries: {why}, e.g. {}",
            o.count,
            o.examples.join(", ")
        )));
    }
    Context::unless_cut(
        verdict(bad, "every file's owner and group exist"),
        ctx.t.files.owners_cut,
        "file owners",
    )
}

pub fn home_directories(params: &Params, ctx: &Context) -> Outcome {
    let max = match text(params, "max_mode").map(|m| u32::from_str_radix(m, 8)) {
        Some(Ok(m)) => m,
        _ => return Outcome::error("params.max_mode must be an octal string such as \"0750\""),
    };
    let mut bad = Vec::new();
    for h in &ctx.t.files.homes {
        let Some(e) = &h.entry else {
            bad.push(Evidence::note(format!(
                "{}: home {} does not exist",
                h.user, h.path
            )));
            continue;
        };
        if e.file_type != FileType::Dir {
            bad.push(show(
                ctx,
                e,
                &format!("{}'s home is not a directory", h.user),
            ));
            continue;
        }
        if e.uid != h.uid {
            bad.push(show(ctx, e, &format!("not owned by {}", h.user)));
        }
        if mode(e).is_some_and(|m| m & !max & 0o777 != 0) {
            bad.push(show(ctx, e, &format!("more permissive than {max:04o}")));
        }
    }
    verdict(
        bad,
        "every interactive user's home exists, is theirs and is not open to others",
    )
}

pub fn dot_files(_: &Params, ctx: &Context) -> Outcome {
    let mut bad = Vec::new();
    for h in &ctx.t.files.homes {
        for d in &h.dot_files {
            let name = d.path.rsplit('/').next().unwrap_or("");
            if matches!(name, ".rhosts" | ".netrc" | ".forward" | ".shosts") {
                bad.push(show(ctx, d, &format!("{name} in {}'s home", h.user)));
            } else if d.file_type != FileType::Symlink && mode(d).is_some_and(|m| m & 0o022 != 0) {
                bad.push(show(ctx, d, "dot file writable by group or others"));
            }
        }
    }
    verdict(
        bad,
        "no .rhosts, .netrc, .forward, and no group- or world-writable dot files",
    )
}
