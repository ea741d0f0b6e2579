//! Fuzzes apk's text package format and the files around it: the installed database /
//! APKINDEX parser (`inventory::software::apk::parse_database`), the index archive
//! reader (`patches::apk::parse_index`, an uncompressed tar) and the repositories and
//! world parsers; the versions found go through `ward_version::apk`.
//!
//! The first byte picks the path (modulo 3): 0 the text parser, 1 the tar reader, 2 the
//! repositories and world parsers; the rest is the file. Checks: every package has a
//! non-empty name and version; name, version, arch and origin are one trimmed line;
//! `source` is "apk", `state` "installed", `epoch` empty; `release` is the digits after
//! the version's last `-r` or empty; the origin is never the name; apk ordering of two
//! versions found is antisymmetric and a version equals itself; an index that reads
//! cleanly holds packages that pass the same checks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::software::apk::parse_database;
use ward_agent::patches::apk::{parse_index, parse_repositories, parse_world};
use ward_proto::v1 as pb;

fn is_one_trimmed_line(s: &str) -> bool {
    !s.contains('\n')
        && !s.starts_with(|c: char| c.is_ascii_whitespace())
        && !s.ends_with(|c: char| c.is_ascii_whitespace())
}

fn check(packages: &[pb::Package]) {
    for p in packages {
        assert!(!p.name.is_empty() && !p.version.is_empty(), "{p:?}");
        for field in [&p.name, &p.version, &p.arch, &p.source_package] {
            assert!(is_one_trimmed_line(field), "{p:?}");
        }
        assert_eq!((&*p.source, &*p.state, &*p.epoch), ("apk", "installed", ""));
        assert_ne!(p.source_package, p.name);
        match p.version.rsplit_once("-r") {
            Some((_, rev)) if !rev.is_empty() && rev.bytes().all(|b| b.is_ascii_digit()) => {
                assert_eq!(p.release, rev, "{p:?}")
            }
            _ => assert!(p.release.is_empty(), "{p:?}"),
        }
        let _ = ward_version::apk::validate(&p.version);
        assert!(ward_version::apk::compare(&p.version, &p.version).is_eq());
    }
    for pair in packages.windows(2) {
        let (a, b) = (&pair[0].version, &pair[1].version);
        assert_eq!(
            ward_version::apk::compare(a, b),
            ward_version::apk::compare(b, a).reverse(),
            "{a:?} vs {b:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => check(&parse_database(rest)),
        1 => {
            if let Ok(index) = parse_index(rest) {
                check(&index.packages);
                assert_eq!(index.description, index.description.trim());
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            for repo in parse_repositories(&text) {
                // Split on ASCII whitespace only, as apk splits on space and tab.
                assert!(
                    !repo.url.is_empty() && !repo.url.contains(|c: char| c.is_ascii_whitespace())
                );
                assert!(
                    repo.tag
                        .is_none_or(|t| !t.contains(|c: char| c.is_ascii_whitespace()))
                );
            }
            for entry in parse_world(&text) {
                assert!(!entry.name.contains(['<', '>', '=', '~', '@']), "{entry:?}");
                if let Some((op, _)) = &entry.constraint {
                    assert!(!op.is_empty() && op.bytes().all(|b| b"<>=~".contains(&b)));
                }
            }
        }
    }
});
