use serde::{Deserialize, Serialize};

/// Identifies a file within one filesystem: the inode number on ext4, the
/// MFT record number on NTFS.
pub type NodeId = u64;

/// What kind of object a directory entry or inode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    File,
    Dir,
    Symlink,
    Char,
    Block,
    Fifo,
    Socket,
    /// The on-disk type field holds a value we do not know.
    Unknown,
}

impl FileType {
    /// From the `S_IFMT` bits of a POSIX mode.
    pub fn from_mode(mode: u32) -> FileType {
        match mode & 0o170000 {
            0o100000 => FileType::File,
            0o040000 => FileType::Dir,
            0o120000 => FileType::Symlink,
            0o020000 => FileType::Char,
            0o060000 => FileType::Block,
            0o010000 => FileType::Fifo,
            0o140000 => FileType::Socket,
            _ => FileType::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileType::File => "file",
            FileType::Dir => "dir",
            FileType::Symlink => "symlink",
            FileType::Char => "char",
            FileType::Block => "block",
            FileType::Fifo => "fifo",
            FileType::Socket => "socket",
            FileType::Unknown => "unknown",
        }
    }
}

/// Seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

/// Facts about one file. POSIX fields are `None` where the filesystem has no
/// such notion (NTFS has ACLs, not a mode and owner ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub node: NodeId,
    pub file_type: FileType,
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: u64,
    pub mtime: Option<Timestamp>,
    pub nlink: u32,
}

/// One name in a directory (never `.` or `..`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Raw name bytes: names on Linux need not be UTF-8.
    pub name: Vec<u8>,
    pub node: NodeId,
    /// The type recorded in the directory entry, where the format has one;
    /// `Unknown` means "ask the inode".
    pub file_type: FileType,
}

/// Identity and usage of a filesystem.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FsInfo {
    /// e.g. `ext4`, `ntfs`.
    pub fs_type: String,
    pub label: Option<String>,
    pub uuid: Option<String>,
    pub block_size: u32,
    pub size_bytes: u64,
    pub used_bytes: u64,
    /// True when the filesystem stores POSIX mode, uid and gid.
    pub posix: bool,
    /// Facts a reader of the results should know (e.g. that a journal was
    /// replayed in memory, or that NTFS has no POSIX modes).
    pub notes: Vec<String>,
    /// What could not be read, or may be stale, and why (a journal that
    /// could not be replayed, a truncated volume): the coverage ledger.
    pub problems: Vec<String>,
}

/// One extended attribute with its full name, e.g. `security.capability`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Xattr {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
    /// Set when the value lives in a separate inode (`ea_inode` feature).
    pub value_inode: Option<u64>,
}
