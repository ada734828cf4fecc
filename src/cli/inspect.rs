use std::io::Write;
use std::path::Path;

use coldscan_disk::TableKind;
use coldscan_fs::rootfs::{MountStatus, PlannedMount};
use coldscan_fs::FsInfo;
use serde::Serialize;

use super::{stdout_ok, CliError, EXIT_OK};
use crate::escape::for_terminal;
use crate::image::{Image, Unreadable};

#[derive(Serialize)]
struct Report<'a> {
    image: ImageFacts,
    partition_table: &'a TableKind,
    partitions: Vec<PartitionFacts<'a>>,
    /// Partition holding the system root (0: a whole-disk filesystem).
    root_partition: Option<u32>,
    /// Filesystems attached, from `/`.
    mounts: Vec<MountFacts>,
    /// Each fstab line and what became of it.
    mount_plan: &'a [PlannedMount],
    /// Everything that could not be read, and why.
    unreadable: &'a [Unreadable],
}

#[derive(Serialize)]
struct ImageFacts {
    path: String,
    size: u64,
    bytes_read: u64,
}

#[derive(Serialize)]
struct PartitionFacts<'a> {
    index: u32,
    start: u64,
    size: u64,
    #[serde(rename = "type")]
    part_type: String,
    name: &'a str,
    partuuid: Option<&'a str>,
    bootable: bool,
    container: bool,
    /// What the superblock magic says the volume holds.
    detected: Option<&'static str>,
    /// Facts read from the filesystem, when it could be opened.
    filesystem: Option<&'a FsInfo>,
    root: bool,
    problems: &'a [String],
}

#[derive(Serialize)]
struct MountFacts {
    mount_point: String,
    partition: u32,
}

pub fn run(image_path: &Path, json: bool) -> Result<i32, CliError> {
    let image = Image::open(image_path)?;
    let partitions: Vec<PartitionFacts> = image
        .partitions
        .iter()
        .map(|s| {
            let p = &s.partition;
            PartitionFacts {
                index: p.index,
                start: p.start,
                size: p.size,
                part_type: p.part_type.describe(),
                name: &p.name,
                partuuid: p.partuuid.as_deref(),
                bootable: p.bootable,
                container: p.container,
                detected: p.filesystem.map(|k| k.name()),
                filesystem: s.fs.as_ref().map(|fs| fs.info()),
                root: image.root_partition == Some(p.index),
                problems: &p.problems,
            }
        })
        .collect();
    let mounts = image
        .rootfs
        .as_ref()
        .map(|r| {
            r.mounts()
                .iter()
                .map(|m| MountFacts {
                    mount_point: m.mount_point.clone(),
                    partition: m.partition,
                })
                .collect()
        })
        .unwrap_or_default();
    let report = Report {
        image: ImageFacts {
            path: image.path.display().to_string(),
            size: image.size,
            bytes_read: image.bytes_read(),
        },
        partition_table: &image.table.table,
        partitions,
        root_partition: image.root_partition,
        mounts,
        mount_plan: &image.mount_plan,
        unreadable: &image.unreadable,
    };
    let mut out = std::io::stdout().lock();
    let text = if json {
        let mut s = serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?;
        s.push('\n');
        s
    } else {
        render_text(&report)
    };
    stdout_ok(out.write_all(text.as_bytes()))?;
    Ok(EXIT_OK)
}

fn t(s: &str) -> String {
    for_terminal(s.as_bytes())
}

fn render_text(r: &Report) -> String {
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line(format!(
        "image: {} ({} bytes)",
        t(&r.image.path),
        r.image.size
    ));
    line(match r.partition_table {
        TableKind::Gpt {
            disk_guid,
            sector_size,
            header_used,
        } => format!(
            "partition table: GPT, disk GUID {disk_guid}, {sector_size}-byte sectors, {header_used} header"
        ),
        TableKind::Mbr { disk_signature } => {
            format!("partition table: MBR, disk signature {disk_signature}")
        }
        TableKind::None => "partition table: none (bare filesystem)".to_string(),
    });
    line("partitions:".into());
    for p in &r.partitions {
        let mut l = format!(
            "  {:>2}  start {:>12}  size {:>12}  {}",
            p.index, p.start, p.size, p.part_type
        );
        if !p.name.is_empty() {
            l.push_str(&format!("  name {:?}", t(p.name)));
        }
        if p.container {
            l.push_str("  (extended container)");
        }
        if let Some(d) = p.detected {
            l.push_str(&format!("  [{d}]"));
        }
        if p.root {
            l.push_str("  ROOT");
        }
        line(l);
        if let Some(fs) = p.filesystem {
            line(format!(
                "      {} label {} uuid {} size {} used {}",
                fs.fs_type,
                fs.label.as_deref().map(t).unwrap_or_else(|| "-".into()),
                fs.uuid.as_deref().map(t).unwrap_or_else(|| "-".into()),
                fs.size_bytes,
                fs.used_bytes
            ));
            for n in &fs.notes {
                line(format!("      note: {}", t(n)));
            }
        }
    }
    if !r.mount_plan.is_empty() {
        line("fstab:".into());
        for m in r.mount_plan {
            let outcome = match &m.status {
                MountStatus::Mounted { partition } => format!("mounted partition {partition}"),
                MountStatus::Root { partition } => format!("root (partition {partition})"),
                MountStatus::Skipped { reason } => format!("skipped: {}", t(reason)),
                MountStatus::NotFound { reason } => format!("NOT FOUND: {}", t(reason)),
            };
            line(format!(
                "  line {:>3}: {} on {} ({}) -> {}",
                m.entry.line,
                t(&m.entry.spec),
                t(&m.entry.mount_point),
                t(&m.entry.fs_type),
                outcome
            ));
        }
    }
    if !r.mounts.is_empty() {
        line("mounts:".into());
        for m in &r.mounts {
            line(format!(
                "  {} <- partition {}",
                t(&m.mount_point),
                m.partition
            ));
        }
    }
    if r.unreadable.is_empty() {
        line("unreadable: nothing".into());
    } else {
        line("unreadable:".into());
        for u in r.unreadable {
            line(format!("  {}: {}", t(&u.what), t(&u.reason)));
        }
    }
    s
}
