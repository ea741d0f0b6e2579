use proptest::prelude::*;

use super::*;

/// `reg export` of the three Uninstall keys, written here as UTF-8 text; [`exported`]
/// turns them into what `reg export` writes (UTF-16LE, byte order mark, CRLF).
const HKLM: &str = include_str!("../../../../tests/fixtures/windows/uninstall-hklm.reg.txt");
const WOW: &str = include_str!("../../../../tests/fixtures/windows/uninstall-wow6432node.reg.txt");
const HKU: &str = include_str!("../../../../tests/fixtures/windows/uninstall-hku.reg.txt");
/// `Get-ItemProperty HKLM:\...\Uninstall\* | ConvertTo-Json` in Windows PowerShell 5.1,
/// unfiltered (PSDrive and PSProvider objects included).
const PS51: &[u8] = include_bytes!("../../../../tests/fixtures/windows/uninstall-ps51.json");
/// What [`UNINSTALL_SCRIPT`] prints for the entries of the three exports.
const SCRIPT_OUT: &[u8] =
    include_bytes!("../../../../tests/fixtures/windows/uninstall-script.json");
/// `Get-HotFix | ConvertTo-Json` in Windows PowerShell 5.1, unfiltered.
const HOTFIX_PS51: &[u8] = include_bytes!("../../../../tests/fixtures/windows/hotfix-ps51.json");

/// Encodes text as `reg export` writes it: UTF-16LE with a byte order mark, CRLF.
fn exported(text: &str) -> Vec<u8> {
    let crlf = text.replace('\n', "\r\n");
    let mut out = vec![0xff, 0xfe];
    out.extend(crlf.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn utf16le_bom(text: &[u8]) -> Vec<u8> {
    exported(std::str::from_utf8(text).unwrap())
}

type Row<'a> = (&'a str, &'a str, &'a str, &'a str, u64);

fn rows(packages: &[pb::Package]) -> Vec<Row<'_>> {
    packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.arch.as_str(),
                p.source.as_str(),
                p.installed_size,
            )
        })
        .collect()
}

/// What Programs and Features lists for the three exports, sorted as [`packages`] sorts.
fn listed() -> Vec<Row<'static>> {
    vec![
        ("7-Zip 23.01 (x64)", "23.01", "x64", "exe", 5724 * 1024),
        (
            "Adobe Acrobat Reader DC",
            "23.008.20470",
            "x86",
            "msi",
            627_324 * 1024,
        ),
        ("Git", "2.43.0", "x64", "exe", 339_916 * 1024),
        ("Microsoft Edge", "120.0.2210.144", "x86", "exe", 0),
        (
            "Microsoft OneDrive",
            "23.246.1127.0002",
            "",
            "exe",
            289_660 * 1024,
        ),
        // The x64 runtime's bundle registers through its 32-bit installer engine: the
        // view tells the installer's architecture, which is usually the program's.
        (
            "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33135",
            "14.38.33135.0",
            "x86",
            "exe",
            20348 * 1024,
        ),
        (
            "Microsoft Visual Studio Code (User)",
            "1.85.2",
            "",
            "exe",
            363_842 * 1024,
        ),
        (
            "Notepad++ (32-bit x86)",
            "8.6.2",
            "x86",
            "exe",
            15163 * 1024,
        ),
        ("PowerShell 7-x64", "7.4.1.0", "x64", "msi", 271_380 * 1024),
        ("Zoom", "5.17.5 (31030)", "", "exe", 0x1b8f0 * 1024),
    ]
}

