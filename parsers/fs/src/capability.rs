//! File capabilities: the Linux VFS `security.capability` attribute
//! (`struct vfs_cap_data`, revisions 2 and 3), decoded into capability names.

use serde::{Deserialize, Serialize};

/// Decoded `security.capability`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCapability {
    /// 2 or 3 (3 adds the namespace root uid); 1 is the legacy 32-bit form.
    pub revision: u8,
    /// The effective bit: permitted capabilities are raised at exec.
    pub effective: bool,
    pub permitted: Vec<String>,
    pub inheritable: Vec<String>,
    /// Revision 3 only: the user namespace root the capabilities apply to.
    pub rootid: Option<u32>,
}

/// Capability names by bit number (include/uapi/linux/capability.h).
const NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

fn names(bits: u64) -> Vec<String> {
    (0..64)
        .filter(|b| bits & (1u64 << b) != 0)
        .map(|b| {
            NAMES
                .get(b)
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("cap_{b}"))
        })
        .collect()
}

fn le32(v: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(v.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes the attribute value; `None` if its size or revision is unknown.
pub fn decode_capability(value: &[u8]) -> Option<FileCapability> {
    let magic = le32(value, 0)?;
    let effective = magic & 1 != 0;
    let (revision, words, rootid) = match (magic & 0xFF00_0000, value.len()) {
        (0x0100_0000, 12) => (1, 1, None),
        (0x0200_0000, 20) => (2, 2, None),
        (0x0300_0000, 24) => (3, 2, le32(value, 20)),
        _ => return None,
    };
    let mut permitted = le32(value, 4)? as u64;
    let mut inheritable = le32(value, 8)? as u64;
    if words == 2 {
        permitted |= (le32(value, 12)? as u64) << 32;
        inheritable |= (le32(value, 16)? as u64) << 32;
    }
    Some(FileCapability {
        revision,
        effective,
        permitted: names(permitted),
        inheritable: names(inheritable),
        rootid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_net_raw_ep() {
        let v = [
            1u8, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let c = decode_capability(&v).unwrap();
        assert_eq!(c.revision, 2);
        assert!(c.effective);
        assert_eq!(c.permitted, vec!["cap_net_raw"]);
        assert!(c.inheritable.is_empty());
    }

    #[test]
    fn bad_sizes_are_none() {
        assert_eq!(decode_capability(&[1, 0, 0, 2]), None);
        assert_eq!(decode_capability(&[0u8; 20]), None);
        let mut v3 = [0u8; 24];
        v3[3] = 3;
        v3[8] = 1;
        v3[20] = 7;
        let c = decode_capability(&v3).unwrap();
        assert_eq!((c.revision, c.rootid, c.inheritable.len()), (3, Some(7), 1));
    }
}
