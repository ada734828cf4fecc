//! coldscan: offline security assessment of disk images and snapshots.
//!
//! This crate holds the engine above the parser crates; the binary in
//! `main.rs` is a thin command-line layer over it.

pub mod cli;
pub mod collect;
pub mod cve;
pub mod escape;
pub mod image;
pub mod listing;
pub mod report;
pub mod rules;
pub mod time;
