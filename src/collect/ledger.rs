//! The coverage ledger: everything a collector could not read, and why.
//! Collectors run in parallel, so it is shared behind a mutex.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One thing that was not (fully) read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gap {
    /// A path in the image, or a structure (`partition 2`, `dpkg database`).
    pub what: String,
    pub reason: String,
}

/// Shared list of gaps.
#[derive(Debug, Default)]
pub struct Ledger(Mutex<Vec<Gap>>);

impl Ledger {
    pub fn add(&self, what: impl Into<String>, reason: impl Into<String>) {
        let gap = Gap {
            what: what.into(),
            reason: reason.into(),
        };
        match self.0.lock() {
            Ok(mut v) => v.push(gap),
            Err(poisoned) => poisoned.into_inner().push(gap),
        }
    }

    /// The gaps, sorted for stable output.
    pub fn into_sorted(self) -> Vec<Gap> {
        let mut v = self.0.into_inner().unwrap_or_else(|p| p.into_inner());
        v.sort();
        v.dedup();
        v
    }
}
