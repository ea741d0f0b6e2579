use serde::de::DeserializeOwned;
use serde_json::Value;

use super::*;

const NOW: i64 = 1_795_000_000;

fn view(format: Format) -> View {
    View {
        format,
        now: NOW,
        width: None,
    }
}

fn summary(id: &str, hostname: &str) -> pb::HostSummary {
    pb::HostSummary {
        id: id.into(),
        hostname: hostname.into(),
        os_id: "debian".into(),
        os_pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
        kernel_release: "6.1.0-28-amd64".into(),
        architecture: "x86_64".into(),
        enrolled_at: NOW - 86_400 * 3,
        last_seen: NOW - 180,
        last_report: NOW - 180,
        software_count: 412,
        memory_bytes: 8_348_520_448,
        logical_cores: 4,
        agent_version: "0.1.0".into(),
        machine_id: "4c4c4544004c3510804ab4c04f4e3732".into(),
    }
}

fn package(name: &str, version: &str, state: &str) -> pb::Package {
    pb::Package {
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        source: "deb".into(),
        state: state.into(),
        ..Default::default()
    }
}

fn full_host() -> pb::GetHostResponse {
    pb::GetHostResponse {
        summary: Some(summary("0193a2b4-7c1e-7d2a-9f3b-1a2b3c4d5e6f", "web-1")),
        os: Some(pb::OsInfo {
            hostname: "web-1".into(),
            os_id: "debian".into(),
            os_version_id: "12".into(),
            os_codename: "bookworm".into(),
            virtualization: "kvm".into(),
            boot_time: NOW - 7_200,
            ..Default::default()
        }),
        hardware: Some(pb::Hardware {
            cpu: Some(pb::Cpu {
                model: "AMD EPYC 7763 64-Core Processor".into(),
                vendor: "AuthenticAMD".into(),
                physical_cores: 2,
                logical_cores: 4,
                sockets: 1,
                max_mhz: 0,
            }),
            memory: Some(pb::Memory {
                total_bytes: 8_348_520_448,
                swap_total_bytes: 0,
            }),
            filesystems: vec![pb::Filesystem {
                mount_point: "/".into(),
                device: "/dev/vda1".into(),
                fs_type: "ext4".into(),
                total_bytes: 100 << 30,
                free_bytes: 25 << 30,
            }],
            block_devices: vec![pb::BlockDevice {
                name: "vda".into(),
                size_bytes: 100 << 30,
                rotational: Some(false),
                ..Default::default()
            }],
            interfaces: vec![pb::NetworkInterface {
                name: "eth0".into(),
                mac: "52:54:00:12:34:56".into(),
                addresses: vec!["192.0.2.4/24".into(), "fe80::5054:ff:fe12:3456/64".into()],
                mtu: 1500,
                up: true,
                r#virtual: false,
            }],
            dmi: None,
            gpus: vec![],
        }),
        software: Some(pb::Software {
            packages: vec![
                package("bash", "5.2.15-2+b7", "installed"),
                package("libc6", "2.36-9+deb12u7", "installed"),
                package("oldpkg", "1.0-1", "config-files"),
            ],
        }),
        posture: None,
    }
}

fn token() -> pb::CreateEnrollmentTokenResponse {
    pb::CreateEnrollmentTokenResponse {
        token: "wet_3q2+7w==".into(),
        id: "tok-1".into(),
        expires_at: NOW + 3_600,
        uses: 1,
    }
}

fn hint(loopback: bool) -> EnrollHint {
    EnrollHint {
        collector: "https://127.0.0.1:7443".into(),
        ca_fingerprint: format!("SHA256:{}", "ab".repeat(32)),
        loopback,
    }
}

