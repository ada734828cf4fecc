//! ASLR and DEP as the image would boot: persisted sysctl settings and the
//! kernel command line (the running kernel's state is not in an image).

use super::Params;
use crate::rules::eval::cmdline::{boot_sources, split_arg};
use crate::rules::eval::Context;
use crate::rules::outcome::{Evidence, Outcome};

/// Kernel arguments named `name` (bare or `name=value`) in any boot source.
fn cmdline_args(ctx: &Context, name: &str) -> Vec<(String, Evidence)> {
    boot_sources(&ctx.t.config.kernel_cmdline)
        .into_iter()
        .flat_map(|(_, args)| args)
        .filter_map(|a| {
            let (n, v) = split_arg(&a.value);
            (n == name).then(|| {
                (
                    v.to_string(),
                    Evidence::at(&a.file, a.line, a.value.clone()),
                )
            })
        })
        .collect()
}

pub fn aslr(_: &Params, ctx: &Context) -> Outcome {
    let mut bad = Vec::new();
    let mut good = Vec::new();
    match ctx.t.config.sysctl.get("kernel.randomize_va_space") {
        Some(e) if e.value.value.trim() == "2" => good.push(Evidence::at(
            &e.value.file,
            e.value.line,
            format!("kernel.randomize_va_space = {}", e.value.value),
        )),
        Some(e) => bad.push(Evidence::at(
            &e.value.file,
            e.value.line,
            format!("kernel.randomize_va_space = {}", e.value.value),
        )),
        None => good.push(Evidence::note(
            "kernel.randomize_va_space not set in the persisted sysctl configuration: the kernel default 2 applies",
        )),
    }
    bad.extend(cmdline_args(ctx, "norandmaps").into_iter().map(|(_, e)| e));
    if bad.is_empty() {
        Outcome::pass(good)
    } else {
        Outcome::fail(bad)
    }
}

pub fn dep(_: &Params, ctx: &Context) -> Outcome {
    let arch = ctx.t.os.arch.as_deref().unwrap_or("");
    if arch.starts_with("arm") || arch == "aarch64" {
        return Outcome::not_applicable(format!("DEP is not configurable this way on {arch}"));
    }
    let mut bad: Vec<Evidence> = ["noexec", "noexec32"]
        .iter()
        .flat_map(|n| cmdline_args(ctx, n))
        .filter(|(v, _)| v == "off")
        .map(|(_, e)| e)
        .collect();
    let mut good = Vec::new();
    // 32-bit x86 kernels only use NX with PAE page tables.
    if matches!(arch, "i386" | "i486" | "i586" | "i686" | "x86") {
        let configs = ctx
            .watched("/boot/config-*")
            .map(|w| w.matches.as_slice())
            .unwrap_or_default();
        for c in configs {
            let Some(text) = &c.text else { continue };
            match text.lines().enumerate().find(|(_, l)| {
                l.starts_with("CONFIG_X86_PAE=") || l.contains("CONFIG_X86_PAE is not set")
            }) {
                Some((i, l)) if l == "CONFIG_X86_PAE=y" => {
                    good.push(Evidence::at(&c.entry.path, i + 1, l))
                }
                Some((i, l)) => bad.push(Evidence::at(&c.entry.path, i + 1, l)),
                None => bad.push(Evidence::in_file(&c.entry.path, "no CONFIG_X86_PAE")),
            }
        }
    } else if !arch.is_empty() {
        good.push(Evidence::note(format!(
            "{arch} kernels use NX whenever the CPU has it"
        )));
    }
    if bad.is_empty() {
        good.push(Evidence::note(
            "no noexec=off or noexec32=off on the kernel command line",
        ));
        Outcome::pass(good)
    } else {
        Outcome::fail(bad)
    }
}
