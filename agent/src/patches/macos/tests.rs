use proptest::prelude::*;

use super::*;

/// `softwareupdate --list` on macOS 13.6.4: the Ventura patch release, the Sonoma upgrade,
/// Safari and two Command Line Tools releases.
const VENTURA: &[u8] = include_bytes!("../../../tests/fixtures/macos/softwareupdate-list-13.txt");
/// The same on macOS 13.4.1 with a Rapid Security Response pending.
const VENTURA_RSR: &[u8] =
    include_bytes!("../../../tests/fixtures/macos/softwareupdate-list-13-rsr.txt");
/// The same on macOS 14.6.1: the Sonoma patch release, the Sequoia upgrade, the Command
/// Line Tools (sizes in KiB, as macOS 14 prints them).
const SONOMA: &[u8] = include_bytes!("../../../tests/fixtures/macos/softwareupdate-list-14.txt");
/// Nothing pending.
const NONE_PENDING: &[u8] =
    include_bytes!("../../../tests/fixtures/macos/softwareupdate-list-none.txt");
/// `/System/Library/CoreServices/SystemVersion.plist` of macOS 14.4.1.
const SYSTEM_VERSION_14: &[u8] =
    include_bytes!("../../../tests/fixtures/macos/SystemVersion-14.4.1.plist");

type Row<'a> = (&'a str, &'a str, &'a str, bool);

fn rows(p: &[pb::PendingUpdate]) -> Vec<Row<'_>> {
    p.iter()
        .map(|u| {
            (
                u.name.as_str(),
                u.installed_version.as_str(),
                u.candidate_version.as_str(),
                u.security,
            )
        })
        .collect()
}

#[test]
fn macos_13_list() {
    let updates = parse_list(VENTURA).unwrap();
    assert_eq!(updates.len(), 5);
    assert_eq!(
        updates[0],
        Update {
            label: "macOS Ventura 13.6.7-22G720".into(),
            title: "macOS Ventura 13.6.7".into(),
            version: "13.6.7".into(),
            size_kib: Some(1_081_344),
            recommended: true,
            action: "restart".into(),
        }
    );
    assert!(updates[0].restarts());
    assert!(!updates[2].restarts(), "Safari installs without a restart");
    assert_eq!(updates[2].action, "");
    assert_eq!(updates[4].size_kib, Some(711_802));

    let pending = pending(&updates, Some("13.6.4"));
    assert_eq!(
        rows(&pending),
        [
            // The newer of the two Command Line Tools releases offered.
            ("Command Line Tools for Xcode", "", "14.3", false),
            ("Safari", "", "17.5", false),
            // An upgrade to the next major release is not a security update.
            ("macOS Sonoma", "", "14.5", false),
            ("macOS Ventura", "13.6.4", "13.6.7", true),
        ]
    );
    assert!(
        pending
            .iter()
            .all(|p| p.source == "pkg" && p.arch.is_empty())
    );
}

#[test]
fn macos_14_list() {
    let running = parse_system_version(SYSTEM_VERSION_14);
    assert_eq!(running.as_deref(), Some("14.4.1"));
    let updates = parse_list(SONOMA).unwrap();
    assert_eq!(
        rows(&pending(&updates, running.as_deref())),
        [
            ("Command Line Tools for Xcode", "", "16.0", false),
            ("macOS Sequoia", "", "15.0", false),
            ("macOS Sonoma", "14.4.1", "14.7", true),
        ]
    );
    assert_eq!(updates[1].size_kib, Some(3_153_462));
}

#[test]
fn nothing_pending() {
    assert_eq!(parse_list(NONE_PENDING).unwrap(), []);
    // softwareupdate writes that line to standard error; the glue passes both streams.
    assert_eq!(parse_list(b"\nNo new software available.\n").unwrap(), []);
}

#[test]
fn rapid_security_response() {
    let updates = parse_list(VENTURA_RSR).unwrap();
    let p = pending(&updates, None);
    assert_eq!(
        rows(&p),
        [("macOS Security Response", "", "13.4.1 (c)", true)]
    );
    assert!(updates[0].restarts());
}

