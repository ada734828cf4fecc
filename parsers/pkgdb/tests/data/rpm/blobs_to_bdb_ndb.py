"""Write the header blobs of an rpmdb.sqlite as bare .hdr files, as BerkeleyDB hash
`Packages` databases (both byte orders, and one with page checksums, like rpm's BDB backend: key = header number
as a 4-byte integer in the database's byte order, plus record 0) and as an NDB
`Packages.db` (layout of rpm's lib/backend/ndb/rpmpkg.c, written independently
of the Rust reader). Usage: blobs_to_bdb_ndb.py rpmdb.sqlite OUTDIR"""
import os
import sqlite3
import struct
import sys
import zlib

from bsddb3 import db

src, out = sys.argv[1], sys.argv[2]
rows = sqlite3.connect(src).execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()


def name_of(blob):
    il, dl = struct.unpack(">II", blob[:8])
    store = blob[8 + 16 * il:]
    for i in range(il):
        tag, typ, off, cnt = struct.unpack(">IIII", blob[8 + 16 * i:24 + 16 * i])
        if tag == 1000:
            return store[off:store.index(b"\0", off)].decode()


for hnum, blob in rows:
    with open(os.path.join(out, name_of(blob) + ".hdr"), "wb") as f:
        f.write(blob)

for lorder, suffix, fmt, flags in (
    (1234, "le", "<I", 0),
    (4321, "be", ">I", 0),
    (1234, "le-chksum", "<I", db.DB_CHKSUM),
):
    path = os.path.join(out, "Packages.bdb-" + suffix)
    if os.path.exists(path):
        os.remove(path)
    d = db.DB()
    d.set_pagesize(1024)  # small pages: every header needs overflow pages
    d.set_lorder(lorder)
    if flags:
        d.set_flags(flags)
    d.open(path, dbtype=db.DB_HASH, flags=db.DB_CREATE)
    d.put(struct.pack(fmt, 0), struct.pack(fmt, max(h for h, _ in rows) + 1))
    for hnum, blob in rows:
        d.put(struct.pack(fmt, hnum), bytes(blob))
    d.close()

# NDB
PAGE, BLK = 4096, 16
le = lambda *v: struct.pack("<" + "I" * len(v), *v)
slots, blobs = b"", b""
blkoff = PAGE // BLK
for hnum, blob in rows:
    blob = bytes(blob)
    head = b"BlbS" + le(hnum, 1700000000, len(blob))
    blkcnt = (16 + len(blob) + 12 + BLK - 1) // BLK
    pad = b"\0" * (blkcnt * BLK - 16 - len(blob) - 12)
    adler = zlib.adler32(head + blob + pad)
    blobs += head + blob + pad + le(adler, len(blob)) + b"BlbE"
    slots += b"Slot" + le(hnum, blkoff, blkcnt)
    blkoff += blkcnt
page0 = b"RpmP" + le(0, 7, 1, max(h for h, _ in rows) + 1) + b"\0" * 12 + slots
while len(page0) < PAGE:
    page0 += b"Slot" + le(0, 0, 0)
with open(os.path.join(out, "Packages.ndb"), "wb") as f:
    f.write(page0 + blobs)
