//! The machine's configuration, each value with the file and line it came
//! from: sshd (effective, with the installed OpenSSH's defaults), PAM
//! stacks, login.defs, pwquality, sysctl, kernel command line, services,
//! accounts (never password hashes), sudoers, and fstab.

use coldscan_config::{
    accounts, kernel_cmdline, login_defs, modprobe, pam, pwquality, services, sshd, sudoers, sysctl,
};
use coldscan_fs::rootfs::{PlannedMount, RootFs};
use serde::{Deserialize, Serialize};

use super::image_files::ImageFiles;
use super::ledger::Ledger;

#[derive(Debug, Serialize, Deserialize)]
pub struct ConfigFacts {
    /// Version of the installed OpenSSH server package the defaults are for.
    pub openssh_version: Option<String>,
    /// `null` when the image has neither `/etc/ssh/sshd_config` nor an
    /// OpenSSH server package: there is no sshd to describe.
    pub sshd: Option<sshd::SshdConfig>,
    pub pam: pam::PamConfig,
    pub login_defs: login_defs::LoginDefs,
    pub pwquality: pwquality::PwQuality,
    pub sysctl: sysctl::Sysctl,
    pub kernel_cmdline: kernel_cmdline::KernelCmdline,
    pub systemd: services::Units,
    pub inetd: services::Inetd,
    pub accounts: accounts::Accounts,
    pub sudoers: sudoers::Sudoers,
    /// `/etc/fstab` lines with their options and what each mounted.
    pub fstab: Vec<PlannedMount>,
    /// modprobe.d `install` and `blacklist` lines (and the others, raw).
    #[serde(default)]
    pub modprobe: modprobe::Modprobe,
}

/// Which program applies sysctl settings at boot on this machine: with
/// systemd it is systemd-sysctl (which reaches /etc/sysctl.conf only through
/// the 99-sysctl.conf link), without it `sysctl --system` from procps (which
/// reads /etc/sysctl.conf last).
fn sysctl_applier(root: &RootFs) -> sysctl::Applier {
    let systemd = [
        "/usr/lib/systemd/systemd-sysctl",
        "/lib/systemd/systemd-sysctl",
    ]
    .iter()
    .any(|p| root.metadata(p.as_bytes()).is_ok());
    if systemd {
        sysctl::Applier::Systemd
    } else {
        sysctl::Applier::ProcpsSystem
    }
}

/// Reads every configuration family. Parsers never fail; what they could
/// not read is in their own `problems`, copied into the ledger here.
pub fn collect(
    root: &RootFs,
    openssh_version: Option<&str>,
    fstab: &[PlannedMount],
    ledger: &Ledger,
) -> ConfigFacts {
    let files = ImageFiles { root };
    let links = |p: &str| files.link_target(p);
    let has_sshd = openssh_version.is_some() || root.metadata(b"/etc/ssh/sshd_config").is_ok();
    let facts = ConfigFacts {
        openssh_version: openssh_version.map(str::to_string),
        sshd: has_sshd.then(|| sshd::effective(&files, openssh_version)),
        pam: pam::stacks(&files),
        login_defs: login_defs::parse(&files),
        pwquality: pwquality::parse(&files),
        sysctl: sysctl::effective_with(&files, sysctl_applier(root)),
        kernel_cmdline: kernel_cmdline::parse(&files),
        systemd: services::systemd_units(&files, &links),
        inetd: services::inetd(&files),
        accounts: accounts::parse(&files),
        sudoers: sudoers::parse(&files),
        fstab: fstab.to_vec(),
        modprobe: modprobe::effective(&files),
    };
    if let Some(sshd) = &facts.sshd {
        for p in &sshd.problems {
            ledger.add("sshd configuration", p.clone());
        }
    }
    for (what, problems) in [
        ("PAM configuration", &facts.pam.problems),
        ("login.defs", &facts.login_defs.problems),
        ("pwquality", &facts.pwquality.problems),
        ("sysctl", &facts.sysctl.problems),
        ("kernel command line", &facts.kernel_cmdline.problems),
        ("systemd units", &facts.systemd.problems),
        ("inetd/xinetd", &facts.inetd.problems),
        ("accounts", &facts.accounts.problems),
        ("sudoers", &facts.sudoers.problems),
        ("modprobe.d", &facts.modprobe.problems),
    ] {
        for p in problems {
            ledger.add(what, p.clone());
        }
    }
    facts
}
