//! The ext2/ext3 block map: 12 direct pointers, then single, double and
//! triple indirect blocks of 32-bit block numbers.

use crate::error::Result;
use crate::le::u32_at;

use super::extent::Mapping;

/// Maps logical block `lblk` through the block map in `i_block`.
/// `read_block` fetches one indirect block. Consecutive pointers in the
/// same indirect block are merged into one run, so sequential reads make
/// one volume read per run rather than per block.
pub(crate) fn map(
    i_block: &[u8],
    lblk: u32,
    block_size: u32,
    mut read_block: impl FnMut(u64) -> Result<Vec<u8>>,
) -> Result<Mapping> {
    let per = (block_size / 4) as u64;
    let mut l = lblk as u64;
    if l < 12 {
        return Ok(run(&i_block[..48], l as usize, 12));
    }
    l -= 12;
    // (slot in i_block, levels of indirection, blocks covered per slot entry)
    let mut span = 1u64;
    for (slot, levels) in [(12usize, 1u32), (13, 2), (14, 3)] {
        span *= per;
        if l < span {
            let mut ptr = u32_at(i_block, slot * 4) as u64;
            let mut level_span = span;
            for _ in 0..levels {
                if ptr == 0 {
                    return Ok(Mapping::Zero {
                        len: level_span - l % level_span,
                    });
                }
                let block = read_block(ptr)?;
                level_span /= per;
                let index = (l / level_span) as usize;
                if level_span == 1 {
                    return Ok(run(&block, index, per as usize));
                }
                ptr = u32_at(&block, index * 4) as u64;
                l %= level_span;
            }
        }
        l -= span;
    }
    Ok(Mapping::Zero { len: 1 })
}

/// The run starting at pointer `index` of an array of `count` pointers.
fn run(pointers: &[u8], index: usize, count: usize) -> Mapping {
    let at = |i: usize| u32_at(pointers, i * 4) as u64;
    let start = at(index);
    let mut len = 1u64;
    if start == 0 {
        while index + (len as usize) < count && at(index + len as usize) == 0 {
            len += 1;
        }
        return Mapping::Zero { len };
    }
    while index + (len as usize) < count && at(index + len as usize) == start + len {
        len += 1;
    }
    Mapping::Data { start, len }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_runs_merge() {
        let mut ib = vec![0u8; 60];
        for i in 0..4u32 {
            ib[i as usize * 4..i as usize * 4 + 4].copy_from_slice(&(50 + i).to_le_bytes());
        }
        let none = |_| unreachable!();
        assert_eq!(
            map(&ib, 1, 1024, none).unwrap(),
            Mapping::Data { start: 51, len: 3 }
        );
        assert_eq!(map(&ib, 4, 1024, none).unwrap(), Mapping::Zero { len: 8 });
    }

    #[test]
    fn single_indirect() {
        let mut ib = vec![0u8; 60];
        ib[48..52].copy_from_slice(&9u32.to_le_bytes());
        let mut ind = vec![0u8; 1024];
        ind[0..4].copy_from_slice(&77u32.to_le_bytes());
        let m = map(&ib, 12, 1024, |b| {
            assert_eq!(b, 9);
            Ok(ind.clone())
        });
        assert_eq!(m.unwrap(), Mapping::Data { start: 77, len: 1 });
    }
}
