//! `cargo xtask cis-compare [--keep] [--coldscan PATH]`: coldscan's CIS and
//! Security Best Practices packages on a real Debian 12 image, measured.
//!
//! 1. Debootstraps Debian 12 once (`target/cis-compare/base`) and copies it
//!    into two variants: `weak` (deliberate weaknesses) and `clean` (the same
//!    settings hardened); `mke2fs -d` makes `weak.img` and `clean.img`.
//! 2. `coldscan scan IMAGE --packages cis,security-best-practices --full` on
//!    both images.
//! 3. Weakness check: every weakness of `weak` is a finding of the right
//!    Security Best Practices rule with evidence at the right file and line
//!    (computed from the files written here), and `clean` has none of them.
//! 4. OpenSCAP agreement: `oscap-chroot` on both trees with the SCAP Security
//!    Guide's Debian 12 datastream (trixie's `ssg-debian`, downloaded and
//!    unpacked under `target/cis-compare/ssg`, never installed) and its
//!    `standard` and `anssi_bp28_high` profiles, compared per SSG rule with
//!    coldscan's CIS results, on the SSG rules that
//!    `../shared/vulndata/cis-rules-debian12.tsv` maps to CIS sections.
//!    Written to `target/cis-compare/agreement.md`.
//!
//! Without `--keep` the variant trees, images and OpenSCAP results are
//! rebuilt from the cached debootstrap on every run; with it they are reused
//! when present (only coldscan runs again).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use serde_json::Value;

use crate::debian_image::{self, run};
use crate::Result;

/// Added to minbase: what a small hardened server has, so that most CIS
/// recommendations (sshd, sudo, PAM, cron, logging, auditd, AIDE, time
/// sync, AppArmor, sysctl, firewall, kernel modules) have something to look
/// at. The kernel matters to OpenSCAP too: the SSG gates its sshd, sysctl
/// and many other groups on the `system_with_kernel` platform (package
/// `linux-base` installed), so without one they are all "notapplicable".
pub const PACKAGES: &str = "openssh-server,sudo,systemd,systemd-sysv,libpam-pwquality,cron,rsyslog,auditd,aide,chrony,apparmor,procps,kmod,nftables,linux-image-amd64";

/// The weak variant's sshd drop-in: root login and password authentication.
const WEAK_SSHD: (&str, &str) = (
    "/etc/ssh/sshd_config.d/50-weak.conf",
    "# coldscan cis-compare: deliberately weak\nPermitRootLogin yes\nPasswordAuthentication yes\n",
);
const CLEAN_SSHD: (&str, &str) = (
    "/etc/ssh/sshd_config.d/50-clean.conf",
    "# coldscan cis-compare: hardened\nPermitRootLogin no\nPasswordAuthentication no\n",
);
const WEAK_SYSCTL: (&str, &str) = (
    "/etc/sysctl.d/50-weak.conf",
    "kernel.randomize_va_space = 0\n",
);
const CLEAN_SYSCTL: (&str, &str) = (
    "/etc/sysctl.d/50-clean.conf",
    "kernel.randomize_va_space = 2\n",
);

const PROFILES: [&str; 2] = ["standard", "anssi_bp28_high"];
const RULE_PREFIX: &str = "xccdf_org.ssgproject.content_rule_";
const PROFILE_PREFIX: &str = "xccdf_org.ssgproject.content_profile_";
const DS_PATH: &str = "usr/share/xml/scap/ssg/content/ssg-debian12-ds.xml";
const MIRROR: &str = "http://deb.debian.org/debian";

fn io<T>(r: std::io::Result<T>, what: &Path) -> Result<T> {
    r.map_err(|e| format!("{}: {e}", what.display()))
}

/// `/abs/path` inside `tree`.
fn inside(tree: &Path, abs: &str) -> PathBuf {
    tree.join(abs.trim_start_matches('/'))
}

// ---------------------------------------------------------------------------
// The trees and images

/// The debootstrapped base tree, built once; `base.done` records the
/// package list it was built with, so changing [`PACKAGES`] rebuilds it.
fn base_tree(dir: &Path, tool_path: &OsString) -> Result<PathBuf> {
    let base = dir.join("base");
    let marker = dir.join("base.done");
    if fs::read_to_string(&marker).ok().as_deref() == Some(PACKAGES) && base.is_dir() {
        return Ok(base);
    }
    io(fs::create_dir_all(dir), dir)?;
    let _ = fs::remove_file(&marker);
    debian_image::debootstrap(
        &base,
        PACKAGES,
        tool_path,
        Some(&dir.join("debootstrap.log")),
    )?;
    io(fs::write(&marker, PACKAGES), &marker)?;
    Ok(base)
}

fn write_in(tree: &Path, (abs, text): (&str, &str)) -> Result<()> {
    let p = inside(tree, abs);
    if let Some(parent) = p.parent() {
        io(fs::create_dir_all(parent), parent)?;
    }
    io(fs::write(&p, text), &p)
}

fn chmod(tree: &Path, abs: &str, mode: u32) -> Result<()> {
    let p = inside(tree, abs);
    io(
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)),
        &p,
    )
}

