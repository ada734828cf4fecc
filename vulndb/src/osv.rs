//! OSV records (<https://ossf.github.io/osv-schema/>) from JSON bytes.
//!
//! Only the fields the matcher and the report use are typed; everything else
//! is skipped. A record that does not fit the schema (missing `id`, wrong
//! types, an event with no or several keys, nesting deeper than serde_json's
//! limit of 128) is an error with serde's reason and position; it never panics.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::model::{Advisory, Affected, DistroSeverity, Event, Range, SeverityEntry};

/// At most this many `affected` entries, ranges, events or versions per list:
/// far above any real record, low enough to bound the work on hostile input.
pub const MAX_LIST: usize = 1 << 20;

/// Parse one OSV record.
pub fn parse(bytes: &[u8]) -> Result<Advisory, String> {
    let raw: RawRecord = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    raw.into_advisory()
}

/// `null` or a missing field read as an empty list (some feeds write `null`).
fn nullable<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default, deserialize_with = "nullable")]
    aliases: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    related: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    upstream: Vec<String>,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    summary: Option<String>,
    details: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<SeverityEntry>,
    #[serde(default, deserialize_with = "nullable")]
    affected: Vec<RawAffected>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "nullable")]
    ranges: Vec<RawRange>,
    #[serde(default, deserialize_with = "nullable")]
    versions: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<SeverityEntry>,
    ecosystem_specific: Option<Value>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: String,
    #[serde(default)]
    name: String,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "nullable")]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

impl RawEvent {
    fn into_event(self) -> Result<Event, String> {
        let mut found = [
            self.introduced.map(Event::Introduced),
            self.fixed.map(Event::Fixed),
            self.last_affected.map(Event::LastAffected),
            self.limit.map(Event::Limit),
        ]
        .into_iter()
        .flatten();
        match (found.next(), found.next()) {
            (Some(e), None) => Ok(e),
            (None, _) => Err("range event without introduced/fixed/last_affected/limit".into()),
            (Some(_), Some(_)) => Err("range event with more than one key".into()),
        }
    }
}

fn bounded<T>(v: Vec<T>, what: &str) -> Result<Vec<T>, String> {
    if v.len() > MAX_LIST {
        Err(format!("{} {what} (more than {MAX_LIST})", v.len()))
    } else {
        Ok(v)
    }
}

/// A string field of a JSON object, if it is one.
fn str_field<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a str> {
    v?.get(key)?.as_str().filter(|s| !s.trim().is_empty())
}

/// Red Hat style words that AlmaLinux and Rocky put in front of the summary.
const SUMMARY_WORDS: &[&str] = &["Critical", "Important", "Moderate", "Low"];

impl RawRecord {
    fn into_advisory(self) -> Result<Advisory, String> {
        if self.id.trim().is_empty() {
            return Err("empty id".into());
        }
        let affected = bounded(self.affected, "affected entries")?
            .into_iter()
            .map(RawAffected::into_affected)
            .collect::<Result<Vec<_>, _>>()?;
        // The record's own severity word: database_specific.severity, an
        // `Ubuntu` severity entry, or the summary prefix ("Important: ...").
        let dbs = self.database_specific.as_ref();
        let distro_severity = str_field(dbs, "severity")
            .map(|v| sev(v, "database_specific.severity"))
            .or_else(|| {
                self.severity
                    .iter()
                    .find(|s| s.kind.eq_ignore_ascii_case("ubuntu"))
                    .map(|s| sev(&s.score, "severity.Ubuntu"))
            })
            .or_else(|| {
                let summary = self.summary.as_deref()?;
                let (word, _) = summary.split_once(':')?;
                SUMMARY_WORDS
                    .contains(&word.trim())
                    .then(|| sev(word.trim(), "summary"))
            });
        Ok(Advisory {
            id: self.id,
            aliases: bounded(self.aliases, "aliases")?,
            related: bounded(self.related, "related ids")?,
            upstream: bounded(self.upstream, "upstream ids")?,
            modified: self.modified,
            published: self.published,
            withdrawn: self.withdrawn,
            summary: self.summary,
            details: self.details,
            severity: bounded(self.severity, "severity entries")?,
            distro_severity,
            affected,
        })
    }
}

fn sev(value: &str, from: &str) -> DistroSeverity {
    DistroSeverity {
        value: value.to_string(),
        from: from.to_string(),
    }
}

