//! Shared helpers for the end-to-end tests: committed fixture images
//! (gzip-compressed in `fixtures/images/`) are unpacked once per test
//! process into a temporary directory, and the `coldscan` binary is run on
//! them.
#![allow(dead_code)]

pub mod telemetry;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Directory holding the unpacked fixture images for this test process.
fn unpack_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// Path of fixture `name` (e.g. `gpt-linux`), unpacked from
/// `fixtures/images/NAME.img.gz`.
pub fn fixture(name: &str) -> PathBuf {
    let out = unpack_dir().join(format!("{name}.img"));
    if !out.exists() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/images")
            .join(format!("{name}.img.gz"));
        let file = std::fs::File::open(&src).unwrap_or_else(|e| {
            panic!(
                "fixture {}: {e} (run `cargo xtask fixtures`)",
                src.display()
            )
        });
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .expect("fixture decompresses");
        // Write then rename, so parallel tests never see a partial file.
        let tmp = out.with_extension(format!("tmp{:?}", std::thread::current().id()));
        std::fs::write(&tmp, bytes).expect("write fixture");
        std::fs::rename(&tmp, &out).expect("rename fixture");
    }
    out
}

/// Runs `coldscan ARGS...`.
pub fn coldscan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coldscan"))
        .args(args)
        .output()
        .expect("run coldscan")
}

/// Runs coldscan and parses its stdout as JSON, asserting exit code 0.
pub fn coldscan_json(args: &[&str]) -> serde_json::Value {
    let out = coldscan(args);
    assert!(
        out.status.success(),
        "coldscan {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "coldscan {args:?}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// True if `tool` can be run; otherwise prints why the caller skips.
pub fn have_tool(tool: &str, package: &str) -> bool {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
        || Path::new("/usr/sbin").join(tool).exists()
        || Path::new("/sbin").join(tool).exists();
    if !ok {
        eprintln!("SKIPPED: `{tool}` not found (Debian package {package}); .ci/run installs it");
    }
    ok
}

/// Now as RFC 3339 UTC (for records that must look fresh).
pub fn rfc3339_now() -> String {
    coldscan::time::rfc3339(coldscan::time::now())
}