/// Replaces the first line matching `pred` with `with` (error if none).
fn edit_line(tree: &Path, abs: &str, pred: impl Fn(&str) -> bool, with: &[&str]) -> Result<()> {
    let p = inside(tree, abs);
    let text = io(fs::read_to_string(&p), &p)?;
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        if !done && pred(line) {
            for w in with {
                out.push_str(w);
                out.push('\n');
            }
            done = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !done {
        return Err(format!("{abs}: no line to edit"));
    }
    io(fs::write(&p, out), &p)
}

fn first_word_is(line: &str, word: &str) -> bool {
    line.split_whitespace().next() == Some(word)
}

/// The weaknesses (README of the variant, in words) of `weak`.
fn make_weak(tree: &Path) -> Result<()> {
    write_in(tree, WEAK_SSHD)?;
    write_in(tree, WEAK_SYSCTL)?;
    // No pwquality: the package is purged the way an admin would, so its
    // prerm runs `pam-auth-update --remove pwquality` and common-password
    // keeps only pam_unix. login.defs stays as Debian ships it
    // (PASS_MAX_DAYS 99999: no password aging).
    run(
        Command::new("chroot")
            .arg(tree)
            .args(["dpkg", "--purge", "libpam-pwquality"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdout(Stdio::null()),
        "chroot dpkg --purge libpam-pwquality",
    )?;
    chmod(tree, "/usr/local/bin", 0o777)?;
    chmod(tree, "/etc/sudoers.d", 0o775)?;
    Ok(())
}

/// The same settings hardened.
fn make_clean(tree: &Path) -> Result<()> {
    write_in(tree, CLEAN_SSHD)?;
    write_in(tree, CLEAN_SYSCTL)?;
    edit_line(
        tree,
        "/etc/login.defs",
        |l| first_word_is(l, "PASS_MAX_DAYS"),
        &["PASS_MAX_DAYS\t365"],
    )?;
    // Every account with a password (a hash, not `*`/`!…`/empty) gets a
    // shadow maximum of 365; debootstrap's root is locked (`*`).
    let shadow = inside(tree, "/etc/shadow");
    let text = io(fs::read_to_string(&shadow), &shadow)?;
    let mut out = String::new();
    for line in text.lines() {
        let mut f: Vec<String> = line.split(':').map(str::to_string).collect();
        let has_password =
            f.len() > 4 && !f[1].is_empty() && !f[1].starts_with('*') && !f[1].starts_with('!');
        if has_password && f[4].parse::<u64>().map_or(true, |m| m > 365) {
            f[4] = "365".into();
        }
        out.push_str(&f.join(":"));
        out.push('\n');
    }
    io(fs::write(&shadow, out), &shadow)?;
    // pwquality in the stack with minlen/minclass, and pam_pwhistory
    // remember=12 before pam_unix; pwquality.conf says the same.
    edit_line(
        tree,
        "/etc/pam.d/common-password",
        |l| l.contains("pam_pwquality.so") && !l.trim_start().starts_with('#'),
        &[
            "password\trequisite\t\t\tpam_pwquality.so retry=3 minlen=14 minclass=4",
            "password\trequired\t\t\tpam_pwhistory.so remember=12 use_authtok",
        ],
    )?;
    let pwq = inside(tree, "/etc/security/pwquality.conf");
    let mut text = io(fs::read_to_string(&pwq), &pwq)?;
    text.push_str("minlen = 14\nminclass = 4\n");
    io(fs::write(&pwq, text), &pwq)
}

struct Variant {
    name: &'static str,
    tree: PathBuf,
    image: PathBuf,
}

/// Copies the base tree into `name`, applies the variant, makes the image.
fn variant(
    dir: &Path,
    base: &Path,
    name: &'static str,
    keep: bool,
    tool_path: &OsString,
) -> Result<Variant> {
    let tree = dir.join(name);
    let image = dir.join(format!("{name}.img"));
    let marker = dir.join(format!("{name}.done"));
    let v = Variant {
        name,
        tree: tree.clone(),
        image: image.clone(),
    };
    if keep && marker.exists() && tree.is_dir() && image.is_file() {
        eprintln!("xtask: reusing {} and {}", tree.display(), image.display());
        return Ok(v);
    }
    let _ = fs::remove_file(&marker);
    if tree.exists() {
        io(fs::remove_dir_all(&tree), &tree)?;
    }
    eprintln!("xtask: {name}: cp -a {} {}", base.display(), tree.display());
    run(Command::new("cp").arg("-a").arg(base).arg(&tree), "cp -a")?;
    match name {
        "weak" => make_weak(&tree)?,
        _ => make_clean(&tree)?,
    }
    debian_image::mke2fs(&tree, &image, tool_path)?;
    io(fs::write(&marker, ""), &marker)?;
    Ok(v)
}

// ---------------------------------------------------------------------------
// The report, read with serde_json.

/// Text of a scalar (strings bare, numbers as written), `None` for null.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => Some("…".into()),
        other => Some(other.to_string()),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// coldscan's report

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Pass,
    Fail,
    NotApplicable,
    Error,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "notapplicable",
            Outcome::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
struct Evidence {
    file: String,
    line: Option<u64>,
    value: String,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}", self.file)?,
            None => write!(f, "{}", self.file)?,
        }
        if !self.value.is_empty() {
            write!(f, " {}", self.value)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct RuleResult {
    package: String,
    rule_id: String,
    outcome: Outcome,
    /// Exclusion reason.
    reason: String,
    evidence: Vec<Evidence>,
    cis_section: String,
    ssg: Vec<String>,
}

fn evidence_of(v: &Value) -> Vec<Evidence> {
    arr(&v["evidence"])
        .iter()
        .map(|e| Evidence {
            file: text(&e["file"]).unwrap_or_default(),
            line: e["line"]
                .as_u64()
                .or_else(|| e["line"].as_str().and_then(|s| s.parse().ok())),
            value: text(&e["value"]).unwrap_or_default(),
        })
        .collect()
}

fn read_report(path: &Path) -> Result<Vec<RuleResult>> {
    let text = io(fs::read_to_string(path), path)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if doc["schema_version"].as_str() != Some("1") {
        eprintln!(
            "xtask: warning: {}: schema_version is {}, expected \"1\"",
            path.display(),
            doc["schema_version"]
        );
    }
    Ok(results_of(&doc))
}

/// Every rule result of a report: findings, passes and exclusions.
fn results_of(doc: &Value) -> Vec<RuleResult> {
    let mut out = Vec::new();
    for (key, outcome) in [
        ("findings", Some(Outcome::Fail)),
        ("passed", Some(Outcome::Pass)),
        ("exclusions", None),
    ] {
        for r in arr(&doc[key]) {
            let Some(rule_id) = r["rule_id"].as_str() else {
                continue; // a whole package excluded
            };
            let outcome = outcome.unwrap_or(match r["kind"].as_str() {
                Some("error") => Outcome::Error,
                _ => Outcome::NotApplicable,
            });
            let refs = &r["references"];
            out.push(RuleResult {
                package: text(&r["rules_package"]).unwrap_or_default(),
                rule_id: rule_id.to_string(),
                outcome,
                reason: text(&r["reason"]).unwrap_or_default(),
                evidence: evidence_of(r),
                cis_section: text(&refs["cis_section"]).unwrap_or_default(),
                ssg: arr(&refs["ssg"]).iter().filter_map(text).collect(),
            });
        }
    }
    out
}

/// `coldscan scan IMAGE --packages cis,security-best-practices --full -o OUT`.
fn scan(coldscan: &Path, image: &Path, out: &Path) -> Result<Vec<RuleResult>> {
    let _ = fs::remove_file(out);
    let o = Command::new(coldscan)
        .arg("scan")
        .arg(image)
        .args(["--packages", "cis,security-best-practices", "--full", "-o"])
        .arg(out)
        .output()
        .map_err(|e| format!("{}: {e}", coldscan.display()))?;
    // Exit 1 may mean "findings" or "something unreadable"; 2 is a usage or
    // input error.
    if !out.exists() || o.status.code().is_none_or(|c| c >= 2) {
        return Err(format!(
            "coldscan scan {} failed ({}): {}",
            image.display(),
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    read_report(out)
}

// ---------------------------------------------------------------------------
// Weakness check

enum FileWant {
    Exact(String),
    Prefix(&'static str),
}

struct Weakness {
    what: &'static str,
    rule: &'static str,
    file: FileWant,
    /// `None`: any line (directories have none).
    line: Option<u64>,
}

impl Weakness {
    fn expected(&self) -> String {
        let file = match &self.file {
            FileWant::Exact(f) => f.clone(),
            FileWant::Prefix(p) => format!("{p}*"),
        };
        match self.line {
            Some(l) => format!("{file}:{l}"),
            None => file,
        }
    }
    fn matches(&self, e: &Evidence) -> bool {
        let file_ok = match &self.file {
            FileWant::Exact(f) => &e.file == f,
            FileWant::Prefix(p) => e.file.starts_with(p),
        };
        file_ok && self.line.is_none_or(|l| e.line == Some(l))
    }
}

/// 1-based number of the first line of `abs` in `tree` whose first word is
/// `word` (as sshd and login.defs read keywords: case-insensitively).
fn line_of(tree: &Path, abs: &str, word: &str) -> Result<u64> {
    let p = inside(tree, abs);
    let text = io(fs::read_to_string(&p), &p)?;
    text.lines()
        .position(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(word))
        })
        .map(|i| i as u64 + 1)
        .ok_or_else(|| format!("{abs}: no {word} line"))
}

/// The weaknesses written into `weak`, with where the evidence must point.
fn weaknesses(weak: &Path) -> Result<Vec<Weakness>> {
    let sshd = WEAK_SSHD.0;
    let sysctl = WEAK_SYSCTL.0;
    Ok(vec![
        Weakness {
            what: "root login allowed (sshd_config.d drop-in)",
            rule: "sbp-ssh-root-login",
            file: FileWant::Exact(sshd.into()),
            line: Some(line_of(weak, sshd, "PermitRootLogin")?),
        },
        Weakness {
            what: "password authentication allowed (drop-in)",
            rule: "sbp-ssh-password-auth",
            file: FileWant::Exact(sshd.into()),
            line: Some(line_of(weak, sshd, "PasswordAuthentication")?),
        },
        Weakness {
            what: "no password aging (PASS_MAX_DAYS 99999)",
            rule: "sbp-password-max-age",
            file: FileWant::Exact("/etc/login.defs".into()),
            line: Some(line_of(weak, "/etc/login.defs", "PASS_MAX_DAYS")?),
        },
        Weakness {
            what: "no pwquality: minimum length",
            rule: "sbp-password-min-length",
            file: FileWant::Prefix("/etc/pam.d/"),
            line: None,
        },
        Weakness {
            what: "no pwquality: complexity",
            rule: "sbp-password-complexity",
            file: FileWant::Prefix("/etc/pam.d/"),
            line: None,
        },
        Weakness {
            what: "ASLR disabled in sysctl.d",
            rule: "sbp-aslr",
            file: FileWant::Exact(sysctl.into()),
            line: Some(line_of(weak, sysctl, "kernel.randomize_va_space")?),
        },
        Weakness {
            what: "world-writable /usr/local/bin",
            rule: "sbp-system-dirs",
            file: FileWant::Exact("/usr/local/bin".into()),
            line: None,
        },
        Weakness {
            what: "group-writable /etc/sudoers.d",
            rule: "sbp-system-dirs",
            file: FileWant::Exact("/etc/sudoers.d".into()),
            line: None,
        },
    ])
}

fn outcome_of<'a>(results: &'a [RuleResult], rule: &str) -> Option<&'a RuleResult> {
    results.iter().find(|r| r.rule_id == rule)
}

fn short_evidence(ev: &[Evidence], limit: usize) -> String {
    let mut s: Vec<String> = ev.iter().take(limit).map(ToString::to_string).collect();
    if ev.len() > limit {
        s.push(format!("(+{} more)", ev.len() - limit));
    }
    if s.is_empty() {
        "(no evidence)".into()
    } else {
        s.join("; ")
    }
}

/// Prints the weakness table; returns the number of misses.
fn weakness_check(weak_tree: &Path, weak: &[RuleResult], clean: &[RuleResult]) -> Result<usize> {
    let list = weaknesses(weak_tree)?;
    let mut misses = 0;
    println!("\n## Weakness check (weak.img must fail each, clean.img must not)\n");
    println!("| weakness | rule | expected evidence | found evidence (weak) | weak | clean |");
    println!("|---|---|---|---|---|---|");
    for w in &list {
        let found = outcome_of(weak, w.rule);
        let (found_text, status) = match found {
            None => ("(rule not in the report)".to_string(), "MISSING"),
            Some(r) if r.outcome != Outcome::Fail => {
                (format!("{} {}", r.outcome.word(), r.reason), "MISSING")
            }
            Some(r) => {
                let hit = r.evidence.iter().find(|e| w.matches(e));
                match hit {
                    Some(e) => (e.to_string(), "OK"),
                    None => (short_evidence(&r.evidence, 4), "WRONG EVIDENCE"),
                }
            }
        };
        let clean_status = match outcome_of(clean, w.rule) {
            None => "not in report".to_string(),
            Some(r) if r.outcome == Outcome::Fail => {
                format!("FAIL: {}", short_evidence(&r.evidence, 3))
            }
            Some(r) => r.outcome.word().to_string(),
        };
        let clean_ok = outcome_of(clean, w.rule).is_some_and(|r| r.outcome == Outcome::Pass);
        if status != "OK" {
            misses += 1;
        }
        if !clean_ok {
            misses += 1;
        }
        println!(
            "| {} | `{}` | `{}` | `{}` | {status} | {} |",
            w.what,
            w.rule,
            w.expected(),
            found_text.replace('|', "\\|"),
            if clean_ok {
                "OK (pass)".to_string()
            } else {
                format!("NOT OK ({clean_status})")
            }
        );
    }
    // The two best-practice rules without a deliberate weakness.
    for rule in ["sbp-ssh-protocol-2", "sbp-dep"] {
        let w = outcome_of(weak, rule).map_or("not in report", |r| r.outcome.word());
        let c = outcome_of(clean, rule).map_or("not in report", |r| r.outcome.word());
        println!("| (no weakness) | `{rule}` | - | - | {w} | {c} |");
    }
    Ok(misses)
}

// ---------------------------------------------------------------------------
// SCAP Security Guide datastream

/// Downloads trixie's `ssg-debian` .deb (found through the trixie
/// `Packages` index, SHA-256 checked) and unpacks it under `dir/ssg`.
/// Returns the datastream and the package version.
fn ssg_datastream(dir: &Path) -> Result<(PathBuf, String)> {
    let ssg = dir.join("ssg");
    let ds = ssg.join(DS_PATH);
    let version_file = dir.join("ssg.version");
    if ds.is_file() {
        if let Ok(v) = fs::read_to_string(&version_file) {
            return Ok((ds, v.trim().to_string()));
        }
    }
    let index_url = format!("{MIRROR}/dists/trixie/main/binary-all/Packages.xz");
    eprintln!("xtask: fetching {index_url}");
    let idx = Command::new("sh")
        .arg("-c")
        .arg(format!("curl -fsS -m 120 '{index_url}' | xz -dc"))
        .output()
        .map_err(|e| format!("curl | xz: {e}"))?;
    if !idx.status.success() || idx.stdout.is_empty() {
        return Err(format!(
            "trixie's package index is not reachable: {index_url}: {}",
            String::from_utf8_lossy(&idx.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&idx.stdout);
    let stanza = text
        .split("\n\n")
        .find(|s| s.lines().next() == Some("Package: ssg-debian"))
        .ok_or("trixie's Packages index has no ssg-debian")?;
    let field = |name: &str| {
        stanza
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::to_string)
            .ok_or(format!("ssg-debian stanza has no {name}"))
    };
    let (version, filename, sha) = (field("Version")?, field("Filename")?, field("SHA256")?);
    let url = format!("{MIRROR}/{filename}");
    let deb = dir.join(filename.rsplit('/').next().unwrap_or("ssg-debian.deb"));
    eprintln!("xtask: fetching {url}");
    run(
        Command::new("curl")
            .args(["-fsS", "-m", "300", "-o"])
            .arg(&deb)
            .arg(&url),
        &format!("curl {url} (the trixie pool)"),
    )?;
    let bytes = io(fs::read(&deb), &deb)?;
    let got = crate::sha256_hex(&bytes);
    if got != sha {
        return Err(format!(
            "{}: SHA-256 {got}, index says {sha}",
            deb.display()
        ));
    }
    let _ = fs::remove_dir_all(&ssg);
    run(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&ssg),
        "dpkg-deb -x",
    )?;
    if !ds.is_file() {
        return Err(format!(
            "ssg-debian {version} has no {DS_PATH} (0.1.76 or later carries it)"
        ));
    }
    io(fs::write(&version_file, &version), &version_file)?;
    Ok((ds, version))
}

/// The text between `start` (found at or after `from`) and the closing tag
/// `</…name>` (any namespace prefix).
fn element<'a>(text: &'a str, start: &str, name: &str) -> Option<&'a str> {
    let s = text.find(start)?;
    let s = text[..s].rfind('<')?;
    let rest = &text[s..];
    let end = rest
        .find(&format!(":{name}>"))
        .or_else(|| rest.find(&format!("</{name}>")))?;
    Some(&rest[..end])
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let s = tag.find(&key)? + key.len();
    let e = tag[s..].find('"')?;
    Some(&tag[s..s + e])
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text content of the first `NAME` element (any namespace prefix).
fn inner_text<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.match_indices('<').find_map(|(i, _)| {
        let rest = &text[i + 1..];
        let end = rest.find('>')?;
        let local = rest[..end].split_whitespace().next()?.rsplit(':').next()?;
        if local != name {
            return None;
        }
        let content = &rest[end + 1..];
        Some(&content[..content.find('<').unwrap_or(content.len())])
    })
}

/// Every `<… NAME …>` start tag in `text` (any namespace prefix).
fn tags<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.match_indices('<').filter_map(move |(i, _)| {
        let rest = &text[i + 1..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let local = tag.split_whitespace().next()?;
        let local = local.rsplit(':').next()?;
        (local == name).then_some(tag)
    })
}

struct Datastream {
    text: String,
}

impl Datastream {
    /// SSG rule ids (without prefix) the profile selects.
    fn selected(&self, profile: &str) -> BTreeSet<String> {
        let id = format!("Profile id=\"{PROFILE_PREFIX}{profile}\"");
        let Some(body) = element(&self.text, &id, "Profile") else {
            return BTreeSet::new();
        };
        tags(body, "select")
            .filter(|t| attr(t, "selected") == Some("true"))
            .filter_map(|t| attr(t, "idref")?.strip_prefix(RULE_PREFIX))
            .map(str::to_string)
            .collect()
    }

    /// The rule's OVAL definition id and its exported variables (value ids).
    fn rule_check(&self, rule: &str) -> (Option<String>, Vec<String>) {
        let id = format!(" id=\"{RULE_PREFIX}{rule}\"");
        let Some(body) = element(&self.text, &id, "Rule") else {
            return (None, Vec::new());
        };
        let def = tags(body, "check-content-ref")
            .filter_map(|t| attr(t, "name"))
            .find(|n| n.starts_with("oval:"))
            .map(str::to_string);
        let vars = tags(body, "check-export")
            .filter_map(|t| attr(t, "value-id"))
            .map(str::to_string)
            .collect();
        (def, vars)
    }

    /// What an OVAL definition checks, in lines: its description, criteria
    /// comments, and for each test the object (files, paths, patterns) and
    /// state it compares.
    fn oval_summary(&self, def: &str, depth: usize) -> Vec<String> {
        let mut out = Vec::new();
        let id = format!("definition id=\"{def}\"");
        let Some(body) = element(&self.text, &id, "definition") else {
            out.push(format!("(definition {def} not found)"));
            return out;
        };
        if let Some(d) = inner_text(body, "description") {
            out.push(format!("description: {}", unescape_xml(d.trim())));
        }
        for t in tags(body, "extend_definition") {
            let r = attr(t, "definition_ref").unwrap_or("");
            out.push(format!(
                "extends: {} ({r})",
                unescape_xml(attr(t, "comment").unwrap_or(""))
            ));
            // Look one level into extended definitions that read files
            // (skip the package/"required" plumbing).
            if depth == 0 && !r.contains("package_") && !r.contains("required") {
                for l in self.oval_summary(r, 1) {
                    out.push(format!("  {l}"));
                }
            }
        }
        for t in tags(body, "criterion") {
            let test = attr(t, "test_ref").unwrap_or("");
            out.push(format!(
                "criterion: {} ({test})",
                unescape_xml(attr(t, "comment").unwrap_or(""))
            ));
            for l in self.test_summary(test) {
                out.push(format!("  {l}"));
            }
        }
        out
    }

    fn object_fields(&self, obj: &str, depth: usize) -> Vec<String> {
        let id = format!("id=\"{obj}\"");
        let Some(s) = self.text.find(&id) else {
            return vec![format!("(object {obj} not found)")];
        };
        let start = self.text[..s].rfind('<').unwrap_or(s);
        let name = self.text[start + 1..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
        let Some(body) = element(
            &self.text[start..],
            &id,
            name.rsplit(':').next().unwrap_or(""),
        ) else {
            return Vec::new();
        };
        let mut out = vec![format!("object {name}")];
        // Leaf children: <ns:field attrs>value</ns:field>.
        for (i, _) in body.match_indices('<').skip(1) {
            let rest = &body[i + 1..];
            if rest.starts_with('/') {
                continue;
            }
            let Some(gt) = rest.find('>') else { continue };
            let tag = &rest[..gt];
            let field = tag.split_whitespace().next().unwrap_or("");
            let local = field.rsplit(':').next().unwrap_or("");
            let value_end = rest[gt + 1..].find('<').unwrap_or(0);
            let value = rest[gt + 1..gt + 1 + value_end].trim();
            if local == "object_reference" && depth < 2 {
                out.extend(
                    self.object_fields(value, depth + 1)
                        .into_iter()
                        .map(|l| format!("  {l}")),
                );
            } else if !value.is_empty() {
                let op = attr(tag, "operation")
                    .map(|o| format!(" ({o})"))
                    .unwrap_or_default();
                out.push(format!("  {local}{op} = {}", unescape_xml(value)));
            } else if let Some(v) = attr(tag, "var_ref") {
                out.push(format!("  {local} = var {v}"));
            }
        }
        out
    }

    fn test_summary(&self, test: &str) -> Vec<String> {
        let id = format!("id=\"{test}\"");
        let Some(s) = self.text.find(&id) else {
            return vec![format!("(test {test} not found)")];
        };
        let start = self.text[..s].rfind('<').unwrap_or(s);
        let tag_end = self.text[start..].find('>').map_or(start, |e| start + e);
        let tag = &self.text[start..tag_end];
        let mut out = Vec::new();
        if let Some(c) = attr(tag, "comment") {
            out.push(format!("test: {}", unescape_xml(c)));
        }
        let body_end = self.text[tag_end..]
            .find("_test>")
            .map_or(tag_end, |e| tag_end + e);
        let body = &self.text[tag_end..body_end];
        for t in tags(body, "object") {
            if let Some(o) = attr(t, "object_ref") {
                out.extend(self.object_fields(o, 0));
            }
        }
        for t in tags(body, "state") {
            if let Some(st) = attr(t, "state_ref") {
                out.extend(
                    self.object_fields(st, 0)
                        .into_iter()
                        .map(|l| l.replacen("object ", "state ", 1)),
                );
            }
        }
        out
    }

    /// Files the definition's objects name literally (`filepath`, `path` +
    /// `filename`), for the "coldscan read a file OpenSCAP did not" note.
    fn files_read(summary: &[String]) -> Vec<String> {
        let mut files = Vec::new();
        let mut path = None;
        for l in summary {
            let l = l.trim();
            if let Some(v) = l.strip_prefix("filepath = ") {
                files.push(v.to_string());
            } else if let Some(v) = l.strip_prefix("filepath (equals) = ") {
                files.push(v.to_string());
            } else if let Some(v) = l.strip_prefix("path = ") {
                path = Some(v.to_string());
            } else if let Some(v) = l.strip_prefix("filename = ") {
                if let Some(p) = &path {
                    files.push(format!("{p}/{v}"));
                }
            } else if let Some(v) = l
                .strip_prefix("filepath (pattern match) = ")
                .or_else(|| l.strip_prefix("path (pattern match) = "))
                .or_else(|| l.strip_prefix("filename (pattern match) = "))
            {
                files.push(format!("regex {v}"));
            }
        }
        files
    }
}

// ---------------------------------------------------------------------------
// OpenSCAP

/// rule → result, and value id → value, from an XCCDF results file.
struct OscapResults {
    rules: BTreeMap<String, String>,
    values: BTreeMap<String, String>,
}

fn read_xccdf_results(path: &Path) -> Result<OscapResults> {
    let text = io(fs::read_to_string(path), path)?;
    let r = xccdf_results(&text);
    if r.rules.is_empty() {
        return Err(format!("{}: no rule-result", path.display()));
    }
    Ok(r)
}

fn xccdf_results(text: &str) -> OscapResults {
    let mut rules = BTreeMap::new();
    for (i, _) in text.match_indices("rule-result idref=\"") {
        let rest = &text[i + "rule-result idref=\"".len()..];
        let Some(q) = rest.find('"') else { continue };
        let id = &rest[..q];
        let Some(r) = rest.find("result>") else {
            continue;
        };
        let val = &rest[r + "result>".len()..];
        let val = &val[..val.find('<').unwrap_or(0)];
        if let Some(id) = id.strip_prefix(RULE_PREFIX) {
            rules.insert(id.to_string(), val.trim().to_string());
        }
    }
    let mut values = BTreeMap::new();
    for (i, _) in text.match_indices("set-value idref=\"") {
        let rest = &text[i + "set-value idref=\"".len()..];
        let Some(q) = rest.find('"') else { continue };
        let Some(gt) = rest.find('>') else { continue };
        let v = &rest[gt + 1..];
        let v = &v[..v.find('<').unwrap_or(0)];
        values.insert(rest[..q].to_string(), unescape_xml(v));
    }
    OscapResults { rules, values }
}

/// An APT configuration for OpenSCAP's dpkginfo probe. OpenSCAP 1.3.7's
/// probe initialises libapt with the *host's* configuration and only then
/// re-roots it at `OSCAP_PROBE_ROOT` (fixed upstream by rewriting the probe
/// without APT, OpenSCAP PR #2046). A host whose `/etc/apt/apt.conf.d` sets
/// `Dir::Cache::pkgcache ""` (Docker-derived images: `docker-clean`) makes
/// the probe fail ("dpkginfo_init has failed"), so every package test is
/// false and every SSG rule gated on a package platform is "notapplicable".
/// `APT_CONFIG` pointing here, read before the parts directory, replaces
/// that directory with an empty one.
pub fn oscap_apt_config(dir: &Path) -> Result<PathBuf> {
    let parts = dir.join("oscap-apt.conf.d");
    io(fs::create_dir_all(&parts), &parts)?;
    let conf = dir.join("oscap-apt.conf");
    io(
        fs::write(&conf, format!("Dir::Etc::parts \"{}\";\n", parts.display())),
        &conf,
    )?;
    Ok(conf)
}

/// The probe builds APT's package cache inside the tree
/// (`/var/cache/apt/*.bin`); these remove what it added, so the tree stays
/// the image's content.
pub struct AptCacheGuard(Vec<PathBuf>);

impl AptCacheGuard {
    pub fn new(tree: &Path) -> Self {
        AptCacheGuard(
            ["pkgcache.bin", "srcpkgcache.bin"]
                .iter()
                .map(|f| tree.join("var/cache/apt").join(f))
                .filter(|p| !p.exists())
                .collect(),
        )
    }
}

impl Drop for AptCacheGuard {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::remove_file(p);
        }
    }
}

/// `oscap-chroot TREE xccdf eval --profile P --results OUT DS`.
fn oscap(tree: &Path, ds: &Path, profile: &str, out: &Path, keep: bool) -> Result<OscapResults> {
    if keep && out.is_file() {
        if let Ok(r) = read_xccdf_results(out) {
            eprintln!("xtask: reusing {}", out.display());
            return Ok(r);
        }
    }
    let _ = fs::remove_file(out);
    let log = out.with_extension("log");
    eprintln!(
        "xtask: oscap-chroot {} xccdf eval --profile {profile} (log {})",
        tree.display(),
        log.display()
    );
    let apt_config = oscap_apt_config(out.parent().unwrap_or(Path::new(".")))?;
    let _guard = AptCacheGuard::new(tree);
    let log_file = io(fs::File::create(&log), &log)?;
    let err_file = io(log_file.try_clone(), &log)?;
    let status = Command::new("oscap-chroot")
        .env("APT_CONFIG", &apt_config)
        .arg(tree)
        .args(["xccdf", "eval", "--profile"])
        .arg(format!("{PROFILE_PREFIX}{profile}"))
        .arg("--results")
        .arg(out)
        .arg(ds)
        .stdout(log_file)
        .stderr(err_file)
        .status()
        .map_err(|e| {
            format!("oscap-chroot (apt-get install -y openscap-scanner openscap-utils): {e}")
        })?;
    // 0: all passed, 2: some failed; anything else is an error.
    if !matches!(status.code(), Some(0 | 2)) || !out.is_file() {
        return Err(format!(
            "oscap-chroot {} --profile {profile} failed ({status}); see {}",
            tree.display(),
            log.display()
        ));
    }
    read_xccdf_results(out)
}

fn oscap_version() -> String {
    Command::new("oscap")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "oscap not found".into())
}

