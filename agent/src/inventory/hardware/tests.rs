use std::os::unix::fs::symlink;
use std::path::Path;

use proptest::prelude::*;

use super::*;

const EPYC: &str = include_str!("../../../tests/fixtures/cpuinfo-amd-epyc-kvm-2cpu.txt");
const RPI3: &str = include_str!("../../../tests/fixtures/cpuinfo-rpi3-armv7.txt");
const RPI5: &str = include_str!("../../../tests/fixtures/cpuinfo-aarch64-rpi5.txt");
const MEMINFO: &str = include_str!("../../../tests/fixtures/meminfo-debian12-vm.txt");
const MOUNTS: &str = include_str!("../../../tests/fixtures/mounts-debian12-vm.txt");

fn write(base: &Path, rel: &str, content: &str) {
    let path = base.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn link(base: &Path, rel: &str, target: &str) {
    let path = base.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    symlink(target, path).unwrap();
}

#[test]
fn cpuinfo_of_an_x86_vm_captured_here() {
    let cpu = parse_cpuinfo(EPYC);
    assert_eq!(cpu.model, "AMD EPYC");
    assert_eq!(cpu.vendor, "AuthenticAMD");
    assert_eq!(cpu.logical_cores, 2);
    assert_eq!(cpu.physical_cores, 2);
    assert_eq!(cpu.sockets, 1);
    assert_eq!(cpu.max_mhz, 2596);
}

#[test]
fn cpuinfo_of_arm_boards() {
    let pi3 = parse_cpuinfo(RPI3);
    assert_eq!(pi3.model, "ARMv7 Processor rev 4 (v7l)");
    assert_eq!(pi3.vendor, "ARM");
    assert_eq!(
        (pi3.logical_cores, pi3.sockets, pi3.physical_cores),
        (4, 0, 0)
    );
    let pi5 = parse_cpuinfo(RPI5);
    assert_eq!(pi5.model, "Cortex-A76");
    assert_eq!(pi5.logical_cores, 4);
    assert_eq!(pi5.max_mhz, 0);
    // Old ARM kernels put the model on a capitalised "Processor" line.
    let legacy = "Processor\t: ARMv7 Processor rev 3 (v7l)\nprocessor\t: 0\nCPU implementer\t: 0x51\n\n\
                  Processor\t: ARMv7 Processor rev 3 (v7l)\nprocessor\t: 1\n";
    let cpu = parse_cpuinfo(legacy);
    assert_eq!(cpu.model, "ARMv7 Processor rev 3 (v7l)");
    assert_eq!(cpu.vendor, "Qualcomm");
    assert_eq!(cpu.logical_cores, 2);
}

#[test]
fn cpuinfo_with_two_sockets_and_smt() {
    let mut text = String::new();
    for (n, (socket, core)) in [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    .into_iter()
    .enumerate()
    {
        text.push_str(&format!(
            "processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\n\
             cpu MHz\t\t: {}.000\nphysical id\t: {socket}\ncore id\t\t: {core}\n\n",
            800 + n
        ));
    }
    let cpu = parse_cpuinfo(&text);
    assert_eq!(
        (cpu.logical_cores, cpu.physical_cores, cpu.sockets),
        (8, 4, 2)
    );
    assert_eq!(cpu.max_mhz, 807);
}

#[test]
fn meminfo_captured_here() {
    let mem = parse_meminfo(MEMINFO);
    let kib: u64 = MEMINFO
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(mem.total_bytes, kib * 1024);
    assert_eq!(mem.total_bytes, 24_684_092 * 1024);
    assert_eq!(mem.swap_total_bytes, 0);
    let swap = parse_meminfo("MemTotalX: 1 kB\nMemTotal: 2048 kB\nSwapTotal:  1024 kB\n");
    assert_eq!(
        (swap.total_bytes, swap.swap_total_bytes),
        (2048 * 1024, 1024 * 1024)
    );
}

#[test]
fn mounts_captured_here_keep_only_real_filesystems() {
    let fs = parse_mounts(MOUNTS);
    let points: Vec<(&str, &str, &str)> = fs
        .iter()
        .map(|f| {
            (
                f.mount_point.as_str(),
                f.device.as_str(),
                f.fs_type.as_str(),
            )
        })
        .collect();
    assert_eq!(points, [("/", "/dev/vda", "ext4")]);
}

#[test]
fn mounts_unescape_and_later_mounts_shadow_earlier_ones() {
    let text = "/dev/sdb1 /media/my\\040disk vfat rw 0 0\n\
                overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0\n\
                /dev/sda1 /boot ext4 rw 0 0\n\
                /dev/sda2 /boot ext4 rw 0 0\n\
                server:/export /mnt/nfs nfs4 rw 0 0\n\
                tmpfs /run tmpfs rw 0 0\n\
                short line\n\
                /dev/sdc1 /odd\\\\name\\12 xfs rw 0 0\n\
                /dev/sdd1 /back\\134slash\\011tab ext4 rw 0 0\n";
    let fs = parse_mounts(text);
    let got: Vec<(&str, &str)> = fs
        .iter()
        .map(|f| (f.mount_point.as_str(), f.device.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("/back\\slash\ttab", "/dev/sdd1"),
            ("/boot", "/dev/sda2"),
            ("/media/my disk", "/dev/sdb1"),
            ("/mnt/nfs", "server:/export"),
            ("/odd\\\\name\\12", "/dev/sdc1"),
            ("/var/lib/docker/overlay2/x/merged", "overlay"),
        ]
    );
}

#[test]
fn sysfs_fixture_tree() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // Topology: 2 packages x 2 cores x 2 threads, with cpufreq.
    for n in 0..8 {
        let cpu = format!("sys/devices/system/cpu/cpu{n}");
        write(
            p,
            &format!("{cpu}/topology/physical_package_id"),
            &format!("{}\n", n / 4),
        );
        write(
            p,
            &format!("{cpu}/topology/core_id"),
            &format!("{}\n", n % 2),
        );
        write(p, &format!("{cpu}/cpufreq/cpuinfo_max_freq"), "3500000\n");
    }
    write(p, "sys/devices/system/cpu/cpufreq/boost", "1\n");
    write(p, "proc/cpuinfo", RPI5);
    // Block devices.
    write(p, "sys/block/sda/size", "1953525168\n");
    write(p, "sys/block/sda/device/model", "Samsung SSD 870 \n");
    write(p, "sys/block/sda/device/vendor", "ATA     \n");
    write(
        p,
        "sys/block/sda/device/wwid",
        "t10.ATA     Samsung SSD 870 S6PNNX0T\n",
    );
    write(p, "sys/block/sda/queue/rotational", "0\n");
    write(p, "sys/block/sda/removable", "0\n");
    write(p, "sys/block/nvme0n1/size", "2000409264\n");
    write(
        p,
        "sys/block/nvme0n1/device/serial",
        "S5GXNF0R123456      \n",
    );
    write(p, "sys/block/sr0/removable", "1\n");
    write(p, "sys/block/sr0/queue/rotational", "1\n");
    write(p, "sys/block/loop0/size", "8\n");
    write(p, "sys/block/zram0/size", "8\n");
    // Network.
    write(
        p,
        "sys/devices/pci0000:00/0000:00:03.0/net/eth0/address",
        "52:54:00:12:34:56\n",
    );
    write(
        p,
        "sys/devices/pci0000:00/0000:00:03.0/net/eth0/mtu",
        "1500\n",
    );
    write(
        p,
        "sys/devices/pci0000:00/0000:00:03.0/net/eth0/operstate",
        "up\n",
    );
    write(
        p,
        "sys/devices/virtual/net/lo/address",
        "00:00:00:00:00:00\n",
    );
    write(p, "sys/devices/virtual/net/lo/mtu", "65536\n");
    write(p, "sys/devices/virtual/net/lo/operstate", "unknown\n");
    write(p, "sys/devices/virtual/net/lo/flags", "0x9\n");
    write(
        p,
        "sys/devices/virtual/net/br0/address",
        "aa:bb:cc:dd:ee:ff\n",
    );
    write(p, "sys/devices/virtual/net/br0/operstate", "down\n");
    link(
        p,
        "sys/class/net/eth0",
        "../../devices/pci0000:00/0000:00:03.0/net/eth0",
    );
    link(p, "sys/class/net/lo", "../../devices/virtual/net/lo");
    link(p, "sys/class/net/br0", "../../devices/virtual/net/br0");
    write(p, "sys/class/net/bonding_masters", "\n");
    // DMI.
    write(p, "sys/class/dmi/id/sys_vendor", "Dell Inc.\n");
    write(p, "sys/class/dmi/id/product_name", "OptiPlex 7090\n");
    write(p, "sys/class/dmi/id/chassis_type", "3\n");
    write(p, "sys/class/dmi/id/bios_date", "06/12/2023\n");
    // DRM: one PCI card with a connector, one platform card.
    let gpu = "sys/devices/pci0000:00/0000:00:02.0";
    write(p, &format!("{gpu}/vendor"), "0x8086\n");
    write(p, &format!("{gpu}/device"), "0x4c8a\n");
    write(p, "sys/bus/pci/drivers/i915/bind", "");
    link(p, &format!("{gpu}/driver"), "../../../bus/pci/drivers/i915");
    link(
        p,
        &format!("{gpu}/drm/card0/device"),
        "../../../0000:00:02.0",
    );
    link(
        p,
        "sys/class/drm/card0",
        &format!("../../{}/drm/card0", &gpu[4..]),
    );
    link(
        p,
        "sys/class/drm/card0-HDMI-A-1",
        "../../devices/pci0000:00/0000:00:02.0/drm/card0/card0-HDMI-A-1",
    );
    write(p, "sys/class/drm/version", "drm 1.1.0 20060810\n");
    write(p, "sys/devices/platform/gpu/drm/card1/.keep", "");
    link(
        p,
        "sys/devices/platform/gpu/drm/card1/device",
        "../../../gpu",
    );
    link(
        p,
        "sys/class/drm/card1",
        "../../devices/platform/gpu/drm/card1",
    );

    let hw = collect(&Root::new(p));

    let cpu = hw.cpu.unwrap();
    assert_eq!(
        (cpu.logical_cores, cpu.physical_cores, cpu.sockets),
        (4, 4, 2)
    );
    assert_eq!(cpu.max_mhz, 3500);
    assert_eq!(hw.memory.unwrap(), pb::Memory::default());
    assert!(hw.filesystems.is_empty());

    let names: Vec<&str> = hw.block_devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["nvme0n1", "sda", "sr0"]);
    let sda = &hw.block_devices[1];
    assert_eq!(sda.model, "Samsung SSD 870");
    assert_eq!(sda.vendor, "ATA");
    assert_eq!(sda.serial, "t10.ATA     Samsung SSD 870 S6PNNX0T");
    assert_eq!(sda.size_bytes, 1_953_525_168 * 512);
    assert_eq!((sda.rotational, sda.removable), (Some(false), false));
    assert_eq!(hw.block_devices[0].serial, "S5GXNF0R123456");
    assert_eq!(hw.block_devices[0].rotational, None);
    assert_eq!(
        (
            hw.block_devices[2].rotational,
            hw.block_devices[2].removable
        ),
        (Some(true), true)
    );

    let ifaces: Vec<(&str, &str, u32, bool, bool)> = hw
        .interfaces
        .iter()
        .map(|i| (i.name.as_str(), i.mac.as_str(), i.mtu, i.up, i.r#virtual))
        .collect();
    assert_eq!(
        ifaces,
        [
            ("br0", "aa:bb:cc:dd:ee:ff", 0, false, true),
            ("eth0", "52:54:00:12:34:56", 1500, true, false),
            ("lo", "", 65536, true, true),
        ]
    );
    assert!(
        hw.interfaces.iter().all(|i| i.addresses.is_empty()),
        "not live: no addresses"
    );

    let dmi = hw.dmi.unwrap();
    assert_eq!(dmi.system_vendor, "Dell Inc.");
    assert_eq!(dmi.product_name, "OptiPlex 7090");
    assert_eq!(dmi.chassis_type, "Desktop");
    assert_eq!(dmi.bios_date, "06/12/2023");
    assert_eq!(dmi.product_serial, "");

    assert_eq!(hw.gpus.len(), 2);
    assert_eq!(
        hw.gpus[0],
        pb::Gpu {
            card: "card0".into(),
            vendor_id: "0x8086".into(),
            device_id: "0x4c8a".into(),
            driver: "i915".into(),
            pci_slot: "0000:00:02.0".into(),
        }
    );
    assert_eq!(
        hw.gpus[1],
        pb::Gpu {
            card: "card1".into(),
            ..Default::default()
        }
    );
}

#[test]
fn empty_root_has_no_hardware_and_no_dmi() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sys/class/dmi/id/chassis_type", "\n");
    let hw = collect(&Root::new(dir.path()));
    assert_eq!(hw.cpu.unwrap(), pb::Cpu::default());
    assert!(hw.dmi.is_none());
    assert!(hw.block_devices.is_empty() && hw.interfaces.is_empty() && hw.gpus.is_empty());
}

#[test]
fn chassis_numbers_and_pci_slots() {
    assert_eq!(chassis_name("10"), "Notebook");
    assert_eq!(chassis_name("1"), "Other");
    assert_eq!(chassis_name("0"), "0");
    assert_eq!(chassis_name("99"), "99");
    assert_eq!(chassis_name(""), "");
    assert!(is_pci_slot("0000:01:00.0"));
    assert!(!is_pci_slot("gpu"));
    assert!(!is_pci_slot("0000:01:00:0"));
}

#[test]
fn live_system_matches_the_kernel() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let processors = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let hw = collect(&Root::new(Path::new("/")));
    assert_eq!(hw.cpu.unwrap().logical_cores as usize, processors);
    let root_fs = hw
        .filesystems
        .iter()
        .find(|f| f.mount_point == "/")
        .unwrap();
    assert!(root_fs.total_bytes > 0 && root_fs.free_bytes <= root_fs.total_bytes);
}

proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_cpuinfo(&text);
        let _ = parse_meminfo(&text);
        let _ = parse_mounts(&text);
    }

    #[test]
    fn cpuinfo_counts_every_processor(n in 0usize..64) {
        let text: String = (0..n).map(|i| format!("processor\t: {i}\nflags\t\t: fpu\n\n")).collect();
        prop_assert_eq!(parse_cpuinfo(&text).logical_cores as usize, n);
    }
}
