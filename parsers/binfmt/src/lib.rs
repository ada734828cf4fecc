//! Executable formats: hardening facts of ELF and PE files, read from as
//! few bytes as the answer needs. Facts only; rules decide.
//!
//! Input is a positional [`RangeSource`] (a file inside a disk image, adapted
//! by the caller), never a whole file in memory. Every length, count and
//! offset taken from the file is checked against the file's size and against
//! the fixed limits below before anything is read or allocated.
#![forbid(unsafe_code)]

mod elf;
mod pe;
mod reader;

pub use elf::{elf_hardening, ElfClass, ElfFacts, ElfType, Endianness, Relro};
pub use pe::{pe_hardening, GsSource, PeFacts};

/// A positional, read-only byte source (the caller adapts a file inside a
/// disk image to it and counts the bytes read).
pub trait RangeSource {
    /// Size of the file in bytes.
    fn len(&self) -> u64;
    /// Read up to `buf.len()` bytes at `offset`; `Ok(0)` at or past the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize>;
    /// True when the file is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// In-memory bytes (tests, fuzzing, small files already read).
impl RangeSource for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let data: &[u8] = self;
        if offset >= data.len() as u64 {
            return Ok(0);
        }
        let rest = &data[offset as usize..];
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

impl RangeSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        RangeSource::read_at(&self.as_slice(), offset, buf)
    }
}

/// Executable format, told from the first bytes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Elf,
    Pe,
}

/// Cheap format sniffing from the first (up to 64) bytes of a file, so the
/// caller can skip non-binaries without further reads.
///
/// ELF: `\x7fELF` with a valid class (1, 2) and data encoding (1, 2).
/// PE: an `MZ` header; when the 64-byte DOS header is present, `e_lfanew`
/// must be 4-byte aligned and past the DOS header (the `PE\0\0` signature
/// itself is checked by [`pe_hardening`]). `None` for anything else.
pub fn identify(head: &[u8]) -> Option<Format> {
    if head.len() >= 6 && head[..4] == *b"\x7fELF" {
        return match (head[4], head[5]) {
            (1 | 2, 1 | 2) => Some(Format::Elf),
            _ => None,
        };
    }
    if head.len() >= 2 && head[..2] == *b"MZ" {
        if head.len() >= 64 {
            let lfanew = u32::from_le_bytes([head[60], head[61], head[62], head[63]]);
            if lfanew < 64 || lfanew % 4 != 0 || lfanew > 0x1000_0000 {
                return None;
            }
        }
        return Some(Format::Pe);
    }
    None
}

/// Why a binary's facts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The byte source failed.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    /// Not the format asked for.
    #[error("not an {0} file")]
    WrongFormat(&'static str),
    /// A structure is inconsistent, truncated, or points outside the file.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// A table is larger than this parser accepts.
    #[error("{what} too large: {size} bytes (limit {limit})")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identify_formats() {
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        assert_eq!(identify(&elf), Some(Format::Elf));
        assert_eq!(identify(b"\x7fELF\x03\x01"), None);
        assert_eq!(identify(b"\x7fEL"), None);
        let mut mz = vec![0u8; 64];
        mz[..2].copy_from_slice(b"MZ");
        mz[60] = 0x80;
        assert_eq!(identify(&mz), Some(Format::Pe));
        mz[60] = 0x10; // inside the DOS header
        assert_eq!(identify(&mz), None);
        mz[60] = 0x82; // unaligned
        assert_eq!(identify(&mz), None);
        assert_eq!(identify(b"MZ"), Some(Format::Pe));
        assert_eq!(identify(b"#!/bin/sh\n"), None);
        assert_eq!(identify(b""), None);
    }

    #[test]
    fn slice_source() {
        let data: &[u8] = b"hello";
        let mut buf = [0u8; 8];
        assert_eq!(RangeSource::read_at(&data, 3, &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"lo");
        assert_eq!(RangeSource::read_at(&data, 5, &mut buf).unwrap(), 0);
        assert_eq!(RangeSource::read_at(&data, u64::MAX, &mut buf).unwrap(), 0);
        assert!(elf_hardening(&data).is_err());
        assert!(pe_hardening(&data).is_err());
        let empty: &[u8] = b"";
        assert!(matches!(elf_hardening(&empty), Err(Error::WrongFormat(_))));
        assert!(matches!(pe_hardening(&empty), Err(Error::WrongFormat(_))));
    }

    /// An I/O error of the source is reported as such, not as malformed.
    #[test]
    fn io_errors_surface() {
        struct Broken;
        impl RangeSource for Broken {
            fn len(&self) -> u64 {
                4096
            }
            fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
                if offset == 0 && !buf.is_empty() {
                    let head = b"\x7fELF\x02\x01\x01";
                    let n = buf.len().min(head.len());
                    buf[..n].copy_from_slice(&head[..n]);
                    if buf.len() <= 16 {
                        return Ok(n);
                    }
                }
                Err(std::io::Error::other("bad sector"))
            }
        }
        assert!(
            matches!(elf_hardening(&Broken), Err(Error::Io(_))),
            "{:?}",
            elf_hardening(&Broken)
        );
    }
}
