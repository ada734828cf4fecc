use coldscan_config::accounts::{self, classify, Accounts, HashScheme, PasswordState};
use coldscan_config::MemFiles;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/accounts/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn tree() -> MemFiles {
    MemFiles::default()
        .with("/etc/passwd", data("passwd"))
        .with("/etc/group", data("group"))
        .with("/etc/shadow", data("shadow"))
        .with("/etc/gshadow", data("gshadow"))
}

#[test]
fn users_and_groups() {
    let a = accounts::parse(&tree());
    assert_eq!(a.present.len(), 4);
    let root = a.user("root").unwrap();
    assert_eq!((root.uid, root.gid), (Some(0), Some(0)));
    assert_eq!(root.shell, "/bin/bash");
    assert_eq!((root.file.as_str(), root.line), ("/etc/passwd", 1));
    assert!(root.shadowed);
    assert_eq!(root.passwd_field, PasswordState::NoPassword);
    let admin = a.user("admin").unwrap();
    assert_eq!(admin.gecos, "Admin User,,,");
    assert_eq!(admin.home, "/home/admin");
    // Duplicates are facts.
    assert_eq!(a.users.iter().filter(|u| u.name == "admin").count(), 2);
    assert_eq!(a.users.iter().filter(|u| u.uid == Some(0)).count(), 2);
    // A hash in passwd itself is classified, not kept.
    let legacy = a.user("legacy").unwrap();
    assert!(!legacy.shadowed);
    assert_eq!(legacy.passwd_field, PasswordState::Set);
    let broken = a.user("broken").unwrap();
    assert_eq!(broken.uid, None);
    assert_eq!(a.group("sudo").unwrap().members, ["admin", "legacy"]);
    assert_eq!(a.group("wheel").unwrap().members, ["admin", "toor"]);
    assert_eq!(a.group("wheel").unwrap().gid, Some(10));
    // NIS lines.
    let nis: Vec<&str> = a.nis.iter().map(|n| n.value.as_str()).collect();
    assert_eq!(nis, ["+@netadmins", "-baduser", "+", "+nisuser"]);
}

#[test]
fn shadow_states_and_schemes() {
    let a = accounts::parse(&tree());
    let s = |n: &str| a.shadow_of(n).unwrap_or_else(|| panic!("{n}"));
    assert_eq!(
        (s("root").state, s("root").scheme),
        (PasswordState::NoPassword, HashScheme::None)
    );
    assert_eq!(s("systemd-network").state, PasswordState::NoPassword);
    assert_eq!(s("sshd").state, PasswordState::NoPassword);
    let ad = s("admin");
    assert_eq!(
        (ad.state, ad.scheme),
        (PasswordState::Set, HashScheme::Yescrypt)
    );
    assert_eq!(ad.last_change, Some(19800));
    assert_eq!(ad.min_days, Some(1));
    assert_eq!(ad.max_days, Some(365));
    assert_eq!(ad.warn_days, Some(14));
    assert_eq!(ad.inactive_days, Some(30));
    assert_eq!(ad.expire, Some(20500));
    assert_eq!(s("legacy").scheme, HashScheme::Sha512);
    assert_eq!(s("legacy").last_change, Some(0));
    assert_eq!(
        (s("toor").state, s("toor").scheme),
        (PasswordState::Empty, HashScheme::None)
    );
    assert_eq!(s("oldmd5").scheme, HashScheme::Md5);
    assert_eq!(s("sha256u").scheme, HashScheme::Sha256);
    assert_eq!(s("sha256u").min_days, None);
    assert_eq!(s("bcryptu").scheme, HashScheme::Bcrypt);
    assert_eq!(s("gostu").scheme, HashScheme::GostYescrypt);
    assert_eq!(
        (s("desu").state, s("desu").scheme),
        (PasswordState::Set, HashScheme::Des)
    );
    assert_eq!(
        (s("lockedsha").state, s("lockedsha").scheme),
        (PasswordState::Locked, HashScheme::Sha512)
    );
    assert_eq!(
        (s("locked2").state, s("locked2").scheme),
        (PasswordState::Locked, HashScheme::Sha256)
    );
    assert_eq!(s("weird").state, PasswordState::NoPassword);
    assert_eq!(
        (s("futurescheme").state, s("futurescheme").scheme),
        (PasswordState::Set, HashScheme::Unknown)
    );
    assert!(a.shadow_of("(redacted)").is_some());
    let g = a.gshadow.iter().find(|g| g.name == "secretgrp").unwrap();
    assert_eq!(
        (g.state, g.scheme),
        (PasswordState::Set, HashScheme::Sha512)
    );
    assert_eq!(g.admins, ["admin"]);
}

