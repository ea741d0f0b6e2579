//! Hardware facts: CPU, memory, mounted filesystems, block devices, network interfaces,
//! DMI identification and GPUs, read from procfs and sysfs under the root.

use std::collections::{BTreeMap, BTreeSet};

use ward_proto::v1 as pb;

use super::root::{Root, basename};

/// Filesystem types left out of the filesystem list: kernel pseudo filesystems, memory
/// backed ones (tmpfs, ramfs) whose contents vanish at reboot, and read-only package
/// images (squashfs snaps) whose size never changes. Anything else is kept, including
/// overlay (container roots), network filesystems and FUSE mounts.
const PSEUDO_FILESYSTEMS: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fuse.gvfsd-fuse",
    "fuse.lxcfs",
    "fuse.portal",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nfsd",
    "nsfs",
    "proc",
    "pstore",
    "ramfs",
    "rootfs",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "squashfs",
    "sysfs",
    "tmpfs",
    "tracefs",
];

/// Network filesystems: listed, but never statvfs'd, because statvfs on a mount whose
/// server is gone blocks indefinitely and would hang the whole collection.
const NETWORK_FILESYSTEMS: &[&str] = &[
    "9p",
    "afs",
    "ceph",
    "cifs",
    "glusterfs",
    "lustre",
    "ncpfs",
    "nfs",
    "nfs4",
    "smb3",
    "smbfs",
    "fuse.sshfs",
];

/// Block devices that hold no hardware: loop (file backed), ram and zram (memory
/// backed), nbd (network backed; idle slots are always present).
const VIRTUAL_BLOCK_PREFIXES: &[&str] = &["loop", "ram", "zram", "nbd"];

/// `IFF_UP` from linux/if.h: the administrative up flag in /sys/class/net/*/flags.
const IFF_UP: u64 = 0x1;

/// Collects the hardware section from the files under `root` (and, when `root` is the
/// live system, from statvfs and the kernel's interface address list).
pub(crate) fn collect(root: &Root) -> pb::Hardware {
    pb::Hardware {
        cpu: Some(cpu(root)),
        memory: Some(
            root.read_string("proc/meminfo")
                .map(|s| parse_meminfo(&s))
                .unwrap_or_default(),
        ),
        filesystems: filesystems(root),
        block_devices: block_devices(root),
        interfaces: interfaces(root),
        dmi: dmi(root),
        gpus: gpus(root),
    }
}

/// Parses /proc/cpuinfo text.
///
/// Logical cores are the `processor` entries. Sockets and physical cores come from the
/// distinct `physical id` and (`physical id`, `core id`) pairs, and are 0 when the text
/// lacks them (most ARM kernels: sysfs topology fills them in). `max_mhz` here is the
/// highest `cpu MHz`, which without cpufreq (VMs) is the nominal clock.
pub fn parse_cpuinfo(text: &str) -> pb::Cpu {
    let mut logical = 0u32;
    let mut sockets = BTreeSet::new();
    let mut cores = BTreeSet::new();
    let mut physical_id: Option<&str> = None;
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    let mut max_mhz = 0f64;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            // ARMv6/7 kernels print "Processor : ARMv7 Processor rev 3" as the model.
            "processor" if value.bytes().all(|b| b.is_ascii_digit()) => {
                logical = logical.saturating_add(1);
                physical_id = None;
            }
            "physical id" => {
                physical_id = Some(value);
                sockets.insert(value);
            }
            "core id" => {
                if let Some(p) = physical_id {
                    cores.insert((p, value));
                }
            }
            "cpu MHz" => {
                if let Ok(mhz) = value.parse::<f64>() {
                    max_mhz = max_mhz.max(mhz);
                }
            }
            _ => {
                first.entry(key).or_insert(value);
            }
        }
    }
    let get = |k: &str| first.get(k).copied().filter(|v| !v.is_empty());
    let implementer = get("CPU implementer");
    let vendor = get("vendor_id")
        .map(str::to_owned)
        .or_else(|| implementer.map(|i| arm_implementer(i).to_owned()))
        .unwrap_or_default();
    let model = get("model name")
        .or_else(|| get("Processor"))
        .or_else(|| get("cpu model"))
        .or_else(|| get("cpu"))
        .map(str::to_owned)
        .or_else(|| {
            let part = get("CPU part")?;
            Some(arm_part(implementer.unwrap_or_default(), part))
        })
        .unwrap_or_default();
    pb::Cpu {
        model,
        vendor,
        physical_cores: count(cores.len()),
        logical_cores: logical,
        sockets: count(sockets.len()),
        // Float to int saturates; NaN cannot arise from a parsed decimal.
        max_mhz: max_mhz.round() as u32,
    }
}

