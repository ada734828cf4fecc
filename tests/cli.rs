//! End-to-end tests of `coldscan inspect`, `ls` and `cat` on every fixture
//! image (see fixtures/README.md for what each holds).

mod common;

use common::{coldscan, coldscan_json, fixture};
use serde_json::Value;

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `coldscan cat` and returns (exit code, stdout, stderr).
fn cat(image: &str, path: &str) -> (i32, Vec<u8>, String) {
    let out = coldscan(&["cat", image, path]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    (out.status.code().unwrap(), out.stdout, stderr)
}

/// The `ls --json` entry for one path.
fn stat(image: &str, path: &str) -> Value {
    let v = coldscan_json(&["ls", "-d", "--json", image, path]);
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 1, "{path}: {v}");
    a[0].clone()
}

fn find<'a>(entries: &'a Value, path: &str) -> &'a Value {
    entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("{path} not listed"))
}

#[test]
fn gpt_linux_inspect_shows_table_root_and_mounts() {
    let img = fixture("gpt-linux");
    let v = coldscan_json(&["inspect", "--json", s(&img)]);
    assert_eq!(v["partition_table"]["kind"], "gpt");
    assert_eq!(v["partition_table"]["sector_size"], 512);
    assert_eq!(v["partition_table"]["header_used"], "primary");
    assert_eq!(
        v["partition_table"]["disk_guid"],
        "d15c0001-0000-4000-8000-000000000000"
    );
    let parts = v["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["start"], 1048576);
    assert_eq!(parts[0]["size"], 24576 * 512);
    assert_eq!(parts[0]["name"], "root");
    assert_eq!(parts[0]["partuuid"], "9a470001-0001-4000-8000-000000000001");
    assert_eq!(parts[0]["detected"], "ext4");
    assert_eq!(
        parts[0]["type"],
        "0fc63daf-8483-4772-8e79-3d69d8477de4 (Linux filesystem)"
    );
    assert_eq!(
        parts[0]["filesystem"]["uuid"],
        "f5000001-0001-4000-8000-000000000001"
    );
    assert_eq!(parts[0]["filesystem"]["label"], "root");
    assert_eq!(parts[0]["root"], true);
    assert_eq!(parts[1]["start"], 13631488);
    assert_eq!(parts[1]["root"], false);
    assert_eq!(v["root_partition"], 1);
    let mounts = v["mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 2);
    assert_eq!(mounts[1]["mount_point"], "/var");
    assert_eq!(mounts[1]["partition"], 2);
    let plan = v["mount_plan"].as_array().unwrap();
    assert_eq!(plan.len(), 3, "two mounts and the swap line: {plan:?}");
    assert_eq!(plan[0]["status"], "root");
    assert_eq!(plan[1]["status"], "mounted");
    assert_eq!(plan[1]["options"], "defaults,nodev,nosuid");
    assert_eq!(plan[2]["status"], "skipped");
    assert_eq!(v["unreadable"].as_array().unwrap().len(), 0);
    // The text form says the same for a person.
    let out = coldscan(&["inspect", s(&img)]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("GPT"), "{text}");
    assert!(text.contains("/var <- partition 2"), "{text}");
}

#[test]
fn gpt_linux_modes_owners_and_special_files() {
    let img = fixture("gpt-linux");
    let img = s(&img);
    let sudo = stat(img, "/usr/bin/sudo");
    assert_eq!(sudo["mode"], "4755");
    assert_eq!(sudo["type"], "file");
    assert_eq!(stat(img, "/tmp")["mode"], "1777");
    let shadow = stat(img, "/etc/shadow");
    assert_eq!(
        (shadow["mode"].as_str(), shadow["gid"].as_u64()),
        (Some("0640"), Some(42))
    );
    let alice = stat(img, "/home/alice");
    assert_eq!(
        (alice["uid"].as_u64(), alice["gid"].as_u64()),
        (Some(1000), Some(1000))
    );
    assert_eq!(alice["mode"], "0750");
    assert_eq!(stat(img, "/etc/cron.d/ww")["mode"], "0666");
    assert_eq!(stat(img, "/dev/null")["type"], "char");
    assert_eq!(stat(img, "/dev/sda")["type"], "block");
    assert_eq!(stat(img, "/run/fifo")["type"], "fifo");
    let lt = stat(img, "/etc/localtime");
    assert_eq!(lt["type"], "symlink");
    assert_eq!(lt["target"], "/usr/share/zoneinfo/UTC");
    assert_eq!(stat(img, "/bin")["target"], "usr/bin");
    assert_eq!(stat(img, "/etc/hostname")["mtime"], "2023-11-14T22:13:20Z");
}

#[test]
fn gpt_linux_recursive_listing_crosses_into_var() {
    let img = fixture("gpt-linux");
    let v = coldscan_json(&["ls", "-R", "--json", s(&img), "/"]);
    let status = find(&v, "/var/lib/dpkg/status");
    assert_eq!(status["partition"], 2);
    assert_eq!(find(&v, "/var/cache/x/y/z/file")["type"], "file");
    assert_eq!(find(&v, "/etc/passwd")["partition"], 1);
    let many = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with("/usr/share/many/"))
        .count();
    assert_eq!(many, 300);
    // The non-UTF-8 name is kept exactly.
    let odd = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e.get("path_hex").is_some())
        .expect("an entry with path_hex");
    assert_eq!(
        odd["path_hex"], "2f7573722f73686172652f6d6973632f636166e9",
        "/usr/share/misc/caf\\xe9"
    );
    // Symlinks are listed, not followed: nothing appears below /bin.
    assert!(!v
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path"].as_str().unwrap().starts_with("/bin/")));
}

#[test]
fn gpt_linux_cat_follows_links_inside_the_image() {
    let img = fixture("gpt-linux");
    let img = s(&img);
    let (code, out, _) = cat(img, "/etc/hostname");
    assert_eq!((code, out.as_slice()), (0, b"coldscan-debian\n".as_slice()));
    // Escapes stay inside the image.
    let (code, out, _) = cat(img, "/escape_rel");
    assert_eq!(code, 0);
    assert!(out.starts_with(b"root:x:0:0:image-root:/root:/bin/bash\n"));
    let (code, out, _) = cat(img, "/escape_abs");
    assert_eq!((code, out.as_slice()), (0, b"coldscan-debian\n".as_slice()));
    // Merged /usr and a path through /bin.
    let (code, out, _) = cat(img, "/bin/sh");
    assert_eq!(code, 0);
    assert!(out.starts_with(b"#!/bin/false"));
    assert_eq!(out.len(), 55);
    // Across the /var mount, and `..` out of a mount root.
    let (code, out, _) = cat(img, "/var/../var/lib/dpkg/status");
    assert_eq!(code, 0);
    assert!(String::from_utf8_lossy(&out).contains("Package: sudo"));
    // A 69-byte symlink target stored in a data block.
    let (code, _, err) = cat(img, "/usr/share/slow_symlink");
    assert_eq!(code, 0, "{err}");
    // 30 links resolve; 45 are refused as a loop.
    let (code, out, _) = cat(img, "/chain/m0");
    assert_eq!((code, out.as_slice()), (0, b"coldscan-debian\n".as_slice()));
    let (code, _, err) = cat(img, "/chain/l0");
    assert_eq!(code, 2);
    assert!(err.contains("too many levels of symbolic links"), "{err}");
    let (code, _, err) = cat(img, "/loop_a");
    assert_eq!(code, 2);
    assert!(err.contains("too many levels"), "{err}");
    assert!(
        err.contains("gpt-linux.img"),
        "error names the image: {err}"
    );
    let (code, _, err) = cat(img, "/etc/nonexistent");
    assert_eq!(code, 2);
    assert!(err.contains("no such file"), "{err}");
    let (code, _, err) = cat(img, "/etc");
    assert_eq!(code, 2);
    assert!(err.contains("is a directory"), "{err}");
}

#[test]
fn mbr_extended_finds_logicals_and_mounts_by_label_and_device() {
    let img = fixture("mbr-extended");
    let v = coldscan_json(&["inspect", "--json", s(&img)]);
    assert_eq!(v["partition_table"]["kind"], "mbr");
    assert_eq!(v["partition_table"]["disk_signature"], "c01d5ca1");
    let idx: Vec<u64> = v["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![1, 2, 5, 6]);
    let p = &v["partitions"];
    assert_eq!(p[0]["bootable"], true);
    assert_eq!(p[1]["container"], true);
    assert_eq!(p[2]["start"], 12582912);
    assert_eq!(p[2]["filesystem"]["label"], "home");
    assert_eq!(p[3]["detected"], "ext2");
    assert_eq!(p[3]["partuuid"], "c01d5ca1-06");
    let mounts: Vec<(String, u64)> = v["mounts"]
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
    assert!(mounts.contains(&("/home".into(), 5)), "{mounts:?}");
    assert!(mounts.contains(&("/srv".into(), 6)), "{mounts:?}");
    assert_eq!(v["mount_plan"][0]["status"], "root");
    let img = s(&img);
    let (code, out, _) = cat(img, "/home/ubuntu/.bashrc");
    assert_eq!(code, 0);
    assert!(!out.is_empty());
    assert_eq!(stat(img, "/home/ubuntu")["uid"], 1000);
    let (code, _, _) = cat(img, "/srv/www/index.html");
    assert_eq!(code, 0);
}

#[test]
fn bare_ext4_high_uids_hard_links_and_setgid() {
    let img = fixture("bare-ext4");
    let img = s(&img);
    let v = coldscan_json(&["inspect", "--json", img]);
    assert_eq!(v["partition_table"]["kind"], "none");
    assert_eq!(v["partitions"][0]["index"], 0);
    assert_eq!(v["root_partition"], 0);
    let high = stat(img, "/highuid");
    assert_eq!(
        (high["uid"].as_u64(), high["gid"].as_u64()),
        (Some(200000), Some(200001))
    );
    let (h1, h2) = (stat(img, "/hard1"), stat(img, "/hard2"));
    assert_eq!(h1["inode"], h2["inode"]);
    assert_eq!(h1["nlink"], 2);
    assert_eq!(stat(img, "/setgid-bin")["mode"], "2755");
    assert_eq!(stat(img, "/sticky")["mode"], "1777");
    assert_eq!(stat(img, "/readme-link")["target"], "README");
    // Text listings show the same, one line per entry.
    let out = coldscan(&["ls", "-l", img, "/"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("-2755"), "{text}");
    assert!(
        text.lines().any(|l| l.ends_with("/readme-link -> README")),
        "{text}"
    );
}

#[test]
fn gpt_4k_sectors() {
    let img = fixture("gpt-4k");
    let v = coldscan_json(&["inspect", "--json", s(&img)]);
    assert_eq!(v["partition_table"]["sector_size"], 4096);
    assert_eq!(v["partitions"][0]["start"], 1048576);
    assert_eq!(v["partitions"][0]["size"], 3072 * 4096);
    assert_eq!(v["root_partition"], 1);
    assert_eq!(v["mount_plan"][0]["spec"], "PARTLABEL=root");
    assert_eq!(v["mount_plan"][0]["status"], "root");
    let (code, out, _) = cat(s(&img), "/etc/hostname");
    assert_eq!((code, out.as_slice()), (0, b"coldscan-fedora\n".as_slice()));
}

#[test]
fn ntfs_volume_lists_folders_and_reads_files() {
    let img = fixture("ntfs");
    let img = s(&img);
    let v = coldscan_json(&["inspect", "--json", img]);
    assert_eq!(v["partitions"][0]["detected"], "ntfs");
    assert_eq!(v["partitions"][0]["filesystem"]["label"], "COLDSCAN");
    assert_eq!(v["partitions"][0]["filesystem"]["posix"], false);
    assert_eq!(v["root_partition"], 0, "Windows/System32 marks the root");
    let all = coldscan_json(&["ls", "-R", "--json", img, "/"]);
    let hosts = find(&all, "/Windows/System32/drivers/etc/hosts");
    assert_eq!(hosts["type"], "file");
    assert!(hosts["mode"].is_null(), "NTFS has no POSIX mode: {hosts}");
    assert!(hosts["uid"].is_null());
    assert_eq!(find(&all, "/Program Files/Coldscan Test")["type"], "dir");
    assert_eq!(find(&all, "/Données/café.txt")["size"], 21);
    assert_eq!(find(&all, "/日本.txt")["type"], "file");
    assert_eq!(find(&all, "/Data/big.bin")["size"], 3145728);
    let (code, out, _) = cat(img, "/Windows/System32/drivers/etc/hosts");
    assert_eq!(
        (code, out.as_slice()),
        (0, b"127.0.0.1 localhost\r\n::1 localhost\r\n".as_slice())
    );
    // Windows paths are case-insensitive.
    let (code, out, _) = cat(img, "/WINDOWS/system32/Drivers/ETC/hosts");
    assert_eq!((code, out.len()), (0, 36));
    let (code, big, _) = cat(img, "/Data/big.bin");
    assert_eq!(code, 0);
    assert_eq!(big.len(), 3145728);
    for i in [0usize, 1, 400, 767] {
        let block = &big[i * 4096..(i + 1) * 4096];
        assert!(
            block.starts_with(format!("BLOCK {i:010}").as_bytes()),
            "block {i}"
        );
        assert_eq!(block[4095], b'\n');
    }
}

#[test]
fn truncated_image_reports_what_is_missing_and_keeps_going() {
    let img = fixture("truncated");
    let img = s(&img);
    let v = coldscan_json(&["inspect", "--json", img]);
    let unreadable = v["unreadable"].to_string();
    assert!(unreadable.contains("partition 2"), "{unreadable}");
    assert!(unreadable.contains("truncated"), "{unreadable}");
    let (code, out, _) = cat(img, "/etc/hostname");
    assert_eq!((code, out.as_slice()), (0, b"coldscan-debian\n".as_slice()));
    // Listing everything finishes; entries that cannot be read say why.
    let out = coldscan(&["ls", "-R", "--json", img, "/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.as_array().unwrap().len() > 300);
}

#[test]
fn zeroed_superblock_is_an_input_error_that_points_at_the_backup() {
    let img = fixture("zeroed-superblock");
    let out = coldscan(&["ls", s(&img), "/"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("zeroed-superblock.img"), "{err}");
    assert!(err.contains("backup superblock"), "{err}");
    assert!(err.contains("8193"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
}

#[test]
fn gpt_with_bad_primary_uses_the_backup() {
    let img = fixture("gpt-bad-primary");
    let v = coldscan_json(&["inspect", "--json", s(&img)]);
    assert_eq!(v["partition_table"]["header_used"], "backup");
    assert_eq!(v["partitions"].as_array().unwrap().len(), 2);
    assert_eq!(v["mounts"].as_array().unwrap().len(), 2);
    let unreadable = v["unreadable"].to_string();
    assert!(unreadable.contains("CRC32 mismatch"), "{unreadable}");
}

#[test]
fn gpt_with_both_headers_bad_is_an_input_error() {
    let img = fixture("gpt-both-bad");
    let out = coldscan(&["inspect", s(&img)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("GPT"), "{err}");
    assert!(err.contains("gpt-both-bad.img"), "{err}");
}

#[test]
fn mbr_ebr_loop_terminates_with_each_partition_once() {
    let img = fixture("mbr-ebr-loop");
    let v = coldscan_json(&["inspect", "--json", s(&img)]);
    let idx: Vec<u64> = v["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![1, 2, 5, 6]);
    assert!(v["unreadable"].to_string().contains("loops back"));
}

#[test]
fn not_a_disk_and_missing_files_are_input_errors() {
    let img = fixture("not-a-disk");
    let out = coldscan(&["inspect", s(&img)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a disk image"), "{err}");
    let out = coldscan(&["ls", "/nonexistent/disk.img", "/"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
    let dir = tempfile::tempdir().unwrap();
    let out = coldscan(&["inspect", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let empty = dir.path().join("empty.img");
    std::fs::write(&empty, b"").unwrap();
    let out = coldscan(&["inspect", s(&empty)]);
    assert_eq!(out.status.code(), Some(2));
    let out = coldscan(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn images_are_never_modified() {
    use sha2::{Digest, Sha256};
    for name in [
        "gpt-linux",
        "mbr-extended",
        "bare-ext4",
        "gpt-4k",
        "ntfs",
        "truncated",
    ] {
        let img = fixture(name);
        let hash = || hex(&Sha256::digest(std::fs::read(&img).unwrap()));
        let mtime = || std::fs::metadata(&img).unwrap().modified().unwrap();
        let (before, before_mtime) = (hash(), mtime());
        let img_s = s(&img);
        coldscan(&["inspect", "--json", img_s]);
        coldscan(&["ls", "-R", "-l", "--json", img_s, "/"]);
        coldscan(&["cat", img_s, "/etc/hostname"]);
        assert_eq!(hash(), before, "{name} changed");
        assert_eq!(mtime(), before_mtime, "{name} mtime changed");
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Copies gpt-linux and replaces partition 2's filesystem signature.
fn gpt_linux_with_p2(magic_at: usize, magic: &[u8]) -> tempfile::TempPath {
    let mut d = std::fs::read(fixture("gpt-linux")).unwrap();
    let p2 = 13631488;
    d[p2..p2 + 0x11000].fill(0);
    d[p2 + magic_at..p2 + magic_at + magic.len()].copy_from_slice(magic);
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), d).unwrap();
    f.into_temp_path()
}

#[test]
fn unsupported_filesystems_are_named_never_skipped() {
    let mut lvm = b"LABELONE".to_vec();
    lvm.extend_from_slice(&[0; 16]);
    lvm.extend_from_slice(b"LVM2 001");
    for (magic_at, magic, name) in [
        (0, b"XFSB".to_vec(), "xfs"),
        (0, b"LUKS\xba\xbe".to_vec(), "luks"),
        (512, lvm, "lvm2 physical volume"),
        (0x10040, b"_BHRfS_M".to_vec(), "btrfs"),
    ] {
        let img = gpt_linux_with_p2(magic_at, &magic);
        let v = coldscan_json(&["inspect", "--json", img.to_str().unwrap()]);
        assert_eq!(v["partitions"][1]["detected"], name);
        let unreadable = v["unreadable"].as_array().unwrap();
        let p2 = unreadable
            .iter()
            .find(|u| u["what"].as_str().unwrap().starts_with("partition 2"))
            .unwrap_or_else(|| panic!("{name}: partition 2 not in unreadable: {v}"));
        assert!(
            p2["reason"]
                .as_str()
                .unwrap()
                .contains("cannot be read yet"),
            "{p2}"
        );
        assert!(p2["what"].as_str().unwrap().contains(name), "{p2}");
        // The fstab line for /var cannot be satisfied, and says so.
        assert!(
            unreadable
                .iter()
                .any(|u| u["what"].as_str().unwrap().contains("/var")),
            "{name}: {unreadable:?}"
        );
        // The root is still readable.
        let (code, out, _) = cat(img.to_str().unwrap(), "/etc/hostname");
        assert_eq!((code, out.as_slice()), (0, b"coldscan-debian\n".as_slice()));
    }
}

#[test]
fn errors_inside_a_volume_name_the_partition_and_structure() {
    // gpt-linux cut 64 KiB into partition 2: its superblock is there, its
    // inode table is not.
    let d = std::fs::read(fixture("gpt-linux")).unwrap();
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), &d[..13631488 + 65536]).unwrap();
    let img = f.path().to_str().unwrap();
    let (code, _, err) = cat(img, "/var/lib/dpkg/status");
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    for part in [
        img,
        "/var/lib/dpkg/status",
        "partition 2 (ext4)",
        "truncated image",
    ] {
        assert!(err.contains(part), "{part:?} missing from {err}");
    }
    // The root partition is unaffected.
    let (code, out, _) = cat(img, "/etc/hostname");
    assert_eq!((code, out.as_slice()), (0, b"coldscan-debian\n".as_slice()));
}