// ---------------------------------------------------------------------------
// Agreement

/// SSG rule id → CIS sections, from `../shared/vulndata/cis-rules-debian12.tsv`.
fn cis_tsv(root: &Path) -> Option<BTreeMap<String, Vec<String>>> {
    let path = root.join("../shared/vulndata/cis-rules-debian12.tsv");
    let text = fs::read_to_string(&path).ok()?;
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cols: Option<(usize, usize)> = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        match cols {
            None => {
                cols = Some((
                    f.iter().position(|c| *c == "cis_id")?,
                    f.iter().position(|c| *c == "rule_id")?,
                ));
            }
            Some((cis, rule)) => {
                if let (Some(c), Some(r)) = (f.get(cis), f.get(rule)) {
                    if !r.is_empty() {
                        map.entry(r.to_string()).or_default().push(c.to_string());
                    }
                }
            }
        }
    }
    Some(map)
}

/// Why OpenSCAP and coldscan read some rules differently, established by
/// reading the SSG 0.1.76 OVAL content; printed next to a disagreement on
/// that rule (with the OVAL summary as the evidence).
const KNOWN: &[(&str, &str)] = &[
    (
        "file_permissions_unauthorized_world_writable",
        "scope: the SSG rule looks at regular files only (its OVAL state has `type = regular`); CIS 7.1.11 also \
         covers world-writable directories without the sticky bit, which SSG checks in a separate rule \
         (`dir_perms_world_writable_sticky_bits`)",
    ),
    (
        "package_apparmor_installed",
        "scope: CIS 1.3.1.1 wants both `apparmor` and `apparmor-utils`; coldscan fails on `apparmor-utils`, whose SSG \
         rule `package_apparmor-utils_installed` is not in the 0.1.76 Debian 12 datastream",
    ),
    (
        "set_password_hashing_algorithm_logindefs",
        "profile variable: the profile sets `var_password_hashing_algorithm` to YESCRYPT; CIS Debian 12 5.4.1.4 accepts \
         SHA512 or yescrypt, and Debian 12's login.defs ships `ENCRYPT_METHOD SHA512`",
    ),
    (
        "accounts_password_pam_minlen",
        "profile variable: the profile wants `minlen` >= `var_password_pam_minlen` (shown below); CIS 5.3.3.2.2 wants \
         >= 14, which the clean image sets",
    ),
];

