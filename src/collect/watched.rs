//! Files the rules asked about: every path a rule's glob names, with its
//! metadata and (for content rules) its text, and the kernel modules the
//! rules ask after. The list of globs comes from the rules packages
//! (`rules::watch`), so a saved telemetry document holds exactly what
//! its rules need and an evaluation can tell "no such file" from "not
//! collected".

use std::collections::BTreeMap;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::listing::Entry;

/// What the rules want collected beyond the fixed facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watch {
    pub globs: Vec<WatchGlob>,
    /// Kernel module names (as written in rules) to look for under
    /// /lib/modules and /usr/lib/modules.
    pub modules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WatchGlob {
    pub pattern: String,
    /// Read the text of regular files it matches.
    pub content: bool,
}

impl Watch {
    /// Merges duplicates (a pattern wanted with and without content is
    /// read once, with content).
    pub fn normalize(&mut self) {
        self.globs.sort();
        self.globs.dedup_by(|later, earlier| {
            if later.pattern == earlier.pattern {
                earlier.content |= later.content;
                true
            } else {
                false
            }
        });
        self.modules.sort();
        self.modules.dedup();
    }
}

/// One watched glob and what it matched.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Watched {
    pub pattern: String,
    /// Whether the text of matched files was collected.
    pub content: bool,
    pub matches: Vec<WatchedFile>,
    /// More entries matched than are kept (`MAX_MATCHES`): a rule must not
    /// pass on a partial list.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WatchedFile {
    #[serde(flatten)]
    pub entry: Entry,
    /// The file's text (invalid UTF-8 replaced), when content was asked
    /// for and the entry is a regular file (or a link to one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The text stops at the size limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub text_truncated: bool,
    /// Why the text could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_error: Option<String>,
}

/// Kernel module files found for a watched name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModuleFiles {
    /// Module name (dashes and underscores are the same to the kernel;
    /// written as the rule wrote it).
    pub module: String,
    pub paths: Vec<String>,
}

/// Matches kept per glob (as the other file lists).
pub const MAX_MATCHES: usize = 100_000;

/// Globs compiled for matching during the walk.
pub struct Matcher {
    set: GlobSet,
    pub watched: Vec<Watched>,
    /// Module name with `-` as `_` → index into `modules`.
    module_index: BTreeMap<String, usize>,
    pub modules: Vec<ModuleFiles>,
}

/// Normalises a module or file name as the kernel compares module names.
fn module_key(name: &str) -> String {
    name.replace('-', "_")
}

impl Matcher {
    /// Compiles the globs; a pattern that does not compile is kept (with
    /// no matches) and reported through `bad`.
    pub fn new(watch: &Watch, bad: &mut dyn FnMut(&str, String)) -> Matcher {
        let mut builder = GlobSetBuilder::new();
        let mut watched = Vec::new();
        for g in &watch.globs {
            match GlobBuilder::new(&g.pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
            {
                Ok(glob) => {
                    builder.add(glob);
                    watched.push(Watched {
                        pattern: g.pattern.clone(),
                        content: g.content,
                        matches: Vec::new(),
                        cut: false,
                    });
                }
                Err(e) => bad(&g.pattern, e.to_string()),
            }
        }
        // Should the set not build, nothing is watched: rules on these globs
        // then say "not collected" instead of passing on an empty match list.
        let set = builder.build().unwrap_or_else(|e| {
            for w in watched.drain(..) {
                bad(&w.pattern, e.to_string());
            }
            GlobSet::empty()
        });
        let modules: Vec<ModuleFiles> = watch
            .modules
            .iter()
            .map(|m| ModuleFiles {
                module: m.clone(),
                paths: Vec::new(),
            })
            .collect();
        let module_index = modules
            .iter()
            .enumerate()
            .map(|(i, m)| (module_key(&m.module), i))
            .collect();
        Matcher {
            set,
            watched,
            module_index,
            modules,
        }
    }

    /// Indices of the globs `path` matches.
    pub fn matching(&self, path: &str) -> Vec<usize> {
        if self.set.is_empty() {
            return Vec::new();
        }
        self.set.matches(path)
    }

    /// Adds a match of glob `i`; `false` the first time the glob's list
    /// reaches its limit (later matches are dropped silently).
    pub fn record(&mut self, i: usize, entry: Entry) -> bool {
        let w = &mut self.watched[i];
        if w.matches.len() < MAX_MATCHES {
            w.matches.push(WatchedFile {
                entry,
                text: None,
                text_truncated: false,
                text_error: None,
            });
            true
        } else {
            let first = !w.cut;
            w.cut = true;
            !first
        }
    }

    /// Records `path` if it is a module file (`NAME.ko`, `.ko.xz`,
    /// `.ko.zst`, `.ko.gz`) of a watched module under a modules tree.
    pub fn note_module(&mut self, path: &str) {
        if self.module_index.is_empty()
            || !(path.starts_with("/lib/modules/") || path.starts_with("/usr/lib/modules/"))
        {
            return;
        }
        let name = path.rsplit('/').next().unwrap_or("");
        let Some(stem) = name.split(".ko").next().filter(|_| name.contains(".ko")) else {
            return;
        };
        let rest = &name[stem.len()..];
        if ![".ko", ".ko.xz", ".ko.zst", ".ko.gz"].contains(&rest) {
            return;
        }
        if let Some(&i) = self.module_index.get(&module_key(stem)) {
            self.modules[i].paths.push(path.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldscan_fs::FileType;

    #[test]
    fn matches_stop_at_the_limit_and_say_so_once() {
        let watch = Watch {
            globs: vec![WatchGlob {
                pattern: "/var/log/**".into(),
                content: false,
            }],
            modules: Vec::new(),
        };
        let mut m = Matcher::new(&watch, &mut |_, e| panic!("{e}"));
        let e = Entry::new(b"/var/log/x", FileType::File, None, None, None, Vec::new());
        for _ in 0..MAX_MATCHES {
            assert!(m.record(0, e.clone()));
        }
        assert!(
            !m.record(0, e.clone()),
            "the first dropped match is reported"
        );
        assert!(m.record(0, e), "later ones are dropped silently");
        assert_eq!(m.watched[0].matches.len(), MAX_MATCHES);
        assert!(m.watched[0].cut);
    }
}
