//! Debian versions, ordered exactly as dpkg orders them (epochs, `~` sorting before
//! everything, revisions split at the last hyphen), through the `debversion` crate; the
//! syntax checks mirror dpkg's `parseversion`, so a version dpkg refuses is refused here
//! with the same reason.

use crate::{Error, invalid};

/// Parses a Debian version with dpkg's rules (`lib/dpkg/parsehelp.c: parseversion`).
///
/// Where dpkg only warns (an upstream part not starting with a digit, characters outside
/// policy such as `_`) the version is accepted and compared as dpkg compares it, because
/// such versions exist in real archives. Two deliberate differences: non-ASCII and control
/// characters are refused (dpkg compares their bytes with a signedness-dependent order),
/// and the epoch must be plain digits (dpkg's `strtol` also takes a sign).
pub fn parse(text: &str) -> Result<debversion::Version, Error> {
    // dpkg ignores surrounding whitespace.
    let version = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if version.is_empty() {
        return Err(invalid(text, "version string is empty"));
    }
    if version.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(invalid(text, "version string has embedded spaces"));
    }
    if !version.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(
            text,
            "version string has a non-ASCII or control character",
        ));
    }
    let (epoch, rest) = match version.split_once(':') {
        Some((epoch, rest)) => {
            if epoch.is_empty() {
                return Err(invalid(text, "epoch in version is empty"));
            }
            if !epoch.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(text, "epoch in version is not a number"));
            }
            // dpkg stores the epoch in an int.
            let epoch = epoch
                .parse::<u32>()
                .ok()
                .filter(|e| i32::try_from(*e).is_ok())
                .ok_or_else(|| invalid(text, "epoch in version is too big"))?;
            if rest.is_empty() {
                return Err(invalid(text, "nothing after colon in version number"));
            }
            (Some(epoch), rest)
        }
        None => (None, version),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return Err(invalid(text, "revision number is empty")),
        Some((upstream, revision)) => (upstream, Some(revision.to_string())),
        None => (rest, None),
    };
    if upstream.is_empty() {
        return Err(invalid(text, "version number is empty"));
    }
    Ok(debversion::Version {
        epoch,
        upstream_version: upstream.to_string(),
        debian_revision: revision,
    })
}

#[cfg(test)]
mod tests {
    use crate::{Error, compare, is_below, validate};
    use std::cmp::Ordering::{self, Equal, Greater, Less};
    use std::process::Command;

    /// Real Debian ordering cases: (a, expected ordering of a against b, b). Most come from
    /// Debian 12 package versions and security updates; each row is checked against the
    /// machine's own dpkg when it has one.
    const DEB_CASES: &[(&str, Ordering, &str)] = &[
        // epochs
        ("1:1.0", Greater, "2.0"),
        ("0:1.0", Equal, "1.0"),
        ("1:2.36-9", Greater, "2.37-1"),
        ("2:8.2.3995-1", Greater, "1:9.0.1378-2"),
        ("2147483647:1", Greater, "1:1"),
        // tildes sort before everything, even the end of the string
        ("1.0~rc1", Less, "1.0"),
        ("1.0~~", Less, "1.0~"),
        ("1.0~~a", Less, "1.0~"),
        ("1.0~", Less, "1.0"),
        ("1.0~rc1", Less, "1.0~rc2"),
        ("1.0~beta", Less, "1.0~rc"),
        // revisions
        ("1.0-1", Less, "1.0-1+deb12u1"),
        ("2.36-9+deb12u4", Less, "2.36-9+deb12u7"),
        ("3.0.11-1~deb12u2", Less, "3.0.13-1~deb12u1"),
        ("3.0.11-1~deb12u2", Less, "3.0.11-1"),
        ("1.0-0", Equal, "1.0"),
        ("1.0-1", Less, "1.0-2"),
        ("1.0-9", Less, "1.0-10"),
        ("2.0.37-1-2", Greater, "2.0.37-1-1"),
        ("252.22-1~deb12u1", Less, "252.26-1~deb12u2"),
        ("6.1.76-1", Less, "6.1.90-1"),
        ("1:9.18.24-1", Less, "1:9.18.28-1~deb12u2"),
        ("7.88.1-10+deb12u5", Less, "7.88.1-10+deb12u8"),
        ("1.22.1-9+deb12u1", Greater, "1.22.1-9"),
        // letters sort after the end of a part, other characters after letters
        ("1.0a", Greater, "1.0"),
        ("1.0a", Less, "1.0b"),
        ("1.0+dfsg", Greater, "1.0a"),
        ("1.2.3+dfsg-1", Greater, "1.2.3-1"),
        ("1.2.3+dfsg1-1", Greater, "1.2.3+dfsg-1"),
        ("1.0+b1", Greater, "1.0"),
        ("1.0", Less, "1.0.0"),
        ("1.0", Less, "1.0+"),
        // numbers compare numerically, leading zeros are ignored
        ("1.10", Greater, "1.9"),
        ("1.010", Equal, "1.10"),
        ("1.0010", Equal, "1.10"),
        ("18446744073709551616", Greater, "18446744073709551615"),
        ("20230311", Greater, "2022.1"),
        // odd but accepted by dpkg (with a warning)
        ("1.0_1", Greater, "1.0"),
        ("a1.0", Greater, "1.0"),
        // surrounding whitespace is ignored
        (" 1.0", Equal, "1.0"),
    ];

