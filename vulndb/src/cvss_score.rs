//! CVSS base scores of the vectors a record carries, via the `cvss` crate
//! (v2, v3.0, v3.1, v4.0). A vector that does not parse is kept with the reason.

use serde::{Deserialize, Serialize};

use crate::model::SeverityEntry;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CvssScore {
    /// The OSV severity type (`CVSS_V3`, `CVSS_V4`, `CVSS_V2`).
    pub kind: String,
    pub vector: String,
    /// Base score (for v4, the CVSS-B/BT/BE/BTE score the vector allows).
    pub base_score: Option<f64>,
    /// Why no score: the parser's message.
    pub error: Option<String>,
}

/// Scores of the `CVSS_*` entries; other severity types (`Ubuntu`) are skipped.
pub fn scores(entries: &[SeverityEntry]) -> Vec<CvssScore> {
    entries
        .iter()
        .filter(|e| e.kind.to_ascii_uppercase().starts_with("CVSS"))
        .map(|e| score(&e.kind, &e.score))
        .collect()
}

pub fn score(kind: &str, vector: &str) -> CvssScore {
    let parsed = vector.trim().parse::<cvss::Cvss>();
    let (base_score, error) = match parsed {
        Ok(c) => {
            let s = c.score();
            if s.is_finite() {
                (Some((s * 10.0).round() / 10.0), None)
            } else {
                (None, Some("score is not a number".to_string()))
            }
        }
        Err(e) => (None, Some(format!("vector not parsed: {e}"))),
    };
    CvssScore {
        kind: kind.to_string(),
        vector: vector.to_string(),
        base_score,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let s = score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert_eq!(s.base_score, Some(9.8));
        let s = score("CVSS_V3", "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N");
        assert_eq!(s.base_score, Some(5.9));
        let s = score(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        );
        assert_eq!(s.base_score, Some(9.3));
        let s = score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P");
        assert_eq!(s.base_score, Some(7.5));
        let s = score("CVSS_V3", "CVSS:3.1/AV:X");
        assert!(s.base_score.is_none() && s.error.unwrap().contains("not parsed"));
        let s = score("CVSS_V3", "");
        assert!(s.base_score.is_none());
        assert_eq!(
            scores(&[SeverityEntry {
                kind: "Ubuntu".into(),
                score: "medium".into()
            }])
            .len(),
            0
        );
    }
}
