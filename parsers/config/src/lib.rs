//! System configuration read from a machine's files: each value carries the
//! file and line it came from. Facts only; rules decide.
#![forbid(unsafe_code)]

mod files;
mod sourced;

pub use files::{ConfigFiles, MemFiles};
pub use sourced::Sourced;
pub mod accounts;
pub mod kernel_cmdline;
pub mod login_defs;
pub mod modprobe;
pub mod pam;
pub mod pwquality;
pub mod services;
pub mod sshd;
pub mod sudoers;
pub mod sysctl;
