//! Permissions facts from one walk of the whole tree: system directories,
//! sensitive files, anything under system paths that is writable by group
//! or other or not owned by root, SUID/SGID files and world-writable
//! entries anywhere. The same walk lists the candidates for the binaries
//! collector, so the tree is read once.

use coldscan_fs::rootfs::{Loc, RootFs, WalkOptions};
use coldscan_fs::{FileType, Metadata};
use serde::{Deserialize, Serialize};

use super::image_files::read_optional;
use super::ledger::Ledger;
use super::watched::{Matcher, ModuleFiles, Watch, Watched, MAX_MATCHES};
use crate::listing::Entry;

/// Text of a watched file kept up to this many bytes (audit rules, grub.cfg
/// and journald.conf are far smaller).
const MAX_WATCHED_TEXT: u64 = 1 << 20;
/// Total text kept across watched files.
const MAX_WATCHED_TEXT_TOTAL: u64 = 32 << 20;
/// Sample paths kept per (uid, gid) owner pair.
const OWNER_EXAMPLES: usize = 5;
/// Distinct (uid, gid) pairs kept; real systems have a few dozen.
const MAX_OWNER_PAIRS: usize = 10_000;

/// Directories whose mode and owner are always recorded (when present).
pub const SYSTEM_DIRS: &[&str] = &[
    "/",
    "/bin",
    "/sbin",
    "/usr",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/libx32",
    "/usr/libexec",
    "/etc",
    "/boot",
    "/etc/ssh",
    "/etc/pam.d",
    "/etc/security",
    "/etc/sudoers.d",
    "/etc/cron.d",
    "/etc/cron.hourly",
    "/etc/cron.daily",
    "/etc/cron.weekly",
    "/etc/cron.monthly",
    "/var/spool/cron",
    "/etc/systemd/system",
    "/etc/init.d",
    "/etc/profile.d",
    "/etc/sysctl.d",
    "/etc/modprobe.d",
    "/tmp",
    "/var/tmp",
    "/root",
    "/home",
    "/opt",
];

/// Files whose mode and owner are always recorded (when present).
pub const SENSITIVE_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/passwd-",
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/group",
    "/etc/group-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/security/opasswd",
    "/etc/crontab",
    "/etc/cron.allow",
    "/etc/cron.deny",
    "/etc/at.allow",
    "/etc/at.deny",
    "/etc/ssh/sshd_config",
    "/etc/sudoers",
    "/boot/grub/grub.cfg",
    "/boot/grub2/grub.cfg",
    "/boot/grub2/user.cfg",
    "/etc/issue",
    "/etc/issue.net",
    "/etc/motd",
    "/etc/login.defs",
    "/etc/fstab",
];

/// Prefixes under which group/other-writable or non-root-owned entries are
/// recorded: the system binary, library and configuration paths.
pub const SYSTEM_TREES: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/libx32",
    "/usr/libexec",
    "/etc",
    "/boot",
];

/// Where executables and libraries are looked for (plus PE files anywhere).
const BINARY_TREES: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/libx32",
    "/usr/libexec",
    "/opt",
];

/// Longest list kept per category; past it the ledger says so.
const MAX_LISTED: usize = 100_000;

/// The permissions facts.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FilesFacts {
    pub system_dirs: Vec<Entry>,
    pub sensitive_files: Vec<Entry>,
    /// Under the system paths: entries (not symlinks) writable by group or
    /// other, or whose owner is not root.
    pub system_writable_or_non_root: Vec<Entry>,
    /// Regular files with the setuid or setgid bit, anywhere.
    pub suid_sgid: Vec<Entry>,
    /// Entries writable by other, anywhere (directories included, with
    /// their sticky bit in `mode`).
    pub world_writable: Vec<Entry>,
    /// Number of entries the walk saw.
    pub entries_walked: u64,
    /// The rules' globs and what each matched (see `collect::watched`).
    #[serde(default)]
    pub watched: Vec<Watched>,
    /// Files of the kernel modules the rules ask about.
    #[serde(default)]
    pub kernel_modules: Vec<ModuleFiles>,
    /// Every (uid, gid) pair that owns entries, with a count and examples:
    /// enough to find files whose owner has no account.
    #[serde(default)]
    pub owners: Vec<OwnerCount>,
    /// `owners` stops at 10,000 pairs: more exist.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub owners_cut: bool,
    /// Interactive users' home directories and the dot files in them.
    #[serde(default)]
    pub homes: Vec<Home>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerCount {
    pub uid: u32,
    pub gid: u32,
    pub count: u64,
    pub examples: Vec<String>,
}

