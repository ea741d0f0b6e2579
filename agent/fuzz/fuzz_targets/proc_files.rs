//! Fuzzes the procfs parsers (/proc/cpuinfo, /proc/meminfo, /proc/self/mounts and the
//! btime line of /proc/stat). Every input goes to all four, so a seed captured from one
//! file also exercises the others. Beyond not panicking, each result must be consistent
//! with the text it came from.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::hardware::{parse_cpuinfo, parse_meminfo, parse_mounts};
use ward_agent::inventory::os::parse_boot_time;

fuzz_target!(|data: &[u8]| {
    // The agent reads these files the same way: invalid UTF-8 replaced, never rejected.
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();

    let cpu = parse_cpuinfo(&text);
    // Each count is at most one per line: processors, `physical id`s, `core id`s.
    for n in [cpu.logical_cores, cpu.physical_cores, cpu.sockets] {
        assert!(usize::try_from(n).is_ok_and(|n| n <= lines), "{cpu:?}");
    }
    assert!(
        !cpu.model.contains('\n') && !cpu.vendor.contains('\n'),
        "{cpu:?}"
    );

    let memory = parse_meminfo(&text);
    // KiB turned into bytes, saturating.
    for bytes in [memory.total_bytes, memory.swap_total_bytes] {
        assert!(bytes % 1024 == 0 || bytes == u64::MAX, "{memory:?}");
    }

    let filesystems = parse_mounts(&text);
    assert!(filesystems.len() <= lines);
    // One entry per mount point (the last mount shadows the others), sorted.
    assert!(
        filesystems
            .windows(2)
            .all(|w| w[0].mount_point < w[1].mount_point),
        "mount points not unique and sorted: {filesystems:?}"
    );
    for fs in &filesystems {
        assert!(
            !fs.mount_point.is_empty() && !fs.device.is_empty(),
            "{fs:?}"
        );
        assert!(!fs.fs_type.is_empty(), "{fs:?}");
        assert!(!fs.fs_type.contains(char::is_whitespace), "{fs:?}");
        assert!(
            !matches!(fs.fs_type.as_str(), "proc" | "sysfs" | "tmpfs"),
            "{fs:?}"
        );
        // Sizes come from statvfs later, never from the text.
        assert_eq!((fs.total_bytes, fs.free_bytes), (0, 0), "{fs:?}");
    }

    if let Some(btime) = parse_boot_time(&text) {
        // The value came from a `btime ` line; printed back it must read the same.
        assert!(text.lines().any(|l| l.starts_with("btime ")));
        assert_eq!(parse_boot_time(&format!("btime {btime}\n")), Some(btime));
    }
});