struct Row {
    variant: &'static str,
    profile: &'static str,
    ssg: String,
    cis: String,
    coldscan_rules: Vec<String>,
    oscap: String,
    coldscan: Outcome,
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn agreement(
    root: &Path,
    dir: &Path,
    variants: &[(Variant, Option<Vec<RuleResult>>)],
    ds_path: &Path,
    ssg_version: &str,
    keep: bool,
) -> Result<String> {
    let ds = Datastream {
        text: io(fs::read_to_string(ds_path), ds_path)?,
    };
    let tsv = cis_tsv(root);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# coldscan vs OpenSCAP on Debian 12 (cargo xtask cis-compare)\n\n\
         OpenSCAP: {} with `oscap-chroot`; datastream `ssg-debian12-ds.xml` from trixie's `ssg-debian` {ssg_version}; \
         profiles {}.\n",
        oscap_version(),
        PROFILES.map(|p| format!("`{p}`")).join(" and ")
    );
    if tsv.is_none() {
        let _ = writeln!(
            md,
            "**../shared/vulndata/cis-rules-debian12.tsv is absent**: the universe is not restricted \
             to SSG rules mapped to CIS sections (every SSG rule coldscan's CIS rules reference is used).\n"
        );
        eprintln!(
            "xtask: warning: {} is absent; not restricting to the CIS-mapped SSG rules",
            root.join("../shared/vulndata/cis-rules-debian12.tsv")
                .display()
        );
    }
    for p in PROFILES {
        let sel = ds.selected(p);
        let in_cis = tsv
            .as_ref()
            .map_or(0, |t| sel.iter().filter(|r| t.contains_key(*r)).count());
        let _ = writeln!(
            md,
            "- profile `{p}` selects {} SSG rules, {in_cis} of them mapped to CIS Debian 12 sections by the TSV",
            sel.len()
        );
    }
    md.push('\n');

