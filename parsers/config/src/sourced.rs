use serde::{Deserialize, Serialize};

/// A value with the file and line (1-based) it came from; `line` 0 and
/// `file` "(default)" for compiled-in defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub file: String,
    pub line: usize,
}

impl<T> Sourced<T> {
    pub fn new(value: T, file: impl Into<String>, line: usize) -> Self {
        Sourced {
            value,
            file: file.into(),
            line,
        }
    }

    /// A compiled-in default, not read from any file.
    pub fn default_value(value: T) -> Self {
        Sourced {
            value,
            file: "(default)".to_string(),
            line: 0,
        }
    }
}