#[test]
fn reg_exports_of_the_three_views_give_what_programs_and_features_lists() {
    let mut entries = Vec::new();
    for text in [HKLM, WOW, HKU] {
        entries.extend(parse_reg_export(&exported(text)));
    }
    // Every subkey of an Uninstall key is an entry; the Uninstall keys themselves are not.
    assert_eq!(entries.len(), 7 + 4 + 3);
    let pkgs = packages(&entries, "x64");
    assert_eq!(rows(&pkgs), listed());
    assert!(pkgs.iter().all(|p| p.state == "installed"));

    let git = entries.iter().find(|e| e.display_name == "Git").unwrap();
    assert_eq!(git.install_date.as_deref(), Some("2024-01-16"));
    assert_eq!(git.publisher, "The Git Development Community");
    assert_eq!(git.view(), View::Native);
    let code = entries
        .iter()
        .find(|e| e.display_name.contains("Code"))
        .unwrap();
    assert_eq!(code.view(), View::User);

    let vendor_and_time: Vec<(&str, &str, i64)> = pkgs
        .iter()
        .map(|p| (p.name.as_str(), p.vendor.as_str(), p.install_time))
        .collect();
    assert_eq!(vendor_and_time[0], ("7-Zip 23.01 (x64)", "Igor Pavlov", 0));
    assert_eq!(
        vendor_and_time[2],
        ("Git", "The Git Development Community", 1_705_363_200)
    );
    assert_eq!(
        vendor_and_time[9],
        ("Zoom", "Zoom Video Communications, Inc.", 0)
    );
}

#[test]
fn hidden_entries_are_parsed_but_not_listed() {
    let entries = parse_reg_export(&exported(HKLM));
    let hidden: Vec<(&str, bool)> = entries
        .iter()
        .filter(|e| !e.is_listed())
        .map(|e| (e.key.rsplit('\\').next().unwrap(), e.system_component))
        .collect();
    assert_eq!(
        hidden,
        [
            ("AddressBook", false),       // no DisplayName
            ("Connection Manager", true), // SystemComponent=1
            ("{A7036CFB-B403-4598-85FF-D397ABB88173}", true),
            (
                "{90160000-0011-0000-1000-0000000FF1CE}_Office16.PROPLUS_{B0A7D5D3-A6B2-4E0F-8C1A-2B5D6A0E9F11}",
                false
            ),
        ]
    );
    let office = entries.last().unwrap();
    assert_eq!(office.parent_key_name, "Office16.PROPLUS");
    assert_eq!(office.release_type, "Security Update");
    let vc = &entries[5];
    assert!(vc.windows_installer && vc.system_component);
    assert_eq!(vc.estimated_size_kib, Some(2444));
}

#[test]
fn the_native_view_takes_the_machine_architecture() {
    let entries = parse_reg_export(&exported(HKLM));
    let arm = packages(&entries, windows_arch("aarch64"));
    assert!(arm.iter().all(|p| p.arch == "arm64"), "{arm:?}");
    assert_eq!(windows_arch("x86_64"), "x64");
}

#[test]
fn a_reg_export_in_utf8_or_regedit4_reads_the_same() {
    let utf16 = parse_reg_export(&exported(HKLM));
    assert_eq!(parse_reg_export(HKLM.as_bytes()), utf16);
    let regedit4 = HKLM.replace("Windows Registry Editor Version 5.00", "REGEDIT4");
    assert_eq!(parse_reg_export(regedit4.as_bytes()), utf16);
    let mut bom = vec![0xef, 0xbb, 0xbf];
    bom.extend_from_slice(HKLM.as_bytes());
    assert_eq!(parse_reg_export(&bom), utf16);
}

