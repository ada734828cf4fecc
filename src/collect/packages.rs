//! Installed packages from whichever databases the image holds (dpkg, rpm
//! in its three backends, apk), tagged with the OS's ecosystem, with the
//! files each package owns where the database lists them.

use std::collections::HashMap;

use coldscan_fs::rootfs::RootFs;
use coldscan_pkgdb::{apk, dpkg, rpm, Listing, Package};
use serde::{Deserialize, Serialize};

use super::image_files::read_or_note;
use super::ledger::Ledger;
use super::os::OsFacts;

/// Package databases larger than this are not read (a big rpmdb.sqlite is
/// about 100 MiB).
const MAX_DB_BYTES: u64 = 512 << 20;
const MAX_LIST_BYTES: u64 = 16 << 20;

/// A database that was found and read.
#[derive(Debug, Serialize, Deserialize)]
pub struct Database {
    /// `dpkg`, `dpkg-status.d`, `rpm-sqlite`, `rpm-bdb`, `rpm-ndb`, `apk`.
    pub kind: String,
    pub path: String,
    pub packages: usize,
}

/// One installed package with its ecosystem.
#[derive(Debug, Serialize, Deserialize)]
pub struct InstalledPackage {
    #[serde(flatten)]
    pub package: Package,
    /// e.g. `Debian:12`, `Ubuntu:22.04`, `AlmaLinux:9`, `Alpine:v3.19`.
    pub ecosystem: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PackagesFacts {
    pub databases: Vec<Database>,
    pub items: Vec<InstalledPackage>,
}

impl PackagesFacts {
    /// Path → owning package name, from the databases' file lists.
    pub fn owners(&self) -> HashMap<&str, &str> {
        let mut map = HashMap::new();
        for p in &self.items {
            for f in &p.package.files {
                map.entry(f.as_str()).or_insert(p.package.name.as_str());
            }
        }
        map
    }

    /// The installed version of the first package named `name`.
    pub fn version_of(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|p| p.package.name == name)
            .map(|p| p.package.version.as_str())
    }
}

/// The OSV-style ecosystem of the OS (`Name:version`).
pub fn ecosystem(os: &OsFacts) -> Option<String> {
    let id = os.id.as_deref()?;
    let version = os.version_id.as_deref().unwrap_or("");
    let major = version.split('.').next().unwrap_or("");
    let minor2 = version.split('.').take(2).collect::<Vec<_>>().join(".");
    Some(match id {
        "debian" => format!("Debian:{major}"),
        "ubuntu" => format!("Ubuntu:{version}"),
        "alpine" => format!("Alpine:v{minor2}"),
        "almalinux" => format!("AlmaLinux:{major}"),
        "rocky" => format!("Rocky Linux:{major}"),
        "rhel" => format!("Red Hat:{major}"),
        "centos" => format!("CentOS:{major}"),
        "amzn" => format!("Amazon Linux:{version}"),
        "fedora" => format!("Fedora:{version}"),
        "ol" => format!("Oracle Linux:{major}"),
        "opensuse-leap" => format!("openSUSE:Leap {version}"),
        "sles" => format!("SUSE:{version}"),
        other => format!("{other}:{version}"),
    })
}

fn note_skipped(listing: &Listing, ledger: &Ledger) {
    for s in &listing.skipped {
        let mut what = s.evidence.file.clone();
        if let Some(l) = s.evidence.line {
            what.push_str(&format!(":{l}"));
        }
        if let Some(k) = &s.evidence.key {
            what.push_str(&format!(" (record {k})"));
        }
        ledger.add(what, s.reason.clone());
    }
}

