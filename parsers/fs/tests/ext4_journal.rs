//! In-memory jbd2 replay on images built at test time with e2fsprogs (no
//! mounting): debugfs's journal commands (`jo`, `jw`, `jc`) write real
//! transactions without checkpointing them and set needs_recovery. Our
//! reading of such an image must equal our reading of a copy that
//! `e2fsck -fy` recovered (and debugfs's reading of it), and the image must
//! stay byte-identical. Damaged journals give a note, never a failed open or
//! a panic.
//!
//! The changes to journal are made by debugfs on a scratch copy of the
//! image; the blocks that differ are then logged into the journal of the
//! original. So the replayed original must read exactly like the scratch
//! copy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use coldscan_disk::{FileSource, MemSource, ReadAt};
use coldscan_fs::ext4::Ext4;
use coldscan_fs::{read_all, FileSystem, FileType, Timestamp};

const BS: usize = 1024;

struct Tools {
    mke2fs: PathBuf,
    debugfs: PathBuf,
    e2fsck: PathBuf,
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn tools() -> Option<Tools> {
    let get = |n: &str| {
        let p = find_tool(n);
        if p.is_none() {
            println!("SKIPPED: {n} (e2fsprogs) not found");
        }
        p
    };
    Some(Tools {
        mke2fs: get("mke2fs")?,
        debugfs: get("debugfs")?,
        e2fsck: get("e2fsck")?,
    })
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

impl Tools {
    /// One read-only debugfs request.
    fn debugfs(&self, img: &Path, request: &str) -> Vec<u8> {
        run(Command::new(&self.debugfs).arg("-R").arg(request).arg(img))
    }

    /// A debugfs command file, run with the image open for writing.
    fn debugfs_w(&self, img: &Path, dir: &Path, cmds: &str) {
        let f = dir.join("cmds");
        std::fs::write(&f, cmds).unwrap();
        let out = run(Command::new(&self.debugfs)
            .arg("-w")
            .arg("-f")
            .arg(&f)
            .arg(img));
        let text = String::from_utf8_lossy(&out);
        assert!(
            !text.contains("not open") && !text.contains("Usage") && !text.contains("rror"),
            "debugfs: {text}"
        );
    }

    /// The numbers debugfs prints for `blocks PATH` / `bmap <8> N`.
    fn numbers(&self, img: &Path, request: &str) -> Vec<u64> {
        String::from_utf8_lossy(&self.debugfs(img, request))
            .split_whitespace()
            .map(|w| w.parse().unwrap())
            .collect()
    }

    /// Volume block of journal (inode 8) block `l`.
    fn journal_block(&self, img: &Path, l: u32) -> u64 {
        self.numbers(img, &format!("bmap <8> {l}"))[0]
    }

    /// `e2fsck -fy` on a copy of `img`; returns the copy.
    fn recovered_copy(&self, img: &Path, name: &str) -> PathBuf {
        let copy = img.with_file_name(name);
        std::fs::copy(img, &copy).unwrap();
        let out = Command::new(&self.e2fsck)
            .arg("-fy")
            .arg(&copy)
            .output()
            .unwrap();
        // 0: clean, 1: errors corrected (journal recovery counts as such
        // in some versions).
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "e2fsck: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        copy
    }
}

/// The source tree every image starts from.
fn tree(dir: &Path) -> PathBuf {
    let t = dir.join("tree");
    std::fs::create_dir_all(t.join("etc")).unwrap();
    std::fs::create_dir_all(t.join("usr/bin")).unwrap();
    std::fs::write(t.join("etc/hostname"), "myhost\n").unwrap();
    std::fs::write(t.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(t.join("etc/motd"), "welcome\n").unwrap();
    std::fs::write(t.join("etc/issue"), "Debian GNU/Linux\n").unwrap();
    std::fs::write(t.join("etc/removed"), "to be deleted\n").unwrap();
    // Several blocks, so reads cross replayed and untouched blocks.
    let big: Vec<u8> = (0..9000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(t.join("usr/bin/tool"), big).unwrap();
    std::os::unix::fs::symlink("../etc/hostname", t.join("usr/hn")).unwrap();
    t
}

fn mkfs(t: &Tools, dir: &Path, name: &str, fs_type: &str, opts: &[&str]) -> PathBuf {
    let img = dir.join(name);
    let src = tree(dir);
    run(Command::new(&t.mke2fs)
        .args(["-q", "-F", "-t", fs_type, "-b", "1024"])
        .args(opts)
        .arg("-d")
        .arg(&src)
        .arg(&img)
        .arg("8M"));
    img
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    file_type: FileType,
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
    size: u64,
    nlink: u32,
    mtime: Option<Timestamp>,
    /// File contents or symlink target; an error as text.
    data: Result<Vec<u8>, String>,
}

/// Every path under `/` with its metadata and contents. Errors are kept in
/// the result (never panics), so damaged volumes can be walked too.
fn walk(fs: &dyn FileSystem) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(String::new(), fs.root(), 0)];
    let mut seen = std::collections::HashSet::new();
    while let Some((path, dir, depth)) = stack.pop() {
        if depth > 16 || !seen.insert(dir) {
            continue;
        }
        let entries = match fs.read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                out.insert(format!("{path}/<error>"), error_node(e.to_string()));
                continue;
            }
        };
        for e in entries {
            let p = format!("{path}/{}", String::from_utf8_lossy(&e.name));
            let Ok(m) = fs.metadata(e.node) else {
                out.insert(p, error_node("metadata".into()));
                continue;
            };
            let data = match m.file_type {
                FileType::File => read_all(fs, e.node, 1 << 20).map_err(|e| e.to_string()),
                FileType::Symlink => fs.read_link(e.node).map_err(|e| e.to_string()),
                _ => Ok(Vec::new()),
            };
            if m.file_type == FileType::Dir {
                stack.push((p.clone(), e.node, depth + 1));
            }
            out.insert(
                p,
                Node {
                    file_type: m.file_type,
                    mode: m.mode,
                    uid: m.uid,
                    gid: m.gid,
                    size: m.size,
                    nlink: m.nlink,
                    mtime: m.mtime,
                    data,
                },
            );
        }
    }
    out
}

