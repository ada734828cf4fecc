//! BerkeleyDB hash database `Packages` (rpm < 4.16: RHEL/CentOS 7–8, Amazon Linux 2).
//!
//! Our own bounded reader. Page 0 is the hash metadata page (magic 0x061561 at
//! offset 12, in the database's byte order, which the magic tells; page size at 20;
//! last page number at 32). Every page starts with a 26-byte header (pgno at 8,
//! next_pgno at 16, entries at 20, hf_offset at 22, type at 25; 32 bytes when the
//! database is checksummed). Hash pages (type 13, or 2 for old unsorted ones) hold
//! an index of item offsets after that header; items alternate key, data; item
//! `i` spans `inp[i]..inp[i-1]` (`..page_size` for the first). An item is
//! `H_KEYDATA` (1: type byte, then bytes) or `H_OFFPAGE` (3: type, 3 unused,
//! pgno, total length) whose bytes live in a chain of overflow pages (type 7,
//! `hf_offset` bytes each, linked by next_pgno).
//!
//! Every page is visited at most once; an overflow page may belong to one chain
//! only, so cycles and shared chains stop; the bytes extracted (on-page items and
//! overflow chains together) never exceed the input size.

use super::{add_blob, skip, Budget};
use crate::{malformed, Listing, Result};

const FORMAT: &str = "rpmdb bdb";
const HASH_MAGIC: u32 = 0x0006_1561;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_DUPLICATE: u8 = 2;
const H_OFFPAGE: u8 = 3;
const H_OFFDUP: u8 = 4;
const DBMETA_CHKSUM: u8 = 0x01;

struct Db<'a> {
    bytes: &'a [u8],
    page_size: usize,
    npages: usize,
    big_endian: bool,
    /// Bytes of page header before the item index / overflow data.
    overhead: usize,
}

impl<'a> Db<'a> {
    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<u16> {
        let s: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    }

    fn page(&self, pgno: usize) -> Option<&'a [u8]> {
        if pgno >= self.npages {
            return None;
        }
        let start = pgno.checked_mul(self.page_size)?;
        self.bytes.get(start..start.checked_add(self.page_size)?)
    }

    /// Follow an overflow chain of `tlen` bytes from `pgno`.
    fn overflow(
        &self,
        mut pgno: usize,
        tlen: usize,
        used: &mut [bool],
        budget: &mut Budget,
    ) -> std::result::Result<Vec<u8>, String> {
        if !budget.take(tlen) {
            return Err(format!("overflow item of {tlen} bytes exceeds the file"));
        }
        let mut out = Vec::with_capacity(tlen);
        while out.len() < tlen {
            if pgno == 0 {
                return Err(format!(
                    "overflow chain ends after {} of {tlen} bytes",
                    out.len()
                ));
            }
            let page = self
                .page(pgno)
                .ok_or_else(|| format!("overflow page {pgno} beyond the file"))?;
            if std::mem::replace(&mut used[pgno], true) {
                return Err(format!(
                    "overflow page {pgno} reached twice (cycle or shared chain)"
                ));
            }
            if page[25] != P_OVERFLOW {
                return Err(format!(
                    "page {pgno} of an overflow chain has type {}",
                    page[25]
                ));
            }
            let len = self.u16_at(page, 22).unwrap_or(0) as usize;
            let data = page
                .get(self.overhead..self.overhead + len)
                .ok_or_else(|| format!("overflow page {pgno} claims {len} bytes"))?;
            let want = (tlen - out.len()).min(data.len());
            out.extend_from_slice(&data[..want]);
            pgno = self.u32_at(page, 16).unwrap_or(0) as usize;
        }
        Ok(out)
    }

    /// The bytes of item `i` of a hash page, resolving off-page items.
    fn item(
        &self,
        page: &[u8],
        inp: &[usize],
        i: usize,
        used: &mut [bool],
        budget: &mut Budget,
    ) -> std::result::Result<Vec<u8>, String> {
        let start = inp[i];
        let end = if i == 0 { self.page_size } else { inp[i - 1] };
        let index_end = self.overhead + 2 * inp.len();
        if start < index_end || start >= end || end > self.page_size {
            return Err(format!("item {i} spans {start}..{end}"));
        }
        let item = &page[start..end];
        match item[0] {
            H_KEYDATA => {
                // Items of a corrupt index can overlap: count their bytes too.
                if !budget.take(item.len() - 1) {
                    return Err("items overlap beyond the file size".to_string());
                }
                Ok(item[1..].to_vec())
            }
            H_OFFPAGE => {
                if item.len() < 12 {
                    return Err(format!("off-page item {i} of {} bytes", item.len()));
                }
                let pgno = self.u32_at(item, 4).unwrap_or(0) as usize;
                let tlen = self.u32_at(item, 8).unwrap_or(0) as usize;
                self.overflow(pgno, tlen, used, budget)
            }
            H_DUPLICATE | H_OFFDUP => Err(format!("item {i}: duplicate sets are not used by rpm")),
            t => Err(format!("item {i} has unknown type {t}")),
        }
    }
}