/// A user's home directory as the image has it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Home {
    pub user: String,
    pub uid: Option<u32>,
    pub path: String,
    /// `null` when the directory does not exist.
    pub entry: Option<Entry>,
    /// Entries named `.*` directly in the home.
    pub dot_files: Vec<Entry>,
}

/// A file the binaries collector should look at.
#[derive(Debug, Clone)]
pub struct BinaryCandidate {
    pub path: Vec<u8>,
    pub loc: Loc,
    pub meta: Metadata,
    pub partition: Option<u32>,
}

fn under(path: &[u8], trees: &[&str]) -> bool {
    trees.iter().any(|t| {
        let t = t.as_bytes();
        path.starts_with(t) && (path.len() == t.len() || path[t.len()] == b'/')
    })
}

fn is_pe_name(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        b".exe".as_slice(),
        b".dll",
        b".sys",
        b".ocx",
        b".scr",
        b".efi",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

fn entry_at(root: &RootFs, path: &str) -> Option<Entry> {
    let r = root.resolve(path.as_bytes(), false).ok()?;
    let meta = root.metadata_at(r.loc).ok()?;
    let target = (meta.file_type == FileType::Symlink)
        .then(|| root.fs(r.loc).read_link(r.loc.node).ok())
        .flatten();
    let partition = root.mounts().get(r.loc.mount).map(|m| m.partition);
    Some(Entry::new(
        path.as_bytes(),
        meta.file_type,
        Some(&meta),
        partition,
        target.as_deref(),
        Vec::new(),
    ))
}

fn push_capped(list: &mut Vec<Entry>, entry: Entry, what: &str, ledger: &Ledger) {
    if list.len() < MAX_LISTED {
        list.push(entry);
    } else if list.len() == MAX_LISTED {
        ledger.add(
            format!("files.{what}"),
            format!("more than {MAX_LISTED} entries: the list is cut there"),
        );
        list.push(Entry::new(
            b"...",
            FileType::Unknown,
            None,
            None,
            None,
            vec!["list cut".into()],
        ));
    }
}

/// `/usr/X` → `/X` for each top-level directory that is a link into /usr
/// (merged /usr): a rule's `/lib/...` glob then matches files the walk
/// reaches as `/usr/lib/...`.
fn usr_aliases(root: &RootFs) -> Vec<(String, String)> {
    let mut aliases = Vec::new();
    for top in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
        let Some(entry) = entry_at(root, top) else {
            continue;
        };
        let Some(target) = entry.target.as_deref() else {
            continue;
        };
        let target = target.trim_end_matches('/');
        let expected = format!("usr{top}");
        if target == expected || target == format!("/{expected}") {
            aliases.push((format!("/usr{top}/"), format!("{top}/")));
        }
    }
    aliases
}

