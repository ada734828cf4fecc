//! The JSON report of a scan or an evaluation: findings (failed rules),
//! passed rules (full report), exclusions (not applicable, errors) and the
//! assets and rules packages involved. Schema in docs/report.md.

mod build;

pub use build::{add_results, Builder};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::collect::Tool;
use crate::rules::outcome::Evidence;
use crate::rules::rule::{References, Severity};

/// Bumped on any incompatible change of the report's shape.
pub const REPORT_SCHEMA_VERSION: &str = "1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: String,
    pub tool: Tool,
    /// RFC 3339 UTC.
    pub generated_at: String,
    /// Passed rules and rules for other platforms are listed.
    pub full: bool,
    pub rules_packages: Vec<PackageSummary>,
    pub assets: Vec<Asset>,
    pub findings: Vec<Finding>,
    pub passed: Vec<Passed>,
    pub exclusions: Vec<Exclusion>,
    /// The vulnerability database the CVE package used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability_database: Option<serde_json::Value>,
    /// Things the reader must know (stale database, unreadable parts).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageSummary {
    /// `cve`, `cis`, `security-best-practices`, `runtime-behavior-analysis`.
    pub id: String,
    pub name: String,
    /// The rule files (or databases) it was made of: name and version.
    pub sources: Vec<String>,
    pub rules_evaluated: usize,
    /// Severity name → number of findings.
    pub findings: BTreeMap<String, usize>,
    pub passed: usize,
    pub excluded: usize,
}

/// One scanned image (or evaluated telemetry document).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asset {
    /// How findings name it: the image path as given.
    pub asset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    pub collected_at: String,
    /// Number of things the collection could not read (`coverage` in the
    /// telemetry); rules that needed them are errors, not passes.
    pub unreadable: usize,
    /// Set when the image could not be scanned at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attribute {
    pub key: String,
    pub value: String,
}

/// A failed rule on one asset, with Inspector's fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub title: String,
    pub description: String,
    pub recommendation: String,
    pub severity: Severity,
    pub numeric_severity: f64,
    /// Inspector's confidence scale (0–10): 10 when the evidence is a
    /// setting read from the image.
    pub confidence: u8,
    pub rules_package: String,
    pub rule_id: String,
    pub rule_name: String,
    pub asset: String,
    pub attributes: Vec<Attribute>,
    pub user_attributes: Vec<Attribute>,
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub references: References,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Passed {
    pub rules_package: String,
    pub rule_id: String,
    pub rule_name: String,
    pub asset: String,
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub references: References,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionKind {
    /// The rule does not apply (other platform, nothing to check, needs a
    /// running system).
    NotApplicable,
    /// The rule could not be evaluated.
    Error,
    /// A whole rules package could not run on the asset.
    Package,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exclusion {
    pub rules_package: String,
    /// `null` for a whole package.
    pub rule_id: Option<String>,
    pub rule_name: Option<String>,
    pub asset: String,
    pub kind: ExclusionKind,
    pub reason: String,
    #[serde(default)]
    pub references: References,
}
