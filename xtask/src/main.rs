//! `cargo xtask`: project chores.
//!
//! ```text
//! cargo xtask fixtures          rebuild fixtures/images/*.img.gz from fixtures/build.sh
//! cargo xtask fixtures --check  rebuild into a temporary directory and report
//!                               which committed images differ (exit 1 if any)
//! cargo xtask bench [--image P] coldscan vs fls (time, memory, bytes read) and
//!                   [--runs N]  the debugfs differential on a Debian root image
//! cargo xtask cis-compare [--keep]  weakness check and OpenSCAP agreement
//!                                   on real Debian 12 images
//! ```

mod bench;
mod cis_compare;
mod debian_image;
mod vulnbench;

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  fixtures           rebuild the test disk images into fixtures/images/ (NAME.img.gz)
  fixtures --check   rebuild into a temporary directory and compare with fixtures/images/;
                     exits 1 if any committed image differs, is missing or is stale
  bench [--image PATH] [--runs N]
                     coldscan vs sleuthkit's fls on a Debian root image (built with
                     debootstrap under target/bench/ unless --image is given): wall time,
                     peak memory, bytes read; then the debugfs differential on it;
                     then `coldscan scan` next to oscap-chroot
  cis-compare [--keep] [--coldscan PATH]
                     debootstrap Debian 12 (target/cis-compare/), make a weak and a clean
                     image, check every weakness is found with the right evidence, and
                     compare coldscan's CIS results with OpenSCAP (SSG Debian 12
                     datastream, standard and anssi_bp28_high) per SSG rule;
                     --keep reuses the variant trees, images and OpenSCAP results
  vulnbench [--records N] [--packages N] [--keep]
                     vulnerability database: import N (50,000) generated OSV records and
                     match N (1,000) installed packages; time, records/s, peak memory
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["fixtures"] => fixtures(false),
        ["fixtures", "--check"] => fixtures(true),
        ["bench", rest @ ..] => {
            bench::bench(rest, &workspace_root(), &tool_path()).map(|()| ExitCode::SUCCESS)
        }
        ["vulnbench", rest @ ..] => {
            vulnbench::run(rest, &workspace_root()).map(|()| ExitCode::SUCCESS)
        }
        ["cis-compare", rest @ ..] => {
            cis_compare::cis_compare(rest, &workspace_root(), &tool_path())
        }
        ["help" | "--help" | "-h"] | [] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, String>;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `PATH` with the sbin directories appended: mke2fs, debugfs, sfdisk, mkntfs
/// live there on Debian, and a non-root user's `PATH` often lacks them.
fn tool_path() -> OsString {
    let mut dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|p| env::split_paths(&p).collect())
        .unwrap_or_default();
    for extra in ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let extra = PathBuf::from(extra);
        if !dirs.contains(&extra) {
            dirs.push(extra);
        }
    }
    env::join_paths(dirs).expect("PATH entries contain no separator")
}

