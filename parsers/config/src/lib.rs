//! System configuration read from a machine's files: each value carries the
//! file and line it came from. Facts only; rules decide.
#![forbid(unsafe_code)]

mod files;
mod sourced;

pub use files::{ConfigFiles, MemFiles};
pub use sourced::Sourced;
