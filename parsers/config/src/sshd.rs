//! The effective OpenSSH server configuration, as `sshd -T` would print it
//! (without `-C`): `/etc/ssh/sshd_config` with its `Include`s expanded in
//! place, first value wins (except for the accumulating keywords), `Match`
//! blocks kept apart, and the compiled-in defaults of the installed OpenSSH
//! version filled in. Facts only: never fails, never judges.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ConfigFiles, Sourced};

/// Where sshd looks for its configuration and resolves relative `Include`s.
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";
const SSHDIR: &str = "/etc/ssh";
/// OpenSSH's READCONF_MAX_DEPTH.
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// At most this many files are read (main file and includes together).
pub const MAX_FILES: usize = 256;
/// At most this many lines are parsed over all files.
pub const MAX_LINES: usize = 100_000;
/// Line problems listed per file before they are summarised.
const MAX_PROBLEMS_PER_FILE: usize = 20;
/// Files larger than this are not parsed.
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// The effective sshd configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshdConfig {
    /// The OpenSSH version the defaults were taken for, as given.
    pub openssh_version: Option<String>,
    /// Global settings: lowercase keyword → values as `sshd -T` prints them.
    /// Single-valued keywords hold one entry (the first one set, or the
    /// compiled-in default); accumulating ones (AllowUsers, Port, HostKey,
    /// AcceptEnv, ...) hold one entry per item, in order.
    pub settings: BTreeMap<String, Vec<Sourced<String>>>,
    /// `Match` blocks in file order; they do not change `settings`.
    pub matches: Vec<MatchBlock>,
    /// Every file read, in the order it was read.
    pub files: Vec<String>,
    /// What could not be read or understood (unknown keyword, unreadable or
    /// too deep include, default not known for this version, ...).
    pub problems: Vec<String>,
}

/// One `Match` block: its criteria and the keyword lines under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchBlock {
    /// The criteria as written after `Match`, tokens joined by one space.
    pub criteria: Sourced<String>,
    /// (criterion lowercase, argument) pairs; `all` has an empty argument.
    pub conditions: Vec<(String, String)>,
    pub lines: Vec<MatchLine>,
}

/// A keyword line inside a `Match` block, value normalised like a global one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchLine {
    pub keyword: String,
    pub value: Sourced<String>,
}

impl SshdConfig {
    /// The effective value of a single-valued keyword (any case).
    pub fn get(&self, keyword: &str) -> Option<&Sourced<String>> {
        self.settings
            .get(&canonical_keyword(&keyword.to_ascii_lowercase()))
            .and_then(|v| v.first())
    }

    /// Just the value string of [`SshdConfig::get`].
    pub fn value(&self, keyword: &str) -> Option<&str> {
        self.get(keyword).map(|s| s.value.as_str())
    }

    /// All entries of an accumulating keyword (empty if none).
    pub fn get_all(&self, keyword: &str) -> &[Sourced<String>] {
        self.settings
            .get(&canonical_keyword(&keyword.to_ascii_lowercase()))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }
}

/// Keywords whose lines accumulate instead of first-value-wins; each item
/// (argument) becomes its own entry, as `sshd -T` prints them.
const ACCUMULATE_ITEMS: &[&str] = &[
    "acceptenv",
    "allowgroups",
    "allowusers",
    "denygroups",
    "denyusers",
    "hostcertificate",
    "hostkey",
    "listenaddress",
    "port",
];
/// Accumulating keywords where the whole line is one entry.
const ACCUMULATE_LINES: &[&str] = &["subsystem"];

