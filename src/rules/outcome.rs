//! The result of evaluating one check against one telemetry document.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What made a rule pass or fail: a file, a line and the value found there
/// (e.g. `/etc/ssh/sshd_config.d/50-cloud-init.conf:3 PasswordAuthentication yes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub value: String,
}

impl Evidence {
    pub fn at(file: &str, line: usize, value: impl Into<String>) -> Evidence {
        // Line 0 and "(default)" mark compiled-in defaults: no place in a file.
        let (file, line) = if file == "(default)" {
            (None, None)
        } else {
            (Some(file.to_string()), (line > 0).then_some(line))
        };
        Evidence {
            file,
            line,
            value: value.into(),
        }
    }

    pub fn in_file(file: &str, value: impl Into<String>) -> Evidence {
        Evidence {
            file: Some(file.to_string()),
            line: None,
            value: value.into(),
        }
    }

    pub fn note(value: impl Into<String>) -> Evidence {
        Evidence {
            file: None,
            line: None,
            value: value.into(),
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line} {}", self.value),
            (Some(file), None) => write!(f, "{file}: {}", self.value),
            _ => write!(f, "{}", self.value),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    NotApplicable,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub evidence: Vec<Evidence>,
    /// Why a rule is not applicable or could not be evaluated.
    pub reason: Option<String>,
}

impl Outcome {
    pub fn pass(evidence: Vec<Evidence>) -> Outcome {
        Outcome {
            status: Status::Pass,
            evidence,
            reason: None,
        }
    }

    pub fn fail(evidence: Vec<Evidence>) -> Outcome {
        Outcome {
            status: Status::Fail,
            evidence,
            reason: None,
        }
    }

    pub fn judge(ok: bool, evidence: Vec<Evidence>) -> Outcome {
        if ok {
            Outcome::pass(evidence)
        } else {
            Outcome::fail(evidence)
        }
    }

    pub fn not_applicable(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::NotApplicable,
            evidence: Vec::new(),
            reason: Some(reason.into()),
        }
    }

    pub fn error(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Error,
            evidence: Vec::new(),
            reason: Some(reason.into()),
        }
    }

    /// Combines sub-outcomes: every one must pass.
    pub fn all(parts: Vec<Outcome>) -> Outcome {
        combine(parts, true)
    }

    /// Combines sub-outcomes: one passing is enough.
    pub fn any(parts: Vec<Outcome>) -> Outcome {
        combine(parts, false)
    }

    /// Pass ↔ fail; not applicable and errors stay.
    pub fn negate(self) -> Outcome {
        let status = match self.status {
            Status::Pass => Status::Fail,
            Status::Fail => Status::Pass,
            other => other,
        };
        Outcome { status, ..self }
    }
}

fn combine(parts: Vec<Outcome>, all: bool) -> Outcome {
    let (decisive, other) = if all {
        (Status::Fail, Status::Pass)
    } else {
        (Status::Pass, Status::Fail)
    };
    let gather = |status: Status| -> Vec<Evidence> {
        parts
            .iter()
            .filter(|p| p.status == status)
            .flat_map(|p| p.evidence.iter().cloned())
            .collect()
    };
    if parts.iter().any(|p| p.status == decisive) {
        return Outcome {
            status: decisive,
            evidence: gather(decisive),
            reason: None,
        };
    }
    if let Some(e) = parts.iter().find(|p| p.status == Status::Error) {
        return e.clone();
    }
    if parts.iter().any(|p| p.status == other) {
        return Outcome {
            status: other,
            evidence: gather(other),
            reason: None,
        };
    }
    parts
        .into_iter()
        .next()
        .unwrap_or_else(|| Outcome::error("nothing to combine"))
}