#[test]
fn hosts_json_is_an_array_of_host_objects_with_integer_times() {
    let hosts = [summary("id-1", "web-1"), summary("id-2", "db-1")];
    let text = super::hosts(&view(Format::Json), &hosts).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let array = value.as_array().unwrap();
    assert_eq!(array.len(), 2);
    assert_eq!(array[0]["id"], "id-1");
    assert_eq!(array[0]["hostname"], "web-1");
    assert_eq!(array[0]["last_seen"], NOW - 180);
    assert_eq!(array[0]["software_count"], 412);
    assert_eq!(array[1]["hostname"], "db-1");
    // An empty fleet is still an array.
    assert_eq!(super::hosts(&view(Format::Json), &[]).unwrap().trim(), "[]");
}

#[test]
fn token_json_is_an_object_with_the_token() {
    let text = super::token(&view(Format::Json), &token(), &hint(true)).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["token"], "wet_3q2+7w==");
    assert_eq!(value["id"], "tok-1");
    assert_eq!(value["expires_at"], NOW + 3_600);
    assert_eq!(value["uses"], 1);
}

#[test]
fn host_json_is_the_whole_answer() {
    let text = super::host(&view(Format::Json), &full_host()).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["summary"]["hostname"], "web-1");
    assert_eq!(value["os"]["os_codename"], "bookworm");
    assert_eq!(value["hardware"]["cpu"]["logical_cores"], 4);
    assert_eq!(
        value["software"]["packages"][1]["version"],
        "2.36-9+deb12u7"
    );
}

#[test]
fn software_json_is_an_array_of_matches() {
    let m = pb::SoftwareMatch {
        host_id: "id-1".into(),
        name: "openssl".into(),
        ..Default::default()
    };
    let query = SoftwareQuery {
        name: "openssl",
        below: None,
    };
    let text = super::software(&view(Format::Json), query, &[m]).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value[0]["host_id"], "id-1");
    assert_eq!(
        super::software(&view(Format::Json), query, &[])
            .unwrap()
            .trim(),
        "[]"
    );
}

#[test]
fn csv_has_a_header_row_and_one_row_per_item() {
    let hosts = [summary("id-1", "web,1")];
    let text = super::hosts(&view(Format::Csv), &hosts).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,hostname,os_id,os_pretty_name,kernel_release,architecture,logical_cores,memory_bytes,software_count,agent_version,enrolled_at,last_seen,last_report"
        )
    );
    // Quoted where needed, times as integers.
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "id-1,\"web,1\",debian,Debian GNU/Linux 12 (bookworm),6.1.0-28-amd64,x86_64,4,8348520448,412,0.1.0,{},{},{}",
                NOW - 259_200,
                NOW - 180,
                NOW - 180
            )
            .as_str()
        )
    );
    assert_eq!(lines.next(), None);

    let text = super::host(&view(Format::Csv), &full_host()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "name,version,arch,source,state");
    assert_eq!(lines[2], "libc6,2.36-9+deb12u7,amd64,deb,installed");
    assert_eq!(lines.len(), 4);

    let query = SoftwareQuery {
        name: "x",
        below: None,
    };
    let text = super::software(&view(Format::Csv), query, &[]).unwrap();
    assert_eq!(
        text,
        "host_id,hostname,name,version,arch,source,state,last_seen\n"
    );

    let text = super::token(&view(Format::Csv), &token(), &hint(false)).unwrap();
    assert_eq!(
        text,
        format!(
            "token,id,expires_at,uses\nwet_3q2+7w==,tok-1,{},1\n",
            NOW + 3_600
        )
    );
}

