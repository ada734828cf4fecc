//! How parsers reach other files (`Include`, `@include`, `*.d` folders)
//! without knowing about images: the caller supplies this, resolving paths
//! inside the image.

use std::collections::BTreeMap;

/// Read-only access to the machine's files by absolute path.
pub trait ConfigFiles {
    /// The file's bytes; `None` if it does not exist; `Err` says why it
    /// exists but could not be read.
    fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>>;

    /// Names (not paths) in a directory, sorted bytewise; `None` if the
    /// directory does not exist.
    fn list(&self, dir: &str) -> Option<Result<Vec<String>, String>>;
}

/// Files held in memory: for tests and fuzzing.
#[derive(Debug, Default, Clone)]
pub struct MemFiles(pub BTreeMap<String, Vec<u8>>);

impl MemFiles {
    pub fn with(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.0.insert(path.to_string(), contents.into());
        self
    }
}

impl ConfigFiles for MemFiles {
    fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>> {
        self.0.get(path).map(|b| Ok(b.clone()))
    }

    fn list(&self, dir: &str) -> Option<Result<Vec<String>, String>> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let mut names: Vec<String> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        names.dedup();
        if names.is_empty() {
            None
        } else {
            Some(Ok(names))
        }
    }
}
