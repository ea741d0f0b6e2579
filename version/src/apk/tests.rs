use std::cmp::Ordering::{self, Equal, Greater, Less};

use proptest::prelude::*;

use super::{compare, revision, validate};
use crate::Error;

/// Cases from apk-tools' own test suite, `test/unit/version.data` (apk-tools 3; the
/// comparisons up to `6.1_p1 > 6.1` are also in apk-tools 2's `test/version.data`):
/// `a op b` lines, a selection of the comparisons in the file's own order and words. apk
/// itself is not packaged for Debian, so apk's answers come from its tests, not from a run.
const APK_TEST_DATA: &str = "\
2.34 > 0.1.0_alpha
23_foo > 4_beta
1.0 < 1.0bc
0.1.0_alpha = 0.1.0_alpha
0.1.0_alpha < 0.1.3_alpha
0.1.0_alpha2 > 0.1.0_alpha
0.1.0_alpha < 2.2.39-r1
2.2.39-r1 > 1.0.4-r3
1.0.4-r3 < 1.0.4-r4
1.1 > 1.1_alpha1
1.2.1 > 1.2
1.2 < 1.3_alpha
1.3_alpha < 1.3_alpha2
0.7.0 < 0.8_beta1
0.8_beta1 < 0.8_beta2
3.10.18-r1 > 2.3.0b-r1
2.3.0b-r1 < 2.3.0b-r2
2.3.0b-r4 > 0.12.1
0.12.3 > 0.12
0.12 < 0.13_beta1
1.2.11 < 1.2.12.1
0.2.0-r1 = 0.2.0-r1
0.2.0-r1 < 3.1_p16
3.1_p16 < 3.1_p17
1.06-r6 < 006
006 > 1.0.0
1.2.2-r1 > 1.2.2
9.3.4-r2 > 9.3.4
2.59 < 20050718-r1
3.9.8-r5 > 2.01.01_alpha10
2.01.01_alpha10 > 0.94
1.0 > 0.99.3.20040818
1.39 > 1.00_beta2
4.2.52_p2-r1 < 4.2.52_p4-r2
1.02.07 < 1.02.10-r1
2.18.3-r10 > 1.05-r18
1.05-r18 < 1.05-r19
2.8 < 2.20.1
20060720 > 3.0.20060720
1.4.4-r1 < 2.1.9.200602141850
2.5.1-r8 < 2.5.1a-r1
1.3.5-r10 > 1.3.5-r8
20040401 > 2.0.0_rc3-r1
3.0.0-r2 < 021109-r3
021109-r3 < 20060512
0.9.16-r1 < 3.9_pre20060124
1.1.7 < 6b-r7
0.10.0-r1 > 0.10.0
0.10.0 < 0.10.1_rc1
1.1a < 1.3a
1.0-r1 > 0.15.1b
0.15.1b-r2 > 0.15.1b
22.7-r1 < 22.7.3-r1
22.7.3-r1 > 22.7
22.7 > 2.1_pre20
2.1_pre20 < 2.1_pre26
2.10.1 > 02.08.01b
1.2.07.8 < 1.2.12.04
1.2.12.04 < 1.2.12.05
3.81 > 1.6d
1.07-r1 < 1.07.5
20061003 > 0.1_pre20060810
0.1_pre20060810 < 0.1_pre20060817
3.3.17 > 0.59s-r11
0.20070118 < 0.20070207_rc1
0.20070207_rc1 < 1.0
2.3.30-r2 < 3.7_p1
4.3_p2-r5 < 4.4_p1-r6
4.5_p1-r1 > 4.5_p1
0.9.8c-r1 < 0.9.8d
2.2.3-r2 < 013
013 < 014-r1
1.7 < 1.7b
1.8.5 < 1.8.5_p2
2.9.11_pre20051101-r3 > 2.9.11_pre20051101
2.9.11_pre20051101 < 2.9.11_pre20061021-r1
2.6.1.3-r1 > 2.6.1.3
1.6.8_p12-r1 > 1.6.8_p9-r2
0.9.28.1 < 087-r1
104-r11 > 104-r9
20040406-r1 > 2.12r-r4
2.12r-r4 < 2.12r-r5
7.0.17 < 7.0.174
1.1.1-r3 > 0.3.4_pre20061029
1.3-r0 < 1.3.1-r0
1.3_pre1-r1 < 1.3.2
1.0_p10-r0 > 1.0_p9-r0
0.1.0_alpha_pre2 < 0.1.0_alpha
1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
6.0_pre1 < 6.0
6.1_pre1 < 6.1
6.0_p1 > 6.0
6.1_p1 > 6.1
8.2.0 < 8.2.001
8.2.0015 < 8.2.002
1.0~1234 < 1.0~2345
1.0~1234-r1 < 1.0~2345-r0
1.0~1234-r1 > 1.0~1234-r0
";

