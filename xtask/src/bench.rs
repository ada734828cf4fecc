//! `cargo xtask bench`: coldscan against sleuthkit's `fls` on a real Debian
//! root filesystem image, side by side: wall time, peak memory and bytes
//! read, plus the debugfs differential check on the same image.
//!
//! The image is built once (debootstrap + `mke2fs -d`, needs root and the
//! Debian mirror) under `target/bench/`, never committed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;

/// Packages added to debootstrap's minbase so the tree is the size of a
/// small server image (~650 MB).
const PACKAGES: &str = "build-essential,python3,perl,git,vim,openssh-server,sudo,curl,systemd,locales,man-db,python3-pip,libssl-dev";

/// One measured run.
struct Sample {
    wall_s: f64,
    max_rss_kib: u64,
    /// Bytes the process (and its children) got from read(2)/pread(2).
    rchar: u64,
}

/// `rchar` of this process, which includes every child it has reaped: the
/// kernel adds a reaped child's I/O counters to its parent's.
fn own_rchar() -> Result<u64> {
    let io = std::fs::read_to_string("/proc/self/io").map_err(|e| format!("/proc/self/io: {e}"))?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "no rchar in /proc/self/io".to_string())
}

/// Runs `argv` under GNU time with stdout discarded; returns its sample.
fn measure(argv: &[String]) -> Result<Sample> {
    let tmp = std::env::temp_dir().join(format!("coldscan-bench-time-{}", std::process::id()));
    let before = own_rchar()?;
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(&tmp)
        .args(argv)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("/usr/bin/time (Debian package time): {e}"))?;
    let after = own_rchar()?;
    let text = std::fs::read_to_string(&tmp).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&tmp);
    // A non-zero exit is reported but still measured (fls exits 1 on some trees).
    let last = text.lines().last().unwrap_or("");
    let mut f = last.split_whitespace();
    let wall_s = f.next().and_then(|v| v.parse().ok());
    let rss = f.next().and_then(|v| v.parse().ok());
    match (wall_s, rss) {
        (Some(wall_s), Some(max_rss_kib)) => Ok(Sample {
            wall_s,
            max_rss_kib,
            rchar: after.saturating_sub(before),
        }),
        _ => Err(format!(
            "{argv:?} exited with {status}; time printed {text:?}"
        )),
    }
}

/// Empties the page cache so the next run reads from the device: needs
/// root; `false` when not allowed.
fn drop_caches() -> bool {
    let _ = Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if !status.success() {
        return Err(format!("{what} failed: {status}"));
    }
    Ok(())
}

/// Builds `target/bench/debian-rootfs.img` if it is not there yet.
fn build_image(root: &Path, tool_path: &std::ffi::OsString) -> Result<PathBuf> {
    let dir = root.join("target/bench");
    let image = dir.join("debian-rootfs.img");
    if image.exists() {
        return Ok(image);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let tree = dir.join("rootfs");
    if !tree.join("etc/os-release").exists() {
        eprintln!(
            "xtask: debootstrap bookworm into {} (needs root and the Debian mirror)",
            tree.display()
        );
        let _ = std::fs::remove_dir_all(&tree);
        run(
            Command::new("debootstrap")
                .env("PATH", tool_path)
                .args([
                    "--variant=minbase",
                    &format!("--include={PACKAGES}"),
                    "bookworm",
                ])
                .arg(&tree)
                .arg("http://deb.debian.org/debian"),
            "debootstrap (Debian package debootstrap)",
        )?;
        // What `apt-get clean` does on a real image: drop the downloaded .debs.
        let archives = tree.join("var/cache/apt/archives");
        for entry in std::fs::read_dir(&archives).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().is_some_and(|e| e == "deb") {
                std::fs::remove_file(&path).map_err(|e| e.to_string())?;
            }
        }
    }
    let du = Command::new("du")
        .args(["-sb"])
        .arg(&tree)
        .output()
        .map_err(|e| e.to_string())?;
    let bytes: u64 = String::from_utf8_lossy(&du.stdout)
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or("du gave no size")?;
    // Room for inode tables and the journal, and some free space.
    let size_mib = bytes * 11 / 10 / (1 << 20) + 64;
    eprintln!(
        "xtask: mke2fs -d: {size_mib} MiB image from a {} MiB tree",
        bytes >> 20
    );
    run(
        Command::new("mke2fs")
            .env("PATH", tool_path)
            .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-d"])
            .arg(&tree)
            .arg(&image)
            .arg(format!("{size_mib}M")),
        "mke2fs (Debian package e2fsprogs)",
    )?;
    Ok(image)
}