const FLAGS: &[&str] = &[
    "allowagentforwarding",
    "disableforwarding",
    "exposeauthinfo",
    "gssapiauthentication",
    "gssapicleanupcredentials",
    "gssapikeyexchange",
    "gssapistorecredentialsonrekey",
    "gssapistrictacceptorcheck",
    "hostbasedauthentication",
    "hostbasedusesnamefrompacketonly",
    "ignoreuserknownhosts",
    "kbdinteractiveauthentication",
    "kerberosauthentication",
    "kerberosgetafstoken",
    "kerberosorlocalpasswd",
    "kerberosticketcleanup",
    "passwordauthentication",
    "permitemptypasswords",
    "permittty",
    "permituserrc",
    "printlastlog",
    "printmotd",
    "pubkeyauthentication",
    "streamlocalbindunlink",
    "strictmodes",
    "tcpkeepalive",
    "usedns",
    "usepam",
    "x11forwarding",
    "x11uselocalhost",
];
/// Keywords taking one word from a fixed set: lowercased.
const MULTISTATE: &[&str] = &[
    "addressfamily",
    "allowstreamlocalforwarding",
    "allowtcpforwarding",
    "compression",
    "gatewayports",
    "ignorerhosts",
    "permitrootlogin",
    "permittunnel",
    "permituserenvironment",
];
const INTEGERS: &[&str] = &[
    "clientalivecountmax",
    "maxauthtries",
    "maxsessions",
    "requiredrsasize",
    "x11displayoffset",
];
/// Time values (`1m30s`), printed in seconds.
const TIMES: &[&str] = &["clientaliveinterval", "logingracetime"];
const CRYPTO_LISTS: &[&str] = &["ciphers", "kexalgorithms", "macs"];

/// Every keyword OpenSSH 7.x–9.x knows (incl. deprecated/unsupported and the
/// Debian/Red Hat GSSAPI patch ones); others are reported as unknown.
const KNOWN: &[&str] = &[
    "acceptenv",
    "addressfamily",
    "afstokenpassing",
    "allowagentforwarding",
    "allowgroups",
    "allowstreamlocalforwarding",
    "allowtcpforwarding",
    "allowusers",
    "authenticationmethods",
    "authorizedkeyscommand",
    "authorizedkeyscommanduser",
    "authorizedkeysfile",
    "authorizedkeysfile2",
    "authorizedprincipalscommand",
    "authorizedprincipalscommanduser",
    "authorizedprincipalsfile",
    "banner",
    "casignaturealgorithms",
    "challengeresponseauthentication",
    "channeltimeout",
    "checkmail",
    "chrootdirectory",
    "ciphers",
    "clientalivecountmax",
    "clientaliveinterval",
    "compression",
    "debianbanner",
    "denygroups",
    "denyusers",
    "disableforwarding",
    "dsaauthentication",
    "exposeauthinfo",
    "fingerprinthash",
    "forcecommand",
    "gatewayports",
    "gssapiauthentication",
    "gssapicleanupcredentials",
    "gssapienablek5users",
    "gssapikexalgorithms",
    "gssapikeyexchange",
    "gssapistorecredentialsonrekey",
    "gssapistrictacceptorcheck",
    "hostbasedacceptedalgorithms",
    "hostbasedacceptedkeytypes",
    "hostbasedauthentication",
    "hostbasedusesnamefrompacketonly",
    "hostcertificate",
    "hostkey",
    "hostkeyagent",
    "hostkeyalgorithms",
    "ignorerhosts",
    "ignoreuserknownhosts",
    "include",
    "ipqos",
    "kbdinteractiveauthentication",
    "kerberosauthentication",
    "kerberosgetafstoken",
    "kerberosorlocalpasswd",
    "kerberosticketcleanup",
    "kerberostgtpassing",
    "keepalive",
    "kexalgorithms",
    "keyregenerationinterval",
    "listenaddress",
    "logingracetime",
    "loglevel",
    "logverbose",
    "macs",
    "match",
    "maxauthtries",
    "maxsessions",
    "maxstartups",
    "modulifile",
    "passwordauthentication",
    "permitemptypasswords",
    "permitlisten",
    "permitopen",
    "permitrootlogin",
    "permittty",
    "permittunnel",
    "permituserenvironment",
    "permituserrc",
    "persourcemaxstartups",
    "persourcenetblocksize",
    "persourcepenalties",
    "persourcepenaltyexemptlist",
    "pidfile",
    "pkcs11provider",
    "port",
    "printlastlog",
    "printmotd",
    "protocol",
    "pubkeyacceptedalgorithms",
    "pubkeyacceptedkeytypes",
    "pubkeyauthentication",
    "pubkeyauthoptions",
    "rdomain",
    "refuseconnection",
    "rekeylimit",
    "requiredrsasize",
    "reversemappingcheck",
    "revokedkeys",
    "rhostsrsaauthentication",
    "rsaauthentication",
    "securitykeyprovider",
    "serverkeybits",
    "setenv",
    "skeyauthentication",
    "sshdauthpath",
    "sshdsessionpath",
    "streamlocalbindmask",
    "streamlocalbindunlink",
    "strictmodes",
    "subsystem",
    "syslogfacility",
    "tcpkeepalive",
    "trustedusercakeys",
    "unusedconnectiontimeout",
    "usedns",
    "uselogin",
    "usepam",
    "useprivilegeseparation",
    "verifyreversemapping",
    "versionaddendum",
    "x11displayoffset",
    "x11forwarding",
    "x11uselocalhost",
    "xauthlocation",
];

