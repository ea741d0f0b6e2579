use proptest::prelude::*;

use super::*;

/// What [`SCRIPT`] prints: five updates (a security cumulative update, a .NET update,
/// Defender signatures, a driver, the malicious software removal tool) and Windows
/// Update's reboot key.
const SEARCH: &[u8] = include_bytes!("../../../tests/fixtures/windows/wua-search.json");

#[test]
fn the_script_output() {
    let scan = parse(SEARCH).unwrap();
    assert_eq!(scan.updates.len(), 5);
    assert_eq!(scan.search_error, None);
    assert!(reboot_required(
        scan.reboot_pending_keys.iter().map(String::as_str)
    ));

    let lcu = &scan.updates[0];
    assert_eq!(lcu.kb_ids, ["KB5037771"]);
    assert_eq!(lcu.msrc_severity, "Critical");
    assert_eq!(lcu.cves, ["CVE-2024-30040", "CVE-2024-30051"]);
    assert_eq!(lcu.last_deployment_change.as_deref(), Some("2024-05-14"));
    assert_eq!(lcu.reboot_behavior, Some(1));
    assert!(lcu.is_security());
    assert_eq!(lcu.classification(), Some("Security Updates"));

    let pending = pending(&scan);
    let got: Vec<(&str, &str, &str, bool)> = pending
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.arch.as_str(),
                p.candidate_version.as_str(),
                p.security,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("Intel Corporation - Display - 31.0.101.4502", "", "", false),
            ("KB2267602", "", "KB2267602", false),
            ("KB5037591", "x64", "KB5037591", false),
            ("KB5037771", "x64", "KB5037771", true),
            ("KB890830", "x64", "KB890830", false),
        ]
    );
}

#[test]
fn advisories_carry_the_kb_the_kind_and_the_severity() {
    let scan = parse(SEARCH).unwrap();
    let by_name = |name: &str| pending(&scan).into_iter().find(|p| p.name == name).unwrap();
    let lcu = by_name("KB5037771");
    assert_eq!(lcu.source, "msu");
    assert_eq!(
        lcu.advisories,
        [pb::Advisory {
            id: "KB5037771".into(),
            kind: "security".into(),
            severity: "Critical".into(),
            cves: vec!["CVE-2024-30040".into(), "CVE-2024-30051".into()],
        }]
    );
    assert!(lcu.installed_version.is_empty());
    assert_eq!(by_name("KB5037591").advisories[0].kind, "Updates");
    assert_eq!(
        by_name("KB2267602").advisories[0].kind,
        "Definition Updates"
    );
    assert_eq!(by_name("KB890830").advisories[0].kind, "Update Rollups");
    assert!(
        by_name("Intel Corporation - Display - 31.0.101.4502")
            .advisories
            .is_empty()
    );
}