fn error_node(e: String) -> Node {
    Node {
        file_type: FileType::Unknown,
        mode: None,
        uid: None,
        gid: None,
        size: 0,
        nlink: 0,
        mtime: None,
        data: Err(e),
    }
}

fn open_file(p: &Path) -> Ext4 {
    let vol: Arc<dyn ReadAt> = Arc::new(FileSource::open(p).unwrap());
    Ext4::open(vol).unwrap()
}

fn open_bytes(b: Vec<u8>) -> Result<Ext4, coldscan_fs::FsError> {
    let vol: Arc<dyn ReadAt> = Arc::new(MemSource::new(b));
    Ext4::open(vol)
}

fn assert_no_errors(w: &BTreeMap<String, Node>, what: &str) {
    for (p, n) in w {
        assert!(n.data.is_ok(), "{what}: {p}: {:?}", n.data);
    }
}

fn notes(fs: &Ext4) -> String {
    let info = fs.info();
    [info.notes.as_slice(), info.problems.as_slice()]
        .concat()
        .join(" | ")
}

fn block(img: &[u8], b: u64) -> &[u8] {
    &img[b as usize * BS..(b as usize + 1) * BS]
}

fn block_mut(img: &mut [u8], b: u64) -> &mut [u8] {
    &mut img[b as usize * BS..(b as usize + 1) * BS]
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn put_be32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// An image with a journal to replay.
struct Scenario {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    /// Before any change.
    original: PathBuf,
    /// The changes applied directly: what the replayed image must read as.
    expected: PathBuf,
    /// `original` plus the changes in uncheckpointed journal transactions.
    journaled: PathBuf,
    /// Filesystem blocks the changes touch.
    changed: Vec<u64>,
    /// Data block of /etc/issue: logged with garbage, then revoked.
    revoked: u64,
}

/// Transactions logged, in order: (1) garbage for /etc/issue's data
/// block, (2) a revoke of that block, (3) the first half of the changed
/// blocks, (4) a revoke of the first block of the second half, (5) the
/// second half (rewriting the revoked block).
const TRANSACTIONS: usize = 5;

fn scenario(t: &Tools, fs_type: &str, mkfs_opts: &[&str], journal_open: &str) -> Scenario {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let original = mkfs(t, &dir, "original.img", fs_type, mkfs_opts);
    let expected = dir.join("expected.img");
    std::fs::copy(&original, &expected).unwrap();

    // Changes: contents, mode and owner, a new directory, a file whose
    // first block starts with the jbd2 magic (logged escaped), a rename
    // (ln + unlink keep the link count), a deletion, a new symlink, and a
    // new volume label (in the superblock).
    let esc = dir.join("escaped");
    let mut e = 0xC03B_3998u32.to_be_bytes().to_vec();
    e.extend_from_slice(b" this block starts with the jbd2 magic\n");
    std::fs::write(&esc, e).unwrap();
    t.debugfs_w(
        &expected,
        &dir,
        &format!(
            "sif /etc/passwd mode 0100600\nsif /etc/passwd uid 1234\nsif /etc/passwd gid 99\n\
             mkdir /newdir\nwrite {} /newdir/escaped\nln /etc/motd /etc/motd.renamed\n\
             unlink /etc/motd\nrm /etc/removed\nsymlink /newlink /etc/hostname\nssv volume_name replayed\n",
            esc.display()
        ),
    );
    // New contents for /etc/hostname, same length.
    let hb = t.numbers(&expected, "blocks /etc/hostname")[0];
    let mut exp = std::fs::read(&expected).unwrap();
    block_mut(&mut exp, hb)[..7].copy_from_slice(b"newhst\n");
    std::fs::write(&expected, &exp).unwrap();

    let orig = std::fs::read(&original).unwrap();
    let changed: Vec<u64> = (0..(orig.len() / BS) as u64)
        .filter(|&b| block(&orig, b) != block(&exp, b))
        .collect();
    assert!(changed.len() >= 6, "changes touch {changed:?}");
    let revoked = t.numbers(&original, "blocks /etc/issue")[0];
    assert!(!changed.contains(&revoked));

    let write_set = |name: &str, blocks: &[u64]| -> String {
        let f = dir.join(name);
        let data: Vec<u8> = blocks
            .iter()
            .flat_map(|&b| block(&exp, b).to_vec())
            .collect();
        std::fs::write(&f, data).unwrap();
        let list: Vec<String> = blocks.iter().map(|b| b.to_string()).collect();
        format!("jw -b {} {}\n", list.join(","), f.display())
    };
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, vec![b'X'; BS]).unwrap();
    let (first, second) = changed.split_at(changed.len() / 2);
    let cmds = format!(
        "{journal_open}\njw -b {revoked} {}\njw -r {revoked}\n{}jw -r {}\n{}jc\n",
        garbage.display(),
        write_set("first", first),
        second[0],
        write_set("second", second),
    );
    let journaled = dir.join("journaled.img");
    std::fs::copy(&original, &journaled).unwrap();
    t.debugfs_w(&journaled, &dir, &cmds);
    Scenario {
        _dir: tmp,
        dir,
        original,
        expected,
        journaled,
        changed,
        revoked,
    }
}

