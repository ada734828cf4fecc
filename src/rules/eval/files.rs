//! `file` (mode, owner and group of what a glob matches) and
//! `file_content` (lines of those files against a pattern).

use coldscan_fs::FileType;
use regex::Regex;

use super::Context;
use crate::collect::watched::{Watched, WatchedFile};
use crate::rules::check::{ContentExpectation, Missing};
use crate::rules::outcome::{Evidence, Outcome};

/// Most evidence lines kept for one rule: enough to act on, short enough
/// to read.
const MAX_EVIDENCE: usize = 50;

pub struct FileSpec<'a> {
    pub path: &'a str,
    pub max_mode: Option<&'a str>,
    pub owner: Option<&'a [String]>,
    pub group: Option<&'a [String]>,
    pub file_type: Option<&'a str>,
    pub exists: Option<bool>,
    pub when_missing: Missing,
}

pub fn missing(when: Missing, what: String) -> Outcome {
    match when {
        Missing::Pass => Outcome::pass(vec![Evidence::note(what)]),
        Missing::Fail => Outcome::fail(vec![Evidence::note(what)]),
        Missing::NotApplicable => Outcome::not_applicable(what),
    }
}

fn type_name(t: FileType) -> &'static str {
    match t {
        FileType::File => "file",
        FileType::Dir => "dir",
        FileType::Symlink => "symlink",
        _ => "other",
    }
}

/// An owner list entry matches a uid by number or by the image's name for
/// it; id 0 is `root` even when the image has no passwd or group file.
fn id_matches(accepted: &[String], id: u32, name: Option<&str>) -> bool {
    let name = name.or((id == 0).then_some("root"));
    accepted
        .iter()
        .any(|a| a.parse::<u32>().ok() == Some(id) || Some(a.as_str()) == name)
}

fn describe(ctx: &Context, f: &WatchedFile) -> String {
    let e = &f.entry;
    format!(
        "{} {} {}",
        type_name(e.file_type),
        e.mode.as_deref().unwrap_or("----"),
        ctx.owner_group(e.uid, e.gid)
    )
}

pub fn file(ctx: &Context, spec: &FileSpec) -> Outcome {
    let Some(watched) = ctx.watched(spec.path) else {
        return Context::not_collected(spec.path);
    };
    Context::unless_cut(judge_files(ctx, spec, watched), watched.cut, spec.path)
}

fn judge_files(ctx: &Context, spec: &FileSpec, watched: &Watched) -> Outcome {
    let max_mode = match spec.max_mode.map(|m| u32::from_str_radix(m, 8)) {
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => {
            return Outcome::error(format!("max_mode {:?} is not octal", spec.max_mode))
        }
        None => None,
    };
    let candidates: Vec<&WatchedFile> = watched
        .matches
        .iter()
        .filter(|f| {
            spec.file_type
                .is_none_or(|t| type_name(f.entry.file_type) == t)
        })
        .collect();
    if spec.exists == Some(false) {
        let evidence: Vec<Evidence> = candidates
            .iter()
            .take(MAX_EVIDENCE)
            .map(|f| Evidence::in_file(&f.entry.path, format!("exists ({})", describe(ctx, f))))
            .collect();
        if evidence.is_empty() {
            return Outcome::pass(vec![Evidence::note(format!("no {}", spec.path))]);
        }
        return Outcome::fail(evidence);
    }
    if candidates.is_empty() {
        let what = format!("no {} in the image", spec.path);
        if spec.exists == Some(true) {
            return Outcome::fail(vec![Evidence::note(what)]);
        }
        return missing(spec.when_missing, what);
    }
    let mut bad = Vec::new();
    let mut good = Vec::new();
    for f in candidates {
        let e = &f.entry;
        let mut problems = Vec::new();
        if let Some(max) = max_mode {
            match e.mode.as_deref().map(|m| u32::from_str_radix(m, 8)) {
                // A symlink's own mode means nothing: its target is checked
                // where a glob names it.
                _ if e.file_type == FileType::Symlink => {}
                Some(Ok(mode)) if mode & !max & 0o7777 != 0 => {
                    problems.push(format!("mode {:04o} exceeds {:04o}", mode & 0o7777, max))
                }
                Some(Ok(_)) => {}
                _ => problems.push("no POSIX mode".into()),
            }
        }
        if let Some(owners) = spec.owner {
            match e.uid {
                Some(uid) if id_matches(owners, uid, ctx.user_name(uid)) => {}
                _ => problems.push(format!("owner not {}", owners.join(" or "))),
            }
        }
        if let Some(groups) = spec.group {
            match e.gid {
                Some(gid) if id_matches(groups, gid, ctx.group_name(gid)) => {}
                _ => problems.push(format!("group not {}", groups.join(" or "))),
            }
        }
        let shown = describe(ctx, f);
        if problems.is_empty() {
            good.push(Evidence::in_file(&e.path, shown));
        } else {
            bad.push(Evidence::in_file(
                &e.path,
                format!("{shown} ({})", problems.join(", ")),
            ));
        }
    }
    if bad.is_empty() {
        good.truncate(MAX_EVIDENCE);
        Outcome::pass(good)
    } else {
        bad.truncate(MAX_EVIDENCE);
        Outcome::fail(bad)
    }
}

pub fn content(
    ctx: &Context,
    path: &str,
    pattern: &str,
    expect: ContentExpectation,
    when_missing: Missing,
) -> Outcome {
    let Some(watched) = ctx.watched(path) else {
        return Context::not_collected(path);
    };
    let outcome = judge_content(watched, path, pattern, expect, when_missing);
    Context::unless_cut(outcome, watched.cut, path)
}

fn judge_content(
    watched: &Watched,
    path: &str,
    pattern: &str,
    expect: ContentExpectation,
    when_missing: Missing,
) -> Outcome {
    let re = match Regex::new(pattern) {
        Ok(re) => re,
        Err(e) => return Outcome::error(format!("bad pattern {pattern:?}: {e}")),
    };
    let texts: Vec<(&str, &str)> = watched
        .matches
        .iter()
        .filter_map(|m| m.text.as_deref().map(|t| (m.entry.path.as_str(), t)))
        .collect();
    if texts.is_empty() {
        if let Some(err) = watched.matches.iter().find_map(|m| m.text_error.as_deref()) {
            return Outcome::error(format!("{path}: {err}"));
        }
        return missing(when_missing, format!("no {path} in the image"));
    }
    let mut hits = Vec::new();
    for (file, text) in &texts {
        for (i, line) in text.lines().enumerate() {
            if re.is_match(line) {
                hits.push(Evidence::at(file, i + 1, line.trim().to_string()));
                if hits.len() >= MAX_EVIDENCE {
                    break;
                }
            }
        }
    }
    let files: Vec<&str> = texts.iter().map(|(f, _)| *f).collect();
    let none = || {
        vec![Evidence::note(format!(
            "no line of {} matches {pattern}",
            files.join(", ")
        ))]
    };
    match expect {
        ContentExpectation::Match if hits.is_empty() => Outcome::fail(none()),
        ContentExpectation::Match => Outcome::pass(hits),
        ContentExpectation::NoMatch if hits.is_empty() => Outcome::pass(none()),
        ContentExpectation::NoMatch => Outcome::fail(hits),
    }
}
