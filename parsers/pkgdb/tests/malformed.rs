//! Hostile input: truncated, corrupted, cyclic, huge counts. Every reader must
//! return (an error or a partial listing), never panic, hang or over-allocate.

mod common;

use coldscan_pkgdb::rpm::{bdb, header, ndb, sqlite};
use coldscan_pkgdb::{apk, dpkg, Listing, Result};

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(common::data(rel)).unwrap()
}

fn all_readers(b: &[u8]) {
    let _ = header::parse(b);
    let _ = bdb::read(b, "x");
    let _ = ndb::read(b, "x");
    let _ = dpkg::parse_status(b, "x");
    let _ = apk::parse_installed(b, "x");
}

/// A result may fail or skip, but never list more than the database holds.
fn at_most(r: Result<Listing>, n: usize) {
    if let Ok(l) = r {
        assert!(l.packages.len() <= n, "{} packages", l.packages.len());
    }
}

#[test]
fn every_reader_on_every_fixture() {
    for f in [
        "rpm/rpmdb.sqlite",
        "rpm/Packages.bdb-le",
        "rpm/Packages.bdb-be",
        "rpm/Packages.ndb",
        "rpm/hello.hdr",
        "dpkg/status",
        "apk-installed",
    ] {
        let b = read(f);
        all_readers(&b);
        let _ = sqlite::read(&b, None, "x");
    }
    all_readers(&[]);
    let _ = sqlite::read(&[], None, "x");
}

#[test]
fn truncated_and_bit_flipped_header_bdb_ndb() {
    for f in [
        "rpm/hello.hdr",
        "rpm/Packages.bdb-le",
        "rpm/Packages.bdb-be",
        "rpm/Packages.ndb",
    ] {
        let b = read(f);
        for len in (0..b.len()).step_by(7) {
            all_readers(&b[..len]);
        }
        for i in 0..b.len() {
            for mask in [0x01u8, 0xff] {
                let mut c = b.clone();
                c[i] ^= mask;
                let _ = header::parse(&c);
                at_most(bdb::read(&c, "x"), 3);
                at_most(ndb::read(&c, "x"), 3);
            }
        }
    }
}

#[test]
fn truncated_and_corrupted_sqlite() {
    let b = read("rpm/rpmdb.sqlite");
    for len in (0..b.len()).step_by(509) {
        at_most(sqlite::read(&b[..len], None, "x"), 3);
    }
    for i in (0..b.len()).step_by(97) {
        let mut c = b.clone();
        c[i] ^= 0xff;
        at_most(sqlite::read(&c, None, "x"), 3);
        at_most(sqlite::read(&b, Some(&c[..c.len().min(4096)]), "x"), 3);
    }
}

/// Packages as a view that never ends must be refused, not run.
#[test]
fn sqlite_packages_view_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
         SELECT x AS hnum, zeroblob(100) AS blob FROM c;",
    )
    .unwrap();
    drop(conn);
    let b = std::fs::read(&path).unwrap();
    let e = sqlite::read(&b, None, "x").unwrap_err();
    assert!(e.to_string().contains("not a table"), "{e}");
}

/// A minimal header: il entries, then the store.
fn hdr(entries: &[(u32, u32, u32, u32)], store: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend((entries.len() as u32).to_be_bytes());
    b.extend((store.len() as u32).to_be_bytes());
    for &(tag, ty, off, count) in entries {
        for v in [tag, ty, off, count] {
            b.extend(v.to_be_bytes());
        }
    }
    b.extend(store);
    b
}

const NVR: &[u8] = b"n\0v\0r\0";
fn nvr() -> Vec<(u32, u32, u32, u32)> {
    vec![(1000, 6, 0, 1), (1001, 6, 2, 1), (1002, 6, 4, 1)]
}

