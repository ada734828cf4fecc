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

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e[key] == value)
        .unwrap_or_else(|| panic!("no entry with {key} = {value} in {list}"))
}

#[test]
fn debian_full_packages_binaries_and_configuration() {
    let t = collect("debian-full");
    assert_eq!(t["os"]["arch"], "x86_64");
    assert_eq!(t["os"]["kernels"][0]["version"], "6.1.0-18-amd64");

    // Packages: the three Source forms, and removed packages left out.
    let items = &t["packages"]["items"];
    let bash = find(items, "name", "bash");
    assert_eq!(
        (bash["version"].as_str(), bash["source_version"].as_str()),
        (Some("5.2.15-2+b7"), Some("5.2.15-2"))
    );
    let bsdutils = find(items, "name", "bsdutils");
    assert_eq!(bsdutils["source_name"], "util-linux");
    assert_eq!(bsdutils["source_version"], "2.38.1-5+deb12u1");
    assert!(items
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["status"] != "deinstall ok config-files"));

    // Binaries: hardening facts and the owning package.
    let bins = &t["binaries"];
    let hardened = find(bins, "path", "/usr/bin/hardened");
    assert_eq!(hardened["package"], "hardened-tools");
    let h = &hardened["elf"];
    assert_eq!(
        (
            h["nx"].as_bool(),
            h["canary"].as_bool(),
            h["pie"].as_bool(),
            h["relro"].as_str(),
            h["fortify"].as_bool()
        ),
        (Some(true), Some(true), Some(true), Some("full"), Some(true))
    );
    let w = &find(bins, "path", "/usr/bin/weak")["elf"];
    assert_eq!(
        (
            w["nx"].as_bool(),
            w["canary"].as_bool(),
            w["pie"].as_bool(),
            w["relro"].as_str()
        ),
        (Some(false), Some(false), Some(false), Some("none"))
    );
    assert_eq!(
        find(bins, "path", "/usr/sbin/partial")["elf"]["relro"],
        "partial"
    );
    assert_eq!(
        find(bins, "path", "/usr/bin/static-tool")["elf"]["is_static"],
        true
    );
    assert_eq!(
        find(bins, "path", "/usr/sbin/sshd")["package"],
        "openssh-server"
    );

    // sshd: the installed version's defaults, drop-ins with file and line.
    let c = &t["config"];
    assert_eq!(c["openssh_version"], "1:9.2p1-2+deb12u3");
    let s = &c["sshd"]["settings"];
    assert_eq!(s["passwordauthentication"][0]["value"], "yes");
    assert_eq!(
        s["passwordauthentication"][0]["file"],
        "/etc/ssh/sshd_config.d/50-cloud-init.conf"
    );
    assert_eq!(s["permitrootlogin"][0]["file"], "(default)");
    assert!(!c["sshd"]["matches"].as_array().unwrap().is_empty());
    // PAM, password policy, sysctl, kernel command line.
    assert!(c["pam"]["stacks"]["passwd"]
        .to_string()
        .contains("pam_pwquality"));
    assert_eq!(
        c["login_defs"]["entries"]["PASS_MAX_DAYS"]["value"],
        "99999"
    );
    assert_eq!(c["pwquality"]["entries"]["minlen"]["value"], "14");
    let aslr = &c["sysctl"]["entries"]["kernel.randomize_va_space"];
    assert_eq!(
        (
            aslr["value"]["value"].as_str(),
            aslr["value"]["file"].as_str()
        ),
        (Some("2"), Some("/etc/sysctl.d/99-hardening.conf"))
    );
    assert_eq!(aslr["overridden"][0]["value"], "1");
    assert!(c["kernel_cmdline"].to_string().contains("noexec=off"));
    // Services and accounts.
    assert!(c["systemd"]["enabled"].to_string().contains("ssh.service"));
    assert!(c["systemd"]["masked"]
        .to_string()
        .contains("debug-shell.service"));
    assert_eq!(c["inetd"]["services"][0]["name"], "telnet");
    let shadow = c["accounts"]["shadow"].as_array().unwrap();
    let state = |n: &str| {
        shadow.iter().find(|e| e["name"] == n).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(state("alice"), "set");
    assert_eq!(state("bob"), "empty");
    assert_eq!(state("carol"), "locked");
    assert!(c["sudoers"].to_string().contains("NOPASSWD"));
    // Permissions.
    let f = &t["files"];
    assert!(paths(&f["suid_sgid"]).contains(&"/usr/bin/sudo"));
    assert!(paths(&f["world_writable"]).contains(&"/usr/local/bin/world"));
    assert!(paths(&f["system_writable_or_non_root"]).contains(&"/usr/lib/owned-by-user"));
    let key = find(
        &f["sensitive_files"],
        "path",
        "/etc/ssh/ssh_host_ed25519_key",
    );
    assert_eq!(key["mode"], "0600");
}

#[test]
fn rpm_and_apk_images() {
    let t = collect("alma9-rpm");
    assert_eq!(
        t["packages"]["databases"].as_array().unwrap().len(),
        1,
        "the sysimage link is read once"
    );
    assert_eq!(t["packages"]["databases"][0]["kind"], "rpm-sqlite");
    let hello = find(&t["packages"]["items"], "name", "hello");
    assert_eq!(hello["version"], "2:1.0-1.el9");
    assert_eq!(hello["ecosystem"], "AlmaLinux:9");
    assert!(t["config"]["kernel_cmdline"]
        .to_string()
        .contains("crashkernel=auto"));

    let t = collect("centos7-bdb");
    assert_eq!(
        (t["os"]["id"].as_str(), t["os"]["version_id"].as_str()),
        (Some("centos"), Some("7.9.2009"))
    );
    assert_eq!(t["os"]["release_file"], "/etc/redhat-release");
    assert_eq!(t["packages"]["databases"][0]["kind"], "rpm-bdb");
    assert_eq!(t["packages"]["items"].as_array().unwrap().len(), 3);

    let t = collect("alpine-apk");
    let crypto = find(&t["packages"]["items"], "name", "libcrypto3");
    assert_eq!(crypto["source_name"], "openssl");
    assert_eq!(crypto["ecosystem"], "Alpine:v3.19");
    assert_eq!(
        find(&t["binaries"], "path", "/bin/busybox")["package"],
        "busybox"
    );
}

#[test]
fn windows_pe_files() {
    let t = collect("ntfs-pe");
    assert_eq!(
        (t["os"]["family"].as_str(), t["os"]["arch"].as_str()),
        (Some("windows"), Some("x86_64"))
    );
    let bins = &t["binaries"];
    let h = &find(bins, "path", "/Windows/System32/hardened.exe")["pe"];
    assert_eq!(
        (
            h["nx_compat"].as_bool(),
            h["dynamic_base"].as_bool(),
            h["high_entropy_va"].as_bool()
        ),
        (Some(true), Some(true), Some(true))
    );
    let l = &find(bins, "path", "/Windows/System32/legacy.exe")["pe"];
    assert_eq!(
        (l["nx_compat"].as_bool(), l["dynamic_base"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(
        find(bins, "path", "/Windows/System32/helper.dll")["pe"]["is_dll"],
        true
    );
}
