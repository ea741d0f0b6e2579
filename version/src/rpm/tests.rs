use std::cmp::Ordering::{self, Equal, Greater, Less};
use std::process::Command;

use proptest::prelude::*;

use super::{Evr, parse, rpmvercmp};
use crate::{Error, compare, is_below, validate};

/// Real RPM ordering cases: (a, expected ordering of a against b, b), as full EVRs the
/// way `rpm -q --qf '%{EVR}'` prints them. Most come from Fedora, RHEL (and its rebuilds)
/// and SUSE updates; each row is checked against the machine's own rpm when it has one.
const RPM_CASES: &[(&str, Ordering, &str)] = &[
    // epochs: missing is 0, compared numerically, win over everything else
    ("1:1.0-1", Greater, "2.0-1"),
    ("0:1.0-1", Equal, "1.0-1"),
    ("2:8.2.2637-20.el9_1", Greater, "1:9.0.1378-2.el9"),
    ("01:1.0", Equal, "1:1.0"),
    (":1.0", Equal, "0:1.0"),
    ("4294967296:1", Greater, "4294967295:1"),
    ("1:1.0", Greater, "1.0-5"),
    // tilde: pre-releases sort before the release, even before its end
    ("1.0~rc1", Less, "1.0"),
    ("1.0~rc1", Less, "1.0~rc2"),
    ("1.0~~", Less, "1.0~"),
    ("1.0~", Less, "1.0"),
    ("2.40.0~rc0-1.fc39", Less, "2.40.0-1.fc39"),
    ("1.0~rc1-1", Less, "1.0-0"),
    // caret: snapshots sort after the base version, before the next one
    ("1.0^git1", Greater, "1.0"),
    ("1.0^git1", Less, "1.0.1"),
    ("1.0^git1", Less, "1.01"),
    ("1.0^", Greater, "1.0"),
    ("1.0^^", Greater, "1.0^"),
    ("1.0~rc1^git1", Less, "1.0~rc1.1"),
    ("1.0~rc1^git1", Greater, "1.0~rc1"),
    ("0^20230101git1234abc-1.fc39", Less, "0.1-1.fc39"),
    ("1.0^20230101", Greater, "1.0~20230101"),
    // releases (RHEL z-stream, Fedora, modules, SUSE)
    ("5.14.0-362.8.1.el9_3", Less, "5.14.0-362.13.1.el9_3"),
    ("5.14.0-284.11.1.el9_2", Less, "5.14.0-362.8.1.el9_3"),
    ("1:3.0.7-24.el9", Less, "1:3.0.7-25.el9_3"),
    ("1:1.1.1k-9.el8_7", Less, "1:1.1.1k-12.el8_9"),
    ("2.34-83.el9_3.7", Greater, "2.34-83.el9_3"),
    ("2.28-225.el8", Less, "2.28-236.el8_9.7"),
    ("1.0-1.el9", Less, "1.0-1.el9_3"),
    ("3.9.18-1.el9_3", Greater, "3.9.16-1.el9_2.2"),
    ("6.5.6-300.fc39", Greater, "6.5.5-300.fc39"),
    ("1.2.3-1.fc38", Less, "1.2.3-1.fc39"),
    (
        "8.0.30-1.module+el8.9.0+20000+abcd1234",
        Less,
        "8.0.32-1.module+el8.9.0+20001+abcd1234",
    ),
    ("1.1.1l-150400.7.60.2", Less, "1.1.1w-150400.7.65.1"),
    ("5.14.21-150500.55.39.1", Less, "5.14.21-150500.55.44.1"),
    ("1.0-1", Less, "1.0-1.1"),
    ("1.0-1", Equal, "1.0-01"),
    // a missing release sorts before any release (rpmverCmp), a tilde one included
    ("1.0", Less, "1.0-1"),
    ("1.0", Less, "1.0-~1"),
    // letters, numbers and separators
    ("1.0a", Greater, "1.0"),
    ("1.0a", Less, "1.0.1"),
    ("1.0rc1", Greater, "1.0"),
    ("1.a", Less, "1.1"),
    ("1.a", Equal, "1a"),
    ("1.0", Equal, "1_0"),
    ("1.0", Equal, "1..0"),
    (".1", Equal, "1"),
    ("1.010", Equal, "1.10"),
    ("1.0.0", Greater, "1.0"),
    ("2.0", Less, "10"),
    ("20240101", Greater, "2023.1"),
    ("18446744073709551616", Greater, "18446744073709551615"),
    ("a", Less, "b"),
    ("abc", Less, "abd"),
    ("ALPHA", Less, "alpha"),
    ("1.0é", Equal, "1.0"),
    // a leading non-digit means no epoch: the colon is a separator of the version
    ("a:1", Less, "1"),
];

