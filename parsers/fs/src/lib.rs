//! Read-only filesystems behind one inode-addressed trait ([`FileSystem`]),
//! and [`RootFs`], the machine's view from `/` assembled from the image's own
//! fstab with every path resolved inside the image.
//!
//! Parsers here return facts (modes, owners, contents); they never judge.
#![forbid(unsafe_code)]

mod capability;
mod error;
pub mod ext4;
mod filesystem;
mod le;
pub mod ntfs;
mod open;
pub mod rootfs;
mod types;

pub use capability::{decode_capability, FileCapability};
pub use error::FsError;
pub use filesystem::{read_all, FileSystem};
pub use open::open_filesystem;
pub use rootfs::{Mount, RootFs};
pub use types::{DirEntry, FileType, FsInfo, Metadata, NodeId, Timestamp, Xattr};
