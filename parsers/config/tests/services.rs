use std::collections::BTreeMap;

use coldscan_config::services;
use coldscan_config::MemFiles;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/services/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A Debian 12-like unit tree: file contents don't matter, links do.
fn debian12() -> (MemFiles, BTreeMap<String, String>) {
    let mut f = MemFiles::default();
    let mut links = BTreeMap::new();
    for u in [
        "ssh.service",
        "cron.service",
        "rsyslog.service",
        "multi-user.target",
        "getty@.service",
        "ctrl-alt-del.target",
        "systemd-timesyncd.service",
        "debug-shell.service",
        "apt-daily.timer",
    ] {
        f = f.with(&format!("/lib/systemd/system/{u}"), "[Unit]\n");
    }
    f = f.with("/usr/lib/systemd/system/nftables.service", "[Unit]\n");
    f = f.with(
        "/lib/systemd/system/multi-user.target.wants/systemd-logind.service",
        "[Unit]\n",
    );
    links.insert(
        "/lib/systemd/system/multi-user.target.wants/systemd-logind.service".into(),
        "../systemd-logind.service".into(),
    );
    let mut link = |f: MemFiles, path: &str, target: &str| {
        links.insert(path.to_string(), target.to_string());
        // the caller's read follows links; /dev/null reads empty
        f.with(
            path,
            if target == "/dev/null" {
                ""
            } else {
                "[Unit]\n"
            },
        )
    };
    f = link(
        f,
        "/etc/systemd/system/multi-user.target.wants/ssh.service",
        "/lib/systemd/system/ssh.service",
    );
    f = link(
        f,
        "/etc/systemd/system/multi-user.target.wants/cron.service",
        "/lib/systemd/system/cron.service",
    );
    f = link(
        f,
        "/etc/systemd/system/timers.target.wants/apt-daily.timer",
        "/lib/systemd/system/apt-daily.timer",
    );
    f = link(
        f,
        "/etc/systemd/system/getty.target.wants/getty@tty1.service",
        "/lib/systemd/system/getty@.service",
    );
    f = link(
        f,
        "/etc/systemd/system/sysinit.target.requires/systemd-timesyncd.service",
        "/lib/systemd/system/systemd-timesyncd.service",
    );
    f = link(
        f,
        "/etc/systemd/system/sshd.service",
        "/lib/systemd/system/ssh.service",
    );
    f = link(f, "/etc/systemd/system/ctrl-alt-del.target", "/dev/null");
    f = link(f, "/run/systemd/system/debug-shell.service", "/dev/null");
    f = f.with("/etc/systemd/system/rsyslog.service", "");
    f = link(
        f,
        "/etc/systemd/system/nftables.service",
        "../../../dev/null",
    );
    f = f.with(
        "/etc/systemd/system/custom.service",
        "[Service]\nExecStart=/opt/x\n",
    );
    (f, links)
}

#[test]
fn debian12_units() {
    let (f, links) = debian12();
    let u = services::systemd_units(&f, &|p| links.get(p).cloned());
    let enabled: Vec<(&str, &str, &str)> = u
        .enabled
        .iter()
        .map(|e| (e.unit.as_str(), e.by.as_str(), e.kind.as_str()))
        .collect();
    assert_eq!(
        enabled,
        [
            ("getty@tty1.service", "getty.target", "wants"),
            ("cron.service", "multi-user.target", "wants"),
            ("ssh.service", "multi-user.target", "wants"),
            ("systemd-timesyncd.service", "sysinit.target", "requires"),
            ("apt-daily.timer", "timers.target", "wants"),
        ]
    );
    assert_eq!(
        u.enabled[2].link.as_deref(),
        Some("/lib/systemd/system/ssh.service")
    );
    assert!(u.is_enabled("ssh.service") && !u.is_enabled("nftables.service"));
    let masked: Vec<(&str, &str)> = u
        .masked
        .iter()
        .map(|m| (m.unit.as_str(), m.how.as_str()))
        .collect();
    assert_eq!(
        masked,
        [
            ("ctrl-alt-del.target", "/dev/null"),
            ("nftables.service", "/dev/null"),
            ("rsyslog.service", "empty file"),
            ("debug-shell.service", "/dev/null")
        ]
    );
    assert_eq!(u.aliases.len(), 1);
    assert_eq!(u.aliases[0].name, "sshd.service");
    assert_eq!(u.vendor_wants[0].unit, "systemd-logind.service");
    assert!(u.is_present("nftables.service"));
    assert_eq!(u.unit_files["rsyslog.service"].len(), 2);
    assert_eq!(
        u.unit_files["rsyslog.service"][0].path,
        "/etc/systemd/system/rsyslog.service"
    );
    assert!(u.unit_files.contains_key("custom.service"));
    assert!(!u.unit_files.contains_key("multi-user.target.wants"));
    assert!(u.problems.is_empty());
}