/// The journal superblock's incompat flags, as the image stores them.
fn journal_incompat(t: &Tools, img: &Path) -> u32 {
    let bytes = std::fs::read(img).unwrap();
    be32(block(&bytes, t.journal_block(img, 0)), 0x28)
}

fn check_scenario(fs_type: &str, mkfs_opts: &[&str], journal_open: &str, incompat: u32) {
    let Some(t) = tools() else { return };
    let s = scenario(&t, fs_type, mkfs_opts, journal_open);
    assert_eq!(
        journal_incompat(&t, &s.journaled),
        incompat,
        "journal features"
    );
    let before = std::fs::read(&s.journaled).unwrap();

    let fs = open_file(&s.journaled);
    let n = notes(&fs);
    assert!(
        n.contains(&format!(
            "journal replayed in memory: {TRANSACTIONS} transactions, {} blocks, 1 revoked copy skipped (the image is unchanged)",
            s.changed.len()
        )),
        "{n}"
    );
    let ours = walk(&fs);
    assert_no_errors(&ours, "replayed");
    // The superblock was read again through the replayed blocks.
    assert_eq!(fs.info().label.as_deref(), Some("replayed"));
    assert_eq!(open_file(&s.original).info().label, None);

    // What the changes should give, read directly.
    let expected = walk(&open_file(&s.expected));
    assert_eq!(ours, expected, "replayed journal differs from the changes");
    // The journal really mattered.
    assert_ne!(ours, walk(&open_file(&s.original)));

    // e2fsck's recovery agrees, path by path.
    let recovered = t.recovered_copy(&s.journaled, "recovered.img");
    let theirs = walk(&open_file(&recovered));
    assert_eq!(ours.len(), theirs.len());
    for (p, node) in &ours {
        assert_eq!(Some(node), theirs.get(p), "{fs_type}: {p}");
    }
    // And so does debugfs reading the recovered copy.
    for (p, node) in &ours {
        if node.file_type == FileType::File {
            let cat = t.debugfs(&recovered, &format!("cat {p}"));
            assert_eq!(Ok(&cat), node.data.as_ref(), "debugfs cat {p}");
        }
    }

    // Specific facts.
    let get = |p: &str| ours.get(p).unwrap_or_else(|| panic!("{p} missing"));
    assert_eq!(get("/etc/hostname").data.as_deref(), Ok(&b"newhst\n"[..]));
    let pw = get("/etc/passwd");
    assert_eq!(
        (pw.mode, pw.uid, pw.gid),
        (Some(0o600), Some(1234), Some(99))
    );
    assert_eq!(
        get("/etc/issue").data.as_deref(),
        Ok(&b"Debian GNU/Linux\n"[..]),
        "the revoked garbage for block {} was replayed",
        s.revoked
    );
    assert!(get("/etc/motd.renamed").data.is_ok());
    assert!(!ours.contains_key("/etc/motd") && !ours.contains_key("/etc/removed"));
    assert!(get("/newdir/escaped")
        .data
        .as_ref()
        .unwrap()
        .starts_with(&0xC03B_3998u32.to_be_bytes()));
    assert_eq!(get("/newlink").data.as_deref(), Ok(&b"/etc/hostname"[..]));
    assert_eq!(get("/usr/bin/tool").size, 9000);

    // The image was only read.
    drop(fs);
    assert!(
        std::fs::read(&s.journaled).unwrap() == before,
        "image modified"
    );
    let _ = &s.dir;
}

