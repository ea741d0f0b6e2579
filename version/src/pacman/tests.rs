use std::cmp::Ordering::{self, Equal, Greater, Less};
use std::process::Command;

use proptest::prelude::*;

use super::{Evr, compare, split, validate};

/// Real pacman ordering cases: (a, expected ordering of a against b, b). Most are Arch
/// package versions of 2023-2024 (kernels, glibc, openssh, bash, tzdata, VCS packages);
/// the rest are the orderings `vercmp`'s manual page lists. Each row is checked against
/// the machine's own `vercmp` when it has one.
const PACMAN_CASES: &[(&str, Ordering, &str)] = &[
    // vercmp(8): 1.0a < 1.0b < 1.0beta < 1.0p < 1.0pre < 1.0rc < 1.0 < 1.0.a < 1.0.1
    ("1.0a", Less, "1.0b"),
    ("1.0b", Less, "1.0beta"),
    ("1.0beta", Less, "1.0p"),
    ("1.0p", Less, "1.0pre"),
    ("1.0pre", Less, "1.0rc"),
    ("1.0rc", Less, "1.0"),
    ("1.0", Less, "1.0.a"),
    ("1.0.a", Less, "1.0.1"),
    // vercmp(8): 1 < 1.0 < 1.1 < 1.1.1 < 1.2 < 2.0 < 3.0.0
    ("1", Less, "1.0"),
    ("1.0", Less, "1.1"),
    ("1.1", Less, "1.1.1"),
    ("1.1.1", Less, "1.2"),
    ("1.2", Less, "2.0"),
    ("2.0", Less, "3.0.0"),
    // epochs: a missing one is 0, an epoch wins over everything after it
    ("1:1.0-1", Greater, "2.0-1"),
    ("1:1.0", Greater, "1.0"),
    ("0:1.0", Equal, "1.0"),
    ("1:24.1.2-1", Greater, "24.2.0-1"),
    ("2:1.22.5-1", Greater, "2:1.22.4-1"),
    ("1:3.3.0-1", Greater, "1:3.2.1-1"),
    ("1:1.3.1-1", Greater, "1:1.3-5"),
    // pkgrel: compared only when both have one; rebuilds with a minor pkgrel
    ("2.0-1", Less, "2.0-2"),
    ("1.0", Equal, "1.0-1"),
    ("1.0-1", Equal, "1.0"),
    ("1:1.79.0-1", Less, "1:1.79.0-2"),
    ("1.2.3-1.1", Greater, "1.2.3-1"),
    ("1.2.3-2", Greater, "1.2.3-1.1"),
    ("1.2.3-1", Equal, "1.2.3-1"),
    ("1.0-1-2", Greater, "1.0-1-1"),
    // kernels
    ("6.9.7.arch1-1", Less, "6.9.8.arch1-1"),
    ("6.6.9.arch1-1", Less, "6.6.10.arch1-1"),
    ("6.7.arch1-1", Greater, "6.6.10.arch1-1"),
    ("6.7.arch3-1", Greater, "6.7.arch2-1"),
    ("6.7.1.arch1-1", Greater, "6.7.arch3-1"),
    ("6.6.36-1", Less, "6.6.37-1"),
    // everyday upgrades
    ("127.0.2-1", Less, "128.0-1"),
    ("3.12.4-1", Greater, "3.11.9-1"),
    ("256.1-1", Greater, "255.7-1"),
    ("256-1", Less, "256.1-1"),
    ("256-1", Greater, "256rc3-1"),
    ("9.8p1-1", Greater, "9.7p1-2"),
    ("9.7p1-1", Less, "9.7p1-2"),
    ("2.4.5-4", Less, "2.4.6-1"),
    ("5.6.1-3", Less, "5.6.2-1"),
    ("3.101-1", Less, "3.101.1-1"),
    ("555.58.02-1", Greater, "555.58-1"),
    ("7.1.1.27-1", Less, "7.1.1.35-1"),
    ("0.9.1-1", Less, "0.10.0-1"),
    ("8.9.0-1", Greater, "8.8.0-1"),
    ("2.3.0beta1-1", Less, "2.3.0-1"),
    ("2.3.0rc1-1", Greater, "2.3.0beta1-1"),
    // numbers: leading zeros ignored, more digits win
    ("5.2.026-2", Less, "5.2.032-1"),
    ("5.2.037-1", Greater, "5.2.032-1"),
    ("9.1.0785-1", Greater, "9.1.0707-1"),
    ("1.001", Equal, "1.1"),
    ("20240101-1", Greater, "20231231-1"),
    ("2024a-1", Less, "2024b-1"),
    ("2023d-1", Less, "2024a-1"),
    // git snapshots (glibc) and VCS packages
    ("2.39+r52+gf8e4623421-1", Less, "2.40+r16+gaa533d58ff-2"),
    ("2.39+r52+gf8e4623421-1", Greater, "2.39-1"),
    ("r1234.abc1234-1", Greater, "r999.def5678-1"),
    ("1.0.0.r15.g1234567-1", Greater, "1.0.0-1"),
    ("1.0.0.r15.g1234567-1", Less, "1.0.1-1"),
    // pacman's own rules for separators: their number counts, their kind does not
    ("1..0", Greater, "1.0"),
    ("1.0", Equal, "1_0"),
    ("1.0~rc1", Greater, "1.0"),
    ("1.0^1", Greater, "1.0"),
    ("1.0", Less, "1.0.0"),
    ("1.0", Greater, "1"),
    ("a", Less, "b"),
];

