//! NTFS, read-only.
//!
//! Nodes are MFT record numbers (the root directory is record 5). What is
//! reported:
//! - names in UTF-8, converted from UTF-16 (lossily: see
//!   [`bytes::utf16le_to_utf8_lossy`]); DOS 8.3 duplicates are skipped, and
//!   so are `.` and `..`;
//! - type (directory, file; symlinks, junctions and WSL symlinks as
//!   [`FileType::Symlink`]), size and content of the unnamed `$DATA` stream
//!   (resident, non-resident, sparse, compressed), modification time from
//!   `$STANDARD_INFORMATION`, link count from the file's `$FILE_NAME`s;
//! - never a POSIX mode, uid or gid: NTFS has ACLs, and none are invented.
//!
//! Not read: alternate data streams, EFS-encrypted files, and files whose
//! data a reparse point keeps elsewhere (WOF/CompactOS, deduplication) give
//! [`FsError::Unsupported`] rather than bytes that are not the content.
//!
//! # Use of the `ntfs` crate, and what we do ourselves
//!
//! The `ntfs` crate (0.4) checks the boot sector and gives the geometry, the
//! `$UpCase` table (for case-insensitive lookups) and the volume label and
//! flags. It panics or loops on hostile input in several places (unchecked
//! attribute header reads at the end of a record, index entries shorter than
//! their header, index subnodes pointing back to an ancestor, unbounded
//! buffers sized by on-disk fields), so per-file work — MFT records,
//! attribute lists, data runs, directory indexes, compression, reparse
//! points — is parsed here from the raw bytes with every length checked,
//! and the crate is only ever handed records that this parser validated
//! first (see [`Ntfs::open`]). No `catch_unwind` is needed.

mod attrlist;
mod boot;
mod bytes;
mod compression;
mod cursor;
mod index;
mod mft;
mod record;
mod reparse;
mod runs;
mod stream;
mod time;

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use coldscan_disk::ReadAt;
use nt_string::u16strle::U16StrLe;
use ntfs::UpcaseOrd;

use self::bytes::{u32_at, u64_at};
use self::cursor::VolumeCursor;
use self::mft::Mft;
use self::record::{
    Attr, AttrBody, MftRecord, ATTR_DATA, ATTR_FILE_NAME, ATTR_FLAG_ENCRYPTED,
    ATTR_INDEX_ALLOCATION, ATTR_INDEX_ROOT, ATTR_REPARSE_POINT, ATTR_STANDARD_INFORMATION,
};
use self::stream::Stream;
use crate::error::{FsError, Result};
use crate::filesystem::FileSystem;
use crate::types::{DirEntry, FileType, FsInfo, Metadata, NodeId};

/// MFT record of the root directory.
const ROOT_RECORD: u64 = 5;
const VOLUME_RECORD: u64 = 3;
const BITMAP_RECORD: u64 = 6;
const UPCASE_RECORD: u64 = 10;

/// `$STANDARD_INFORMATION` file attribute bit of EFS-encrypted files.
const FILE_ATTRIBUTE_ENCRYPTED: u32 = 0x4000;

/// We count used clusters from `$Bitmap` at open only when it is at most
/// this large (a 512 GiB volume with 4 KiB clusters).
const MAX_BITMAP_SCAN: u64 = 16 * 1024 * 1024;

/// An open NTFS volume. Immutable after [`Ntfs::open`]: every method takes
/// `&self` and reads through the positional [`ReadAt`], so one `Ntfs` can be
/// shared by many threads without a lock.
pub struct Ntfs {
    mft: Mft,
    /// The `ntfs` crate's view of the volume (boot sector, `$UpCase`).
    lib: ntfs::Ntfs,
    upcase_loaded: bool,
    info: FsInfo,
}

// Collectors share one filesystem across rayon workers.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Ntfs>();
};