    /// Versions dpkg refuses, with the reason; the flag says whether the row can be given
    /// to dpkg (a leading hyphen reads as an option).
    const DEB_INVALID: &[(&str, &str, bool)] = &[
        ("", "version string is empty", false),
        ("   ", "version string is empty", false),
        ("1 0", "version string has embedded spaces", true),
        ("1.0-", "revision number is empty", true),
        (":1.0", "epoch in version is empty", true),
        ("a:1.0", "epoch in version is not a number", true),
        ("1:", "nothing after colon in version number", true),
        ("2147483648:1", "epoch in version is too big", true),
        (
            "99999999999999999999:1",
            "epoch in version is too big",
            true,
        ),
        ("1:-1", "version number is empty", true),
        ("-1", "version number is empty", false),
        (
            "1.0é",
            "version string has a non-ASCII or control character",
            false,
        ),
        (
            "1.0\u{7}",
            "version string has a non-ASCII or control character",
            false,
        ),
    ];

    #[test]
    fn deb_table_orders_as_expected_both_ways() {
        for &(a, expected, b) in DEB_CASES {
            assert_eq!(compare("deb", a, b), Ok(expected), "{a} vs {b}");
            assert_eq!(compare("deb", b, a), Ok(expected.reverse()), "{b} vs {a}");
            assert_eq!(is_below("deb", a, b), Ok(expected == Less), "{a} below {b}");
        }
    }

    #[test]
    fn invalid_deb_versions_are_refused_with_dpkg_reason() {
        for &(version, reason, _) in DEB_INVALID {
            let expected = Error::Invalid {
                version: version.into(),
                reason: reason.into(),
            };
            assert_eq!(
                validate("deb", version),
                Err(expected.clone()),
                "{version:?}"
            );
            assert_eq!(compare("deb", "1.0", version), Err(expected.clone()));
            assert_eq!(compare("deb", version, "1.0"), Err(expected));
        }
    }

