//! jbd2 journal recovery, in memory.
//!
//! A volume whose superblock has `needs_recovery` (a crash-consistent
//! snapshot of a running machine) keeps its newest metadata in the journal.
//! Written from the on-disk format documentation (the kernel's
//! `Documentation/filesystems/ext4/journal.rst`) and following the kernel's
//! recovery (`fs/jbd2/recovery.c`): the log is read from `s_start` with
//! transaction `s_sequence`; a transaction counts only once its commit
//! block (same sequence) is found; the scan stops at the first block whose
//! magic or sequence does not match; a block is not replayed for
//! transaction T if some committed revoke record for it has a sequence at
//! or after T; later transactions win. Nothing is written: the result is a map
//! from filesystem block to its copy in the log, which
//! [`super::overlay::Overlay`] serves in place of the volume's block.
//!
//! Not done, on purpose or for now:
//! - checksums (v1 commit crc32, v2/v3 descriptor, tag, revoke and commit
//!   checksums) are not verified. The kernel uses them to end the log at a
//!   torn or stale transaction; without them we rely on magic and sequence
//!   numbers alone, which is what the kernel does for journals without
//!   checksums.
//! - fast-commit blocks (the area after the main log) are not replayed.
//! - external journal devices are not read.
//!
//! Every loop is bounded by the log length (`s_maxlen`), a descriptor's tags
//! by the block size, revoke records by [`MAX_REVOKE_RECORDS`], and the
//! result by the number of log blocks.

use std::collections::{BTreeMap, HashMap};

use super::extent::Mapping;
use super::inode::{FLAG_ENCRYPT, FLAG_INLINE_DATA};
use super::overlay::BlockCopy;
use super::Ext4;
use crate::error::{FsError, Result};
use crate::types::FileType;

/// `h_magic` of every jbd2 metadata block (and of the journal superblock).
pub(crate) const JBD2_MAGIC: u32 = 0xC03B_3998;

const BLOCK_DESCRIPTOR: u32 = 1;
const BLOCK_COMMIT: u32 = 2;
const BLOCK_SUPER_V1: u32 = 3;
const BLOCK_SUPER_V2: u32 = 4;
const BLOCK_REVOKE: u32 = 5;

const INCOMPAT_REVOKE: u32 = 0x1;
const INCOMPAT_64BIT: u32 = 0x2;
const INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
const INCOMPAT_CSUM_V2: u32 = 0x8;
const INCOMPAT_CSUM_V3: u32 = 0x10;
const INCOMPAT_FAST_COMMIT: u32 = 0x20;
const INCOMPAT_KNOWN: u32 = INCOMPAT_REVOKE
    | INCOMPAT_64BIT
    | INCOMPAT_ASYNC_COMMIT
    | INCOMPAT_CSUM_V2
    | INCOMPAT_CSUM_V3
    | INCOMPAT_FAST_COMMIT;

const TAG_ESCAPE: u32 = 0x1;
const TAG_SAME_UUID: u32 = 0x2;
/// Never set by jbd2 and ignored by its recovery; so here too.
#[allow(dead_code)]
const TAG_DELETED: u32 = 0x4;
const TAG_LAST: u32 = 0x8;

/// The kernel's `JBD2_DEFAULT_FAST_COMMIT_BLOCKS` and
/// `JBD2_MIN_JOURNAL_BLOCKS`.
const DEFAULT_FC_BLOCKS: u32 = 256;
const MIN_JOURNAL_BLOCKS: u32 = 1024;

/// Revoke records kept from one log (a real log holds far fewer; each
/// costs a few bytes of memory).
const MAX_REVOKE_RECORDS: usize = 1 << 22;

fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

fn corrupt(detail: impl Into<String>) -> FsError {
    FsError::corrupt("jbd2 journal", detail)
}

/// `a` is after `b` in transaction-id order (ids wrap around).
fn tid_gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The journal superblock fields recovery uses (all big-endian on disk).
#[derive(Debug, Clone)]
pub(crate) struct JournalSuper {
    pub maxlen: u32,
    /// First log block (after the journal superblock).
    pub first: u32,
    /// The log ends (and wraps back to `first`) here: `maxlen`, less the
    /// fast-commit area if there is one.
    pub last: u32,
    /// Transaction id expected at `start`.
    pub sequence: u32,
    /// First log block of the oldest live transaction; 0: the log is empty.
    pub start: u32,
    pub incompat: u32,
}