#[test]
fn header_limits() {
    assert_eq!(header::parse(&hdr(&nvr(), NVR)).unwrap().evr(), "v-r");
    // Huge index count / data size.
    for (il, dl) in [
        (u32::MAX, 0),
        (0, 0),
        (1, u32::MAX),
        (70_000, 10),
        (3, 1 << 30),
    ] {
        let mut b = hdr(&nvr(), NVR);
        b[..4].copy_from_slice(&il.to_be_bytes());
        b[4..8].copy_from_slice(&dl.to_be_bytes());
        assert!(header::parse(&b).is_err());
    }
    let with = |extra: (u32, u32, u32, u32), store: &[u8]| {
        let mut e = nvr();
        e.push(extra);
        header::parse(&hdr(&e, store))
    };
    let mut store = NVR.to_vec();
    store.extend(b"unterminated");
    // Offsets beyond the store, unterminated strings, impossible counts.
    assert!(with((1022, 6, 1000, 1), NVR).is_err());
    assert!(with((1022, 6, 6, 1), &store).is_err());
    assert!(with((1117, 8, 0, u32::MAX), NVR).is_err());
    assert!(with((1003, 4, 0, 0), NVR).is_err());
    assert!(with((1003, 6, 0, 1), NVR).is_err());
    // Missing NAME.
    assert!(header::parse(&hdr(&[(1001, 6, 2, 1)], NVR)).is_err());
    // Type mismatch on a required tag.
    assert!(header::parse(&hdr(
        &[(1000, 4, 0, 1), (1001, 6, 2, 1), (1002, 6, 4, 1)],
        NVR
    ))
    .is_err());
}

#[test]
fn header_file_lists() {
    // store: NVR | "/d/\0" | "a\0b\0" | pad | dirindexes [0, 0]
    let mut store = NVR.to_vec();
    let dirs = store.len() as u32;
    store.extend(b"/d/\0");
    let bases = store.len() as u32;
    store.extend(b"a\0b\0");
    while !store.len().is_multiple_of(4) {
        store.push(0);
    }
    let idx = store.len() as u32;
    store.extend([0u8; 8]);
    let files = |dircount: u32, basecount: u32, idxcount: u32, idxval: u32| {
        let mut s = store.clone();
        s[idx as usize + 4..idx as usize + 8].copy_from_slice(&idxval.to_be_bytes());
        let mut e = nvr();
        e.push((1118, 8, dirs, dircount));
        e.push((1117, 8, bases, basecount));
        e.push((1116, 4, idx, idxcount));
        header::parse(&hdr(&e, &s)).map(|h| h.files)
    };
    assert_eq!(files(1, 2, 2, 0).unwrap(), ["/d/a", "/d/b"]);
    assert!(files(1, 2, 2, 1).is_err(), "dirindex beyond dirnames");
    assert!(files(1, 2, 1, 0).is_err(), "count mismatch");
    assert!(files(1000, 2, 2, 0).is_err(), "dirnames cannot fit");
    assert!(files(1, 2, u32::MAX, 0).is_err(), "dirindexes cannot fit");
    assert!(files(1, 2, 0x4000_0001, 0).is_err(), "dirindexes wrap");
}

/// Many files joined to one long directory name: the expansion is bounded.
#[test]
fn header_file_list_expansion_bounded() {
    let long = vec![b'd'; 60_000];
    let n = 20_000u32;
    let mut store = NVR.to_vec();
    let dirs = store.len() as u32;
    store.extend(&long);
    store.push(0);
    let bases = store.len() as u32;
    store.extend(std::iter::repeat_n(&b"a\0"[..], n as usize).flatten());
    while !store.len().is_multiple_of(4) {
        store.push(0);
    }
    let idx = store.len() as u32;
    store.extend(vec![0u8; 4 * n as usize]);
    let mut e = nvr();
    e.push((1118, 8, dirs, 1));
    e.push((1117, 8, bases, n));
    e.push((1116, 4, idx, n));
    let err = header::parse(&hdr(&e, &store)).unwrap_err();
    assert!(err.to_string().contains("file list longer"), "{err}");
}

const PS: usize = 1024;

fn u32_at(b: &[u8], at: usize, be: bool) -> u32 {
    let s: [u8; 4] = b[at..at + 4].try_into().unwrap();
    if be {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    }
}

fn put_u32(b: &mut [u8], at: usize, v: u32, be: bool) {
    let s = if be { v.to_be_bytes() } else { v.to_le_bytes() };
    b[at..at + 4].copy_from_slice(&s);
}

/// Overflow pages of a fixture (type 7).
fn overflow_pages(b: &[u8]) -> Vec<usize> {
    (1..b.len() / PS).filter(|&p| b[p * PS + 25] == 7).collect()
}

