//! `package` (installed or not, from any package database) and `service`
//! (systemd enablement, inetd/xinetd services).

use super::Context;
use crate::rules::check::{PackageState, ServiceState};
use crate::rules::outcome::{Evidence, Outcome};

pub fn package(ctx: &Context, names: &[String], state: PackageState) -> Outcome {
    let packages = &ctx.t.packages;
    if packages.databases.is_empty() {
        return Outcome::error("no package database was found in the image");
    }
    let installed: Vec<Evidence> = packages
        .items
        .iter()
        .filter(|p| names.contains(&p.package.name))
        .map(|p| {
            let ev = &p.package.evidence;
            let text = format!("{} {} installed", p.package.name, p.package.version);
            match (ev.file.as_str(), ev.line) {
                (file, Some(line)) => Evidence::at(file, line, text),
                (file, None) => Evidence::in_file(file, text),
            }
        })
        .collect();
    match state {
        PackageState::Installed if installed.is_empty() => Outcome::fail(vec![Evidence::note(
            format!("{} not installed", names.join(", ")),
        )]),
        PackageState::Installed => Outcome::pass(installed),
        PackageState::Absent if installed.is_empty() => Outcome::pass(vec![Evidence::note(
            format!("{} not installed", names.join(", ")),
        )]),
        PackageState::Absent => Outcome::fail(installed),
    }
}

/// How a unit is started at boot, if it is: its enablement link.
fn enablement(ctx: &Context, unit: &str) -> Vec<Evidence> {
    let units = &ctx.t.config.systemd;
    if units.is_masked(unit) {
        return Vec::new();
    }
    let mut found: Vec<Evidence> = units
        .enabled
        .iter()
        .chain(units.vendor_wants.iter())
        .filter(|e| e.unit == unit)
        .map(|e| Evidence::in_file(&e.path, format!("{unit} enabled ({} {})", e.by, e.kind)))
        .collect();
    // inetd/xinetd services by the unit's base name (telnet.socket → telnet).
    let base = unit.split('.').next().unwrap_or(unit);
    for s in &ctx.t.config.inetd.services {
        if s.enabled && s.name == base {
            found.push(Evidence::at(
                &s.file,
                s.line,
                format!("{} enabled in {}", s.name, s.daemon),
            ));
        }
    }
    found
}

pub fn service(ctx: &Context, units: &[String], state: ServiceState) -> Outcome {
    let systemd = &ctx.t.config.systemd;
    match state {
        ServiceState::Enabled | ServiceState::Disabled => {
            let enabled: Vec<Evidence> = units.iter().flat_map(|u| enablement(ctx, u)).collect();
            let none = || {
                let mut notes = Vec::new();
                for u in units {
                    let how = if systemd.is_masked(u) {
                        "masked"
                    } else if systemd.is_present(u) {
                        "installed, not enabled"
                    } else {
                        "not installed"
                    };
                    notes.push(Evidence::note(format!("{u} {how}")));
                }
                notes
            };
            match (state, enabled.is_empty()) {
                (ServiceState::Enabled, false) => Outcome::pass(enabled),
                (ServiceState::Enabled, true) => Outcome::fail(none()),
                (_, true) => Outcome::pass(none()),
                (_, false) => Outcome::fail(enabled),
            }
        }
        ServiceState::Masked => {
            let mut bad = Vec::new();
            let mut good = Vec::new();
            for u in units {
                if systemd.is_masked(u) {
                    let m = systemd.masked.iter().find(|m| &m.unit == u);
                    good.push(match m {
                        Some(m) => Evidence::in_file(&m.path, format!("{u} masked ({})", m.how)),
                        None => Evidence::note(format!("{u} masked")),
                    });
                } else if systemd.is_present(u) {
                    let file = systemd.unit_files.get(u).and_then(|f| f.first());
                    bad.push(match file {
                        Some(f) => Evidence::in_file(&f.path, format!("{u} installed, not masked")),
                        None => Evidence::note(format!("{u} installed, not masked")),
                    });
                } else {
                    good.push(Evidence::note(format!("{u} not installed")));
                }
            }
            Outcome::judge(bad.is_empty(), if bad.is_empty() { good } else { bad })
        }
    }
}
