//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Our committed fixtures.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// `../shared/vulndata` (outside the repository), or None with a SKIPPED message.
pub fn vulndata(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED {test}: ../shared/vulndata not found");
        None
    }
}

/// Whether a tool runs here; prints SKIPPED otherwise.
pub fn have_tool(tool: &str, test: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED {test}: `{tool}` not found (Debian package providing it is needed)");
    }
    ok
}

/// Run a command, panicking with its stderr on failure; stdout as a string.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
