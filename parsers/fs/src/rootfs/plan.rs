//! Assembling the machine's tree: find the root volume, read its fstab,
//! and attach the other volumes where fstab says (by UUID, PARTUUID, LABEL,
//! PARTLABEL or device name).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::fstab::{parse_fstab, FstabEntry};
use super::{Mount, RootFs};
use crate::error::Result;
use crate::filesystem::FileSystem;
use crate::types::FileType;

/// fstab files larger than this are not read.
const MAX_FSTAB_BYTES: u64 = 1 << 20;

/// A readable volume of the image, with the identities fstab may use.
#[derive(Clone)]
pub struct Volume {
    /// Partition index (Linux numbering; 0 for a whole-disk filesystem).
    pub partition: u32,
    pub partuuid: Option<String>,
    pub partlabel: Option<String>,
    pub fs: Arc<dyn FileSystem>,
}

/// What became of one fstab line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MountStatus {
    /// Attached: the volume on this partition is mounted here.
    Mounted { partition: u32 },
    /// The root entry, matching the volume chosen as root.
    Root { partition: u32 },
    /// Not a block device (proc, tmpfs, swap, network filesystems, bind mounts).
    Skipped { reason: String },
    /// No readable volume of the image matches the spec.
    NotFound { reason: String },
}

/// One fstab line and its outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedMount {
    #[serde(flatten)]
    pub entry: FstabEntry,
    #[serde(flatten)]
    pub status: MountStatus,
}

/// Filesystem types that never refer to a volume of the image.
const VIRTUAL: &[&str] = &[
    "swap",
    "proc",
    "sysfs",
    "tmpfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "efivarfs",
    "hugetlbfs",
    "mqueue",
    "bpf",
    "pstore",
    "configfs",
    "fusectl",
    "binfmt_misc",
    "autofs",
    "rpc_pipefs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "sshfs",
    "fuse",
    "9p",
    "virtiofs",
    "none",
    "ramfs",
    "overlay",
    "squashfs",
    "iso9660",
];

fn ci_eq(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// The partition number a kernel device name refers to, for the usual
/// disk naming schemes (sdXN, vdXN, xvdXN, hdXN, nvmeXnYpN, mmcblkXpN).
/// The disk letter is ignored: an image is one disk.
fn partition_of_device(dev: &str) -> Option<u32> {
    let name = dev.strip_prefix("/dev/")?;
    let num = if name.starts_with("nvme") || name.starts_with("mmcblk") || name.starts_with("loop")
    {
        name.rsplit_once('p')?.1
    } else if ["sd", "vd", "xvd", "hd"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        &name[name.find(|c: char| c.is_ascii_digit())?..]
    } else {
        return None;
    };
    num.parse().ok()
}

/// Finds the volume an fstab spec names; `Err` says why none matched.
fn find_volume<'a>(volumes: &'a [Volume], spec: &str) -> Result<&'a Volume, String> {
    let (key, value) = if let Some((k, v)) = spec.split_once('=') {
        (k.to_ascii_uppercase(), v.trim_matches('"').to_string())
    } else if let Some(rest) = spec.strip_prefix("/dev/disk/by-") {
        match rest.split_once('/') {
            Some((kind, v)) => (kind.replace('-', "").to_ascii_uppercase(), v.to_string()),
            None => return Err(format!("unrecognised device path {spec}")),
        }
    } else if spec.starts_with("/dev/mapper/") || spec.matches('/').count() == 3 {
        return Err(format!(
            "{spec} looks like an LVM or device-mapper volume, which coldscan cannot assemble yet"
        ));
    } else if let Some(n) = partition_of_device(spec) {
        return volumes
            .iter()
            .find(|v| v.partition == n)
            .ok_or_else(|| format!("no readable filesystem on partition {n} ({spec})"));
    } else {
        return Err(format!("unrecognised device spec {spec}"));
    };
    let found = volumes.iter().find(|v| {
        let info = v.fs.info();
        match key.as_str() {
            "UUID" => ci_eq(info.uuid.as_deref(), &value),
            "LABEL" => info.label.as_deref() == Some(value.as_str()),
            "PARTUUID" => ci_eq(v.partuuid.as_deref(), &value),
            "PARTLABEL" => v.partlabel.as_deref() == Some(value.as_str()),
            _ => false,
        }
    });
    found.ok_or_else(|| format!("no readable filesystem of the image has {key}={value}"))
}

/// True if `fs` looks like a system root: `/etc/os-release` (or
/// `/usr/lib/os-release`) for Linux, `/Windows/System32` for Windows.
pub fn looks_like_root(fs: &dyn FileSystem) -> bool {
    let find = |dir: u64, name: &str, ci: bool| -> Option<(u64, FileType)> {
        let entries = fs.read_dir(dir).ok()?;
        entries
            .into_iter()
            .find(|e| {
                if ci {
                    e.name.eq_ignore_ascii_case(name.as_bytes())
                } else {
                    e.name == name.as_bytes()
                }
            })
            .map(|e| (e.node, e.file_type))
    };
    let root = fs.root();
    if let Some((etc, _)) = find(root, "etc", false) {
        if find(etc, "os-release", false).is_some() {
            return true;
        }
    }
    if let Some((usr, _)) = find(root, "usr", false) {
        if let Some((lib, _)) = find(usr, "lib", false) {
            if find(lib, "os-release", false).is_some() {
                return true;
            }
        }
    }
    if let Some((win, _)) = find(root, "Windows", true) {
        if find(win, "System32", true).is_some() {
            return true;
        }
    }
    false
}

