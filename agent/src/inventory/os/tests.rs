use std::path::Path;

use proptest::prelude::*;

use super::*;

const DEBIAN_12: &str = include_str!("../../../tests/fixtures/os-release-debian12.txt");
const STAT: &str = include_str!("../../../tests/fixtures/stat-debian12-vm.txt");

#[test]
fn debian_os_release_captured_here() {
    let v = parse_os_release(DEBIAN_12);
    assert_eq!(v["ID"], "debian");
    assert_eq!(v["VERSION_ID"], "12");
    assert_eq!(v["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(v["VERSION_CODENAME"], "bookworm");
    assert!(!v.contains_key("ID_LIKE"));
}

#[test]
fn shell_quoting_is_undone() {
    let text = "# comment\nNAME='Single Quoted'\nID_LIKE=\"rhel centos fedora\"\n\
                PRETTY_NAME=\"say \\\"hi\\\" \\$HOME \\\\ \\n\"\nVARIANT=bare\\ word\n\
                MIXED=\"a\"'b'c\nEMPTY=\nnot a variable\n=novalue\n";
    let v = parse_os_release(text);
    assert_eq!(v["NAME"], "Single Quoted");
    assert_eq!(v["ID_LIKE"], "rhel centos fedora");
    assert_eq!(v["PRETTY_NAME"], "say \"hi\" $HOME \\ \\n");
    assert_eq!(v["VARIANT"], "bare word");
    assert_eq!(v["MIXED"], "abc");
    assert_eq!(v["EMPTY"], "");
    assert_eq!(v.len(), 6);
}

#[test]
fn crlf_and_unterminated_quotes_do_not_leak() {
    let v = parse_os_release("ID=ubuntu\r\nVERSION_ID=\"24.04\r\nX='open");
    assert_eq!(v["ID"], "ubuntu");
    assert_eq!(v["VERSION_ID"], "24.04");
    assert_eq!(v["X"], "open");
}

#[test]
fn boot_time_from_captured_stat() {
    let btime = parse_boot_time(STAT).unwrap();
    assert!(btime > 1_600_000_000, "{btime}");
    assert_eq!(parse_boot_time("cpu 1 2 3\n"), None);
}

#[test]
fn hypervisor_names() {
    assert_eq!(
        hypervisor_from_dmi("QEMU", "Standard PC (Q35 + ICH9, 2009)"),
        Some("qemu")
    );
    assert_eq!(
        hypervisor_from_dmi("VMware, Inc.", "VMware7,1"),
        Some("vmware")
    );
    assert_eq!(
        hypervisor_from_dmi("Microsoft Corporation", "Virtual Machine"),
        Some("microsoft")
    );
    assert_eq!(
        hypervisor_from_dmi("Microsoft Corporation", "Surface Pro"),
        None
    );
    assert_eq!(hypervisor_from_dmi("Dell Inc.", "PowerEdge R650"), None);
    let cpuinfo = include_str!("../../../tests/fixtures/cpuinfo-amd-epyc-kvm-2cpu.txt");
    assert!(has_hypervisor_flag(cpuinfo));
    assert!(!has_hypervisor_flag("flags\t\t: fpu vme hypervisorx\n"));
}

#[test]
fn fixture_root_facts() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for d in [
        "etc",
        "var/lib/dbus",
        "run/systemd",
        "sys/hypervisor",
        "proc",
    ] {
        std::fs::create_dir_all(p.join(d)).unwrap();
    }
    std::fs::write(p.join("etc/hostname"), "# set by installer\n\nweb-01\n").unwrap();
    std::fs::write(p.join("etc/machine-id"), "\n").unwrap();
    std::fs::write(p.join("var/lib/dbus/machine-id"), "0123abcd\n").unwrap();
    std::fs::write(p.join("run/systemd/container"), "systemd-nspawn\n").unwrap();
    std::fs::write(p.join("sys/hypervisor/type"), "xen\n").unwrap();
    std::fs::write(p.join("proc/stat"), STAT).unwrap();
    std::fs::write(p.join(".dockerenv"), "").unwrap();
    let os = collect(&Root::new(p));
    assert_eq!(os.hostname, "web-01");
    assert_eq!(os.machine_id, "0123abcd");
    assert_eq!(os.container, "systemd-nspawn");
    assert_eq!(os.virtualization, "xen");
    assert_eq!(os.architecture, "", "not live: no compiled-in guess");
    assert_eq!(os.boot_time, parse_boot_time(STAT).unwrap());
    assert_eq!(os.os_id, "");
}

#[test]
fn container_from_pid1_environ_then_marker_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("proc/1")).unwrap();
    std::fs::write(p.join("proc/1/environ"), b"PATH=/bin\0container=lxc\0").unwrap();
    assert_eq!(container(&Root::new(p)), "lxc");
    std::fs::write(p.join("proc/1/environ"), b"PATH=/bin\0").unwrap();
    std::fs::write(p.join(".dockerenv"), "").unwrap();
    assert_eq!(container(&Root::new(p)), "docker");
    assert_eq!(container(&Root::new(Path::new("/nonexistent-root"))), "");
}

proptest! {
    #[test]
    fn os_release_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_os_release(&text);
        let _ = parse_boot_time(&text);
    }

    #[test]
    fn os_release_round_trips_double_quoted_values(value in "[ -~]{0,40}") {
        let escaped: String = value.chars().flat_map(|c| {
            let esc = matches!(c, '$' | '"' | '\\' | '`');
            esc.then_some('\\').into_iter().chain(std::iter::once(c))
        }).collect();
        let v = parse_os_release(&format!("NAME=\"{escaped}\"\n"));
        prop_assert_eq!(&v["NAME"], &value);
    }
}