#[test]
fn hosts_table_is_readable() {
    let hosts = [summary("0193a2b4-7c1e-7d2a-9f3b-1a2b3c4d5e6f", "web-1")];
    let text = super::hosts(&view(Format::Table), &hosts).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for header in [
        "HOSTNAME",
        "ID",
        "OS",
        "KERNEL",
        "CORES",
        "MEMORY",
        "PACKAGES",
        "LAST SEEN",
    ] {
        assert!(lines[0].contains(header), "{text}");
    }
    for cell in [
        "web-1",
        "0193a2b4",
        "Debian GNU/Linux 12 (bookworm)",
        "7.8 GiB",
        "412",
        "3m ago",
    ] {
        assert!(lines[1].contains(cell), "{cell} missing in {text}");
    }
    assert!(
        !lines[1].contains("0193a2b4-"),
        "id should be short: {text}"
    );
    assert!(
        lines.iter().all(|l| l == &l.trim_end()),
        "trailing spaces: {text:?}"
    );
    assert_eq!(
        super::hosts(&view(Format::Table), &[]).unwrap(),
        "no hosts match\n"
    );
}

#[test]
fn tables_fit_the_terminal_width() {
    let mut host = summary("id-1", "web-1");
    host.os_pretty_name = "A very long operating system name that goes on and on and on".into();
    let narrow = View {
        width: Some(100),
        ..view(Format::Table)
    };
    let text = super::hosts(&narrow, &[host]).unwrap();
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    assert!(
        text.lines().count() > 2,
        "the long name should wrap: {text}"
    );
}