#[test]
fn ext4_metadata_csum_journal_v3_replays_like_e2fsck() {
    // REVOKE | 64BIT | CSUM_V3: 16-byte tags, checksum tails.
    check_scenario("ext4", &[], "jo -c", 0x13);
}

#[test]
fn ext4_64bit_journal_without_checksums_replays_like_e2fsck() {
    // REVOKE | 64BIT: 12-byte tags.
    check_scenario("ext4", &["-O", "^metadata_csum"], "jo", 0x3);
}

#[test]
fn ext3_block_mapped_journal_replays_like_e2fsck() {
    // REVOKE only: 8-byte tags; the journal inode uses indirect blocks.
    check_scenario("ext3", &[], "jo", 0x1);
}

/// A journaled image without checksums (so hand edits keep e2fsck as an
/// oracle) and facts about its log.
struct Plain {
    s: Scenario,
    img: Vec<u8>,
    /// Volume block of each journal block 0..maxlen.
    jmap: Vec<u64>,
    /// Log blocks in use, from s_start, in order.
    used: usize,
}

fn plain(t: &Tools) -> Plain {
    let s = scenario(t, "ext4", &["-O", "^metadata_csum"], "jo");
    let img = std::fs::read(&s.journaled).unwrap();
    let jsb_at = t.journal_block(&s.journaled, 0);
    let jsb = block(&img, jsb_at);
    let maxlen = be32(jsb, 0x10);
    assert_eq!((be32(jsb, 0x14), be32(jsb, 0x1C)), (1, 1), "log at 1");
    // One debugfs call for the whole map: `stat <8>` lists the extents.
    let jmap = journal_map(t, &s.journaled, maxlen);
    assert_eq!(jmap[0], jsb_at);
    // 1 + 1 + 1, 1 + 1, 1 + n1 + 1, 1 + 1, 1 + n2 + 1
    let used = 3 + 2 + (s.changed.len() + 4) + 2;
    Plain { s, img, jmap, used }
}

