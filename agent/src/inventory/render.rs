//! The human summary `ward-agent inventory` prints: one small table per topic, and a
//! package count by state rather than every package.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};

use comfy_table::{Table, presets};
use ward_proto::v1 as pb;

use super::Inventory;

/// Renders an inventory as titled text tables.
pub fn render_table(inv: &Inventory) -> String {
    let mut out = String::new();
    section(&mut out, "System", &key_values(&system_rows(&inv.os)));

    let cpu = inv.hardware.cpu.clone().unwrap_or_default();
    let mem = inv.hardware.memory.unwrap_or_default();
    let compute = [
        ("CPU", or_dash(&cpu.model)),
        ("Vendor", or_dash(&cpu.vendor)),
        (
            "Sockets / cores / threads",
            format!(
                "{} / {} / {}",
                known(cpu.sockets),
                known(cpu.physical_cores),
                known(cpu.logical_cores)
            ),
        ),
        ("Max MHz", known(cpu.max_mhz)),
        ("Memory", bytes(mem.total_bytes)),
        ("Swap", bytes(mem.swap_total_bytes)),
    ];
    section(&mut out, "CPU and memory", &key_values(&compute));

    let mut fs = table(&["Mount", "Device", "Type", "Size", "Free", "Used"]);
    for f in &inv.hardware.filesystems {
        let used = match f.total_bytes {
            0 => "-".to_owned(),
            total => format!("{:.0}%", 100.0 * (1.0 - f.free_bytes as f64 / total as f64)),
        };
        fs.add_row(vec![
            f.mount_point.clone(),
            f.device.clone(),
            f.fs_type.clone(),
            bytes(f.total_bytes),
            bytes(f.free_bytes),
            used,
        ]);
    }
    section_or(&mut out, "Filesystems", &fs, "none");

    let mut disks = table(&[
        "Disk",
        "Model",
        "Vendor",
        "Serial",
        "Size",
        "Media",
        "Removable",
    ]);
    for d in &inv.hardware.block_devices {
        let media = match d.rotational {
            Some(true) => "rotational",
            Some(false) => "solid-state",
            None => "-",
        };
        disks.add_row(vec![
            d.name.clone(),
            or_dash(&d.model),
            or_dash(&d.vendor),
            or_dash(&d.serial),
            bytes(d.size_bytes),
            media.to_owned(),
            yes_no(d.removable).to_owned(),
        ]);
    }
    section_or(&mut out, "Disks", &disks, "none");

    let mut ifaces = table(&["Interface", "MAC", "MTU", "State", "Kind", "Addresses"]);
    for i in &inv.hardware.interfaces {
        ifaces.add_row(vec![
            i.name.clone(),
            or_dash(&i.mac),
            known(i.mtu),
            if i.up { "up" } else { "down" }.to_owned(),
            if i.r#virtual { "virtual" } else { "physical" }.to_owned(),
            if i.addresses.is_empty() {
                "-".to_owned()
            } else {
                i.addresses.join("\n")
            },
        ]);
    }
    section_or(&mut out, "Network interfaces", &ifaces, "none");

    match &inv.hardware.dmi {
        Some(dmi) => section(&mut out, "DMI", &key_values(&dmi_rows(dmi))),
        None => note(
            &mut out,
            "DMI",
            "none exposed (normal for many VMs and ARM boards)",
        ),
    }

    let mut gpus = table(&["Card", "Vendor", "Device", "Driver", "PCI slot"]);
    for g in &inv.hardware.gpus {
        gpus.add_row(vec![
            g.card.clone(),
            or_dash(&g.vendor_id),
            or_dash(&g.device_id),
            or_dash(&g.driver),
            or_dash(&g.pci_slot),
        ]);
    }
    section_or(&mut out, "GPUs", &gpus, "none");

    let mut by_state: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for p in &inv.software.packages {
        *by_state
            .entry((p.source.as_str(), p.state.as_str()))
            .or_default() += 1;
    }
    let mut packages = table(&["Format", "State", "Packages"]);
    for ((source, state), n) in &by_state {
        packages.add_row(vec![
            (*source).to_owned(),
            (*state).to_owned(),
            n.to_string(),
        ]);
    }
    if by_state.len() > 1 {
        let total = inv.software.packages.len().to_string();
        packages.add_row(vec!["".to_owned(), "total".to_owned(), total]);
    }
    section_or(&mut out, "Packages", &packages, "none found");
    out
}