/// Old keyword names folded onto the name `sshd -T` prints.
fn canonical_keyword(kw: &str) -> String {
    match kw {
        "challengeresponseauthentication" | "skeyauthentication" => "kbdinteractiveauthentication",
        "pubkeyacceptedkeytypes" => "pubkeyacceptedalgorithms",
        "hostbasedacceptedkeytypes" => "hostbasedacceptedalgorithms",
        "keepalive" => "tcpkeepalive",
        "dsaauthentication" => "pubkeyauthentication",
        "verifyreversemapping" | "reversemappingcheck" => "usedns",
        "authorizedkeysfile2" => "authorizedkeysfile",
        other => other,
    }
    .to_string()
}

/// The `sshd -T` compiled-in defaults of OpenSSH 9.2p1 as built by Debian 12
/// (`1:9.2p1-2+deb12u*`), measured on that system.
const DEB12_92_CIPHERS: &str = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com";
const DEB12_92_MACS: &str = "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1";
const DEB12_92_KEX: &str = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256";

/// (major, minor) versions whose crypto defaults we record.
pub const CRYPTO_DEFAULTS_COVERED: &[&str] = &["9.2"];

fn crypto_default(kw: &str, version: Option<(u32, u32)>) -> Option<&'static str> {
    match (version, kw) {
        (Some((9, 2)), "ciphers") => Some(DEB12_92_CIPHERS),
        (Some((9, 2)), "macs") => Some(DEB12_92_MACS),
        (Some((9, 2)), "kexalgorithms") => Some(DEB12_92_KEX),
        _ => None,
    }
}

/// (major, minor) from "9.2p1", "OpenSSH_9.2p1 Debian-2", "1:9.2p1-2+deb12u6".
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut s = v.trim();
    if let Some(i) = s.find("OpenSSH_") {
        s = &s[i + "OpenSSH_".len()..];
    } else if let Some((epoch, rest)) = s.split_once(':') {
        if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) {
            s = rest;
        }
    }
    let major_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let major: u32 = s[..major_end].parse().ok()?;
    let rest = s[major_end..].strip_prefix('.')?;
    let minor_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let minor: u32 = rest[..minor_end].parse().ok()?;
    Some((major, minor))
}

/// Compiled-in defaults that do not depend on the version (7.4 to 9.x),
/// as `sshd -T` prints them.
const DEFAULTS: &[(&str, &str)] = &[
    ("addressfamily", "any"),
    ("allowagentforwarding", "yes"),
    ("allowstreamlocalforwarding", "yes"),
    ("allowtcpforwarding", "yes"),
    ("authenticationmethods", "any"),
    (
        "authorizedkeysfile",
        ".ssh/authorized_keys .ssh/authorized_keys2",
    ),
    ("banner", "none"),
    ("chrootdirectory", "none"),
    ("clientalivecountmax", "3"),
    ("clientaliveinterval", "0"),
    ("compression", "yes"),
    ("disableforwarding", "no"),
    ("forcecommand", "none"),
    ("gatewayports", "no"),
    ("gssapiauthentication", "no"),
    ("hostbasedauthentication", "no"),
    ("ignorerhosts", "yes"),
    ("ignoreuserknownhosts", "no"),
    ("kbdinteractiveauthentication", "yes"),
    ("kerberosauthentication", "no"),
    ("logingracetime", "120"),
    ("loglevel", "INFO"),
    ("maxauthtries", "6"),
    ("maxsessions", "10"),
    ("maxstartups", "10:30:100"),
    ("passwordauthentication", "yes"),
    ("permitemptypasswords", "no"),
    ("permittty", "yes"),
    ("permittunnel", "no"),
    ("permituserenvironment", "no"),
    ("permituserrc", "yes"),
    ("printlastlog", "yes"),
    ("printmotd", "yes"),
    ("pubkeyauthentication", "yes"),
    ("strictmodes", "yes"),
    ("syslogfacility", "AUTH"),
    ("tcpkeepalive", "yes"),
    ("usedns", "no"),
    ("usepam", "no"),
    ("x11displayoffset", "10"),
    ("x11forwarding", "no"),
    ("x11uselocalhost", "yes"),
];

