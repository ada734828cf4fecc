//! Reading an attribute value: resident bytes, or clusters found through
//! data runs (with sparse runs, uninitialized tails and NTFS compression).

use coldscan_disk::ReadAt;

use super::compression;
use super::record::{Attr, AttrBody, ATTR_FLAG_COMPRESSED};
use super::runs::{self, Run, MAX_RUNS};
use crate::error::{FsError, Result};

/// Largest compression unit we decode (NTFS uses 16 clusters of at most
/// 4 KiB: 64 KiB).
const MAX_UNIT_BYTES: u64 = 4 * 1024 * 1024;

/// The value of one attribute (all its pieces put together).
#[derive(Debug)]
pub(super) enum Stream {
    Resident(Vec<u8>),
    NonResident(NonResidentStream),
}

#[derive(Debug)]
pub(super) struct NonResidentStream {
    /// MFT record the attribute belongs to, for error messages.
    record: u64,
    /// Sorted, contiguous, starting at VCN 0.
    runs: Vec<Run>,
    data_size: u64,
    initialized_size: u64,
    /// Clusters per compression unit, for a compressed value.
    unit_clusters: Option<u64>,
    cluster_size: u64,
}

fn corrupt(record: u64, detail: impl std::fmt::Display) -> FsError {
    FsError::corrupt(
        "NTFS attribute value",
        format!("MFT record {record}: {detail}"),
    )
}

impl Stream {
    /// Puts together the pieces of one attribute (one piece, or several
    /// non-resident pieces from an attribute list, in any order).
    pub(super) fn from_pieces(record: u64, pieces: &[Attr], cluster_size: u64) -> Result<Stream> {
        let Some(first) = pieces.first() else {
            return Err(corrupt(record, "attribute has no pieces"));
        };
        if let AttrBody::Resident(v) = &first.body {
            if pieces.len() != 1 {
                return Err(corrupt(record, "a resident value is split into pieces"));
            }
            return Ok(Stream::Resident(v.clone()));
        }
        let mut parts = Vec::with_capacity(pieces.len());
        for p in pieces {
            match &p.body {
                AttrBody::NonResident(nr) => parts.push((p, nr)),
                AttrBody::Resident(_) => {
                    return Err(corrupt(
                        record,
                        "resident and non-resident pieces are mixed",
                    ))
                }
            }
        }
        parts.sort_by_key(|(_, nr)| nr.lowest_vcn);
        let (head_attr, head) = parts[0];
        if head.lowest_vcn != 0 {
            return Err(corrupt(record, "no attribute piece starts at VCN 0"));
        }
        let mut all: Vec<Run> = Vec::new();
        let mut next_vcn = 0u64;
        for (_, nr) in &parts {
            if nr.lowest_vcn != next_vcn {
                return Err(corrupt(
                    record,
                    format!(
                        "attribute pieces leave a gap or overlap at VCN {next_vcn} (next piece starts at {})",
                        nr.lowest_vcn
                    ),
                ));
            }
            if all.len() + nr.runs.len() > MAX_RUNS {
                return Err(corrupt(record, format!("more than {MAX_RUNS} data runs")));
            }
            all.extend_from_slice(&nr.runs);
            next_vcn = nr.runs.last().map_or(nr.lowest_vcn, |r| r.vcn + r.len);
        }
        let unit_clusters = if head_attr.flags & ATTR_FLAG_COMPRESSED != 0 {
            let exp = u32::from(head.compression_unit);
            if exp == 0 || exp > 16 {
                return Err(corrupt(
                    record,
                    format!("compressed attribute with compression unit exponent {exp}"),
                ));
            }
            let unit = 1u64 << exp;
            if unit * cluster_size > MAX_UNIT_BYTES {
                return Err(FsError::Unsupported(format!(
                    "compressed NTFS file (MFT record {record}) with {}-byte compression units",
                    unit * cluster_size
                )));
            }
            Some(unit)
        } else {
            None
        };
        Ok(Stream::NonResident(NonResidentStream {
            record,
            runs: all,
            data_size: head.data_size,
            initialized_size: head.initialized_size.min(head.data_size),
            unit_clusters,
            cluster_size,
        }))
    }

    pub(super) fn len(&self) -> u64 {
        match self {
            Stream::Resident(v) => v.len() as u64,
            Stream::NonResident(s) => s.data_size,
        }
    }

    /// Volume byte position of byte `offset` of a non-resident,
    /// uncompressed value, if that byte is stored.
    pub(super) fn position_of(&self, offset: u64) -> Option<u64> {
        let Stream::NonResident(s) = self else {
            return None;
        };
        if s.unit_clusters.is_some() {
            return None;
        }
        let vcn = offset / s.cluster_size;
        let run = s.runs[runs::find(&s.runs, vcn)?];
        (run.lcn? + (vcn - run.vcn))
            .checked_mul(s.cluster_size)?
            .checked_add(offset % s.cluster_size)
    }

