use std::io::Write;
use std::path::Path;

use coldscan_disk::TableKind;
use coldscan_fs::rootfs::MountStatus;
use serde::Serialize;

use super::{stdout_ok, CliError, EXIT_OK};
use crate::collect::image_facts::ImageFacts;
use crate::escape::for_terminal;
use crate::image::Image;

pub fn run(image_path: &Path, json: bool) -> Result<i32, CliError> {
    let image = Image::open(image_path)?;
    let mut facts = ImageFacts::of(&image);
    let report = Report {
        bytes_read: image.bytes_read(),
        facts: &mut facts,
    };
    let mut out = std::io::stdout().lock();
    let text = if json {
        let mut s = serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?;
        s.push('\n');
        s
    } else {
        render_text(report.facts)
    };
    stdout_ok(out.write_all(text.as_bytes()))?;
    Ok(EXIT_OK)
}

/// The image facts plus what reading them cost.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    facts: &'a mut ImageFacts,
    bytes_read: u64,
}

fn t(s: &str) -> String {
    for_terminal(s.as_bytes())
}

fn render_text(r: &ImageFacts) -> String {
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line(format!("image: {} ({} bytes)", t(&r.path), r.size));
    line(match &r.partition_table {
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
            l.push_str(&format!("  name {:?}", t(&p.name)));
        }
        if p.container {
            l.push_str("  (extended container)");
        }
        if let Some(d) = &p.detected {
            l.push_str(&format!("  [{d}]"));
        }
        if p.root {
            l.push_str("  ROOT");
        }
        line(l);
        if let Some(fs) = &p.filesystem {
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
        for m in &r.mount_plan {
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
        for u in &r.unreadable {
            line(format!("  {}: {}", t(&u.what), t(&u.reason)));
        }
    }
    s
}