#[test]
fn security_follows_the_classification_id_not_its_localised_name() {
    let german = br#"{"Updates":{"Title":"Sicherheitsupdate f\u00fcr Microsoft Office 2016 (KB5002575), 64-Bit-Edition","KBArticleIDs":"5002575","MsrcSeverity":null,"Categories":[{"Name":"Sicherheitsupdates","CategoryID":"0FA1201D-4330-4FA8-8AE9-B877473B6441","Type":"UpdateClassification"},{"Name":"Office 2016","CategoryID":"25aed893-7c2d-4a31-ae22-28ff8ac150ed","Type":"Product"}],"CveIDs":"CVE-2024-30103","LastDeploymentChangeTime":"2024-06-11","RebootRequired":false,"RebootBehavior":2},"RebootPendingKeys":[],"SearchError":null}"#;
    let scan = parse(german).unwrap();
    let u = &scan.updates[0];
    assert!(u.is_security());
    assert_eq!(u.classification(), Some("Security Updates"));
    assert_eq!(u.cves, ["CVE-2024-30103"]);
    assert!(!reboot_required(
        scan.reboot_pending_keys.iter().map(String::as_str)
    ));

    // Critical Updates are Microsoft's non-security fixes.
    let critical = Update {
        categories: vec![Category {
            name: "Critical Updates".into(),
            id: "e6cf1350-c01b-414d-a61f-263d14d133b4".into(),
            kind: "UpdateClassification".into(),
        }],
        ..Default::default()
    };
    assert!(!critical.is_security());
    // A rating by the MSRC makes an update a security one whatever its classification.
    let rated = Update {
        msrc_severity: "Important".into(),
        ..critical.clone()
    };
    assert!(rated.is_security());
    // Names alone (no ids), as a hand-made export may give.
    let named = Update {
        categories: vec![Category {
            name: "Security Updates".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert!(named.is_security());
}

#[test]
fn a_piped_search_result_from_windows_powershell_5_1() {
    // `$r.Updates | Select-Object Title, KBArticleIDs, MsrcSeverity, CveIDs,
    // LastDeploymentChangeTime | ConvertTo-Json`: one update gives an object, dates are
    // "/Date(ms)/", and the COM collections come out as they enumerate.
    let one = br#"{
    "Title":  "2024-05 Cumulative Update for Windows 11 Version 23H2 for ARM64-based Systems (KB5037771)",
    "KBArticleIDs":  [
                         "5037771"
                     ],
    "MsrcSeverity":  "Critical",
    "CveIDs":  [

               ],
    "LastDeploymentChangeTime":  "\/Date(1715644800000)\/"
}"#;
    let scan = parse(one).unwrap();
    let u = &scan.updates[0];
    assert_eq!(u.last_deployment_change.as_deref(), Some("2024-05-14"));
    assert!(u.is_security(), "rated by the MSRC");
    let p = u.to_pending();
    assert_eq!((p.name.as_str(), p.arch.as_str()), ("KB5037771", "arm64"));
    assert!(scan.reboot_pending_keys.is_empty());
}

#[test]
fn a_failed_search_is_reported_with_the_reboot_state() {
    let failed = br#"{"Updates":[],"RebootPendingKeys":"HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending","SearchError":"Exception from HRESULT: 0x8024402C (0x8024402C)"}"#;
    let scan = parse(failed).unwrap();
    assert!(scan.updates.is_empty());
    assert_eq!(
        scan.search_error.as_deref(),
        Some("Exception from HRESULT: 0x8024402C (0x8024402C)")
    );
    assert!(reboot_required(
        scan.reboot_pending_keys.iter().map(String::as_str)
    ));
}

#[test]
fn reboot_keys_from_a_reg_export() {
    // `reg export "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto
    // Update" au.reg` while Windows Update waits for a reboot.
    let text = "Windows Registry Editor Version 5.00\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update]\r\n\
        \"AUOptions\"=dword:00000004\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired]\r\n\
        \"0f7a0ac2-4b82-4d6b-a5b8-5d08d3e7c7a1\"=dword:00000001\r\n\r\n";
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let keys = crate::inventory::software::windows::reg::parse(&bytes);
    assert!(reboot_required(keys.iter().map(|k| k.path.as_str())));
    assert!(!reboot_required(keys[..1].iter().map(|k| k.path.as_str())));
    assert!(reboot_required([
        r"hklm\software\microsoft\windows\currentversion\component based servicing\rebootpending"
    ]));
    assert!(!reboot_required([
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion"
    ]));
}

#[test]
fn the_script_searches_what_the_parser_reads() {
    assert!(SCRIPT.contains("IsInstalled=0 and IsHidden=0"));
    assert!(SCRIPT.contains("$searcher.Online = $false"));
    for key in REBOOT_KEYS {
        let ps = key.replacen("HKEY_LOCAL_MACHINE", "HKLM:", 1);
        assert!(SCRIPT.contains(&ps), "{ps}");
    }
    for field in [
        "Title",
        "KBArticleIDs",
        "MsrcSeverity",
        "CategoryID",
        "CveIDs",
        "LastDeploymentChangeTime",
        "RebootRequired",
        "RebootBehavior",
        "RebootPendingKeys",
        "SearchError",
    ] {
        assert!(SCRIPT.contains(field), "{field}");
    }
}

#[test]
fn garbage_is_an_error_and_empty_output_no_updates() {
    assert!(parse(b"").unwrap().updates.is_empty());
    let err = parse(b"New-Object : Retrieving the COM class factory failed").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("windows update search output is not valid json"),
        "{err}"
    );
    let weird = br#"[{"Title":7,"KBArticleIDs":[null,"KB12","x1",5],"Categories":[3,"Drivers"],"CveIDs":["cve-2024-1 ","CVE 2"]},"x",{"Updates":null}]"#;
    let scan = parse(weird).unwrap();
    assert_eq!(scan.updates.len(), 1);
    let u = &scan.updates[0];
    assert_eq!(u.title, "7");
    assert_eq!(u.kb_ids, ["KB12", "KB5"]);
    assert_eq!(u.cves, ["CVE-2024-1"]);
    assert_eq!(u.classification(), Some("Drivers"));
}

#[test]
fn one_kb_listed_twice_is_one_pending_update() {
    let u = |security: &str| Update {
        title: "Update (KB1)".into(),
        kb_ids: vec!["KB1".into()],
        msrc_severity: security.into(),
        ..Default::default()
    };
    let scan = Scan {
        updates: vec![u(""), u("Low")],
        ..Default::default()
    };
    let p = pending(&scan);
    assert_eq!(p.len(), 1);
    assert!(p[0].security);
}

proptest! {
    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(scan) = parse(&bytes) {
            let _ = pending(&scan);
            let _ = reboot_required(scan.reboot_pending_keys.iter().map(String::as_str));
        }
    }
}