    /// Reads at `offset` of the value; returns the bytes read (0 at end).
    pub(super) fn read_at(
        &self,
        volume: &dyn ReadAt,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize> {
        match self {
            Stream::Resident(v) => {
                let Ok(start) = usize::try_from(offset) else {
                    return Ok(0);
                };
                let Some(rest) = v.get(start..) else {
                    return Ok(0);
                };
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                Ok(n)
            }
            Stream::NonResident(s) => s.read_at(volume, offset, buf),
        }
    }

    /// Fills `buf` from `offset`, failing if the value ends first.
    pub(super) fn read_exact_at(
        &self,
        volume: &dyn ReadAt,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let n = self.read_at(volume, offset + done as u64, &mut buf[done..])?;
            if n == 0 {
                return Err(FsError::corrupt(
                    "NTFS attribute value",
                    format!(
                        "value of {} bytes ends before byte {}",
                        self.len(),
                        offset + buf.len() as u64
                    ),
                ));
            }
            done += n;
        }
        Ok(())
    }
}

impl NonResidentStream {
    fn read_at(&self, volume: &dyn ReadAt, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if offset >= self.data_size {
            return Ok(0);
        }
        let n =
            usize::try_from(self.data_size - offset).map_or(buf.len(), |left| left.min(buf.len()));
        let buf = &mut buf[..n];
        // Bytes past the initialized size read as zeros whatever is stored.
        let init = usize::try_from(self.initialized_size.saturating_sub(offset))
            .map_or(n, |left| left.min(n));
        let (stored, zeros) = buf.split_at_mut(init);
        zeros.fill(0);
        if !stored.is_empty() {
            match self.unit_clusters {
                None => self.read_plain(volume, offset, stored)?,
                Some(unit) => self.read_compressed(volume, unit, offset, stored)?,
            }
        }
        Ok(n)
    }

    /// Reads through the runs, without decompression.
    fn read_plain(&self, volume: &dyn ReadAt, mut pos: u64, mut buf: &mut [u8]) -> Result<()> {
        let cs = self.cluster_size;
        while !buf.is_empty() {
            let vcn = pos / cs;
            let run = runs::find(&self.runs, vcn)
                .map(|i| self.runs[i])
                .ok_or_else(|| {
                    corrupt(
                        self.record,
                        format!(
                            "data runs do not cover byte {pos} of a {}-byte value",
                            self.data_size
                        ),
                    )
                })?;
            let run_start = u128::from(run.vcn) * u128::from(cs);
            let run_end = u128::from(run.vcn + run.len) * u128::from(cs);
            let in_run = u128::from(pos) - run_start;
            let take =
                usize::try_from(run_end - u128::from(pos)).map_or(buf.len(), |r| r.min(buf.len()));
            let (now, rest) = buf.split_at_mut(take);
            match run.lcn {
                None => now.fill(0),
                Some(lcn) => {
                    let disk = u128::from(lcn) * u128::from(cs) + in_run;
                    let disk = u64::try_from(disk)
                        .map_err(|_| corrupt(self.record, "cluster position overflows"))?;
                    volume
                        .read_exact_at(disk, now)
                        .map_err(|source| FsError::Io {
                            offset: disk,
                            len: now.len(),
                            source,
                        })?;
                }
            }
            pos += take as u64;
            buf = rest;
        }
        Ok(())
    }

    /// The stored (`Some(lcn)`) and sparse (`None`) cluster stretches of
    /// `[vcn, vcn + count)`; clusters no run covers count as sparse.
    fn segments(&self, vcn: u64, count: u64) -> Vec<(Option<u64>, u64)> {
        let mut out = Vec::new();
        let mut v = vcn;
        let end = vcn + count;
        while v < end {
            match runs::find(&self.runs, v) {
                Some(i) => {
                    let r = self.runs[i];
                    let take = (r.vcn + r.len).min(end) - v;
                    out.push((r.lcn.map(|l| l + (v - r.vcn)), take));
                    v += take;
                }
                None => {
                    out.push((None, end - v));
                    v = end;
                }
            }
        }
        out
    }

    fn read_compressed(
        &self,
        volume: &dyn ReadAt,
        unit: u64,
        mut pos: u64,
        mut buf: &mut [u8],
    ) -> Result<()> {
        let cs = self.cluster_size;
        let unit_bytes = unit * cs;
        while !buf.is_empty() {
            let index = pos / unit_bytes;
            let unit_start = index * unit_bytes;
            let in_unit = (pos - unit_start) as usize;
            let take = (unit_bytes as usize - in_unit).min(buf.len());
            let (now, rest) = buf.split_at_mut(take);
            let segments = self.segments(index * unit, unit);
            let stored: u64 = segments.iter().filter(|s| s.0.is_some()).map(|s| s.1).sum();
            if stored == 0 {
                now.fill(0);
            } else if stored == unit {
                // A unit stored in full is not compressed.
                self.read_plain(volume, pos, now)?;
            } else {
                let mut packed = vec![0u8; (stored * cs) as usize];
                let mut at = 0usize;
                for (lcn, count) in segments {
                    let Some(lcn) = lcn else { continue };
                    let len = (count * cs) as usize;
                    let disk = lcn * cs;
                    volume
                        .read_exact_at(disk, &mut packed[at..at + len])
                        .map_err(|source| FsError::Io {
                            offset: disk,
                            len,
                            source,
                        })?;
                    at += len;
                }
                let mut plain = vec![0u8; unit_bytes as usize];
                compression::decompress_unit(&packed, &mut plain).map_err(|e| {
                    FsError::corrupt(
                        "NTFS compressed data",
                        format!("MFT record {}, compression unit {index}: {e}", self.record),
                    )
                })?;
                now.copy_from_slice(&plain[in_unit..in_unit + take]);
            }
            pos += take as u64;
            buf = rest;
        }
        Ok(())
    }
}