fn find_tool(name: &str, path: &OsString) -> Option<PathBuf> {
    env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Tools build.sh needs, each with the Debian package that provides it.
const TOOLS: &[(&str, &str)] = &[
    ("bash", "bash"),
    ("mke2fs", "e2fsprogs"),
    ("debugfs", "e2fsprogs"),
    ("e2fsck", "e2fsprogs"),
    ("sfdisk", "fdisk"),
    ("fdisk", "fdisk"),
    ("mkntfs", "ntfs-3g"),
    ("ntfsls", "ntfs-3g"),
    ("ntfscat", "ntfs-3g"),
    ("cc", "gcc"),
    ("gcc", "gcc"),
    ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"),
    ("dd", "coreutils"),
    ("truncate", "coreutils"),
    ("sha256sum", "coreutils"),
    ("od", "coreutils"),
    ("cmp", "diffutils"),
    ("find", "findutils"),
    ("sed", "sed"),
    ("awk", "mawk"),
];

/// Headers for the NTFS helper (fixtures/ntfs-populate.c).
const NTFS_HEADER: &str = "ntfs-3g/volume.h";

fn check_tools(path: &OsString) -> Result<()> {
    let mut missing: Vec<(String, &str)> = TOOLS
        .iter()
        .filter(|(tool, _)| find_tool(tool, path).is_none())
        .map(|(tool, pkg)| ((*tool).to_string(), *pkg))
        .collect();
    let header_found = ["/usr/include", "/usr/local/include"]
        .iter()
        .any(|dir| Path::new(dir).join(NTFS_HEADER).is_file());
    if !header_found {
        missing.push((format!("<{NTFS_HEADER}> and libntfs-3g.so"), "ntfs-3g-dev"));
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut msg = String::from("missing tools needed to build the fixtures:\n");
    let mut packages: Vec<&str> = Vec::new();
    for (tool, pkg) in &missing {
        let _ = writeln!(msg, "  {tool} (Debian package {pkg})");
        if !packages.contains(pkg) {
            packages.push(pkg);
        }
    }
    let _ = write!(
        msg,
        "install them with: apt-get install -y {}",
        packages.join(" ")
    );
    Err(msg)
}

/// First line of each tool's version output: the images are byte-identical
/// only between builds with the same versions, so these are recorded.
fn tool_versions(path: &OsString) -> String {
    let probes: &[(&str, &[&str])] = &[
        ("mke2fs", &["-V"]),
        ("sfdisk", &["--version"]),
        ("fdisk", &["--version"]),
        ("mkntfs", &["--version"]),
        ("gcc", &["--version"]),
        ("ld", &["--version"]),
        ("ldd", &["--version"]),
        ("x86_64-w64-mingw32-gcc", &["--version"]),
        ("x86_64-w64-mingw32-ld", &["--version"]),
    ];
    let mut out = String::new();
    for (tool, args) in probes {
        let line = Command::new(tool)
            .args(*args)
            .env("PATH", path)
            .output()
            .ok()
            .map(|o| {
                let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&o.stderr));
                text.lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_else(|| "not found".to_string());
        let _ = writeln!(out, "{tool}: {line}");
    }
    let _ = writeln!(
        out,
        "gzip: flate2 (rust backend, level 9, mtime 0, no file name)"
    );
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// gzip with a fixed header: mtime 0, no file name, OS byte "unknown".
fn gzip(raw: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    enc.write_all(raw).map_err(|e| format!("gzip: {e}"))?;
    enc.finish().map_err(|e| format!("gzip: {e}"))
}

fn gunzip(gz: &[u8]) -> Result<Vec<u8>> {
    let mut raw = Vec::new();
    GzDecoder::new(gz)
        .read_to_end(&mut raw)
        .map_err(|e| format!("gunzip: {e}"))?;
    Ok(raw)
}

struct Built {
    name: String,
    raw_sha256: String,
    raw_len: usize,
    gz: Vec<u8>,
}

/// Run fixtures/build.sh into `work` and `raw_dir`, then gzip every image.
fn build_all(root: &Path, work: &Path, raw_dir: &Path, path: &OsString) -> Result<Vec<Built>> {
    let script = root.join("fixtures/build.sh");
    eprintln!("xtask: running {}", script.display());
    let status = Command::new("bash")
        .arg(&script)
        .arg(work)
        .arg(raw_dir)
        .env("PATH", path)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    if !status.success() {
        return Err(format!("{} failed ({status})", script.display()));
    }
    let mut names: Vec<String> = fs::read_dir(raw_dir)
        .map_err(|e| format!("{}: {e}", raw_dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".img").map(str::to_string))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("build.sh left no image in {}", raw_dir.display()));
    }
    let mut built = Vec::new();
    for name in names {
        let file = raw_dir.join(format!("{name}.img"));
        let raw = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        built.push(Built {
            raw_sha256: sha256_hex(&raw),
            raw_len: raw.len(),
            gz: gzip(&raw)?,
            name,
        });
    }
    Ok(built)
}

fn sums_text(built: &[Built]) -> String {
    built.iter().fold(String::new(), |mut s, b| {
        let _ = writeln!(s, "{}  {}.img", b.raw_sha256, b.name);
        s
    })
}

fn committed_images(images: &Path) -> BTreeMap<String, PathBuf> {
    fs::read_dir(images)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".img.gz")?.to_string();
            Some((stem, e.path()))
        })
        .collect()
}

