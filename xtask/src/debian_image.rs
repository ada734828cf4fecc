//! Real Debian root trees and ext4 images for `cargo xtask bench` and
//! `cargo xtask cis-compare`: debootstrap a tree once, then `mke2fs -d` it
//! into a bare ext4 image (needs root and the Debian mirror; the results
//! live under `target/`, never committed).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;

/// Runs `cmd`; an error names `what` when it cannot start or fails.
pub fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if !status.success() {
        return Err(format!("{what} failed: {status}"));
    }
    Ok(())
}

/// `debootstrap --variant=minbase --include=PACKAGES bookworm TREE` from
/// deb.debian.org, then drops the downloaded .debs as `apt-get clean` does
/// on a real image.
/// `log`: where debootstrap's output goes (default: inherited).
pub fn debootstrap(
    tree: &Path,
    packages: &str,
    tool_path: &OsString,
    log: Option<&Path>,
) -> Result<()> {
    eprintln!(
        "xtask: debootstrap bookworm into {} (needs root and the Debian mirror)",
        tree.display()
    );
    let _ = std::fs::remove_dir_all(tree);
    let mut cmd = Command::new("debootstrap");
    if let Some(log) = log {
        eprintln!("xtask: debootstrap log: {}", log.display());
        let f = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let g = f.try_clone().map_err(|e| e.to_string())?;
        cmd.stdout(f).stderr(g);
    }
    run(
        cmd.env("PATH", tool_path)
            .args([
                "--variant=minbase",
                &format!("--include={packages}"),
                "bookworm",
            ])
            .arg(tree)
            .arg("http://deb.debian.org/debian"),
        "debootstrap (Debian package debootstrap)",
    )?;
    let archives = tree.join("var/cache/apt/archives");
    for entry in std::fs::read_dir(&archives).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            std::fs::remove_file(&path).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Apparent size of a tree in bytes (`du -sb`).
fn tree_bytes(tree: &Path) -> Result<u64> {
    let du = Command::new("du")
        .args(["-sb"])
        .arg(tree)
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&du.stdout)
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| "du gave no size".to_string())
}

/// A bare ext4 image of `tree` (`mke2fs -d`), 10% larger than the tree
/// plus 64 MiB for inode tables, the journal and some free space.
pub fn mke2fs(tree: &Path, image: &Path, tool_path: &OsString) -> Result<()> {
    let bytes = tree_bytes(tree)?;
    let size_mib = bytes * 11 / 10 / (1 << 20) + 64;
    eprintln!(
        "xtask: mke2fs -d: {size_mib} MiB image from a {} MiB tree",
        bytes >> 20
    );
    let _ = std::fs::remove_file(image);
    run(
        Command::new("mke2fs")
            .env("PATH", tool_path)
            .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-d"])
            .arg(tree)
            .arg(image)
            .arg(format!("{size_mib}M")),
        "mke2fs (Debian package e2fsprogs)",
    )
}

/// Where `cargo build --release` puts the coldscan binary: honours
/// `CARGO_TARGET_DIR` (relative to the workspace root when relative).
pub fn coldscan_binary(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    target.join("release/coldscan")
}

/// `cargo build --release --bin coldscan` in the workspace; returns the
/// binary. `COLDSCAN_BIN=PATH` uses that binary instead (no build).
pub fn build_coldscan(root: &Path) -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("COLDSCAN_BIN") {
        return Ok(PathBuf::from(bin));
    }
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
    Ok(coldscan_binary(root))
}

/// Whether this coldscan has the `scan` command yet.
pub fn has_scan(coldscan: &Path) -> bool {
    Command::new(coldscan)
        .args(["scan", "--help"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