    let mut rows: Vec<Row> = Vec::new();
    let mut funnel = String::new();
    let mut oscap_by: BTreeMap<(&str, &str), BTreeMap<String, String>> = BTreeMap::new();
    for (v, results) in variants {
        let Some(results) = results else {
            for p in PROFILES {
                let out = dir.join(format!("oscap-{}-{p}.xml", v.name));
                let os = oscap(&v.tree, ds_path, p, &out, keep)?;
                let mut dist: BTreeMap<&str, usize> = BTreeMap::new();
                for r in os.rules.values().filter(|r| *r != "notselected") {
                    *dist.entry(r.as_str()).or_default() += 1;
                }
                let _ = writeln!(
                    funnel,
                    "- `{}` / `{p}`: coldscan did not run (no `scan`); OpenSCAP: {}",
                    v.name,
                    dist.iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            continue;
        };
        // SSG id → coldscan CIS rules referencing it.
        let mut by_ssg: BTreeMap<String, Vec<&RuleResult>> = BTreeMap::new();
        for r in results.iter().filter(|r| r.package == "cis") {
            for s in &r.ssg {
                by_ssg.entry(s.clone()).or_default().push(r);
            }
        }
        let evaluated = |r: &&RuleResult| {
            r.package == "cis" && matches!(r.outcome, Outcome::Pass | Outcome::Fail)
        };
        let cis_rules = results.iter().filter(evaluated).count();
        let with_ssg = results
            .iter()
            .filter(evaluated)
            .filter(|r| !r.ssg.is_empty())
            .count();
        let referenced: Vec<&String> = by_ssg
            .keys()
            .filter(|s| tsv.as_ref().is_none_or(|t| t.contains_key(*s)))
            .collect();
        for p in PROFILES {
            let out = dir.join(format!("oscap-{}-{p}.xml", v.name));
            let os = oscap(&v.tree, ds_path, p, &out, keep)?;
            let mut dist: BTreeMap<String, usize> = BTreeMap::new();
            let mut compared = 0;
            for s in &referenced {
                let oscap_result = os
                    .rules
                    .get(*s)
                    .cloned()
                    .unwrap_or_else(|| "not in the datastream".into());
                *dist.entry(oscap_result.clone()).or_default() += 1;
                if !matches!(oscap_result.as_str(), "pass" | "fail") {
                    continue;
                }
                let ours: Vec<&&RuleResult> = by_ssg[*s]
                    .iter()
                    .filter(|r| matches!(r.outcome, Outcome::Pass | Outcome::Fail))
                    .collect();
                if ours.is_empty() {
                    *dist.entry("(coldscan n/a or error)".into()).or_default() += 1;
                    continue;
                }
                compared += 1;
                let coldscan = if ours.iter().any(|r| r.outcome == Outcome::Fail) {
                    Outcome::Fail
                } else {
                    Outcome::Pass
                };
                let cis = tsv
                    .as_ref()
                    .and_then(|t| t.get(*s))
                    .map(|c| c.join(", "))
                    .unwrap_or_else(|| {
                        ours.iter()
                            .map(|r| r.cis_section.clone())
                            .collect::<Vec<_>>()
                            .join(", ")
                    });
                rows.push(Row {
                    variant: v.name,
                    profile: p,
                    ssg: (*s).clone(),
                    cis,
                    coldscan_rules: ours.iter().map(|r| r.rule_id.clone()).collect(),
                    oscap: oscap_result,
                    coldscan,
                });
            }
            let _ = writeln!(
                funnel,
                "- `{}` / `{p}`: coldscan CIS rules evaluated to pass/fail {cis_rules}, {with_ssg} of them with `references.ssg`; \
                 SSG ids referenced by any coldscan CIS rule{} {}; OpenSCAP results for those: {}; compared (both pass/fail): {compared}",
                v.name,
                if tsv.is_some() { " (and the TSV maps)" } else { "" },
                referenced.len(),
                dist.iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            // The profile's variable values, for the disagreement notes.
            let values_file = dir.join(format!("oscap-{}-{p}.values", v.name));
            let mut vt = String::new();
            for (k, val) in &os.values {
                let _ = writeln!(vt, "{k}\t{val}");
            }
            let _ = fs::write(values_file, vt);
            oscap_by.insert((v.name, p), os.rules);
        }
    }
    let agree = rows.iter().filter(|r| r.oscap == r.coldscan.word()).count();
    let total = rows.len();
    let rate = if total > 0 {
        agree as f64 * 100.0 / total as f64
    } else {
        0.0
    };
    let _ = writeln!(md, "## Universe\n\n{funnel}");
    let _ = writeln!(
        md,
        "## Agreement: {agree} of {total} ({rate:.1}%) on the (variant, profile, rule) triples both evaluate \
         to pass or fail\n"
    );
    let distinct: BTreeSet<&str> = rows.iter().map(|r| r.ssg.as_str()).collect();
    let _ = writeln!(md, "{} distinct SSG rules compared.\n", distinct.len());
    // The same at the granularity of coldscan's rules (CIS sections): one
    // coldscan rule often covers several SSG rules (owner, group and mode of
    // one file; alternative ways to meet a recommendation), and OpenSCAP's
    // verdict for the section is "fail" if any of them fails.
    let mut sections: BTreeMap<(&str, &str, String), (bool, Outcome)> = BTreeMap::new();
    for r in &rows {
        let e = sections
            .entry((r.variant, r.profile, r.coldscan_rules.join(", ")))
            .or_insert((false, r.coldscan));
        e.0 |= r.oscap == "fail";
    }
    let s_agree = sections
        .values()
        .filter(|(oscap_fail, ours)| *oscap_fail == (*ours == Outcome::Fail))
        .count();
    let _ = writeln!(
        md,
        "At the granularity of coldscan's rules (a CIS section fails in OpenSCAP when any SSG rule it maps to fails): \
         {s_agree} of {} ({:.1}%).\n",
        sections.len(),
        if sections.is_empty() {
            0.0
        } else {
            s_agree as f64 * 100.0 / sections.len() as f64
        }
    );
    md.push_str("| variant | profile | SSG rule | CIS section | coldscan rule(s) | oscap | coldscan | agree |\n|---|---|---|---|---|---|---|---|\n");
    for r in &rows {
        let _ = writeln!(
            md,
            "| {} | {} | `{}` | {} | {} | {} | {} | {} |",
            r.variant,
            r.profile,
            r.ssg,
            r.cis,
            r.coldscan_rules.join(", "),
            r.oscap,
            r.coldscan.word(),
            if r.oscap == r.coldscan.word() {
                "yes"
            } else {
                "**no**"
            }
        );
    }
    let disagreements: Vec<&Row> = rows
        .iter()
        .filter(|r| r.oscap != r.coldscan.word())
        .collect();
    let n_disagree = disagreements.len();
    let (mut same_section, mut unexplained) = (0usize, 0usize);
    if !disagreements.is_empty() {
        md.push_str("\n## Disagreements, with both sides' evidence\n");
    }
    for r in disagreements {
        let results = variants
            .iter()
            .find(|(v, _)| v.name == r.variant)
            .and_then(|(_, res)| res.as_ref());
        let _ = writeln!(
            md,
            "\n### {} / {}: `{}` (CIS {}): OpenSCAP {}, coldscan {}\n",
            r.variant,
            r.profile,
            r.ssg,
            r.cis,
            r.oscap,
            r.coldscan.word()
        );
        let mut cold_files = Vec::new();
        md.push_str("coldscan:\n");
        for id in &r.coldscan_rules {
            if let Some(res) = results.and_then(|rs| rs.iter().find(|x| &x.rule_id == id)) {
                let _ = writeln!(
                    md,
                    "- `{id}` {} (covers SSG {})",
                    res.outcome.word(),
                    res.ssg.join(", ")
                );
                for e in &res.evidence {
                    let _ = writeln!(md, "  - `{}`", md_escape(&e.to_string()));
                    cold_files.push(e.file.clone());
                }
            }
        }
        // Siblings: the other SSG rules the same coldscan rule(s) cover.
        let siblings: BTreeSet<String> = r
            .coldscan_rules
            .iter()
            .filter_map(|id| results.and_then(|rs| rs.iter().find(|x| &x.rule_id == id)))
            .flat_map(|res| res.ssg.iter().cloned())
            .filter(|s| s != &r.ssg)
            .collect();
        let theirs = oscap_by.get(&(r.variant, r.profile));
        let sibling_with = |want: &str| -> Vec<String> {
            siblings
                .iter()
                .filter(|s| theirs.and_then(|t| t.get(*s)).map(String::as_str) == Some(want))
                .cloned()
                .collect()
        };
        let mut notes = Vec::new();
        if r.coldscan == Outcome::Fail && r.oscap == "pass" {
            let failed = sibling_with("fail");
            if !failed.is_empty() {
                notes.push(format!(
                    "granularity: coldscan's rule covers several SSG rules and OpenSCAP fails {} of the same CIS section, \
                     so the section fails on both sides",
                    failed.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if r.coldscan == Outcome::Pass && r.oscap == "fail" {
            let passed = sibling_with("pass");
            if !passed.is_empty() {
                notes.push(format!(
                    "alternatives: the CIS section is met by any of the SSG rules coldscan's rule covers, and OpenSCAP passes {}",
                    passed.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let cold_evidence: Vec<&Evidence> = r
            .coldscan_rules
            .iter()
            .filter_map(|id| results.and_then(|rs| rs.iter().find(|x| &x.rule_id == id)))
            .flat_map(|res| res.evidence.iter())
            .collect();
        if cold_evidence.iter().any(|e| e.value.contains("(default")) {
            notes.push(
                "default: no file sets the value; coldscan applies the program's compiled-in default (as the CIS audit's \
                 `sshd -T` does), while the OVAL check requires the setting to be written in the file"
                    .to_string(),
            );
        }
        if cold_evidence
            .iter()
            .any(|e| e.file.starts_with("/etc/ssh/sshd_config.d/"))
            && r.ssg.starts_with("sshd_")
        {
            notes.push(
                "drop-in: the effective value comes from /etc/ssh/sshd_config.d (included by the first line of Debian's \
                 sshd_config; sshd keeps the first value it reads), which OpenSCAP's check does not read"
                    .to_string(),
            );
        }
        if let Some((_, k)) = KNOWN.iter().find(|(id, _)| *id == r.ssg) {
            notes.push((*k).to_string());
        }
        if notes
            .iter()
            .any(|n| n.starts_with("granularity") || n.starts_with("alternatives"))
        {
            same_section += 1;
        }
        if notes.is_empty() {
            unexplained += 1;
        }
        for n in &notes {
            let _ = writeln!(md, "\nExplanation ({n}).");
        }
        let (def, vars) = ds.rule_check(&r.ssg);
        md.push_str("\nOpenSCAP (what the OVAL check reads):\n");
        let values =
            fs::read_to_string(dir.join(format!("oscap-{}-{}.values", r.variant, r.profile)))
                .unwrap_or_default();
        for var in &vars {
            let val = values
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{var}\t")))
                .unwrap_or("(default)");
            let _ = writeln!(
                md,
                "- variable `{}` = `{val}`",
                var.trim_start_matches("xccdf_org.ssgproject.content_value_")
            );
        }
        let summary = def
            .as_deref()
            .map(|d| ds.oval_summary(d, 0))
            .unwrap_or_else(|| vec!["(no OVAL check)".into()]);
        md.push_str("```\n");
        for l in &summary {
            md.push_str(l);
            md.push('\n');
        }
        md.push_str("```\n");
        let mut read = Datastream::files_read(&summary);
        read.dedup();
        // Only when the check names literal files (not a regex or a variable).
        if read
            .iter()
            .any(|f| f.starts_with("regex ") || f.starts_with("var "))
        {
            read.clear();
        }
        let unread: BTreeSet<&String> = cold_files
            .iter()
            .filter(|f| !f.is_empty() && !read.iter().any(|x| x == *f))
            .collect();
        if !unread.is_empty() && !read.is_empty() {
            let _ = writeln!(
                md,
                "\nNote: coldscan's evidence is in {}, which the OVAL check does not name (it reads {}).",
                unread
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                read.iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let _ = writeln!(
        md,
        "\n## Summary\n\n- per SSG rule: {agree} of {total} agree ({rate:.1}%), {n_disagree} disagreements\n\
         - of the disagreements, {same_section} are the same CIS verdict at another granularity (granularity or \
         alternatives): counting those as agreement, {} of {total} ({:.1}%)\n\
         - disagreements without an explanation: {unexplained}",
        agree + same_section,
        if total > 0 {
            (agree + same_section) as f64 * 100.0 / total as f64
        } else {
            0.0
        }
    );
    Ok(md)
}

// ---------------------------------------------------------------------------

/// `cargo xtask cis-compare [--keep] [--coldscan PATH]`.
pub fn cis_compare(args: &[&str], root: &Path, tool_path: &OsString) -> Result<ExitCode> {
    let mut keep = false;
    let mut coldscan: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--keep" => keep = true,
            "--coldscan" => {
                coldscan = Some(PathBuf::from(
                    it.next().ok_or("--coldscan needs the binary's path")?,
                ))
            }
            other => return Err(format!("cis-compare: unknown argument {other}")),
        }
    }
    let dir = root.join("target/cis-compare");
    let base = base_tree(&dir, tool_path)?;
    let weak = variant(&dir, &base, "weak", keep, tool_path)?;
    let clean = variant(&dir, &base, "clean", keep, tool_path)?;

    let coldscan = match coldscan {
        Some(c) => c,
        None => debian_image::build_coldscan(root)?,
    };
    let scan_ready = debian_image::has_scan(&coldscan);
    let mut failed = false;
    let mut reports: Vec<(Variant, Option<Vec<RuleResult>>)> = Vec::new();
    for v in [weak, clean] {
        let res = if scan_ready {
            let out = dir.join(format!("coldscan-{}.json", v.name));
            eprintln!(
                "xtask: coldscan scan {} -o {}",
                v.image.display(),
                out.display()
            );
            Some(scan(&coldscan, &v.image, &out)?)
        } else {
            None
        };
        reports.push((v, res));
    }

    if let (Some(w), Some(c)) = (&reports[0].1, &reports[1].1) {
        let misses = weakness_check(&reports[0].0.tree, w, c)?;
        if misses > 0 {
            println!("\n{misses} weakness check(s) NOT OK");
            failed = true;
        } else {
            println!(
                "\nevery weakness is reported with the right evidence; clean.img has none of them"
            );
        }
    } else {
        println!(
            "\n{} has no `scan` command yet: weakness check and agreement not run",
            coldscan.display()
        );
        failed = true;
    }

    match ssg_datastream(&dir) {
        Err(e) => {
            println!("\nOpenSCAP comparison not run: {e}");
            failed = true;
        }
        Ok((ds, version)) => {
            eprintln!("xtask: datastream {} (ssg-debian {version})", ds.display());
            let md = agreement(root, &dir, &reports, &ds, &version, keep)?;
            let out = dir.join("agreement.md");
            io(fs::write(&out, &md), &out)?;
            println!("\n{md}");
            eprintln!("xtask: written to {}", out.display());
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"schema_version":"1","tool":{"name":"coldscan"},"generated_at":"2026-01-01T00:00:00Z",
      "rules_packages":[{"id":"cis","name":"CIS"}],"assets":[{"asset":"weak.img"}],
      "findings":[{"id":"x","rules_package":"security-best-practices","rule_id":"sbp-ssh-root-login",
        "evidence":[{"file":"/etc/ssh/sshd_config.d/50-weak.conf","line":2,"value":"PermitRootLogin yes"}],
        "references":{}}],
      "passed":[{"rules_package":"cis","rule_id":"cis-debian12-5.1.20","evidence":[{"value":"d\u00e9faut \"no\""}],
        "references":{"cis_section":"5.1.20","ssg":["sshd_disable_root_login"]}}],
      "exclusions":[{"rules_package":"cve","rule_id":null,"kind":"package","reason":"no db"},
        {"rules_package":"cis","rule_id":"cis-debian12-1.1.2.1.1","kind":"not_applicable","reason":"no /tmp","references":{"ssg":["partition_for_tmp"]}}]}"#;

    #[test]
    fn report_results() {
        let doc: Value = serde_json::from_str(REPORT).unwrap();
        let r = results_of(&doc);
        assert_eq!(r.len(), 3, "the whole-package exclusion is skipped");
        assert_eq!(r[0].outcome, Outcome::Fail);
        assert_eq!(
            r[0].evidence[0].to_string(),
            "/etc/ssh/sshd_config.d/50-weak.conf:2 PermitRootLogin yes"
        );
        assert_eq!(r[1].outcome, Outcome::Pass);
        assert_eq!(r[1].ssg, vec!["sshd_disable_root_login".to_string()]);
        assert_eq!(r[1].evidence[0].value, "d\u{e9}faut \"no\"");
        assert_eq!(r[2].outcome, Outcome::NotApplicable);
        assert_eq!(r[2].cis_section, "");
    }

    #[test]
    fn weakness_matching() {
        let w = Weakness {
            what: "",
            rule: "sbp-aslr",
            file: FileWant::Exact("/etc/sysctl.d/50-weak.conf".into()),
            line: Some(1),
        };
        let ev = |file: &str, line| Evidence {
            file: file.into(),
            line,
            value: String::new(),
        };
        assert!(w.matches(&ev("/etc/sysctl.d/50-weak.conf", Some(1))));
        assert!(!w.matches(&ev("/etc/sysctl.d/50-weak.conf", Some(2))));
        assert!(!w.matches(&ev("/etc/sysctl.conf", Some(1))));
        let p = Weakness {
            what: "",
            rule: "sbp-password-min-length",
            file: FileWant::Prefix("/etc/pam.d/"),
            line: None,
        };
        assert!(p.matches(&ev("/etc/pam.d/common-password", Some(25))));
        assert!(p.matches(&ev("/etc/pam.d/common-password", None)));
    }

    #[test]
    fn xccdf_and_oval_text() {
        let xml = r#"<TestResult><set-value idref="xccdf_org.ssgproject.content_value_var_a">60</set-value>
          <rule-result idref="xccdf_org.ssgproject.content_rule_sshd_disable_root_login" role="full" time="t">
            <result>fail</result><check system="oval"/></rule-result>
          <xccdf:rule-result idref="xccdf_org.ssgproject.content_rule_partition_for_tmp"><xccdf:result>notapplicable</xccdf:result></xccdf:rule-result>"#;
        let r = xccdf_results(xml);
        assert_eq!(r.rules["sshd_disable_root_login"], "fail");
        assert_eq!(r.rules["partition_for_tmp"], "notapplicable");
        assert_eq!(r.values["xccdf_org.ssgproject.content_value_var_a"], "60");

        let ds = Datastream {
            text: r#"<x:Profile id="xccdf_org.ssgproject.content_profile_standard"><x:select idref="xccdf_org.ssgproject.content_rule_a" selected="true"/><x:select idref="xccdf_org.ssgproject.content_rule_b" selected="false"/></x:Profile>
<x:Rule id="xccdf_org.ssgproject.content_rule_a"><x:check system="oval"><x:check-export export-name="e" value-id="v1"/><x:check-content-ref href="o.xml" name="oval:ssg-a:def:1"/></x:check></x:Rule>
<d:definition id="oval:ssg-a:def:1"><d:metadata><d:description>Check &lt;a&gt;</d:description></d:metadata><d:criteria><d:criterion comment="c1" test_ref="oval:t:1"/></d:criteria></d:definition>
<i:textfilecontent54_test id="oval:t:1" comment="tc"><i:object object_ref="oval:o:1"/></i:textfilecontent54_test>
<i:textfilecontent54_object id="oval:o:1"><i:filepath>/etc/ssh/sshd_config</i:filepath><i:pattern operation="pattern match">^x$</i:pattern></i:textfilecontent54_object>"#
                .into(),
        };
        assert_eq!(
            ds.selected("standard").into_iter().collect::<Vec<_>>(),
            vec!["a".to_string()]
        );
        let (def, vars) = ds.rule_check("a");
        assert_eq!(def.as_deref(), Some("oval:ssg-a:def:1"));
        assert_eq!(vars, vec!["v1".to_string()]);
        let summary = ds.oval_summary("oval:ssg-a:def:1", 0);
        assert!(
            summary.contains(&"description: Check <a>".to_string()),
            "{summary:?}"
        );
        assert!(
            summary
                .iter()
                .any(|l| l.trim() == "filepath = /etc/ssh/sshd_config"),
            "{summary:?}"
        );
        assert!(
            summary
                .iter()
                .any(|l| l.trim() == "pattern (pattern match) = ^x$"),
            "{summary:?}"
        );
        assert_eq!(
            Datastream::files_read(&summary),
            vec!["/etc/ssh/sshd_config".to_string()]
        );
    }
}