impl JournalSuper {
    /// Parses and validates the journal superblock (log block 0).
    /// `fs_block_size`: the filesystem's block size, which the journal must
    /// share; `journal_blocks`: the size of the journal inode in blocks.
    pub fn parse(b: &[u8], fs_block_size: u32, journal_blocks: u64) -> Result<JournalSuper> {
        if be32(b, 0) != JBD2_MAGIC {
            return Err(corrupt(format!(
                "journal superblock magic is {:#010x}, not {JBD2_MAGIC:#010x}",
                be32(b, 0)
            )));
        }
        let version = be32(b, 4);
        if version != BLOCK_SUPER_V1 && version != BLOCK_SUPER_V2 {
            return Err(corrupt(format!(
                "journal superblock block type {version} is neither 3 (v1) nor 4 (v2)"
            )));
        }
        let block_size = be32(b, 0xC);
        if block_size != fs_block_size {
            return Err(corrupt(format!(
                "journal block size {block_size} differs from the filesystem's {fs_block_size}"
            )));
        }
        let maxlen = be32(b, 0x10);
        if maxlen as u64 > journal_blocks {
            return Err(corrupt(format!(
                "journal claims {maxlen} blocks but its inode holds {journal_blocks}"
            )));
        }
        let first = be32(b, 0x14);
        let sequence = be32(b, 0x18);
        let start = be32(b, 0x1C);
        // Feature fields exist only in v2 superblocks.
        let (incompat, num_fc) = if version == BLOCK_SUPER_V2 {
            (be32(b, 0x28), be32(b, 0x54))
        } else {
            (0, 0)
        };
        let unknown = incompat & !INCOMPAT_KNOWN;
        if unknown != 0 {
            return Err(FsError::Unsupported(format!(
                "journal incompatible feature flags {unknown:#x}"
            )));
        }
        if incompat & INCOMPAT_CSUM_V2 != 0 && incompat & INCOMPAT_CSUM_V3 != 0 {
            return Err(corrupt("journal claims both checksum v2 and v3"));
        }
        let mut last = maxlen;
        if incompat & INCOMPAT_FAST_COMMIT != 0 {
            let fc = if num_fc == 0 {
                DEFAULT_FC_BLOCKS
            } else {
                num_fc
            };
            // As the kernel: the fast-commit area is carved out only if a
            // full-size main log remains.
            if maxlen.saturating_sub(fc) >= MIN_JOURNAL_BLOCKS {
                last = maxlen - fc;
            }
        }
        if first == 0 || first >= last {
            return Err(corrupt(format!(
                "log starts at block {first}, outside 1..{last}"
            )));
        }
        if start != 0 && (start < first || start >= last) {
            return Err(corrupt(format!(
                "log start {start} lies outside the log ({first}..{last})"
            )));
        }
        Ok(JournalSuper {
            maxlen,
            first,
            last,
            sequence,
            start,
            incompat,
        })
    }

    fn has(&self, flag: u32) -> bool {
        self.incompat & flag != 0
    }

    fn csum_v2_or_v3(&self) -> bool {
        self.has(INCOMPAT_CSUM_V2) || self.has(INCOMPAT_CSUM_V3)
    }

    /// Size of a descriptor tag, without the UUID that may follow it
    /// (the kernel's `journal_tag_bytes`).
    fn tag_bytes(&self) -> usize {
        if self.has(INCOMPAT_CSUM_V3) {
            return 16;
        }
        let mut size = 8;
        if self.has(INCOMPAT_CSUM_V2) {
            size += 2;
        }
        if self.has(INCOMPAT_64BIT) {
            size += 4;
        }
        size
    }

    /// Bytes at the end of descriptor and revoke blocks taken by a checksum.
    fn tail_bytes(&self) -> usize {
        if self.csum_v2_or_v3() {
            4
        } else {
            0
        }
    }

    /// Length of the circular log in blocks.
    fn log_len(&self) -> u32 {
        self.last - self.first
    }

    /// The log block after `b`, wrapping from `last - 1` to `first`.
    fn next(&self, b: u32) -> u32 {
        let n = b + 1;
        if n >= self.last {
            self.first
        } else {
            n
        }
    }
}