#[test]
fn classify_edge_cases() {
    assert_eq!(classify(""), (PasswordState::Empty, HashScheme::None));
    assert_eq!(
        classify("!!"),
        (PasswordState::NoPassword, HashScheme::None)
    );
    assert_eq!(
        classify("!*"),
        (PasswordState::NoPassword, HashScheme::None)
    );
    assert_eq!(
        classify("*LK*"),
        (PasswordState::NoPassword, HashScheme::None)
    );
    assert_eq!(classify("!ab01FAX.bQRSU").0, PasswordState::Locked);
    assert_eq!(classify("$2y$10$abc").1, HashScheme::Bcrypt);
    assert_eq!(
        classify("x"),
        (PasswordState::NoPassword, HashScheme::Unknown)
    );
}

/// Collect every string a `Serialize` value emits (a tiny serializer, so
/// the test needs no JSON crate).
mod collect {
    use serde::ser::{self, Serialize};
    use std::fmt;

    #[derive(Debug)]
    pub struct E(String);
    impl fmt::Display for E {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for E {}
    impl ser::Error for E {
        fn custom<T: fmt::Display>(m: T) -> Self {
            E(m.to_string())
        }
    }

    #[derive(Default)]
    pub struct S(pub Vec<String>);
    type R = Result<(), E>;

