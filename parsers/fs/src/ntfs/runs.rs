//! Data runs ("mapping pairs"): where the clusters of a non-resident
//! attribute value lie on the volume.
//!
//! Decoded by us rather than by the `ntfs` crate: the crate adds a run's
//! byte position and an in-run offset without overflow checks, and we also
//! need the cluster map itself to read compressed files unit by unit.

/// A stretch of `len` virtual clusters starting at `vcn`, stored at `lcn`
/// on the volume, or not stored at all (`None`: sparse, reads as zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) vcn: u64,
    pub(super) len: u64,
    pub(super) lcn: Option<u64>,
}

/// At most this many runs in one stream (all its attribute pieces together).
pub(super) const MAX_RUNS: usize = 1 << 20;

/// Decodes the mapping pairs in `bytes`, whose first run starts at virtual
/// cluster `start_vcn`, appending to `out`. Returns the VCN after the last
/// run. Every stored run must lie inside the volume's `total_clusters`.
pub(super) fn decode(
    bytes: &[u8],
    start_vcn: u64,
    total_clusters: u64,
    out: &mut Vec<Run>,
) -> Result<u64, String> {
    let mut pos = 0usize;
    let mut vcn = start_vcn;
    let mut lcn: i64 = 0;
    while let Some(&header) = bytes.get(pos) {
        if header == 0 {
            break;
        }
        let len_size = usize::from(header & 0x0F);
        let off_size = usize::from(header >> 4);
        if len_size == 0 || len_size > 8 || off_size > 8 {
            return Err(format!("run header {header:#04x} at byte {pos}"));
        }
        let field = |at: usize, size: usize| -> Option<i64> {
            let b = bytes.get(at..at.checked_add(size)?)?;
            let mut v = [0u8; 8];
            v[..size].copy_from_slice(b);
            // Sign-extend from `size` bytes.
            let shift = 64 - 8 * size as u32;
            Some(if size == 0 {
                0
            } else {
                (i64::from_le_bytes(v) << shift) >> shift
            })
        };
        let len = field(pos + 1, len_size)
            .ok_or_else(|| format!("run at byte {pos} runs past the attribute"))?;
        if len <= 0 {
            return Err(format!("run at byte {pos} has length {len}"));
        }
        let len = len as u64;
        let run_lcn = if off_size == 0 {
            None
        } else {
            let delta = field(pos + 1 + len_size, off_size)
                .ok_or_else(|| format!("run at byte {pos} runs past the attribute"))?;
            lcn = lcn
                .checked_add(delta)
                .filter(|l| *l >= 0)
                .ok_or_else(|| format!("run at byte {pos} moves to a negative cluster"))?;
            let start = lcn as u64;
            match start.checked_add(len) {
                Some(end) if end <= total_clusters => {}
                _ => {
                    return Err(format!(
                        "run at byte {pos} (clusters {start}+{len}) lies outside the volume of {total_clusters} clusters"
                    ))
                }
            }
            Some(start)
        };
        if out.len() >= MAX_RUNS {
            return Err(format!("more than {MAX_RUNS} data runs"));
        }
        out.push(Run {
            vcn,
            len,
            lcn: run_lcn,
        });
        vcn = vcn
            .checked_add(len)
            .filter(|v| *v <= i64::MAX as u64)
            .ok_or_else(|| format!("run at byte {pos} overflows the VCN range"))?;
        pos += 1 + len_size + off_size;
    }
    Ok(vcn)
}

/// Index of the run holding virtual cluster `vcn` in `runs` (sorted and
/// contiguous), if any.
pub(super) fn find(runs: &[Run], vcn: u64) -> Option<usize> {
    let i = runs.partition_point(|r| r.vcn + r.len <= vcn);
    (i < runs.len() && runs[i].vcn <= vcn).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_real_sparse_and_negative_runs() {
        // 0x18 clusters at 0x5634, 0x10 sparse, 8 clusters at 0x5634 - 0x34.
        let bytes = [
            0x21, 0x18, 0x34, 0x56, 0x01, 0x10, 0x11, 0x08, 0xCC, 0x00, 0xFF,
        ];
        let mut runs = Vec::new();
        let end = decode(&bytes, 0, 1 << 20, &mut runs).unwrap();
        assert_eq!(end, 0x18 + 0x10 + 8);
        assert_eq!(
            runs,
            vec![
                Run {
                    vcn: 0,
                    len: 0x18,
                    lcn: Some(0x5634)
                },
                Run {
                    vcn: 0x18,
                    len: 0x10,
                    lcn: None
                },
                Run {
                    vcn: 0x28,
                    len: 8,
                    lcn: Some(0x5634 - 0x34)
                },
            ]
        );
        assert_eq!(find(&runs, 0), Some(0));
        assert_eq!(find(&runs, 0x27), Some(1));
        assert_eq!(find(&runs, 0x2F), Some(2));
        assert_eq!(find(&runs, 0x30), None);
    }

    #[test]
    fn rejects_hostile_runs() {
        let mut runs = Vec::new();
        // Run outside the volume.
        assert!(decode(&[0x11, 0x10, 0x7F, 0], 0, 100, &mut runs).is_err());
        // Negative LCN.
        assert!(decode(&[0x11, 0x01, 0x80, 0], 0, 1000, &mut runs).is_err());
        // Truncated field.
        assert!(decode(&[0x44, 0x01], 0, 1000, &mut runs).is_err());
        // Zero and negative lengths.
        assert!(decode(&[0x01, 0x00, 0], 0, 1000, &mut runs).is_err());
        assert!(decode(&[0x01, 0xFF, 0], 0, 1000, &mut runs).is_err());
        // Header nibble too large.
        assert!(decode(&[0x19, 0], 0, 1000, &mut runs).is_err());
        // Huge sparse runs overflowing the VCN space.
        let huge = [
            0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x01, 0x02, 0,
        ];
        assert!(decode(&huge, 0, 1000, &mut runs).is_err());
    }
}
