//! Kernel hardening basics: address space randomisation, Secure Boot (the UEFI
//! `SecureBoot` variable), the lockdown mode, and a few hardening sysctls.

use ward_proto::v1 as pb;

use crate::inventory::root::Root;

/// The UEFI global variable that holds the Secure Boot state.
pub const SECURE_BOOT_VAR: &str =
    "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

/// The sysctls reported, by name (their file is under `/proc/sys`, dots as slashes).
pub const SYSCTLS: [&str; 16] = [
    "fs.protected_fifos",
    "fs.protected_hardlinks",
    "fs.protected_regular",
    "fs.protected_symlinks",
    "fs.suid_dumpable",
    "kernel.dmesg_restrict",
    "kernel.kexec_load_disabled",
    "kernel.kptr_restrict",
    "kernel.perf_event_paranoid",
    "kernel.sysrq",
    "kernel.unprivileged_bpf_disabled",
    "kernel.yama.ptrace_scope",
    "net.ipv4.conf.all.accept_redirects",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.ip_forward",
    "net.ipv4.tcp_syncookies",
];

/// Returns the Secure Boot state of an efivars file's bytes: four bytes of attributes,
/// then the value (1 enabled, 0 disabled).
pub fn parse_secure_boot(bytes: &[u8]) -> &'static str {
    match bytes.get(4) {
        Some(1) => "enabled",
        Some(0) => "disabled",
        _ => "unknown",
    }
}

/// Returns the active lockdown mode of `/sys/kernel/security/lockdown`
/// (`none [integrity] confidentiality` gives "integrity").
pub fn parse_lockdown(text: &str) -> String {
    text.split_ascii_whitespace()
        .find_map(|w| w.strip_prefix('[')?.strip_suffix(']'))
        .unwrap_or("")
        .to_owned()
}

/// Reads the kernel hardening facts under `root`.
pub(crate) fn read(root: &Root) -> pb::KernelHardening {
    let aslr = root
        .read_value("proc/sys/kernel/randomize_va_space")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    let secure_boot = if !root.exists("sys/firmware/efi") {
        "unsupported"
    } else {
        match root.read(SECURE_BOOT_VAR) {
            Some(bytes) => parse_secure_boot(&bytes),
            // UEFI firmware without the variable has no Secure Boot to turn on.
            None if root.exists("sys/firmware/efi/efivars")
                && !root.list_dir("sys/firmware/efi/efivars").is_empty() =>
            {
                "disabled"
            }
            None => "unknown",
        }
    };
    let lockdown = root
        .read_string("sys/kernel/security/lockdown")
        .map(|t| parse_lockdown(&t))
        .unwrap_or_default();
    let sysctls = SYSCTLS
        .iter()
        .filter_map(|name| {
            let value = root.read_value(&format!("proc/sys/{}", name.replace('.', "/")))?;
            let value = value.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
            Some(format!("{name}={value}"))
        })
        .collect();
    pb::KernelHardening {
        aslr,
        secure_boot: secure_boot.to_owned(),
        sysctls,
        lockdown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &std::path::Path, rel: &str, data: &[u8]) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    #[test]
    fn secure_boot_lockdown_aslr_and_sysctls_from_a_fixture() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(r, "proc/sys/kernel/randomize_va_space", b"2\n");
        write(r, SECURE_BOOT_VAR, &[0x06, 0, 0, 0, 1]);
        write(
            r,
            "sys/kernel/security/lockdown",
            b"none [integrity] confidentiality\n",
        );
        write(r, "proc/sys/kernel/kptr_restrict", b"1\n");
        write(r, "proc/sys/kernel/yama/ptrace_scope", b"1\n");
        write(r, "proc/sys/net/ipv4/ip_forward", b"0\n");
        let k = read(&Root::new(r));
        assert_eq!(k.aslr, 2);
        assert_eq!(k.secure_boot, "enabled");
        assert_eq!(k.lockdown, "integrity");
        assert_eq!(
            k.sysctls,
            [
                "kernel.kptr_restrict=1",
                "kernel.yama.ptrace_scope=1",
                "net.ipv4.ip_forward=0"
            ]
        );
        write(r, SECURE_BOOT_VAR, &[0x06, 0, 0, 0, 0]);
        assert_eq!(read(&Root::new(r)).secure_boot, "disabled");
    }

    #[test]
    fn no_efi_is_unsupported_and_nothing_is_minus_one() {
        let dir = tempfile::tempdir().unwrap();
        let k = read(&Root::new(dir.path()));
        assert_eq!((k.aslr, k.secure_boot.as_str()), (-1, "unsupported"));
        assert!(k.lockdown.is_empty() && k.sysctls.is_empty());
        assert_eq!(parse_secure_boot(&[6, 0, 0]), "unknown");
        assert_eq!(parse_lockdown("[none] integrity confidentiality"), "none");
    }
}
