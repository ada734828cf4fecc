//! Permissions facts from one walk of the whole tree: system directories,
//! sensitive files, anything under system paths that is writable by group
//! or other or not owned by root, SUID/SGID files and world-writable
//! entries anywhere. The same walk lists the candidates for the binaries
//! collector, so the tree is read once.

use coldscan_fs::rootfs::{Loc, RootFs, WalkOptions};
use coldscan_fs::{FileType, Metadata};
use serde::{Deserialize, Serialize};

use super::ledger::Ledger;
use crate::listing::Entry;

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
const SYSTEM_TREES: &[&str] = &[
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

/// Walks the tree once; returns the facts and the binary candidates.
pub fn collect(root: &RootFs, ledger: &Ledger) -> (FilesFacts, Vec<BinaryCandidate>) {
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
    (facts, candidates)
}
