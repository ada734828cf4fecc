//! `scan` (collect + evaluate images) and `evaluate` (saved telemetry):
//! both write the JSON report (docs/report.md).

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{write_json, CliError, EXIT_INPUT, EXIT_OK};
use crate::collect::{collect, CollectOptions, Telemetry, SCHEMA_VERSION};
use crate::image::Image;
use crate::report::{self, Asset, Attribute, Builder, Exclusion, ExclusionKind, Report};
use crate::rules::pack::{RuleSet, PACKAGES};
use crate::rules::rule::Severity;
use crate::rules::{self, watch};

/// Packages run when `--packages` is not given.
pub const DEFAULT_PACKAGES: &[&str] = &["cve", "cis", "security-best-practices"];
/// Inspector allowed up to 10 user attributes per template.
const MAX_ATTRIBUTES: usize = 10;

/// Options shared by `scan` and `evaluate`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Rules packages to run, comma-separated: cve, cis,
    /// security-best-practices, runtime-behavior-analysis.
    #[arg(long, value_delimiter = ',')]
    pub packages: Option<Vec<String>>,
    /// Full report: also list passed rules and rules for other platforms.
    #[arg(long)]
    pub full: bool,
    /// Write the report here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// More rules (TOML, docs/rules.md); a rule with an embedded rule's id
    /// replaces it. May be repeated.
    #[arg(long = "rulepack")]
    pub rulepacks: Vec<PathBuf>,
    /// `KEY=VALUE` stamped on every finding (up to 10, keys unique).
    #[arg(long = "attribute")]
    pub attributes: Vec<String>,
    /// Exit 1 when a finding of this severity or higher is reported
    /// (High, Medium, Low, Informational).
    #[arg(long)]
    pub fail_on: Option<String>,
    /// Exit 3 when something could not be read or evaluated.
    #[arg(long)]
    pub fail_closed: bool,
    /// Vulnerability database for the CVE package [default:
    /// $XDG_DATA_HOME/coldscan/vulndb.sqlite].
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Keep the computed severity of vulnerabilities the distribution
    /// rates as minor (no DSA, postponed, ignored, unimportant) instead of
    /// reporting them as Informational.
    #[arg(long)]
    pub keep_minor_severity: bool,
}

/// Exit code: findings at or above `--fail-on`.
const EXIT_FINDINGS: i32 = 1;
/// Exit code: incomplete scan with `--fail-closed`.
const EXIT_INCOMPLETE: i32 = 3;

struct Plan {
    rules: RuleSet,
    packages: Vec<String>,
    attributes: Vec<Attribute>,
    fail_on: Option<Severity>,
}