/// The assembled tree, the fstab outcome, and problems met on the way.
pub struct Assembly {
    pub rootfs: Option<RootFs>,
    /// Partition of the root volume, if one was found.
    pub root_partition: Option<u32>,
    pub plan: Vec<PlannedMount>,
    pub problems: Vec<String>,
}

/// Picks the root volume and mounts the others as its `/etc/fstab` says.
pub fn assemble(volumes: &[Volume]) -> Assembly {
    let mut problems = Vec::new();
    let candidates: Vec<&Volume> = volumes.iter().filter(|v| looks_like_root(&*v.fs)).collect();
    let root = match candidates.as_slice() {
        [] => {
            // A lone volume is still browsable from its own root.
            if volumes.len() == 1 {
                problems.push(
                    "no volume looks like a system root (/etc/os-release, /Windows/System32); showing the only filesystem at /".to_string(),
                );
                &volumes[0]
            } else {
                problems.push(
                    "no volume looks like a system root (/etc/os-release, /Windows/System32)"
                        .to_string(),
                );
                return Assembly {
                    rootfs: None,
                    root_partition: None,
                    plan: Vec::new(),
                    problems,
                };
            }
        }
        [one] => one,
        [first, rest @ ..] => {
            for other in rest {
                problems.push(format!(
                    "partition {} also looks like a system root; using partition {}",
                    other.partition, first.partition
                ));
            }
            first
        }
    };
    let mut mounts = vec![Mount::new("/", root.fs.clone(), root.partition)];
    let base = match RootFs::new(mounts.clone()) {
        Ok(r) => r,
        Err(e) => {
            problems.push(e.to_string());
            return Assembly {
                rootfs: None,
                root_partition: None,
                plan: Vec::new(),
                problems,
            };
        }
    };
    let mut plan = Vec::new();
    match base.read_file(b"/etc/fstab", MAX_FSTAB_BYTES) {
        Err(crate::FsError::NotFound(_)) => {}
        Err(e) => problems.push(format!("/etc/fstab could not be read: {e}")),
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            for entry in parse_fstab(&text) {
                let status = plan_one(volumes, root, &entry, &mut mounts);
                plan.push(PlannedMount { entry, status });
            }
        }
    }
    // Parents before children, so /var is attached before /var/log.
    mounts[1..].sort_by_key(|m| m.mount_point.matches('/').count());
    Assembly {
        rootfs: RootFs::new(mounts).ok(),
        root_partition: Some(root.partition),
        plan,
        problems,
    }
}

fn plan_one(
    volumes: &[Volume],
    root: &Volume,
    entry: &FstabEntry,
    mounts: &mut Vec<Mount>,
) -> MountStatus {
    let fs_type = entry.fs_type.as_str();
    if VIRTUAL.contains(&fs_type) || fs_type.starts_with("fuse.") {
        return MountStatus::Skipped {
            reason: format!("{fs_type} is not a volume of the image"),
        };
    }
    if !entry.mount_point.starts_with('/') {
        return MountStatus::Skipped {
            reason: format!(
                "mount point {:?} is not an absolute path",
                entry.mount_point
            ),
        };
    }
    if entry
        .options
        .split(',')
        .any(|o| o == "bind" || o == "rbind")
    {
        return MountStatus::Skipped {
            reason: "bind mounts are not reproduced".to_string(),
        };
    }
    let volume = match find_volume(volumes, &entry.spec) {
        Ok(v) => v,
        Err(reason) => return MountStatus::NotFound { reason },
    };
    let mount_point = super::join(&super::split(entry.mount_point.as_bytes()));
    if mount_point == b"/" {
        if volume.partition != root.partition {
            return MountStatus::NotFound {
                reason: format!(
                    "fstab names partition {} as /, but partition {} holds the system root",
                    volume.partition, root.partition
                ),
            };
        }
        return MountStatus::Root {
            partition: volume.partition,
        };
    }
    mounts.push(Mount::new(
        &String::from_utf8_lossy(&mount_point),
        volume.fs.clone(),
        volume.partition,
    ));
    MountStatus::Mounted {
        partition: volume.partition,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_map_to_partitions() {
        assert_eq!(partition_of_device("/dev/sda2"), Some(2));
        assert_eq!(partition_of_device("/dev/xvda1"), Some(1));
        assert_eq!(partition_of_device("/dev/vdb15"), Some(15));
        assert_eq!(partition_of_device("/dev/nvme0n1p3"), Some(3));
        assert_eq!(partition_of_device("/dev/mmcblk0p1"), Some(1));
        assert_eq!(partition_of_device("/dev/sda"), None);
        assert_eq!(partition_of_device("/dev/mapper/vg-root"), None);
    }
}
