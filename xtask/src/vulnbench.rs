//! `cargo xtask vulnbench`: the vulnerability database's import and match speed.
//!
//! Writes 50,000 deterministic OSV records (Debian, AlmaLinux and Alpine
//! ecosystems; introduced/fixed, last_affected, unfixed and multi-range
//! entries, `versions` lists, withdrawn records, CVSS v3/v4 vectors) into a
//! temporary folder, imports them with the `vulndb` example of
//! `coldscan-vulndb` (the same code as `coldscan db import`, release build)
//! and matches 1,000 installed packages, each step in its own process so
//! that its peak RSS (VmHWM) is its own. Targets: import ≥ 20,000 records/s,
//! matching < 50 ms.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::Result;

/// xorshift64*: the same records on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const STEMS: &[&str] = &[
    "openssl",
    "openssh",
    "glibc",
    "curl",
    "systemd",
    "sudo",
    "bash",
    "zlib",
    "xz",
    "perl",
    "python3",
    "krb5",
    "libxml2",
    "expat",
    "sqlite",
    "gnutls",
    "git",
    "rsync",
    "vim",
    "less",
    "pam",
    "nss",
    "tar",
    "libpng",
    "tiff",
    "cups",
    "avahi",
    "dbus",
    "polkit",
    "shadow",
    "util-linux",
    "busybox",
    "musl",
    "nghttp2",
    "libssh",
    "postgresql",
    "nginx",
    "apache2",
    "bind9",
    "unbound",
];

/// Package names per family: stems with numbered variants, 2,000 in all.
fn package_name(i: u64) -> String {
    let stem = STEMS[(i % STEMS.len() as u64) as usize];
    match i / STEMS.len() as u64 {
        0 => stem.to_string(),
        n => format!("{stem}{n}"),
    }
}
const NAMES: u64 = 2000;

#[derive(Clone, Copy)]
enum Family {
    Debian,
    Alma,
    Alpine,
}

fn version(rng: &mut Rng, family: Family, major: u64) -> String {
    let (a, b, c) = (major, rng.below(20), rng.below(30));
    match family {
        Family::Debian => {
            let epoch = if rng.chance(15) { "1:" } else { "" };
            let deb = if rng.chance(50) {
                format!("+deb12u{}", rng.below(6))
            } else {
                String::new()
            };
            format!("{epoch}{a}.{b}.{c}-{}{deb}", 1 + rng.below(4))
        }
        Family::Alma => {
            let epoch = if rng.chance(20) { "1:" } else { "" };
            format!(
                "{epoch}{a}.{b}.{c}-{}.el9_{}",
                1 + rng.below(60),
                rng.below(5)
            )
        }
        Family::Alpine => {
            let suffix = if rng.chance(15) {
                format!("_p{}", rng.below(5))
            } else {
                String::new()
            };
            format!("{a}.{b}.{c}{suffix}-r{}", rng.below(8))
        }
    }
}

fn ecosystem(rng: &mut Rng, family: Family) -> &'static str {
    match family {
        Family::Debian => ["Debian:11", "Debian:12"][rng.below(2) as usize],
        Family::Alma => ["AlmaLinux:8", "AlmaLinux:9"][rng.below(2) as usize],
        Family::Alpine => ["Alpine:v3.18", "Alpine:v3.19"][rng.below(2) as usize],
    }
}

fn family(rng: &mut Rng) -> Family {
    match rng.below(100) {
        0..=39 => Family::Debian,
        40..=74 => Family::Alma,
        _ => Family::Alpine,
    }
}

const METRICS: &[&str] = &["N", "L", "H"];

