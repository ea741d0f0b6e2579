//! Operating system facts: hostname, os-release, kernel, architecture, machine-id, boot
//! time, and hints about the hypervisor or container the system runs in.

use std::collections::BTreeMap;

use ward_proto::v1 as pb;

use super::root::Root;

/// Collects the os section from the files under `root`; absent sources leave fields empty.
pub(crate) fn collect(root: &Root) -> pb::OsInfo {
    let release = root
        .read_string("etc/os-release")
        .or_else(|| root.read_string("usr/lib/os-release"))
        .map(|text| parse_os_release(&text))
        .unwrap_or_default();
    let field = |key: &str| release.get(key).cloned().unwrap_or_default();

    let architecture = root.read_value("proc/sys/kernel/arch").unwrap_or_else(|| {
        // The compiled-in architecture describes only the system this binary runs on.
        if root.is_live() {
            std::env::consts::ARCH.to_owned()
        } else {
            String::new()
        }
    });

    pb::OsInfo {
        hostname: hostname(root),
        os_id: field("ID"),
        os_version_id: field("VERSION_ID"),
        os_pretty_name: field("PRETTY_NAME"),
        os_codename: field("VERSION_CODENAME"),
        os_id_like: field("ID_LIKE"),
        kernel_release: root
            .read_value("proc/sys/kernel/osrelease")
            .unwrap_or_default(),
        kernel_version: root
            .read_value("proc/sys/kernel/version")
            .unwrap_or_default(),
        architecture,
        machine_id: machine_id(root),
        boot_time: root
            .read_string("proc/stat")
            .and_then(|s| parse_boot_time(&s))
            .unwrap_or(0),
        virtualization: virtualization(root),
        container: container(root),
    }
}

/// Parses os-release(5) text into its variables, undoing shell-style quoting.
///
/// Values may be bare, `"double"` (where `\` escapes `$ " \ ``) or `'single'` quoted, and
/// quoted pieces may be concatenated. Comments and lines without `=` are skipped.
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() {
            continue;
        }
        vars.insert(key.to_owned(), unquote(value.trim()));
    }
    vars
}

/// Returns the `btime` (boot time, seconds since the epoch) of /proc/stat text.
pub fn parse_boot_time(stat: &str) -> Option<i64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn unquote(value: &str) -> String {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut out = String::with_capacity(value.len());
    let mut quote = Quote::None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (&quote, c) {
            (Quote::None, '"') => quote = Quote::Double,
            (Quote::None, '\'') => quote = Quote::Single,
            (Quote::Double, '"') | (Quote::Single, '\'') => quote = Quote::None,
            (Quote::None, '\\') => out.extend(chars.next()),
            (Quote::Double, '\\') => match chars.next() {
                Some(n @ ('$' | '"' | '\\' | '`')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            _ => out.push(c),
        }
    }
    out
}

fn hostname(root: &Root) -> String {
    if let Some(h) = root.read_value("proc/sys/kernel/hostname") {
        return h;
    }
    // hostname(5): a single name; lines starting with '#' are comments.
    root.read_string("etc/hostname")
        .and_then(|text| {
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

fn machine_id(root: &Root) -> String {
    // Container images often ship an empty /etc/machine-id; dbus keeps its own copy.
    root.read_value("etc/machine-id")
        .or_else(|| root.read_value("var/lib/dbus/machine-id"))
        .unwrap_or_default()
}

/// Names the hypervisor from DMI strings, the Xen hypervisor node, or else the CPU's
/// `hypervisor` flag (which says there is one but not which).
fn virtualization(root: &Root) -> String {
    let vendor = root
        .read_value("sys/class/dmi/id/sys_vendor")
        .unwrap_or_default();
    let product = root
        .read_value("sys/class/dmi/id/product_name")
        .unwrap_or_default();
    if let Some(name) = hypervisor_from_dmi(&vendor, &product) {
        return name.to_owned();
    }
    if let Some(kind) = root.read_value("sys/hypervisor/type") {
        return kind.to_lowercase();
    }
    let flagged = root
        .read_string("proc/cpuinfo")
        .is_some_and(|s| has_hypervisor_flag(&s));
    if flagged {
        "unknown-hypervisor".to_owned()
    } else {
        String::new()
    }
}

/// Maps DMI system vendor and product name to a hypervisor, as systemd-detect-virt does.
fn hypervisor_from_dmi(vendor: &str, product: &str) -> Option<&'static str> {
    const BY_VENDOR: &[(&str, &str)] = &[
        ("KVM", "kvm"),
        ("OpenStack", "kvm"),
        ("QEMU", "qemu"),
        ("VMware", "vmware"),
        ("innotek GmbH", "oracle"),
        ("Oracle Corporation", "oracle"),
        ("Xen", "xen"),
        ("Bochs", "bochs"),
        ("Parallels", "parallels"),
        ("BHYVE", "bhyve"),
        ("Amazon EC2", "amazon"),
        ("Google", "google"),
    ];
    if vendor == "Microsoft Corporation" && product == "Virtual Machine" {
        return Some("microsoft");
    }
    [vendor, product].into_iter().find_map(|s| {
        BY_VENDOR
            .iter()
            .find(|(prefix, _)| s.starts_with(prefix))
            .map(|(_, name)| *name)
    })
}

fn has_hypervisor_flag(cpuinfo: &str) -> bool {
    cpuinfo.lines().any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim() == "flags" && v.split_whitespace().any(|f| f == "hypervisor")
        })
    })
}

/// Names the container from the markers runtimes leave: systemd's note, PID 1's
/// `container=` variable, podman's and docker's marker files.
fn container(root: &Root) -> String {
    if let Some(kind) = root.read_value("run/systemd/container") {
        return kind;
    }
    if let Some(environ) = root.read("proc/1/environ") {
        let found = environ
            .split(|b| *b == 0)
            .find_map(|var| var.strip_prefix(b"container="))
            .map(|v| String::from_utf8_lossy(v).trim().to_owned())
            .filter(|v| !v.is_empty());
        if let Some(kind) = found {
            return kind;
        }
    }
    if root.exists("run/.containerenv") {
        return "podman".to_owned();
    }
    if root.exists(".dockerenv") {
        return "docker".to_owned();
    }
    String::new()
}

#[cfg(test)]
mod tests;
