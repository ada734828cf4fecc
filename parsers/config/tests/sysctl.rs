use std::path::{Path, PathBuf};
use std::process::Command;

use coldscan_config::sysctl::{self, normalize_key, Applier};
use coldscan_config::{ConfigFiles, MemFiles};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/sysctl/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A Debian 12-like tree: systemd's and procps' vendor files, an admin
/// override and the 99-sysctl.conf link to /etc/sysctl.conf (the caller's
/// read follows the link, so it reads the same bytes).
fn debian12() -> MemFiles {
    MemFiles::default()
        .with("/etc/sysctl.conf", data("debian-99-sysctl.conf"))
        .with(
            "/etc/sysctl.d/99-sysctl.conf",
            data("debian-99-sysctl.conf"),
        )
        .with(
            "/etc/sysctl.d/README.sysctl",
            "not a conf file\nkernel.sysrq=9\n",
        )
        .with("/etc/sysctl.d/60-cis.conf", data("60-cis.conf"))
        .with("/usr/lib/sysctl.d/50-default.conf", data("50-default.conf"))
        .with(
            "/usr/lib/sysctl.d/50-coredump.conf",
            data("50-coredump.conf"),
        )
        .with(
            "/usr/lib/sysctl.d/50-pid-max.conf",
            "kernel.pid_max = 4194304\n",
        )
        .with("/etc/sysctl.d/50-coredump.conf", "")
}