#[test]
fn host_table_shows_every_section() {
    let text = super::host(&view(Format::Table), &full_host()).unwrap();
    for needle in [
        "web-1",
        "0193a2b4-7c1e-7d2a-9f3b-1a2b3c4d5e6f",
        "debian 12 bookworm",
        "kvm",
        "booted",
        "(2h ago)",
        "AMD EPYC 7763",
        "2 physical, 4 logical, 1 socket(s)",
        "Filesystems",
        "/dev/vda1",
        "75%",
        "Disks",
        "ssd",
        "Interfaces",
        "192.0.2.4/24",
        "DMI",
        "absent",
        "3 total, 2 installed (other states: config-files 1)",
        "by format: deb 3",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    let empty = pb::GetHostResponse {
        summary: Some(summary("id-1", "new-host")),
        ..Default::default()
    };
    let text = super::host(&view(Format::Table), &empty).unwrap();
    assert!(text.contains("Hardware\nnot reported yet"), "{text}");
    assert!(text.contains("Packages\nnot reported yet"), "{text}");
}

#[test]
fn token_table_shows_how_to_enrol() {
    let text = super::token(&view(Format::Table), &token(), &hint(true)).unwrap();
    assert!(text.contains("wet_3q2+7w=="), "{text}");
    assert!(text.contains("(in 1h)"), "{text}");
    let fingerprint = format!("SHA256:{}", "ab".repeat(32));
    assert!(
        text.contains(&format!(
            "ward-agent enroll --collector https://127.0.0.1:7443 --ca-fingerprint {fingerprint} --token-file FILE"
        )),
        "{text}"
    );
    assert!(text.contains("is this machine only"), "{text}");
    let text = super::token(&view(Format::Table), &token(), &hint(false)).unwrap();
    assert!(!text.contains("is this machine only"), "{text}");
}

#[test]
fn empty_software_answers_say_what_was_looked_for() {
    let table = view(Format::Table);
    let query = SoftwareQuery {
        name: "openssl",
        below: None,
    };
    assert_eq!(
        super::software(&table, query, &[]).unwrap(),
        "no host has openssl\n"
    );
    let query = SoftwareQuery {
        name: "openssl",
        below: Some("3.0.13-1~deb12u1"),
    };
    assert_eq!(
        super::software(&table, query, &[]).unwrap(),
        "no host has openssl below 3.0.13-1~deb12u1\n"
    );
    let m = pb::SoftwareMatch {
        host_id: "0193a2b4-7c1e-7d2a-9f3b-1a2b3c4d5e6f".into(),
        hostname: "web-1".into(),
        name: "openssl".into(),
        version: "3.0.11-1~deb12u2".into(),
        arch: "amd64".into(),
        source: "deb".into(),
        state: "installed".into(),
        last_seen: NOW,
    };
    let text = super::software(&table, query, &[m]).unwrap();
    assert!(
        text.lines().nth(1).unwrap().contains("3.0.11-1~deb12u2"),
        "{text}"
    );
}

#[test]
fn times_and_sizes_read_well() {
    assert_eq!(timestamp(0), "never");
    assert_eq!(timestamp(1_700_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(age(0, NOW), "never");
    assert_eq!(age(NOW, NOW), "0s ago");
    assert_eq!(age(NOW - 59, NOW), "59s ago");
    assert_eq!(age(NOW - 180, NOW), "3m ago");
    assert_eq!(age(NOW - 7_200, NOW), "2h ago");
    assert_eq!(age(NOW - 47 * 3_600, NOW), "47h ago");
    assert_eq!(age(NOW - 3 * 86_400, NOW), "3d ago");
    assert_eq!(age(NOW + 3_600, NOW), "in 1h");
    assert_eq!(
        when(1_700_000_000, 1_700_000_180),
        "2023-11-14T22:13:20Z (3m ago)"
    );
    assert_eq!(bytes(0), "-");
    assert_eq!(bytes(512), "512 B");
    assert_eq!(bytes(1536), "1.5 KiB");
    assert_eq!(bytes(8_348_520_448), "7.8 GiB");
    assert_eq!(bytes(u64::MAX), "16.0 EiB");
}

#[test]
fn short_ids_stay_distinct() {
    let ids = [
        "0193a2b4-7c1e-7d2a-9f3b-1a2b3c4d5e6f",
        "0193a2b4-7c1f-7000-8000-000000000000",
        "ffffffff-0000-4000-8000-000000000000",
        "abc",
    ];
    let short = short_ids(ids.iter().copied());
    assert_eq!(short, ["0193a2b4-7c1e", "0193a2b4-7c1f", "ffffffff", "abc"]);
    assert_eq!(
        short_ids(["same-id-123", "same-id-123"].into_iter()),
        ["same-id-"; 2]
    );
}

/// An OSC sequence that retitles the terminal, then plain text.
const OSC: &str = "\u{1b}]0;pwned\u{7}evil";
/// A formula a spreadsheet would run.
const FORMULA: &str = "=HYPERLINK(\"http://evil.example/\",\"click\")";

/// Returns `value` with `prefix` put before every string in it, however deep: no field a
/// renderer shows can be missed.
fn poisoned<T: Serialize + DeserializeOwned>(value: &T, prefix: &str) -> T {
    fn walk(value: &mut Value, prefix: &str) {
        match value {
            Value::String(s) => *s = format!("{prefix}{s}"),
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, prefix)),
            Value::Object(fields) => fields.values_mut().for_each(|v| walk(v, prefix)),
            _ => {}
        }
    }
    let mut json = serde_json::to_value(value).unwrap();
    walk(&mut json, prefix);
    serde_json::from_value(json).unwrap()
}

/// A host with every section present (DMI and a GPU too), so that every field shows.
fn every_section() -> pb::GetHostResponse {
    let mut host = full_host();
    let hardware = host.hardware.as_mut().unwrap();
    hardware.dmi = Some(pb::Dmi::default());
    hardware.gpus = vec![pb::Gpu::default()];
    host
}

fn software_match(hostname: &str, name: &str, version: &str) -> pb::SoftwareMatch {
    pb::SoftwareMatch {
        host_id: "0193a2b4-7c1e-7d2a-9f3b-1a2b3c4d5e6f".into(),
        hostname: hostname.into(),
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        source: "deb".into(),
        state: "installed".into(),
        last_seen: NOW,
    }
}

fn assert_no_control_characters(text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(bad.is_empty(), "control characters {bad:?} in:\n{text}");
}

#[test]
fn tables_show_control_characters_from_hosts_as_escapes() {
    let table = view(Format::Table);
    let shown = r"\u{1b}]0;pwned\u{7}evil";

    let text = super::hosts(&table, &[summary("id-1", OSC)]).unwrap();
    assert_no_control_characters(&text);
    assert!(text.contains(shown), "{text}");
    // A newline in a hostname stays in its cell instead of faking a second host.
    let text = super::hosts(&table, &[summary("id-1", "web-1\ndb-1\tx\r\u{7f}\u{9b}")]).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(r"web-1\ndb-1\tx\r\u{7f}\u{9b}"), "{text}");

    let query = SoftwareQuery {
        name: "openssl",
        below: None,
    };
    let text = super::software(&table, query, &[software_match(OSC, OSC, OSC)]).unwrap();
    assert_no_control_characters(&text);
    assert_eq!(text.matches(shown).count(), 3, "{text}");

    // Every string of a host, in every section.
    let host = poisoned(&every_section(), OSC);
    let text = super::host(&table, &host).unwrap();
    assert_no_control_characters(&text);
    assert!(text.contains(&format!("{shown}web-1")), "{text}");
    assert!(text.contains(&format!("{shown}192.0.2.4/24\n")), "{text}");
    assert!(text.contains(&format!("{shown}config-files 1")), "{text}");
    let text = super::software(
        &table,
        query,
        &[poisoned(&software_match("h", "n", "v"), OSC)],
    );
    assert_no_control_characters(&text.unwrap());
    let text = super::token(&table, &poisoned(&token(), OSC), &hint(false)).unwrap();
    assert_no_control_characters(&text);
}