/// Journal block -> volume block, from the extents `stat <8>` prints
/// ("(0-1):80-81, (2-16):83-97, ...").
fn journal_map(t: &Tools, img: &Path, maxlen: u32) -> Vec<u64> {
    let text = String::from_utf8_lossy(&t.debugfs(img, "stat <8>")).into_owned();
    let mut map = vec![0u64; maxlen as usize];
    let ext = text.split("EXTENTS:").nth(1).expect("extents");
    for part in ext.split(',') {
        let part = part.trim();
        let Some((l, p)) = part.strip_prefix('(').and_then(|r| r.split_once("):")) else {
            continue;
        };
        let range = |s: &str| -> (u64, u64) {
            match s.split_once('-') {
                Some((a, b)) => (a.trim().parse().unwrap(), b.trim().parse().unwrap()),
                None => {
                    let a = s.trim().parse().unwrap();
                    (a, a)
                }
            }
        };
        let ((l0, l1), (p0, _)) = (range(l), range(p));
        for i in l0..=l1 {
            if (i as usize) < map.len() {
                map[i as usize] = p0 + (i - l0);
            }
        }
    }
    assert!(map.iter().all(|&b| b != 0), "journal map incomplete");
    map
}

impl Plain {
    fn log(&self, l: usize) -> &[u8] {
        block(&self.img, self.jmap[l])
    }
    fn log_mut(&mut self, l: usize) -> &mut [u8] {
        let b = self.jmap[l];
        block_mut(&mut self.img, b)
    }
    /// Writes the edited image next to the others; returns its path.
    fn save(&self, name: &str) -> PathBuf {
        let p = self.s.dir.join(name);
        std::fs::write(&p, &self.img).unwrap();
        p
    }
}

#[test]
fn a_log_that_wraps_replays_like_e2fsck() {
    let Some(t) = tools() else { return };
    let mut p = plain(&t);
    let maxlen = p.jmap.len();
    let old: Vec<Vec<u8>> = (1..=p.used).map(|l| p.log(l).to_vec()).collect();
    // Transaction 3's descriptor is log block 6; put it two blocks before
    // the end so its data wraps from maxlen - 1 to block 1.
    assert_eq!(be32(&old[5], 4), 1, "descriptor at log block 6");
    let start = maxlen - 7;
    for l in 1..=p.used {
        p.log_mut(l).fill(0);
    }
    for (i, b) in old.iter().enumerate() {
        let mut pos = start + i;
        if pos >= maxlen {
            pos -= maxlen - 1;
        }
        p.log_mut(pos).copy_from_slice(b);
    }
    put_be32(p.log_mut(0), 0x1C, start as u32);
    let path = p.save("wrapped.img");

    let fs = open_file(&path);
    assert!(
        notes(&fs).contains(&format!(
            "{TRANSACTIONS} transactions, {} blocks",
            p.s.changed.len()
        )),
        "{}",
        notes(&fs)
    );
    let ours = walk(&fs);
    assert_no_errors(&ours, "wrapped");
    assert_eq!(ours, walk(&open_file(&p.s.expected)));
    let recovered = t.recovered_copy(&path, "wrapped-recovered.img");
    assert_eq!(ours, walk(&open_file(&recovered)));
}

