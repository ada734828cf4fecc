//! NTFS compression: LZNT1 in compression units of (usually) 16 clusters.
//!
//! A unit whose clusters are all stored is not compressed; one with no
//! stored cluster is all zeros; otherwise its stored clusters hold a
//! sequence of LZNT1 chunks, each of which expands to exactly 4096 bytes of
//! the unit (a chunk that decodes shorter is zero-padded, and the unit is
//! zero after its last chunk), as NTFS and ntfs-3g do.
//!
//! Each chunk is decoded on its own with the `lznt1` crate. Decoding chunk
//! by chunk bounds memory: the crate does not stop at 4096 bytes of output,
//! and a hostile 4 KiB chunk can expand to roughly 25 KiB, which we then
//! refuse; we never decode more chunks than the unit has room for.

/// Uncompressed size of one LZNT1 chunk.
pub(super) const CHUNK_SIZE: usize = 4096;

/// Decodes one compression unit: `compressed` (the unit's stored clusters)
/// into `out` (the unit's full size, zero-filled by the caller).
pub(super) fn decompress_unit(compressed: &[u8], out: &mut [u8]) -> Result<(), String> {
    let mut pos = 0usize;
    let mut tmp = Vec::with_capacity(CHUNK_SIZE);
    for chunk_out in out.chunks_mut(CHUNK_SIZE) {
        let Some(h) = compressed.get(pos..pos + 2) else {
            break;
        };
        let header = u16::from_le_bytes([h[0], h[1]]);
        if header == 0 {
            break; // end of the unit's compressed data
        }
        let body = usize::from(header & 0x0FFF) + 1;
        let end = pos + 2 + body;
        let chunk = compressed
            .get(pos..end)
            .ok_or_else(|| format!("LZNT1 chunk at byte {pos} runs past the compressed data"))?;
        tmp.clear();
        lznt1::decompress(chunk, &mut tmp)
            .map_err(|e| format!("LZNT1 chunk at byte {pos}: {e}"))?;
        if tmp.len() > chunk_out.len() {
            return Err(format!(
                "LZNT1 chunk at byte {pos} expands to {} bytes, more than {}",
                tmp.len(),
                chunk_out.len()
            ));
        }
        chunk_out[..tmp.len()].copy_from_slice(&tmp);
        pos = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_chunks_and_pads_short_ones() {
        let first: Vec<u8> = (0..CHUNK_SIZE).map(|i| (i % 7) as u8).collect();
        let mut comp = Vec::new();
        lznt1::compress(&first, &mut comp);
        // A second chunk holding only "abc": the rest of its 4096 bytes is zero.
        let mut second = Vec::new();
        lznt1::compress(b"abc", &mut second);
        comp.extend_from_slice(&second);
        comp.extend_from_slice(&[0, 0]);
        let mut out = vec![0u8; 4 * CHUNK_SIZE];
        decompress_unit(&comp, &mut out).unwrap();
        assert_eq!(&out[..CHUNK_SIZE], &first[..]);
        assert_eq!(&out[CHUNK_SIZE..CHUNK_SIZE + 3], b"abc");
        assert!(out[CHUNK_SIZE + 3..].iter().all(|&b| b == 0));
    }

    #[test]
    fn refuses_overlong_and_truncated_chunks() {
        // One literal, then a 4098-byte back-reference: 4099 bytes > 4096.
        let chunk = [0x03, 0xB0, 0b10, b'x', 0xFF, 0x0F];
        let mut out = vec![0u8; 2 * CHUNK_SIZE];
        assert!(decompress_unit(&chunk, &mut out).is_err());
        // Header claims 100 bytes of body, 3 present.
        let chunk = [0x63, 0xB0, 0, 1, 2];
        assert!(decompress_unit(&chunk, &mut out).is_err());
    }

    #[test]
    fn never_decodes_more_chunks_than_the_unit_holds() {
        let mut comp = Vec::new();
        for _ in 0..10 {
            lznt1::compress(&[7u8; CHUNK_SIZE], &mut comp);
        }
        let mut out = vec![0u8; 2 * CHUNK_SIZE];
        decompress_unit(&comp, &mut out).unwrap();
        assert!(out.iter().all(|&b| b == 7));
    }
}

#[cfg(test)]
mod garbage_tests {
    use super::*;

    /// Random compressed data never panics and never writes past the unit.
    #[test]
    fn random_input_is_bounded() {
        let mut x = 0xDEAD_BEEF_1234_5678u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut out = vec![0u8; 16 * CHUNK_SIZE];
        for round in 0..2000 {
            let len = (next() % 9000) as usize;
            let mut comp: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 && comp.len() > 2 {
                // A plausible compressed chunk header.
                let size = (comp.len() as u16 - 3).min(0x0FFF);
                comp[..2].copy_from_slice(&(0xB000 | size).to_le_bytes());
            }
            out.fill(0);
            let _ = decompress_unit(&comp, &mut out);
            assert_eq!(out.len(), 16 * CHUNK_SIZE);
        }
    }
}