/// The validity lines of the same file: a version, or `!` and a version apk refuses.
const APK_TEST_VALIDITY: &str = "\
1.2
0.1_pre2
0.1_pre2~1234abcd
0.1_p1_pre2
0.1_alpha1_pre2
0.1_git20240101_pre1
!
!0.1bc
!0.1bc1
!0.1a1
!0.1a.1
!0.1_pre2~
!0.1_pre2~1234xbcd
!0.1_pre2~1234abcd_pre1
!0.1_pre2-r1~1234xbcd
!0.1_foobar
!0.1_foobar1
!0.1-pre1.1
!0.1-r
!0.1-r2_pre1
!0.1-r2_p3_pre1
!0.1-r2-r3
!0.1-r2.1
!.1
!a
!_pre1
!-r1
!0.1_
!0.1_-r0
!0.1__alpha
!0.1_1_alpha
";

fn op(ordering: &str) -> Ordering {
    match ordering {
        "<" => Less,
        "=" => Equal,
        ">" => Greater,
        other => panic!("unknown operator {other:?}"),
    }
}

#[test]
fn apk_test_suite_comparisons_hold_both_ways() {
    let mut count = 0;
    for line in APK_TEST_DATA.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [a, ordering, b] = words[..] else {
            panic!("bad line {line:?}");
        };
        let expected = op(ordering);
        assert_eq!(compare(a, b), expected, "{a} {ordering} {b}");
        assert_eq!(compare(b, a), expected.reverse(), "{b} vs {a}");
        assert_eq!(
            crate::compare("apk", a, b),
            Ok(expected),
            "{a} {ordering} {b}"
        );
        count += 1;
    }
    assert!(count >= 90, "{count}");
}

#[test]
fn apk_test_suite_validity_matches() {
    for line in APK_TEST_VALIDITY.lines() {
        match line.strip_prefix('!') {
            Some(version) => assert!(validate(version).is_err(), "{version:?} accepted"),
            None => assert_eq!(validate(line), Ok(()), "{line:?}"),
        }
    }
}

#[test]
fn real_alpine_versions_are_valid_and_ordered() {
    // Alpine 3.20 and edge package versions.
    let ordered = [
        "1.2.4_git20230717-r4",
        "1.2.5-r0",
        "1.2.5-r1",
        "1.36.1-r29",
        "3.3.0-r2",
        "3.3.1-r0",
        "6.6.31-r0",
        "6.6.32-r0",
        "20240226-r0",
        "20240705-r0",
    ];
    for v in ordered {
        assert_eq!(validate(v), Ok(()), "{v}");
    }
    for pair in ordered.windows(2) {
        assert_eq!(compare(pair[0], pair[1]), Less, "{} < {}", pair[0], pair[1]);
    }
}

#[test]
fn invalid_versions_sort_as_apk_sorts_them() {
    // Equal up to the point where both become invalid.
    assert_eq!(compare("1.0bc", "1.0bd"), Equal);
    // Invalid from the start sorts below anything valid, and equal to any invalid.
    assert_eq!(compare("", "0"), Less);
    assert_eq!(compare("x", ""), Equal);
    // An invalid tail sorts below a valid continuation and above the end.
    assert_eq!(compare("1.0bc", "1.0.1"), Less);
    assert_eq!(compare("1.0bc", "1.0"), Greater);
}

#[test]
fn numbers_wrap_in_64_bits_like_apk() {
    // 2^64 wraps to 0, so it sorts below 1, as apk sorts it.
    assert_eq!(compare("18446744073709551616", "1"), Less);
    assert_eq!(compare("18446744073709551615", "1"), Greater);
}

#[test]
fn errors_name_the_version_and_where_it_stops_parsing() {
    let err = validate("1.0-x1").unwrap_err();
    let Error::Invalid { version, reason } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(version, "1.0-x1");
    assert!(
        reason.contains("byte 3") && reason.contains("\"-x1\""),
        "{reason}"
    );
    assert_eq!(
        validate("").unwrap_err().to_string(),
        "invalid version \"\": version string is empty"
    );
}

#[test]
fn revision_is_the_number_after_dash_r() {
    assert_eq!(revision("1.2.3-r4"), Some("4"));
    assert_eq!(revision("1.36.1-r29"), Some("29"));
    assert_eq!(revision("1.2.3"), None);
    assert_eq!(revision("1.2.3-r"), None);
    assert_eq!(revision("1.2.3-rx"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn antisymmetric_on_any_strings(a in ".{0,12}", b in ".{0,12}") {
        prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
        prop_assert_eq!(compare(&a, &a), Equal);
        let _ = validate(&a);
    }

    #[test]
    fn antisymmetric_on_version_like_strings(
        a in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}[a-c]?(_(alpha|beta|pre|rc|p|git|x)[0-9]{0,2}){0,2}(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?",
        b in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}[a-c]?(_(alpha|beta|pre|rc|p|git|x)[0-9]{0,2}){0,2}(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?",
    ) {
        prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
    }

    #[test]
    fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = compare(&s, "1.0-r0");
        let _ = validate(&s);
        let _ = revision(&s);
    }
}
