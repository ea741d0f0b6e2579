use proptest::prelude::*;

use super::*;

/// Four stanzas copied from this machine's status file (Debian 12).
const DEBIAN_12: &[u8] = include_bytes!("../../../../tests/fixtures/dpkg-status-debian12.txt");

fn key(p: &pb::Package) -> (&str, &str, &str, &str) {
    (&p.name, &p.version, &p.arch, &p.state)
}

#[test]
fn stanzas_captured_here() {
    let pkgs = parse_status(DEBIAN_12);
    let keys: Vec<_> = pkgs.iter().map(key).collect();
    assert_eq!(
        keys,
        [
            ("adduser", "3.134", "all", "installed"),
            ("bash", "5.2.15-2+b8", "amd64", "installed"),
            ("gdb", "13.1-3", "amd64", "installed"),
            ("bsdutils", "1:2.38.1-5+deb12u3", "amd64", "installed"),
        ]
    );
    assert!(pkgs.iter().all(|p| p.source == "deb" && p.epoch.is_empty()));
    assert_eq!(pkgs[0].installed_size, 686 * 1024);
    assert_eq!(pkgs[0].source_package, "");
    // "Source: bash (5.2.15-2)" names the package itself.
    assert_eq!(pkgs[1].source_package, "");
    assert_eq!(pkgs[3].source_package, "util-linux");
}

#[test]
fn crlf_and_missing_trailing_newline_change_nothing() {
    let expected = parse_status(DEBIAN_12);
    let crlf: Vec<u8> = DEBIAN_12
        .iter()
        .flat_map(|&b| {
            if b == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![b]
            }
        })
        .collect();
    assert_eq!(parse_status(&crlf), expected);
    assert_eq!(parse_status(DEBIAN_12.trim_ascii_end()), expected);
    let mut extra_blank = b"\n\n \t\n".to_vec();
    extra_blank.extend_from_slice(DEBIAN_12);
    extra_blank.extend_from_slice(b"\n\n\n");
    assert_eq!(parse_status(&extra_blank), expected);
}

#[test]
fn empty_input_has_no_packages() {
    assert!(parse_status(b"").is_empty());
    assert!(parse_status(b"\n\n\r\n").is_empty());
}

#[test]
fn every_dpkg_state() {
    let text = b"Package: gone\nStatus: purge ok not-installed\nArchitecture: amd64\n\n\
Package: oldconf\nStatus: deinstall ok config-files\nVersion: 1.0-1\nArchitecture: amd64\n\n\
Package: broken\nStatus: install reinstreq half-installed\nVersion: 2\nArchitecture: amd64\n\n\
Package: unp\nStatus: install ok unpacked\nVersion: 3\nArchitecture: amd64\n\n\
Package: halfconf\nStatus: install ok half-configured\nVersion: 4\nArchitecture: amd64\n\n\
Package: tawait\nStatus: install ok triggers-awaited\nVersion: 5\nArchitecture: amd64\n\n\
Package: tpend\nStatus: install ok triggers-pending\nVersion: 6\nArchitecture: amd64\n\n\
Package: held\nStatus: hold ok installed\nVersion: 7\nArchitecture: arm64\n";
    let pkgs = parse_status(text);
    let states: Vec<(&str, &str)> = pkgs
        .iter()
        .map(|p| (p.name.as_str(), p.state.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("oldconf", "config-files"),
            ("broken", "half-installed"),
            ("unp", "unpacked"),
            ("halfconf", "half-configured"),
            ("tawait", "triggers-awaited"),
            ("tpend", "triggers-pending"),
            ("held", "installed"),
        ]
    );
}

#[test]
fn non_utf8_bytes_are_replaced_per_field() {
    // A Latin-1 'é' (0xe9) in the version and in the description.
    let text = b"Package: cafe\nStatus: install ok installed\nVersion: 1.0-caf\xe9\n\
Architecture: amd64\nDescription: caf\xe9\n \xff\xfe\n";
    let pkgs = parse_status(text);
    assert_eq!(pkgs.len(), 1);
    assert_eq!(pkgs[0].version, "1.0-caf\u{fffd}");
    assert_eq!(pkgs[0].name, "cafe");
}

#[test]
fn field_names_are_case_insensitive_and_first_wins() {
    let text = b"PACKAGE: Shouty\nstatus: install ok installed\nVERSION:2.0\nversion: 3.0\n\
architecture:   i386  \nsource: shouty-src (1.9)\ninstalled-size: 12\n";
    let pkgs = parse_status(text);
    assert_eq!(pkgs.len(), 1);
    let p = &pkgs[0];
    assert_eq!(key(p), ("Shouty", "2.0", "i386", "installed"));
    assert_eq!(p.source_package, "shouty-src");
    assert_eq!(p.installed_size, 12 * 1024);
}

#[test]
fn continuation_lines_are_not_fields() {
    let text = b"Package: real\nStatus: install ok installed\nConffiles:\n /etc/real.conf 0123\n\
Description: looks like fields\n Package: fake\n\tVersion: 9\n .\nVersion: 1\nArchitecture: all\n";
    let pkgs = parse_status(text);
    assert_eq!(
        pkgs.iter().map(key).collect::<Vec<_>>(),
        [("real", "1", "all", "installed")]
    );
}

#[test]
fn stanzas_without_package_or_status_are_skipped() {
    let text = b"Status: install ok installed\nVersion: 1\n\n\
Package: nostatus\nVersion: 1\n\n\
Package: shortstatus\nStatus: install ok\n\n\
Package: \nStatus: install ok installed\n\n\
garbage line without a colon\n\n\
Package: kept\nStatus: install ok installed\nInstalled-Size: lots\n";
    let pkgs = parse_status(text);
    assert_eq!(pkgs.len(), 1);
    assert_eq!(pkgs[0].name, "kept");
    assert_eq!(pkgs[0].installed_size, 0);
}

