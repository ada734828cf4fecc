use coldscan_config::kernel_cmdline::{self, split_words};
use coldscan_config::{MemFiles, Sourced};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/kernel_cmdline/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn vals(v: &[Sourced<String>]) -> Vec<&str> {
    v.iter().map(|a| a.value.as_str()).collect()
}

#[test]
fn debian_default_grub_and_dropins() {
    let f = MemFiles::default()
        .with("/etc/default/grub", data("default-grub-debian12"))
        .with(
            "/etc/default/grub.d/50-cloudimg-settings.cfg",
            data("50-cloudimg-settings.cfg"),
        )
        .with(
            "/etc/default/grub.d/init-select.cfg.dpkg-old",
            "GRUB_CMDLINE_LINUX=evil\n",
        );
    let k = kernel_cmdline::parse(&f);
    let g = &k.grub_default;
    assert_eq!(g.files.len(), 2);
    assert_eq!(
        vals(&g.cmdline_linux_default),
        [
            "console=tty1",
            "console=ttyS0",
            "nvme_core.io_timeout=4294967295"
        ]
    );
    assert_eq!(
        vals(&g.cmdline_linux),
        [
            "audit=1",
            "audit_backlog_limit=8192",
            "apparmor=1",
            "security=apparmor"
        ]
    );
    let d = "/etc/default/grub.d/50-cloudimg-settings.cfg";
    assert_eq!(
        (g.cmdline_linux[0].file.as_str(), g.cmdline_linux[0].line),
        (d, 3)
    );
    assert_eq!(
        g.cmdline_linux[1].line, 3,
        "continued line keeps the assignment's line"
    );
    assert_eq!(g.cmdline_linux[2].line, 5);
    // The backquoted GRUB_DISTRIBUTOR is reported, not run.
    assert!(
        k.problems
            .iter()
            .any(|p| p.contains("command substitution")),
        "{:?}",
        k.problems
    );
}

#[test]
fn self_reference_keeps_older_places() {
    let f = MemFiles::default().with(
        "/etc/default/grub",
        "GRUB_CMDLINE_LINUX='a=1  b'\nX=y\nGRUB_CMDLINE_LINUX=\"c $GRUB_CMDLINE_LINUX d=\\\"q\\\"\" # comment\nGRUB_CMDLINE_LINUX_DEFAULT=$UNSET\n",
    );
    let k = kernel_cmdline::parse(&f);
    let l = &k.grub_default.cmdline_linux;
    // GRUB strips the quotes that reach its `linux` line.
    assert_eq!(vals(l), ["c", "a=1", "b", "d=q"]);
    assert_eq!(l.iter().map(|a| a.line).collect::<Vec<_>>(), [3, 1, 1, 3]);
    assert!(k.grub_default.cmdline_linux_default.is_empty());
    assert!(k.problems.iter().any(|p| p.contains("$UNSET")));
}

#[test]
fn grub_cfg_entries() {
    let f = MemFiles::default().with("/boot/grub/grub.cfg", data("grub.cfg"));
    let k = kernel_cmdline::parse(&f);
    assert_eq!(k.entries.len(), 2);
    let e = &k.entries[0];
    assert_eq!(e.title.as_deref(), Some("Debian GNU/Linux"));
    assert_eq!(e.kernel.as_deref(), Some("/boot/vmlinuz-6.1.0-18-amd64"));
    assert_eq!(vals(&e.args), ["root=UUID=1234", "ro", "quiet", "audit=1"]);
    assert_eq!(
        (e.args[3].file.as_str(), e.args[3].line),
        ("/boot/grub/grub.cfg", 13)
    );
    let r = &k.entries[1];
    assert_eq!(
        r.title.as_deref(),
        Some("Debian GNU/Linux, with Linux 6.1.0-18-amd64 (recovery mode)")
    );
    assert_eq!(r.args.last().unwrap().value, "dyndbg=file drivers/x.c +p");
}

#[test]
fn grub_cfg_nested_blocks() {
    let cfg = "submenu 'Adv' {\n  function f {\n    echo x\n  }\n  menuentry 'Inner' {\n    linux /v a=1\n  }\n  linux /w b=2\n}\nlinux /top c=3\n";
    let k = kernel_cmdline::parse(&MemFiles::default().with("/boot/grub2/grub.cfg", cfg));
    let t: Vec<Option<&str>> = k.entries.iter().map(|e| e.title.as_deref()).collect();
    assert_eq!(t, [Some("Inner"), Some("Adv"), None]);
}

#[test]
fn rhel9_bls_with_grubenv() {
    let f = MemFiles::default()
        .with("/boot/grub2/grubenv", data("grubenv"))
        .with(
            "/boot/loader/entries/abc-5.14.0-362.el9.x86_64.conf",
            data("bls-rhel9.conf"),
        )
        .with(
            "/boot/loader/entries/abc-0-rescue.conf",
            "title rescue\nlinux /vmlinuz-0-rescue\noptions $kernelopts\n",
        )
        .with("/boot/grub2/grub.cfg", "insmod blscfg\nblscfg\n");
    let k = kernel_cmdline::parse(&f);
    assert_eq!(k.entries.len(), 2);
    let rescue = &k.entries[0];
    assert_eq!(
        vals(&rescue.args),
        ["root=/dev/mapper/rhel-root", "ro", "selinux=0"]
    );
    assert_eq!(
        (rescue.args[2].file.as_str(), rescue.args[2].line),
        ("/boot/grub2/grubenv", 4)
    );
    let e = &k.entries[1];
    assert_eq!(e.kind, "bls");
    assert_eq!(
        e.title.as_deref(),
        Some("Red Hat Enterprise Linux (5.14.0-362.el9.x86_64) 9.3 (Plow)")
    );
    assert_eq!(
        vals(&e.args),
        [
            "root=/dev/mapper/rhel-root",
            "ro",
            "crashkernel=1G-4G:192M,4G-64G:256M",
            "resume=/dev/mapper/rhel-swap",
            "rd.lvm.lv=rhel/root",
            "skew_tick=1",
            "audit=1"
        ]
    );
    assert_eq!(e.args[6].line, 6);
    assert!(k.all_args().any(|a| a.value == "selinux=0"));
}

#[test]
fn words_and_junk() {
    assert_eq!(
        split_words("a 'b c' \"d e\" f\\ g"),
        ["a", "b c", "d e", "f g"]
    );
    assert_eq!(split_words("''"), [""]);
    let junk: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let huge = format!("GRUB_CMDLINE_LINUX=\"{}\"\n", "x ".repeat(2 << 20));
    let mut cfg = String::new();
    for _ in 0..5000 {
        cfg.push_str("linux /v $kernelopts $kernelopts\n");
    }
    let f = MemFiles::default()
        .with("/etc/default/grub", huge)
        .with("/etc/default/grub.d/a.cfg", junk.clone())
        .with(
            "/etc/default/grub.d/b.cfg",
            "GRUB_CMDLINE_LINUX=\"unterminated\n",
        )
        .with(
            "/boot/grub2/grubenv",
            format!("kernelopts={}\n", "y ".repeat(30_000)),
        )
        .with("/boot/grub2/grub.cfg", cfg)
        .with("/boot/loader/entries/x.conf", junk);
    let k = kernel_cmdline::parse(&f);
    assert!(k.entries.len() <= 2001);
    assert!(k.entries.iter().all(|e| e.args.len() <= 8192));
    assert!(!k.problems.is_empty());
}
