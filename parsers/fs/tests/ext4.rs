//! The ext reader on the committed fixture volumes: file contents agree
//! with ext4-view (an independent reader), and damaged volumes (truncated,
//! bytes flipped in the metadata, a directory linked into itself, absurd
//! counts) give errors, never panics or hangs.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use coldscan_disk::{MemSource, ReadAt};
use coldscan_fs::ext4::Ext4;
use coldscan_fs::rootfs::{Mount, RootFs, WalkOptions};
use coldscan_fs::{FileSystem, FileType};

/// Fixture image bytes (fixtures/images/NAME.img.gz).
fn image(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/images")
        .join(format!("{name}.img.gz"));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("fixture image"))
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The ext volumes of the fixtures: (name, bytes).
fn volumes() -> Vec<(String, Vec<u8>)> {
    let slice = |d: &[u8], start: usize, len: usize| d[start..start + len].to_vec();
    let gpt = image("gpt-linux");
    let mbr = image("mbr-extended");
    let k4 = image("gpt-4k");
    vec![
        ("bare-ext4".into(), image("bare-ext4")),
        ("gpt-linux p1".into(), slice(&gpt, 1048576, 24576 * 512)),
        ("gpt-linux p2".into(), slice(&gpt, 13631488, 20480 * 512)),
        ("mbr-extended p1".into(), slice(&mbr, 1048576, 20480 * 512)),
        (
            "mbr-extended p6 (ext2)".into(),
            slice(&mbr, 19922944, 10240 * 512),
        ),
        ("gpt-4k p1".into(), slice(&k4, 1048576, 3072 * 4096)),
    ]
}

fn rootfs(bytes: Vec<u8>) -> Result<RootFs, coldscan_fs::FsError> {
    let vol: Arc<dyn ReadAt> = Arc::new(MemSource::new(bytes));
    let fs: Arc<dyn FileSystem> = Arc::new(Ext4::open(vol)?);
    RootFs::new(vec![Mount::new("/", fs, 0)])
}

/// Walks everything and reads every file and link; returns entries seen.
fn exercise(root: &RootFs) -> usize {
    let mut files = Vec::new();
    let mut n = 0;
    let _ = root.walk(
        b"/",
        WalkOptions {
            recursive: true,
            metadata: true,
        },
        &mut |e| {
            n += 1;
            if e.file_type == FileType::File {
                files.push(e.path);
            }
        },
    );
    for f in files {
        let _ = root.read_file(&f, 1 << 24);
    }
    n
}

#[test]
fn contents_and_modes_agree_with_ext4_view() {
    for (name, bytes) in volumes() {
        let oracle = ext4_view::Ext4::load(Box::new(bytes.clone())).expect("ext4-view loads");
        let root = rootfs(bytes).unwrap();
        let mut paths = Vec::new();
        root.walk(
            b"/",
            WalkOptions {
                recursive: true,
                metadata: true,
            },
            &mut |e| paths.push((e.path, e.file_type, e.metadata.unwrap().unwrap())),
        )
        .unwrap();
        let mut files = 0;
        for (path, ft, meta) in &paths {
            let Ok(text) = std::str::from_utf8(path) else {
                continue; // ext4-view's paths are UTF-8 only
            };
            if *ft == FileType::File {
                let ours = root.read_file(path, 1 << 30).unwrap();
                let theirs = oracle.read(text).unwrap();
                assert_eq!(ours, theirs, "{name}: {text} content differs");
                files += 1;
            }
            if *ft != FileType::Symlink {
                let m = oracle.metadata(text).unwrap();
                assert_eq!(
                    meta.mode,
                    Some(m.mode() as u32 & 0o7777),
                    "{name}: {text} mode"
                );
                assert_eq!(meta.uid, Some(m.uid()), "{name}: {text} uid");
                assert_eq!(meta.gid, Some(m.gid()), "{name}: {text} gid");
                assert_eq!(meta.size, m.len(), "{name}: {text} size");
            }
        }
        assert!(files > 0, "{name}: no files compared");
    }
}

#[test]
fn truncated_volumes_do_not_panic() {
    for (name, bytes) in volumes() {
        let len = bytes.len();
        for cut in [
            0,
            1023,
            1024,
            2047,
            2048,
            4096,
            8192,
            len / 8,
            len / 4,
            len / 2,
            len - 1,
        ] {
            if let Ok(root) = rootfs(bytes[..cut].to_vec()) {
                exercise(&root);
            }
            let _ = name;
        }
    }
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
fn flipped_metadata_bytes_do_not_panic() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for (_, bytes) in volumes().into_iter().take(3) {
        // Superblock, group descriptors, bitmaps and the first inode
        // tables and directory blocks all sit in the first 400 KiB.
        let hot = bytes.len().min(400 << 10);
        for _ in 0..150 {
            let mut d = bytes.clone();
            for _ in 0..(rng.next() % 32 + 1) {
                let at = (rng.next() as usize) % hot;
                d[at] = rng.next() as u8;
            }
            if let Ok(root) = rootfs(d) {
                exercise(&root);
            }
        }
    }
}

