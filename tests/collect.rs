//! End-to-end tests of `coldscan collect` on the fixture images.

mod common;

use common::{coldscan, coldscan_json, fixture};
use serde_json::Value;

fn collect(name: &str) -> Value {
    let img = fixture(name);
    coldscan_json(&["collect", img.to_str().unwrap()])
}

fn paths(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect()
}

#[test]
fn debian_gpt_image() {
    let t = collect("gpt-linux");
    assert_eq!(t["schema_version"], "1");
    assert_eq!(t["tool"]["name"], "coldscan");
    let os = &t["os"];
    assert_eq!(os["family"], "linux");
    assert_eq!(os["id"], "debian");
    assert_eq!(os["version_id"], "12");
    assert_eq!(os["version_codename"], "bookworm");
    assert_eq!(os["release_file"], "/etc/os-release");
    assert_eq!(os["hostname"], "coldscan-debian");
    assert_eq!(t["image"]["root_partition"], 1);
    assert_eq!(t["image"]["mounts"][1]["mount_point"], "/var");

    let files = &t["files"];
    let suid = paths(&files["suid_sgid"]);
    assert_eq!(suid, vec!["/usr/bin/passwd", "/usr/bin/sudo"]);
    let ww = paths(&files["world_writable"]);
    for p in ["/etc/cron.d/ww", "/tmp", "/dev/null"] {
        assert!(ww.contains(&p), "{p} not in {ww:?}");
    }
    // Symlinks (always 0777) are not world-writable entries.
    assert!(!ww.contains(&"/bin"));
    let sys = paths(&files["system_writable_or_non_root"]);
    assert!(sys.contains(&"/etc/cron.d/ww"), "{sys:?}");
    assert!(!sys.contains(&"/home/alice"), "only system paths: {sys:?}");
    let shadow = files["sensitive_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/etc/shadow")
        .unwrap();
    assert_eq!(
        (shadow["mode"].as_str(), shadow["gid"].as_u64()),
        (Some("0640"), Some(42))
    );
    let bin = files["system_dirs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/bin")
        .unwrap();
    assert_eq!(
        (bin["type"].as_str(), bin["target"].as_str()),
        (Some("symlink"), Some("usr/bin"))
    );
    assert!(files["entries_walked"].as_u64().unwrap() > 400);
    assert_eq!(
        t["coverage"].as_array().unwrap().len(),
        0,
        "{}",
        t["coverage"]
    );
    assert!(t["stats"]["bytes_read"].as_u64().unwrap() > 0);
}

#[test]
fn os_of_every_fixture() {
    for (name, id, version) in [
        ("mbr-extended", "ubuntu", "22.04"),
        ("bare-ext4", "alpine", "3.19.0"),
        ("gpt-4k", "fedora", "39"),
    ] {
        let t = collect(name);
        assert_eq!(t["os"]["id"], id, "{name}");
        assert_eq!(t["os"]["version_id"], version, "{name}");
    }
    let t = collect("ntfs");
    assert_eq!(t["os"]["family"], "windows");
    // NTFS has no POSIX modes: nothing is reported as world-writable.
    assert_eq!(t["files"]["world_writable"].as_array().unwrap().len(), 0);
}

#[test]
fn output_file_and_damaged_images() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json");
    let img = fixture("gpt-linux");
    let r = coldscan(&[
        "collect",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(r.status.success());
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["os"]["id"], "debian");
    // No readable root at all: an input error.
    let img = fixture("zeroed-superblock");
    let r = coldscan(&["collect", img.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    // A truncated image still gives a document, with its gaps listed.
    let t = collect("truncated");
    assert_eq!(t["os"]["id"], "debian");
    assert!(!t["image"]["unreadable"].as_array().unwrap().is_empty());
}

#[test]
fn packages_and_accounts_of_the_debian_image() {
    let img = fixture("gpt-linux");
    let out = coldscan(&["collect", img.to_str().unwrap()]);
    assert!(out.status.success());
    // Password hashes never leave the image: the fixture's shadow holds a
    // yescrypt field for alice.
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("$y$"),
        "a password hash leaked into the telemetry"
    );
    let t: Value = serde_json::from_str(&text).unwrap();
    let items = t["packages"]["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["base-files", "sudo", "openssl"]);
    for p in items {
        assert_eq!(p["ecosystem"], "Debian:12");
        assert_eq!(p["evidence"]["file"], "/var/lib/dpkg/status");
    }
    assert_eq!(items[2]["source_name"], "openssl");
    assert_eq!(t["packages"]["databases"][0]["kind"], "dpkg");
    // No OpenSSH server in this image: no sshd section, and no gap for it.
    assert!(t["config"]["sshd"].is_null());
    let users = t["config"]["accounts"]["users"].as_array().unwrap();
    assert!(users
        .iter()
        .any(|u| u["name"] == "alice" && u["uid"] == 1000));
    let fstab = t["config"]["fstab"].as_array().unwrap();
    assert_eq!(fstab[1]["mount_point"], "/var");
    assert_eq!(fstab[1]["options"], "defaults,nodev,nosuid");
}