#[test]
fn csv_fields_from_hosts_cannot_run_as_formulas() {
    let csv_view = view(Format::Csv);
    let mut host = summary("id-1", FORMULA);
    host.os_pretty_name = "@SUM(1+1)".into();
    host.kernel_release = "-2+3".into();
    host.architecture = "+cmd".into();
    host.agent_version = "\t=1".into();
    host.last_seen = -1;
    let text = super::hosts(&csv_view, &[host]).unwrap();
    let row = csv::Reader::from_reader(text.as_bytes())
        .into_records()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(&row[1], format!("'{FORMULA}"));
    assert_eq!(&row[3], "'@SUM(1+1)");
    assert_eq!(&row[4], "'-2+3");
    assert_eq!(&row[5], "'+cmd");
    assert_eq!(&row[9], "'\t=1");
    // Numbers stay numbers, plain text stays as it is.
    assert_eq!(&row[11], "-1");
    assert_eq!(&row[2], "debian");

    let query = SoftwareQuery {
        name: "x",
        below: None,
    };
    let m = software_match("web-1", FORMULA, "\r=1");
    let text = super::software(&csv_view, query, &[m]).unwrap();
    let row = csv::Reader::from_reader(text.as_bytes())
        .into_records()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(&row[2], format!("'{FORMULA}"));
    assert_eq!(&row[3], "'\r=1");

    // Every string field of every CSV answer.
    for text in [
        super::hosts(&csv_view, &[poisoned(&summary("id-1", "web-1"), FORMULA)]),
        super::host(&csv_view, &poisoned(&every_section(), FORMULA)),
        super::software(
            &csv_view,
            query,
            &[poisoned(&software_match("h", "n", "v"), FORMULA)],
        ),
        super::token(&csv_view, &poisoned(&token(), FORMULA), &hint(false)),
    ] {
        let text = text.unwrap();
        for row in csv::Reader::from_reader(text.as_bytes()).into_records() {
            for field in &row.unwrap() {
                assert!(!field.starts_with('='), "{field:?} in:\n{text}");
            }
        }
    }
}

#[test]
fn json_keeps_hostile_text_exact() {
    let text = super::hosts(&view(Format::Json), &[summary("id-1", OSC)]).unwrap();
    assert_no_control_characters(&text);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value[0]["hostname"], OSC);
    let text = super::hosts(&view(Format::Json), &[summary("id-1", FORMULA)]).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value[0]["hostname"], FORMULA);
}
