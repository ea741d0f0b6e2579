//! Fuzzes the parsers of apt's configuration and archive metadata: Release/InRelease
//! files (`release::parse`), preferences (`policy::parse_preferences`, then the pins in a
//! `Policy`), sources (`sources::parse`, then `Configured::includes`), apt.conf
//! (`config::Config::parse`, then its lookups) and relationship fields
//! (`relations::parse_groups`, `phasing::parse_percentage`).
//!
//! The first byte picks the parser (modulo 6): 0 Release, 1 preferences, 2 one-line
//! sources (`.list`), 3 deb822 sources (`.sources`), 4 apt.conf, 5 a relationship field;
//! the rest is the file.
//!
//! Checks: Release fields are one trimmed line, and writing them back as `Field: value`
//! lines parses to the same Release. Every pin has a priority in apt's range other than 0,
//! and so has every file and package priority of a policy built from the pins; the
//! candidate is one of the versions offered. Every source has a URI and a suite of one
//! word each, one-word components, and nothing `Unknown` (`cdrom:`, `$(`) is let
//! through; `includes` accepts the Packages list names apt derives from each source
//! for each of its architectures. apt.conf: the tree holds at most one item per input
//! byte beyond apt's defaults; a comment line appended to a file that parsed changes
//! nothing; every item's `find_file`/`find_dir` resolve (a directory ends in `/`), and
//! every path put under a root stays under it; the names kept from a directory listing
//! follow apt's rules. Relationship fields: every atom is one word without `,`, `|`,
//! `(` or `:`, `Fields::mentions` finds every name the parser finds, and a phasing
//! percentage is below 100.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Component, Path};

use ward_agent::patches::apt::config::{self, Config};
use ward_agent::patches::apt::phasing;
use ward_agent::patches::apt::policy::{PackageFile, Policy, Version, parse_preferences};
use ward_agent::patches::apt::relations;
use ward_agent::patches::apt::release::{self, Release};
use ward_agent::patches::apt::sources::{self, Configured, uri_to_file_name};

fn is_one_trimmed_line(s: &str) -> bool {
    !s.contains('\n') && s.trim() == s
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && !s.contains(|c: char| c.is_ascii_whitespace())
}

fn fuzz_release(bytes: &[u8]) {
    let r = release::parse(bytes);
    for field in [&r.origin, &r.label, &r.suite, &r.codename, &r.version] {
        assert!(is_one_trimmed_line(field), "{r:?}");
    }
    let mut text = String::new();
    for (name, value) in [
        ("Origin", &r.origin),
        ("Label", &r.label),
        ("Suite", &r.suite),
        ("Codename", &r.codename),
        ("Version", &r.version),
    ] {
        if !value.is_empty() {
            text.push_str(&format!("{name}: {value}\n"));
        }
    }
    if r.not_automatic {
        text.push_str("NotAutomatic: yes\n");
    }
    if r.but_automatic_upgrades {
        text.push_str("ButAutomaticUpgrades: yes\n");
    }
    assert_eq!(release::parse(text.as_bytes()), r, "{text:?}");
}

fn file(
    origin: &str,
    suite: &str,
    site: &str,
    not_automatic: bool,
    is_status: bool,
) -> PackageFile {
    PackageFile {
        name: format!("{site}_debian_dists_{suite}_main_binary-amd64_Packages"),
        release: Release {
            origin: origin.into(),
            label: origin.into(),
            suite: suite.into(),
            codename: "bookworm".into(),
            version: "12.8".into(),
            not_automatic,
            but_automatic_upgrades: false,
        },
        component: "main".into(),
        arch: "amd64".into(),
        site: site.into(),
        is_status,
    }
}

fn version(text: &str, source: &str, files: Vec<usize>) -> Version {
    Version {
        parsed: text.parse().expect("valid version"),
        text: text.into(),
        arch: "amd64".into(),
        source: source.into(),
        files,
    }
}

fn fuzz_preferences(bytes: &[u8]) {
    let pins = parse_preferences(bytes);
    for pin in &pins {
        assert!(
            pin.priority != 0 && (-32768..=32767).contains(&pin.priority),
            "{pin:?}"
        );
    }
    let files = vec![
        file("Debian", "stable", "deb.debian.org", false, false),
        file(
            "Debian",
            "stable-security",
            "security.debian.org",
            false,
            false,
        ),
        file(
            "Debian Backports",
            "bookworm-backports",
            "deb.debian.org",
            true,
            false,
        ),
        file("", "now", "", false, true),
        file("nodesource", "nodistro", "deb.nodesource.com", false, false),
    ];
    let n = files.len();
    let policy = Policy::new(files, pins, Some("stable"), "amd64");
    for f in 0..n {
        let p = policy.file_priority(f);
        assert!(p != 0 && (-32768..=32767).contains(&p), "file {f}: {p}");
    }
    let versions = [
        version("1:2.36-9+deb12u9", "glibc", vec![0, 3]),
        version("1:2.36-9+deb12u10", "glibc", vec![1]),
        version("1:2.40-1~bpo12+1", "glibc", vec![2]),
        version("20.18.1-1nodesource1", "nodejs", vec![4]),
    ];
    for name in ["libc6", "nodejs", "bash"] {
        for v in &versions {
            let p = policy.priority(name, "amd64", v);
            assert!((-32768..=32767).contains(&p), "{name} {v:?}: {p}");
        }
        for current in [None, Some(0), Some(1)] {
            if let Some(c) = policy.candidate(name, "amd64", &versions, current) {
                assert!(c < versions.len());
            }
        }
    }
}

