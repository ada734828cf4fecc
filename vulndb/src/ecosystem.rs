//! Which advisory ecosystems apply to an installed system, and which version
//! ordering they use.
//!
//! The installed side is what the telemetry says (`Debian:12`, `Ubuntu:22.04`,
//! `AlmaLinux:9`, `Alpine:v3.19`, ...). Rules:
//!
//! | distribution | advisory ecosystem that matches |
//! |---|---|
//! | Debian | same major release (`Debian:12` for `Debian:12` and `Debian:12.5`); `Debian:sid` only for `Debian:sid` |
//! | Ubuntu | same release, with or without `:LTS` (`Ubuntu:22.04` ↔ `Ubuntu:22.04:LTS`). `Ubuntu:Pro:…` records only when the installed side says `Pro` (their fixes are ESM builds a machine without Pro cannot install); `FIPS` variants only for the same FIPS variant |
//! | RPM family | same major release: `AlmaLinux:9` advisories for `AlmaLinux:9` and `AlmaLinux:9.3` (these distributions ship one continuous stream per major release); an advisory written for a minor release (`Red Hat:rhel_eus:9.2::baseos`) only for that minor release. Red Hat's `Red Hat:enterprise_linux:9::appstream` style is read by its first numeric part |
//! | Alpine | same branch: `Alpine:v3.19` for `Alpine:v3.19` and `Alpine:v3.19.1` |
//! | anything else | the same string |

use coldscan_pkgdb::version::Ecosystem;

const RPM_DISTROS: &[&str] = &[
    "AlmaLinux",
    "Rocky Linux",
    "Red Hat",
    "Amazon Linux",
    "Fedora",
    "openSUSE",
    "SUSE",
    "Oracle Linux",
    "CentOS",
    "openEuler",
    "Mageia",
    "Azure Linux",
    "Mariner",
];

/// The distribution part, before the first `:`.
pub fn distro(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or("").trim()
}

/// The version ordering of an ecosystem, or `None` for ecosystems this
/// matcher does not handle (language ecosystems such as `PyPI`).
pub fn scheme(ecosystem: &str) -> Option<Ecosystem> {
    match distro(ecosystem) {
        "Debian" | "Ubuntu" => Some(Ecosystem::Dpkg),
        "Alpine" => Some(Ecosystem::Apk),
        d if RPM_DISTROS.contains(&d) => Some(Ecosystem::Rpm),
        _ => None,
    }
}

/// Whether advisories name source packages (and compare source versions).
pub fn uses_source_packages(ecosystem: &str) -> bool {
    matches!(distro(ecosystem), "Debian" | "Ubuntu" | "Alpine")
}

/// `[major, minor]` of the first `:`-separated part that starts with a digit
/// (after an optional `v`).
fn release(ecosystem: &str) -> Option<(u64, Option<u64>)> {
    let part = ecosystem
        .split(':')
        .skip(1)
        .map(|p| p.trim().trim_start_matches('v'))
        .find(|p| p.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut nums = part.split('.');
    let major = nums.next()?.parse().ok()?;
    let minor = nums.next().and_then(|m| m.parse().ok());
    Some((major, minor))
}

fn ubuntu_flags(ecosystem: &str) -> (bool, Option<&str>) {
    let parts: Vec<&str> = ecosystem.split(':').map(str::trim).collect();
    let pro = parts.contains(&"Pro");
    let fips = parts.iter().copied().find(|p| p.starts_with("FIPS"));
    (pro, fips)
}

/// Does an advisory entry for `advisory` apply to a system that is `installed`?
pub fn matches(installed: &str, advisory: &str) -> bool {
    if installed == advisory {
        return true;
    }
    let d = distro(installed);
    if d != distro(advisory) {
        return false;
    }
    match d {
        "Debian" => match (release(installed), release(advisory)) {
            (Some((a, _)), Some((b, _))) => a == b,
            _ => false,
        },
        "Ubuntu" => {
            let (ipro, ifips) = ubuntu_flags(installed);
            let (apro, afips) = ubuntu_flags(advisory);
            let same = match (release(installed), release(advisory)) {
                (Some(a), Some(b)) => a.0 == b.0 && a.1 == b.1,
                _ => false,
            };
            same && (!apro || ipro) && (afips.is_none() || afips == ifips)
        }
        "Alpine" => match (release(installed), release(advisory)) {
            (Some((a, am)), Some((b, bm))) => a == b && am == bm,
            _ => false,
        },
        d if RPM_DISTROS.contains(&d) => match (release(installed), release(advisory)) {
            (Some((a, am)), Some((b, bm))) => a == b && (bm.is_none() || am == bm),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let yes = [
            ("Debian:12", "Debian:12"),
            ("Debian:12.5", "Debian:12"),
            ("Ubuntu:22.04", "Ubuntu:22.04:LTS"),
            ("Ubuntu:22.04:LTS", "Ubuntu:22.04"),
            ("Ubuntu:Pro:22.04:LTS", "Ubuntu:22.04:LTS"),
            ("Ubuntu:Pro:22.04:LTS", "Ubuntu:Pro:22.04:LTS"),
            ("Ubuntu:24.10", "Ubuntu:24.10"),
            ("AlmaLinux:9", "AlmaLinux:9"),
            ("AlmaLinux:9.3", "AlmaLinux:9"),
            ("Rocky Linux:9.4", "Rocky Linux:9"),
            ("Red Hat:9", "Red Hat:enterprise_linux:9::appstream"),
            ("Red Hat:9.2", "Red Hat:rhel_eus:9.2::baseos"),
            ("Amazon Linux:2023", "Amazon Linux:2023"),
            ("Alpine:v3.19", "Alpine:v3.19"),
            ("Alpine:v3.19.1", "Alpine:v3.19"),
            ("Debian:sid", "Debian:sid"),
        ];
        let no = [
            ("Debian:12", "Debian:11"),
            ("Debian:12", "Ubuntu:12"),
            ("Debian:12", "Debian:sid"),
            ("Ubuntu:22.04", "Ubuntu:Pro:22.04:LTS"),
            ("Ubuntu:22.04", "Ubuntu:20.04:LTS"),
            ("Ubuntu:Pro:22.04:LTS", "Ubuntu:Pro:FIPS-updates:22.04:LTS"),
            ("AlmaLinux:9", "AlmaLinux:8"),
            ("AlmaLinux:9", "Rocky Linux:9"),
            ("Red Hat:9.3", "Red Hat:rhel_eus:9.2::baseos"),
            ("Red Hat:9", "Red Hat:rhel_eus:9.2::baseos"),
            ("Amazon Linux:2", "Amazon Linux:2023"),
            ("Alpine:v3.19", "Alpine:v3.1"),
            ("Alpine:v3.19", "Alpine:v3.18"),
            ("PyPI", "PyPI:x"),
        ];
        for (i, a) in yes {
            assert!(matches(i, a), "{i} should match {a}");
        }
        for (i, a) in no {
            assert!(!matches(i, a), "{i} should not match {a}");
        }
        assert_eq!(scheme("AlmaLinux:9"), Some(Ecosystem::Rpm));
        assert_eq!(scheme("Ubuntu:Pro:22.04:LTS"), Some(Ecosystem::Dpkg));
        assert_eq!(scheme("Alpine:v3.19"), Some(Ecosystem::Apk));
        assert_eq!(scheme("PyPI"), None);
    }
}