/// Reads the effective configuration starting at `/etc/ssh/sshd_config`.
/// `openssh_version` is the installed version (package version or banner),
/// used for the compiled-in defaults.
pub fn effective(files: &dyn ConfigFiles, openssh_version: Option<&str>) -> SshdConfig {
    let version = openssh_version.and_then(parse_version);
    let mut p = Parser {
        files,
        cfg: SshdConfig {
            openssh_version: openssh_version.map(str::to_string),
            ..SshdConfig::default()
        },
        raw_crypto: BTreeMap::new(),
        match_all: BTreeMap::new(),
        per_file: BTreeMap::new(),
        current_match: None,
        lines: 0,
        version,
    };
    if openssh_version.is_some() && version.is_none() {
        p.cfg.problems.push(format!(
            "OpenSSH version {:?} not understood; defaults of 7.4 and later assumed",
            openssh_version.unwrap_or_default()
        ));
    }
    match files.read(SSHD_CONFIG) {
        None => p.cfg.problems.push(format!(
            "{SSHD_CONFIG}: not found; compiled-in defaults only"
        )),
        Some(Err(e)) => p
            .cfg
            .problems
            .push(format!("{SSHD_CONFIG}: unreadable: {e}")),
        Some(Ok(bytes)) => p.parse_file(SSHD_CONFIG, &bytes, 0),
    }
    p.finish();
    p.cfg
}

struct Parser<'a> {
    files: &'a dyn ConfigFiles,
    cfg: SshdConfig,
    raw_crypto: BTreeMap<String, Sourced<String>>,
    match_all: BTreeMap<String, Vec<Sourced<String>>>,
    per_file: BTreeMap<String, usize>,
    current_match: Option<usize>,
    lines: usize,
    version: Option<(u32, u32)>,
}