#[test]
fn normalisation() {
    assert_eq!(normalize_key("net/ipv4/ip_forward"), "net.ipv4.ip_forward");
    assert_eq!(normalize_key("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
    assert_eq!(
        normalize_key("net/ipv4/conf/eth0.1/rp_filter"),
        "net.ipv4.conf.eth0/1.rp_filter"
    );
    assert_eq!(
        normalize_key("net.ipv4.conf.eth0/1.rp_filter"),
        "net.ipv4.conf.eth0/1.rp_filter"
    );
}

#[test]
fn debian12_systemd_order() {
    let s = sysctl::effective(&debian12());
    assert_eq!(
        s.files,
        [
            "/etc/sysctl.d/50-coredump.conf",
            "/usr/lib/sysctl.d/50-default.conf",
            "/usr/lib/sysctl.d/50-pid-max.conf",
            "/etc/sysctl.d/60-cis.conf",
            "/etc/sysctl.d/99-sysctl.conf",
        ]
    );
    assert_eq!(s.masked.len(), 1);
    assert_eq!(s.masked[0].path, "/usr/lib/sysctl.d/50-coredump.conf");
    assert!(s.masked[0].by_empty);
    assert!(
        s.get("kernel.core_pattern").is_none(),
        "masked by the empty /etc file"
    );
    // 99-sysctl.conf (=/etc/sysctl.conf) comes after 60-cis.conf.
    let f = s.get("net/ipv4/ip_forward").unwrap();
    assert_eq!(f.value.value, "1");
    assert_eq!(
        (f.value.file.as_str(), f.value.line),
        ("/etc/sysctl.d/99-sysctl.conf", 8)
    );
    assert_eq!(f.overridden.len(), 1);
    assert_eq!(f.overridden[0].file, "/etc/sysctl.d/60-cis.conf");
    let r = s.get("net.ipv4.conf.all.rp_filter").unwrap();
    assert_eq!(r.value.value, "1");
    assert!(!r.ignore_errors, "the winner has no '-'");
    assert!(r.overridden[0].value == "2");
    let g = s.get("net.ipv4.conf.*.rp_filter").unwrap();
    assert!(g.glob);
    assert!(s.get("-net.ipv4.ping_group_range").is_none());
    let p = s.get("net.ipv4.ping_group_range").unwrap();
    assert!(p.ignore_errors);
    assert_eq!(p.value.value, "0 2147483647");
    assert_eq!(s.get("kernel.sysrq").unwrap().value.value, "0");
    assert_eq!(
        s.get("net.ipv4.conf.eth0/1.rp_filter").unwrap().value.value,
        "1"
    );
    assert!(s.problems.is_empty(), "{:?}", s.problems);
}

#[test]
fn procps_reads_sysctl_conf_last() {
    let f = debian12().with("/etc/sysctl.d/99-zz.conf", "net.ipv4.ip_forward = 0\n");
    let sd = sysctl::effective(&f);
    assert_eq!(sd.get("net.ipv4.ip_forward").unwrap().value.value, "0");
    let pp = sysctl::effective_with(&f, Applier::ProcpsSystem);
    assert_eq!(pp.files.last().unwrap(), "/etc/sysctl.conf");
    let w = pp.get("net.ipv4.ip_forward").unwrap();
    assert_eq!(
        (w.value.value.as_str(), w.value.file.as_str()),
        ("1", "/etc/sysctl.conf")
    );
}

#[test]
fn rhel9_like_and_dir_precedence() {
    let f = MemFiles::default()
        .with(
            "/usr/lib/sysctl.d/10-default-yama-scope.conf",
            "kernel.yama.ptrace_scope = 0\n",
        )
        .with(
            "/usr/lib/sysctl.d/50-redhat.conf",
            "kernel.sysrq = 16\nkernel.core_uses_pid = 1\n",
        )
        .with("/lib/sysctl.d/50-redhat.conf", "kernel.sysrq = 1\n")
        .with("/run/sysctl.d/50-redhat.conf", "kernel.sysrq = 2\n")
        .with(
            "/usr/local/lib/sysctl.d/70-local.conf",
            "vm.swappiness=10\n",
        )
        .with("/etc/sysctl.d/.hidden.conf", "vm.swappiness=99\n")
        .with("/etc/sysctl.conf", "# empty on EL9 except comments\n");
    let s = sysctl::effective(&f);
    assert_eq!(s.get("kernel.sysrq").unwrap().value.value, "2");
    assert_eq!(s.masked.len(), 2);
    assert!(s
        .masked
        .iter()
        .all(|m| m.by == "/run/sysctl.d/50-redhat.conf" && !m.by_empty));
    assert_eq!(s.get("vm.swappiness").unwrap().value.value, "10");
    assert!(!s.files.iter().any(|f| f == "/etc/sysctl.conf"));
}

#[test]
fn malformed() {
    let mut big = b"kernel.x = ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 3 << 20));
    let f = MemFiles::default()
        .with("/etc/sysctl.d/10-a.conf", "no assignment here\n= 1\n; comment\n  # comment\nkernel.a = 1 # not a comment\n\u{ff}\u{fe}\u{0}=\u{1}\n")
        .with("/etc/sysctl.d/20-b.conf", big)
        .with("/etc/sysctl.d/30-c.conf", (0..=255u8).cycle().take(100_000).collect::<Vec<u8>>());
    let s = sysctl::effective(&f);
    assert_eq!(s.get("kernel.a").unwrap().value.value, "1 # not a comment");
    assert!(s.problems.len() >= 3, "{:?}", s.problems);
    assert!(s.get("kernel.x").unwrap().value.value.len() < (2 << 20));
}

// ------------------------------------------------------------------ oracle

struct Dir(PathBuf);

impl ConfigFiles for Dir {
    fn read(&self, path: &str) -> Option<Result<Vec<u8>, String>> {
        let p = self.0.join(path.trim_start_matches('/'));
        if std::fs::symlink_metadata(&p).is_err() {
            return None;
        }
        Some(std::fs::read(&p).map_err(|e| e.to_string()))
    }
    fn list(&self, dir: &str) -> Option<Result<Vec<String>, String>> {
        let rd = std::fs::read_dir(self.0.join(dir.trim_start_matches('/'))).ok()?;
        let mut v: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        Some(Ok(v))
    }
}

fn write(root: &Path, path: &str, content: &str) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// `systemd-analyze cat-config sysctl.d --root=DIR` lists the files
/// systemd-sysctl applies, in order: ours must be the same.
#[test]
fn differential_systemd_analyze() {
    let ok = Command::new("systemd-analyze").arg("--version").output();
    if !ok.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: systemd-analyze not installed (Debian package systemd)");
        return;
    }
    let root = std::env::temp_dir().join(format!("coldscan-sysctl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    write(&root, "/etc/sysctl.conf", "a = 1\n");
    write(&root, "/usr/lib/sysctl.d/10-x.conf", "b = 1\n");
    write(&root, "/etc/sysctl.d/10-x.conf", "c = 1\n");
    write(&root, "/usr/lib/sysctl.d/05-y.conf", "d = 1\n");
    write(&root, "/run/sysctl.d/20-z.conf", "e = 1\n");
    write(&root, "/run/sysctl.d/05-y.conf", "f = 1\n");
    write(&root, "/lib/sysctl.d/30-w.conf", "g = 1\n");
    write(&root, "/usr/local/lib/sysctl.d/30-w.conf", "h = 1\n");
    write(&root, "/usr/lib/sysctl.d/99-last.conf", "i = 1\n");
    write(&root, "/usr/lib/sysctl.d/README", "j = 1\n");
    write(&root, "/etc/sysctl.d/.hidden.conf", "k = 1\n");
    write(&root, "/etc/sysctl.d/00-empty.conf", "");
    std::os::unix::fs::symlink("/dev/null", root.join("etc/sysctl.d/20-z.conf")).unwrap();
    std::os::unix::fs::symlink("../sysctl.conf", root.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["cat-config", "sysctl.d", "--no-pager"])
        .arg(format!("--root={}", root.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prefix = root.display().to_string();
    let oracle: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter_map(|p| p.strip_prefix(&prefix))
        .map(str::to_string)
        .collect();
    assert!(oracle.len() >= 6, "oracle listed {oracle:?}");
    let ours = sysctl::effective(&Dir(root.clone()));
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(ours.files, oracle);
    assert_eq!(
        ours.get("a").unwrap().value.file,
        "/etc/sysctl.d/99-sysctl.conf"
    );
    assert!(ours.get("e").is_none());
}
