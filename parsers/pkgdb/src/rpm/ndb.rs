//! NDB `Packages.db` (SUSE; rpm ≥ 4.16 ndb backend), little-endian throughout.
//!
//! ```text
//! header (32 bytes): "RpmP", version 0, generation, slot page count, next pkgidx
//! slots (16 bytes each, from offset 32 to the end of the slot pages, 4096 bytes each):
//!     "Slot", pkgidx, blkoff, blkcnt      (blkoff 0 = free slot; offsets in 16-byte blocks)
//! blob at blkoff*16, blkcnt*16 bytes:
//!     "BlbS", pkgidx, timestamp, length   (head)
//!     length bytes of header blob, zero padding
//!     adler32 of everything before the tail, length, "BlbE"   (tail, last 12 bytes)
//! ```

use super::{add_blob, skip, Budget};
use crate::{malformed, Listing, Result};

const FORMAT: &str = "rpmdb ndb";
const PAGE_SIZE: usize = 4096;
const BLK_SIZE: usize = 16;
const SLOT_SIZE: usize = 16;
const HEAD_SIZE: usize = 16;
const TAIL_SIZE: usize = 12;

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Adler-32 (RFC 1950).
pub(crate) fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

fn blob(
    bytes: &[u8],
    pkgidx: u32,
    blkoff: usize,
    blkcnt: usize,
) -> std::result::Result<&[u8], String> {
    let start = blkoff * BLK_SIZE;
    let len = blkcnt * BLK_SIZE;
    let b = bytes
        .get(start..start + len)
        .ok_or_else(|| format!("blob at block {blkoff} (+{blkcnt}) beyond the file"))?;
    if len < HEAD_SIZE + TAIL_SIZE {
        return Err(format!("blob of {blkcnt} blocks too small"));
    }
    if &b[..4] != b"BlbS" {
        return Err("blob head magic missing".to_string());
    }
    if le32(b, 4) != pkgidx {
        return Err(format!("blob belongs to package {}", le32(b, 4)));
    }
    let bloblen = le32(b, 12) as usize;
    if (HEAD_SIZE + bloblen + TAIL_SIZE).div_ceil(BLK_SIZE) != blkcnt {
        return Err(format!(
            "blob length {bloblen} does not match {blkcnt} blocks"
        ));
    }
    let tail = &b[len - TAIL_SIZE..];
    if &tail[8..12] != b"BlbE" || le32(tail, 4) as usize != bloblen {
        return Err("blob tail damaged".to_string());
    }
    if adler32(&b[..len - TAIL_SIZE]) != le32(tail, 0) {
        return Err("blob checksum (adler32) mismatch".to_string());
    }
    Ok(&b[HEAD_SIZE..HEAD_SIZE + bloblen])
}

/// Read the packages of an NDB `Packages.db`.
pub fn read(bytes: &[u8], file: &str) -> Result<Listing> {
    if bytes.len() < 32 || &bytes[..4] != b"RpmP" {
        return Err(malformed(FORMAT, "not an NDB Packages.db (no RpmP magic)"));
    }
    let version = le32(bytes, 4);
    if version != 0 {
        return Err(malformed(FORMAT, format!("version {version}")));
    }
    let slotnpages = le32(bytes, 12) as usize;
    if slotnpages == 0 || slotnpages > bytes.len() / PAGE_SIZE {
        return Err(malformed(
            FORMAT,
            format!("{slotnpages} slot pages in a file of {} bytes", bytes.len()),
        ));
    }
    let min_blkoff = slotnpages * (PAGE_SIZE / BLK_SIZE);
    let fileblks = bytes.len() / BLK_SIZE;
    let mut budget = Budget::new(bytes.len());
    let mut listing = Listing::default();
    let mut bad_magic = 0usize;
    for off in (32..slotnpages * PAGE_SIZE).step_by(SLOT_SIZE) {
        let slot = &bytes[off..off + SLOT_SIZE];
        if &slot[..4] != b"Slot" {
            bad_magic += 1;
            continue;
        }
        let (pkgidx, blkoff, blkcnt) = (
            le32(slot, 4),
            le32(slot, 8) as usize,
            le32(slot, 12) as usize,
        );
        if blkoff == 0 {
            continue;
        }
        let key = pkgidx.to_string();
        if pkgidx == 0
            || blkcnt == 0
            || blkoff < min_blkoff
            || blkoff.saturating_add(blkcnt) > fileblks
        {
            skip(
                &mut listing,
                file,
                &key,
                format!("slot at offset {off}: bad entry (block {blkoff} +{blkcnt})"),
            );
            continue;
        }
        if !budget.take(blkcnt * BLK_SIZE) {
            return Err(malformed(
                FORMAT,
                "slots address more bytes than the file holds",
            ));
        }
        match blob(bytes, pkgidx, blkoff, blkcnt) {
            Ok(b) => add_blob(&mut listing, b, file, &key),
            Err(e) => skip(&mut listing, file, &key, e),
        }
    }
    if bad_magic > 0 {
        skip(
            &mut listing,
            file,
            "slots",
            format!("{bad_magic} slots without the Slot magic"),
        );
    }
    Ok(listing)
}