/// Measures one command: warm runs (after a warm-up) and, if allowed,
/// cold runs; returns its table row.
fn row(name: &str, argv: &[String], runs: usize, cold: bool) -> Result<String> {
    measure(argv)?; // warm-up
    let samples: Vec<Sample> = (0..runs).map(|_| measure(argv)).collect::<Result<_>>()?;
    let wall = median(samples.iter().map(|s| s.wall_s).collect());
    let cold_wall = if cold {
        let mut v = Vec::new();
        for _ in 0..runs {
            drop_caches();
            v.push(measure(argv)?.wall_s);
        }
        format!("{:.2}", median(v))
    } else {
        "-".to_string()
    };
    let rss = samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0);
    let rchar = samples.iter().map(|s| s.rchar).max().unwrap_or(0);
    let line = format!(
        "| `{name}` | {wall:.2} | {cold_wall} | {:.1} | {rchar} ({:.1} MiB) |\n",
        rss as f64 / 1024.0,
        rchar as f64 / (1 << 20) as f64
    );
    eprint!("{line}");
    Ok(line)
}

/// A number after `"key": ` in JSON text (first occurrence).
fn json_number(text: &str, key: &str) -> Option<u64> {
    let at = text.find(&format!("\"{key}\": "))? + key.len() + 4;
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// `coldscan collect` next to dissect's `target-query -f dpkg.status` and
/// `checksec --dir`, plus what collect read relative to the image's
/// allocated bytes.
fn collect_section(
    coldscan: &str,
    img: &str,
    image: &Path,
    root: &Path,
    runs: usize,
    cold: bool,
) -> Result<String> {
    let mut out = String::from(
        "\n## collect\n\n| command | warm wall (s) | cold wall (s) | peak RSS (MiB) | bytes read (rchar) |\n|---|---|---|---|---|\n",
    );
    let doc = std::env::temp_dir().join("coldscan-bench-telemetry.json");
    let collect = vec![
        coldscan.to_string(),
        "collect".into(),
        img.to_string(),
        "-o".into(),
        doc.display().to_string(),
    ];
    out.push_str(&row("coldscan collect", &collect, runs, cold)?);
    let tq = Command::new("sh")
        .args(["-c", "command -v target-query"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if tq.is_empty() {
        out.push_str(
            "| `target-query -f dpkg.status` | not installed (pip install dissect) | | | |\n",
        );
    } else {
        let argv = vec![
            tq,
            "-q".into(),
            "-f".into(),
            "dpkg.status".into(),
            img.to_string(),
        ];
        out.push_str(&row(
            "target-query -f dpkg.status (dissect, packages only)",
            &argv,
            runs,
            cold,
        )?);
    }
    // checksec reads a directory on the host: the tree the image was built from.
    let tree = root.join("target/bench/rootfs/usr/bin");
    let checksec = ["/usr/bin/checksec", "/usr/local/bin/checksec"]
        .iter()
        .find(|p| Path::new(p).exists());
    match (checksec, tree.exists()) {
        (Some(cs), true) => {
            // checksec is slow (seconds per file): one warm run only.
            let argv = vec![
                cs.to_string(),
                format!("--dir={}", tree.display()),
                "--output=json".into(),
            ];
            out.push_str(&row(
                "checksec --dir=/usr/bin (host copy of the tree, binaries of /usr/bin only)",
                &argv,
                1,
                false,
            )?);
        }
        _ => out.push_str(
            "| `checksec --dir` | not run (needs checksec and target/bench/rootfs) | | | |\n",
        ),
    }
    let text = std::fs::read_to_string(&doc).map_err(|e| e.to_string())?;
    let bytes_read = json_number(&text, "bytes_read").unwrap_or(0);
    let used = json_number(&text, "used_bytes").unwrap_or(0);
    let packages = text.matches("\"ecosystem\":").count();
    let binaries = text.matches("\"format\":").count();
    let _ = image;
    out.push_str(&format!(
        "\ncollect read {bytes_read} bytes from the image ({:.1} MiB), {:.1}% of the {used} allocated bytes; \
         it listed {packages} packages and {binaries} ELF/PE files.\n",
        bytes_read as f64 / (1 << 20) as f64,
        if used > 0 { bytes_read as f64 * 100.0 / used as f64 } else { 0.0 }
    ));
    Ok(out)
}

/// `cargo xtask bench [--image PATH] [--runs N]`.
pub fn bench(args: &[&str], root: &Path, tool_path: &std::ffi::OsString) -> Result<()> {
    let mut image = None;
    let mut runs = 3usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--image" => image = it.next().map(PathBuf::from),
            "--runs" => {
                runs = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs needs a positive number")?
            }
            other => return Err(format!("bench: unknown argument {other}")),
        }
    }
    let image = match image {
        Some(i) => i,
        None => build_image(root, tool_path)?,
    };
    run(
        Command::new("cargo").current_dir(root).args([
            "build",
            "--release",
            "--quiet",
            "--bin",
            "coldscan",
        ]),
        "cargo build --release",
    )?;
    let coldscan = root.join("target/release/coldscan").display().to_string();
    let img = image.display().to_string();
    let fls = ["/usr/bin/fls", "/usr/local/bin/fls"]
        .iter()
        .find(|p| Path::new(p).exists())
        .ok_or("fls not found (Debian package sleuthkit)")?
        .to_string();
    let size = std::fs::metadata(&image).map_err(|e| e.to_string())?.len();

    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "coldscan ls -R --long --json /",
            vec![
                coldscan.clone(),
                "ls".into(),
                "-R".into(),
                "--long".into(),
                "--json".into(),
                img.clone(),
                "/".into(),
            ],
        ),
        (
            "coldscan ls -R / (names)",
            vec![
                coldscan.clone(),
                "ls".into(),
                "-R".into(),
                img.clone(),
                "/".into(),
            ],
        ),
        (
            "fls -r (names)",
            vec![fls.clone(), "-r".into(), img.clone()],
        ),
        (
            "fls -r -l (long)",
            vec![fls.clone(), "-r".into(), "-l".into(), img.clone()],
        ),
    ];
    // Count entries once, for the table.
    let count = |argv: &[String]| -> Result<usize> {
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .output()
            .map_err(|e| e.to_string())?;
        Ok(out
            .stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count())
    };
    let ours = count(&cases[1].1)?;
    let theirs = count(&cases[2].1)?;

    let cold = drop_caches();
    let mut report = format!(
        "# coldscan vs fls on {img}\n\nimage size {size} bytes ({} MiB); median of {runs} runs. Warm: page cache filled by a \
         warm-up run. Cold: page cache dropped before each run{}.\n\
         Entries listed: coldscan {ours}, fls -r {theirs} (fls also lists `$OrphanFiles`).\n\n\
         | command | warm wall (s) | cold wall (s) | peak RSS (MiB) | bytes read (rchar) |\n|---|---|---|---|---|\n",
        size >> 20,
        if cold { "" } else { " (not measured: writing /proc/sys/vm/drop_caches needs root)" }
    );
    for (name, argv) in &cases {
        report.push_str(&row(name, argv, runs, cold)?);
    }

    // Collection: coldscan collect against dissect (packages) and checksec
    // (binaries), the peers named for each part.
    report.push_str(&collect_section(&coldscan, &img, &image, root, runs, cold)?);

    // The same image, checked entry by entry against debugfs.
    let diff = Command::new("cargo")
        .current_dir(root)
        .env("COLDSCAN_DIFF_IMAGE", &image)
        .args([
            "test",
            "--release",
            "--quiet",
            "--test",
            "debugfs_differential",
            "any_image_matches_debugfs_when_asked",
            "--",
            "--nocapture",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    let diff_text = String::from_utf8_lossy(&diff.stderr);
    let verdict = diff_text
        .lines()
        .find(|l| l.contains("entries agree with debugfs"))
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "FAILED: {}",
                diff_text
                    .lines()
                    .rev()
                    .take(15)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
    report.push_str(&format!("\ndebugfs differential: {verdict}\n"));
    let out = root.join("target/bench/report.md");
    std::fs::create_dir_all(out.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::write(&out, &report).map_err(|e| e.to_string())?;
    print!("{report}");
    eprintln!("xtask: report written to {}", out.display());
    if !diff.status.success() {
        return Err("debugfs differential failed".into());
    }
    Ok(())
}