/// Walks the tree once; returns the facts and the binary candidates.
pub fn collect(
    root: &RootFs,
    watch: &Watch,
    ledger: &Ledger,
) -> (FilesFacts, Vec<BinaryCandidate>) {
    let mut matcher = Matcher::new(watch, &mut |pattern, e| {
        ledger.add(format!("watched glob {pattern}"), e)
    });
    let aliases = usr_aliases(root);
    let mut owners: std::collections::BTreeMap<(u32, u32), (u64, Vec<String>)> =
        std::collections::BTreeMap::new();
    let mut facts = FilesFacts {
        system_dirs: SYSTEM_DIRS
            .iter()
            .filter_map(|p| entry_at(root, p))
            .collect(),
        sensitive_files: SENSITIVE_FILES
            .iter()
            .filter_map(|p| entry_at(root, p))
            .collect(),
        ..FilesFacts::default()
    };
    // sshd host keys: whatever /etc/ssh holds under that name.
    if let Ok(entries) = root.read_dir(b"/etc/ssh") {
        let mut names: Vec<Vec<u8>> = entries
            .into_iter()
            .map(|e| e.name)
            .filter(|n| n.starts_with(b"ssh_host_"))
            .collect();
        names.sort();
        for n in names {
            let p = format!("/etc/ssh/{}", String::from_utf8_lossy(&n));
            facts.sensitive_files.extend(entry_at(root, &p));
        }
    }
    let mut candidates = Vec::new();
    let opts = WalkOptions {
        recursive: true,
        metadata: true,
    };
    let result = root.walk(b"/", opts, &mut |w| {
        facts.entries_walked += 1;
        let partition = root.mounts().get(w.loc.mount).map(|m| m.partition);
        let meta = match w.metadata {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                ledger.add(String::from_utf8_lossy(&w.path), format!("metadata: {e}"));
                return;
            }
            None => return,
        };
        if let Some(e) = &w.dir_error {
            ledger.add(
                String::from_utf8_lossy(&w.path),
                format!("directory contents: {e}"),
            );
        }
        let target = w.target.and_then(|t| t.ok());
        let entry = || {
            Entry::new(
                &w.path,
                meta.file_type,
                Some(&meta),
                partition,
                target.as_deref(),
                Vec::new(),
            )
        };
        let text_path = String::from_utf8_lossy(&w.path);
        // The globs this entry matches, by its own path or (merged /usr) by
        // its alias; the alias is kept as the path when only it matched.
        let mut hits: Vec<(usize, Option<String>)> = matcher
            .matching(&text_path)
            .into_iter()
            .map(|i| (i, None))
            .collect();
        for (usr, top) in &aliases {
            if let Some(rest) = text_path.strip_prefix(usr.as_str()) {
                let alias = format!("{top}{rest}");
                for i in matcher.matching(&alias) {
                    if !hits.iter().any(|(j, _)| *j == i) {
                        hits.push((i, Some(alias.clone())));
                    }
                }
            }
        }
        for (i, alias) in hits {
            let path = alias.as_deref().map_or(&w.path[..], str::as_bytes);
            let found = Entry::new(
                path,
                meta.file_type,
                Some(&meta),
                partition,
                target.as_deref(),
                Vec::new(),
            );
            if !matcher.record(i, found) {
                ledger.add(
                    format!("watched glob {}", matcher.watched[i].pattern),
                    format!("more than {MAX_MATCHES} matches: the list is cut there"),
                );
            }
        }
        matcher.note_module(&text_path);
        if let (Some(uid), Some(gid)) = (meta.uid, meta.gid) {
            // A hostile image can give every inode its own owner: the pairs
            // are capped, and the cut is recorded so no rule passes on it.
            let known = owners.contains_key(&(uid, gid));
            if known || owners.len() < MAX_OWNER_PAIRS {
                let slot = owners.entry((uid, gid)).or_default();
                slot.0 += 1;
                if slot.1.len() < OWNER_EXAMPLES {
                    slot.1.push(text_path.clone().into_owned());
                }
            } else if !facts.owners_cut {
                facts.owners_cut = true;
                ledger.add(
                    "files.owners",
                    format!("more than {MAX_OWNER_PAIRS} owner pairs: the list is cut there"),
                );
            }
        }
        let mode = meta.mode.unwrap_or(0);
        let posix = meta.mode.is_some();
        if posix && meta.file_type != FileType::Symlink {
            if under(&w.path, SYSTEM_TREES) && (mode & 0o022 != 0 || meta.uid != Some(0)) {
                push_capped(
                    &mut facts.system_writable_or_non_root,
                    entry(),
                    "system_writable_or_non_root",
                    ledger,
                );
            }
            if mode & 0o002 != 0 {
                push_capped(&mut facts.world_writable, entry(), "world_writable", ledger);
            }
            if meta.file_type == FileType::File && mode & 0o6000 != 0 {
                push_capped(&mut facts.suid_sgid, entry(), "suid_sgid", ledger);
            }
        }
        if meta.file_type == FileType::File && meta.size >= 64 {
            let name = w.path.rsplit(|&b| b == b'/').next().unwrap_or(&[]);
            let binary_path = under(&w.path, BINARY_TREES)
                && (mode & 0o111 != 0 || name.windows(3).any(|x| x == b".so"));
            if binary_path || is_pe_name(name) {
                candidates.push(BinaryCandidate {
                    path: w.path.clone(),
                    loc: w.loc,
                    meta: meta.clone(),
                    partition,
                });
            }
        }
    });
    if let Err(e) = result {
        ledger.add("/", format!("the tree could not be walked: {e}"));
    }
    read_watched_text(root, &mut matcher.watched, ledger);
    facts.watched = matcher.watched;
    facts.kernel_modules = matcher.modules;
    facts.owners = owners
        .into_iter()
        .map(|((uid, gid), (count, examples))| OwnerCount {
            uid,
            gid,
            count,
            examples,
        })
        .collect();
    (facts, candidates)
}

