//! Differential test: `coldscan ls --recursive --long --json` against
//! debugfs (e2fsprogs) on every ext2/3/4 volume of the fixture images, for
//! every path: same names, types, modes, uids, gids and sizes.
//!
//! Set `COLDSCAN_DIFF_IMAGE=/path/to/disk.img` to run the same comparison
//! on any other image (the benchmark's Debian root image, for instance).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;

use common::{coldscan_json, fixture, have_tool};
use serde_json::Value;

/// One entry as both tools describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    inode: u64,
    type_bits: u32,
    perm: u32,
    uid: u32,
    gid: u32,
    size: Option<u64>,
}

fn type_bits(t: &str) -> u32 {
    match t {
        "file" => 0o100000,
        "dir" => 0o040000,
        "symlink" => 0o120000,
        "char" => 0o020000,
        "block" => 0o060000,
        "fifo" => 0o010000,
        "socket" => 0o140000,
        other => panic!("unexpected type {other}"),
    }
}

fn path_bytes(e: &Value) -> Vec<u8> {
    match e.get("path_hex").and_then(Value::as_str) {
        Some(hex) => (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect(),
        None => e["path"].as_str().unwrap().as_bytes().to_vec(),
    }
}

/// Runs debugfs with one command per line of `commands` on the volume at
/// `offset` and returns its stdout split per command.
fn debugfs(image: &Path, offset: u64, commands: &[Vec<u8>]) -> Vec<Vec<Vec<u8>>> {
    let dir = tempfile::tempdir().unwrap();
    let cmdfile = dir.path().join("cmds");
    let mut script = Vec::new();
    for c in commands {
        script.extend_from_slice(c);
        script.push(b'\n');
    }
    std::fs::write(&cmdfile, &script).unwrap();
    let out = Command::new("debugfs")
        .arg("-f")
        .arg(&cmdfile)
        .arg(format!("{}?offset={offset}", image.display()))
        .output()
        .expect("run debugfs");
    assert!(out.status.success(), "debugfs failed");
    // debugfs echoes each command as "debugfs: CMD" before its output.
    let mut blocks: Vec<Vec<Vec<u8>>> = Vec::new();
    for line in out.stdout.split(|&b| b == b'\n') {
        if line.starts_with(b"debugfs: ") {
            blocks.push(Vec::new());
        } else if let Some(b) = blocks.last_mut() {
            if !line.is_empty() {
                b.push(line.to_vec());
            }
        }
    }
    assert_eq!(blocks.len(), commands.len(), "one output block per command");
    blocks
}

/// Quotes a path for debugfs' command parser.
fn quote(path: &[u8]) -> Vec<u8> {
    let mut q = b"\"".to_vec();
    q.extend_from_slice(path);
    q.push(b'"');
    q
}

/// Parses a `ls -p` line: `/ino/mode/uid/gid/name/size/`.
fn parse_ls_p(line: &[u8]) -> (Vec<u8>, Facts) {
    let fields: Vec<&[u8]> = line.split(|&b| b == b'/').collect();
    let n = fields.len();
    assert!(
        n >= 8,
        "unexpected debugfs ls -p line {:?}",
        String::from_utf8_lossy(line)
    );
    let num = |f: &[u8]| String::from_utf8_lossy(f).parse::<u64>().unwrap();
    let mode = u32::from_str_radix(&String::from_utf8_lossy(fields[2]), 8).unwrap();
    // The name may not contain '/', so it is exactly field 5.
    let size_field = fields[n - 2];
    (
        fields[5].to_vec(),
        Facts {
            inode: num(fields[1]),
            type_bits: mode & 0o170000,
            perm: mode & 0o7777,
            uid: num(fields[3]) as u32,
            gid: num(fields[4]) as u32,
            size: (!size_field.is_empty()).then(|| num(size_field)),
        },
    )
}

/// Compares coldscan with debugfs on every ext volume mounted in `image`.
/// Returns the number of entries compared.
fn compare(image: &Path) -> usize {
    let img = image.to_str().unwrap();
    let inspect = coldscan_json(&["inspect", "--json", img]);
    let listing = coldscan_json(&["ls", "--recursive", "--long", "--json", img, "/"]);
    let entries = listing.as_array().unwrap();
    let start_of: HashMap<u64, u64> = inspect["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["index"].as_u64().unwrap(), p["start"].as_u64().unwrap()))
        .collect();
    let mounts: Vec<(String, u64)> = inspect["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["mount_point"].as_str().unwrap().to_string(),
                m["partition"].as_u64().unwrap(),
            )
        })
        .collect();
    let mount_points: Vec<Vec<u8>> = mounts.iter().map(|m| m.0.as_bytes().to_vec()).collect();
    let mut compared = 0;
    for (mount_point, partition) in &mounts {
        let fs_type = inspect["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["index"].as_u64() == Some(*partition))
            .and_then(|p| p["filesystem"]["fs_type"].as_str())
            .unwrap_or("");
        if !fs_type.starts_with("ext") {
            continue;
        }
        let prefix = if mount_point == "/" {
            Vec::new()
        } else {
            mount_point.as_bytes().to_vec()
        };
        // Ours, keyed by (directory, name) relative to this volume's root.
        let mut ours: BTreeMap<(Vec<u8>, Vec<u8>), Facts> = BTreeMap::new();
        let mut dirs: Vec<Vec<u8>> = vec![b"/".to_vec()];
        for e in entries {
            if e["partition"].as_u64() != Some(*partition) {
                continue;
            }
            let path = path_bytes(e);
            let Some(rel) = path.strip_prefix(prefix.as_slice()) else {
                continue;
            };
            if rel.is_empty() {
                continue; // the mount point itself: the volume's root
            }
            let split = rel.iter().rposition(|&b| b == b'/').unwrap();
            let parent = if split == 0 {
                b"/".to_vec()
            } else {
                rel[..split].to_vec()
            };
            let name = rel[split + 1..].to_vec();
            let t = e["type"].as_str().unwrap();
            let facts = Facts {
                inode: e["inode"].as_u64().unwrap(),
                type_bits: type_bits(t),
                perm: u32::from_str_radix(e["mode"].as_str().unwrap(), 8).unwrap(),
                uid: e["uid"].as_u64().unwrap() as u32,
                gid: e["gid"].as_u64().unwrap() as u32,
                size: Some(e["size"].as_u64().unwrap()),
            };
            if t == "dir" && !mount_points.contains(&path) {
                dirs.push(rel.to_vec());
            }
            ours.insert((parent, name), facts);
        }
        let offset = start_of[partition];
        let ls: Vec<Vec<u8>> = dirs
            .iter()
            .map(|d| [b"ls -p ".to_vec(), quote(d)].concat())
            .collect();
        let ls_long: Vec<Vec<u8>> = dirs
            .iter()
            .map(|d| [b"ls -l ".to_vec(), quote(d)].concat())
            .collect();
        let p_out = debugfs(image, offset, &ls);
        let l_out = debugfs(image, offset, &ls_long);
        // Directory sizes come from `ls -l` (ls -p leaves them empty), by inode.
        let mut dir_size: HashMap<u64, u64> = HashMap::new();
        for block in &l_out {
            for line in block {
                let text = String::from_utf8_lossy(line);
                let cols: Vec<&str> = text.split_whitespace().collect();
                let is_dir = cols.len() >= 6
                    && u32::from_str_radix(cols[1], 8).is_ok_and(|m| m & 0o170000 == 0o040000);
                if is_dir {
                    let ino: u64 = cols[0].parse().unwrap();
                    dir_size.insert(ino, cols[5].parse().unwrap());
                }
            }
        }
        let mut theirs: BTreeMap<(Vec<u8>, Vec<u8>), Facts> = BTreeMap::new();
        for (dir, block) in dirs.iter().zip(&p_out) {
            for line in block {
                let (name, mut facts) = parse_ls_p(line);
                // debugfs also prints unused slots (inode 0), e.g. in lost+found.
                if name == b"." || name == b".." || facts.inode == 0 {
                    continue;
                }
                if facts.type_bits == 0o040000 {
                    facts.size = dir_size.get(&facts.inode).copied();
                }
                theirs.insert((dir.clone(), name), facts);
            }
        }
        // Mount points show the mounted volume in our listing, the
        // underlying directory in debugfs: compare only their presence.
        for ((dir, name), facts) in &theirs {
            let mut full = prefix.clone();
            if dir != b"/" {
                full.extend_from_slice(dir);
            }
            full.push(b'/');
            full.extend_from_slice(name);
            let key = (dir.clone(), name.clone());
            if mount_points.contains(&full) {
                continue;
            }
            let mine = ours.get(&key).unwrap_or_else(|| {
                panic!(
                    "{img} partition {partition}: debugfs lists {:?} in {:?}, coldscan does not",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(dir)
                )
            });
            assert_eq!(
                mine,
                facts,
                "{img} partition {partition}: {:?} in {:?} differs (left coldscan, right debugfs)",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(dir)
            );
            compared += 1;
        }
        for (dir, name) in ours.keys() {
            let mut full = prefix.clone();
            if dir != b"/" {
                full.extend_from_slice(dir);
            }
            full.push(b'/');
            full.extend_from_slice(name);
            assert!(
                theirs.contains_key(&(dir.clone(), name.clone())) || mount_points.contains(&full),
                "{img} partition {partition}: coldscan lists {:?}, debugfs does not",
                String::from_utf8_lossy(&full)
            );
        }
    }
    compared
}

#[test]
fn ext_fixtures_match_debugfs_on_every_path() {
    if !have_tool("debugfs", "e2fsprogs") {
        return;
    }
    for name in ["gpt-linux", "mbr-extended", "bare-ext4", "gpt-4k"] {
        let n = compare(&fixture(name));
        eprintln!("{name}: {n} entries agree with debugfs");
        assert!(n >= 5, "{name}: only {n} entries compared");
    }
}

#[test]
fn any_image_matches_debugfs_when_asked() {
    let Ok(path) = std::env::var("COLDSCAN_DIFF_IMAGE") else {
        eprintln!("SKIPPED: set COLDSCAN_DIFF_IMAGE=/path/to/image to compare another image");
        return;
    };
    if !have_tool("debugfs", "e2fsprogs") {
        return;
    }
    let n = compare(Path::new(&path));
    eprintln!("{path}: {n} entries agree with debugfs");
    assert!(n > 0);
}