/// Parses /proc/meminfo text: MemTotal and SwapTotal, converted from KiB to bytes.
pub fn parse_meminfo(text: &str) -> pb::Memory {
    let kib = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |v| v.saturating_mul(1024))
    };
    pb::Memory {
        total_bytes: kib("MemTotal"),
        swap_total_bytes: kib("SwapTotal"),
    }
}

/// Parses /proc/self/mounts text into filesystems without sizes, dropping pseudo
/// filesystems (see [`PSEUDO_FILESYSTEMS`]) and keeping only the last mount of each
/// mount point, the one that shadows the others.
pub fn parse_mounts(text: &str) -> Vec<pb::Filesystem> {
    let mut by_point: BTreeMap<String, pb::Filesystem> = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(device), Some(point), Some(fs_type)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if PSEUDO_FILESYSTEMS.contains(&fs_type) {
            continue;
        }
        let mount_point = unescape_mount(point);
        by_point.insert(
            mount_point.clone(),
            pb::Filesystem {
                mount_point,
                device: unescape_mount(device),
                fs_type: fs_type.to_owned(),
                total_bytes: 0,
                free_bytes: 0,
            },
        );
    }
    by_point.into_values().collect()
}

/// Undoes the kernel's octal escapes in mount fields (`\040` for space, `\011` tab,
/// `\012` newline, `\134` backslash).
fn unescape_mount(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            let s = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(s, 8).ok()
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Returns the ARM implementer's name for a `CPU implementer` code.
fn arm_implementer(code: &str) -> &str {
    match code.to_ascii_lowercase().as_str() {
        "0x41" => "ARM",
        "0x42" => "Broadcom",
        "0x43" => "Cavium",
        "0x48" => "HiSilicon",
        "0x4e" => "NVIDIA",
        "0x50" => "APM",
        "0x51" => "Qualcomm",
        "0x61" => "Apple",
        "0x6d" => "Microsoft",
        "0xc0" => "Ampere",
        _ => code,
    }
}

/// Names an ARM core from `CPU part` when the kernel prints no model name (arm64).
fn arm_part(implementer: &str, part: &str) -> String {
    let name = match (
        implementer.to_ascii_lowercase().as_str(),
        part.to_ascii_lowercase().as_str(),
    ) {
        ("0x41", "0xd03") => "Cortex-A53",
        ("0x41", "0xd04") => "Cortex-A35",
        ("0x41", "0xd05") => "Cortex-A55",
        ("0x41", "0xd07") => "Cortex-A57",
        ("0x41", "0xd08") => "Cortex-A72",
        ("0x41", "0xd09") => "Cortex-A73",
        ("0x41", "0xd0a") => "Cortex-A75",
        ("0x41", "0xd0b") => "Cortex-A76",
        ("0x41", "0xd0c") => "Neoverse-N1",
        ("0x41", "0xd0d") => "Cortex-A77",
        ("0x41", "0xd40") => "Neoverse-V1",
        ("0x41", "0xd41") => "Cortex-A78",
        ("0x41", "0xd49") => "Neoverse-N2",
        ("0x41", "0xd4f") => "Neoverse-V2",
        ("0xc0", "0xac3") => "AmpereOne",
        _ => return format!("{} part {part}", arm_implementer(implementer)),
    };
    name.to_owned()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn cpu(root: &Root) -> pb::Cpu {
    let mut cpu = root
        .read_string("proc/cpuinfo")
        .map(|s| parse_cpuinfo(&s))
        .unwrap_or_default();
    // sysfs topology is authoritative where present: cpuinfo on arm64 has no socket or
    // core ids at all.
    let mut packages = BTreeSet::new();
    let mut cores = BTreeSet::new();
    let mut max_khz = 0u64;
    for name in root.list_dir("sys/devices/system/cpu") {
        let is_cpu = name
            .strip_prefix("cpu")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !is_cpu {
            continue;
        }
        let dir = format!("sys/devices/system/cpu/{name}");
        let package = root.read_value(&format!("{dir}/topology/physical_package_id"));
        let core = root.read_value(&format!("{dir}/topology/core_id"));
        if let (Some(package), Some(core)) = (package, core) {
            packages.insert(package.clone());
            cores.insert((package, core));
        }
        if let Some(khz) = root
            .read_value(&format!("{dir}/cpufreq/cpuinfo_max_freq"))
            .and_then(|v| v.parse::<u64>().ok())
        {
            max_khz = max_khz.max(khz);
        }
    }
    if !cores.is_empty() {
        cpu.sockets = count(packages.len());
        cpu.physical_cores = count(cores.len());
    }
    if max_khz > 0 {
        cpu.max_mhz = u32::try_from(max_khz / 1000).unwrap_or(u32::MAX);
    }
    cpu
}

fn filesystems(root: &Root) -> Vec<pb::Filesystem> {
    let Some(text) = root
        .read_string("proc/self/mounts")
        .or_else(|| root.read_string("proc/mounts"))
    else {
        return Vec::new();
    };
    let mut list = parse_mounts(&text);
    // The mount table of a mounted image or fixture names mount points of a system that
    // is not running here, so only the live system gets sizes.
    if root.is_live() {
        for fs in &mut list {
            if NETWORK_FILESYSTEMS.contains(&fs.fs_type.as_str()) {
                continue;
            }
            match rustix::fs::statvfs(fs.mount_point.as_str()) {
                Ok(st) => {
                    fs.total_bytes = st.f_blocks.saturating_mul(st.f_frsize);
                    fs.free_bytes = st.f_bavail.saturating_mul(st.f_frsize);
                }
                Err(e) => {
                    tracing::debug!(mount_point = %fs.mount_point, error = %e, "statvfs failed");
                }
            }
        }
    }
    list
}

fn block_devices(root: &Root) -> Vec<pb::BlockDevice> {
    root.list_dir("sys/block")
        .into_iter()
        .filter(|name| !VIRTUAL_BLOCK_PREFIXES.iter().any(|p| name.starts_with(p)))
        .map(|name| {
            let dir = format!("sys/block/{name}");
            let value = |rel: &str| root.read_value(&format!("{dir}/{rel}"));
            // NVMe and SCSI put the serial under device/, virtio-blk beside it; wwid is
            // the stable identifier where no serial is exposed.
            let serial = ["device/serial", "serial", "device/wwid", "wwid"]
                .into_iter()
                .find_map(value)
                .unwrap_or_default();
            pb::BlockDevice {
                model: value("device/model").unwrap_or_default(),
                serial,
                vendor: value("device/vendor").unwrap_or_default(),
                // `size` counts 512-byte sectors whatever the device's block size.
                size_bytes: value("size")
                    .and_then(|s| s.parse::<u64>().ok())
                    .map_or(0, |s| s.saturating_mul(512)),
                rotational: value("queue/rotational").map(|v| v == "1"),
                removable: value("removable").is_some_and(|v| v == "1"),
                name,
            }
        })
        .collect()
}

/// Lists interfaces from /sys/class/net. Addresses come from the kernel's live list
/// (getifaddrs, through sysinfo) and so only when the root is the live system: a mounted
/// image has no running interfaces, and /proc/net holds no IPv4 address table.
fn interfaces(root: &Root) -> Vec<pb::NetworkInterface> {
    let mut addresses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if root.is_live() {
        match sysinfo::Networks::new_with_refreshed_list() {
            Ok(networks) => {
                for (name, data) in &networks {
                    let list = data.ip_networks().iter().map(|n| n.to_string()).collect();
                    addresses.insert(name.to_string_lossy().into_owned(), list);
                }
            }
            Err(e) => tracing::warn!(error = %e, "interface addresses unavailable"),
        }
    }
    root.list_dir("sys/class/net")
        .into_iter()
        .filter(|name| root.exists(&format!("sys/class/net/{name}/address")))
        .map(|name| {
            let dir = format!("sys/class/net/{name}");
            let value = |rel: &str| root.read_value(&format!("{dir}/{rel}"));
            // Loopback and tun report operstate "unknown" forever; their admin flag says
            // whether they are up.
            let flags = value("flags")
                .and_then(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).ok())
                .unwrap_or(0);
            let up = match value("operstate").as_deref() {
                Some("up") => true,
                Some("unknown") => flags & IFF_UP != 0,
                _ => false,
            };
            let virtual_ = root
                .read_link(&dir)
                .is_some_and(|target| target.to_string_lossy().contains("devices/virtual/"));
            pb::NetworkInterface {
                mac: value("address")
                    .filter(|m| m.bytes().any(|b| b != b'0' && b != b':'))
                    .unwrap_or_default(),
                addresses: addresses.remove(&name).unwrap_or_default(),
                mtu: value("mtu").and_then(|m| m.parse().ok()).unwrap_or(0),
                up,
                r#virtual: virtual_,
                name,
            }
        })
        .collect()
}

/// Reads /sys/class/dmi/id; `None` when it is missing or says nothing (many VMs, ARM
/// boards). Root-only files (serials, uuid) read as empty for other users.
fn dmi(root: &Root) -> Option<pb::Dmi> {
    let value = |file: &str| {
        root.read_value(&format!("sys/class/dmi/id/{file}"))
            .unwrap_or_default()
    };
    let dmi = pb::Dmi {
        system_vendor: value("sys_vendor"),
        product_name: value("product_name"),
        product_version: value("product_version"),
        product_serial: value("product_serial"),
        product_uuid: value("product_uuid"),
        board_vendor: value("board_vendor"),
        board_name: value("board_name"),
        board_serial: value("board_serial"),
        chassis_type: chassis_name(&value("chassis_type")),
        bios_vendor: value("bios_vendor"),
        bios_version: value("bios_version"),
        bios_date: value("bios_date"),
    };
    (dmi != pb::Dmi::default()).then_some(dmi)
}

/// Names an SMBIOS chassis type number (SMBIOS 3.x table 17), as dmidecode does;
/// unknown numbers are kept as they are.
fn chassis_name(number: &str) -> String {
    const NAMES: &[&str] = &[
        "Other",
        "Unknown",
        "Desktop",
        "Low Profile Desktop",
        "Pizza Box",
        "Mini Tower",
        "Tower",
        "Portable",
        "Laptop",
        "Notebook",
        "Hand Held",
        "Docking Station",
        "All In One",
        "Sub Notebook",
        "Space-saving",
        "Lunch Box",
        "Main Server Chassis",
        "Expansion Chassis",
        "Sub Chassis",
        "Bus Expansion Chassis",
        "Peripheral Chassis",
        "RAID Chassis",
        "Rack Mount Chassis",
        "Sealed-case PC",
        "Multi-system",
        "CompactPCI",
        "AdvancedTCA",
        "Blade",
        "Blade Enclosing",
        "Tablet",
        "Convertible",
        "Detachable",
        "IoT Gateway",
        "Embedded PC",
        "Mini PC",
        "Stick PC",
    ];
    number
        .parse::<usize>()
        .ok()
        .and_then(|n| NAMES.get(n.checked_sub(1)?))
        .map_or_else(|| number.to_owned(), |s| (*s).to_owned())
}

/// Lists DRM cards (`card0`, not connectors such as `card0-HDMI-A-1`).
fn gpus(root: &Root) -> Vec<pb::Gpu> {
    root.list_dir("sys/class/drm")
        .into_iter()
        .filter(|name| {
            name.strip_prefix("card")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|card| {
            let dev = format!("sys/class/drm/{card}/device");
            let slot = root
                .read_link(&dev)
                .map(|t| basename(&t))
                .filter(|s| is_pci_slot(s))
                .unwrap_or_default();
            pb::Gpu {
                vendor_id: root
                    .read_value(&format!("{dev}/vendor"))
                    .unwrap_or_default(),
                device_id: root
                    .read_value(&format!("{dev}/device"))
                    .unwrap_or_default(),
                driver: root
                    .read_link(&format!("{dev}/driver"))
                    .map(|t| basename(&t))
                    .unwrap_or_default(),
                pci_slot: slot,
                card,
            }
        })
        .collect()
}

/// True for a PCI address `dddd:bb:dd.f`; platform GPUs (ARM SoCs) link elsewhere.
fn is_pci_slot(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && b[4] == b':'
        && b[7] == b':'
        && b[10] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10) || c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests;