impl Parser<'_> {
    fn parse_file(&mut self, path: &str, bytes: &[u8], depth: usize) {
        if self.cfg.files.len() >= MAX_FILES {
            self.cfg
                .problems
                .push(format!("{path}: not read: more than {MAX_FILES} files"));
            return;
        }
        self.cfg.files.push(path.to_string());
        if bytes.len() > MAX_FILE_BYTES {
            self.cfg.problems.push(format!(
                "{path}: not parsed: {} bytes (limit {MAX_FILE_BYTES})",
                bytes.len()
            ));
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        for (i, line) in text.split('\n').enumerate() {
            self.lines += 1;
            if self.lines > MAX_LINES {
                self.cfg.problems.push(format!(
                    "{path}:{}: parsing stopped: more than {MAX_LINES} lines in all",
                    i + 1
                ));
                return;
            }
            self.parse_line(path, i + 1, line, depth);
        }
    }

    fn parse_line(&mut self, path: &str, lineno: usize, line: &str, depth: usize) {
        let Some((keyword, args)) = split_line(line) else {
            return;
        };
        let kw = keyword.to_ascii_lowercase();
        if kw == "include" {
            self.include(path, lineno, &args, depth);
            return;
        }
        if kw == "match" {
            let criteria = args.join(" ");
            let conditions = match_conditions(&args);
            self.cfg.matches.push(MatchBlock {
                criteria: Sourced::new(criteria, path, lineno),
                conditions,
                lines: Vec::new(),
            });
            self.current_match = Some(self.cfg.matches.len() - 1);
            return;
        }
        if !KNOWN.contains(&kw.as_str()) {
            let shown: String = keyword.chars().take(40).collect();
            self.note(
                path,
                format!("{path}:{lineno}: unknown keyword {shown:?} (kept as is)"),
            );
        }
        if args.is_empty() {
            self.note(path, format!("{path}:{lineno}: {keyword} has no argument"));
            return;
        }
        let kw = canonical_keyword(&kw);
        if let Some(m) = self.current_match {
            let value = if ACCUMULATE_ITEMS.contains(&kw.as_str()) {
                args.join(" ")
            } else {
                self.normalise(&kw, &args, path, lineno)
            };
            self.cfg.matches[m].lines.push(MatchLine {
                keyword: kw.clone(),
                value: Sourced::new(value, path, lineno),
            });
            // `Match all` applies to every connection: its values (first
            // one wins among `Match all` lines) replace the global ones, as
            // `sshd -T` shows.
            if self.cfg.matches[m].conditions == [("all".to_string(), String::new())] {
                let entry = self.match_all.entry(kw.clone()).or_default();
                if ACCUMULATE_ITEMS.contains(&kw.as_str()) {
                    for a in &args {
                        entry.push(Sourced::new(a.clone(), path, lineno));
                    }
                } else if ACCUMULATE_LINES.contains(&kw.as_str()) || entry.is_empty() {
                    let v = self.cfg.matches[m].lines.last().map(|l| l.value.clone());
                    entry.extend(v);
                }
            }
            return;
        }
        if kw == "protocol" && self.version.is_none_or(|v| v >= (7, 4)) {
            let msg = format!(
                "{path}:{lineno}: Protocol {} ignored: OpenSSH 7.4 and later speak only protocol 2",
                args.join(" ")
            );
            self.note(path, msg);
            return;
        }
        if ACCUMULATE_ITEMS.contains(&kw.as_str()) {
            let entry = self.cfg.settings.entry(kw).or_default();
            for a in &args {
                entry.push(Sourced::new(a.clone(), path, lineno));
            }
            return;
        }
        if ACCUMULATE_LINES.contains(&kw.as_str()) {
            self.cfg.settings.entry(kw).or_default().push(Sourced::new(
                args.join(" "),
                path,
                lineno,
            ));
            return;
        }
        if CRYPTO_LISTS.contains(&kw.as_str()) {
            self.raw_crypto
                .entry(kw)
                .or_insert_with(|| Sourced::new(args[0].clone(), path, lineno));
            return;
        }
        if self.cfg.settings.contains_key(&kw) {
            return; // first value wins
        }
        let value = self.normalise(&kw, &args, path, lineno);
        self.cfg
            .settings
            .insert(kw, vec![Sourced::new(value, path, lineno)]);
    }

    fn normalise(&mut self, kw: &str, args: &[String], path: &str, lineno: usize) -> String {
        let first = args[0].as_str();
        let lower = first.to_ascii_lowercase();
        if FLAGS.contains(&kw) {
            return lower;
        }
        if MULTISTATE.contains(&kw) {
            if kw == "permituserenvironment" && lower != "yes" && lower != "no" {
                return first.to_string(); // a pattern list of variable names
            }
            if kw == "permitrootlogin" && lower == "without-password" {
                return "prohibit-password".to_string();
            }
            return lower;
        }
        if INTEGERS.contains(&kw) {
            return match first.parse::<i64>() {
                Ok(n) => n.to_string(),
                Err(_) => {
                    self.note(
                        path,
                        format!("{path}:{lineno}: {kw}: not a number: {first:?}"),
                    );
                    first.to_string()
                }
            };
        }
        if TIMES.contains(&kw) {
            return match convtime(first) {
                Some(n) => n.to_string(),
                None => {
                    self.note(
                        path,
                        format!("{path}:{lineno}: {kw}: not a time: {first:?}"),
                    );
                    first.to_string()
                }
            };
        }
        match kw {
            "loglevel" => first.to_ascii_uppercase(),
            "maxstartups" => normalise_maxstartups(first).unwrap_or_else(|| {
                self.note(
                    path,
                    format!("{path}:{lineno}: maxstartups: bad value {first:?}"),
                );
                first.to_string()
            }),
            "syslogfacility" => first.to_ascii_uppercase(),
            _ => args.join(" "),
        }
    }

    /// A problem about one line: at most MAX_PROBLEMS_PER_FILE per file.
    fn note(&mut self, path: &str, msg: String) {
        let n = self.per_file.entry(path.to_string()).or_default();
        *n += 1;
        if *n <= MAX_PROBLEMS_PER_FILE {
            self.cfg.problems.push(msg);
        }
    }

    fn include(&mut self, path: &str, lineno: usize, args: &[String], depth: usize) {
        if args.is_empty() {
            self.cfg
                .problems
                .push(format!("{path}:{lineno}: Include without argument"));
            return;
        }
        if depth + 1 > MAX_INCLUDE_DEPTH {
            self.cfg.problems.push(format!(
                "{path}:{lineno}: Include not followed: depth over {MAX_INCLUDE_DEPTH}"
            ));
            return;
        }
        for arg in args {
            let pattern = if arg.starts_with('/') {
                normalise_path(arg)
            } else {
                normalise_path(&format!("{SSHDIR}/{arg}"))
            };
            let matches = glob(self.files, &pattern, &mut self.cfg.problems);
            // An empty glob is normal (Debian's empty sshd_config.d); a
            // literal path that is missing is worth a note.
            let wildcard = pattern.contains(['*', '?', '[']);
            if matches.is_empty() && !wildcard {
                self.cfg.problems.push(format!(
                    "{path}:{lineno}: Include {arg}: no matching file (ignored, as sshd does)"
                ));
            }
            for m in matches {
                if self.cfg.files.len() >= MAX_FILES {
                    self.cfg.problems.push(format!(
                        "{path}:{lineno}: Include {m}: not read: more than {MAX_FILES} files"
                    ));
                    return;
                }
                match self.files.read(&m) {
                    None => self
                        .cfg
                        .problems
                        .push(format!("{path}:{lineno}: Include {m}: not found")),
                    Some(Err(e)) => self
                        .cfg
                        .problems
                        .push(format!("{path}:{lineno}: Include {m}: unreadable: {e}")),
                    Some(Ok(bytes)) => {
                        // A Match opened in an included file ends with it.
                        let saved = self.current_match;
                        self.parse_file(&m, &bytes, depth + 1);
                        self.current_match = saved;
                    }
                }
            }
        }
    }

    fn finish(&mut self) {
        let version = self.version;
        for (file, n) in std::mem::take(&mut self.per_file) {
            if n > MAX_PROBLEMS_PER_FILE {
                self.cfg.problems.push(format!(
                    "{file}: {} more problems not listed",
                    n - MAX_PROBLEMS_PER_FILE
                ));
            }
        }
        for (kw, values) in std::mem::take(&mut self.match_all) {
            if !values.is_empty() {
                self.cfg.settings.insert(kw, values);
            }
        }
        // Crypto lists: as set (with +, -, ^ applied to the default) or default.
        for kw in CRYPTO_LISTS {
            let def = crypto_default(kw, version);
            match (self.raw_crypto.remove(*kw), def) {
                (Some(set), def) => {
                    let v = &set.value;
                    let assembled = match (v.chars().next(), def) {
                        (Some('+' | '-' | '^'), None) => {
                            self.cfg.problems.push(format!(
                                "{}:{}: {kw} {v}: modifies the compiled-in default, which is not known for OpenSSH {}",
                                set.file,
                                set.line,
                                self.cfg.openssh_version.as_deref().unwrap_or("(unknown version)")
                            ));
                            v.clone()
                        }
                        (Some(c @ ('+' | '-' | '^')), Some(d)) => assemble(c, &v[1..], d),
                        _ => v.clone(),
                    };
                    self.cfg.settings.insert(
                        kw.to_string(),
                        vec![Sourced::new(assembled, set.file, set.line)],
                    );
                }
                (None, Some(d)) => {
                    self.cfg
                        .settings
                        .insert(kw.to_string(), vec![Sourced::default_value(d.to_string())]);
                }
                (None, None) => self.cfg.problems.push(format!(
                    "{kw}: compiled-in default not known for OpenSSH {} (known: {})",
                    self.cfg
                        .openssh_version
                        .as_deref()
                        .unwrap_or("(unknown version)"),
                    CRYPTO_DEFAULTS_COVERED.join(", ")
                )),
            }
        }
        for (kw, v) in DEFAULTS {
            self.cfg
                .settings
                .entry(kw.to_string())
                .or_insert_with(|| vec![Sourced::default_value(v.to_string())]);
        }
        let prl = if version.is_some_and(|v| v < (7, 0)) {
            "yes"
        } else {
            "prohibit-password"
        };
        self.cfg
            .settings
            .entry("permitrootlogin".into())
            .or_insert_with(|| vec![Sourced::default_value(prl.to_string())]);
        self.cfg
            .settings
            .entry("port".into())
            .or_insert_with(|| vec![Sourced::default_value("22".to_string())]);
        if version.is_some_and(|v| v < (7, 4)) {
            self.cfg
                .settings
                .entry("protocol".into())
                .or_insert_with(|| vec![Sourced::default_value("2".to_string())]);
        } else {
            self.cfg
                .settings
                .insert("protocol".into(), vec![Sourced::default_value("2".into())]);
        }
    }
}