fn human(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

fn fixtures(check: bool) -> Result<ExitCode> {
    let root = workspace_root();
    let path = tool_path();
    check_tools(&path)?;
    let images = root.join("fixtures/images");
    let versions = tool_versions(&path);

    if !check {
        let work = root.join("fixtures/build/work");
        let raw_dir = root.join("fixtures/build/raw");
        let _ = fs::remove_dir_all(&raw_dir);
        let built = build_all(&root, &work, &raw_dir, &path)?;
        fs::create_dir_all(&images).map_err(|e| format!("{}: {e}", images.display()))?;
        let mut total = 0;
        println!(
            "{:<20} {:>10} {:>10}  sha256 (uncompressed)",
            "image", "raw", "gz"
        );
        for b in &built {
            let dest = images.join(format!("{}.img.gz", b.name));
            fs::write(&dest, &b.gz).map_err(|e| format!("{}: {e}", dest.display()))?;
            total += b.gz.len();
            println!(
                "{:<20} {:>10} {:>10}  {}",
                b.name,
                human(b.raw_len),
                human(b.gz.len()),
                b.raw_sha256
            );
        }
        println!("{:<20} {:>10} {:>10}", "total", "", human(total));
        write_file(&images.join("SHA256SUMS"), &sums_text(&built))?;
        write_file(&images.join("TOOLS"), &versions)?;
        let names: Vec<&str> = built.iter().map(|b| b.name.as_str()).collect();
        for stale in committed_images(&images)
            .keys()
            .filter(|k| !names.contains(&k.as_str()))
        {
            eprintln!(
                "xtask: warning: fixtures/images/{stale}.img.gz is not built by build.sh any more"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }

    let tmp = env::temp_dir().join(format!("coldscan-fixtures-check-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let built = build_all(&root, &tmp.join("work"), &tmp.join("raw"), &path);
    let _ = fs::remove_dir_all(&tmp);
    let built = built?;

    let committed = committed_images(&images);
    let mut bad = 0;
    for b in &built {
        let status = match committed.get(&b.name) {
            None => "MISSING (not committed)".to_string(),
            Some(p) => {
                let gz = fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
                if gz == b.gz {
                    "ok".to_string()
                } else {
                    match gunzip(&gz) {
                        Ok(raw) if sha256_hex(&raw) == b.raw_sha256 => {
                            "DIFFERS in compression only (same uncompressed image)".to_string()
                        }
                        Ok(raw) => format!(
                            "DIFFERS: committed {} ({}), rebuilt {} ({})",
                            &sha256_hex(&raw)[..16],
                            human(raw.len()),
                            &b.raw_sha256[..16],
                            human(b.raw_len)
                        ),
                        Err(e) => format!("DIFFERS: committed file is not valid gzip ({e})"),
                    }
                }
            }
        };
        if status != "ok" {
            bad += 1;
        }
        println!("{:<20} {status}", b.name);
    }
    for stale in committed
        .keys()
        .filter(|k| !built.iter().any(|b| &b.name == *k))
    {
        bad += 1;
        println!("{stale:<20} STALE (committed, but build.sh does not build it)");
    }
    let sums = fs::read_to_string(images.join("SHA256SUMS")).unwrap_or_default();
    if sums != sums_text(&built) {
        bad += 1;
        println!("{:<20} DIFFERS", "SHA256SUMS");
    }
    if bad == 0 {
        println!("all {} fixture images are up to date", built.len());
        return Ok(ExitCode::SUCCESS);
    }
    let recorded = fs::read_to_string(images.join("TOOLS")).unwrap_or_default();
    if recorded != versions {
        println!("\ntool versions differ from those that built the committed images:");
        println!("committed (fixtures/images/TOOLS):\n{recorded}");
        println!("here:\n{versions}");
    }
    println!(
        "{bad} fixture file(s) out of date: run `cargo xtask fixtures` and commit fixtures/images/"
    );
    Ok(ExitCode::FAILURE)
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