/// Read the packages of a BerkeleyDB `Packages` file.
pub fn read(bytes: &[u8], file: &str) -> Result<Listing> {
    if bytes.len() < 512 {
        return Err(malformed(FORMAT, "shorter than one page"));
    }
    let magic = [bytes[12], bytes[13], bytes[14], bytes[15]];
    let big_endian = if u32::from_le_bytes(magic) == HASH_MAGIC {
        false
    } else if u32::from_be_bytes(magic) == HASH_MAGIC {
        true
    } else {
        return Err(malformed(FORMAT, "not a BerkeleyDB hash database"));
    };
    let mut db = Db {
        bytes,
        page_size: 0,
        npages: 0,
        big_endian,
        overhead: 26,
    };
    let page_size = db.u32_at(bytes, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(malformed(FORMAT, format!("page size {page_size}")));
    }
    if bytes[24] != 0 {
        return Err(malformed(FORMAT, "encrypted database"));
    }
    if bytes[25] != P_HASHMETA {
        return Err(malformed(
            FORMAT,
            format!("page 0 has type {}, not hash metadata", bytes[25]),
        ));
    }
    if bytes[26] & DBMETA_CHKSUM != 0 {
        db.overhead = 32;
    }
    let last_pgno = db.u32_at(bytes, 32).unwrap_or(0) as usize;
    db.page_size = page_size;
    db.npages = (bytes.len() / page_size).min(last_pgno.saturating_add(1));

    let mut used = vec![false; db.npages];
    let mut budget = Budget::new(bytes.len());
    let mut listing = Listing::default();
    for pgno in 1..db.npages {
        let Some(page) = db.page(pgno) else { break };
        if page[25] != P_HASH && page[25] != P_HASH_UNSORTED {
            continue;
        }
        let entries = db.u16_at(page, 20).unwrap_or(0) as usize;
        if db.overhead + 2 * entries > page_size {
            skip(
                &mut listing,
                file,
                &format!("page {pgno}"),
                format!("{entries} entries cannot fit"),
            );
            continue;
        }
        let inp: Vec<usize> = (0..entries)
            .map(|i| db.u16_at(page, db.overhead + 2 * i).unwrap_or(0) as usize)
            .collect();
        for pair in 0..entries / 2 {
            let (k, d) = (2 * pair, 2 * pair + 1);
            let where_ = format!("page {pgno} item {k}");
            let key = match db.item(page, &inp, k, &mut used, &mut budget) {
                Ok(key) => key,
                Err(e) => {
                    skip(&mut listing, file, &where_, e);
                    continue;
                }
            };
            let Some(hnum) = (key.len() == 4).then(|| db.u32_at(&key, 0).unwrap_or(0)) else {
                skip(
                    &mut listing,
                    file,
                    &where_,
                    format!("key of {} bytes", key.len()),
                );
                continue;
            };
            if hnum == 0 {
                // rpm's record 0 holds the next header number, not a header.
                continue;
            }
            match db.item(page, &inp, d, &mut used, &mut budget) {
                Ok(blob) => add_blob(&mut listing, &blob, file, &hnum.to_string()),
                Err(e) => skip(&mut listing, file, &hnum.to_string(), e),
            }
        }
    }
    listing.packages.sort_by_key(|p| {
        p.evidence
            .key
            .as_deref()
            .and_then(|k| k.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    });
    Ok(listing)
}