impl fmt::Debug for Ntfs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ntfs")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Ntfs {
    /// Opens the NTFS volume `volume` (the partition, not the whole disk).
    pub fn open(volume: Arc<dyn ReadAt>) -> Result<Ntfs> {
        let geo = boot::read_geometry(&*volume)?;
        let lib = ntfs::Ntfs::new(&mut VolumeCursor::new(&*volume))
            .map_err(|e| FsError::corrupt("NTFS boot sector", format!("ntfs crate: {e}")))?;
        if u64::from(lib.cluster_size()) != geo.cluster_size
            || lib.file_record_size() as usize != geo.record_size
        {
            return Err(FsError::corrupt(
                "NTFS boot sector",
                "cluster or record size read differently by the ntfs crate",
            ));
        }

        let mut problems = Vec::new();
        let mut notes = vec![
            "NTFS stores ACLs, not POSIX modes: mode/uid/gid are not reported".to_string(),
            "names are converted from UTF-16 to UTF-8 (unpaired surrogates become U+FFFD); \
             DOS 8.3 short names are not listed"
                .to_string(),
            "only the unnamed $DATA stream is read: alternate data streams are not exposed"
                .to_string(),
        ];
        let have = volume.size();
        if have < geo.size {
            problems.push(format!(
                "the image holds {have} of the {} bytes the boot sector declares: reads past its end fail",
                geo.size
            ));
        }

        // $MFT from record 0, or from its copy in $MFTMirr if record 0 is
        // damaged. The `ntfs` crate always uses the primary record 0, so it
        // is used for nothing else unless that record passed our checks.
        let (mft, primary_ok) = match Mft::load(volume.clone(), geo, geo.mft_lcn) {
            Ok(m) => (m, true),
            Err(primary) => match Mft::load(volume.clone(), geo, geo.mft_mirror_lcn) {
                Ok(m) => {
                    problems.push(format!(
                        "MFT record 0 is unreadable ({primary}); its copy in $MFTMirr was used"
                    ));
                    (m, false)
                }
                Err(_) => return Err(primary),
            },
        };

        let mut fs = Ntfs {
            mft,
            lib,
            upcase_loaded: false,
            info: FsInfo::default(),
        };

        let root = fs.file_record(ROOT_RECORD)?;
        if !root.is_directory() {
            return Err(FsError::corrupt(
                "NTFS MFT record",
                "record 5 (the root directory) is not a directory",
            ));
        }

        if primary_ok && fs.lib_may_read(UPCASE_RECORD) {
            let volume = fs.mft.volume.clone();
            match fs.lib.read_upcase_table(&mut VolumeCursor::new(&*volume)) {
                Ok(()) => fs.upcase_loaded = true,
                Err(e) => problems.push(format!("$UpCase unreadable ({e})")),
            }
        }
        if fs.upcase_loaded {
            notes.push(
                "lookups match names exactly first, then case-insensitively as Windows does ($UpCase)"
                    .to_string(),
            );
        } else {
            notes.push(
                "$UpCase not loaded: lookups match names exactly first, then ignoring ASCII case only"
                    .to_string(),
            );
        }

        let mut label = None;
        if primary_ok && fs.lib_may_read(VOLUME_RECORD) {
            let volume = fs.mft.volume.clone();
            let mut cur = VolumeCursor::new(&*volume);
            match fs.lib.volume_name(&mut cur) {
                Some(Ok(name)) => label = Some(name.name().to_string_lossy()),
                Some(Err(e)) => problems.push(format!("volume name unreadable ({e})")),
                None => {}
            }
            match fs.lib.volume_info(&mut cur) {
                Ok(vi) => {
                    if vi
                        .flags()
                        .contains(ntfs::structured_values::NtfsVolumeFlags::IS_DIRTY)
                    {
                        problems.push(
                            "the volume is marked dirty (not cleanly unmounted, or hibernated): \
                             $LogFile is not replayed, so the newest changes may be missing"
                                .to_string(),
                        );
                    }
                    if vi.major_version() != 3 {
                        notes.push(format!(
                            "NTFS version {}.{} (3.x expected)",
                            vi.major_version(),
                            vi.minor_version()
                        ));
                    }
                }
                Err(e) => problems.push(format!("volume information unreadable ({e})")),
            }
        }

        let used_bytes = match fs.used_bytes() {
            Ok(Some(used)) => used,
            Ok(None) => {
                notes.push(format!(
                    "used_bytes not computed: $Bitmap is larger than {MAX_BITMAP_SCAN} bytes"
                ));
                0
            }
            Err(e) => {
                problems.push(format!("used_bytes not computed: $Bitmap unreadable ({e})"));
                0
            }
        };

        fs.info = FsInfo {
            fs_type: "ntfs".to_string(),
            label,
            // As blkid prints NTFS UUIDs: the 64-bit serial number in hex.
            uuid: Some(format!("{:016X}", fs.mft.geo.serial_number)),
            block_size: fs.mft.geo.cluster_size as u32,
            size_bytes: fs.mft.geo.size,
            used_bytes,
            posix: false,
            notes,
            problems,
        };
        Ok(fs)
    }

    /// Whether the `ntfs` crate may read MFT record `n`: the record must
    /// pass our own checks, have no attribute list (the crate would follow
    /// it into records we did not check), and the crate must locate it
    /// where we do. Only called when the primary record 0, which the crate
    /// parses on every record lookup, passed our checks.
    fn lib_may_read(&self, n: u64) -> bool {
        let ours = match self.mft.read_record(n) {
            Ok(rec) if rec.in_use() && !rec.has_attribute_list() => self.mft.record_position(n),
            _ => return false,
        };
        let volume = self.mft.volume.clone();
        let theirs = self
            .lib
            .file(&mut VolumeCursor::new(&*volume), n)
            .ok()
            .and_then(|f| f.position().value())
            .map(|p| p.get());
        ours.is_some() && ours == theirs
    }

    /// Clusters marked used in `$Bitmap`, in bytes; `None` when the bitmap
    /// is too large to scan at open.
    fn used_bytes(&self) -> Result<Option<u64>> {
        let rec = self.file_record(BITMAP_RECORD)?;
        let Some((bitmap, _)) = self.data_stream(&rec)? else {
            return Err(FsError::corrupt("NTFS $Bitmap", "no $DATA"));
        };
        if bitmap.len() > MAX_BITMAP_SCAN {
            return Ok(None);
        }
        let total = self.mft.geo.total_clusters;
        let mut used = 0u64;
        let mut chunk = vec![0u8; 1 << 20];
        let mut offset = 0u64;
        while offset * 8 < total {
            let n = bitmap.read_at(&*self.mft.volume, offset, &mut chunk)?;
            if n == 0 {
                break;
            }
            for (i, b) in chunk[..n].iter().enumerate() {
                let first_bit = (offset + i as u64) * 8;
                if first_bit >= total {
                    break;
                }
                let valid = (total - first_bit).min(8) as u32;
                let mask = if valid == 8 { 0xFF } else { (1u8 << valid) - 1 };
                used += u64::from((b & mask).count_ones());
            }
            offset += n as u64;
        }
        Ok(Some(used * self.mft.geo.cluster_size))
    }

    /// The base record of an existing file or directory.
    fn file_record(&self, node: NodeId) -> Result<MftRecord> {
        let rec = self.mft.read_record(node)?;
        if !rec.in_use() {
            return Err(FsError::NotFound(format!(
                "MFT record {node} is not in use"
            )));
        }
        if rec.base_record != 0 {
            return Err(FsError::NotFound(format!(
                "MFT record {node} is an extension of record {}, not a file",
                rec.base_record
            )));
        }
        Ok(rec)
    }

    /// The unnamed `$DATA` stream of a file and the union of its pieces'
    /// attribute flags; `None` if the file has no unnamed `$DATA`.
    fn data_stream(&self, rec: &MftRecord) -> Result<Option<(Stream, u16)>> {
        let pieces = self
            .mft
            .attributes(rec, |ty, name| ty == ATTR_DATA && name.is_empty())?;
        if pieces.is_empty() {
            return Ok(None);
        }
        let flags = pieces.iter().fold(0, |f, p| f | p.flags);
        let stream = Stream::from_pieces(rec.number, &pieces, self.mft.geo.cluster_size)?;
        Ok(Some((stream, flags)))
    }

    /// The value of the file's `$REPARSE_POINT`, if it has one.
    fn reparse_value(&self, rec: &MftRecord, attrs: &[Attr]) -> Result<Option<Vec<u8>>> {
        let pieces: Vec<Attr> = attrs
            .iter()
            .filter(|a| a.ty == ATTR_REPARSE_POINT)
            .cloned()
            .collect();
        if pieces.is_empty() {
            return Ok(None);
        }
        let stream = Stream::from_pieces(rec.number, &pieces, self.mft.geo.cluster_size)?;
        if stream.len() > reparse::MAX_REPARSE_BYTES {
            return Err(FsError::corrupt(
                "NTFS reparse point",
                format!("MFT record {}: value of {} bytes", rec.number, stream.len()),
            ));
        }
        let mut value = vec![0u8; stream.len() as usize];
        stream.read_exact_at(&*self.mft.volume, 0, &mut value)?;
        Ok(Some(value))
    }

    /// Attributes that decide a file's type and how its data is read.
    fn file_attrs(&self, rec: &MftRecord) -> Result<Vec<Attr>> {
        self.mft.attributes(rec, |ty, name| {
            ty == ATTR_STANDARD_INFORMATION
                || ty == ATTR_REPARSE_POINT
                || (ty == ATTR_DATA && name.is_empty())
        })
    }

    /// NTFS name equality: case-insensitive through `$UpCase` when it was
    /// loaded, else ignoring ASCII case only.
    fn same_name_ignoring_case(&self, a: &str, b: &str) -> bool {
        if !self.upcase_loaded {
            return a.eq_ignore_ascii_case(b);
        }
        let au: Vec<u8> = a.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let bu: Vec<u8> = b.encode_utf16().flat_map(u16::to_le_bytes).collect();
        U16StrLe(&au).upcase_cmp(&self.lib, &U16StrLe(&bu)) == Ordering::Equal
    }
}

