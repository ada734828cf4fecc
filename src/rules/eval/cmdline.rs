//! `kernel_cmdline`: an argument of every boot entry the image would boot.

use super::value::{judge, Found};
use super::Context;
use crate::rules::check::{Op, ValueTest};
use crate::rules::outcome::Outcome;
use coldscan_config::Sourced;

/// The last occurrence of `arg` (`arg` or `arg=value`) in a list of
/// arguments: the kernel lets a later one win.
fn find(args: &[Sourced<String>], arg: &str) -> Option<Found> {
    args.iter().rev().find_map(|a| {
        let (name, value) = match a.value.split_once('=') {
            Some((n, v)) => (n, v),
            None => (a.value.as_str(), ""),
        };
        (name == arg).then(|| Found::new(value, a.file.clone(), a.line))
    })
}

pub fn evaluate(ctx: &Context, arg: &str, test: &ValueTest) -> Outcome {
    let k = &ctx.t.config.kernel_cmdline;
    // Each source: GRUB's defaults (what grub-mkconfig will write) and every
    // generated or BLS entry.
    let mut sources: Vec<(String, Vec<Sourced<String>>)> = Vec::new();
    let grub = &k.grub_default;
    if !grub.files.is_empty() {
        let mut args = grub.cmdline_linux.clone();
        args.extend(grub.cmdline_linux_default.iter().cloned());
        sources.push(("GRUB_CMDLINE_LINUX".into(), args));
    }
    for e in &k.entries {
        let name = e.title.clone().unwrap_or_else(|| e.file.clone());
        sources.push((format!("boot entry {name}"), e.args.clone()));
    }
    if sources.is_empty() {
        return Outcome::not_applicable(
            "the image has no boot loader configuration (no /etc/default/grub, grub.cfg or BLS entry)",
        );
    }
    let label = if test.op == Op::Present || test.op == Op::Absent {
        arg.to_string()
    } else {
        format!("{arg}=")
    };
    let parts = sources
        .iter()
        .map(|(name, args)| {
            let found = find(args, arg);
            let mut o = judge(&label, test, found.as_ref());
            if found.is_none() {
                for e in &mut o.evidence {
                    e.value = format!("{} in {name}", e.value);
                }
            }
            o
        })
        .collect();
    Outcome::all(parts)
}
