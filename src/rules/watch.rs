//! What the collection must gather for a set of rules: every glob that a
//! `file` or `file_content` check names, the files some functions read,
//! and the kernel modules `kernel_module_disabled` asks about.

use super::check::Check;
use super::rule::Rule;
use crate::collect::watched::{Watch, WatchGlob};

use super::functions::WATCHED as FUNCTION_GLOBS;

pub fn of<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Watch {
    let mut watch = Watch::default();
    for rule in rules {
        add(&rule.check, &mut watch);
    }
    watch.normalize();
    watch
}

fn add(check: &Check, watch: &mut Watch) {
    match check {
        Check::All { checks } | Check::Any { checks } => {
            for c in checks {
                add(c, watch);
            }
        }
        Check::Not { check } => add(check, watch),
        Check::File { path, .. } => watch.globs.push(WatchGlob {
            pattern: path.clone(),
            content: false,
        }),
        Check::FileContent { path, .. } => watch.globs.push(WatchGlob {
            pattern: path.clone(),
            content: true,
        }),
        Check::KernelModuleDisabled { module } => watch.modules.push(module.clone()),
        Check::Function { name, .. } => {
            for (f, glob, content) in FUNCTION_GLOBS {
                if f == name {
                    watch.globs.push(WatchGlob {
                        pattern: glob.to_string(),
                        content: *content,
                    });
                }
            }
        }
        _ => {}
    }
}