/// OpenSSH's kex_assemble_names for a list starting with `+`, `-` or `^`.
fn assemble(op: char, list: &str, default: &str) -> String {
    let def: Vec<&str> = default.split(',').collect();
    let items: Vec<&str> = list.split(',').filter(|s| !s.is_empty()).collect();
    let mut out: Vec<&str> = match op {
        '+' => def.iter().chain(items.iter()).copied().collect(),
        '^' => items.iter().chain(def.iter()).copied().collect(),
        _ => def
            .iter()
            .filter(|d| !items.iter().any(|p| fnmatch(p, d)))
            .copied()
            .collect(),
    };
    let mut seen = Vec::new();
    out.retain(|x| {
        if seen.contains(x) {
            false
        } else {
            seen.push(*x);
            true
        }
    });
    out.join(",")
}

fn normalise_maxstartups(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split(':').collect();
    let nums: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
    match nums?.as_slice() {
        [n] => Some(format!("{n}:30:{n}")),
        [a, b, c] => Some(format!("{a}:{b}:{c}")),
        _ => None,
    }
}

/// OpenSSH convtime: `90`, `1m30s`, `2h`, `1w`.
pub fn convtime(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(d as u64)?);
            continue;
        }
        let mult = match c {
            's' | 'S' => 1,
            'm' | 'M' => 60,
            'h' | 'H' => 3600,
            'd' | 'D' => 86400,
            'w' | 'W' => 604800,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(mult)?)?;
    }
    if let Some(n) = num {
        total = total.checked_add(n)?;
    }
    if total > i32::MAX as u64 {
        return None;
    }
    Some(total)
}

