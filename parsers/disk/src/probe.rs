//! Identifies what a volume holds from its on-disk signature, never from the
//! partition type code (which is often wrong or generic).

use serde::{Deserialize, Serialize};

use crate::ReadAt;

/// What a volume holds, by magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FsKind {
    Ext2,
    Ext3,
    Ext4,
    Ntfs,
    Xfs,
    Btrfs,
    /// LVM2 physical volume.
    Lvm2,
    /// LUKS encrypted volume.
    Luks,
    /// BitLocker encrypted volume.
    Bitlocker,
    Swap,
    Vfat,
    Exfat,
    Refs,
    Iso9660,
    Squashfs,
    /// The first 64 KiB are zero.
    Empty,
    /// Data with no signature we know.
    Unknown,
}

impl FsKind {
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Ext2 => "ext2",
            FsKind::Ext3 => "ext3",
            FsKind::Ext4 => "ext4",
            FsKind::Ntfs => "ntfs",
            FsKind::Xfs => "xfs",
            FsKind::Btrfs => "btrfs",
            FsKind::Lvm2 => "lvm2 physical volume",
            FsKind::Luks => "luks",
            FsKind::Bitlocker => "bitlocker",
            FsKind::Swap => "swap",
            FsKind::Vfat => "vfat",
            FsKind::Exfat => "exfat",
            FsKind::Refs => "refs",
            FsKind::Iso9660 => "iso9660",
            FsKind::Squashfs => "squashfs",
            FsKind::Empty => "empty",
            FsKind::Unknown => "unknown",
        }
    }

    /// True for the ext family.
    pub fn is_ext(self) -> bool {
        matches!(self, FsKind::Ext2 | FsKind::Ext3 | FsKind::Ext4)
    }
}

fn at(buf: &[u8], offset: usize, len: usize) -> &[u8] {
    buf.get(offset..offset + len).unwrap_or(&[])
}

/// Reads the first 68 KiB of `vol` (or less, if it is smaller) and names what
/// it holds. `None` only when nothing at all could be read.
pub fn probe_filesystem(vol: &dyn ReadAt) -> Option<FsKind> {
    const PROBE: usize = 0x11000;
    let want = PROBE.min(usize::try_from(vol.size()).unwrap_or(PROBE));
    let mut buf = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match vol.read_at(got as u64, &mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    if got == 0 {
        return None;
    }
    buf.truncate(got);
    Some(identify(&buf))
}

/// Names the content of the first bytes of a volume.
pub fn identify(buf: &[u8]) -> FsKind {
    if at(buf, 1080, 2) == [0x53, 0xef] {
        let compat = u32::from_le_bytes(at(buf, 1024 + 0x5c, 4).try_into().unwrap_or([0; 4]));
        let incompat = u32::from_le_bytes(at(buf, 1024 + 0x60, 4).try_into().unwrap_or([0; 4]));
        let ro_compat = u32::from_le_bytes(at(buf, 1024 + 0x64, 4).try_into().unwrap_or([0; 4]));
        // ext4-only features: extents, 64bit, flex_bg, huge_file, dir_nlink, extra_isize,
        // metadata_csum, ...; ext3 adds the journal to ext2.
        const INCOMPAT_EXT4: u32 = 0x40 | 0x80 | 0x200 | 0x400 | 0x2000 | 0x8000 | 0x10000;
        const RO_COMPAT_EXT4: u32 = 0x8 | 0x20 | 0x40 | 0x400;
        if incompat & INCOMPAT_EXT4 != 0 || ro_compat & RO_COMPAT_EXT4 != 0 {
            return FsKind::Ext4;
        }
        if compat & 0x4 != 0 {
            return FsKind::Ext3;
        }
        return FsKind::Ext2;
    }
    if at(buf, 3, 8) == b"NTFS    " {
        return FsKind::Ntfs;
    }
    if at(buf, 0, 4) == b"XFSB" {
        return FsKind::Xfs;
    }
    if at(buf, 0x10040, 8) == b"_BHRfS_M" {
        return FsKind::Btrfs;
    }
    if at(buf, 0, 6) == b"LUKS\xba\xbe" || at(buf, 0, 6) == b"SKUL\xba\xbe" {
        return FsKind::Luks;
    }
    // LVM2 label: "LABELONE" in one of the first four sectors, "LVM2 001" at +24.
    for sector in 0..4 {
        let o = sector * 512;
        if at(buf, o, 8) == b"LABELONE" && at(buf, o + 24, 8) == b"LVM2 001" {
            return FsKind::Lvm2;
        }
    }
    if at(buf, 3, 8) == b"-FVE-FS-" {
        return FsKind::Bitlocker;
    }
    if at(buf, 3, 8) == b"EXFAT   " {
        return FsKind::Exfat;
    }
    if at(buf, 3, 4) == b"ReFS" {
        return FsKind::Refs;
    }
    if at(buf, 0, 4) == b"hsqs" {
        return FsKind::Squashfs;
    }
    for page in [4096usize, 8192, 16384, 65536] {
        let sig = at(buf, page - 10, 10);
        if sig == b"SWAPSPACE2" || sig == b"SWAP-SPACE" {
            return FsKind::Swap;
        }
    }
    if at(buf, 510, 2) == [0x55, 0xaa]
        && (at(buf, 82, 5) == b"FAT32" || at(buf, 54, 5) == b"FAT12" || at(buf, 54, 5) == b"FAT16")
    {
        return FsKind::Vfat;
    }
    if at(buf, 0x8001, 5) == b"CD001" {
        return FsKind::Iso9660;
    }
    if buf.iter().all(|&b| b == 0) {
        return FsKind::Empty;
    }
    FsKind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_signatures() {
        let mut b = vec![0u8; 0x11000];
        assert_eq!(identify(&b), FsKind::Empty);
        b[0..4].copy_from_slice(b"XFSB");
        assert_eq!(identify(&b), FsKind::Xfs);
        b[0..4].copy_from_slice(b"LUKS");
        b[4..6].copy_from_slice(&[0xba, 0xbe]);
        assert_eq!(identify(&b), FsKind::Luks);
        let mut b = vec![0u8; 0x11000];
        b[512..520].copy_from_slice(b"LABELONE");
        b[536..544].copy_from_slice(b"LVM2 001");
        assert_eq!(identify(&b), FsKind::Lvm2);
        let mut b = vec![0u8; 0x11000];
        b[0x10040..0x10048].copy_from_slice(b"_BHRfS_M");
        assert_eq!(identify(&b), FsKind::Btrfs);
        let mut b = vec![0u8; 4096];
        b[4086..4096].copy_from_slice(b"SWAPSPACE2");
        assert_eq!(identify(&b), FsKind::Swap);
        b[0] = 1;
        let mut c = b.clone();
        c[1080] = 0x53;
        c[1081] = 0xef;
        assert_eq!(identify(&c), FsKind::Ext2);
        c[1024 + 0x60] = 0x40; // extents
        assert_eq!(identify(&c), FsKind::Ext4);
    }

    #[test]
    fn short_buffers_do_not_panic() {
        for n in 0..1200 {
            let b = vec![0x53u8; n];
            let _ = identify(&b);
        }
    }
}