#[test]
fn hex_values_wrapped_over_lines_decode() {
    let keys = reg::parse(&exported(HKLM));
    let ps = keys
        .iter()
        .find(|k| k.path.ends_with("{E3A5C9D8-2F0B-4A6E-9B1C-7D4F8E2A6B10}"))
        .unwrap();
    assert_eq!(
        ps.get("uninstallstring"),
        Some(&reg::Value::ExpandString(
            "MsiExec.exe /X{E3A5C9D8-2F0B-4A6E-9B1C-7D4F8E2A6B10}".into()
        ))
    );
    assert_eq!(ps.get("Language"), Some(&reg::Value::Dword(1033)));
    let zip = keys.iter().find(|k| k.path.ends_with(r"\7-Zip")).unwrap();
    assert_eq!(
        zip.get("UninstallString")
            .and_then(reg::Value::as_text)
            .as_deref(),
        Some(r#""C:\Program Files\7-Zip\Uninstall.exe""#)
    );
    assert_eq!(
        zip.get("InstallLocation")
            .and_then(reg::Value::as_text)
            .as_deref(),
        Some(r"C:\Program Files\7-Zip\")
    );
}

#[test]
fn every_reg_value_type() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n\
        [HKEY_CURRENT_USER\\Software\\Ward]\r\n\
        @=\"default\"\r\n\
        \"Multi\"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\r\n\
        \"Q\"=hex(b):00,00,00,00,01,00,00,00\r\n\
        \"D\"=hex(4):10,00,00,00\r\n\
        \"Big\"=hex(5):00,00,00,10\r\n\
        \"Bin\"=hex:de,ad,\\\r\n  be,ef\r\n\
        \"Empty\"=hex:\r\n\
        \"None\"=hex(0):\r\n\
        \"Gone\"=-\r\n\
        \"Quote \\\"x\\\"\"=\"a\\\\b\"\r\n\
        ; a comment\r\n\
        \"Bad\"=dword:xyz\r\n\
        \r\n\
        [-HKEY_CURRENT_USER\\Software\\Old]\r\n";
    let keys = reg::parse(&exported(text));
    assert_eq!(keys.len(), 2);
    assert!(keys[1].deleted && keys[1].path == r"HKEY_CURRENT_USER\Software\Old");
    let k = &keys[0];
    use reg::Value as V;
    assert_eq!(
        k.values,
        [
            (String::new(), V::String("default".into())),
            (
                "Multi".into(),
                V::MultiString(vec!["a".into(), "bc".into()])
            ),
            ("Q".into(), V::Qword(1 << 32)),
            ("D".into(), V::Dword(16)),
            ("Big".into(), V::Dword(16)),
            (
                "Bin".into(),
                V::Binary {
                    kind: 3,
                    bytes: vec![0xde, 0xad, 0xbe, 0xef]
                }
            ),
            (
                "Empty".into(),
                V::Binary {
                    kind: 3,
                    bytes: vec![]
                }
            ),
            (
                "None".into(),
                V::Binary {
                    kind: 0,
                    bytes: vec![]
                }
            ),
            ("Gone".into(), V::Delete),
            ("Quote \"x\"".into(), V::String(r"a\b".into())),
        ]
    );
    assert_eq!(k.get("Q").and_then(reg::Value::as_u64), Some(1 << 32));
    assert_eq!(
        k.get("Multi").and_then(reg::Value::as_text).as_deref(),
        Some("a")
    );
}

#[test]
fn get_item_property_json_from_windows_powershell_5_1() {
    // Redirected with `>`, Windows PowerShell 5.1 writes UTF-16LE with a byte order mark.
    for bytes in [PS51.to_vec(), utf16le_bom(PS51)] {
        let entries = parse_uninstall_json(&bytes).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(
            rows(&packages(&entries, "x64")),
            [
                ("7-Zip 23.01 (x64)", "23.01", "x64", "exe", 5724 * 1024),
                (
                    "Notepad++ (32-bit x86)",
                    "8.6.2",
                    "x86",
                    "exe",
                    15163 * 1024
                ),
            ]
        );
        assert_eq!(entries[1].install_date.as_deref(), Some("2024-01-15"));
        assert!(entries[1].system_component && entries[1].windows_installer);
    }
}

#[test]
fn the_script_output_gives_what_the_reg_exports_give() {
    let from_json = parse_uninstall_json(SCRIPT_OUT).unwrap();
    let mut from_reg = Vec::new();
    for text in [HKLM, WOW, HKU] {
        from_reg.extend(parse_reg_export(&exported(text)));
    }
    assert_eq!(rows(&packages(&from_json, "x64")), listed());
    for (j, r) in from_json.iter().zip(&from_reg) {
        assert_eq!(normalize_key(&j.key), normalize_key(&r.key));
        let j = UninstallEntry {
            key: String::new(),
            ..j.clone()
        };
        let r = UninstallEntry {
            key: String::new(),
            ..r.clone()
        };
        assert_eq!(j, r);
    }
}

#[test]
fn one_entry_is_a_single_object_and_none_is_empty_output() {
    let one = br#"{"PSPath":"Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip","DisplayName":"7-Zip 23.01 (x64)","DisplayVersion":"23.01","EstimatedSize":"5724","SystemComponent":"0"}"#;
    let entries = parse_uninstall_json(one).unwrap();
    assert_eq!(
        rows(&packages(&entries, "x64")),
        [("7-Zip 23.01 (x64)", "23.01", "x64", "exe", 5724 * 1024)]
    );
    assert!(parse_uninstall_json(b"").unwrap().is_empty());
    assert!(parse_uninstall_json(b"\r\n").unwrap().is_empty());
    assert!(parse_uninstall_json(b"[]").unwrap().is_empty());
    assert!(parse_uninstall_json(b"null").unwrap().is_empty());
    let err = parse_uninstall_json(b"Get-ItemProperty : Access is denied").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Get-ItemProperty output is not valid json: "),
        "{err}"
    );
}