/// One block a transaction logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Write {
    /// Filesystem block the data belongs to.
    pub target: u64,
    /// Log block holding the data.
    pub log_block: u32,
    pub escape: bool,
}

/// A committed transaction.
#[derive(Debug, Default)]
pub(crate) struct Transaction {
    pub sequence: u32,
    pub writes: Vec<Write>,
    pub revokes: Vec<u64>,
    /// Why one of its revoke blocks is unreadable (an error once the
    /// transaction commits).
    bad_revoke: Option<FsError>,
}

/// The tags of a descriptor block: (target block, flags).
fn descriptor_tags(block: &[u8], js: &JournalSuper) -> Vec<(u64, u32)> {
    let tag_bytes = js.tag_bytes();
    let end = block.len().saturating_sub(js.tail_bytes());
    let mut out = Vec::new();
    let mut at = 12;
    while at + tag_bytes <= end {
        // `t_flags` is be16 at 6 in the old tag and be32 at 4 in the v3 tag:
        // its low half is at 6 in both, as the kernel reads it.
        let flags = be16(block, at + 6) as u32;
        let mut target = be32(block, at) as u64;
        if js.has(INCOMPAT_64BIT) {
            target |= (be32(block, at + 8) as u64) << 32;
        }
        out.push((target, flags));
        at += tag_bytes;
        if flags & TAG_SAME_UUID == 0 {
            at += 16;
        }
        if flags & TAG_LAST != 0 {
            break;
        }
    }
    out
}

/// The block numbers of a revoke block.
fn revoke_records(block: &[u8], js: &JournalSuper, at_log: u32) -> Result<Vec<u64>> {
    let count = be32(block, 12) as usize;
    let limit = block.len().saturating_sub(js.tail_bytes());
    if count > limit {
        return Err(corrupt(format!(
            "revoke block at log block {at_log} claims {count} bytes of records in a {limit}-byte area"
        )));
    }
    let wide = js.has(INCOMPAT_64BIT);
    let rec = if wide { 8 } else { 4 };
    let mut out = Vec::new();
    let mut at = 16;
    while at + rec <= count {
        let b = if wide {
            (be32(block, at) as u64) << 32 | be32(block, at + 4) as u64
        } else {
            be32(block, at) as u64
        };
        out.push(b);
        at += rec;
    }
    Ok(out)
}

/// Reads the log from `s_start` and returns its committed transactions in
/// order. `read(b)` returns log block `b` (exactly one block).
pub(crate) fn scan(
    js: &JournalSuper,
    mut read: impl FnMut(u32) -> Result<Vec<u8>>,
) -> Result<Vec<Transaction>> {
    let mut committed = Vec::new();
    if js.start == 0 {
        return Ok(committed);
    }
    let log_len = js.log_len() as u64;
    let mut pos = js.start;
    let mut sequence = js.sequence;
    let mut pending = Transaction {
        sequence,
        ..Transaction::default()
    };
    let mut revoke_records_seen = 0usize;
    // Log blocks consumed so far; the log cannot hold more than `log_len`.
    let mut used = 0u64;
    while used < log_len {
        let here = pos;
        let block = read(here)?;
        used += 1;
        pos = js.next(pos);
        if be32(&block, 0) != JBD2_MAGIC || be32(&block, 8) != sequence {
            break;
        }
        match be32(&block, 4) {
            BLOCK_DESCRIPTOR => {
                let tags = descriptor_tags(&block, js);
                if used + tags.len() as u64 >= log_len {
                    // Its data and commit cannot fit in the log, so this
                    // transaction cannot have committed: the log ends here
                    // (where the kernel would find no matching block after
                    // skipping the data).
                    break;
                }
                for (target, flags) in tags {
                    pending.writes.push(Write {
                        target,
                        log_block: pos,
                        escape: flags & TAG_ESCAPE != 0,
                    });
                    used += 1;
                    pos = js.next(pos);
                }
            }
            BLOCK_COMMIT => {
                if let Some(e) = pending.bad_revoke.take() {
                    return Err(e);
                }
                sequence = sequence.wrapping_add(1);
                let next = Transaction {
                    sequence,
                    ..Transaction::default()
                };
                committed.push(std::mem::replace(&mut pending, next));
            }
            BLOCK_REVOKE => {
                // A bad revoke block fails recovery only if its
                // transaction commits (the kernel reads revoke blocks of
                // committed transactions only).
                let records = match revoke_records(&block, js, here) {
                    Ok(r) => r,
                    Err(e) => {
                        pending.bad_revoke.get_or_insert(e);
                        continue;
                    }
                };
                revoke_records_seen += records.len();
                if revoke_records_seen > MAX_REVOKE_RECORDS {
                    return Err(corrupt(format!(
                        "more than {MAX_REVOKE_RECORDS} revoke records"
                    )));
                }
                pending.revokes.extend(records);
            }
            // Any other block type ends the log, as in the kernel.
            _ => break,
        }
    }
    // `pending` never saw its commit block: it is not replayed.
    Ok(committed)
}

