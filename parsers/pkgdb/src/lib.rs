//! Installed-package databases read from bytes: dpkg, rpm and apk.
//! Facts only: names, versions, architectures, source packages, owned files.
#![forbid(unsafe_code)]
