use coldscan_config::sudoers;
use coldscan_config::MemFiles;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/sudoers/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn debian12_with_includedir() {
    let f = MemFiles::default()
        .with("/etc/sudoers", data("debian12"))
        .with("/etc/sudoers.d/README", "# comments only\n")
        .with(
            "/etc/sudoers.d/90-cloud-init-users",
            "# Created by cloud-init\nadmin ALL=(ALL) NOPASSWD:ALL\n",
        )
        .with("/etc/sudoers.d/10-old~", "evil ALL=(ALL) NOPASSWD: ALL\n")
        .with("/etc/sudoers.d/20-x.bak", "evil ALL=(ALL) NOPASSWD: ALL\n");
    let s = sudoers::parse(&f);
    assert_eq!(
        s.files,
        [
            "/etc/sudoers",
            "/etc/sudoers.d/90-cloud-init-users",
            "/etc/sudoers.d/README"
        ]
    );
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    let pty = s.global_default("use_pty").unwrap();
    assert_eq!((pty.line, pty.negated, pty.op.as_str()), (7, false, ""));
    let sp = s.global_default("secure_path").unwrap();
    assert_eq!(
        sp.value.as_deref(),
        Some("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    );
    assert_eq!(s.user_specs.len(), 3);
    let root = &s.user_specs[0];
    assert_eq!(root.users, ["root"]);
    assert_eq!(root.privileges[0].hosts, ["ALL"]);
    let c = &root.privileges[0].commands[0];
    assert_eq!(c.runas_users.as_deref(), Some(&["ALL".to_string()][..]));
    assert_eq!(c.runas_groups.as_deref(), Some(&["ALL".to_string()][..]));
    assert_eq!(c.command, "ALL");
    assert_eq!(s.user_specs[1].users, ["%sudo"]);
    let ci = &s.user_specs[2];
    assert_eq!(
        (ci.file.as_str(), ci.line),
        ("/etc/sudoers.d/90-cloud-init-users", 2)
    );
    assert_eq!(ci.privileges[0].commands[0].tags, ["NOPASSWD"]);
    assert_eq!(ci.privileges[0].commands[0].command, "ALL");
    assert!(!s.user_specs.iter().any(|u| u.users == ["evil"]));
}

#[test]
fn rhel9_defaults_aliases_and_specs() {
    let f = MemFiles::default().with("/etc/sudoers", data("rhel9"));
    let s = sudoers::parse(&f);
    // the #includedir target is missing
    assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
    let kinds: Vec<(&str, &str)> = s
        .aliases
        .iter()
        .map(|a| (a.kind.as_str(), a.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Host_Alias", "FILESERVERS"),
            ("Host_Alias", "MAILSERVERS"),
            ("User_Alias", "ADMINS"),
            ("Cmnd_Alias", "NETWORKING"),
            ("Cmnd_Alias", "SOFTWARE")
        ]
    );
    let net = &s.aliases[3];
    assert_eq!(net.members.len(), 6);
    assert_eq!(net.members[5], "/sbin/iptables");
    assert_eq!(net.line, 5);
    let vis = s.global_default("visiblepw").unwrap();
    assert!(vis.negated);
    let keep: Vec<_> = s.defaults.iter().filter(|d| d.name == "env_keep").collect();
    assert_eq!(keep[1].op, "+=");
    assert_eq!(
        keep[1].value.as_deref(),
        Some("MAIL QTDIR USERNAME LANG LC_ADDRESS LC_CTYPE")
    );
    let auth = s
        .defaults
        .iter()
        .find(|d| d.name == "authenticate")
        .unwrap();
    assert_eq!((auth.binding_kind.as_str(), auth.negated), (":", true));
    assert_eq!(auth.binding, ["ADMINS"]);
    let lo = s.defaults.iter().find(|d| d.name == "log_output").unwrap();
    assert_eq!(lo.binding_kind, "@");
    assert_eq!(lo.binding, ["FILESERVERS", "MAILSERVERS"]);
    assert_eq!(
        s.defaults
            .iter()
            .find(|d| d.name == "noexec")
            .unwrap()
            .binding,
        ["/usr/bin/less"]
    );
    assert_eq!(
        s.defaults
            .iter()
            .find(|d| d.name == "set_logname")
            .unwrap()
            .binding_kind,
        ">"
    );
    assert_eq!(
        s.global_default("logfile").unwrap().value.as_deref(),
        Some("/var/log/sudo.log")
    );
    assert_eq!(
        s.global_default("timestamp_timeout")
            .unwrap()
            .value
            .as_deref(),
        Some("15")
    );

    let spec = s
        .user_specs
        .iter()
        .find(|u| u.users[0] == "ADMINS")
        .unwrap();
    assert_eq!(spec.users, ["ADMINS", "#1005"]);
    assert_eq!(spec.privileges.len(), 2);
    let p0 = &spec.privileges[0];
    assert_eq!(p0.hosts, ["FILESERVERS"]);
    assert_eq!(p0.commands[0].command, "/usr/bin/systemctl restart nfs");
    assert_eq!(p0.commands[0].tags, ["NOPASSWD"]);
    assert_eq!(p0.commands[1].command, "/bin/kill");
    assert_eq!(p0.commands[1].tags, ["PASSWD"]);
    assert_eq!(
        p0.commands[1].runas_users.as_deref(),
        Some(&["root".to_string()][..])
    );
    let p1 = &spec.privileges[1];
    assert_eq!(p1.hosts, ["MAILSERVERS"]);
    assert_eq!(
        p1.commands[0].runas_users.as_deref(),
        Some(&["postfix".to_string()][..])
    );
    assert_eq!(
        p1.commands[0].runas_groups.as_deref(),
        Some(&["mail".to_string()][..])
    );
    assert_eq!(p1.commands[0].tags, ["NOEXEC", "SETENV"]);
    assert_eq!(p1.commands[0].command, "/usr/sbin/postfix reload");

    let op = s
        .user_specs
        .iter()
        .find(|u| u.users[0] == "operator")
        .unwrap();
    let cs = &op.privileges[0].commands;
    assert_eq!(cs.len(), 3);
    assert_eq!(cs[0].options, [("CWD".to_string(), "/tmp".to_string())]);
    assert!(cs[1].negated && cs[1].command == "/usr/bin/su");
    assert_eq!(cs[2].tags, ["NOPASSWD"], "tags carry over");
    assert_eq!(cs[2].command, "/bin/bash");
    let gid = s
        .user_specs
        .iter()
        .find(|u| u.users[0] == "%#1010")
        .unwrap();
    let c = &gid.privileges[0].commands[0];
    assert_eq!(
        c.options,
        [(
            "sha224".to_string(),
            "54a2f7f92a5f975d8096af77a126edda7da60c5aa872ef1b871701ae".to_string()
        )]
    );
    assert_eq!(c.command, "/usr/bin/foo --opt\\=1");
    assert_eq!(s.includes[0].value, "#includedir /etc/sudoers.d");
}

#[test]
fn includes_relative_cycles_and_depth() {
    let mut f = MemFiles::default()
        .with(
            "/etc/sudoers",
            "@include sudoers.local\n#include \"/etc/sudo b\"\n",
        )
        .with(
            "/etc/sudoers.local",
            "Defaults use_pty\n@include /etc/sudoers\n",
        )
        .with(
            "/etc/sudo b",
            "Defaults !authenticate\n@include /etc/sudoers.%h\n",
        );
    for i in 0..40 {
        f = f.with(
            &format!("/etc/chain{i}"),
            format!("@include /etc/chain{}\nDefaults x{i}\n", i + 1),
        );
    }
    f = f.with(
        "/etc/sudoers",
        "@include sudoers.local\n#include \"/etc/sudo b\"\n@include /etc/chain0\n",
    );
    let s = sudoers::parse(&f);
    assert!(s.global_default("use_pty").is_some());
    assert!(s.global_default("authenticate").unwrap().negated);
    assert!(
        s.problems.iter().any(|p| p.contains("cycle")),
        "{:?}",
        s.problems
    );
    assert!(s.problems.iter().any(|p| p.contains("%h")));
    assert!(s.problems.iter().any(|p| p.contains("depth")));
    assert!(s.files.len() <= 20);
    // includedir pointing at its own directory's parent file: cycle again
    let f = MemFiles::default()
        .with("/etc/sudoers", "@includedir /etc/sudoers.d\n")
        .with("/etc/sudoers.d/a", "@includedir /etc/sudoers.d\n");
    let s = sudoers::parse(&f);
    assert!(s.problems.iter().any(|p| p.contains("cycle")));
}

#[test]
fn junk_and_huge() {
    let junk: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    let mut long = b"alice ALL = ".to_vec();
    long.extend(std::iter::repeat_n(b"/bin/x, ".as_slice(), 100_000).flatten());
    let cont = "Defaults \\\n".repeat(50_000);
    let f = MemFiles::default()
        .with("/etc/sudoers", "@include /etc/j\n@include /etc/l\n@include /etc/c\n\\\nDefaults\nDefaults:\n= x\nfoo\n(\n")
        .with("/etc/j", junk)
        .with("/etc/l", long)
        .with("/etc/c", cont);
    let s = sudoers::parse(&f);
    assert!(!s.problems.is_empty());
    let t = sudoers::parse_text("bob ALL=(ALL:ALL) NOPASSWD: ALL\n", "x");
    assert_eq!(t.user_specs[0].privileges[0].commands[0].tags, ["NOPASSWD"]);
}

// ------------------------------------------------------------------ oracle

/// Just enough JSON for `cvtsudoers -f json` output, which (sudo 1.9.13)
/// can put a bare `"key": value` pair inside an array: read as an object.
mod json {
    #[derive(Debug, Clone, PartialEq)]
    pub enum V {
        Null,
        Bool(bool),
        Num(String),
        Str(String),
        Arr(Vec<V>),
        Obj(Vec<(String, V)>),
    }
    impl V {
        pub fn get(&self, k: &str) -> Option<&V> {
            match self {
                V::Obj(o) => o.iter().find(|(n, _)| n == k).map(|(_, v)| v),
                _ => None,
            }
        }
        pub fn arr(&self) -> &[V] {
            match self {
                V::Arr(a) => a,
                _ => &[],
            }
        }
        pub fn text(&self) -> String {
            match self {
                V::Str(s) | V::Num(s) => s.clone(),
                V::Bool(b) => b.to_string(),
                V::Arr(a) => a.iter().map(V::text).collect::<Vec<_>>().join(" "),
                _ => String::new(),
            }
        }
    }
    pub struct P<'a> {
        b: &'a [u8],
        i: usize,
    }
    pub fn parse(s: &str) -> V {
        let mut p = P {
            b: s.as_bytes(),
            i: 0,
        };
        p.value()
    }
    impl P<'_> {
        fn ws(&mut self) {
            while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> bool {
            self.ws();
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                true
            } else {
                false
            }
        }
        fn string(&mut self) -> String {
            self.ws();
            assert_eq!(self.b[self.i], b'"');
            self.i += 1;
            let mut out = Vec::new();
            while self.b[self.i] != b'"' {
                if self.b[self.i] == b'\\' {
                    self.i += 1;
                    out.push(match self.b[self.i] {
                        b'n' => b'\n',
                        b't' => b'\t',
                        c => c,
                    });
                } else {
                    out.push(self.b[self.i]);
                }
                self.i += 1;
            }
            self.i += 1;
            String::from_utf8(out).unwrap()
        }
        pub fn value(&mut self) -> V {
            self.ws();
            match self.b[self.i] {
                b'{' => {
                    self.i += 1;
                    let mut o = Vec::new();
                    while !self.eat(b'}') {
                        self.eat(b',');
                        let k = self.string();
                        assert!(self.eat(b':'));
                        o.push((k, self.value()));
                    }
                    V::Obj(o)
                }
                b'[' => {
                    self.i += 1;
                    let mut a = Vec::new();
                    while !self.eat(b']') {
                        self.eat(b',');
                        let v = self.value();
                        if self.eat(b':') {
                            let k = v.text();
                            a.push(V::Obj(vec![(k, self.value())]));
                        } else {
                            a.push(v);
                        }
                    }
                    V::Arr(a)
                }
                b'"' => V::Str(self.string()),
                b't' => {
                    self.i += 4;
                    V::Bool(true)
                }
                b'f' => {
                    self.i += 5;
                    V::Bool(false)
                }
                b'n' => {
                    self.i += 4;
                    V::Null
                }
                _ => {
                    let s = self.i;
                    while self.i < self.b.len()
                        && (self.b[self.i] == b'-' || self.b[self.i].is_ascii_digit())
                    {
                        self.i += 1;
                    }
                    V::Num(String::from_utf8_lossy(&self.b[s..self.i]).into_owned())
                }
            }
        }
    }
}