/// The outcome of resolving a log: filesystem block -> log block holding
/// its newest copy.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    pub blocks: BTreeMap<u64, Write>,
    pub transactions: usize,
    /// Logged copies skipped because a later revoke record covers them.
    pub revoked: usize,
}

/// Applies revoke records and transaction order. `volume_blocks`: the
/// number of whole blocks on the volume; a replayed block outside it makes
/// the journal unusable (the kernel's recovery fails on it too).
pub(crate) fn resolve(transactions: &[Transaction], volume_blocks: u64) -> Result<Replay> {
    // Newest revoking transaction per block.
    let mut revoked_by: HashMap<u64, u32> = HashMap::new();
    for t in transactions {
        for &b in &t.revokes {
            revoked_by
                .entry(b)
                .and_modify(|s| {
                    if tid_gt(t.sequence, *s) {
                        *s = t.sequence
                    }
                })
                .or_insert(t.sequence);
        }
    }
    let mut out = Replay {
        transactions: transactions.len(),
        ..Replay::default()
    };
    for t in transactions {
        for w in &t.writes {
            if let Some(&r) = revoked_by.get(&w.target) {
                if !tid_gt(t.sequence, r) {
                    out.revoked += 1;
                    continue;
                }
            }
            if w.target >= volume_blocks {
                return Err(corrupt(format!(
                    "transaction {} logs block {}, beyond the volume's {volume_blocks} blocks",
                    t.sequence, w.target
                )));
            }
            out.blocks.insert(w.target, *w);
        }
    }
    Ok(out)
}

/// What recovery found for a filesystem.
#[derive(Debug, Default)]
pub(crate) struct Recovery {
    /// Filesystem block -> where its replayed contents live on the volume.
    pub blocks: BTreeMap<u64, BlockCopy>,
    pub transactions: usize,
    pub revoked: usize,
    /// Facts worth an [`crate::FsInfo`] note besides the counts.
    pub notes: Vec<String>,
    /// What was left out of the replay (goes to [`crate::FsInfo::problems`]).
    pub problems: Vec<String>,
}

/// Logical-to-volume block mapping of the journal inode, remembering the
/// runs already found (the log is mostly read in order).
struct JournalMap<'a> {
    fs: &'a Ext4,
    inode: super::inode::Inode,
    /// First logical block -> (first volume block, run length).
    runs: BTreeMap<u32, (u64, u64)>,
}

impl JournalMap<'_> {
    fn volume_block(&mut self, lblk: u32) -> Result<u64> {
        if let Some((&l, &(p, len))) = self.runs.range(..=lblk).next_back() {
            let off = (lblk - l) as u64;
            if off < len {
                return Ok(p + off);
            }
        }
        match self.fs.map(&self.inode, lblk)? {
            Mapping::Data { start, len } => {
                // Keep runs inside the volume, so every copy can be read.
                let vol_blocks = self.fs.vol.size() / self.fs.sb.block_size as u64;
                if start.saturating_add(len) > vol_blocks.min(self.fs.sb.blocks_count) {
                    return Err(corrupt(format!(
                        "journal block {lblk} maps to volume blocks {start}..{}, beyond the volume",
                        start.saturating_add(len)
                    )));
                }
                self.runs.insert(lblk, (start, len));
                Ok(start)
            }
            Mapping::Zero { .. } => Err(corrupt(format!(
                "journal block {lblk} is a hole in the journal inode"
            ))),
        }
    }

    fn read(&mut self, lblk: u32) -> Result<Vec<u8>> {
        let b = self.volume_block(lblk)?;
        self.fs.read_block(b)
    }
}