#[test]
fn bdb_cyclic_and_shared_overflow_chains() {
    for (f, be) in [
        ("rpm/Packages.bdb-le", false),
        ("rpm/Packages.bdb-be", true),
    ] {
        let b = read(f);
        let pages = overflow_pages(&b);
        assert!(pages.len() >= 3, "fixture has overflow chains");
        for &p in &pages {
            // next_pgno → itself, → the first overflow page.
            for target in [p, pages[0]] {
                let mut c = b.clone();
                put_u32(&mut c, p * PS + 16, target as u32, be);
                at_most(bdb::read(&c, "x"), 3);
            }
            // Huge data length on the page.
            let mut c = b.clone();
            c[p * PS + 22] = 0xff;
            c[p * PS + 23] = 0xff;
            at_most(bdb::read(&c, "x"), 3);
        }
        // Point every off-page item at the same chain, with a huge total length.
        for tlen in [None, Some(u32::MAX)] {
            let mut c = b.clone();
            for p in (1..c.len() / PS).filter(|&p| b[p * PS + 25] == 13) {
                let u16_at = |c: &[u8], o: usize| {
                    let v = [c[o], c[o + 1]];
                    (if be {
                        u16::from_be_bytes(v)
                    } else {
                        u16::from_le_bytes(v)
                    }) as usize
                };
                let entries = u16_at(&c, p * PS + 20);
                for i in 0..entries {
                    let o = p * PS + 26 + 2 * i;
                    let off = u16_at(&c, o);
                    let item = p * PS + off;
                    if c[item] == 3 {
                        put_u32(&mut c, item + 4, pages[0] as u32, be);
                        if let Some(t) = tlen {
                            put_u32(&mut c, item + 8, t, be);
                        }
                    }
                }
            }
            let l = bdb::read(&c, "x").unwrap();
            assert!(l.packages.len() <= 1);
            assert!(!l.skipped.is_empty());
        }
        // Metadata: huge last page, bad page size, huge entry count.
        let mut c = b.clone();
        put_u32(&mut c, 32, u32::MAX, be);
        assert_eq!(bdb::read(&c, "x").unwrap().packages.len(), 3);
        for ps in [0u32, 1000, 1 << 20] {
            let mut c = b.clone();
            put_u32(&mut c, 20, ps, be);
            assert!(bdb::read(&c, "x").is_err());
        }
        assert_eq!(u32_at(&b, 20, be), PS as u32);
    }
}

#[test]
fn ndb_hostile_slots() {
    let b = read("rpm/Packages.ndb");
    // Slot page count beyond the file.
    let mut c = b.clone();
    c[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(ndb::read(&c, "x").is_err());
    // Every slot pointing at the first blob: the budget stops it.
    let first = b[32 + 8..32 + 16].to_vec();
    let mut c = b.clone();
    for s in (32..4096).step_by(16) {
        c[s..s + 4].copy_from_slice(b"Slot");
        c[s + 4..s + 8].copy_from_slice(&b[36..40]);
        c[s + 8..s + 16].copy_from_slice(&first);
    }
    at_most(ndb::read(&c, "x"), 3);
    // Huge block count.
    let mut c = b.clone();
    c[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
    let l = ndb::read(&c, "x").unwrap();
    assert_eq!((l.packages.len(), l.skipped.len()), (2, 1));
    // A flipped data byte breaks the adler32.
    let mut c = b.clone();
    c[4096 + 20] ^= 1;
    let l = ndb::read(&c, "x").unwrap();
    assert!(l.skipped.iter().any(|s| s.reason.contains("adler32")));
}

/// A hand-made BerkeleyDB whose item index points many pairs at the same bytes:
/// the byte budget stops the repetition.
#[test]
fn bdb_overlapping_items_bounded() {
    const P: usize = 512;
    let mut b = vec![0u8; 2 * P];
    b[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
    b[20..24].copy_from_slice(&(P as u32).to_le_bytes());
    b[25] = 8;
    b[32..36].copy_from_slice(&1u32.to_le_bytes());
    let page = &mut b[P..];
    page[25] = 13;
    let header = hdr(&nvr(), NVR);
    let (c, kb) = (P, P - 5);
    let a = kb - 1 - header.len();
    page[kb] = 1;
    page[kb + 1..kb + 5].copy_from_slice(&1u32.to_le_bytes());
    page[a] = 1;
    page[a + 1..kb].copy_from_slice(&header);
    let entries = (a - 26) / 2;
    page[20..22].copy_from_slice(&(entries as u16).to_le_bytes());
    for i in 0..entries {
        let v = [kb, a, P - 1, c][i % 4];
        page[26 + 2 * i..28 + 2 * i].copy_from_slice(&(v as u16).to_le_bytes());
    }
    let l = bdb::read(&b, "x").unwrap();
    assert!(!l.packages.is_empty());
    assert!(
        l.packages.len() <= b.len() / (header.len() + 4),
        "{}",
        l.packages.len()
    );
}