/// Versions refused, with the reason.
const RPM_INVALID: &[(&str, &str)] = &[
    ("", "version string is empty"),
    (" ", "version string has whitespace"),
    ("1.0 -1", "version string has whitespace"),
    ("1.0\t", "version string has whitespace"),
    ("1.0\u{1}", "version string has a control character"),
    ("1.0\0", "version string has a control character"),
];

#[test]
fn rpm_table_orders_as_expected_both_ways() {
    for &(a, expected, b) in RPM_CASES {
        assert_eq!(compare("rpm", a, b), Ok(expected), "{a} vs {b}");
        assert_eq!(compare("rpm", b, a), Ok(expected.reverse()), "{b} vs {a}");
        assert_eq!(is_below("rpm", a, b), Ok(expected == Less), "{a} below {b}");
        assert_eq!(validate("rpm", a), Ok(()), "{a}");
    }
}

#[test]
fn invalid_rpm_versions_are_refused_with_the_reason() {
    for &(version, reason) in RPM_INVALID {
        let expected = Error::Invalid {
            version: version.into(),
            reason: reason.into(),
        };
        assert_eq!(validate("rpm", version), Err(expected.clone()));
        assert_eq!(compare("rpm", "1.0", version), Err(expected.clone()));
        assert_eq!(compare("rpm", version, "1.0"), Err(expected));
    }
}

#[test]
fn evr_splits_as_rpm_does_and_prints_back() {
    let cases = [
        ("1.0", None, "1.0", None),
        ("2:1.0-3", Some("2"), "1.0", Some("3")),
        (":1.0", Some("0"), "1.0", None),
        ("1.0-1-2", None, "1.0-1", Some("2")),
        ("a:1-2", None, "a:1", Some("2")),
        ("1:", Some("1"), "", None),
        ("-1", None, "", Some("1")),
    ];
    for (text, epoch, version, release) in cases {
        let evr = parse(text).unwrap();
        assert_eq!(evr.epoch.as_deref(), epoch, "{text}");
        assert_eq!(evr.version, version, "{text}");
        assert_eq!(evr.release.as_deref(), release, "{text}");
    }
    assert_eq!(parse("2:1.0-3").unwrap().to_string(), "2:1.0-3");
    assert_eq!(Evr::from_parts("", "1.0", "3").to_string(), "1.0-3");
    assert_eq!(Evr::from_parts("1", "1.0", "").to_string(), "1:1.0");
    assert_eq!(
        Evr::from_parts("0", "1.0", "3"),
        parse("1.0-3").unwrap(),
        "epoch 0 equals no epoch"
    );
}