/// Offset of the directory block holding `name`'s entry in the root of a
/// bare-ext4 volume, found by searching for the name.
fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn directory_linked_into_itself_is_listed_once() {
    let mut d = image("bare-ext4");
    // Point the entry for "private" (a directory) at the root inode 2: the
    // tree now contains itself.
    let at = find_bytes(&d, b"private").expect("entry name") - 8;
    d[at..at + 4].copy_from_slice(&2u32.to_le_bytes());
    let root = rootfs(d).unwrap();
    let mut errors = Vec::new();
    let mut n = 0;
    root.walk(
        b"/",
        WalkOptions {
            recursive: true,
            metadata: true,
        },
        &mut |e| {
            n += 1;
            if let Some(err) = e.dir_error {
                errors.push(err.to_string());
            }
        },
    )
    .unwrap();
    assert!(n < 100, "{n} entries: the walk did not stop");
    assert!(
        errors.iter().any(|e| e.contains("more than one place")),
        "{errors:?}"
    );
    // Lookups through the loop still end.
    let r = root
        .resolve(b"/private/private/private/README", true)
        .unwrap();
    assert_eq!(r.path, b"/private/private/private/README");
}

#[test]
fn absurd_superblock_counts_are_errors() {
    let base = image("bare-ext4");
    let patch = |at: usize, v: &[u8]| {
        let mut d = base.clone();
        d[1024 + at..1024 + at + v.len()].copy_from_slice(v);
        d
    };
    for (what, d) in [
        ("blocks count", patch(0x4, &u32::MAX.to_le_bytes())),
        ("log block size", patch(0x18, &40u32.to_le_bytes())),
        ("blocks per group", patch(0x20, &0u32.to_le_bytes())),
        ("inodes per group", patch(0x28, &u32::MAX.to_le_bytes())),
        ("inode size", patch(0x58, &3u16.to_le_bytes())),
        ("first data block", patch(0x14, &u32::MAX.to_le_bytes())),
    ] {
        let vol: Arc<dyn ReadAt> = Arc::new(MemSource::new(d));
        assert!(Ext4::open(vol).is_err(), "{what}: accepted");
    }
    // A huge inode count with sane geometry opens, but lookups of inodes
    // beyond the group table fail cleanly.
    let d = patch(0x0, &u32::MAX.to_le_bytes());
    let vol: Arc<dyn ReadAt> = Arc::new(MemSource::new(d));
    let fs = Ext4::open(vol).unwrap();
    assert!(fs.metadata(4_000_000_000).is_err());
}

/// Runs a shell command, panicking with its stderr on failure.
fn sh(cmd: &str) {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env(
            "PATH",
            "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn xattrs_in_inode_and_in_block_are_read() {
    let have = std::process::Command::new("sh")
        .arg("-c")
        .arg("PATH=$PATH:/usr/sbin:/sbin command -v debugfs && PATH=$PATH:/usr/sbin:/sbin command -v mke2fs")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("SKIPPED: debugfs/mke2fs not found (Debian package e2fsprogs)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    // A file capability as setcap writes it (cap_net_raw+ep, version 2),
    // small enough for the inode; and a 600-byte value that needs the
    // external attribute block.
    let cap: Vec<u8> = [
        0x01u8, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]
    .to_vec();
    std::fs::write(dir.path().join("cap"), &cap).unwrap();
    let big: Vec<u8> = (0..600u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(dir.path().join("big"), &big).unwrap();
    std::fs::create_dir(dir.path().join("tree")).unwrap();
    std::fs::write(dir.path().join("tree/ping"), b"ELF").unwrap();
    sh(&format!(
        "mke2fs -q -F -t ext4 -b 1024 -I 256 -d {d}/tree {d}/x.img 4M && \
         debugfs -w -R 'ea_set -f {d}/cap /ping security.capability' {d}/x.img && \
         debugfs -w -R 'ea_set -f {d}/big /ping user.big' {d}/x.img"
    ));
    let vol: Arc<dyn ReadAt> = Arc::new(MemSource::new(
        std::fs::read(dir.path().join("x.img")).unwrap(),
    ));
    let fs = Ext4::open(vol).unwrap();
    let ping = fs.lookup(fs.root(), b"ping").unwrap().unwrap().node;
    let attrs = fs.xattrs(ping).unwrap();
    let get = |n: &[u8]| attrs.iter().find(|a| a.name == n).map(|a| a.value.clone());
    assert_eq!(get(b"security.capability"), Some(cap));
    assert!(
        get(b"user.big") == Some(big),
        "user.big missing or wrong: {:?}",
        attrs
            .iter()
            .map(|a| String::from_utf8_lossy(&a.name).into_owned())
            .collect::<Vec<_>>()
    );
}
