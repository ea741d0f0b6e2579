use super::*;

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn file(suite: &str, codename: &str, origin: &str, site: &str) -> PackageFile {
    PackageFile {
        name: format!("{site}_{suite}_Packages"),
        release: Release {
            origin: origin.into(),
            label: origin.into(),
            suite: suite.into(),
            codename: codename.into(),
            version: "12.4".into(),
            ..Default::default()
        },
        component: "main".into(),
        arch: "amd64".into(),
        site: site.into(),
        is_status: false,
    }
}

fn status() -> PackageFile {
    PackageFile {
        name: "var/lib/dpkg/status".into(),
        release: Release {
            suite: "now".into(),
            ..Default::default()
        },
        is_status: true,
        ..Default::default()
    }
}

fn version(text: &str, files: &[usize]) -> Version {
    Version {
        parsed: text.parse().unwrap(),
        text: text.into(),
        arch: "amd64".into(),
        source: "src".into(),
        files: files.to_vec(),
    }
}

#[test]
fn fnmatch_like_libc_with_casefold() {
    let m = |p: &str, s: &str| Expr::new(p).matches(s);
    assert!(m("linux-image-*", "linux-image-6.1.0-9-amd64"));
    assert!(m("*security", "Debian-Security"));
    assert!(m("lib?oo", "libfoo"));
    assert!(m("lib[a-f]oo", "libfoo"));
    assert!(!m("lib[!a-f]oo", "libfoo"));
    assert!(m("a\\*", "a*"));
    assert!(!m("a\\*", "ab"));
    assert!(!m("stable", "stable-security"));
    assert!(m("", ""));
    assert!(fnmatch(&chars("*a*b"), &chars("xxaxxb")));
    assert!(!fnmatch(&chars("*a*b"), &chars("xxaxxc")));
}

#[test]
fn regex_patterns_are_unanchored_and_case_insensitive() {
    let e = Expr::new("/^NODE/");
    assert!(e.matches("nodejs"));
    assert!(Expr::new("/js/").matches("nodejs"));
    assert!(
        !Expr::new("/(/").matches("("),
        "an invalid regex matches nothing"
    );
}

#[test]
fn atoi_like_c() {
    assert_eq!(atoi("1001"), 1001);
    assert_eq!(atoi(" -10 "), -10);
    assert_eq!(atoi("600 # comment"), 600);
    assert_eq!(atoi("x"), 0);
    assert_eq!(atoi("99999999999"), i32::MAX);
}

#[test]
fn parses_preferences_records() {
    let pins = parse_preferences(
        b"# comment\nExplanation: why\nPackage: a b:i386 c*\nPin: release a=stable, n=bookworm\n\
Pin-Priority: 900\n\n\
Package: *\nPin: origin \"deb.example.org\"\nPin-Priority: -1\n\n\
Package: *\nPin: version 1.0\nPin-Priority: 100\n\n\
Package: nopriority\nPin: version 1.0\n\n\
Package: odd\nPin: bogus x\nPin-Priority: 1\n\n\
Pin: version 1.0\nPin-Priority: 100\n",
    );
    assert_eq!(pins.len(), 2, "{pins:?}");
    let specs = pins[0].packages.as_ref().unwrap();
    assert_eq!(specs.len(), 3);
    assert!(specs[0].matches("a", "a", "amd64", "amd64"));
    assert!(!specs[0].matches("a", "a", "i386", "amd64"));
    assert!(specs[1].matches("b", "b", "i386", "amd64"));
    assert!(specs[2].matches("cee", "cee", "all", "amd64"));
    assert_eq!(pins[0].priority, 900);
    assert!(pins[1].packages.is_none());
    assert!(matches!(&pins[1].target, Target::Origin(s) if s == "deb.example.org"));
}

#[test]
fn preference_file_names_follow_apt() {
    let names: Vec<String> = [
        "zz",
        "10local.pref",
        "nodejs",
        "old.bak",
        "x.pref.dpkg-old",
        "bad name",
        "ends.",
        "a:b",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        preference_files(&names),
        ["10local.pref", "a:b", "nodejs", "zz"]
    );
}

#[test]
fn release_specs_match_like_apt() {
    let stable = file("stable", "bookworm", "Debian", "deb.debian.org");
    let matches = |spec: &str, f: &PackageFile| ReleaseSpec::parse(spec).matches(f);
    assert!(matches("bookworm", &stable), "a bare word is a codename");
    assert!(matches("stable", &stable), "or an archive");
    assert!(matches("12*", &stable), "a bare number is a version prefix");
    assert!(!matches("13", &stable));
    assert!(matches("o=Debian,a=stable", &stable));
    assert!(matches("o=debian, n=book*", &stable));
    assert!(!matches("o=Debian,a=testing", &stable));
    assert!(matches("c=main,b=amd64", &stable));
    assert!(matches("l=/^deb/", &stable));
    assert!(
        !matches("", &stable),
        "an empty release pin matches nothing"
    );
    assert!(matches("a=now", &status()));
    assert!(!matches("n=bookworm", &status()));
}