/// Reads every package database found in the image.
pub fn collect(root: &RootFs, os: &OsFacts, ledger: &Ledger) -> PackagesFacts {
    let mut facts = PackagesFacts::default();
    let mut all: Vec<Package> = Vec::new();
    let add = |kind: &'static str,
               path: &str,
               listing: Listing,
               facts: &mut PackagesFacts,
               all: &mut Vec<Package>| {
        note_skipped(&listing, ledger);
        facts.databases.push(Database {
            kind: kind.to_string(),
            path: path.to_string(),
            packages: listing.packages.len(),
        });
        all.extend(listing.packages);
    };

    // dpkg, and the distroless status.d form.
    if let Some(bytes) = read_or_note(root, "/var/lib/dpkg/status", MAX_DB_BYTES, ledger) {
        add(
            "dpkg",
            "/var/lib/dpkg/status",
            dpkg::parse_status(&bytes, "/var/lib/dpkg/status"),
            &mut facts,
            &mut all,
        );
    }
    if let Ok(entries) = root.read_dir(b"/var/lib/dpkg/status.d") {
        let mut names: Vec<String> = entries
            .into_iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .filter(|n| !n.ends_with(".md5sums"))
            .collect();
        names.sort();
        for n in names {
            let path = format!("/var/lib/dpkg/status.d/{n}");
            if let Some(bytes) = read_or_note(root, &path, MAX_LIST_BYTES, ledger) {
                add(
                    "dpkg-status.d",
                    &path,
                    dpkg::parse_status_d(&bytes, &path),
                    &mut facts,
                    &mut all,
                );
            }
        }
    }
    // dpkg file lists.
    for p in all.iter_mut() {
        if p.files.is_empty() && p.evidence.file.starts_with("/var/lib/dpkg/") {
            for name in dpkg::list_file_names(p) {
                let path = format!("/var/lib/dpkg/info/{name}");
                if let Some(bytes) = read_or_note(root, &path, MAX_LIST_BYTES, ledger) {
                    p.files = dpkg::parse_list(&bytes);
                    break;
                }
            }
        }
    }

    // rpm, in either location (often one is a symlink to the other).
    let mut seen = Vec::new();
    for dir in ["/var/lib/rpm", "/usr/lib/sysimage/rpm"] {
        let Ok(r) = root.resolve(dir.as_bytes(), true) else {
            continue;
        };
        if seen.contains(&r.loc) {
            continue;
        }
        seen.push(r.loc);
        let sqlite = format!("{dir}/rpmdb.sqlite");
        if let Some(db) = read_or_note(root, &sqlite, MAX_DB_BYTES, ledger) {
            let wal = read_or_note(root, &format!("{sqlite}-wal"), MAX_DB_BYTES, ledger);
            match rpm::sqlite::read(&db, wal.as_deref(), &sqlite) {
                Ok(l) => add("rpm-sqlite", &sqlite, l, &mut facts, &mut all),
                Err(e) => ledger.add(&sqlite, e.to_string()),
            }
        }
        let bdb = format!("{dir}/Packages");
        if let Some(db) = read_or_note(root, &bdb, MAX_DB_BYTES, ledger) {
            match rpm::bdb::read(&db, &bdb) {
                Ok(l) => add("rpm-bdb", &bdb, l, &mut facts, &mut all),
                Err(e) => ledger.add(&bdb, e.to_string()),
            }
        }
        let ndb = format!("{dir}/Packages.db");
        if let Some(db) = read_or_note(root, &ndb, MAX_DB_BYTES, ledger) {
            match rpm::ndb::read(&db, &ndb) {
                Ok(l) => add("rpm-ndb", &ndb, l, &mut facts, &mut all),
                Err(e) => ledger.add(&ndb, e.to_string()),
            }
        }
    }

    // apk (usr-merged Alpine keeps it under /usr/lib).
    for path in ["/lib/apk/db/installed", "/usr/lib/apk/db/installed"] {
        if let Some(bytes) = read_or_note(root, path, MAX_DB_BYTES, ledger) {
            add(
                "apk",
                path,
                apk::parse_installed(&bytes, path),
                &mut facts,
                &mut all,
            );
            break;
        }
    }

    let eco = ecosystem(os);
    facts.items = all
        .into_iter()
        .map(|package| InstalledPackage {
            package,
            ecosystem: eco.clone(),
        })
        .collect();
    facts
}
