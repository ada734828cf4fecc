//! The rpm header blob as stored in rpmdb (sqlite `Packages.blob`, BerkeleyDB
//! `Packages` data, NDB blobs): no lead, no header magic.
//!
//! ```text
//! be32 il          number of index entries
//! be32 dl          size of the data store
//! il × { be32 tag, be32 type, be32 offset, be32 count }
//! dl bytes         data store (offsets are relative to its start)
//! ```

use crate::{malformed, Result};

const FORMAT: &str = "rpm header";

/// Upper bound on index entries (rpm's own limit is 0xffff).
pub const MAX_INDEX_ENTRIES: usize = 65_536;
/// Upper bound on the data store (rpm's own limit is 256 MiB).
pub const MAX_DATA_SIZE: usize = 256 << 20;
/// The file list may expand to at most this many bytes per byte of header blob
/// (dirname × basename joins), with a floor of 64 KiB.
pub const MAX_FILE_BYTES_PER_BLOB_BYTE: usize = 64;

pub const TAG_NAME: u32 = 1000;
pub const TAG_VERSION: u32 = 1001;
pub const TAG_RELEASE: u32 = 1002;
pub const TAG_EPOCH: u32 = 1003;
pub const TAG_ARCH: u32 = 1022;
pub const TAG_OLDFILENAMES: u32 = 1027;
pub const TAG_SOURCERPM: u32 = 1044;
pub const TAG_DIRINDEXES: u32 = 1116;
pub const TAG_BASENAMES: u32 = 1117;
pub const TAG_DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// The facts we take from one header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmHeader {
    pub name: String,
    pub version: String,
    pub release: String,
    /// None when the header has no EPOCH tag.
    pub epoch: Option<u32>,
    pub arch: Option<String>,
    /// Raw SOURCERPM, e.g. `openssl-3.0.7-24.el9.src.rpm`.
    pub sourcerpm: Option<String>,
    /// Absolute file names (BASENAMES/DIRNAMES/DIRINDEXES, or legacy OLDFILENAMES).
    pub files: Vec<String>,
}

impl RpmHeader {
    /// `E:V-R` with `E:` only when an EPOCH tag is present.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }
}

#[derive(Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: usize,
    count: usize,
}

struct Index<'a> {
    entries: Vec<Entry>,
    store: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Index<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self> {
        let il = be32(blob, 0).ok_or_else(|| malformed(FORMAT, "shorter than 8 bytes"))? as usize;
        let dl = be32(blob, 4).ok_or_else(|| malformed(FORMAT, "shorter than 8 bytes"))? as usize;
        if il == 0 || il > MAX_INDEX_ENTRIES {
            return Err(malformed(FORMAT, format!("index count {il} out of range")));
        }
        if dl > MAX_DATA_SIZE {
            return Err(malformed(FORMAT, format!("data size {dl} out of range")));
        }
        let store_start = 8 + il * 16;
        let store_end = store_start + dl;
        if store_end > blob.len() {
            return Err(malformed(
                FORMAT,
                format!(
                    "index ({il} entries) and store ({dl} bytes) exceed the blob ({} bytes)",
                    blob.len()
                ),
            ));
        }
        let store = &blob[store_start..store_end];
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            // In bounds: at + 16 <= store_start <= blob.len().
            let e = Entry {
                tag: be32(blob, at).unwrap_or(0),
                ty: be32(blob, at + 4).unwrap_or(0),
                offset: be32(blob, at + 8).unwrap_or(0) as usize,
                count: be32(blob, at + 12).unwrap_or(0) as usize,
            };
            if e.offset > dl {
                return Err(malformed(
                    FORMAT,
                    format!("tag {} offset {} beyond the store", e.tag, e.offset),
                ));
            }
            entries.push(e);
        }
        Ok(Index { entries, store })
    }

    fn find(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    /// `count` NUL-terminated strings starting at `offset`, all inside the store.
    fn strings(&self, e: Entry, tag: u32) -> Result<Vec<String>> {
        // Every string takes at least one byte: bounds the allocation.
        if e.count > self.store.len() - e.offset {
            return Err(malformed(
                FORMAT,
                format!("tag {tag}: {} strings cannot fit", e.count),
            ));
        }
        let mut out = Vec::with_capacity(e.count);
        let mut at = e.offset;
        for _ in 0..e.count {
            let rest = &self.store[at..];
            let Some(nul) = rest.iter().position(|&b| b == 0) else {
                return Err(malformed(
                    FORMAT,
                    format!("tag {tag}: string not terminated"),
                ));
            };
            out.push(String::from_utf8_lossy(&rest[..nul]).into_owned());
            at += nul + 1;
        }
        Ok(out)
    }

    fn string(&self, tag: u32) -> Result<Option<String>> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        match e.ty {
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY if e.count >= 1 => {
                let first = Entry { count: 1, ..e };
                Ok(self.strings(first, tag)?.pop())
            }
            _ => Err(malformed(
                FORMAT,
                format!("tag {tag}: type {} count {} is not a string", e.ty, e.count),
            )),
        }
    }

    fn string_array(&self, tag: u32) -> Result<Option<Vec<String>>> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        if e.ty != TYPE_STRING_ARRAY {
            return Err(malformed(
                FORMAT,
                format!("tag {tag}: type {} is not a string array", e.ty),
            ));
        }
        self.strings(e, tag).map(Some)
    }

    fn int32_array(&self, tag: u32) -> Result<Option<Vec<u32>>> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        if e.ty != TYPE_INT32 {
            return Err(malformed(
                FORMAT,
                format!("tag {tag}: type {} is not int32", e.ty),
            ));
        }
        let fits = e
            .count
            .checked_mul(4)
            .and_then(|n| n.checked_add(e.offset))
            .is_some_and(|end| end <= self.store.len());
        if !fits {
            return Err(malformed(
                FORMAT,
                format!("tag {tag}: {} int32 values beyond the store", e.count),
            ));
        }
        Ok(Some(
            (0..e.count)
                .map(|i| be32(self.store, e.offset + 4 * i).unwrap_or(0))
                .collect(),
        ))
    }
}

