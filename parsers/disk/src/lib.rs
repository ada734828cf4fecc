//! Read-only access to disk images: positional block sources, partition
//! tables (MBR with logical partitions, GPT with backup header) and
//! filesystem identification by superblock magic.
//!
//! Everything here treats the image as hostile: every count and offset read
//! from it is bounded, chains are checked for cycles, and nothing panics.
#![forbid(unsafe_code)]

mod error;
mod gpt;
mod guid;
mod mbr;
mod probe;
mod source;
mod table;

pub use error::DiskError;
pub use guid::Guid;
pub use probe::{probe_filesystem, FsKind};
pub use source::{CountingSource, FileSource, MemSource, ReadAt, ReadCounter, Slice};
pub use table::{read_partition_table, Partition, PartitionTable, PartitionType, TableKind};