#[test]
fn a_commit_with_the_wrong_sequence_ends_the_log_like_e2fsck() {
    let Some(t) = tools() else { return };
    let mut p = plain(&t);
    // Log: 1 descriptor, 2 garbage data, 3 commit (T1), 4 revoke, 5 commit
    // (T2). Give T2's commit another sequence: T2 (the revoke) is not
    // committed, so T1's garbage for /etc/issue is replayed, and the log
    // ends there.
    assert_eq!((be32(p.log(5), 4), be32(p.log(5), 8)), (2, 2));
    put_be32(p.log_mut(5), 8, 77);
    let path = p.save("bad-commit.img");
    let fs = open_file(&path);
    assert!(
        notes(&fs).contains("journal replayed in memory: 1 transaction, 1 block"),
        "{}",
        notes(&fs)
    );
    let ours = walk(&fs);
    let issue = ours["/etc/issue"].data.clone().unwrap();
    assert!(issue.iter().all(|&c| c == b'X'), "{issue:?}");
    let recovered = t.recovered_copy(&path, "bad-commit-recovered.img");
    assert_eq!(ours, walk(&open_file(&recovered)));
}

/// A damaged journal: the open succeeds, a note says why nothing was
/// replayed, and the volume reads as on disk.
fn assert_not_replayed(p: &Plain, path: &Path, why: &str) {
    let fs = open_file(path);
    let n = notes(&fs);
    assert!(
        n.contains("journal could not be replayed") && n.contains(why),
        "{n}"
    );
    assert_eq!(walk(&fs), walk(&open_file(&p.s.original)));
}

#[test]
fn a_corrupt_journal_superblock_is_a_note() {
    let Some(t) = tools() else { return };
    let mut p = plain(&t);
    p.log_mut(0)[0] ^= 0xFF;
    let path = p.save("bad-jsb.img");
    assert_not_replayed(&p, &path, "magic");

    let mut p = plain(&t);
    put_be32(p.log_mut(0), 0x1C, 5000); // s_start outside the log
    let path = p.save("bad-start.img");
    assert_not_replayed(&p, &path, "log start 5000");
}

#[test]
fn a_descriptor_with_too_many_tags_is_a_note() {
    let Some(t) = tools() else { return };
    let mut p = plain(&t);
    // T3's descriptor (log block 6): 12-byte tags without LAST_TAG all the
    // way to the end of the block, naming blocks far beyond the volume.
    let d = p.log_mut(6);
    assert_eq!(be32(d, 4), 1);
    let mut tags = 0;
    for at in (12..=BS - 12).step_by(12) {
        put_be32(d, at, 0x7FFF_0000);
        d[at + 6..at + 8].copy_from_slice(&2u16.to_be_bytes()); // SAME_UUID
        put_be32(d, at + 8, 0);
        tags += 1;
    }
    // Its data now runs over where its commit was: T3 is not committed,
    // so only T1 and T2 count (and T2 revokes T1's one block).
    for l in 7..=7 + tags {
        p.log_mut(l).fill(0);
    }
    let path = p.save("many-tags.img");
    let fs = open_file(&path);
    assert!(
        notes(&fs).contains("2 transactions, 0 blocks, 1 revoked copy skipped"),
        "{}",
        notes(&fs)
    );
    let ours = walk(&fs);
    assert_eq!(ours, walk(&open_file(&p.s.original)));
    let recovered = t.recovered_copy(&path, "many-tags-recovered.img");
    assert_eq!(ours, walk(&open_file(&recovered)));

    // With a commit after its data, T3 counts, and its targets are
    // impossible: nothing is replayed.
    let c = p.log_mut(7 + tags);
    put_be32(c, 0, 0xC03B_3998);
    put_be32(c, 4, 2);
    put_be32(c, 8, 3);
    let path = p.save("many-tags-committed.img");
    assert_not_replayed(&p, &path, "beyond the volume");
}