/// Parse a bare header blob.
pub fn parse(blob: &[u8]) -> Result<RpmHeader> {
    let idx = Index::parse(blob)?;
    let required = |tag: u32, what: &str| -> Result<String> {
        idx.string(tag)?
            .ok_or_else(|| malformed(FORMAT, format!("no {what} tag")))
    };
    let name = required(TAG_NAME, "NAME")?;
    let version = required(TAG_VERSION, "VERSION")?;
    let release = required(TAG_RELEASE, "RELEASE")?;
    let epoch = match idx.int32_array(TAG_EPOCH)? {
        None => None,
        Some(v) => Some(
            *v.first()
                .ok_or_else(|| malformed(FORMAT, "EPOCH with no value"))?,
        ),
    };
    let arch = idx.string(TAG_ARCH)?;
    let sourcerpm = idx.string(TAG_SOURCERPM)?;
    let files = files(&idx, blob.len())?;
    Ok(RpmHeader {
        name,
        version,
        release,
        epoch,
        arch,
        sourcerpm,
        files,
    })
}

fn files(idx: &Index, blob_len: usize) -> Result<Vec<String>> {
    let budget = blob_len
        .saturating_mul(MAX_FILE_BYTES_PER_BLOB_BYTE)
        .max(64 << 10);
    let over = || malformed(FORMAT, format!("file list longer than {budget} bytes"));
    let mut used = 0usize;
    if let Some(basenames) = idx.string_array(TAG_BASENAMES)? {
        let dirnames = idx.string_array(TAG_DIRNAMES)?.unwrap_or_default();
        let dirindexes = idx.int32_array(TAG_DIRINDEXES)?.unwrap_or_default();
        if dirindexes.len() != basenames.len() {
            return Err(malformed(
                FORMAT,
                format!(
                    "{} basenames but {} dirindexes",
                    basenames.len(),
                    dirindexes.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(basenames.len());
        for (base, &di) in basenames.iter().zip(&dirindexes) {
            let dir = dirnames.get(di as usize).ok_or_else(|| {
                malformed(
                    FORMAT,
                    format!("dirindex {di} beyond {} dirnames", dirnames.len()),
                )
            })?;
            used = used.saturating_add(dir.len() + base.len());
            if used > budget {
                return Err(over());
            }
            out.push(format!("{dir}{base}"));
        }
        return Ok(out);
    }
    Ok(idx.string_array(TAG_OLDFILENAMES)?.unwrap_or_default())
}

/// Split a SOURCERPM file name into (name, `version-release`):
/// `openssl-3.0.7-24.el9.src.rpm` → (`openssl`, `3.0.7-24.el9`).
pub fn split_sourcerpm(srpm: &str) -> Option<(String, String)> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{version}-{release}")))
}