#[test]
fn installed_size_saturates() {
    let text =
        b"Package: huge\nStatus: install ok installed\nInstalled-Size: 18446744073709551615\n";
    assert_eq!(parse_status(text)[0].installed_size, u64::MAX);
}

#[test]
fn this_machines_status_file_parses() {
    let Ok(bytes) = std::fs::read("/var/lib/dpkg/status") else {
        assert!(
            std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
            "/var/lib/dpkg/status missing: required where WARD_REQUIRE_TOOLS is set (CI)"
        );
        eprintln!("no /var/lib/dpkg/status here; skipped");
        return;
    };
    let stanzas = bytes
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(b"Package: "))
        .count();
    let pkgs = parse_status(&bytes);
    let not_installed = bytes
        .split(|b| *b == b'\n')
        .filter(|l| l.ends_with(b" not-installed"))
        .count();
    assert_eq!(pkgs.len(), stanzas - not_installed);
}

#[test]
fn journal_records_override_the_status_file_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join(UPDATES)).unwrap();
    let stanza = |name: &str, arch: &str, ma: &str, status: &str, version: &str| {
        format!(
            "Package: {name}\nStatus: {status}\nArchitecture: {arch}\n{ma}Version: {version}\n\
             Description: d\n more\n"
        )
    };
    let same = "Multi-Arch: same\n";
    let ok = "install ok installed";
    let status = [
        stanza("curl", "amd64", "", ok, "1.0"),
        stanza("foo", "amd64", "", ok, "1.0"),
        stanza("libc6", "amd64", same, ok, "2.36-1"),
        stanza("libc6", "i386", same, ok, "2.36-1"),
        stanza("tool", "amd64", "", ok, "1.0"),
    ]
    .join("\n");
    std::fs::write(p.join(STATUS), status).unwrap();
    let journal = [
        (
            "0000",
            stanza("curl", "amd64", "", "install ok half-configured", "2.0"),
        ),
        (
            "0001",
            stanza("foo", "amd64", "", "purge ok not-installed", ""),
        ),
        ("0002", stanza("libc6", "i386", same, ok, "2.36-2")),
        ("0003", stanza("curl", "amd64", "", ok, "2.0")),
        ("0004", stanza("tool", "all", "", ok, "1.1")),
        (
            "tmp.i",
            "Package: curl\nStatus: install ok installed\nVersion: 9\n".to_owned(),
        ),
    ];
    for (name, record) in journal {
        std::fs::write(p.join(UPDATES).join(name), record).unwrap();
    }

    let mut pkgs = read(&Root::new(p)).unwrap().unwrap();
    pkgs.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    let keys: Vec<_> = pkgs.iter().map(key).collect();
    assert_eq!(
        keys,
        [
            ("curl", "2.0", "amd64", "installed"),
            ("libc6", "2.36-1", "amd64", "installed"),
            ("libc6", "2.36-2", "i386", "installed"),
            ("tool", "1.1", "all", "installed"),
        ]
    );

    // One pass gives what the two separate reads give.
    let (packages, extras) = read_with_extras(&Root::new(p)).unwrap().unwrap();
    assert_eq!(packages, read(&Root::new(p)).unwrap().unwrap());
    assert_eq!(extras, read_extras(&Root::new(p)).unwrap().unwrap());
    assert_eq!(extras.len(), packages.len());
    assert!(
        read_with_extras(&Root::new(dir.path().join("none").as_path()))
            .unwrap()
            .is_none()
    );
}

#[test]
fn no_dpkg_is_absent_and_an_unreadable_journal_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    assert!(read(&Root::new(p)).unwrap().is_none());
    std::fs::create_dir_all(p.join(UPDATES).join("0000")).unwrap();
    std::fs::write(p.join(STATUS), "").unwrap();
    let err = read(&Root::new(p)).unwrap_err().to_string();
    assert!(err.contains("var/lib/dpkg/updates/0000"), "{err}");
}

fn token() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9.+~:-]{0,20}"
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_status(&bytes);
    }

    #[test]
    fn never_panics_on_field_shaped_noise(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("Package: p".to_owned()),
                Just("Status: install ok installed".to_owned()),
                Just("".to_owned()),
                Just(" continued".to_owned()),
                "[ -~\t\r\u{80}-\u{ff}]{0,30}",
            ],
            0..50,
        )
    ) {
        let _ = parse_status(lines.join("\n").as_bytes());
    }

    #[test]
    fn generated_status_files_round_trip(
        entries in proptest::collection::vec(
            (token(), token(), token(), prop_oneof![
                Just("installed"), Just("config-files"), Just("half-installed"),
                Just("unpacked"), Just("triggers-pending"),
            ], 0u64..1_000_000),
            0..20,
        ),
        crlf in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let text: String = entries
            .iter()
            .map(|(name, version, arch, state, size)| {
                format!(
                    "Package: {name}{nl}Status: install ok {state}{nl}Installed-Size: {size}{nl}\
                     Architecture: {arch}{nl}Version: {version}{nl}Description: d{nl} more{nl}{nl}"
                )
            })
            .collect();
        let parsed = parse_status(text.as_bytes());
        prop_assert_eq!(parsed.len(), entries.len());
        for (p, (name, version, arch, state, size)) in parsed.iter().zip(&entries) {
            prop_assert_eq!(key(p), (name.as_str(), version.as_str(), arch.as_str(), *state));
            prop_assert_eq!(p.installed_size, size * 1024);
        }
    }
}