#[test]
fn a_truncated_journal_is_a_note() {
    let Some(t) = tools() else { return };
    // The journal superblock claims more blocks than the journal inode has.
    let mut p = plain(&t);
    let maxlen = p.jmap.len() as u32;
    put_be32(p.log_mut(0), 0x10, maxlen * 4);
    let path = p.save("long-maxlen.img");
    assert_not_replayed(&p, &path, "its inode holds");

    // The image ends inside the log: opening still works.
    let p = plain(&t);
    let cut = p.jmap[7] as usize * BS;
    for bytes in [p.img[..cut].to_vec(), p.img[..cut + 100].to_vec()] {
        let fs = open_bytes(bytes).expect("open a truncated image");
        assert!(
            notes(&fs).contains("journal could not be replayed"),
            "{}",
            notes(&fs)
        );
        let _ = walk(&fs);
    }
}

#[test]
fn an_external_journal_is_a_note() {
    let Some(t) = tools() else { return };
    let mut p = plain(&t);
    // s_journal_inum = 0, s_journal_dev = 0x0801 in the ext4 superblock.
    p.img[1024 + 0xE0..1024 + 0xE4].copy_from_slice(&0u32.to_le_bytes());
    p.img[1024 + 0xE4..1024 + 0xE8].copy_from_slice(&0x0801u32.to_le_bytes());
    let path = p.save("external.img");
    assert_not_replayed(&p, &path, "external device");
}

#[test]
fn fast_commit_journals_replay_with_a_note() {
    let Some(t) = tools() else { return };
    let s = scenario(&t, "ext4", &["-O", "^metadata_csum,fast_commit"], "jo");
    // debugfs leaves the journal's FAST_COMMIT flag to the kernel: set it
    // (the fast-commit area, after the main log, is empty).
    let mut img = std::fs::read(&s.journaled).unwrap();
    let jsb = t.journal_block(&s.journaled, 0);
    let flags = be32(block(&img, jsb), 0x28);
    put_be32(block_mut(&mut img, jsb), 0x28, flags | 0x20);
    let fs = open_bytes(img).unwrap();
    let n = notes(&fs);
    assert!(n.contains("fast-commit area was not replayed"), "{n}");
    assert!(n.contains("5 transactions"), "{n}");
    assert_eq!(walk(&fs), walk(&open_file(&s.expected)));
}

/// Deterministic xorshift, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_damage_to_the_journal_never_fails_the_open() {
    let Some(t) = tools() else { return };
    let p = plain(&t);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut replayed = 0;
    for _ in 0..120 {
        let mut img = p.img.clone();
        for _ in 0..(rng.next() % 8 + 1) {
            // The journal superblock's first fields or the live log.
            let l = (rng.next() % (p.used as u64 + 1)) as usize;
            let within = if l == 0 {
                rng.next() % 0x60
            } else {
                rng.next() % 64
            } as usize;
            img[p.jmap[l] as usize * BS + within] = rng.next() as u8;
        }
        let fs = open_bytes(img).expect("open never fails on journal damage");
        let n = notes(&fs);
        assert!(n.contains("journal"), "{n}");
        replayed += n.contains("journal replayed in memory") as u32;
        let _ = walk(&fs);
    }
    println!("{replayed} of 120 damaged journals still replayed");
}