#[test]
fn default_priorities_and_the_first_matching_file_pin() {
    let mut backports = file("stable-backports", "bookworm-backports", "Debian", "d");
    backports.release.not_automatic = true;
    backports.release.but_automatic_upgrades = true;
    let mut experimental = file("experimental", "rc-buggy", "Debian", "d");
    experimental.release.not_automatic = true;
    let files = vec![
        status(),
        file("stable", "bookworm", "Debian", "d"),
        backports,
        experimental,
        file("stable", "x", "Other", "other.example"),
    ];
    let policy = Policy::new(files.clone(), Vec::new(), None, "amd64");
    let got: Vec<i32> = (0..files.len()).map(|i| policy.file_priority(i)).collect();
    assert_eq!(got, [100, 500, 100, 1, 500]);

    let pins = parse_preferences(
        b"Package: *\nPin: origin other.example\nPin-Priority: 50\n\n\
Package: *\nPin: release o=Other\nPin-Priority: 700\n",
    );
    let policy = Policy::new(files.clone(), pins, Some("rc-buggy"), "amd64");
    let got: Vec<i32> = (0..files.len()).map(|i| policy.file_priority(i)).collect();
    assert_eq!(
        got,
        [100, 500, 100, 990, 50],
        "first matching pin fixes a file"
    );
}

#[test]
fn candidate_prefers_priority_then_version_and_never_downgrades_below_1000() {
    let files = vec![status(), file("stable", "bookworm", "Debian", "d")];
    let pins = parse_preferences(b"Package: pinned\nPin: version 1.*\nPin-Priority: 1001\n");
    let policy = Policy::new(files, pins, None, "amd64");
    // Equal priority: the higher version.
    let v = [
        version("1.0", &[0]),
        version("2.0", &[1]),
        version("1.5", &[1]),
    ];
    assert_eq!(policy.candidate("p", "amd64", &v, Some(0)), Some(1));
    // An older version from a 500 archive never replaces a newer installed one.
    let v = [version("3.0", &[0]), version("2.0", &[1])];
    assert_eq!(policy.candidate("p", "amd64", &v, Some(0)), Some(0));
    // At 1001 it does.
    let v = [
        version("3.0", &[0]),
        version("1.5", &[1]),
        version("2.0", &[1]),
    ];
    assert_eq!(policy.candidate("pinned", "amd64", &v, Some(0)), Some(1));
    // The package pin is native-only.
    assert_eq!(policy.candidate("pinned", "i386", &v, Some(0)), Some(0));
}

#[test]
fn negative_priorities_are_never_candidates() {
    let files = vec![status(), file("stable", "bookworm", "Debian", "d")];
    let pins = parse_preferences(b"Package: p\nPin: release a=stable\nPin-Priority: -1\n");
    let policy = Policy::new(files, pins, None, "amd64");
    let v = [version("2.0", &[1])];
    assert_eq!(policy.candidate("p", "amd64", &v, None), None);
}

#[test]
fn source_pins_select_the_binaries_of_a_source() {
    let files = vec![status(), file("stable", "bookworm", "Debian", "d")];
    let pins = parse_preferences(b"Package: src:src\nPin: version 1.*\nPin-Priority: 1001\n");
    let policy = Policy::new(files, pins, None, "amd64");
    let v = [version("3.0", &[0]), version("1.5", &[1])];
    assert_eq!(policy.candidate("anything", "amd64", &v, Some(0)), Some(1));
    let mut other = v.clone();
    other[1].source = "other".into();
    assert_eq!(
        policy.candidate("anything", "amd64", &other, Some(0)),
        Some(0)
    );
}

proptest::proptest! {
    #[test]
    fn apt_file_parsers_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let pins = parse_preferences(&bytes);
        let files = vec![status(), file("stable", "bookworm", "Debian", "d")];
        let policy = Policy::new(files, pins, Some("stable"), "amd64");
        let v = [version("1.0", &[0]), version("2.0", &[1])];
        let _ = policy.candidate("p", "amd64", &v, Some(0));
        let _ = crate::patches::apt::release::parse(&bytes);
        let installed: std::collections::HashSet<String> = ["p".to_owned()].into_iter().collect();
        let _ = crate::patches::apt::lists::parse_packages(&bytes, &installed);
        let c = crate::patches::apt::sources::parse(&[("x.sources".to_owned(), bytes.clone()), ("x.list".to_owned(), bytes.clone())], &["amd64".to_owned()]);
        let mut config = crate::patches::apt::config::Config::with_defaults();
        let _ = config.parse("x.conf", &bytes);
        let _ = config.dump();
        let _ = crate::patches::apt::relations::parse_groups(&String::from_utf8_lossy(&bytes));
        let _ = c.includes("h_dists_s_main_binary-amd64_Packages");
        let text = String::from_utf8_lossy(&bytes);
        let _ = Expr::new(&text).matches("libfoo");
        let _ = crate::patches::apt::release::locate(&text, &std::collections::BTreeSet::new());
    }
}
