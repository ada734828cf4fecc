//! Collection: the offline "agent". Runs the collectors over an opened
//! image and assembles the telemetry document (facts only; rules decide).
//! Collectors run in parallel and record what they could not read in the
//! shared coverage ledger.

pub mod binaries;
pub mod config;
pub mod files;
pub mod image_facts;
pub mod image_files;
pub mod ledger;
pub mod os;
pub mod packages;
mod telemetry;
pub mod watched;

use std::time::Instant;

pub use ledger::{Gap, Ledger};
pub use telemetry::{Stats, Telemetry, Tool, SCHEMA_VERSION};

use crate::image::{Image, ImageError};
use image_facts::ImageFacts;

/// What to collect beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    /// Hash the whole image (reads every byte).
    pub hash_image: bool,
    /// The files and modules the rules ask about.
    pub watch: watched::Watch,
}

/// Collects the telemetry of one opened image.
pub fn collect(image: &Image, opts: CollectOptions) -> Result<Telemetry, ImageError> {
    let started = Instant::now();
    let root = image.rootfs()?;
    let ledger = Ledger::default();
    let bytes_before = image.bytes_read();
    // The OS and package databases, the configuration, and the tree walk
    // run side by side; binaries need the walk's candidates and the
    // packages' file lists.
    let ((os, packages), (files, candidates)) = rayon::join(
        || {
            let os = os::collect(root, &ledger);
            let packages = packages::collect(root, &os, &ledger);
            (os, packages)
        },
        || files::collect(root, &opts.watch, &ledger),
    );
    let (config, binaries) = rayon::join(
        || {
            // Debian/Ubuntu/Alpine: openssh-server; RPM distributions and
            // SUSE: openssh-server or openssh.
            let openssh = packages
                .version_of("openssh-server")
                .or_else(|| packages.version_of("openssh"));
            config::collect(root, openssh, &image.mount_plan, &ledger)
        },
        || binaries::collect(root, &candidates, &packages.owners(), &ledger),
    );
    let mut files = files;
    files.homes = files::homes(root, &config.accounts.users);
    let mut image_facts = ImageFacts::of(image);
    if opts.hash_image {
        match image.sha256() {
            Ok(h) => image_facts.sha256 = Some(h),
            Err(e) => ledger.add("image hash", e.to_string()),
        }
    }
    let stats = Stats {
        wall_ms: started.elapsed().as_millis() as u64,
        bytes_read: image.bytes_read().saturating_sub(bytes_before),
        entries_walked: files.entries_walked,
    };
    Ok(Telemetry {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: Tool::this(),
        collected_at: crate::time::rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        ),
        image: image_facts,
        os,
        packages,
        config,
        files,
        binaries,
        coverage: ledger.into_sorted(),
        stats,
    })
}