    macro_rules! prim {
        ($($f:ident: $t:ty),*) => {$(fn $f(self, v: $t) -> R { self.0.push(v.to_string()); Ok(()) })*};
    }
    impl ser::Serializer for &mut S {
        type Ok = ();
        type Error = E;
        type SerializeSeq = Self;
        type SerializeTuple = Self;
        type SerializeTupleStruct = Self;
        type SerializeTupleVariant = Self;
        type SerializeMap = Self;
        type SerializeStruct = Self;
        type SerializeStructVariant = Self;
        prim!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
              serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
              serialize_u64: u64, serialize_f32: f32, serialize_f64: f64, serialize_char: char,
              serialize_str: &str);
        fn serialize_bytes(self, v: &[u8]) -> R {
            self.0.push(String::from_utf8_lossy(v).into_owned());
            Ok(())
        }
        fn serialize_none(self) -> R {
            Ok(())
        }
        fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R {
            v.serialize(self)
        }
        fn serialize_unit(self) -> R {
            Ok(())
        }
        fn serialize_unit_struct(self, _: &'static str) -> R {
            Ok(())
        }
        fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> R {
            self.0.push(v.to_string());
            Ok(())
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> R {
            v.serialize(self)
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            v: &T,
        ) -> R {
            v.serialize(self)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self, E> {
            Ok(self)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self, E> {
            Ok(self)
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, E> {
            Ok(self)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self, E> {
            Ok(self)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self, E> {
            Ok(self)
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, E> {
            Ok(self)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self, E> {
            Ok(self)
        }
    }
    macro_rules! compound {
        ($tr:ident, $m:ident) => {
            impl ser::$tr for &mut S {
                type Ok = ();
                type Error = E;
                fn $m<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
                    v.serialize(&mut **self)
                }
                fn end(self) -> R {
                    Ok(())
                }
            }
        };
    }
    compound!(SerializeSeq, serialize_element);
    compound!(SerializeTuple, serialize_element);
    compound!(SerializeTupleStruct, serialize_field);
    compound!(SerializeTupleVariant, serialize_field);
    impl ser::SerializeMap for &mut S {
        type Ok = ();
        type Error = E;
        fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> R {
            k.serialize(&mut **self)
        }
        fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
            v.serialize(&mut **self)
        }
        fn end(self) -> R {
            Ok(())
        }
    }
    impl ser::SerializeStruct for &mut S {
        type Ok = ();
        type Error = E;
        fn serialize_field<T: ?Sized + Serialize>(&mut self, k: &'static str, v: &T) -> R {
            self.0.push(k.to_string());
            v.serialize(&mut **self)
        }
        fn end(self) -> R {
            Ok(())
        }
    }
    impl ser::SerializeStructVariant for &mut S {
        type Ok = ();
        type Error = E;
        fn serialize_field<T: ?Sized + Serialize>(&mut self, k: &'static str, v: &T) -> R {
            self.0.push(k.to_string());
            v.serialize(&mut **self)
        }
        fn end(self) -> R {
            Ok(())
        }
    }

    pub fn strings<T: Serialize>(v: &T) -> Vec<String> {
        let mut s = S::default();
        v.serialize(&mut s).unwrap();
        s.0
    }
}

/// Every password field of the input: none may appear anywhere in the
/// serialized result (nor in its Debug form), whole or as its salt/hash part.
#[test]
fn serialized_result_never_contains_a_hash() {
    let a: Accounts = accounts::parse(&tree());
    let strings = collect::strings(&a);
    assert!(strings.len() > 100, "serializer saw the data");
    assert!(strings.iter().any(|s| s == "yescrypt"));
    let mut secrets = Vec::new();
    for f in ["passwd", "shadow", "gshadow"] {
        for l in String::from_utf8(data(f)).unwrap().lines() {
            for (i, field) in l.split(':').enumerate() {
                if i != 1 && !field.starts_with('$') {
                    continue;
                }
                let bare = field
                    .trim_start_matches(['!', '*', '+', '-'])
                    .trim_start_matches("LK*");
                if bare.starts_with('$') || bare.len() >= 13 {
                    secrets.push(bare.to_string());
                    // The hash part after the last '$' alone, too.
                    if let Some(h) = bare.rsplit('$').next().filter(|h| h.len() >= 8) {
                        secrets.push(h.to_string());
                    }
                }
            }
        }
    }
    assert!(secrets.len() >= 14, "{secrets:?}");
    let debug = format!("{a:?}");
    for sec in &secrets {
        assert!(
            !strings.iter().any(|s| s.contains(sec.as_str())),
            "hash leaked: {sec}"
        );
        assert!(!debug.contains(sec.as_str()), "hash leaked in Debug: {sec}");
    }
}

/// Found by fuzzing: NIS lines and damaged lines carrying hashes in other
/// fields than the password field. Nothing hash-shaped may come out.
#[test]
fn fuzz_regression_hash_in_other_fields() {
    let input = data("fuzz-nis-joined-lines");
    let names = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"];
    let mut f = MemFiles::default();
    for (name, chunk) in names.iter().zip(input.split(|b| *b == 0xFF)) {
        f = f.with(name, chunk);
    }
    let a = accounts::parse(&f);
    let strings = collect::strings(&a);
    for s in &strings {
        assert!(
            !s.contains("NisHash") && !s.contains("$6$") && !s.contains("$j9T$"),
            "{s}"
        );
    }
    let f = MemFiles::default()
        .with(
            "/etc/passwd",
            "u:x:1:1:$6$salt$hashhashhash:/home/$y$j9T$x:/bin/sh\n",
        )
        .with("/etc/group", "g:x:1:a,$5$s$h\n");
    let a = accounts::parse(&f);
    let u = a.user("u").unwrap();
    assert_eq!(
        (u.gecos.as_str(), u.home.as_str()),
        ("(redacted)", "(redacted)")
    );
    assert_eq!(a.group("g").unwrap().members, ["a", "(redacted)"]);
}

#[test]
fn malformed_and_hostile() {
    let mut f = MemFiles::default()
        .with(
            "/etc/passwd",
            (0..=255u8).cycle().take(300_000).collect::<Vec<u8>>(),
        )
        .with(
            "/etc/shadow",
            "a\n::\n:::::::::::::::::::::::::\nx:$6$s$h:notnum:-1:\n\n#c\n",
        );
    let mut line = b"u:x:1:1:".to_vec();
    line.extend(std::iter::repeat_n(b'g', 5 << 20));
    f = f.with("/etc/group", format!("big:x:5:{}\n", "m,".repeat(50_000)));
    f = f.with("/etc/gshadow", line);
    let a = accounts::parse(&f);
    assert!(!a.problems.is_empty());
    assert!(a.group("big").unwrap().members.len() <= 10_000);
    let x = a.shadow_of("x").unwrap();
    assert_eq!((x.last_change, x.min_days), (None, Some(-1)));
}

/// `pwck -r -R ROOT` (Debian package passwd; needs root for the chroot)
/// reads the same four files: every line it calls invalid must be one we
/// report, its duplicates must be duplicates for us, its shadow entries
/// without a passwd entry must lack one for us too.
#[test]
fn differential_pwck() {
    use std::process::Command;
    let root = std::env::temp_dir().join(format!("coldscan-pwck-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("etc")).unwrap();
    for f in ["passwd", "group", "shadow", "gshadow"] {
        std::fs::write(root.join("etc").join(f), data(f)).unwrap();
    }
    let out = Command::new("pwck").arg("-r").arg("-R").arg(&root).output();
    let _ = std::fs::remove_dir_all(&root);
    let Ok(out) = out else {
        eprintln!("SKIPPED: pwck not installed (Debian package passwd)");
        return;
    };
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if text.contains("cannot chroot") || text.contains("Operation not permitted") {
        eprintln!("SKIPPED: pwck -R needs root");
        return;
    }
    let a = accounts::parse(&tree());
    let lines: Vec<&str> = text.lines().collect();
    let line_no = |file: &str, l: &str| -> usize {
        String::from_utf8(data(file))
            .unwrap()
            .lines()
            .position(|x| x == l)
            .unwrap()
            + 1
    };
    let (mut invalid, mut dups, mut orphans, mut unshadowed) = (0, 0, 0, 0);
    for (i, msg) in lines.iter().enumerate() {
        let deleted = lines
            .get(i + 1)
            .and_then(|n| n.strip_prefix("delete line '"))
            .and_then(|n| n.strip_suffix("'? No"));
        match (*msg, deleted) {
            ("invalid password file entry", Some(l))
            | ("invalid shadow password file entry", Some(l)) => {
                let (file, path) = if msg.contains("shadow") {
                    ("shadow", "/etc/shadow")
                } else {
                    ("passwd", "/etc/passwd")
                };
                let tag = format!("{path}:{}:", line_no(file, l));
                assert!(
                    a.problems.iter().any(|p| p.starts_with(&tag)),
                    "pwck: invalid {tag}; ours: {:?}",
                    a.problems
                );
                invalid += 1;
            }
            ("duplicate password entry", Some(l)) => {
                let n = line_no("passwd", l);
                let u = a.users.iter().find(|u| u.line == n).unwrap();
                assert!(a.users.iter().filter(|x| x.name == u.name).count() > 1);
                dups += 1;
            }
            ("no matching password file entry in /etc/passwd", Some(l)) => {
                let n = line_no("shadow", l);
                let s = a.shadow.iter().find(|s| s.line == n).unwrap();
                assert!(a.user(&s.name).is_none(), "{}", s.name);
                orphans += 1;
            }
            _ => {
                if let Some(rest) = msg.strip_prefix("user ") {
                    if let Some(name) = rest.strip_suffix(" has an entry in /etc/shadow, but its password field in /etc/passwd is not set to 'x'") {
                        assert!(!a.user(name).unwrap().shadowed);
                        unshadowed += 1;
                    }
                }
            }
        }
    }
    assert_eq!((invalid, dups, unshadowed), (2, 2, 1), "{text}");
    assert!(orphans >= 8);
}