#[test]
fn hotfixes_from_windows_powershell_5_1_and_from_the_script() {
    let fixes = parse_hotfix_json(HOTFIX_PS51).unwrap();
    let got: Vec<(&str, &str, Option<&str>)> = fixes
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                f.description.as_str(),
                f.installed_on.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("KB5034467", "Update", Some("2024-01-16")),
            ("KB5027397", "Update", Some("2023-06-21")),
            ("KB5034765", "Security Update", Some("2024-02-14")),
            ("KB5034848", "Update", None),
        ]
    );
    let pkgs = hotfix_packages(&fixes);
    assert_eq!(pkgs.len(), 4);
    assert!(
        pkgs.iter()
            .all(|p| p.source == "msu" && p.version.is_empty() && p.state == "installed")
    );
    assert_eq!(pkgs[0].name, "KB5027397");
    assert_eq!(pkgs[0].install_time, 1_687_305_600);
    assert_eq!(pkgs[3].install_time, 0, "KB5034848 has no install day");

    let script = br#"[{"HotFixID":"KB5034765","Description":"Security Update","InstalledOn":"2024-02-14"},{"HotFixID":"File 1","Description":"Update","InstalledOn":null},{"HotFixID":"kb890830","Description":"Update","InstalledOn":"/Date(1715644800000+0200)/"}]"#;
    let fixes = parse_hotfix_json(script).unwrap();
    assert_eq!(fixes.len(), 2, "{fixes:?}");
    assert_eq!(fixes[0].installed_on.as_deref(), Some("2024-02-14"));
    assert_eq!(fixes[1].id, "KB890830");
    assert_eq!(fixes[1].installed_on.as_deref(), Some("2024-05-14"));
}