#[test]
fn xinetd_and_inetd() {
    let f = MemFiles::default()
        .with("/etc/xinetd.conf", data("xinetd.conf"))
        .with("/etc/xinetd.d/telnet", data("telnet"))
        .with("/etc/xinetd.d/tftp", data("tftp"))
        .with("/etc/xinetd.d/echo-stream", data("echo-stream"))
        .with("/etc/xinetd.d/telnet.rpmsave", "service evil\n{\n}\n")
        .with("/etc/xinetd.d/tftp~", "service evil2\n{\n}\n")
        .with("/etc/inetd.conf", data("inetd.conf"));
    let i = services::inetd(&f);
    assert!(i.inetd_conf_present && i.xinetd_conf_present);
    let names: Vec<(&str, &str, bool)> = i
        .services
        .iter()
        .map(|s| (s.daemon.as_str(), s.name.as_str(), s.enabled))
        .collect();
    assert_eq!(
        names,
        [
            ("inetd", "ftp", true),
            ("inetd", "talk", true),
            ("xinetd", "echo", false),
            ("xinetd", "telnet", true),
            ("xinetd", "tftp", false),
        ]
    );
    let ftp = &i.services[0];
    assert_eq!(
        ftp.attributes["server_args"].value,
        "/usr/sbin/in.ftpd -l -a"
    );
    assert_eq!((ftp.file.as_str(), ftp.line), ("/etc/inetd.conf", 5));
    let telnet = &i.services[3];
    assert_eq!(telnet.disable.as_ref().unwrap().value, "no");
    assert_eq!(telnet.disable.as_ref().unwrap().line, 10);
    assert_eq!(telnet.attributes["server"].value, "/usr/sbin/in.telnetd");
    assert_eq!(telnet.attributes["log_on_failure"].value, "+= USERID");
    assert_eq!(i.xinetd_defaults["disabled"].value, "echo-stream");
    assert_eq!(
        i.problems.len(),
        1,
        "the short inetd line: {:?}",
        i.problems
    );
}

#[test]
fn xinetd_cycles_and_junk() {
    let junk: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let f = MemFiles::default()
        .with(
            "/etc/xinetd.conf",
            "include /etc/xinetd.conf\nincludedir /etc/xinetd.d\nservice x\n{\nfoo\n",
        )
        .with("/etc/xinetd.d/a", "includedir /etc/xinetd.d\n}\n{\n")
        .with("/etc/xinetd.d/b", junk.clone())
        .with("/etc/inetd.conf", junk);
    let i = services::inetd(&f);
    assert!(i.problems.iter().any(|p| p.contains("cycle")));
    assert!(
        !i.services.iter().any(|s| s.name == "x"),
        "unclosed section not counted"
    );
    let f = MemFiles::default().with("/etc/xinetd.conf", "service daytime {\n disable = yes\n}\n");
    let i = services::inetd(&f);
    assert_eq!(i.services[0].name, "daytime");
    assert!(!i.services[0].enabled);
    let u = services::systemd_units(&MemFiles::default(), &|_| None);
    assert!(u.enabled.is_empty() && u.unit_files.is_empty());
}
