//! `mount`: a mount point from fstab (or one systemd always mounts) and its
//! options.

use super::Context;
use crate::rules::outcome::{Evidence, Outcome};

/// Mounts systemd sets up without fstab, with their options (from
/// systemd's own mount table and units: /dev/shm is mounted
/// `nosuid,nodev`; tmp.mount mounts /tmp `nosuid,nodev`).
fn implicit(ctx: &Context, mount_point: &str) -> Option<(&'static str, &'static [&'static str])> {
    let units = &ctx.t.config.systemd;
    let has_systemd = !units.unit_files.is_empty();
    match mount_point {
        "/dev/shm" if has_systemd => {
            Some(("systemd's built-in /dev/shm mount", &["nosuid", "nodev"]))
        }
        "/tmp"
            if !units.is_masked("tmp.mount")
                && units
                    .enabled
                    .iter()
                    .chain(units.vendor_wants.iter())
                    .any(|e| e.unit == "tmp.mount") =>
        {
            Some(("tmp.mount (systemd)", &["nosuid", "nodev"]))
        }
        _ => None,
    }
}

pub fn evaluate(ctx: &Context, mount_point: &str, separate: bool, options: &[String]) -> Outcome {
    let fstab = &ctx.t.config.fstab;
    // The last fstab line for a mount point is the one mount(8) leaves on top.
    let line = fstab
        .iter()
        .rev()
        .find(|m| m.entry.mount_point == mount_point && m.entry.fs_type != "swap");
    let (place, have): (Evidence, Vec<String>) = match line {
        Some(m) => (
            Evidence::at(
                "/etc/fstab",
                m.entry.line,
                format!(
                    "{} {} {} {}",
                    m.entry.spec, m.entry.mount_point, m.entry.fs_type, m.entry.options
                ),
            ),
            m.entry
                .options
                .split(',')
                .map(|o| o.trim().to_string())
                .collect(),
        ),
        None => match implicit(ctx, mount_point) {
            Some((what, opts)) => (
                Evidence::note(format!(
                    "{mount_point} mounted by {what} with {}",
                    opts.join(",")
                )),
                opts.iter().map(|o| o.to_string()).collect(),
            ),
            None if separate => {
                return Outcome::fail(vec![Evidence::in_file(
                    "/etc/fstab",
                    format!("no separate mount for {mount_point}"),
                )])
            }
            None => {
                return Outcome::not_applicable(format!(
                    "{mount_point} is not a separate mount (see the separate-partition rule)"
                ))
            }
        },
    };
    let missing: Vec<&String> = options.iter().filter(|o| !have.contains(o)).collect();
    if missing.is_empty() {
        Outcome::pass(vec![place])
    } else {
        let mut place = place;
        place.value = format!(
            "{} (missing {})",
            place.value,
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        Outcome::fail(vec![place])
    }
}