fn system_rows(os: &pb::OsInfo) -> Vec<(&'static str, String)> {
    let mut release = os.os_id.clone();
    for extra in [&os.os_version_id, &os.os_codename] {
        if !extra.is_empty() {
            release = format!("{release} {extra}");
        }
    }
    let booted = u64::try_from(os.boot_time)
        .ok()
        .filter(|t| *t > 0)
        .map(|t| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t)).to_string())
        .unwrap_or_else(|| "-".to_owned());
    vec![
        ("Hostname", or_dash(&os.hostname)),
        ("OS", or_dash(&os.os_pretty_name)),
        ("Release", or_dash(release.trim())),
        ("Like", or_dash(&os.os_id_like)),
        ("Kernel", or_dash(&os.kernel_release)),
        ("Kernel build", or_dash(&os.kernel_version)),
        ("Architecture", or_dash(&os.architecture)),
        ("Machine ID", or_dash(&os.machine_id)),
        ("Booted", booted),
        ("Virtualization", or_dash(&os.virtualization)),
        ("Container", or_dash(&os.container)),
    ]
}

fn dmi_rows(dmi: &pb::Dmi) -> Vec<(&'static str, String)> {
    vec![
        ("System vendor", or_dash(&dmi.system_vendor)),
        ("Product", or_dash(&dmi.product_name)),
        ("Product version", or_dash(&dmi.product_version)),
        ("Serial", or_dash(&dmi.product_serial)),
        ("UUID", or_dash(&dmi.product_uuid)),
        (
            "Board",
            format!("{} {}", dmi.board_vendor, dmi.board_name)
                .trim()
                .to_owned(),
        ),
        ("Board serial", or_dash(&dmi.board_serial)),
        ("Chassis", or_dash(&dmi.chassis_type)),
        (
            "BIOS",
            format!("{} {}", dmi.bios_vendor, dmi.bios_version)
                .trim()
                .to_owned(),
        ),
        ("BIOS date", or_dash(&dmi.bios_date)),
    ]
}

pub(crate) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

pub(crate) fn key_values(rows: &[(&str, String)]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    for (k, v) in rows {
        t.add_row(vec![(*k).to_owned(), v.clone()]);
    }
    t
}

pub(crate) fn section(out: &mut String, title: &str, table: &Table) {
    let _ = writeln!(out, "{title}\n{table}\n");
}

pub(crate) fn section_or(out: &mut String, title: &str, table: &Table, empty: &str) {
    if table.row_count() == 0 {
        note(out, title, empty);
    } else {
        section(out, title, table);
    }
}

pub(crate) fn note(out: &mut String, title: &str, text: &str) {
    let _ = writeln!(out, "{title}: {text}\n");
}

pub(crate) fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

fn known(n: u32) -> String {
    if n == 0 {
        "?".to_owned()
    } else {
        n.to_string()
    }
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Formats a byte count with binary units ("23.5 GiB"); 0 shows as "-".
fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n == 0 {
        return "-".to_owned();
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Inventory {
        let pkg = |name: &str, state: &str| pb::Package {
            name: name.into(),
            version: "1".into(),
            arch: "amd64".into(),
            source: "deb".into(),
            state: state.into(),
            ..Default::default()
        };
        Inventory {
            os: pb::OsInfo {
                hostname: "web-01".into(),
                os_pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
                boot_time: 1_700_000_000,
                ..Default::default()
            },
            hardware: pb::Hardware {
                cpu: Some(pb::Cpu {
                    model: "AMD EPYC".into(),
                    logical_cores: 2,
                    ..Default::default()
                }),
                memory: Some(pb::Memory {
                    total_bytes: 24_684_092 * 1024,
                    swap_total_bytes: 0,
                }),
                filesystems: vec![pb::Filesystem {
                    mount_point: "/".into(),
                    device: "/dev/vda".into(),
                    fs_type: "ext4".into(),
                    total_bytes: 100,
                    free_bytes: 25,
                }],
                ..Default::default()
            },
            software: pb::Software {
                packages: vec![
                    pkg("a", "installed"),
                    pkg("b", "installed"),
                    pkg("c", "config-files"),
                ],
            },
        }
    }

    #[test]
    fn summary_shows_facts_and_counts_not_packages() {
        let text = render_table(&sample());
        for needle in [
            "web-01",
            "Debian GNU/Linux 12 (bookworm)",
            "2023-11-14T22:13:20Z",
            "AMD EPYC",
            "? / ? / 2",
            "23.5 GiB",
            "/dev/vda",
            "75%",
            "DMI: none exposed",
            "GPUs: none",
            "Disks: none",
            "config-files",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
        let installed = text
            .lines()
            .find(|l| l.contains("installed") && !l.contains("config"))
            .unwrap();
        assert!(installed.contains(" 2 "), "{installed}");
        assert!(
            text.lines()
                .any(|l| l.contains("total") && l.contains(" 3 ")),
            "{text}"
        );
        assert!(
            !text.contains(" b "),
            "package names are not listed:\n{text}"
        );
    }

    #[test]
    fn byte_units() {
        assert_eq!(bytes(0), "-");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(u64::MAX), "16384.0 PiB");
    }
}
