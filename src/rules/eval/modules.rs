//! `kernel_module_disabled`: modprobe.d makes the module unloadable and
//! blacklists it, or no kernel in the image ships it.

use super::Context;
use crate::rules::outcome::{Evidence, Outcome};

/// install commands that make loading fail or do nothing.
fn is_refusal(command: &str) -> bool {
    let program = command.split_whitespace().next().unwrap_or("");
    matches!(
        program,
        "/bin/false" | "/bin/true" | "/usr/bin/false" | "/usr/bin/true" | "false" | "true"
    )
}

pub fn evaluate(ctx: &Context, module: &str) -> Outcome {
    let modprobe = &ctx.t.config.modprobe;
    let install = modprobe.effective_install(module);
    let blacklist = modprobe.is_blacklisted(module);
    let mut evidence = Vec::new();
    let mut refused = false;
    match install {
        Some(i) => {
            refused = is_refusal(&i.value);
            evidence.push(Evidence::at(
                &i.file,
                i.line,
                format!("install {module} {}", i.value),
            ));
        }
        None => evidence.push(Evidence::note(format!(
            "no `install {module}` in modprobe.d"
        ))),
    }
    match blacklist {
        Some(b) => evidence.push(Evidence::at(
            &b.file,
            b.line,
            format!("blacklist {}", b.value),
        )),
        None => evidence.push(Evidence::note(format!(
            "no `blacklist {module}` in modprobe.d"
        ))),
    }
    if refused && blacklist.is_some() {
        return Outcome::pass(evidence);
    }
    let Some(files) = ctx
        .t
        .files
        .kernel_modules
        .iter()
        .find(|m| m.module == module)
    else {
        return Context::not_collected(&format!("kernel module {module}"));
    };
    if files.paths.is_empty() {
        let kernels: Vec<&str> = ctx
            .t
            .os
            .kernels
            .iter()
            .map(|k| k.version.as_str())
            .collect();
        let note = if kernels.is_empty() {
            "the image has no kernel modules".to_string()
        } else {
            format!(
                "no kernel in the image ({}) ships {module}",
                kernels.join(", ")
            )
        };
        return Outcome::pass(vec![Evidence::note(note)]);
    }
    evidence.push(Evidence::in_file(&files.paths[0], "module present"));
    Outcome::fail(evidence)
}