fn standard_information(attrs: &[Attr]) -> Option<&[u8]> {
    attrs.iter().find_map(|a| match &a.body {
        AttrBody::Resident(v) if a.ty == ATTR_STANDARD_INFORMATION => Some(v.as_slice()),
        _ => None,
    })
}

/// Number of hard links: the file's names other than DOS 8.3 names (a
/// Win32 name with a separate DOS alias is one link, though the record's
/// own counter, which counts index entries, may say 2). Falls back to the
/// record's counter when no name attribute is readable.
fn link_count(rec: &MftRecord, attrs: &[Attr]) -> u32 {
    let names = attrs
        .iter()
        .filter(|a| a.ty == ATTR_FILE_NAME)
        .filter(|a| match &a.body {
            AttrBody::Resident(v) => v.get(0x41).is_some_and(|&ns| ns != index::NAMESPACE_DOS),
            AttrBody::NonResident(_) => false,
        })
        .count();
    if names == 0 {
        u32::from(rec.link_count)
    } else {
        names as u32
    }
}

impl FileSystem for Ntfs {
    fn info(&self) -> &FsInfo {
        &self.info
    }

    fn root(&self) -> NodeId {
        ROOT_RECORD
    }

    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        let rec = self.file_record(node)?;
        let attrs = self.mft.attributes(&rec, |ty, name| {
            ty == ATTR_STANDARD_INFORMATION
                || ty == ATTR_REPARSE_POINT
                || ty == ATTR_FILE_NAME
                || (ty == ATTR_DATA && name.is_empty())
        })?;
        let mtime = standard_information(&attrs)
            .filter(|si| si.len() >= 16)
            .map(|si| time::nt_time_to_unix(u64_at(si, 8)));
        let tag = self
            .reparse_value(&rec, &attrs)?
            .and_then(|v| reparse::tag(&v));
        let file_type = match tag {
            Some(t) if reparse::is_link(t) => FileType::Symlink,
            _ if rec.is_directory() => FileType::Dir,
            // Other reparse points (WOF, dedup, cloud placeholders, ...)
            // are files or directories that some filter driver handles.
            _ => FileType::File,
        };
        // Size of the unnamed $DATA: the resident value, or the data size
        // recorded in the piece that starts at VCN 0.
        let size = attrs
            .iter()
            .filter(|a| a.ty == ATTR_DATA)
            .find_map(|a| match &a.body {
                AttrBody::Resident(v) => Some(v.len() as u64),
                AttrBody::NonResident(nr) if nr.lowest_vcn == 0 => Some(nr.data_size),
                AttrBody::NonResident(_) => None,
            })
            .unwrap_or(0);
        Ok(Metadata {
            node,
            file_type,
            mode: None,
            uid: None,
            gid: None,
            size,
            mtime,
            nlink: link_count(&rec, &attrs),
        })
    }

    fn read_dir(&self, node: NodeId) -> Result<Vec<DirEntry>> {
        let rec = self.file_record(node)?;
        if !rec.is_directory() {
            return Err(FsError::NotADirectory(format!("MFT record {node}")));
        }
        let attrs = self.mft.attributes(&rec, |ty, name| {
            (ty == ATTR_INDEX_ROOT || ty == ATTR_INDEX_ALLOCATION)
                && name.iter().copied().eq("$I30".encode_utf16())
        })?;
        let root = attrs
            .iter()
            .find_map(|a| match &a.body {
                AttrBody::Resident(v) if a.ty == ATTR_INDEX_ROOT => Some(v.as_slice()),
                _ => None,
            })
            .ok_or_else(|| {
                FsError::corrupt(
                    "NTFS directory index",
                    format!("MFT record {node}: directory without a resident $I30 $INDEX_ROOT"),
                )
            })?;
        let allocation_pieces: Vec<Attr> = attrs
            .iter()
            .filter(|a| a.ty == ATTR_INDEX_ALLOCATION && a.name_is("$I30"))
            .cloned()
            .collect();
        let allocation = if allocation_pieces.is_empty() {
            None
        } else {
            Some(Stream::from_pieces(
                node,
                &allocation_pieces,
                self.mft.geo.cluster_size,
            )?)
        };
        let entries = index::read_entries(
            &*self.mft.volume,
            node,
            root,
            allocation.as_ref(),
            self.mft.geo.cluster_size,
        )?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            if e.namespace == index::NAMESPACE_DOS {
                continue;
            }
            let name = bytes::utf16le_to_utf8_lossy(&e.name_utf16);
            if name == b"." || name == b".." {
                continue;
            }
            let file_type = if e.file_attributes & index::FILE_ATTRIBUTE_REPARSE_POINT != 0
                && reparse::is_link(e.reparse_tag)
            {
                FileType::Symlink
            } else if e.file_attributes & index::FILE_NAME_IS_DIRECTORY != 0 {
                FileType::Dir
            } else {
                FileType::File
            };
            out.push(DirEntry {
                name,
                node: e.record,
                file_type,
            });
        }
        Ok(out)
    }

    /// Exact name first; failing that, NTFS's case-insensitive match (Win32
    /// names are case-insensitive on Windows).
    fn lookup(&self, dir: NodeId, name: &[u8]) -> Result<Option<DirEntry>> {
        let entries = self.read_dir(dir)?;
        if let Some(i) = entries.iter().position(|e| e.name == name) {
            return Ok(entries.into_iter().nth(i));
        }
        let Ok(name) = std::str::from_utf8(name) else {
            return Ok(None);
        };
        Ok(entries.into_iter().find(|e| {
            std::str::from_utf8(&e.name).is_ok_and(|n| self.same_name_ignoring_case(n, name))
        }))
    }

    fn read_at(&self, node: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let rec = self.file_record(node)?;
        if rec.is_directory() {
            return Err(FsError::IsADirectory(format!("MFT record {node}")));
        }
        let attrs = self.file_attrs(&rec)?;
        if standard_information(&attrs)
            .is_some_and(|si| si.len() >= 0x24 && u32_at(si, 0x20) & FILE_ATTRIBUTE_ENCRYPTED != 0)
        {
            return Err(FsError::Unsupported(format!(
                "EFS-encrypted NTFS file (MFT record {node})"
            )));
        }
        if let Some(tag) = self
            .reparse_value(&rec, &attrs)?
            .and_then(|v| reparse::tag(&v))
        {
            if let Some(why) = reparse::data_elsewhere(tag) {
                return Err(FsError::Unsupported(format!(
                    "{why} NTFS file (MFT record {node}, reparse tag {tag:#010x}): \
                     its unnamed $DATA does not hold its content"
                )));
            }
        }
        let Some((stream, flags)) = self.data_stream(&rec)? else {
            return Ok(0);
        };
        if flags & ATTR_FLAG_ENCRYPTED != 0 {
            return Err(FsError::Unsupported(format!(
                "EFS-encrypted NTFS file (MFT record {node})"
            )));
        }
        stream.read_at(&*self.mft.volume, offset, buf)
    }

    fn read_link(&self, node: NodeId) -> Result<Vec<u8>> {
        let rec = self.file_record(node)?;
        let attrs = self
            .mft
            .attributes(&rec, |ty, _| ty == ATTR_REPARSE_POINT)?;
        let Some(value) = self.reparse_value(&rec, &attrs)? else {
            return Err(FsError::NotASymlink(format!("MFT record {node}")));
        };
        match reparse::tag(&value) {
            Some(tag) if reparse::is_link(tag) => reparse::link_target(&value).map_err(|e| {
                FsError::corrupt("NTFS reparse point", format!("MFT record {node}: {e}"))
            }),
            tag => Err(FsError::NotASymlink(format!(
                "MFT record {node} (reparse tag {:#010x})",
                tag.unwrap_or(0)
            ))),
        }
    }
}
