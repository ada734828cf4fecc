use std::path::Path;

use super::{write_json, CliError, EXIT_OK};
use crate::collect::{collect, CollectOptions};
use crate::image::Image;

/// Writes the telemetry document of `image_path` to `output` or stdout.
pub fn run(image_path: &Path, output: Option<&Path>, hash: bool) -> Result<i32, CliError> {
    let image = Image::open(image_path)?;
    let rules = crate::rules::pack::RuleSet::embedded()?;
    let opts = CollectOptions {
        hash_image: hash,
        watch: crate::rules::watch::of(&rules.rules),
    };
    let telemetry = collect(&image, opts)?;
    write_json(&telemetry, output)?;
    if !telemetry.coverage.is_empty() {
        eprintln!(
            "coldscan: {}: {} items could not be read (see \"coverage\" in the document)",
            image_path.display(),
            telemetry.coverage.len()
        );
    }
    Ok(EXIT_OK)
}
