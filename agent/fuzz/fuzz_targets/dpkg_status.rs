//! Fuzzes the dpkg status parser: any bytes must parse without panicking, and every
//! package it returns must be a deb with a trimmed, single-line name and a one-word state
//! other than `not-installed`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::software::dpkg::parse_status;

/// True when `s` holds no line break and no ASCII whitespace at either end, which is what
/// a field value trimmed by the parser and taken from one line must look like.
fn is_one_trimmed_line(s: &str) -> bool {
    !s.contains('\n')
        && !s.starts_with(|c: char| c.is_ascii_whitespace())
        && !s.ends_with(|c: char| c.is_ascii_whitespace())
}

fuzz_target!(|data: &[u8]| {
    for p in parse_status(data) {
        assert!(!p.name.is_empty(), "empty name: {p:?}");
        assert!(is_one_trimmed_line(&p.name), "untrimmed name: {p:?}");
        assert!(is_one_trimmed_line(&p.version), "untrimmed version: {p:?}");
        assert!(is_one_trimmed_line(&p.arch), "untrimmed arch: {p:?}");
        // The state is the third word of Status, so it cannot hold whitespace.
        assert!(!p.state.is_empty() && p.state != "not-installed", "{p:?}");
        assert!(
            !p.state.contains(|c: char| c.is_ascii_whitespace()),
            "{p:?}"
        );
        assert_eq!(p.source, "deb");
        // The source package is the first word of Source, without "(version)", and is
        // left empty when it names the binary package itself.
        assert_ne!(p.source_package, p.name);
        assert!(
            !p.source_package
                .contains(|c: char| c.is_ascii_whitespace() || c == '('),
            "{p:?}"
        );
        // Installed-Size is KiB turned into bytes, saturating.
        assert!(
            p.installed_size % 1024 == 0 || p.installed_size == u64::MAX,
            "{p:?}"
        );
        assert!(p.epoch.is_empty() && p.release.is_empty(), "{p:?}");
    }
});