fn match_conditions(args: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let k = args[i].to_ascii_lowercase();
        if k == "all" || k == "canonical" || k == "final" {
            out.push((k, String::new()));
            i += 1;
        } else if let Some((a, b)) = args[i].split_once('=') {
            out.push((a.to_ascii_lowercase(), b.to_string()));
            i += 1;
        } else {
            out.push((k, args.get(i + 1).cloned().unwrap_or_default()));
            i += 2;
        }
    }
    out
}

/// Keyword and arguments of one line (OpenSSH strdelim + argv_split):
/// `Keyword value`, `Keyword=value`, `Keyword = value`; quotes; `#` starts
/// a comment at the start of a token.
fn split_line(line: &str) -> Option<(String, Vec<String>)> {
    let line = line.trim_end_matches('\r');
    let s = line.trim_start_matches([' ', '\t', '\x0c', '\x0b']);
    if s.is_empty() || s.starts_with('#') {
        return None;
    }
    let end = s.find([' ', '\t', '=', '\x0c', '\x0b']).unwrap_or(s.len());
    let keyword = s[..end].to_string();
    let mut rest = s[end..].trim_start_matches([' ', '\t', '\x0c', '\x0b']);
    if let Some(r) = rest.strip_prefix('=') {
        rest = r;
    }
    Some((keyword, argv_split(rest)))
}