impl RawAffected {
    fn into_affected(self) -> Result<Affected, String> {
        let package = self
            .package
            .ok_or("affected entry without package (only package entries are matched)")?;
        if package.name.is_empty() || package.ecosystem.is_empty() {
            return Err("affected package without ecosystem or name".into());
        }
        let ranges = bounded(self.ranges, "ranges")?
            .into_iter()
            .map(|r| {
                let events = bounded(r.events, "events")?
                    .into_iter()
                    .map(RawEvent::into_event)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Range {
                    kind: r.kind,
                    events,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let eco = self.ecosystem_specific.as_ref();
        let dbs = self.database_specific.as_ref();
        // Debian: urgency; Ubuntu: ubuntu_priority; Red Hat family: severity.
        let distro_severity = [
            (eco, "urgency", "ecosystem_specific.urgency"),
            (eco, "ubuntu_priority", "ecosystem_specific.ubuntu_priority"),
            (eco, "severity", "ecosystem_specific.severity"),
            (dbs, "urgency", "database_specific.urgency"),
            (dbs, "severity", "database_specific.severity"),
        ]
        .into_iter()
        .find_map(|(obj, key, from)| str_field(obj, key).map(|v| sev(v, from)))
        .or_else(|| {
            self.severity
                .iter()
                .find(|s| s.kind.eq_ignore_ascii_case("ubuntu"))
                .map(|s| sev(&s.score, "affected.severity.Ubuntu"))
        });
        let mut attributes = BTreeMap::new();
        for key in ["availability", "status", "nodsa", "nodsa_reason"] {
            if let Some(v) = str_field(eco, key) {
                attributes.insert(key.to_string(), v.to_string());
            }
        }
        Ok(Affected {
            ecosystem: package.ecosystem,
            name: package.name,
            purl: package.purl,
            ranges,
            versions: bounded(self.versions, "versions")?,
            distro_severity,
            attributes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALSA: &str = r#"{
      "id": "ALSA-2023:0946", "summary": "Important: openssl security update",
      "related": ["CVE-2022-4304"], "modified": "2023-03-01T00:00:00Z",
      "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": "openssl-libs"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.1-47.el9_1"}]}]}]
    }"#;

    #[test]
    fn almalinux_record() {
        let a = parse(ALSA.as_bytes()).unwrap();
        assert_eq!(a.id, "ALSA-2023:0946");
        assert_eq!(a.distro_severity.as_ref().unwrap().value, "Important");
        assert_eq!(a.distro_severity.as_ref().unwrap().from, "summary");
        assert_eq!(a.cve_ids(), ["CVE-2022-4304"]);
        let r = &a.affected[0].ranges[0];
        assert_eq!(r.events[1], Event::Fixed("1:3.0.1-47.el9_1".into()));
    }

    #[test]
    fn debian_urgency_and_nulls() {
        let rec = r#"{"id":"DEBIAN-CVE-2023-1","aliases":null,"upstream":["CVE-2023-1"],
          "affected":[{"package":{"ecosystem":"Debian:12","name":"openssh"},"versions":null,
          "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}],
          "ecosystem_specific":{"urgency":"low**"}}]}"#;
        let a = parse(rec.as_bytes()).unwrap();
        let s = a.affected[0].distro_severity.clone().unwrap();
        assert_eq!(
            (s.value.as_str(), s.from.as_str()),
            ("low**", "ecosystem_specific.urgency")
        );
    }

    #[test]
    fn malformed_records_have_reasons() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "EOF"),
            (br#"{"id": "X", "affected": [{"package""#, "EOF"),
            (br#"{"summary": "no id"}"#, "missing field `id`"),
            (br#"{"id": 5}"#, "invalid type"),
            (br#"{"id": "X", "affected": "no"}"#, "invalid type"),
            (br#"{"id": "X", "affected": [{"package": {"ecosystem": "Debian:12", "name": "a"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{}]}]}]}"#, "without"),
            (br#"{"id": "X", "affected": [{"package": {"ecosystem": "Debian:12", "name": "a"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}"#,
             "more than one"),
            (br#"{"id": "", "affected": []}"#, "empty id"),
            (b"\xff\xfe", "expected value"),
        ];
        for (input, want) in cases {
            let err = parse(input).unwrap_err();
            assert!(
                err.contains(want),
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!(
            r#"{{"id":"X","database_specific":{}1{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse(deep.as_bytes())
            .unwrap_err()
            .contains("recursion limit"));
    }

    #[test]
    fn huge_versions_list_is_read_in_bounded_memory() {
        // 200k versions: accepted (below MAX_LIST); the memory is a small multiple of the input.
        let versions = vec!["\"1\""; 200_000].join(",");
        let rec = format!(
            r#"{{"id":"X","affected":[{{"package":{{"ecosystem":"Debian:12","name":"a"}},"versions":[{versions}]}}]}}"#
        );
        assert_eq!(
            parse(rec.as_bytes()).unwrap().affected[0].versions.len(),
            200_000
        );
    }
}
