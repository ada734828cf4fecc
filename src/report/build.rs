//! Turning rule results into the report's findings, passes and exclusions.

use std::collections::BTreeMap;

use super::*;
use crate::collect::Telemetry;
use crate::rules::outcome::Status;
use crate::rules::pack::RuleSet;
use crate::rules::platform;
use crate::rules::RuleResult;

/// Human names of the rules packages, as Inspector called them.
pub fn package_name(id: &str) -> &'static str {
    match id {
        "cve" => "Common Vulnerabilities and Exposures",
        "cis" => "CIS Operating System Security Configuration Benchmarks",
        "security-best-practices" => "Security Best Practices",
        "runtime-behavior-analysis" => "Runtime Behavior Analysis",
        _ => "unknown",
    }
}

/// Collects everything a report needs, asset by asset.
pub struct Builder {
    pub report: Report,
    pub user_attributes: Vec<Attribute>,
}

impl Builder {
    pub fn new(full: bool, packages: &[String], rules: &RuleSet, generated_at: String) -> Builder {
        let rules_packages = packages
            .iter()
            .map(|id| PackageSummary {
                id: id.clone(),
                name: package_name(id).to_string(),
                sources: rules
                    .sources
                    .get(id)
                    .map(|files| {
                        files
                            .iter()
                            .map(|h| match &h.version {
                                Some(v) => format!("{} {v}", h.name),
                                None => h.name.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                rules_evaluated: 0,
                findings: BTreeMap::new(),
                passed: 0,
                excluded: 0,
            })
            .collect();
        Builder {
            report: Report {
                schema_version: REPORT_SCHEMA_VERSION.to_string(),
                tool: Tool::this(),
                generated_at,
                full,
                rules_packages,
                assets: Vec::new(),
                findings: Vec::new(),
                passed: Vec::new(),
                exclusions: Vec::new(),
                vulnerability_database: None,
                warnings: Vec::new(),
            },
            user_attributes: Vec::new(),
        }
    }

    pub fn asset_of(name: &str, t: &Telemetry, telemetry_file: Option<String>) -> Asset {
        Asset {
            asset: name.to_string(),
            telemetry: telemetry_file,
            sha256: t.image.sha256.clone(),
            os: platform::describe(&t.os),
            hostname: t.os.hostname.clone(),
            collected_at: t.collected_at.clone(),
            unreadable: t.coverage.len(),
            error: None,
        }
    }

    fn summary(&mut self, package: &str) -> Option<&mut PackageSummary> {
        self.report
            .rules_packages
            .iter_mut()
            .find(|p| p.id == package)
    }

    pub fn add_finding(&mut self, finding: Finding) {
        if let Some(s) = self.summary(&finding.rules_package) {
            *s.findings
                .entry(finding.severity.name().to_string())
                .or_default() += 1;
        }
        self.report.findings.push(finding);
    }

    pub fn add_exclusion(&mut self, exclusion: Exclusion) {
        if let Some(s) = self.summary(&exclusion.rules_package) {
            s.excluded += 1;
        }
        self.report.exclusions.push(exclusion);
    }

    pub fn finish(mut self) -> Report {
        let r = &mut self.report;
        // Most severe first, then by package, rule and asset: stable output.
        r.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.rules_package.cmp(&b.rules_package))
                .then_with(|| natural(&a.rule_id).cmp(&natural(&b.rule_id)))
                .then_with(|| a.asset.cmp(&b.asset))
        });
        r.passed.sort_by(|a, b| {
            (&a.rules_package, natural(&a.rule_id), &a.asset).cmp(&(
                &b.rules_package,
                natural(&b.rule_id),
                &b.asset,
            ))
        });
        r.exclusions.sort_by(|a, b| {
            let key = |x: &Exclusion| {
                (
                    x.rules_package.clone(),
                    x.rule_id.as_deref().map(natural),
                    x.asset.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        self.report
    }
}

/// Sort key that orders `1.10` after `1.9`.
fn natural(id: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut number: Option<u64> = None;
    for c in id.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(d as u64),
            );
        } else {
            if let Some(n) = number.take() {
                out.push((std::mem::take(&mut text), n));
            }
            text.push(c);
        }
    }
    out.push((text, number.unwrap_or(0)));
    out
}

/// The finding title, as Inspector worded its own.
fn title(asset: &str, result: &RuleResult) -> String {
    let rule = result.rule;
    match (&rule.references.cis_section, &rule.references.benchmark) {
        (Some(_), Some(bench)) => {
            let version = rule.references.benchmark_version.as_deref().unwrap_or("");
            let profiles = if rule.references.profiles.is_empty() {
                String::new()
            } else {
                format!(
                    ". Applicable profiles: {}",
                    rule.references.profiles.join(", ")
                )
            };
            format!(
                "Image {asset} is not compliant with rule {}, {version} {bench}{profiles}",
                rule.finding_id()
            )
        }
        _ => format!(
            "Image {asset} is not compliant with the rule \"{}\"",
            rule.name
        ),
    }
}

/// Adds one asset's rule results. A package none of whose rules is for the
/// asset's platform becomes one package exclusion (as Inspector's
/// "rules package not supported on this OS").
pub fn add_results(b: &mut Builder, asset: &str, results: &[RuleResult]) {
    let packages: Vec<String> = b
        .report
        .rules_packages
        .iter()
        .map(|p| p.id.clone())
        .collect();
    for package in packages {
        let mut of_package = results
            .iter()
            .filter(|r| r.rule.package == package)
            .peekable();
        if of_package.peek().is_some() && of_package.clone().all(|r| r.other_platform) {
            let reason = results
                .iter()
                .find(|r| r.rule.package == package)
                .and_then(|r| r.outcome.reason.clone())
                .filter(|_| package == "security-best-practices")
                .unwrap_or_else(|| "no rule of this package is for the asset's platform".into());
            b.add_exclusion(Exclusion {
                rules_package: package.clone(),
                rule_id: None,
                rule_name: None,
                asset: asset.to_string(),
                kind: ExclusionKind::Package,
                reason,
                references: Default::default(),
            });
        }
    }
    for r in results {
        let rule = r.rule;
        if r.other_platform && !b.report.full {
            continue;
        }
        if let Some(s) = b.summary(&rule.package) {
            s.rules_evaluated += 1;
        }
        match r.outcome.status {
            Status::Fail => {
                let mut attributes = vec![Attribute {
                    key: "IMAGE".into(),
                    value: asset.to_string(),
                }];
                if let Some(section) = &rule.references.cis_section {
                    attributes.push(Attribute {
                        key: "CIS_BENCHMARK_SECTION".into(),
                        value: section.clone(),
                    });
                }
                if let Some(bench) = &rule.references.benchmark {
                    attributes.push(Attribute {
                        key: "CIS_BENCHMARK".into(),
                        value: format!(
                            "{bench} {}",
                            rule.references.benchmark_version.as_deref().unwrap_or("")
                        )
                        .trim()
                        .to_string(),
                    });
                }
                let finding = Finding {
                    id: rule.finding_id(),
                    title: title(asset, r),
                    description: rule.description.clone(),
                    recommendation: rule.recommendation.clone(),
                    severity: rule.severity,
                    numeric_severity: rule.severity.numeric(),
                    confidence: 10,
                    rules_package: rule.package.clone(),
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    asset: asset.to_string(),
                    attributes,
                    user_attributes: b.user_attributes.clone(),
                    evidence: r.outcome.evidence.clone(),
                    references: rule.references.clone(),
                };
                b.add_finding(finding);
            }
            Status::Pass => {
                if let Some(s) = b.summary(&rule.package) {
                    s.passed += 1;
                }
                if b.report.full {
                    b.report.passed.push(Passed {
                        rules_package: rule.package.clone(),
                        rule_id: rule.id.clone(),
                        rule_name: rule.name.clone(),
                        asset: asset.to_string(),
                        evidence: r.outcome.evidence.clone(),
                        references: rule.references.clone(),
                    });
                }
            }
            Status::NotApplicable | Status::Error => {
                let kind = if r.outcome.status == Status::Error {
                    ExclusionKind::Error
                } else {
                    ExclusionKind::NotApplicable
                };
                b.add_exclusion(Exclusion {
                    rules_package: rule.package.clone(),
                    rule_id: Some(rule.id.clone()),
                    rule_name: Some(rule.name.clone()),
                    asset: asset.to_string(),
                    kind,
                    reason: r.outcome.reason.clone().unwrap_or_default(),
                    references: rule.references.clone(),
                });
            }
        }
    }
}