fn argv_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None => break,
            Some('#') => break,
            _ => {}
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            if quote.is_none() && c.is_ascii_whitespace() {
                break;
            }
            chars.next();
            match c {
                '\\' => {
                    if let Some(&n) = chars.peek() {
                        if n == '\\' || n == '"' || n == '\'' || (quote.is_none() && n == ' ') {
                            arg.push(n);
                            chars.next();
                            continue;
                        }
                    }
                    arg.push('\\');
                }
                '"' | '\'' if quote.is_none() => quote = Some(c),
                c2 if Some(c2) == quote => quote = None,
                _ => arg.push(c),
            }
        }
        out.push(arg);
    }
    out
}

/// Resolves `.` and `..` and doubled slashes in an absolute path.
fn normalise_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// glob(3) over [`ConfigFiles`]: each component may hold `*`, `?`, `[...]`;
/// hidden names only match a pattern starting with `.`; sorted bytewise.
/// A path without wildcards is returned as is (existence checked on read).
pub fn glob(files: &dyn ConfigFiles, pattern: &str, problems: &mut Vec<String>) -> Vec<String> {
    if !has_magic(pattern) {
        return match files.read(pattern) {
            None => Vec::new(),
            Some(_) => vec![pattern.to_string()],
        };
    }
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut current = vec![String::new()];
    for comp in &comps {
        let mut next = Vec::new();
        for base in &current {
            if !has_magic(comp) {
                next.push(format!("{base}/{comp}"));
                continue;
            }
            let dir = if base.is_empty() { "/" } else { base.as_str() };
            match files.list(dir) {
                None => {}
                Some(Err(e)) => problems.push(format!("{dir}: unreadable directory: {e}")),
                Some(Ok(names)) => {
                    for n in names {
                        if n.starts_with('.') && !comp.starts_with('.') {
                            continue;
                        }
                        if fnmatch(comp, &n) {
                            next.push(format!("{base}/{n}"));
                        }
                    }
                }
            }
            if next.len() > MAX_FILES * 4 {
                problems.push(format!("{pattern}: too many matches; truncated"));
                break;
            }
        }
        current = next;
        if current.is_empty() {
            return current;
        }
    }
    // The last component may have been literal: keep only what exists.
    if !has_magic(comps.last().copied().unwrap_or("")) {
        current.retain(|p| files.read(p).is_some());
    }
    current.sort();
    current.dedup();
    current
}

/// fnmatch(3) without flags: `*`, `?`, `[...]`/`[!...]` with ranges, `\`
/// escapes. Iterative, linear in the common cases, no recursion.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, len)) = bracket(&p[pi..], n[ni]) {
                        if matched {
                            pi += len;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == n[ni] {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c => {
                    if c == n[ni] {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Matches `c` against the bracket expression at the start of `p`; returns
/// (matched, length of the expression) or `None` if it is not closed.
fn bracket(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            break;
        }
        first = false;
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            ch
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = p[i + 2];
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    Some((matched != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_basics() {
        assert!(fnmatch("*.conf", "50-cloud-init.conf"));
        assert!(!fnmatch("*.conf", "x.conf.bak"));
        assert!(fnmatch("[0-9]?-*", "50-x"));
        assert!(!fnmatch("[!0-9]*", "50-x"));
        assert!(fnmatch("a\\*", "a*"));
        assert!(fnmatch("[", "["));
        assert!(fnmatch("*a*a*a*b", "aaaaaaaaaaaaaaab"));
    }

    #[test]
    fn convtime_and_version() {
        assert_eq!(convtime("1m30s"), Some(90));
        assert_eq!(convtime("2h"), Some(7200));
        assert_eq!(convtime("x"), None);
        assert_eq!(parse_version("1:9.2p1-2+deb12u6"), Some((9, 2)));
        assert_eq!(parse_version("OpenSSH_8.9p1 Ubuntu-3"), Some((8, 9)));
        assert_eq!(parse_version("9.6p1"), Some((9, 6)));
    }

    #[test]
    fn line_splitting() {
        assert_eq!(
            split_line("  PasswordAuthentication=no # c"),
            Some(("PasswordAuthentication".into(), vec!["no".into()]))
        );
        assert_eq!(
            split_line("Banner = \"/etc/my banner\""),
            Some(("Banner".into(), vec!["/etc/my banner".into()]))
        );
        assert_eq!(split_line("   # comment"), None);
    }
}