fn fuzz_sources(name: &str, bytes: &[u8]) {
    let configured = sources::parse(
        &[(name.to_owned(), bytes.to_vec())],
        &["amd64".to_owned(), "i386".to_owned()],
    );
    let Configured::Sources(list) = &configured else {
        return;
    };
    for s in list {
        assert!(is_word(&s.uri) && is_word(&s.suite), "{s:?}");
        assert!(s.components.iter().all(|c| is_word(c)), "{s:?}");
        assert!(
            !s.uri.starts_with("cdrom:") && !s.uri.contains("$("),
            "{s:?}"
        );
        let file_name = uri_to_file_name(&s.uri);
        assert!(
            file_name.bytes().all(|b| b > 0x20 && b < 0x7f && b != b'/'),
            "{file_name:?}"
        );
        let base = if s.uri.ends_with('/') {
            s.uri.clone()
        } else {
            format!("{}/", s.uri)
        };
        if s.suite.ends_with('/') {
            let list = format!(
                "{}Packages",
                uri_to_file_name(&format!("{base}{}", s.suite))
            );
            assert!(configured.includes(&list), "{s:?} excludes {list}");
        } else {
            let prefix = uri_to_file_name(&format!("{base}dists/{}/", s.suite));
            for c in &s.components {
                for arch in s.archs.iter().map(String::as_str).chain(["all"]) {
                    let list =
                        format!("{prefix}{}_binary-{arch}_Packages", uri_to_file_name(c));
                    assert!(configured.includes(&list), "{s:?} excludes {list}");
                }
            }
        }
    }
}

fn fuzz_apt_conf(bytes: &[u8]) {
    let defaults = Config::with_defaults().dump().lines().count();
    let mut c = Config::with_defaults();
    let parsed = c.parse("fuzz.conf", bytes);
    let dump = c.dump();
    let items = dump.lines().count();
    assert!(items <= defaults + bytes.len(), "{items} items from {} bytes", bytes.len());
    if let Err(e) = &parsed {
        let lines = bytes.split(|b| *b == b'\n').count();
        assert!(e.line <= lines, "{e} of {lines} lines");
    }

    // A comment line changes nothing in a file that parsed.
    if parsed.is_ok() {
        let mut commented = bytes.to_vec();
        commented.extend_from_slice(b"\n// a comment\n");
        let mut again = Config::with_defaults();
        assert!(again.parse("fuzz.conf", &commented).is_ok());
        assert_eq!(again.dump(), dump);
    }

    let root = Path::new("/fuzz-root");
    for line in dump.lines() {
        let key = line.split('\t').next().unwrap_or_default();
        let _ = c.find(key);
        let _ = c.find_b(key, true);
        let _ = c.find_vector(key);
        let file = c.find_file(key, Some("/dev/null"));
        let dir = c.find_dir(key, None);
        assert!(dir.ends_with('/') || dir.ends_with("/dev/null"), "{key}: {dir:?}");
        for path in [&file, &dir] {
            let under = config::under(root, path);
            assert!(under.starts_with(root), "{path:?} -> {under:?}");
            assert!(
                !under.components().any(|c| c == Component::ParentDir),
                "{path:?} -> {under:?}"
            );
        }
    }

    let names: Vec<String> = String::from_utf8_lossy(bytes)
        .split(|c: char| c == '\n' || c == '/')
        .map(str::to_owned)
        .collect();
    for name in config::config_files(&names) {
        assert!(!name.starts_with('.') && !name.ends_with('.'), "{name:?}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-:.".contains(&b)),
            "{name:?}"
        );
        assert!(
            name.rsplit_once('.').is_none_or(|(_, ext)| ext == "conf"),
            "{name:?}"
        );
    }
}

fn fuzz_relations(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let fields = relations::Fields {
        depends: text.clone().into_owned(),
        provides: text.clone().into_owned(),
        ..Default::default()
    };
    for group in relations::parse_groups(&text) {
        assert!(!group.is_empty());
        for atom in group {
            assert!(
                is_word(&atom.name) && !atom.name.contains([',', '|', '(', ':']),
                "{atom:?}"
            );
            // The cheap scan finds every name the parser finds.
            let name = std::collections::HashSet::from([atom.name.clone()]);
            assert!(fields.mentions(&name), "{atom:?}");
        }
    }
    assert_eq!(fields.parse_provides().provides, fields.parse().provides);
    if let Some(p) = phasing::parse_percentage(&text) {
        assert!(p < 100, "{p}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 6 {
        0 => fuzz_release(rest),
        1 => fuzz_preferences(rest),
        2 => fuzz_sources("fuzz.list", rest),
        3 => fuzz_sources("fuzz.sources", rest),
        4 => fuzz_apt_conf(rest),
        _ => fuzz_relations(rest),
    }
});
