use proptest::prelude::*;

use super::*;

/// `system_profiler SPApplicationsDataType -json` on macOS 14 (apps on the system volume,
/// in a user's folders, on a mounted disk image and in the Trash).
const APPS: &[u8] =
    include_bytes!("../../../../tests/fixtures/macos/system-profiler-applications.json");
/// `pkgutil --pkgs`.
const PKGS: &[u8] = include_bytes!("../../../../tests/fixtures/macos/pkgutil-pkgs.txt");
/// `pkgutil --pkg-info-plist com.apple.pkg.CLTools_Executables`.
const CLT: &[u8] = include_bytes!("../../../../tests/fixtures/macos/pkg-info-clt.plist");
/// `pkgutil --pkg-info-plist us.zoom.pkg.videomeeting`.
const ZOOM: &[u8] = include_bytes!("../../../../tests/fixtures/macos/pkg-info-zoom.plist");

#[test]
fn applications_installed_on_the_system_volume() {
    let apps = parse_applications(APPS).unwrap();
    assert_eq!(apps.len(), 14);
    let pkgs = app_packages(&apps);
    let got: Vec<(&str, &str, &str)> = pkgs
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.arch.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("AirPort Base Station Agent", "2.2.1", "universal"),
            ("Citrix Workspace", "23.01.0.13", "x86_64"),
            ("Docker", "4.30.0", "arm64"),
            ("Google Chrome", "125.0.6422.113", "universal"),
            ("Keynote", "14.0", "universal"),
            ("Python Launcher", "3.12.0", ""),
            ("Safari", "17.5", "universal"),
            ("Simulator", "15.0", "universal"),
            // Two copies of one version (Applications and Downloads) are one package.
            ("Slack", "4.38.125", "universal"),
            // A bundle without a version is still installed software.
            ("Wireless Diagnostics", "", "universal"),
            ("Xcode", "15.4", "universal"),
        ]
    );
    assert!(
        pkgs.iter()
            .all(|p| p.source == "app" && p.state == "installed")
    );
    let vendors: Vec<(&str, &str)> = pkgs
        .iter()
        .map(|p| (p.name.as_str(), p.vendor.as_str()))
        .collect();
    assert_eq!(
        vendors,
        [
            ("AirPort Base Station Agent", "Apple Inc."),
            ("Citrix Workspace", "Citrix Systems, Inc."),
            ("Docker", "Docker Inc"),
            ("Google Chrome", "Google LLC"),
            // The App Store's signature does not name the developer.
            ("Keynote", ""),
            ("Python Launcher", "Python Software Foundation"),
            ("Safari", "Apple Inc."),
            ("Simulator", "Apple Inc."),
            ("Slack", "Slack Technologies, Inc."),
            ("Wireless Diagnostics", "Apple Inc."),
            ("Xcode", ""),
        ]
    );
    assert!(pkgs.iter().all(|p| p.install_time == 0));

    let citrix = apps.iter().find(|a| a.name == "Citrix Workspace").unwrap();
    assert_eq!(citrix.obtained_from, "identified_developer");
    assert_eq!(citrix.last_modified, "2023-02-09T15:20:17Z");
    assert!(
        citrix
            .info
            .starts_with("Citrix Workspace 23.01.0.13, © 2023")
    );
    let skipped: Vec<&str> = apps
        .iter()
        .filter(|a| !a.is_installed())
        .map(|a| a.path.as_str())
        .collect();
    assert_eq!(
        skipped,
        [
            "/Volumes/Zoom/Install Zoom.app",
            "/Users/alice/.Trash/Firefox.app"
        ]
    );
}

#[test]
fn system_profiler_errors_and_edge_cases() {
    assert!(matches!(
        parse_applications(b"not json"),
        Err(Error::Json(_))
    ));
    assert!(matches!(
        parse_applications(b"{}"),
        Err(Error::NoApplications)
    ));
    let none = parse_applications(br#"{"SPApplicationsDataType":[]}"#).unwrap();
    assert!(none.is_empty());
    let odd = br#"{"SPApplicationsDataType":[{"version":"1"},{"_name":" A\nB ","version":2},7]}"#;
    let apps = parse_applications(odd).unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].name, "A B");
    assert_eq!(apps[0].version, "", "a number is not a version string");
}

#[test]
fn package_receipts() {
    let ids = parse_pkg_ids(PKGS);
    assert_eq!(ids.len(), 13);
    assert_eq!(ids[1], "com.apple.pkg.CLTools_Executables");
    assert_eq!(
        parse_pkg_ids(b"a.b\n\n--forget\n -x\nc.d\r\n"),
        ["a.b", "c.d"]
    );

    let clt = parse_pkg_info(CLT).unwrap();
    assert_eq!(
        clt,
        Receipt {
            id: "com.apple.pkg.CLTools_Executables".into(),
            version: "15.3.0.0.1.1708646388".into(),
            volume: "/".into(),
            location: "/".into(),
            install_time: Some(1_713_282_511),
        }
    );
    let zoom = parse_pkg_info(ZOOM).unwrap();
    assert_eq!(zoom.location, "Applications");
    let p = zoom.to_package();
    assert_eq!(
        (
            p.name.as_str(),
            p.version.as_str(),
            p.arch.as_str(),
            p.source.as_str()
        ),
        ("us.zoom.pkg.videomeeting", "6.0.11.35001", "", "pkg")
    );
    assert_eq!(p.state, "installed");
    assert_eq!(p.install_time, 1_714_644_690);
}

#[test]
fn receipt_errors() {
    let err = parse_pkg_info(b"No receipt for 'com.example' found at '/'.").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("pkgutil --pkg-info-plist output is not a valid property list"),
        "{err}"
    );
    let no_id = br#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>pkg-version</key><string>1</string></dict></plist>"#;
    assert_eq!(
        parse_pkg_info(no_id).unwrap_err().to_string(),
        "pkgutil --pkg-info-plist output is not a dictionary with pkgid"
    );
    let array = br#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><array/></plist>"#;
    assert!(matches!(parse_pkg_info(array), Err(Error::Shape { .. })));
}

#[test]
fn vendors_from_the_signature() {
    let vendor = |chain: &[&str]| {
        App {
            signed_by: chain.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
        .vendor()
    };
    assert_eq!(vendor(&[]), "");
    assert_eq!(
        vendor(&[
            "Developer ID Application: Foo (Bar) Ltd (ABCDE12345)",
            "Developer ID Certification Authority"
        ]),
        "Foo (Bar) Ltd"
    );
    assert_eq!(vendor(&["Developer ID Application: No Team"]), "No Team");
    assert_eq!(
        vendor(&[
            "Software Signing",
            "Apple Code Signing Certification Authority"
        ]),
        "Apple Inc."
    );
    assert_eq!(vendor(&["Apple Mac OS Application Signing"]), "");
}

#[test]
fn arch_kinds() {
    let arch = |kind: &str| {
        App {
            arch_kind: kind.into(),
            ..Default::default()
        }
        .arch()
    };
    assert_eq!(arch("arch_arm_i64"), "universal");
    assert_eq!(arch("arch_arm"), "arm64");
    assert_eq!(arch("arch_i64"), "x86_64");
    assert_eq!(arch("arch_i32_i64"), "x86_64");
    assert_eq!(arch("arch_ios"), "ios");
    assert_eq!(arch("arch_other"), "");
    assert_eq!(arch(""), "");
}

proptest! {
    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_applications(&bytes);
        let _ = parse_pkg_ids(&bytes);
        let _ = parse_pkg_info(&bytes);
    }
}
