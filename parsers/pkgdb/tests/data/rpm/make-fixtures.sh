#!/bin/sh
# Rebuild the rpm fixtures of coldscan-pkgdb from the spec files in this directory.
# Needs (Debian): rpm (rpmbuild, rpm 4.18 with the sqlite backend) and python3-bsddb3.
#   rpmdb.sqlite        rpm --initdb + rpm -i --justdb (the real tool)
#   Packages.bdb-le     BerkeleyDB hash, little-endian, written with python3-bsddb3
#   Packages.bdb-be     the same, big-endian
#   Packages.bdb-le-chksum  little-endian with page checksums (32-byte page headers)
#   Packages.ndb        NDB, written by blobs_to_bdb_ndb.py from the rpm ndb format
#   *.hdr               the bare header blobs
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for spec in hello tinysrc zeroepoch; do
    rpmbuild -bb --quiet --define "_topdir $work/build" --define '_build_id_links none' \
        --define 'source_date_epoch_from_changelog 0' --define 'clamp_mtime_to_source_date_epoch 1' \
        --define 'use_source_date_epoch_as_buildtime 1' \
        "$here/$spec.spec" >/dev/null
done
mkdir -p "$work/db"
rpm --initdb --dbpath "$work/db"
for f in "$work"/build/RPMS/*/*.rpm; do
    rpm -i --justdb --nodeps --noscripts --notriggers --ignorearch --dbpath "$work/db" "$f"
done
# Compact it: rpm leaves free pages behind.
/usr/bin/python3 - "$work/db/rpmdb.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA journal_mode=DELETE"); c.execute("PRAGMA page_size=1024"); c.execute("VACUUM"); c.close()
PY
cp "$work/db/rpmdb.sqlite" "$here/rpmdb.sqlite"
/usr/bin/python3 "$here/blobs_to_bdb_ndb.py" "$here/rpmdb.sqlite" "$here"
ls -l "$here"