#[test]
fn key_spellings_normalize_to_one() {
    let want = r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432NODE\X";
    for k in [
        r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\X",
        r"HKLM\SOFTWARE\WOW6432Node\X\",
        r"HKLM:\SOFTWARE\WOW6432Node\X",
        r"Registry::HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\X",
        r"Microsoft.PowerShell.Core\Registry::HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\X",
    ] {
        assert_eq!(normalize_key(k), want, "{k}");
        assert_eq!(view_of(k), View::Wow64, "{k}");
    }
    assert_eq!(
        view_of(r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\X"),
        View::User
    );
    assert_eq!(view_of(r"HKEY_CLASSES_ROOT\X"), View::Unknown);
    assert_eq!(view_of(""), View::Unknown);
}

#[test]
fn only_direct_subkeys_of_uninstall_are_entries() {
    assert!(is_uninstall_entry(&format!("{}\\7-Zip", UNINSTALL_KEYS[0])));
    assert!(!is_uninstall_entry(UNINSTALL_KEYS[0]));
    assert!(!is_uninstall_entry(&format!(
        "{}\\7-Zip\\Sub",
        UNINSTALL_KEYS[0]
    )));
    assert!(!is_uninstall_entry(&format!("{}\\", UNINSTALL_KEYS[0])));
}

#[test]
fn days_start_at_utc_midnight() {
    assert_eq!(day_start("1970-01-01"), Some(0));
    assert_eq!(day_start("1969-12-31"), Some(-86_400));
    assert_eq!(day_start("2000-03-01"), Some(951_868_800));
    assert_eq!(day_start("2024-01-16"), Some(1_705_363_200));
    assert_eq!(day_start("2024-02-29"), Some(1_709_164_800));
    for bad in [
        "2023-02-29",
        "2024-04-31",
        "2024-13-01",
        "2024-00-10",
        "2024-1-011",
        "+024-01-01",
        "2024-01-16T00",
    ] {
        assert_eq!(day_start(bad), None, "{bad}");
    }
}

#[test]
fn dates_in_the_forms_powershell_writes() {
    use serde_json::json;
    assert_eq!(
        json_day(&json!("2024-05-14")).as_deref(),
        Some("2024-05-14")
    );
    assert_eq!(
        json_day(&json!("2024-05-14T00:00:00")).as_deref(),
        Some("2024-05-14")
    );
    assert_eq!(
        json_day(&json!("/Date(1715644800000)/")).as_deref(),
        Some("2024-05-14")
    );
    assert_eq!(
        json_day(&json!({"value": "/Date(1715644800000)/", "DateTime": "Tuesday, May 14, 2024"}))
            .as_deref(),
        Some("2024-05-14")
    );
    assert_eq!(json_day(&json!("/Date(-1000)/")), None);
    assert_eq!(json_day(&json!("/Date(99999999999999999)/")), None);
    assert_eq!(json_day(&json!("14.05.2024")), None);
    assert_eq!(yyyymmdd("20240116").as_deref(), Some("2024-01-16"));
    assert_eq!(yyyymmdd("20241316"), None);
    assert_eq!(yyyymmdd("1/16/2024"), None);
}

#[test]
fn names_are_one_line() {
    let one = br#"[{"DisplayName":"  Broken\r\nName\t ","DisplayVersion":"1.0\n"}]"#;
    let e = parse_uninstall_json(one).unwrap();
    assert_eq!(e[0].display_name, "Broken  Name");
    assert_eq!(e[0].display_version, "1.0");
}

#[test]
fn the_encoded_command_is_base64_of_utf16le() {
    // The example of `powershell -?`: -EncodedCommand for `dir "c:\program files" `.
    let args = powershell_args("dir \"c:\\program files\" ");
    assert_eq!(
        args.last().unwrap(),
        "ZABpAHIAIAAiAGMAOgBcAHAAcgBvAGcAcgBhAG0AIABmAGkAbABlAHMAIgAgAA=="
    );
    assert_eq!(args[args.len() - 2], "-EncodedCommand");
    assert!(args.contains(&"-NoProfile".to_owned()));
}

#[test]
fn the_scripts_name_the_keys_and_fields_parsed() {
    for key in UNINSTALL_KEYS.iter().take(2) {
        assert!(UNINSTALL_SCRIPT.contains(key), "{key}");
    }
    for field in [
        "PSPath",
        "DisplayName",
        "DisplayVersion",
        "Publisher",
        "InstallDate",
        "EstimatedSize",
        "SystemComponent",
        "ParentKeyName",
        "ReleaseType",
        "WindowsInstaller",
    ] {
        assert!(UNINSTALL_SCRIPT.contains(field), "{field}");
    }
    for field in ["HotFixID", "Description", "InstalledOn"] {
        assert!(HOTFIX_SCRIPT.contains(field), "{field}");
    }
}

proptest! {
    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_reg_export(&bytes);
        let _ = parse_uninstall_json(&bytes);
        let _ = parse_hotfix_json(&bytes);
    }

    #[test]
    fn no_reg_text_panics(text in "(\\[[-A-Z\\\\a-z]{0,20}\\]|\"[a-z\\\\\"]{0,8}\"=(\"[^\"]{0,8}\"?|dword:[0-9a-fx]{0,9}|hex(\\([0-9a-fx]{0,2}\\))?:[0-9a-f,\\\\ ]{0,20}|-)|@=.{0,5}|\\r?\\n){0,30}") {
        for k in reg::parse(text.as_bytes()) {
            for (_, v) in &k.values {
                let _ = (v.as_text(), v.as_u64());
            }
        }
        let _ = parse_reg_export(&exported(&text));
    }
}
