use std::fmt;

/// A GUID as stored on disk (mixed-endian: the first three fields are
/// little-endian), displayed in the usual lowercase 8-4-4-4-12 form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for Guid {
    type Err = String;

    /// Parses the 8-4-4-4-12 form that `Display` writes.
    fn from_str(text: &str) -> Result<Guid, String> {
        let hex: Vec<u8> = text.bytes().filter(|&b| b != b'-').collect();
        let groups: Vec<usize> = text.split('-').map(str::len).collect();
        if hex.len() != 32 || groups != [8, 4, 4, 4, 12] {
            return Err(format!("not a GUID: {text:?}"));
        }
        let mut be = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).map_err(|_| format!("not a GUID: {text:?}"))?;
            be[i] = u8::from_str_radix(pair, 16).map_err(|_| format!("not a GUID: {text:?}"))?;
        }
        let mut raw = be;
        raw[..4].reverse();
        raw[4..6].reverse();
        raw[6..8].reverse();
        Ok(Guid(raw))
    }
}

impl<'de> serde::Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Guid, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_filesystem_type_guid_formats_mixed_endian() {
        // 0FC63DAF-8483-4772-8E79-3D69D8477DE4 as stored on disk.
        let raw = [
            0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47,
            0x7d, 0xe4,
        ];
        assert_eq!(
            Guid(raw).to_string(),
            "0fc63daf-8483-4772-8e79-3d69d8477de4"
        );
        assert_eq!(
            "0fc63daf-8483-4772-8e79-3d69d8477de4".parse(),
            Ok(Guid(raw))
        );
        assert!("0fc63daf84834772-8e79-3d69d8477de4"
            .parse::<Guid>()
            .is_err());
    }
}