/// Finds the internal journal of `fs` (read on the raw volume) and works
/// out which blocks its committed transactions replace.
pub(crate) fn recover(fs: &Ext4) -> Result<Recovery> {
    let sb = &fs.sb;
    if !sb.has_journal() {
        return Err(corrupt(
            "needs_recovery is set but the filesystem has no journal (has_journal is off)",
        ));
    }
    if sb.journal_inum == 0 {
        let uuid = sb
            .journal_uuid
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        return Err(FsError::Unsupported(format!(
            "the journal is on an external device (s_journal_dev {:#x}, journal UUID {uuid}); only internal journals are replayed",
            sb.journal_dev
        )));
    }
    if sb.journal_dev != 0 {
        return Err(corrupt(format!(
            "superblock names both a journal inode ({}) and a journal device ({:#x})",
            sb.journal_inum, sb.journal_dev
        )));
    }
    let inode = fs.inode(sb.journal_inum as u64)?;
    if inode.file_type() != FileType::File
        || inode.has_flag(FLAG_INLINE_DATA)
        || inode.has_flag(FLAG_ENCRYPT)
    {
        return Err(corrupt(format!(
            "journal inode {} is not a plain regular file (mode {:#o}, flags {:#x})",
            sb.journal_inum, inode.mode, inode.flags
        )));
    }
    let bs = sb.block_size;
    let journal_blocks = inode.size / bs as u64;
    let mut map = JournalMap {
        fs,
        inode,
        runs: BTreeMap::new(),
    };
    if journal_blocks == 0 {
        return Err(corrupt("the journal inode is empty"));
    }
    let js = JournalSuper::parse(&map.read(0)?, bs, journal_blocks)?;
    let mut out = Recovery::default();
    if js.has(INCOMPAT_FAST_COMMIT) {
        out.problems.push(
            "journal has fast commits: the fast-commit area was not replayed, so the very newest changes may be missing"
                .to_string(),
        );
    }
    if js.start == 0 {
        out.notes.push(
            "journal is empty (s_start is 0): nothing to replay despite needs_recovery".to_string(),
        );
        return Ok(out);
    }
    let transactions = scan(&js, |b| map.read(b))?;
    let volume_blocks = fs.vol.size() / bs as u64;
    let replay = resolve(&transactions, volume_blocks)?;
    for (target, w) in replay.blocks {
        let at = map.volume_block(w.log_block)? * bs as u64;
        out.blocks.insert(
            target,
            BlockCopy {
                at,
                escape: w.escape,
            },
        );
    }
    out.transactions = replay.transactions;
    out.revoked = replay.revoked;
    debug_assert!(out.blocks.len() <= js.maxlen as usize);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BS: usize = 1024;

    fn sb(maxlen: u32, first: u32, sequence: u32, start: u32, incompat: u32) -> Vec<u8> {
        let mut b = vec![0u8; BS];
        for (at, v) in [
            (0, JBD2_MAGIC),
            (4, BLOCK_SUPER_V2),
            (0xC, BS as u32),
            (0x10, maxlen),
            (0x14, first),
            (0x18, sequence),
            (0x1C, start),
            (0x28, incompat),
        ] {
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
        b
    }

    fn header(kind: u32, sequence: u32) -> Vec<u8> {
        let mut b = vec![0u8; BS];
        b[0..4].copy_from_slice(&JBD2_MAGIC.to_be_bytes());
        b[4..8].copy_from_slice(&kind.to_be_bytes());
        b[8..12].copy_from_slice(&sequence.to_be_bytes());
        b
    }

    /// A descriptor with old-style 8-byte tags (no 64bit, no checksums);
    /// the first tag carries a UUID, the rest SAME_UUID.
    fn descriptor(sequence: u32, targets: &[(u32, u32)]) -> Vec<u8> {
        let mut b = header(BLOCK_DESCRIPTOR, sequence);
        let mut at = 12;
        for (i, &(t, extra)) in targets.iter().enumerate() {
            let mut flags = extra;
            if i > 0 {
                flags |= TAG_SAME_UUID;
            }
            if i + 1 == targets.len() {
                flags |= TAG_LAST;
            }
            b[at..at + 4].copy_from_slice(&t.to_be_bytes());
            b[at + 6..at + 8].copy_from_slice(&(flags as u16).to_be_bytes());
            at += 8;
            if flags & TAG_SAME_UUID == 0 {
                at += 16;
            }
        }
        b
    }

    fn revoke(sequence: u32, blocks: &[u32]) -> Vec<u8> {
        let mut b = header(BLOCK_REVOKE, sequence);
        let count = 16 + 4 * blocks.len() as u32;
        b[12..16].copy_from_slice(&count.to_be_bytes());
        for (i, x) in blocks.iter().enumerate() {
            b[16 + 4 * i..20 + 4 * i].copy_from_slice(&x.to_be_bytes());
        }
        b
    }

    /// A journal of `maxlen` blocks: the superblock, then `log` placed from
    /// `start` on (wrapping at `maxlen` to block 1).
    fn journal(maxlen: u32, sequence: u32, start: u32, log: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let mut j = vec![vec![0u8; BS]; maxlen as usize];
        j[0] = sb(maxlen, 1, sequence, start, INCOMPAT_REVOKE);
        let mut pos = start as usize;
        for b in log {
            j[pos] = b;
            pos += 1;
            if pos == maxlen as usize {
                pos = 1;
            }
        }
        j
    }

    fn run(j: &[Vec<u8>], volume_blocks: u64) -> Result<Replay> {
        let js = JournalSuper::parse(&j[0], BS as u32, j.len() as u64)?;
        let txns = scan(&js, |b| {
            j.get(b as usize)
                .cloned()
                .ok_or_else(|| corrupt(format!("read of log block {b} out of range")))
        })?;
        resolve(&txns, volume_blocks)
    }

    fn data(byte: u8) -> Vec<u8> {
        vec![byte; BS]
    }

    fn targets(r: &Replay) -> Vec<(u64, u32)> {
        r.blocks.iter().map(|(&t, w)| (t, w.log_block)).collect()
    }

    #[test]
    fn committed_transactions_replay_and_later_ones_win() {
        let j = journal(
            64,
            7,
            1,
            vec![
                descriptor(7, &[(100, 0), (101, 0)]),
                data(1),
                data(2),
                header(BLOCK_COMMIT, 7),
                descriptor(8, &[(100, 0)]),
                data(3),
                header(BLOCK_COMMIT, 8),
            ],
        );
        let r = run(&j, 1000).unwrap();
        assert_eq!(r.transactions, 2);
        assert_eq!(targets(&r), vec![(100, 6), (101, 3)]);
    }

    #[test]
    fn a_transaction_without_commit_is_not_replayed() {
        let j = journal(
            64,
            1,
            1,
            vec![
                descriptor(1, &[(10, 0)]),
                data(1),
                header(BLOCK_COMMIT, 1),
                descriptor(2, &[(11, 0)]),
                data(2),
            ],
        );
        let r = run(&j, 1000).unwrap();
        assert_eq!(r.transactions, 1);
        assert_eq!(targets(&r), vec![(10, 2)]);
    }

    #[test]
    fn a_commit_with_the_wrong_sequence_ends_the_log() {
        let j = journal(
            64,
            5,
            1,
            vec![descriptor(5, &[(10, 0)]), data(1), header(BLOCK_COMMIT, 6)],
        );
        let r = run(&j, 1000).unwrap();
        assert_eq!(r.transactions, 0);
        assert!(r.blocks.is_empty());
    }

    #[test]
    fn revokes_hide_earlier_and_same_transaction_copies_only() {
        let j = journal(
            64,
            1,
            1,
            vec![
                descriptor(1, &[(10, 0), (11, 0)]),
                data(1),
                data(2),
                header(BLOCK_COMMIT, 1),
                revoke(2, &[10, 12]),
                descriptor(2, &[(12, 0)]),
                data(3),
                header(BLOCK_COMMIT, 2),
                descriptor(3, &[(10, 0)]),
                data(4),
                header(BLOCK_COMMIT, 3),
                // Uncommitted revoke: ignored.
                revoke(4, &[11]),
            ],
        );
        let r = run(&j, 1000).unwrap();
        assert_eq!(r.transactions, 3);
        // 10: revoked for 1 and 2, rewritten by 3. 12: revoked in its own
        // transaction. 11: untouched by committed revokes.
        assert_eq!(targets(&r), vec![(10, 10), (11, 3)]);
        assert_eq!(r.revoked, 2);
    }

    #[test]
    fn the_log_wraps_from_maxlen_to_first() {
        // maxlen 8: log blocks 1..8. Start at 6: descriptor 6, data 7,
        // data 1 (wrapped), commit 2.
        let j = journal(
            8,
            9,
            6,
            vec![
                descriptor(9, &[(20, 0), (21, TAG_ESCAPE)]),
                data(1),
                data(2),
                header(BLOCK_COMMIT, 9),
            ],
        );
        let r = run(&j, 1000).unwrap();
        assert_eq!(r.transactions, 1);
        assert_eq!(targets(&r), vec![(20, 7), (21, 1)]);
        assert!(r.blocks[&21].escape && !r.blocks[&20].escape);
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let j = journal(
            16,
            u32::MAX,
            1,
            vec![
                descriptor(u32::MAX, &[(10, 0)]),
                data(1),
                header(BLOCK_COMMIT, u32::MAX),
                revoke(0, &[10]),
                header(BLOCK_COMMIT, 0),
            ],
        );
        let r = run(&j, 1000).unwrap();
        assert_eq!(r.transactions, 2);
        assert!(r.blocks.is_empty(), "revoked by the later transaction 0");
    }

    #[test]
    fn tag_layouts_follow_the_feature_flags() {
        for (incompat, size) in [
            (0, 8),
            (INCOMPAT_64BIT, 12),
            (INCOMPAT_CSUM_V2, 10),
            (INCOMPAT_CSUM_V2 | INCOMPAT_64BIT, 14),
            (INCOMPAT_CSUM_V3, 16),
            (INCOMPAT_CSUM_V3 | INCOMPAT_64BIT, 16),
        ] {
            let js = JournalSuper::parse(&sb(64, 1, 1, 1, incompat), BS as u32, 64).unwrap();
            assert_eq!(js.tag_bytes(), size, "incompat {incompat:#x}");
        }
        // A v3 64-bit tag: blocknr 5, flags (be32) LAST|SAME_UUID, high 1.
        let js = JournalSuper::parse(
            &sb(64, 1, 1, 1, INCOMPAT_CSUM_V3 | INCOMPAT_64BIT),
            BS as u32,
            64,
        )
        .unwrap();
        let mut d = header(BLOCK_DESCRIPTOR, 1);
        d[12..16].copy_from_slice(&5u32.to_be_bytes());
        d[16..20].copy_from_slice(&(TAG_LAST | TAG_SAME_UUID | TAG_ESCAPE).to_be_bytes());
        d[20..24].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(
            descriptor_tags(&d, &js),
            vec![((1u64 << 32) | 5, TAG_LAST | TAG_SAME_UUID | TAG_ESCAPE)]
        );
    }

    #[test]
    fn a_descriptor_without_last_tag_is_bounded_by_its_block() {
        let js =
            JournalSuper::parse(&sb(4096, 1, 1, 1, INCOMPAT_CSUM_V3), BS as u32, 4096).unwrap();
        let mut d = header(BLOCK_DESCRIPTOR, 1);
        for at in (12..BS - 4).step_by(16) {
            if at + 16 <= BS - 4 {
                d[at + 6..at + 8].copy_from_slice(&(TAG_SAME_UUID as u16).to_be_bytes());
            }
        }
        // (1024 - 12 - 4) / 16 = 63 tags, the tail excluded.
        assert_eq!(descriptor_tags(&d, &js).len(), 63);
    }

    #[test]
    fn a_descriptor_longer_than_the_log_ends_it() {
        let mut d = header(BLOCK_DESCRIPTOR, 1);
        for at in (12..=BS - 8).step_by(8) {
            d[at + 6..at + 8].copy_from_slice(&(TAG_SAME_UUID as u16).to_be_bytes());
        }
        // Transaction 1 commits; transaction 2's descriptor claims 126
        // blocks of a 15-block log: it cannot have committed.
        let j = journal(
            16,
            1,
            1,
            vec![
                descriptor(1, &[(10, 0)]),
                data(1),
                header(BLOCK_COMMIT, 1),
                {
                    let mut d2 = d.clone();
                    d2[8..12].copy_from_slice(&2u32.to_be_bytes());
                    d2
                },
                header(BLOCK_COMMIT, 2),
            ],
        );
        let r = run(&j, 1000).unwrap();
        assert_eq!(r.transactions, 1);
        assert_eq!(targets(&r), vec![(10, 2)]);
        // Alone, it leaves nothing to replay.
        let r = run(&journal(16, 1, 1, vec![d]), 1000).unwrap();
        assert_eq!(r.transactions, 0);
    }

    #[test]
    fn targets_beyond_the_volume_are_an_error() {
        let j = journal(
            16,
            1,
            1,
            vec![
                descriptor(1, &[(5000, 0)]),
                data(1),
                header(BLOCK_COMMIT, 1),
            ],
        );
        assert!(run(&j, 1000).is_err());
        assert!(run(&j, 5001).is_ok());
    }

    #[test]
    fn a_revoke_count_larger_than_the_block_is_an_error() {
        let mut r = revoke(1, &[]);
        r[12..16].copy_from_slice(&5000u32.to_be_bytes());
        let j = journal(16, 1, 1, vec![r.clone(), header(BLOCK_COMMIT, 1)]);
        assert!(run(&j, 1000).is_err());
        // Unless its transaction never commits.
        let j = journal(
            16,
            1,
            1,
            vec![
                descriptor(1, &[(10, 0)]),
                data(1),
                header(BLOCK_COMMIT, 1),
                {
                    let mut r2 = r;
                    r2[8..12].copy_from_slice(&2u32.to_be_bytes());
                    r2
                },
            ],
        );
        assert_eq!(run(&j, 1000).unwrap().transactions, 1);
    }

    #[test]
    fn a_log_of_commits_only_ends_after_one_lap() {
        // Every block is a commit with the next sequence: the scan must stop
        // once it has gone round the log.
        let log = (0..15u32).map(|i| header(BLOCK_COMMIT, 1 + i)).collect();
        let j = journal(16, 1, 1, log);
        let r = run(&j, 1000).unwrap();
        assert_eq!(r.transactions, 15);
    }

    #[test]
    fn bad_superblocks_are_errors() {
        let good = sb(64, 1, 1, 1, 0);
        assert!(JournalSuper::parse(&good, BS as u32, 64).is_ok());
        assert!(JournalSuper::parse(&good, 4096, 64).is_err(), "block size");
        assert!(
            JournalSuper::parse(&good, BS as u32, 63).is_err(),
            "short inode"
        );
        let mut m = good.clone();
        m[0] ^= 1;
        assert!(JournalSuper::parse(&m, BS as u32, 64).is_err(), "magic");
        for (at, v) in [(4, 9u32), (0x14, 0), (0x14, 64), (0x1C, 64), (0x28, 0x40)] {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            assert!(
                JournalSuper::parse(&b, BS as u32, 64).is_err(),
                "{at:#x}={v}"
            );
        }
        assert!(JournalSuper::parse(&[], BS as u32, 64).is_err());
        let both = sb(64, 1, 1, 1, INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3);
        assert!(JournalSuper::parse(&both, BS as u32, 64).is_err());
    }

    #[test]
    fn fast_commit_blocks_are_outside_the_log() {
        let js =
            JournalSuper::parse(&sb(2048, 1, 1, 1, INCOMPAT_FAST_COMMIT), BS as u32, 2048).unwrap();
        assert_eq!(js.last, 2048 - DEFAULT_FC_BLOCKS);
        // Too small to carve out the area: the whole journal is the log.
        let js =
            JournalSuper::parse(&sb(1100, 1, 1, 1, INCOMPAT_FAST_COMMIT), BS as u32, 1100).unwrap();
        assert_eq!(js.last, 1100);
    }

    #[test]
    fn v1_superblocks_have_no_features() {
        let mut b = sb(64, 1, 1, 1, 0xFFFF);
        b[4..8].copy_from_slice(&BLOCK_SUPER_V1.to_be_bytes());
        let js = JournalSuper::parse(&b, BS as u32, 64).unwrap();
        assert_eq!(js.incompat, 0);
        assert_eq!(js.tag_bytes(), 8);
    }
}
