//! NTFS timestamps: 100-nanosecond intervals since 1601-01-01 UTC.

use crate::types::Timestamp;

/// Seconds from 1601-01-01 to 1970-01-01.
const EPOCH_DIFFERENCE_SECS: i64 = 11_644_473_600;
const INTERVALS_PER_SEC: u64 = 10_000_000;

/// Converts an NTFS time to Unix seconds and nanoseconds (times before 1970
/// give negative seconds; the nanoseconds are always in `0..1e9`).
pub(super) fn nt_time_to_unix(t: u64) -> Timestamp {
    // t / 1e7 < 2^64 / 1e7 < 2^41, so neither cast nor subtraction overflows.
    let secs = (t / INTERVALS_PER_SEC) as i64 - EPOCH_DIFFERENCE_SECS;
    let nanos = (t % INTERVALS_PER_SEC) as u32 * 100;
    Timestamp { secs, nanos }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_epochs() {
        assert_eq!(
            nt_time_to_unix(116_444_736_000_000_000),
            Timestamp { secs: 0, nanos: 0 }
        );
        assert_eq!(
            nt_time_to_unix(116_444_736_000_000_000 + 10_000_000 * 1_000_000_000 + 1_234_567),
            Timestamp {
                secs: 1_000_000_000,
                nanos: 123_456_700
            }
        );
        assert_eq!(nt_time_to_unix(0).secs, -EPOCH_DIFFERENCE_SECS);
        let max = nt_time_to_unix(u64::MAX);
        assert!(max.secs > 0 && max.nanos < 1_000_000_000);
    }
}
