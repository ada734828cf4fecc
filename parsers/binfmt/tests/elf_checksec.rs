//! Differential test against `checksec` (Debian package `checksec`, v2.6):
//! NX, canary, PIE and RELRO must agree on system binaries and libraries and
//! on binaries compiled here with different hardening flags.
//!
//! By default a deterministic sample of /usr/bin and /usr/lib/<triplet> is
//! checked (checksec costs ~0.25 s per file); `COLDSCAN_CHECKSEC_FULL=1`
//! checks all of them.
//!
//! Deliberate disagreements (documented, counted, not failures):
//! - PIE executable vs shared library. checksec calls an `ET_DYN` file "PIE"
//!   when its dynamic section has a `DEBUG` tag, else "DSO". We use
//!   `DF_1_PIE` or `PT_INTERP` (what the linker records for `-pie` and what
//!   makes a file runnable). Both agree that the file is `ET_DYN` (our
//!   `pie == true`), which is what is compared strictly. Files where the
//!   two classifications differ are listed; e.g. `libc.so.6` has `PT_INTERP`
//!   (it can be run) and no `DT_DEBUG`.
//! - RELRO "full" when only `DF_1_NOW` requests immediate binding: checksec
//!   greps `readelf -d` for `BIND_NOW`, which `DF_1_NOW` alone (printed as
//!   "FLAGS_1 Flags: NOW") does not match; glibc's ld.so honours `DF_1_NOW`
//!   (elf/dl-open.c, elf/rtld.c: RTLD_NOW), so we say full. Expected only on
//!   hand-made files; counted if seen.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use coldscan_binfmt::{elf_hardening, identify, ElfType, Format, Relro};
use common::{head, which, FileSource};

const SRC: &str = r#"
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    char buf[64];
    strcpy(buf, argv[0]);
    memcpy(buf + 1, argv[0], strlen(argv[0]) % 8);
    printf("%s %d\n", buf, argc);
    return 0;
}
"#;

const LIB_SRC: &str = r#"
#include <string.h>
int f(const char *s) { char b[32]; strcpy(b, s); return (int)strlen(b); }
"#;

/// (name, extra gcc flags). All compiled from SRC unless the name says lib.
const VARIANTS: &[(&str, &[&str])] = &[
    (
        "nossp-nopie-norelro",
        &["-fno-stack-protector", "-no-pie", "-Wl,-z,norelro"],
    ),
    (
        "ssp-pie-relro",
        &[
            "-fstack-protector-strong",
            "-pie",
            "-fPIE",
            "-Wl,-z,relro,-z,lazy",
        ],
    ),
    (
        "ssp-pie-now",
        &[
            "-fstack-protector-strong",
            "-pie",
            "-fPIE",
            "-Wl,-z,relro,-z,now",
        ],
    ),
    (
        "nopie-now",
        &["-fstack-protector-all", "-no-pie", "-Wl,-z,relro,-z,now"],
    ),
    ("execstack", &["-z", "execstack"]),
    (
        "noexecstack",
        &["-z", "noexecstack", "-fno-stack-protector"],
    ),
    ("fortify", &["-D_FORTIFY_SOURCE=2", "-O2"]),
    (
        "fortify3",
        &["-D_FORTIFY_SOURCE=3", "-O2", "-fstack-protector-strong"],
    ),
    ("static", &["-static", "-fstack-protector-strong"]),
    ("static-nossp", &["-static", "-fno-stack-protector"]),
    ("static-pie", &["-static-pie", "-fPIE"]),
    ("rpath", &["-Wl,-rpath,/opt/x", "-Wl,--disable-new-dtags"]),
    ("runpath", &["-Wl,-rpath,/opt/x", "-Wl,--enable-new-dtags"]),
    ("stripped", &["-s", "-fno-stack-protector"]),
    ("lib-shared", &["-shared", "-fPIC"]),
    (
        "lib-shared-now",
        &["-shared", "-fPIC", "-Wl,-z,now", "-fstack-protector-all"],
    ),
    ("object", &["-c", "-fstack-protector-all"]),
];

fn compile(dir: &Path) -> Vec<PathBuf> {
    let Some(gcc) = which("gcc") else {
        eprintln!("gcc not found: no compiled variants");
        return vec![];
    };
    std::fs::write(dir.join("t.c"), SRC).unwrap();
    std::fs::write(dir.join("lib.c"), LIB_SRC).unwrap();
    let mut out = vec![];
    for (name, flags) in VARIANTS {
        let src = if name.starts_with("lib") {
            "lib.c"
        } else {
            "t.c"
        };
        let target = dir.join(name);
        let status = Command::new(&gcc)
            .args(*flags)
            .arg("-o")
            .arg(&target)
            .arg(dir.join(src))
            .output()
            .unwrap();
        if status.status.success() {
            out.push(target);
        } else {
            eprintln!(
                "variant {name} did not build: {}",
                String::from_utf8_lossy(&status.stderr)
            );
        }
    }
    out
}

