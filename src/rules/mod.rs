//! The rules: packages of rules as data (`rulepacks/*.toml`), the check
//! kinds that evaluate them against a telemetry document, and the outcome
//! of each (rule, image).

pub mod check;
pub mod pack;
pub mod rule;

#[cfg(test)]
mod tests {
    use super::pack::RuleSet;

    #[test]
    fn embedded_packs_load() {
        let set = RuleSet::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert!(!set.rules.is_empty());
    }
}