#[test]
fn the_security_rule() {
    let u = |label: &str, title: &str, version: &str| Update {
        label: label.into(),
        title: title.into(),
        version: version.into(),
        ..Default::default()
    };
    let minor = u("macOS Sonoma 14.5-23F79", "macOS Sonoma 14.5", "14.5");
    assert!(minor.is_security(Some("14.4.1")));
    assert!(!minor.is_security(Some("13.6.4")));
    assert!(!minor.is_security(None), "unknown running version");
    let old = u(
        "Security Update 2022-004 Catalina-10.15.7",
        "Security Update 2022-004 Catalina",
        "10.15.7",
    );
    assert!(old.is_security(None));
    let bsi = u(
        "Background Security Improvement 26.1 (a)-25B78a",
        "Background Security Improvement 26.1 (a)",
        "26.1 (a)",
    );
    assert!(bsi.is_security(None));
    let safari = u("Safari17.5VenturaAuto-17.5", "Safari", "17.5");
    assert!(!safari.is_security(Some("13.6.4")));
    let firmware = Update {
        action: "shut down".into(),
        ..safari
    };
    assert!(firmware.restarts());
}

#[test]
fn names_keep_their_identity_across_releases() {
    let u = |title: &str, version: &str| Update {
        label: "L".into(),
        title: title.into(),
        version: version.into(),
        ..Default::default()
    };
    assert_eq!(u("macOS Sonoma 14.5", "14.5").name(), "macOS Sonoma");
    assert_eq!(
        u("Command Line Tools for Xcode 26.5", "26.5").name(),
        "Command Line Tools for Xcode"
    );
    assert_eq!(u("Safari", "17.5").name(), "Safari");
    assert_eq!(
        u("Xcode15.4", "15.4").name(),
        "Xcode15.4",
        "no word boundary"
    );
    assert_eq!(u("", "").name(), "L");
}

#[test]
fn a_comma_in_a_title_stays_in_the_title() {
    let out = b"Software Update found the following new or updated software:\n\
        * Label: ProApps-1\n\tTitle: Pro Video Formats, Codecs, Version: 2.3, Size: 1G, Recommended: NO, \n\
        * Label: Odd\n\tTitle: Odd, Version: , Size: ?K,\n";
    let updates = parse_list(out).unwrap();
    assert_eq!(updates[0].title, "Pro Video Formats, Codecs");
    assert_eq!(updates[0].version, "2.3");
    assert_eq!(updates[0].size_kib, Some(1024 * 1024));
    assert!(!updates[0].recommended);
    assert_eq!(updates[1].version, "");
    assert_eq!(updates[1].size_kib, None);
}

#[test]
fn unrecognised_output_is_an_error() {
    let err = parse_list(
        b"Software Update Tool\n\nFinding available software\n\
        Cannot complete this request. Software Update is not available.\n",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "softwareupdate printed neither a list nor \"No new software available.\": \
         Cannot complete this request. Software Update is not available."
    );
    assert!(parse_list(b"").is_err());
}

#[test]
fn versions_compare_by_number() {
    use std::cmp::Ordering::*;
    assert_eq!(compare_versions("14.10", "14.9"), Greater);
    assert_eq!(compare_versions("14.2", "14.2.1"), Less);
    assert_eq!(compare_versions("1.a", "1.b"), Less);
    assert_eq!(compare_versions("15.3", "15.3"), Equal);
}

#[test]
fn system_version_errors() {
    assert_eq!(parse_system_version(b""), None);
    assert_eq!(
        parse_system_version(br#"<?xml version="1.0"?><plist version="1.0"><dict><key>ProductVersion</key><integer>14</integer></dict></plist>"#),
        None
    );
}

proptest! {
    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(updates) = parse_list(&bytes) {
            let _ = pending(&updates, Some("14.4.1"));
        }
        let _ = parse_system_version(&bytes);
    }

    #[test]
    fn no_list_text_panics(text in "(\\* Label:.{0,12}|\t?Title:[ -~]{0,40}|(, )?[A-Z][a-z]{0,6}: [0-9.KiMG]{0,8}|No new software available\\.|\n){0,20}") {
        if let Ok(updates) = parse_list(text.as_bytes()) {
            let _ = pending(&updates, Some("14.4.1"));
        }
    }
}
