//! Fuzzes pacman's database files: the `desc` parser
//! (`inventory::software::pacman::parse_desc`, local and sync entries), the sync
//! database reader (`patches::pacman::parse_sync_db`, an uncompressed tar of `desc`
//! entries) and the `pacman.conf` parser; the versions found go through
//! `ward_version::pacman`.
//!
//! The first byte picks the path (modulo 3): 0 `desc`, 1 the tar reader, 2 pacman.conf.
//! Checks: a parsed entry has a non-empty name and version, and name, version, base and
//! arch are one trimmed line; as a package, `source` is "pacman",
//! `state` "installed", `epoch` and `release` are the parts `ward_version::pacman::split`
//! gives, and the base package is never the name; pacman ordering is antisymmetric and
//! reflexive on what was found. pacman.conf: repositories are unique, non-empty, never
//! `options`, and no pattern is empty or holds ASCII whitespace.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::software::pacman::{Desc, parse_desc};
use ward_agent::patches::pacman::{parse_conf, parse_sync_db};

fn is_one_trimmed_line(s: &str) -> bool {
    !s.contains('\n')
        && !s.starts_with(|c: char| c.is_ascii_whitespace())
        && !s.ends_with(|c: char| c.is_ascii_whitespace())
}

fn check(descs: &[Desc]) {
    for d in descs {
        assert!(!d.name.is_empty() && !d.version.is_empty(), "{d:?}");
        for field in [&d.name, &d.version, &d.base, &d.arch] {
            assert!(is_one_trimmed_line(field), "{d:?}");
        }
        let p = d.to_package();
        assert_eq!((&*p.source, &*p.state), ("pacman", "installed"));
        assert_ne!(p.source_package, p.name);
        let evr = ward_version::pacman::split(&d.version);
        assert_eq!(p.epoch, evr.epoch.unwrap_or_default());
        assert_eq!(p.release, evr.release.unwrap_or_default());
        let _ = ward_version::pacman::validate(&d.version);
        assert!(ward_version::pacman::compare(&d.version, &d.version).is_eq());
    }
    for pair in descs.windows(2) {
        let (a, b) = (&pair[0].version, &pair[1].version);
        assert_eq!(
            ward_version::pacman::compare(a, b),
            ward_version::pacman::compare(b, a).reverse(),
            "{a:?} vs {b:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => check(&parse_desc(rest).into_iter().collect::<Vec<_>>()),
        1 => {
            if let Ok(descs) = parse_sync_db(rest) {
                check(&descs);
            }
        }
        _ => {
            let config = parse_conf(&String::from_utf8_lossy(rest));
            for (i, repo) in config.repos.iter().enumerate() {
                assert!(!repo.is_empty() && repo != "options", "{config:?}");
                assert!(!config.repos[..i].contains(repo), "{config:?}");
            }
            for pattern in config.ignore_pkg.iter().chain(&config.ignore_group) {
                // Split on ASCII whitespace only (pacman splits on spaces).
                assert!(
                    !pattern.is_empty() && !pattern.contains(|c: char| c.is_ascii_whitespace()),
                    "{config:?}"
                );
            }
        }
    }
});