fn record(rng: &mut Rng, n: u64) -> (String, String) {
    let fam = family(rng);
    let (prefix, dir) = match fam {
        Family::Debian => ("DEBIAN-CVE", "debian"),
        Family::Alma => ("ALSA", "almalinux"),
        Family::Alpine => ("ALPINE-CVE", "alpine"),
    };
    let year = 2015 + rng.below(11);
    let cve = format!("CVE-{year}-{}", 1000 + n);
    let id = match fam {
        Family::Alma => format!("{prefix}-{year}:{n:05}"),
        _ => format!("{prefix}-{year}-{}", 1000 + n),
    };
    let eco = ecosystem(rng, fam);
    let name = package_name(rng.below(NAMES));
    let major = 1 + rng.below(4);
    let mut entries = Vec::new();
    let binaries: Vec<String> = match fam {
        // RPM advisories name every binary package.
        Family::Alma => {
            let mut v = vec![name.clone(), format!("{name}-libs")];
            if rng.chance(50) {
                v.push(format!("{name}-devel"));
            }
            v
        }
        _ => vec![name.clone()],
    };
    let kind = rng.below(100);
    let fixed = version(rng, fam, major);
    let low = version(rng, fam, major.saturating_sub(1).max(1));
    let ranges = match kind {
        0..=69 => format!(
            r#"[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]"#
        ),
        70..=79 => format!(
            r#"[{{"type":"ECOSYSTEM","events":[{{"introduced":"{low}"}},{{"last_affected":"{fixed}"}}]}}]"#
        ),
        80..=89 => r#"[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]"#.to_string(),
        _ => {
            let other = version(rng, fam, major + 1);
            format!(
                r#"[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}},{{"type":"ECOSYSTEM","events":[{{"introduced":"{}.0.0-1"}},{{"fixed":"{other}"}}]}}]"#,
                major + 1
            )
        }
    };
    let versions = if rng.chance(20) {
        let list: Vec<String> = (0..5 + rng.below(15))
            .map(|_| format!("\"{}\"", version(rng, fam, major)))
            .collect();
        format!(r#","versions":[{}]"#, list.join(","))
    } else {
        String::new()
    };
    let specific = match fam {
        Family::Debian => format!(
            r#","ecosystem_specific":{{"urgency":"{}"}}"#,
            ["low", "medium", "high", "unimportant"][rng.below(4) as usize]
        ),
        _ => String::new(),
    };
    for b in &binaries {
        entries.push(format!(
            r#"{{"package":{{"ecosystem":"{eco}","name":"{b}"}},"ranges":{ranges}{versions}{specific}}}"#
        ));
    }
    let mut severity = Vec::new();
    if rng.chance(60) {
        let m = |rng: &mut Rng| METRICS[rng.below(3) as usize];
        severity.push(format!(
            r#"{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:{}/PR:{}/UI:N/S:U/C:{}/I:{}/A:{}"}}"#,
            ["L", "H"][rng.below(2) as usize],
            m(rng),
            m(rng),
            m(rng),
            m(rng)
        ));
    }
    if rng.chance(10) {
        severity.push(
            r#"{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}"#.to_string(),
        );
    }
    let withdrawn = if rng.chance(2) {
        r#""withdrawn":"2025-01-01T00:00:00Z","#
    } else {
        ""
    };
    let (ids_field, summary) = match fam {
        Family::Alma => (
            format!(r#""related":["{cve}"]"#),
            format!("Important: {name} security update"),
        ),
        _ => (
            format!(r#""upstream":["{cve}"]"#),
            format!("{name}: security issue {cve}"),
        ),
    };
    let json = format!(
        r#"{{"schema_version":"1.6.0","id":"{id}",{ids_field},{withdrawn}"published":"{year}-03-01T00:00:00Z","modified":"2025-{:02}-{:02}T12:00:00Z","summary":"{summary}","details":"{} in {name} allows remote attackers to cause a denial of service or possibly execute arbitrary code via crafted input. This record was generated by cargo xtask vulnbench.","severity":[{}],"affected":[{}],"references":[{{"type":"ADVISORY","url":"https://example.invalid/{id}"}}]}}"#,
        1 + rng.below(12),
        1 + rng.below(28),
        cve,
        severity.join(","),
        entries.join(",")
    );
    (format!("{dir}/{}.json", id.replace(':', "_")), json)
}

fn installed(rng: &mut Rng, i: u64) -> String {
    let fam = match i % 10 {
        0..=3 => Family::Debian,
        4..=7 => Family::Alma,
        _ => Family::Alpine,
    };
    let (eco, file) = match fam {
        Family::Debian => ("Debian:12", "/var/lib/dpkg/status"),
        Family::Alma => ("AlmaLinux:9", "/var/lib/rpm/rpmdb.sqlite"),
        Family::Alpine => ("Alpine:v3.19", "/lib/apk/db/installed"),
    };
    let source = package_name(rng.below(NAMES));
    let major = 1 + rng.below(4);
    let v = version(rng, fam, major);
    let name = match (fam, i % 3) {
        (Family::Alma, 1) => format!("{source}-libs"),
        (Family::Debian, 1) => format!("lib{source}1"),
        _ => source.clone(),
    };
    format!(
        r#"{{"name":"{name}","version":"{v}","source_name":"{source}","source_version":null,"arch":"x86_64","ecosystem":"{eco}","evidence_file":"{file}","evidence_key":"{i}"}}"#
    )
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

struct Step {
    seconds: f64,
    stdout: String,
    peak_kib: u64,
    /// The child's own user + system CPU time.
    cpu_s: f64,
}

fn run_step(bin: &Path, args: &[&str]) -> Result<Step> {
    let started = Instant::now();
    let out = Command::new(bin)
        .args(args)
        .env("VULNDB_PRINT_PEAK", "1")
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{} {args:?} failed ({}): {stderr}",
            bin.display(),
            out.status
        ));
    }
    let peak_kib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let cpu_s = stderr
        .lines()
        .find_map(|l| l.strip_prefix("cpu_s "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN);
    Ok(Step {
        cpu_s,
        seconds,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        peak_kib,
    })
}

/// The number after `key` in `text` (`key 12.5` or `key: 12`).
fn field(text: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(key)? + key.len()..];
    let num: String = rest
        .trim_start_matches([':', ' '])
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().ok()
}

pub fn run(args: &[&str], root: &Path) -> Result<()> {
    let mut records = 50_000u64;
    let mut packages = 1_000u64;
    let mut keep = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |what: &str| -> Result<u64> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{what} needs a number"))
        };
        match *a {
            "--records" => records = num("--records")?,
            "--packages" => packages = num("--packages")?,
            "--keep" => keep = true,
            other => return Err(format!("vulnbench: unknown argument {other:?}")),
        }
    }

    eprintln!("xtask: building the vulndb example (release)");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "coldscan-vulndb",
            "--example",
            "vulndb",
        ])
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err("cargo build of the vulndb example failed".into());
    }
    let bin = target_dir(root).join("release/examples/vulndb");

    let tmp = std::env::temp_dir().join(format!("coldscan-vulnbench-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let osv = tmp.join("osv");
    let mut rng = Rng(0x005e_ed0f_c01d_5ca9);
    let mut bytes = 0usize;
    let mut made: Vec<String> = Vec::new();
    for n in 0..records {
        let (rel, json) = record(&mut rng, n);
        let path = osv.join(&rel);
        if let Some(dir) = path.parent() {
            if !made.iter().any(|d| Path::new(d) == dir) {
                fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                made.push(dir.display().to_string());
            }
        }
        bytes += json.len();
        fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let pkgs: Vec<String> = (0..packages).map(|i| installed(&mut rng, i)).collect();
    let pkgs_path = tmp.join("packages.json");
    fs::write(&pkgs_path, format!("[{}]", pkgs.join(",\n"))).map_err(|e| e.to_string())?;
    let db = tmp.join("vulndb.sqlite");
    let (db_s, osv_s, pkgs_s) = (
        db.display().to_string(),
        osv.display().to_string(),
        pkgs_path.display().to_string(),
    );

    let import = run_step(&bin, &["import", "--db", &db_s, &osv_s])?;
    // The same records as one deflated zip (osv.dev's all.zip form), into a second database.
    let zip_s = tmp.join("all.zip").display().to_string();
    run_step(&bin, &["pack", &osv_s, &zip_s])?;
    let db_zip = tmp.join("vulndb-zip.sqlite").display().to_string();
    let import_zip = run_step(&bin, &["import", "--db", &db_zip, &zip_s])?;
    let zip_s_time = inner_seconds(&import_zip.stdout).unwrap_or(import_zip.seconds);
    let stored = field(&import.stdout, "): ").unwrap_or(0.0);
    let withdrawn = field(&import.stdout, "entries), ").unwrap_or(0.0);
    let read = stored + withdrawn;
    let import_s = inner_seconds(&import.stdout).unwrap_or(import.seconds);
    let matched = run_step(&bin, &["match", "--db", &db_s, &pkgs_s, "--runs", "21"])?;
    let match_cpu = field(&matched.stdout, "cpu_ms_per_run").unwrap_or(f64::NAN);
    let median = field(&matched.stdout, "median_ms").unwrap_or(f64::NAN);
    let first = field(&matched.stdout, "first_ms").unwrap_or(f64::NAN);
    let found = field(&matched.stdout, "matches").unwrap_or(0.0);
    let db_bytes = fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    if keep {
        eprintln!("xtask: kept {}", tmp.display());
    } else {
        let _ = fs::remove_dir_all(&tmp);
    }

    let mib = |kib: u64| kib as f64 / 1024.0;
    let rate = read / import_s;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "vulnbench: {records} generated OSV records ({:.1} MiB of JSON in {} files; {} withdrawn), {packages} installed packages",
        bytes as f64 / (1 << 20) as f64,
        records,
        withdrawn
    );
    let _ = writeln!(
        t,
        "{:<8} {:>12} {:>22} {:>12}  target",
        "step", "time", "rate / result", "peak RSS"
    );
    let _ = writeln!(
        t,
        "{:<8} {:>10.2} s {:>13.0} records/s {:>8.1} MiB  >= 20000 records/s: {} (folder of files; {:.2} s CPU)",
        "import",
        import_s,
        rate,
        mib(import.peak_kib),
        if rate >= 20_000.0 { "met" } else { "MISSED" },
        import.cpu_s
    );
    let zip_rate = read / zip_s_time;
    let _ = writeln!(
        t,
        "{:<8} {:>10.2} s {:>13.0} records/s {:>8.1} MiB  >= 20000 records/s: {} (one all.zip; {:.2} s CPU)",
        "import",
        zip_s_time,
        zip_rate,
        mib(import_zip.peak_kib),
        if zip_rate >= 20_000.0 {
            "met"
        } else {
            "MISSED"
        },
        import_zip.cpu_s
    );
    let _ = writeln!(
        t,
        "{:<8} {:>9.2} ms {:>14} matches {:>8.1} MiB  < 50 ms: {} (first run {first:.2} ms; {match_cpu:.1} ms CPU per run)",
        "match",
        median,
        found,
        mib(matched.peak_kib),
        if median < 50.0 { "met" } else { "MISSED" }
    );
    let _ = writeln!(
        t,
        "database {:.1} MiB; import wall time with process start {:.2} s; match median of 21 runs",
        db_bytes as f64 / (1 << 20) as f64,
        import.seconds
    );
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = writeln!(
        t,
        "machine: {cpus} CPUs, load average {} (other work slows every figure)",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    print!("{t}");
    Ok(())
}

/// The import's own time, from `...; 1.23 s, 4567 records/s`.
fn inner_seconds(stdout: &str) -> Option<f64> {
    let line = stdout.lines().find(|l| l.starts_with("imported "))?;
    let before = line
        .rsplit_once(" s, ")
        .map(|(b, _)| b)
        .or_else(|| line.strip_suffix(" s"))?;
    before.rsplit(' ').next()?.parse().ok()
}