fn plan(args: &EvalArgs) -> Result<Plan, CliError> {
    let mut rules = RuleSet::embedded()?;
    for f in &args.rulepacks {
        rules.load_user_file(f)?;
    }
    let packages: Vec<String> = match &args.packages {
        Some(list) => list.iter().map(|p| p.trim().to_string()).collect(),
        None => DEFAULT_PACKAGES.iter().map(|p| p.to_string()).collect(),
    };
    for p in &packages {
        if !PACKAGES.contains(&p.as_str()) {
            return Err(CliError::Input(format!(
                "unknown rules package {p:?} (expected {})",
                PACKAGES.join(", ")
            )));
        }
    }
    let mut attributes: Vec<Attribute> = Vec::new();
    for a in &args.attributes {
        let Some((key, value)) = a.split_once('=') else {
            return Err(CliError::Input(format!(
                "--attribute {a:?}: expected KEY=VALUE"
            )));
        };
        if key.is_empty() || attributes.iter().any(|x| x.key == key) {
            return Err(CliError::Input(format!(
                "--attribute {a:?}: keys must be non-empty and unique"
            )));
        }
        attributes.push(Attribute {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(CliError::Input(format!(
            "at most {MAX_ATTRIBUTES} --attribute options"
        )));
    }
    let fail_on = match args.fail_on.as_deref() {
        None => None,
        Some(s) => Some(match s.to_ascii_lowercase().as_str() {
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            "informational" => Severity::Informational,
            _ => {
                return Err(CliError::Input(format!(
                    "--fail-on {s:?}: expected High, Medium, Low or Informational"
                )))
            }
        }),
    };
    Ok(Plan {
        rules,
        packages,
        attributes,
        fail_on,
    })
}

/// One asset's telemetry, or why there is none.
struct Loaded {
    name: String,
    telemetry_file: Option<String>,
    telemetry: Result<Telemetry, String>,
}

pub fn scan(images: &[PathBuf], hash: bool, args: &EvalArgs) -> Result<i32, CliError> {
    let plan = plan(args)?;
    let selected = plan
        .rules
        .rules
        .iter()
        .filter(|r| plan.packages.contains(&r.package));
    let opts = CollectOptions {
        hash_image: hash,
        watch: watch::of(selected),
    };
    let loaded: Vec<Loaded> = images
        .par_iter()
        .map(|path| Loaded {
            name: path.display().to_string(),
            telemetry_file: None,
            telemetry: Image::open(path)
                .and_then(|image| collect(&image, opts.clone()))
                .map_err(|e| e.to_string()),
        })
        .collect();
    finish(&plan, args, loaded)
}

pub fn evaluate(documents: &[PathBuf], args: &EvalArgs) -> Result<i32, CliError> {
    let plan = plan(args)?;
    let loaded: Vec<Loaded> = documents
        .par_iter()
        .map(|path| {
            let telemetry = read_telemetry(path);
            let name = match &telemetry {
                Ok(t) => t.image.path.clone(),
                Err(_) => path.display().to_string(),
            };
            Loaded {
                name,
                telemetry_file: Some(path.display().to_string()),
                telemetry,
            }
        })
        .collect();
    finish(&plan, args, loaded)
}

fn read_telemetry(path: &Path) -> Result<Telemetry, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    match value.get("schema_version").and_then(|v| v.as_str()) {
        Some(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(format!(
                "{}: telemetry schema {other:?}, this coldscan reads {SCHEMA_VERSION:?}",
                path.display()
            ))
        }
        None => {
            return Err(format!(
                "{}: not a coldscan telemetry document",
                path.display()
            ))
        }
    }
    serde_json::from_value(value).map_err(|e| format!("{}: {e}", path.display()))
}

fn finish(plan: &Plan, args: &EvalArgs, loaded: Vec<Loaded>) -> Result<i32, CliError> {
    let mut builder = Builder::new(
        args.full,
        &plan.packages,
        &plan.rules,
        crate::time::rfc3339(crate::time::now()),
    );
    builder.user_attributes = plan.attributes.clone();
    let cve = plan
        .packages
        .iter()
        .any(|p| p == "cve")
        .then(|| crate::cve::CveDb::open(args.db.as_deref(), args.keep_minor_severity));
    if let Some(cve) = &cve {
        let (info, warning) = cve.describe();
        if let Some(s) = builder
            .report
            .rules_packages
            .iter_mut()
            .find(|p| p.id == "cve")
        {
            if let Some(sources) = info.as_ref().and_then(|i| i["sources"].as_array()) {
                s.sources = sources
                    .iter()
                    .filter_map(|x| x["file"].as_str().map(str::to_string))
                    .collect();
            }
        }
        builder.report.vulnerability_database = info;
        if let Some(w) = warning {
            eprintln!("coldscan: warning: {w}");
            builder.report.warnings.push(w);
        }
    }
    let mut failed_inputs = 0;
    for l in &loaded {
        let t = match &l.telemetry {
            Ok(t) => t,
            Err(e) => {
                failed_inputs += 1;
                eprintln!("coldscan: {e}");
                builder.report.assets.push(Asset {
                    asset: l.name.clone(),
                    telemetry: l.telemetry_file.clone(),
                    sha256: None,
                    os: "unknown".into(),
                    hostname: None,
                    collected_at: String::new(),
                    unreadable: 0,
                    error: Some(e.clone()),
                });
                for p in &plan.packages {
                    builder.add_exclusion(Exclusion {
                        rules_package: p.clone(),
                        rule_id: None,
                        rule_name: None,
                        asset: l.name.clone(),
                        kind: ExclusionKind::Package,
                        reason: format!("the asset could not be read: {e}"),
                        references: Default::default(),
                    });
                }
                continue;
            }
        };
        builder
            .report
            .assets
            .push(Builder::asset_of(&l.name, t, l.telemetry_file.clone()));
        let results = rules::evaluate(&plan.rules, &plan.packages, t);
        report::add_results(&mut builder, &l.name, &results);
        if plan
            .packages
            .iter()
            .any(|p| p == "runtime-behavior-analysis")
        {
            builder.add_exclusion(Exclusion {
                rules_package: "runtime-behavior-analysis".into(),
                rule_id: None,
                rule_name: None,
                asset: l.name.clone(),
                kind: ExclusionKind::Package,
                reason: "needs a runtime trace of the machine; none was given".into(),
                references: Default::default(),
            });
        }
        if let Some(cve) = &cve {
            crate::cve::add_findings(&mut builder, cve, &l.name, t);
        }
        if !t.coverage.is_empty() {
            builder.report.warnings.push(format!(
                "{}: {} items could not be read (see the telemetry's coverage)",
                l.name,
                t.coverage.len()
            ));
        }
    }
    let report = builder.finish();
    write_report(&report, args.output.as_deref())?;
    Ok(exit_code(&report, plan, args, failed_inputs))
}

fn exit_code(report: &Report, plan: &Plan, args: &EvalArgs, failed_inputs: usize) -> i32 {
    if failed_inputs > 0 {
        return EXIT_INPUT;
    }
    if args.fail_closed
        && (report.assets.iter().any(|a| a.unreadable > 0)
            || report
                .exclusions
                .iter()
                .any(|e| e.kind == ExclusionKind::Error))
    {
        return EXIT_INCOMPLETE;
    }
    if let Some(min) = plan.fail_on {
        if report.findings.iter().any(|f| f.severity >= min) {
            return EXIT_FINDINGS;
        }
    }
    EXIT_OK
}

fn write_report(report: &Report, output: Option<&Path>) -> Result<(), CliError> {
    write_json(report, output)
}