/// Reads the text of what content globs matched: regular files, and links
/// that resolve to one (e.g. /etc/issue.net → issue).
fn read_watched_text(root: &RootFs, watched: &mut [Watched], ledger: &Ledger) {
    let mut budget = MAX_WATCHED_TEXT_TOTAL;
    for w in watched.iter_mut().filter(|w| w.content) {
        for m in &mut w.matches {
            if !matches!(m.entry.file_type, FileType::File | FileType::Symlink) {
                continue;
            }
            if budget == 0 {
                m.text_error = Some("total size limit for watched files reached".into());
                ledger.add(
                    &m.entry.path,
                    "watched file text not kept: total size limit",
                );
                continue;
            }
            let limit = MAX_WATCHED_TEXT.min(budget);
            match read_optional(root, &m.entry.path, limit + 1) {
                None => {}
                Some(Ok(mut bytes)) => {
                    if bytes.len() as u64 > limit {
                        bytes.truncate(limit as usize);
                        m.text_truncated = true;
                        ledger.add(&m.entry.path, format!("text cut at {limit} bytes"));
                    }
                    budget -= bytes.len() as u64;
                    m.text = Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                Some(Err(e)) => {
                    ledger.add(&m.entry.path, format!("watched file: {e}"));
                    m.text_error = Some(e);
                }
            }
        }
    }
}

/// The home directories of accounts with a login shell, and their dot
/// files (not recursive).
pub fn homes(root: &RootFs, users: &[coldscan_config::accounts::User]) -> Vec<Home> {
    const MAX_HOMES: usize = 10_000;
    const MAX_DOT_FILES: usize = 1_000;
    let mut homes = Vec::new();
    for u in users.iter().filter(|u| is_login_shell(&u.shell)) {
        if homes.len() >= MAX_HOMES || u.home.is_empty() || !u.home.starts_with('/') {
            continue;
        }
        let entry = entry_at(root, &u.home);
        let mut dot_files = Vec::new();
        if entry.as_ref().is_some_and(|e| e.file_type == FileType::Dir) {
            if let Ok(list) = root.read_dir(u.home.as_bytes()) {
                let mut names: Vec<Vec<u8>> = list
                    .into_iter()
                    .map(|e| e.name)
                    .filter(|n| n.starts_with(b".") && n != b"." && n != b"..")
                    .collect();
                names.sort();
                names.truncate(MAX_DOT_FILES);
                for n in names {
                    let p = format!(
                        "{}/{}",
                        u.home.trim_end_matches('/'),
                        String::from_utf8_lossy(&n)
                    );
                    dot_files.extend(entry_at(root, &p));
                }
            }
        }
        homes.push(Home {
            user: u.name.clone(),
            uid: u.uid,
            path: u.home.clone(),
            entry,
            dot_files,
        });
    }
    homes
}

/// A shell that lets the account log in (not nologin/false/sync-style).
pub fn is_login_shell(shell: &str) -> bool {
    let name = shell.rsplit('/').next().unwrap_or("");
    !shell.is_empty()
        && !matches!(
            name,
            "nologin" | "false" | "sync" | "shutdown" | "halt" | "true"
        )
}
