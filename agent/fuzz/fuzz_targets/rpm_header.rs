//! Fuzzes the rpm database readers: the header blob parser
//! (`inventory::software::rpm::package_from_header`), and the Berkeley DB hash reader
//! (`rpm::bdb::for_each`, RHEL 7/8 `Packages`) and ndb reader (`rpm::ndb::for_each`,
//! SUSE `Packages.db`) that find the blobs.
//!
//! The first byte (mod 3) picks the path: 0 a header blob, 1 a Berkeley DB file, 2 an
//! ndb file (each value then parsed as a header); the rest is the input. Checks beyond "no panic": a
//! package has a non-empty name, `source` "rpm" and state "installed"; its version is
//! the EVR, `[epoch:]version-release` with the epoch exactly when `epoch` is set and
//! ending in `-release`; the source package differs from the name; and the database
//! readers hand out no value larger than their input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::software::rpm::{bdb, ndb, package_from_header};

fn check_header(blob: &[u8]) {
    let Ok(p) = package_from_header(blob) else {
        return;
    };
    assert!(!p.name.is_empty(), "{p:?}");
    assert_eq!(p.source, "rpm");
    assert_eq!(p.state, "installed");
    assert!(p.version.ends_with(&format!("-{}", p.release)), "{p:?}");
    if p.epoch.is_empty() {
        assert!(p.version.len() > p.release.len(), "{p:?}");
    } else {
        assert!(p.epoch.bytes().all(|b| b.is_ascii_digit()), "{p:?}");
        assert!(p.version.starts_with(&format!("{}:", p.epoch)), "{p:?}");
    }
    assert_ne!(p.source_package, p.name, "{p:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let check = |value: &[u8]| {
        assert!(value.len() <= rest.len(), "value of {} bytes", value.len());
        check_header(value);
    };
    match mode % 3 {
        0 => check_header(rest),
        1 => {
            let _ = bdb::for_each(rest, |_, value| check(value));
        }
        _ => {
            let _ = ndb::for_each(rest, rest.len() as u64, |_, value| check(value));
        }
    }
});