fn rpm_available() -> bool {
    Command::new("rpm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Returns `rpm.vercmp(a, b)` for each pair, from one `rpm --eval` of a Lua script. The
/// strings must not hold `'`, `\`, `%`, `{` or `}`.
fn rpm_vercmp(pairs: &[(&str, &str)]) -> Vec<Ordering> {
    let mut script = String::from("%{lua: for _, p in ipairs({");
    for (a, b) in pairs {
        for s in [a, b] {
            assert!(!s.contains(['\'', '\\', '%', '{', '}']), "{s:?}");
        }
        script.push_str(&format!("{{'{a}','{b}'}},"));
    }
    script.push_str("}) do print(rpm.vercmp(p[1], p[2]) .. ',') end}");
    let out = Command::new("rpm")
        .args(["--eval", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rpm --eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let results: Vec<Ordering> = text
        .trim()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i32>().unwrap().cmp(&0))
        .collect();
    assert_eq!(results.len(), pairs.len(), "rpm printed {text:?}");
    results
}

/// Skips (or, where WARD_REQUIRE_TOOLS is set, fails) when rpm is not installed.
fn require_rpm() -> bool {
    if rpm_available() {
        return true;
    }
    assert!(
        std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
        "rpm not found: required where WARD_REQUIRE_TOOLS is set (CI)"
    );
    eprintln!("rpm not found: rpm ordering not cross-checked");
    false
}

#[test]
fn rpm_table_agrees_with_rpm() {
    if !require_rpm() {
        return;
    }
    let mut pairs = Vec::new();
    for &(a, _, b) in RPM_CASES {
        pairs.push((a, b));
        pairs.push((b, a));
    }
    let got = rpm_vercmp(&pairs);
    for (i, &(a, expected, b)) in RPM_CASES.iter().enumerate() {
        assert_eq!(got[2 * i], expected, "rpm disagrees: {a} {expected:?} {b}");
        assert_eq!(
            got[2 * i + 1],
            expected.reverse(),
            "rpm disagrees: {b} vs {a}"
        );
    }
}

/// Versions drawn from the characters that matter (digits, letters, separators, `~`,
/// `^`, `:` and `-`) by a fixed generator, compared here and by rpm.
#[test]
fn generated_versions_agree_with_rpm() {
    if !require_rpm() {
        return;
    }
    const ALPHABET: &[u8] = b"0019aZz.._~^:-";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut strings = Vec::new();
    for _ in 0..1200 {
        let len = 1 + (next() % 7) as usize;
        let s: String = (0..len)
            .map(|_| char::from(ALPHABET[(next() % ALPHABET.len() as u64) as usize]))
            .collect();
        strings.push(s);
    }
    let pairs: Vec<(&str, &str)> = strings
        .chunks(2)
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .collect();
    let got = rpm_vercmp(&pairs);
    for (&(a, b), rpm) in pairs.iter().zip(got) {
        assert_eq!(compare("rpm", a, b), Ok(rpm), "{a:?} vs {b:?}");
    }
}

proptest! {
    #[test]
    fn validate_and_compare_never_panic(a in any::<String>(), b in any::<String>()) {
        let _ = validate("rpm", &a);
        let _ = compare("rpm", &a, &b);
        let _ = rpmvercmp(&a, &b);
    }

    #[test]
    fn compare_is_antisymmetric(a in "[0-9a-zA-Z.~^:_+-]{0,12}", b in "[0-9a-zA-Z.~^:_+-]{0,12}") {
        prop_assert_eq!(rpmvercmp(&a, &b), rpmvercmp(&b, &a).reverse());
        if let (Ok(x), Ok(y)) = (compare("rpm", &a, &b), compare("rpm", &b, &a)) {
            prop_assert_eq!(x, y.reverse());
        }
        prop_assert_eq!(rpmvercmp(&a, &a), Equal);
    }

    #[test]
    fn compare_is_transitive(
        a in "[01a.~^:-]{1,6}",
        b in "[01a.~^:-]{1,6}",
        c in "[01a.~^:-]{1,6}",
    ) {
        let (x, y, z) = (parse(&a).unwrap(), parse(&b).unwrap(), parse(&c).unwrap());
        let mut sorted = [x, y, z];
        sorted.sort();
        prop_assert!(sorted[0] <= sorted[1] && sorted[1] <= sorted[2]);
        prop_assert!(sorted[0] <= sorted[2]);
    }

    #[test]
    fn printed_evr_parses_back_equal(
        epoch in "[0-9]{0,3}",
        version in "[0-9a-z.~^]{1,8}",
        release in "[0-9a-z.~^]{0,8}",
    ) {
        let evr = Evr::from_parts(&epoch, &version, &release);
        prop_assert_eq!(parse(&evr.to_string()).unwrap(), evr);
    }
}
