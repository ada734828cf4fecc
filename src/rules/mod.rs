//! The rules: packages of rules as data (`rulepacks/*.toml`, docs/rules.md),
//! the check kinds that evaluate them against a telemetry document, and the
//! outcome of each (rule, image). Rules read the telemetry only.

pub mod check;
pub mod eval;
pub mod functions;
pub mod outcome;
pub mod pack;
pub mod platform;
pub mod rule;
pub mod watch;

use crate::collect::Telemetry;
use outcome::Outcome;
use pack::RuleSet;
use rule::Rule;

/// One rule's result on one image.
#[derive(Debug, Clone)]
pub struct RuleResult<'r> {
    pub rule: &'r Rule,
    pub outcome: Outcome,
    /// Not applicable because the rule is for other platforms: such results
    /// are left out of reports unless a full report is asked for.
    pub other_platform: bool,
}

/// Evaluates the rules of `packages` against one telemetry document.
pub fn evaluate<'r>(set: &'r RuleSet, packages: &[String], t: &Telemetry) -> Vec<RuleResult<'r>> {
    let ctx = eval::Context::new(t);
    set.rules
        .iter()
        .filter(|r| packages.contains(&r.package))
        .map(|rule| {
            let platforms = rule.platforms.as_deref().unwrap_or(&[]);
            if !platform::matches(platforms, &t.os) {
                let reason = if rule.package == "security-best-practices" {
                    "Security Best Practices apply to Linux only".to_string()
                } else {
                    format!(
                        "not for this platform: the rule is for {}, the image is {}",
                        platforms.join(", "),
                        platform::describe(&t.os)
                    )
                };
                return RuleResult {
                    rule,
                    outcome: Outcome::not_applicable(reason),
                    other_platform: true,
                };
            }
            RuleResult {
                rule,
                outcome: eval::evaluate(&rule.check, &ctx),
                other_platform: false,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pack::RuleSet;

    #[test]
    fn embedded_packs_load() {
        let set = RuleSet::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert!(!set.rules.is_empty());
    }
}