/// A member of a user/host/command list as written in sudoers.
fn member(v: &json::V) -> String {
    let json::V::Obj(o) = v else { return v.text() };
    let neg = v.get("negated") == Some(&json::V::Bool(true));
    let (k, val) = o
        .iter()
        .find(|(k, _)| k != "negated" && !k.starts_with("sha"))
        .unwrap();
    let prefix = match k.as_str() {
        "usergroup" => "%",
        "userid" => "#",
        "usergid" => "%#",
        "netgroup" => "+",
        "nonunixgroup" => "%:",
        _ => "",
    };
    format!("{}{prefix}{}", if neg { "!" } else { "" }, val.text())
}

fn unescape(s: &str) -> String {
    let mut o = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                o.push(n);
            }
        } else {
            o.push(c);
        }
    }
    o
}

type Row = (
    Vec<String>,
    Vec<String>,
    Option<Vec<String>>,
    Option<Vec<String>>,
    String,
    Option<bool>,
    Option<bool>,
);

/// `cvtsudoers -f json` (Debian package sudo) parses the same file: the
/// Defaults, aliases and every (users, hosts, runas, command, tags) must
/// agree with ours.
#[test]
fn differential_cvtsudoers() {
    use std::process::Command;
    if !Command::new("cvtsudoers")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("SKIPPED: cvtsudoers not installed (Debian package sudo)");
        return;
    }
    for name in ["rhel9", "debian12"] {
        let text: String = String::from_utf8(data(name))
            .unwrap()
            .lines()
            .filter(|l| !l.contains("includedir"))
            .map(|l| format!("{l}\n"))
            .collect();
        let tmp =
            std::env::temp_dir().join(format!("coldscan-sudoers-{}-{name}", std::process::id()));
        std::fs::write(&tmp, &text).unwrap();
        let out = Command::new("cvtsudoers")
            .args(["-f", "json"])
            .arg(&tmp)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&tmp);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = json::parse(&String::from_utf8(out.stdout).unwrap());
        let ours = sudoers::parse_text(&text, "/etc/sudoers");
        assert!(ours.problems.is_empty(), "{:?}", ours.problems);

        // Defaults: (binding, name, value)
        let mut td = Vec::new();
        for d in theirs.get("Defaults").map(|v| v.arr()).unwrap_or(&[]) {
            let binding: Vec<String> = d
                .get("Binding")
                .map(|b| b.arr().iter().map(member).collect())
                .unwrap_or_default();
            for o in d.get("Options").unwrap().arr() {
                let json::V::Obj(pairs) = o else { panic!() };
                let (k, v) = pairs.iter().find(|(k, _)| k != "operation").unwrap();
                td.push((binding.clone(), k.clone(), v.text()));
            }
        }
        let od: Vec<(Vec<String>, String, String)> = ours
            .defaults
            .iter()
            .map(|d| {
                let v = match &d.value {
                    Some(v) => v.split_whitespace().collect::<Vec<_>>().join(" "),
                    None => (!d.negated).to_string(),
                };
                (d.binding.clone(), d.name.clone(), v)
            })
            .collect();
        assert_eq!(od, td, "{name}: Defaults");

        // Aliases
        let mut ta = Vec::new();
        for (key, kind) in [
            ("User_Aliases", "User_Alias"),
            ("Runas_Aliases", "Runas_Alias"),
            ("Host_Aliases", "Host_Alias"),
            ("Command_Aliases", "Cmnd_Alias"),
        ] {
            if let Some(json::V::Obj(m)) = theirs.get(key) {
                for (n, members) in m {
                    ta.push((
                        kind.to_string(),
                        n.clone(),
                        members.arr().iter().map(member).collect::<Vec<_>>(),
                    ));
                }
            }
        }
        let mut oa: Vec<_> = ours
            .aliases
            .iter()
            .map(|a| (a.kind.clone(), a.name.clone(), a.members.clone()))
            .collect();
        ta.sort();
        oa.sort();
        assert_eq!(oa, ta, "{name}: aliases");

        // User specs, one row per command.
        let mut tr: Vec<Row> = Vec::new();
        for us in theirs.get("User_Specs").unwrap().arr() {
            let users: Vec<String> = us
                .get("User_List")
                .unwrap()
                .arr()
                .iter()
                .map(member)
                .collect();
            let hosts: Vec<String> = us
                .get("Host_List")
                .unwrap()
                .arr()
                .iter()
                .map(member)
                .collect();
            for cs in us.get("Cmnd_Specs").unwrap().arr() {
                let ru = cs.get("runasusers").map(|r| {
                    r.arr()
                        .iter()
                        .map(|m| m.arr().first().map(member).unwrap_or_else(|| member(m)))
                        .collect()
                });
                let rg = cs.get("runasgroups").map(|r| {
                    r.arr()
                        .iter()
                        .map(|m| member(m).trim_start_matches('%').to_string())
                        .collect()
                });
                let opt = |k: &str| {
                    cs.get("Options")
                        .and_then(|o| o.arr().iter().find_map(|x| x.get(k)))
                        .and_then(|v| match v {
                            json::V::Bool(b) => Some(*b),
                            _ => None,
                        })
                };
                for c in cs.get("Commands").unwrap().arr() {
                    tr.push((
                        users.clone(),
                        hosts.clone(),
                        ru.clone(),
                        rg.clone(),
                        member(c),
                        opt("authenticate"),
                        opt("noexec"),
                    ));
                }
            }
        }
        let mut or: Vec<Row> = Vec::new();
        for us in &ours.user_specs {
            for p in &us.privileges {
                for c in &p.commands {
                    let tag = |yes: &str, no: &str| {
                        if c.tags.iter().any(|t| t == yes) {
                            Some(true)
                        } else if c.tags.iter().any(|t| t == no) {
                            Some(false)
                        } else {
                            None
                        }
                    };
                    or.push((
                        us.users.clone(),
                        p.hosts.clone(),
                        c.runas_users.clone(),
                        c.runas_groups.clone(),
                        format!(
                            "{}{}",
                            if c.negated { "!" } else { "" },
                            unescape(&c.command)
                        ),
                        tag("PASSWD", "NOPASSWD"),
                        tag("NOEXEC", "EXEC"),
                    ));
                }
            }
        }
        assert!(
            tr.len() >= 2 && !td.is_empty(),
            "{name}: the oracle said something"
        );
        assert_eq!(or, tr, "{name}: user specs");
    }
}