/// Versions makepkg refuses, with the reason.
const PACMAN_INVALID: &[(&str, &str)] = &[
    ("", "version string is empty"),
    (":1.0-1", "epoch is not a number"),
    ("a:1.0-1", "epoch is not a number"),
    ("1:-1", "pkgver is empty"),
    ("-1", "pkgver is empty"),
    (
        "1:2:3-1",
        "pkgver may not contain colons, slashes, hyphens or whitespace",
    ),
    (
        "1 0-1",
        "pkgver may not contain colons, slashes, hyphens or whitespace",
    ),
    (
        "1/0-1",
        "pkgver may not contain colons, slashes, hyphens or whitespace",
    ),
    (
        "1-0-1",
        "pkgver may not contain colons, slashes, hyphens or whitespace",
    ),
    ("1.0é-1", "pkgver may only contain printable ASCII"),
    (
        "1.0-",
        "pkgrel must be a number, or two numbers joined by a dot",
    ),
    (
        "1.0-1a",
        "pkgrel must be a number, or two numbers joined by a dot",
    ),
    (
        "1.0-1.2.3",
        "pkgrel must be a number, or two numbers joined by a dot",
    ),
];

#[test]
fn pacman_table_orders_as_expected_both_ways() {
    assert!(PACMAN_CASES.len() >= 40);
    for &(a, expected, b) in PACMAN_CASES {
        assert_eq!(compare(a, b), expected, "{a} vs {b}");
        assert_eq!(compare(b, a), expected.reverse(), "{b} vs {a}");
        assert_eq!(crate::compare("pacman", a, b), Ok(expected), "{a} vs {b}");
    }
}

#[test]
fn real_versions_validate() {
    for v in [
        "1:1.0-1",
        "6.9.7.arch1-1",
        "2.39+r52+gf8e4623421-1",
        "1.2.3-1.1",
        "r1234.abc1234-1",
        "2024a-1",
        "3.0.2",
    ] {
        assert_eq!(validate(v), Ok(()), "{v}");
    }
}

#[test]
fn invalid_versions_are_refused_with_makepkg_reason() {
    for &(version, reason) in PACMAN_INVALID {
        assert_eq!(
            validate(version),
            Err(crate::Error::Invalid {
                version: version.into(),
                reason: reason.into()
            }),
            "{version:?}"
        );
        assert!(crate::validate("pacman", version).is_err());
    }
}

#[test]
fn split_follows_parse_evr() {
    let evr = |epoch, version, release| Evr {
        epoch,
        version,
        release,
    };
    assert_eq!(split("1:2.3-4"), evr(Some("1"), "2.3", Some("4")));
    assert_eq!(split("2.3-4"), evr(None, "2.3", Some("4")));
    assert_eq!(split("2.3"), evr(None, "2.3", None));
    assert_eq!(split(":2.3"), evr(Some(""), "2.3", None));
    assert_eq!(split("1-2-3"), evr(None, "1-2", Some("3")));
    assert_eq!(split("1-:2"), evr(None, "1", Some(":2")));
    assert_eq!(split("1:"), evr(Some("1"), "", None));
}

#[test]
fn a_nul_byte_ends_the_version() {
    assert_eq!(compare("1.0\0junk", "1.0"), Equal);
}

/// Returns `vercmp`'s answer, or `None` when it is not installed.
fn vercmp(a: &str, b: &str) -> Option<Ordering> {
    let out = Command::new("vercmp").args([a, b]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let n: i32 = text.trim().parse().ok()?;
    Some(n.cmp(&0))
}

fn vercmp_available() -> bool {
    if vercmp("1", "2").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
        "vercmp not found: required where WARD_REQUIRE_TOOLS is set (CI); it is in Debian's \
         pacman-package-manager package"
    );
    eprintln!("vercmp not found (Debian package pacman-package-manager): not cross-checked");
    false
}

#[test]
fn pacman_table_agrees_with_vercmp() {
    if !vercmp_available() {
        return;
    }
    for &(a, expected, b) in PACMAN_CASES {
        assert_eq!(
            vercmp(a, b),
            Some(expected),
            "vercmp disagrees: {a} {expected:?} {b}"
        );
    }
}

/// Generated versions from a small alphabet that reaches every branch (separators of
/// several lengths, letters against digits, leading zeros, epochs, pkgrels), compared by
/// this module and by `vercmp`. Deterministic: a fixed-seed xorshift generator.
#[test]
fn generated_versions_agree_with_vercmp() {
    if !vercmp_available() {
        return;
    }
    const ALPHABET: &[u8] = b"0012389abz..._-+~:";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut version = || {
        let len = 1 + (next() % 8) as usize;
        (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize] as char)
            .collect::<String>()
    };
    for _ in 0..1000 {
        let (a, b) = (version(), version());
        // vercmp reads arguments starting with '-' as options.
        if a.starts_with('-') || b.starts_with('-') {
            continue;
        }
        assert_eq!(Some(compare(&a, &b)), vercmp(&a, &b), "{a:?} vs {b:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn antisymmetric_on_any_strings(a in ".{0,12}", b in ".{0,12}") {
        prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
        prop_assert_eq!(compare(&a, &a), Equal);
        let _ = validate(&a);
        let _ = split(&a);
    }

    #[test]
    fn antisymmetric_on_version_like_strings(
        a in "([0-9]:)?[0-9a-z]{1,3}([._+~][0-9a-z]{1,3}){0,3}(-[0-9](\\.[0-9])?)?",
        b in "([0-9]:)?[0-9a-z]{1,3}([._+~][0-9a-z]{1,3}){0,3}(-[0-9](\\.[0-9])?)?",
    ) {
        prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
    }
}