fn is_elf(p: &Path) -> bool {
    p.is_file() && head(p).and_then(|h| identify(&h)) == Some(Format::Elf)
}

fn system_files(full: bool) -> Vec<PathBuf> {
    let mut v = vec![];
    let lib_dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"];
    for (dir, libs) in
        std::iter::once(("/usr/bin", false)).chain(lib_dirs.iter().map(|d| (*d, true)))
    {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !libs
                    || p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.contains(".so"))
            })
            .filter(|p| !p.is_symlink() && is_elf(p))
            .collect();
        files.sort();
        if !full {
            // Deterministic sample: every k-th file, at most ~150 per dir.
            let k = files.len().div_ceil(150).max(1);
            files = files.into_iter().step_by(k).collect();
        }
        v.extend(files);
    }
    v
}

/// Run `checksec --file` on every file, a few at a time. (Its
/// `--listfile` mode is not used: in checksec 2.6 a file can consume the rest
/// of the list from stdin, so later files go missing or get wrong values.)
fn run_checksec(
    checksec: &Path,
    files: &[PathBuf],
    _tmp: &Path,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let n_jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let outputs: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n_jobs)
            .map(|i| {
                s.spawn(move || {
                    let mut text = String::new();
                    for p in files.iter().skip(i).step_by(n_jobs) {
                        let o = Command::new(checksec)
                            .arg("--format=json")
                            .arg(format!("--file={}", p.display()))
                            .stdin(std::process::Stdio::null())
                            .output()
                            .unwrap();
                        text.push_str(&String::from_utf8_lossy(&o.stdout));
                        text.push('\n');
                    }
                    text
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    parse_into(&mut out, outputs.iter().map(String::as_str));
    out
}

fn parse_into<'a>(
    out: &mut BTreeMap<String, BTreeMap<String, String>>,
    texts: impl Iterator<Item = &'a str>,
) {
    for text in texts {
        for line in text.lines() {
            let line = line.trim();
            let line = line.trim_start_matches('{').trim();
            let Some(rest) = line.strip_prefix('"') else {
                continue;
            };
            let Some((path, rest)) = rest.split_once("\": {") else {
                continue;
            };
            let mut kv = BTreeMap::new();
            for pair in rest.split(',') {
                let pair = pair.trim_matches(|c: char| c.is_whitespace() || c == '}');
                if let Some((k, v)) = pair.split_once(':') {
                    kv.insert(
                        k.trim_matches('"').to_string(),
                        v.trim().trim_matches('"').to_string(),
                    );
                }
            }
            out.insert(path.to_string(), kv);
        }
    }
}

#[test]
fn agrees_with_checksec() {
    let Some(checksec) = which("checksec") else {
        eprintln!("SKIPPED: checksec not found");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let full = std::env::var_os("COLDSCAN_CHECKSEC_FULL").is_some();
    let compiled = compile(tmp.path());
    let mut files = system_files(full);
    files.extend(compiled.iter().cloned());
    let reference = run_checksec(&checksec, &files, tmp.path());

    let mut compared = 0;
    let mut agree = BTreeMap::<&str, usize>::new();
    let mut failures = vec![];
    let mut pie_class_diffs = vec![];
    let mut df1_now_only = vec![];
    for path in &files {
        let key = path.display().to_string();
        let Some(cs) = reference.get(&key) else {
            failures.push(format!("{key}: no checksec result"));
            continue;
        };
        let src = FileSource::open(path).unwrap();
        let facts = match elf_hardening(&src) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{key}: {e}"));
                continue;
            }
        };
        compared += 1;
        let yes = |b: bool| if b { "yes" } else { "no" };
        let relro = match facts.relro {
            Relro::None => "no",
            Relro::Partial => "partial",
            Relro::Full => "full",
        };
        let mut check = |what: &'static str, ours: &str, theirs: Option<&String>| {
            if theirs.map(String::as_str) == Some(ours) {
                *agree.entry(what).or_default() += 1;
                true
            } else {
                false
            }
        };
        if !check("relro", relro, cs.get("relro")) {
            if facts.relro == Relro::Full && cs.get("relro").map(String::as_str) == Some("partial")
            {
                df1_now_only.push(key.clone());
            } else {
                failures.push(format!(
                    "{key}: relro ours={relro} checksec={:?}",
                    cs.get("relro")
                ));
            }
        }
        if !check("canary", yes(facts.canary), cs.get("canary")) {
            failures.push(format!(
                "{key}: canary ours={} checksec={:?}",
                facts.canary,
                cs.get("canary")
            ));
        }
        if !check("nx", yes(facts.nx), cs.get("nx")) {
            failures.push(format!(
                "{key}: nx ours={} checksec={:?}",
                facts.nx,
                cs.get("nx")
            ));
        }
        // FORTIFY is informational: checksec counts any dynamic `*_chk`
        // symbol (also definitions, e.g. in libc) and ignores .symtab
        // (static binaries); we list imported `__*_chk` (static: .symtab).
        let fortify_agrees =
            cs.get("fortify_source").map(String::as_str) == Some(yes(facts.fortify));
        *agree.entry("fortify (informational)").or_default() += usize::from(fortify_agrees);
        let fortifiable_agrees = cs.get("fortify-able") == Some(&facts.fortifiable.to_string());
        *agree.entry("fortifiable (informational)").or_default() += usize::from(fortifiable_agrees);
        // PIE: ET_DYN (checksec "yes" or "dso") vs ET_EXEC ("no") vs ET_REL.
        let theirs_pie = cs.get("pie").map(String::as_str).unwrap_or("?");
        let ours_pie = match facts.elf_type {
            ElfType::Relocatable => "rel",
            _ if facts.pie => "dyn",
            _ => "no",
        };
        let theirs_norm = match theirs_pie {
            "yes" | "dso" => "dyn",
            t => t,
        };
        if ours_pie == theirs_norm {
            *agree.entry("pie").or_default() += 1;
        } else {
            failures.push(format!("{key}: pie ours={ours_pie} checksec={theirs_pie}"));
        }
        let ours_class = match facts.elf_type {
            ElfType::PieExecutable => "yes",
            ElfType::SharedObject => "dso",
            _ => theirs_pie,
        };
        if ours_class != theirs_pie {
            pie_class_diffs.push(format!("{key} ({:?} vs {theirs_pie})", facts.elf_type));
        }
    }
    eprintln!(
        "checksec differential: {compared} files ({} compiled), agreement: {agree:?}",
        compiled.len()
    );
    eprintln!(
        "PIE-executable vs DSO classification differs (deliberate, DT_DEBUG heuristic) on {}: {:?}",
        pie_class_diffs.len(),
        pie_class_diffs.iter().take(20).collect::<Vec<_>>()
    );
    eprintln!("RELRO full via DF_1_NOW only (deliberate): {df1_now_only:?}");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 0);

    // The compiled variants must say what their flags say.
    let get = |name: &str| {
        let p = tmp.path().join(name);
        p.exists()
            .then(|| elf_hardening(&FileSource::open(&p).unwrap()).unwrap())
    };
    if let Some(f) = get("nossp-nopie-norelro") {
        assert!(!f.canary && !f.pie && f.relro == Relro::None && f.elf_type == ElfType::Exec);
    }
    if let Some(f) = get("ssp-pie-now") {
        assert!(
            f.canary && f.pie && f.relro == Relro::Full && f.elf_type == ElfType::PieExecutable
        );
    }
    if let Some(f) = get("execstack") {
        assert_eq!((f.gnu_stack, f.nx), (Some(true), false));
    }
    if let Some(f) = get("fortify") {
        assert!(f.fortify, "{:?}", f.fortified);
        assert!(f
            .fortified
            .iter()
            .any(|n| n == "__strcpy_chk" || n == "__memcpy_chk" || n == "__printf_chk"));
    }
    if let Some(f) = get("static") {
        assert!(f.is_static && f.canary && f.interpreter.is_none() && f.needed.is_empty());
    }
    if let Some(f) = get("static-pie") {
        assert_eq!(f.elf_type, ElfType::PieExecutable);
        assert!(f.is_static && f.pie);
    }
    if let Some(f) = get("rpath") {
        assert_eq!(
            (f.rpath.as_deref(), f.runpath.as_deref()),
            (Some("/opt/x"), None)
        );
    }
    if let Some(f) = get("runpath") {
        assert_eq!(
            (f.rpath.as_deref(), f.runpath.as_deref()),
            (None, Some("/opt/x"))
        );
    }
    if let Some(f) = get("stripped") {
        assert!(f.stripped);
    }
    if let Some(f) = get("lib-shared") {
        assert_eq!(f.elf_type, ElfType::SharedObject);
        assert!(f.needed.iter().any(|n| n.starts_with("libc.so")));
    }
}
