//! `sshd`: the effective server setting, and any Match block that sets it.

use super::value::{judge, satisfies, Found};
use super::Context;
use crate::rules::check::ValueTest;
use crate::rules::outcome::{Evidence, Outcome, Status};

pub fn evaluate(ctx: &Context, key: &str, test: &ValueTest) -> Outcome {
    let Some(sshd) = &ctx.t.config.sshd else {
        return Outcome::not_applicable("the image has no OpenSSH server");
    };
    let key = key.to_ascii_lowercase();
    let found = sshd
        .settings
        .get(&key)
        .and_then(|values| values.first())
        .map(|v| Found::new(v.value.clone(), v.file.clone(), v.line));
    let mut outcome = judge(&key, test, found.as_ref());
    // A Match block can loosen the setting for some connections: a failing
    // value there fails the rule, shown with the block it is in.
    for block in &sshd.matches {
        for line in block.lines.iter().filter(|l| l.keyword == key) {
            if satisfies(test, &line.value.value) == Ok(false) {
                if outcome.status == Status::Pass {
                    outcome = Outcome::fail(Vec::new());
                }
                if outcome.status == Status::Fail {
                    outcome.evidence.push(Evidence::at(
                        &line.value.file,
                        line.value.line,
                        format!(
                            "{key} {} (in Match {})",
                            line.value.value, block.criteria.value
                        ),
                    ));
                }
            }
        }
    }
    outcome
}
