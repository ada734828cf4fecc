//! One listed file as `ls` shows it: a JSON object for machines, a line of
//! text (with hostile bytes escaped) for terminals.

use coldscan_fs::{FileType, Metadata};
use serde::{Deserialize, Serialize};

use crate::escape::{for_terminal, hex};

/// A listed entry. POSIX fields are `null` where the filesystem has none.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Absolute path in the image (invalid UTF-8 replaced; see `path_hex`).
    pub path: String,
    /// The exact path bytes, present only when the path is not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// Permission bits as four octal digits, e.g. `"4755"`; `null` where
    /// the filesystem has no POSIX mode (NTFS) or the inode was unreadable.
    pub mode: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub nlink: Option<u32>,
    /// Modification time, RFC 3339 UTC.
    pub mtime: Option<String>,
    /// Inode (ext) or MFT record (NTFS) number.
    pub inode: Option<u64>,
    /// Partition the entry lives on (0: a whole-disk filesystem).
    pub partition: Option<u32>,
    /// Symlink target as stored (not resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Why some facts about this entry (or a directory's contents) are missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    #[serde(skip)]
    raw_path: Vec<u8>,
    #[serde(skip)]
    raw_target: Option<Vec<u8>>,
}

/// Formats permission bits as four octal digits.
pub fn mode_string(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

impl Entry {
    /// Builds an entry; `meta` is present for long listings.
    pub fn new(
        path: &[u8],
        file_type: FileType,
        meta: Option<&Metadata>,
        partition: Option<u32>,
        target: Option<&[u8]>,
        errors: Vec<String>,
    ) -> Entry {
        let utf8 = std::str::from_utf8(path).is_ok();
        Entry {
            path: String::from_utf8_lossy(path).into_owned(),
            path_hex: (!utf8).then(|| hex(path)),
            file_type,
            mode: meta.and_then(|m| m.mode).map(mode_string),
            uid: meta.and_then(|m| m.uid),
            gid: meta.and_then(|m| m.gid),
            size: meta.map(|m| m.size),
            nlink: meta.map(|m| m.nlink),
            mtime: meta
                .and_then(|m| m.mtime)
                .map(|t| crate::time::rfc3339(t.secs)),
            inode: meta.map(|m| m.node),
            partition,
            target: target.map(|t| String::from_utf8_lossy(t).into_owned()),
            errors,
            raw_path: path.to_vec(),
            raw_target: target.map(|t| t.to_vec()),
        }
    }

    /// `ls -l`-style line: type and mode, links, uid, gid, size, mtime, path.
    pub fn long_line(&self) -> String {
        let kind = match self.file_type {
            FileType::File => '-',
            FileType::Dir => 'd',
            FileType::Symlink => 'l',
            FileType::Char => 'c',
            FileType::Block => 'b',
            FileType::Fifo => 'p',
            FileType::Socket => 's',
            FileType::Unknown => '?',
        };
        let mode = self.mode.clone().unwrap_or_else(|| "----".to_string());
        let id = |v: &Option<u32>| v.map_or_else(|| "-".to_string(), |n| n.to_string());
        let mut line = format!(
            "{kind}{mode} {:>3} {:>6} {:>6} {:>10} {} {}",
            self.nlink.unwrap_or(0),
            id(&self.uid),
            id(&self.gid),
            self.size.unwrap_or(0),
            self.mtime.as_deref().unwrap_or("-"),
            for_terminal(&self.raw_path)
        );
        if let Some(t) = &self.raw_target {
            line.push_str(" -> ");
            line.push_str(&for_terminal(t));
        }
        for e in &self.errors {
            line.push_str("  [error: ");
            line.push_str(&for_terminal(e.as_bytes()));
            line.push(']');
        }
        line
    }

    /// Short line: the escaped path.
    pub fn short_line(&self) -> String {
        let mut line = for_terminal(&self.raw_path);
        for e in &self.errors {
            line.push_str("  [error: ");
            line.push_str(&for_terminal(e.as_bytes()));
            line.push(']');
        }
        line
    }
}
