//! The telemetry document: one per image, versioned, facts only.
//! Its schema is described in docs/telemetry.md.

use serde::{Deserialize, Serialize};

use super::binaries::Binary;
use super::config::ConfigFacts;
use super::files::FilesFacts;
use super::image_facts::ImageFacts;
use super::ledger::Gap;
use super::os::OsFacts;
use super::packages::PackagesFacts;

/// Bumped on any incompatible change of the document's shape.
pub const SCHEMA_VERSION: &str = "1";

#[derive(Debug, Serialize, Deserialize)]
pub struct Telemetry {
    pub schema_version: String,
    pub tool: Tool,
    /// When the collection ran (RFC 3339, UTC).
    pub collected_at: String,
    pub image: ImageFacts,
    pub os: OsFacts,
    pub packages: PackagesFacts,
    pub config: ConfigFacts,
    pub files: FilesFacts,
    pub binaries: Vec<Binary>,
    /// Everything the collectors could not read, and why.
    pub coverage: Vec<Gap>,
    pub stats: Stats,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: "coldscan".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// What the collection cost.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stats {
    pub wall_ms: u64,
    /// Bytes read from the image file by the collectors.
    pub bytes_read: u64,
    pub entries_walked: u64,
}
