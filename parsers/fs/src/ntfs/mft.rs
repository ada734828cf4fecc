//! The Master File Table: reading records by number and collecting a file's
//! attributes across its base record and extension records.

use std::collections::HashMap;
use std::sync::Arc;

use coldscan_disk::ReadAt;

use super::attrlist::{self, MAX_LIST_BYTES};
use super::boot::Geometry;
use super::record::{self, Attr, AttrBody, MftRecord, RecordError, ATTR_ATTRIBUTE_LIST, ATTR_DATA};
use super::stream::Stream;
use crate::error::{FsError, Result};

/// Most distinct extension records one file may spread over.
const MAX_EXTENSION_RECORDS: usize = 4096;

pub(super) struct Mft {
    pub(super) volume: Arc<dyn ReadAt>,
    pub(super) geo: Geometry,
    /// The unnamed $DATA stream of $MFT (record 0).
    data: Stream,
}

impl Mft {
    /// Loads $MFT from the record 0 found at cluster `lcn` (the MFT itself,
    /// or its mirror).
    pub(super) fn load(volume: Arc<dyn ReadAt>, geo: Geometry, lcn: u64) -> Result<Mft> {
        let rs = geo.record_size;
        let at = lcn * geo.cluster_size; // lcn < total clusters: no overflow
        let mut buf = vec![0u8; rs];
        volume
            .read_exact_at(at, &mut buf)
            .map_err(|source| FsError::Io {
                offset: at,
                len: rs,
                source,
            })?;
        let rec0 = record::parse(&mut buf, 0, &geo).map_err(|e| record_error(0, e))?;
        if !rec0.in_use() || rec0.base_record != 0 {
            return Err(FsError::corrupt(
                "NTFS MFT record",
                "record 0 ($MFT) is not an in-use base record",
            ));
        }
        let pieces: Vec<Attr> = rec0
            .attrs
            .iter()
            .filter(|a| a.ty == ATTR_DATA && a.name.is_empty())
            .cloned()
            .collect();
        if pieces.is_empty() {
            return Err(FsError::corrupt(
                "NTFS MFT record",
                "record 0 ($MFT) has no $DATA",
            ));
        }
        // Bootstrap with the pieces in record 0; a very fragmented MFT lists
        // further pieces in extension records, which the first piece maps.
        let mut mft = Mft {
            volume,
            geo,
            data: Stream::from_pieces(0, &pieces, geo.cluster_size)?,
        };
        if rec0.has_attribute_list() {
            let all = mft.attributes(&rec0, |ty, name| ty == ATTR_DATA && name.is_empty())?;
            mft.data = Stream::from_pieces(0, &all, geo.cluster_size)?;
        }
        if !matches!(mft.data, Stream::NonResident(_)) || mft.data.len() < 16 * rs as u64 {
            return Err(FsError::corrupt(
                "NTFS MFT record",
                format!(
                    "$MFT data of {} bytes holds fewer than 16 records",
                    mft.data.len()
                ),
            ));
        }
        Ok(mft)
    }

    pub(super) fn record_count(&self) -> u64 {
        self.data.len() / self.geo.record_size as u64
    }

    /// Volume byte position of the start of record `n`, if it is stored.
    pub(super) fn record_position(&self, n: u64) -> Option<u64> {
        self.data
            .position_of(n.checked_mul(self.geo.record_size as u64)?)
    }

    /// Reads and parses MFT record `n`, whatever its state.
    pub(super) fn read_record(&self, n: u64) -> Result<MftRecord> {
        if n >= self.record_count() {
            return Err(FsError::NotFound(format!(
                "MFT record {n} (the MFT has {} records)",
                self.record_count()
            )));
        }
        let mut buf = vec![0u8; self.geo.record_size];
        self.data
            .read_exact_at(&*self.volume, n * self.geo.record_size as u64, &mut buf)?;
        record::parse(&mut buf, n, &self.geo).map_err(|e| record_error(n, e))
    }

    /// The attributes of the file whose base record is `base` for which
    /// `want(type, name)` holds, from the base record and, through its
    /// $ATTRIBUTE_LIST, from its extension records. A large attribute can
    /// come back as several pieces; [`Stream::from_pieces`] joins them.
    pub(super) fn attributes(
        &self,
        base: &MftRecord,
        want: impl Fn(u32, &[u16]) -> bool,
    ) -> Result<Vec<Attr>> {
        let mut out: Vec<Attr> = base
            .attrs
            .iter()
            .filter(|a| a.ty != ATTR_ATTRIBUTE_LIST && want(a.ty, &a.name))
            .cloned()
            .collect();
        let Some(list) = base.attrs.iter().find(|a| a.ty == ATTR_ATTRIBUTE_LIST) else {
            return Ok(out);
        };
        let value = match &list.body {
            AttrBody::Resident(v) => v.clone(),
            AttrBody::NonResident(_) => {
                let s = Stream::from_pieces(
                    base.number,
                    std::slice::from_ref(list),
                    self.geo.cluster_size,
                )?;
                if s.len() > MAX_LIST_BYTES {
                    return Err(FsError::TooLarge {
                        what: format!("NTFS attribute list of MFT record {}", base.number),
                        limit: MAX_LIST_BYTES,
                    });
                }
                let mut v = vec![0u8; s.len() as usize];
                s.read_exact_at(&*self.volume, 0, &mut v)?;
                v
            }
        };
        let entries = attrlist::parse(&value).map_err(|e| {
            FsError::corrupt(
                "NTFS attribute list",
                format!("MFT record {}: {e}", base.number),
            )
        })?;
        let mut records: HashMap<u64, MftRecord> = HashMap::new();
        for e in entries {
            if e.record == base.number || e.ty == ATTR_ATTRIBUTE_LIST || !want(e.ty, &e.name) {
                continue;
            }
            if !records.contains_key(&e.record) {
                if records.len() >= MAX_EXTENSION_RECORDS {
                    return Err(FsError::TooLarge {
                        what: format!("extension records of MFT record {}", base.number),
                        limit: MAX_EXTENSION_RECORDS as u64,
                    });
                }
                let ext = self.read_record(e.record)?;
                if !ext.in_use() || ext.base_record != base.number {
                    return Err(FsError::corrupt(
                        "NTFS attribute list",
                        format!(
                            "MFT record {} lists record {}, which is not one of its extension records",
                            base.number, e.record
                        ),
                    ));
                }
                records.insert(e.record, ext);
            }
            let ext = &records[&e.record];
            let attr = ext
                .attrs
                .iter()
                .find(|a| a.ty == e.ty && a.instance == e.instance && a.name == e.name)
                .ok_or_else(|| {
                    FsError::corrupt(
                        "NTFS attribute list",
                        format!(
                            "MFT record {} lists attribute {:#x} #{} in record {}, which lacks it",
                            base.number, e.ty, e.instance, e.record
                        ),
                    )
                })?;
            out.push(attr.clone());
        }
        Ok(out)
    }
}

fn record_error(n: u64, e: RecordError) -> FsError {
    match e {
        RecordError::Unused => FsError::NotFound(format!("MFT record {n} is not in use")),
        RecordError::Corrupt(detail) => {
            FsError::corrupt("NTFS MFT record", format!("record {n}: {detail}"))
        }
    }
}
