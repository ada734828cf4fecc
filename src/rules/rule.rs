//! A rule as written in a rules-package file: what it is called, how bad a
//! failure is, where it applies and what it checks.

use serde::{Deserialize, Serialize};

use super::check::Check;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique across all loaded packages (e.g. `cis-debian12-5.1.20`,
    /// `sbp-ssh-root-login`).
    pub id: String,
    /// Short title; CIS rules use our own words, never the benchmark's.
    pub name: String,
    pub severity: Severity,
    pub description: String,
    pub recommendation: String,
    /// Platform selectors (see `Platform`); absent: the file's default.
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
    #[serde(default)]
    pub references: References,
    pub check: Check,
    /// Filled by the loader from the file's `[package]` table.
    #[serde(skip)]
    pub package: String,
    /// The file the rule came from (for error messages and the report).
    #[serde(skip)]
    pub origin: String,
}

impl Rule {
    /// The finding id, as Inspector formed it: `<section> <title>` for
    /// benchmark recommendations, else the rule's name.
    pub fn finding_id(&self) -> String {
        match &self.references.cis_section {
            Some(section) => format!("{section} {}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct References {
    /// CIS section number (`5.1.20`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cis_section: Option<String>,
    /// Benchmark name and version (`CIS Debian Linux 12 Benchmark`, `v1.1.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark_version: Option<String>,
    /// Applicable profiles (`Level 1 - Server`, `Level 2 - Server`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Scored (Automated) or not (Manual) in the benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scored: Option<bool>,
    /// SCAP Security Guide rule ids that check the same thing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssg: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

/// Inspector's four severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

impl Severity {
    /// Inspector's numeric severity: High 9, Medium 6, Low 3, Informational 0.
    pub fn numeric(self) -> f64 {
        match self {
            Severity::High => 9.0,
            Severity::Medium => 6.0,
            Severity::Low => 3.0,
            Severity::Informational => 0.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::High => "High",
            Severity::Medium => "Medium",
            Severity::Low => "Low",
            Severity::Informational => "Informational",
        }
    }
}
