//! Which operating system the image holds: release files, architecture
//! (from an ELF or PE header), installed kernels and hostname.

use coldscan_fs::rootfs::RootFs;
use coldscan_fs::FileType;
use serde::{Deserialize, Serialize};

use super::image_files::read_or_note;
use super::ledger::Ledger;

const SMALL_FILE: u64 = 64 << 10;

/// Facts about the operating system.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OsFacts {
    /// `linux`, `windows`, or `unknown`.
    pub family: String,
    /// os-release `ID` (e.g. `debian`, `ubuntu`, `almalinux`, `alpine`).
    pub id: Option<String>,
    pub id_like: Vec<String>,
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub name: Option<String>,
    pub pretty_name: Option<String>,
    /// The file the release facts came from.
    pub release_file: Option<String>,
    /// e.g. `x86_64`, `aarch64`.
    pub arch: Option<String>,
    /// The binary whose header gave the architecture.
    pub arch_source: Option<String>,
    pub kernels: Vec<Kernel>,
    pub hostname: Option<String>,
    pub hostname_file: Option<String>,
}

/// An installed kernel, from `/boot` and/or `/lib/modules`.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Kernel {
    pub version: String,
    /// `/boot/vmlinuz-VERSION`, when present.
    pub image: Option<String>,
    /// `/lib/modules/VERSION` (or `/usr/lib/modules`), when present.
    pub modules_dir: Option<String>,
}

/// Reads a small text file; `None` if it does not exist, ledger entry if
/// it exists but cannot be read.
fn read_text(root: &RootFs, path: &str, ledger: &Ledger) -> Option<String> {
    read_or_note(root, path, SMALL_FILE, ledger).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `KEY=value` lines of os-release, with shell quoting removed.
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.starts_with('#') {
                return None;
            }
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = if v.len() >= 2
                && ((v.starts_with('"') && v.ends_with('"'))
                    || (v.starts_with('\'') && v.ends_with('\'')))
            {
                v[1..v.len() - 1]
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\")
            } else {
                v.to_string()
            };
            Some((k.trim().to_string(), v))
        })
        .collect()
}

/// `CentOS Linux release 7.9.2009 (Core)` → (`centos`, `7.9.2009`).
fn parse_redhat_release(text: &str) -> Option<(String, String)> {
    let line = text.lines().next()?.trim();
    let (name, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next()?.to_string();
    let id = match name.to_ascii_lowercase() {
        n if n.starts_with("red hat") => "rhel".to_string(),
        n if n.starts_with("centos") => "centos".to_string(),
        n if n.starts_with("amazon linux") => "amzn".to_string(),
        n if n.starts_with("rocky") => "rocky".to_string(),
        n if n.starts_with("almalinux") => "almalinux".to_string(),
        n if n.starts_with("fedora") => "fedora".to_string(),
        n if n.starts_with("oracle") => "ol".to_string(),
        n => n.split_whitespace().next().unwrap_or("unknown").to_string(),
    };
    Some((id, version))
}

/// Architecture from the `e_machine` field of an ELF header.
pub fn elf_machine(head: &[u8]) -> Option<&'static str> {
    if head.len() < 20 || &head[..4] != b"\x7fELF" {
        return None;
    }
    let m = match head[5] {
        1 => u16::from_le_bytes([head[18], head[19]]),
        2 => u16::from_be_bytes([head[18], head[19]]),
        _ => return None,
    };
    let is64 = head[4] == 2;
    Some(match (m, is64) {
        (0x3e, _) => "x86_64",
        (0x03, _) => "i386",
        (0xb7, _) => "aarch64",
        (0x28, _) => "armhf",
        (0xf3, true) => "riscv64",
        (0x15, true) => "ppc64",
        (0x16, _) => "s390x",
        (0x08, _) => "mips",
        _ => "unknown",
    })
}

/// Architecture from a PE header's `Machine` field.
pub fn pe_machine(head: &[u8]) -> Option<&'static str> {
    if head.len() < 0x40 || &head[..2] != b"MZ" {
        return None;
    }
    let pe = u32::from_le_bytes(head[0x3c..0x40].try_into().ok()?) as usize;
    let sig = head.get(pe..pe + 6)?;
    if &sig[..4] != b"PE\0\0" {
        return None;
    }
    Some(match u16::from_le_bytes([sig[4], sig[5]]) {
        0x8664 => "x86_64",
        0x014c => "i386",
        0xaa64 => "aarch64",
        0x01c4 => "armhf",
        _ => "unknown",
    })
}