    #[test]
    fn error_messages_name_the_version() {
        let err = validate("deb", "1.0-").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid version \"1.0-\": revision number is empty"
        );
    }

    fn dpkg_available() -> bool {
        Command::new("dpkg")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs `dpkg --compare-versions a op b` and returns its exit code.
    fn dpkg_compare(a: &str, op: &str, b: &str) -> i32 {
        let status = Command::new("dpkg")
            .args(["--compare-versions", a, op, b])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        status.code().unwrap()
    }

    fn dpkg_op(ordering: Ordering) -> &'static str {
        match ordering {
            Less => "lt",
            Equal => "eq",
            Greater => "gt",
        }
    }

    #[test]
    fn deb_table_agrees_with_dpkg() {
        if !dpkg_available() {
            assert!(
                std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
                "dpkg not found: required where WARD_REQUIRE_TOOLS is set (CI)"
            );
            eprintln!("dpkg not found: table not cross-checked");
            return;
        }
        for &(a, expected, b) in DEB_CASES {
            assert_eq!(
                dpkg_compare(a, dpkg_op(expected), b),
                0,
                "dpkg disagrees: {a} {expected:?} {b}"
            );
        }
        for &(version, reason, checkable) in DEB_INVALID {
            if checkable {
                // dpkg exits with 2 on a version it cannot parse.
                assert_eq!(
                    dpkg_compare(version, "lt", "1"),
                    2,
                    "dpkg accepts {version:?} ({reason})"
                );
            }
        }
    }

    /// Versions drawn from the characters that matter (digits, letters, `.`, `+`, `~`, `_`,
    /// `:` and `-`) by a fixed generator, compared here and by dpkg: the same order, and
    /// the same versions refused (dpkg exits 2 on a version it cannot parse).
    #[test]
    fn generated_versions_agree_with_dpkg() {
        if !dpkg_available() {
            assert!(
                std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
                "dpkg not found: required where WARD_REQUIRE_TOOLS is set (CI)"
            );
            eprintln!("dpkg not found: generated versions not cross-checked");
            return;
        }
        const ALPHABET: &[u8] = b"00119aAz..+~~_:-";
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut version = || -> String {
            let len = 1 + (next() % 8) as usize;
            // A leading hyphen would read as an option to dpkg.
            let first = ALPHABET.len() as u64 - 1;
            (0..len)
                .map(|i| {
                    let n = if i == 0 { first } else { ALPHABET.len() as u64 };
                    char::from(ALPHABET[(next() % n) as usize])
                })
                .collect()
        };
        let mut checked = 0;
        for _ in 0..600 {
            let (a, b) = (version(), version());
            match compare("deb", &a, &b) {
                Ok(ordering) => {
                    assert_eq!(
                        dpkg_compare(&a, dpkg_op(ordering), &b),
                        0,
                        "dpkg disagrees: {a:?} {ordering:?} {b:?}"
                    );
                    checked += 1;
                }
                Err(Error::Invalid { version, reason }) => {
                    // The deliberate difference (module docs): dpkg's strtol also takes a
                    // signed epoch.
                    let signed_epoch = version.split_once(':').is_some_and(|(e, _)| {
                        e.strip_prefix('+')
                            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    });
                    if signed_epoch {
                        continue;
                    }
                    assert_eq!(
                        dpkg_compare(&version, "lt", "1"),
                        2,
                        "dpkg accepts {version:?}, refused here: {reason}"
                    );
                }
                Err(e) => panic!("{e}"),
            }
        }
        // Most pairs are valid, so the order itself is what gets checked.
        assert!(checked > 100, "only {checked} valid pairs");
    }

    /// Every installed package version on this machine parses, and sorting them gives the
    /// order dpkg gives (checked on each adjacent pair of the sorted list).
    #[test]
    fn installed_versions_sort_as_dpkg_sorts_them() {
        let Ok(status) = std::fs::read_to_string("/var/lib/dpkg/status") else {
            assert!(
                std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
                "/var/lib/dpkg/status missing: required where WARD_REQUIRE_TOOLS is set (CI)"
            );
            eprintln!("no dpkg status on this machine: skipped");
            return;
        };
        let mut versions: Vec<&str> = status
            .lines()
            .filter_map(|l| l.strip_prefix("Version: "))
            .collect();
        versions.sort_unstable();
        versions.dedup();
        for v in &versions {
            assert_eq!(validate("deb", v), Ok(()), "{v}");
        }
        versions.sort_by(|a, b| compare("deb", a, b).unwrap());
        if !dpkg_available() {
            return;
        }
        for pair in versions.windows(2) {
            let expected = compare("deb", pair[0], pair[1]).unwrap();
            assert_eq!(
                dpkg_compare(pair[0], dpkg_op(expected), pair[1]),
                0,
                "dpkg disagrees: {} {expected:?} {}",
                pair[0],
                pair[1]
            );
        }
    }
}
