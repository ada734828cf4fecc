//! `kernel_cmdline`: an argument of every boot entry the image would boot.

use super::value::{judge, Found};
use super::Context;
use crate::rules::check::{Op, ValueTest};
use crate::rules::outcome::Outcome;
use coldscan_config::kernel_cmdline::KernelCmdline;
use coldscan_config::Sourced;

/// `name=value` → (`name`, `value`); a bare flag has the value `""`.
pub fn split_arg(arg: &str) -> (&str, &str) {
    arg.split_once('=').unwrap_or((arg, ""))
}

/// Each argument list the machine may boot with: GRUB's defaults (what
/// grub-mkconfig will write) and every generated or BLS entry, by name.
pub fn boot_sources(k: &KernelCmdline) -> Vec<(String, Vec<&Sourced<String>>)> {
    let mut sources = Vec::new();
    let grub = &k.grub_default;
    if !grub.files.is_empty() {
        let args = grub
            .cmdline_linux
            .iter()
            .chain(grub.cmdline_linux_default.iter())
            .collect();
        sources.push(("GRUB_CMDLINE_LINUX".to_string(), args));
    }
    for e in &k.entries {
        let name = e.title.as_deref().unwrap_or(&e.file);
        sources.push((format!("boot entry {name}"), e.args.iter().collect()));
    }
    sources
}

/// The last occurrence of `arg` (`arg` or `arg=value`) in a list of
/// arguments: the kernel lets a later one win.
fn find(args: &[&Sourced<String>], arg: &str) -> Option<Found> {
    args.iter().rev().find_map(|a| {
        let (name, value) = split_arg(&a.value);
        (name == arg).then(|| Found::new(value, a.file.clone(), a.line))
    })
}

pub fn evaluate(ctx: &Context, arg: &str, test: &ValueTest) -> Outcome {
    let sources = boot_sources(&ctx.t.config.kernel_cmdline);
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