fn head(root: &RootFs, path: &str) -> Option<Vec<u8>> {
    let r = root.resolve(path.as_bytes(), true).ok()?;
    let mut buf = vec![0u8; 4096];
    let n = root.read_at(r.loc, 0, &mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// Collects the OS facts.
pub fn collect(root: &RootFs, ledger: &Ledger) -> OsFacts {
    let mut os = OsFacts {
        family: "unknown".into(),
        ..OsFacts::default()
    };
    if root.metadata(b"/Windows/System32").is_ok() {
        os.family = "windows".into();
        os.id = Some("windows".into());
        os.release_file = Some("/Windows/System32 (layout; version needs the registry)".into());
        if let Some(h) = head(root, "/Windows/System32/ntoskrnl.exe") {
            os.arch = pe_machine(&h).map(str::to_string);
            os.arch_source = Some("/Windows/System32/ntoskrnl.exe".into());
        }
        return os;
    }
    for file in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some(text) = read_text(root, file, ledger) {
            let kv = parse_os_release(&text);
            let get = |k: &str| {
                kv.iter()
                    .rev()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
            };
            os.family = "linux".into();
            os.id = get("ID");
            os.id_like = get("ID_LIKE")
                .map(|v| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            os.version_id = get("VERSION_ID");
            os.version_codename = get("VERSION_CODENAME");
            os.name = get("NAME");
            os.pretty_name = get("PRETTY_NAME");
            os.release_file = Some(file.into());
            break;
        }
    }
    if os.release_file.is_none() {
        for file in ["/etc/redhat-release", "/etc/system-release"] {
            if let Some((id, version)) =
                read_text(root, file, ledger).and_then(|t| parse_redhat_release(&t))
            {
                os.family = "linux".into();
                os.id = Some(id);
                os.version_id = Some(version);
                os.release_file = Some(file.into());
                break;
            }
        }
    }
    if os.release_file.is_none() {
        if let Some(v) = read_text(root, "/etc/alpine-release", ledger) {
            os.family = "linux".into();
            os.id = Some("alpine".into());
            os.version_id = Some(v.trim().to_string());
            os.release_file = Some("/etc/alpine-release".into());
        } else if let Some(v) = read_text(root, "/etc/debian_version", ledger) {
            os.family = "linux".into();
            os.id = Some("debian".into());
            os.version_id = Some(v.trim().to_string());
            os.release_file = Some("/etc/debian_version".into());
        }
    }
    if os.release_file.is_none() {
        ledger.add(
            "operating system",
            "no /etc/os-release, /usr/lib/os-release, /etc/redhat-release, /etc/system-release, /etc/alpine-release or /etc/debian_version",
        );
    }
    for candidate in [
        "/bin/sh",
        "/usr/bin/sh",
        "/bin/busybox",
        "/usr/bin/env",
        "/sbin/init",
    ] {
        if let Some(m) = head(root, candidate).as_deref().and_then(elf_machine) {
            os.arch = Some(m.to_string());
            os.arch_source = Some(candidate.into());
            break;
        }
    }
    os.kernels = kernels(root);
    for file in ["/etc/hostname", "/etc/HOSTNAME"] {
        if let Some(t) = read_text(root, file, ledger) {
            if let Some(name) = t
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
            {
                os.hostname = Some(name.to_string());
                os.hostname_file = Some(file.into());
                break;
            }
        }
    }
    os
}

/// Kernels from `/boot/vmlinuz-*` and the module trees in `/lib/modules`.
fn kernels(root: &RootFs) -> Vec<Kernel> {
    let mut found: std::collections::BTreeMap<String, Kernel> = Default::default();
    if let Ok(entries) = root.read_dir(b"/boot") {
        for e in entries {
            let name = String::from_utf8_lossy(&e.name).into_owned();
            if let Some(v) = name
                .strip_prefix("vmlinuz-")
                .or_else(|| name.strip_prefix("vmlinux-"))
            {
                found
                    .entry(v.to_string())
                    .or_insert_with(|| Kernel {
                        version: v.to_string(),
                        image: None,
                        modules_dir: None,
                    })
                    .image = Some(format!("/boot/{name}"));
            }
        }
    }
    for dir in ["/lib/modules", "/usr/lib/modules"] {
        let Ok(entries) = root.read_dir(dir.as_bytes()) else {
            continue;
        };
        for e in entries {
            if e.file_type != FileType::Dir && e.file_type != FileType::Unknown {
                continue;
            }
            let v = String::from_utf8_lossy(&e.name).into_owned();
            let k = found.entry(v.clone()).or_insert_with(|| Kernel {
                version: v.clone(),
                image: None,
                modules_dir: None,
            });
            k.modules_dir.get_or_insert(format!("{dir}/{v}"));
        }
    }
    found.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quoting() {
        let kv = parse_os_release(
            "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n# c\nVERSION_ID='12'\n",
        );
        assert_eq!(kv[0], ("ID".into(), "debian".into()));
        assert_eq!(kv[1].1, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(kv[2].1, "12");
    }

    #[test]
    fn redhat_release_lines() {
        assert_eq!(
            parse_redhat_release("CentOS Linux release 7.9.2009 (Core)\n"),
            Some(("centos".into(), "7.9.2009".into()))
        );
        assert_eq!(
            parse_redhat_release("Amazon Linux release 2 (Karoo)"),
            Some(("amzn".into(), "2".into()))
        );
    }

    #[test]
    fn elf_machines() {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[18] = 0x3e;
        assert_eq!(elf_machine(&h), Some("x86_64"));
        h[18] = 0xb7;
        assert_eq!(elf_machine(&h), Some("aarch64"));
        assert_eq!(elf_machine(&h[..10]), None);
    }
}
