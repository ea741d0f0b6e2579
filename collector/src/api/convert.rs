//! Conversions from wire requests to validated domain values.

use ward_proto::digest::{HASH_LEN, Hash};
use ward_proto::v1 as pb;

use crate::store::{HostFilter, PatchFilter, PatchesUpdate, Report, SectionUpdate, SoftwareUpdate};

/// A request that does not hold what the protocol promises.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: a section hash must be {HASH_LEN} bytes, got {len}")]
    HashLength { field: &'static str, len: usize },
    #[error("sequence must be at least 1")]
    ZeroSequence,
    #[error("{0}: too long (at most {1} bytes)")]
    TooLong(&'static str, usize),
    #[error("{0}: control characters are not allowed")]
    Control(&'static str),
    #[error("package.name: a package must have a name")]
    EmptyName,
    #[error("patches.pending.name: a pending update must name its package")]
    EmptyPendingName,
    #[error("{0}: too many entries (at most {1})")]
    TooMany(&'static str, usize),
}

/// Longest hostname (DNS limit).
const MAX_HOSTNAME: usize = 253;
/// Longest free-text field (pretty names, models, serials).
const MAX_TEXT: usize = 1024;
/// Longest package identity field (name, version, arch, source, state).
const MAX_PACKAGE_FIELD: usize = 512;
/// Most packages one section or delta may hold.
const MAX_PACKAGES: usize = 500_000;
/// Most entries of one hardware list (file systems, disks, interfaces, GPUs).
const MAX_DEVICES: usize = 10_000;

/// Checks one string from an agent: bounded, and for identifiers, free of control
/// characters (they end up in admins' terminals and file names).
fn text(field: &'static str, value: &str, max: usize, identifier: bool) -> Result<(), Error> {
    if value.len() > max {
        return Err(Error::TooLong(field, max));
    }
    if identifier && value.chars().any(char::is_control) {
        return Err(Error::Control(field));
    }
    Ok(())
}

fn check_os(os: &pb::OsInfo) -> Result<(), Error> {
    text("os.hostname", &os.hostname, MAX_HOSTNAME, true)?;
    for (field, v) in [
        ("os.os_id", &os.os_id),
        ("os.os_version_id", &os.os_version_id),
        ("os.os_codename", &os.os_codename),
        ("os.kernel_release", &os.kernel_release),
        ("os.architecture", &os.architecture),
        ("os.machine_id", &os.machine_id),
    ] {
        text(field, v, MAX_PACKAGE_FIELD, true)?;
    }
    for (field, v) in [
        ("os.os_pretty_name", &os.os_pretty_name),
        ("os.os_id_like", &os.os_id_like),
        ("os.kernel_version", &os.kernel_version),
        ("os.virtualization", &os.virtualization),
        ("os.container", &os.container),
    ] {
        text(field, v, MAX_TEXT, false)?;
    }
    Ok(())
}

fn check_hardware(hw: &pb::Hardware) -> Result<(), Error> {
    for (field, n) in [
        ("hardware.filesystems", hw.filesystems.len()),
        ("hardware.block_devices", hw.block_devices.len()),
        ("hardware.interfaces", hw.interfaces.len()),
        ("hardware.gpus", hw.gpus.len()),
    ] {
        if n > MAX_DEVICES {
            return Err(Error::TooMany(field, MAX_DEVICES));
        }
    }
    // Free text everywhere else: bounded, displayed escaped by wardctl.
    let longest = hw
        .filesystems
        .iter()
        .flat_map(|f| [&f.mount_point, &f.device, &f.fs_type])
        .chain(
            hw.block_devices
                .iter()
                .flat_map(|d| [&d.name, &d.model, &d.serial, &d.vendor]),
        )
        .chain(hw.interfaces.iter().flat_map(|i| [&i.name, &i.mac]))
        .chain(hw.interfaces.iter().flat_map(|i| i.addresses.iter()))
        .map(String::len)
        .max()
        .unwrap_or(0);
    if longest > MAX_TEXT {
        return Err(Error::TooLong("hardware (a device field)", MAX_TEXT));
    }
    Ok(())
}

fn check_package(p: &pb::Package) -> Result<(), Error> {
    text("package.name", &p.name, MAX_PACKAGE_FIELD, true)?;
    text("package.version", &p.version, MAX_PACKAGE_FIELD, true)?;
    text("package.arch", &p.arch, MAX_PACKAGE_FIELD, true)?;
    text("package.source", &p.source, MAX_PACKAGE_FIELD, true)?;
    text("package.state", &p.state, MAX_PACKAGE_FIELD, true)?;
    text(
        "package.source_package",
        &p.source_package,
        MAX_PACKAGE_FIELD,
        true,
    )?;
    text("package.epoch", &p.epoch, MAX_PACKAGE_FIELD, true)?;
    text("package.release", &p.release, MAX_PACKAGE_FIELD, true)?;
    text("package.vendor", &p.vendor, MAX_TEXT, true)?;
    if p.name.is_empty() {
        return Err(Error::EmptyName);
    }
    Ok(())
}

fn check_packages<'a>(
    field: &'static str,
    packages: impl ExactSizeIterator<Item = &'a pb::Package>,
) -> Result<(), Error> {
    if packages.len() > MAX_PACKAGES {
        return Err(Error::TooMany(field, MAX_PACKAGES));
    }
    for p in packages {
        check_package(p)?;
    }
    Ok(())
}

/// Most entries of the smaller lists of a patches section (advisories of an update, CVEs
/// of an advisory, suites, units to restart, files and pids of a unit).
const MAX_LIST: usize = 10_000;

fn count(field: &'static str, n: usize, max: usize) -> Result<(), Error> {
    if n > max {
        return Err(Error::TooMany(field, max));
    }
    Ok(())
}

fn check_pending(u: &pb::PendingUpdate) -> Result<(), Error> {
    for (field, v) in [
        ("patches.pending.name", &u.name),
        ("patches.pending.arch", &u.arch),
        ("patches.pending.installed_version", &u.installed_version),
        ("patches.pending.candidate_version", &u.candidate_version),
        ("patches.pending.replaced_by", &u.replaced_by),
        ("patches.pending.source", &u.source),
        ("patches.pending.origin", &u.origin),
        ("patches.pending.suite", &u.suite),
    ] {
        text(field, v, MAX_PACKAGE_FIELD, true)?;
    }
    if u.name.is_empty() {
        return Err(Error::EmptyPendingName);
    }
    count("patches.pending.suites", u.suites.len(), MAX_LIST)?;
    for v in &u.suites {
        text("patches.pending.suites", v, MAX_PACKAGE_FIELD, true)?;
    }
    count("patches.pending.advisories", u.advisories.len(), MAX_LIST)?;
    for a in &u.advisories {
        text(
            "patches.pending.advisories.id",
            &a.id,
            MAX_PACKAGE_FIELD,
            true,
        )?;
        text(
            "patches.pending.advisories.kind",
            &a.kind,
            MAX_PACKAGE_FIELD,
            true,
        )?;
        text(
            "patches.pending.advisories.severity",
            &a.severity,
            MAX_PACKAGE_FIELD,
            true,
        )?;
        count("patches.pending.advisories.cves", a.cves.len(), MAX_LIST)?;
        for c in &a.cves {
            text(
                "patches.pending.advisories.cves",
                c,
                MAX_PACKAGE_FIELD,
                true,
            )?;
        }
    }
    Ok(())
}

fn check_pending_list(field: &'static str, pending: &[pb::PendingUpdate]) -> Result<(), Error> {
    count(field, pending.len(), MAX_PACKAGES)?;
    pending.iter().try_for_each(check_pending)
}

/// Checks everything of a patches section but its pending list.
fn check_patches_rest(p: &pb::Patches) -> Result<(), Error> {
    count(
        "patches.reboot_required_packages",
        p.reboot_required_packages.len(),
        MAX_PACKAGES,
    )?;
    for v in &p.reboot_required_packages {
        text(
            "patches.reboot_required_packages",
            v,
            MAX_PACKAGE_FIELD,
            true,
        )?;
    }
    text(
        "patches.running_kernel",
        &p.running_kernel,
        MAX_PACKAGE_FIELD,
        true,
    )?;
    text(
        "patches.newest_kernel",
        &p.newest_kernel,
        MAX_PACKAGE_FIELD,
        true,
    )?;
    count("patches.managers", p.managers.len(), 64)?;
    for v in &p.managers {
        text("patches.managers", v, MAX_PACKAGE_FIELD, true)?;
    }
    count("patches.restart_needed", p.restart_needed.len(), MAX_LIST)?;
    for r in &p.restart_needed {
        text("patches.restart_needed.unit", &r.unit, MAX_TEXT, true)?;
        count("patches.restart_needed.pids", r.pids.len(), MAX_LIST)?;
        count("patches.restart_needed.files", r.files.len(), MAX_LIST)?;
        for f in &r.files {
            // Paths are free text (any byte but NUL is legal); wardctl escapes them.
            text("patches.restart_needed.files", f, MAX_TEXT, false)?;
        }
    }
    Ok(())
}

fn hash(field: &'static str, bytes: &[u8]) -> Result<Hash, Error> {
    bytes.try_into().map_err(|_| Error::HashLength {
        field,
        len: bytes.len(),
    })
}

impl TryFrom<pb::ReportRequest> for Report {
    type Error = Error;

    fn try_from(r: pb::ReportRequest) -> Result<Self, Error> {
        if r.sequence == 0 {
            return Err(Error::ZeroSequence);
        }
        if r.agent_version.len() > 64 {
            return Err(Error::TooLong("agent_version", 64));
        }
        let os = match r.os.and_then(|u| u.kind) {
            None => None,
            Some(pb::os_update::Kind::Unchanged(h)) => {
                Some(SectionUpdate::Unchanged(hash("os", &h)?))
            }
            Some(pb::os_update::Kind::Full(os)) => {
                check_os(&os)?;
                Some(SectionUpdate::Full(os))
            }
        };
        let hardware = match r.hardware.and_then(|u| u.kind) {
            None => None,
            Some(pb::hardware_update::Kind::Unchanged(h)) => {
                Some(SectionUpdate::Unchanged(hash("hardware", &h)?))
            }
            Some(pb::hardware_update::Kind::Full(hw)) => {
                check_hardware(&hw)?;
                Some(SectionUpdate::Full(hw))
            }
        };
        let software = match r.software.and_then(|u| u.kind) {
            None => None,
            Some(pb::software_update::Kind::Unchanged(h)) => {
                Some(SoftwareUpdate::Unchanged(hash("software", &h)?))
            }
            Some(pb::software_update::Kind::Full(sw)) => {
                check_packages("software.packages", sw.packages.iter())?;
                Some(SoftwareUpdate::Full(sw))
            }
            Some(pb::software_update::Kind::Delta(d)) => {
                hash("software.delta.base_hash", &d.base_hash)?;
                hash("software.delta.result_hash", &d.result_hash)?;
                check_packages("software.delta.upsert", d.upsert.iter())?;
                if d.remove.len() > MAX_PACKAGES {
                    return Err(Error::TooMany("software.delta.remove", MAX_PACKAGES));
                }
                Some(SoftwareUpdate::Delta(d))
            }
        };
        let patches = match r.patches.and_then(|u| u.kind) {
            None => None,
            Some(pb::patches_update::Kind::Unchanged(h)) => {
                Some(PatchesUpdate::Unchanged(hash("patches", &h)?))
            }
            Some(pb::patches_update::Kind::Full(p)) => {
                check_pending_list("patches.pending", &p.pending)?;
                check_patches_rest(&p)?;
                Some(PatchesUpdate::Full(p))
            }
            Some(pb::patches_update::Kind::Delta(d)) => {
                hash("patches.delta.base_hash", &d.base_hash)?;
                hash("patches.delta.result_hash", &d.result_hash)?;
                check_pending_list("patches.delta.upsert", &d.upsert)?;
                count("patches.delta.remove", d.remove.len(), MAX_PACKAGES)?;
                if let Some(rest) = &d.rest {
                    check_patches_rest(rest)?;
                }
                Some(PatchesUpdate::Delta(d))
            }
        };
        Ok(Report {
            sequence: r.sequence,
            agent_version: r.agent_version,
            os,
            hardware,
            software,
            patches,
        })
    }
}

impl From<pb::ListHostsRequest> for HostFilter {
    fn from(r: pb::ListHostsRequest) -> Self {
        let opt = |s: String| (!s.trim().is_empty()).then_some(s);
        let secs = |s: u64| (s > 0).then_some(s);
        HostFilter {
            hostname_glob: opt(r.hostname_glob),
            os: opt(r.os),
            seen_within_secs: secs(r.seen_within_seconds),
            not_seen_within_secs: secs(r.not_seen_within_seconds),
            page_size: r.page_size,
            page_token: opt(r.page_token),
        }
    }
}

impl From<&pb::ListPatchesRequest> for PatchFilter {
    fn from(r: &pb::ListPatchesRequest) -> Self {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        PatchFilter {
            hostname_glob: opt(&r.hostname_glob),
            os: opt(&r.os),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_patch_fields_are_refused_by_name() {
        let patches = |p: pb::Patches| pb::ReportRequest {
            sequence: 1,
            patches: Some(pb::PatchesUpdate {
                kind: Some(pb::patches_update::Kind::Full(p)),
            }),
            ..Default::default()
        };
        let pending = |name: &str, cve: &str| pb::PendingUpdate {
            name: name.into(),
            advisories: vec![pb::Advisory {
                id: "RHSA-1".into(),
                cves: vec![cve.into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let ok = patches(pb::Patches {
            pending: vec![pending("openssl", "CVE-2024-1")],
            ..Default::default()
        });
        assert!(Report::try_from(ok).is_ok());
        for (p, field) in [
            (
                pb::Patches {
                    pending: vec![pending("", "CVE-1")],
                    ..Default::default()
                },
                "patches.pending.name",
            ),
            (
                pb::Patches {
                    pending: vec![pending("a", "CVE-\u{1b}[2J")],
                    ..Default::default()
                },
                "patches.pending.advisories.cves",
            ),
            (
                pb::Patches {
                    restart_needed: vec![pb::Restart {
                        unit: "ssh\n.service".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                "patches.restart_needed.unit",
            ),
        ] {
            let e = Report::try_from(patches(p)).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        let delta = pb::ReportRequest {
            sequence: 1,
            patches: Some(pb::PatchesUpdate {
                kind: Some(pb::patches_update::Kind::Delta(pb::PatchesDelta {
                    base_hash: vec![0; 3],
                    ..Default::default()
                })),
            }),
            ..Default::default()
        };
        let e = Report::try_from(delta).unwrap_err().to_string();
        assert!(e.contains("patches.delta.base_hash"), "{e}");
    }

    #[test]
    fn short_hash_is_refused_with_the_field_name() {
        let req = pb::ReportRequest {
            sequence: 1,
            os: Some(pb::OsUpdate {
                kind: Some(pb::os_update::Kind::Unchanged(vec![1, 2, 3])),
            }),
            ..Default::default()
        };
        let e = Report::try_from(req).unwrap_err().to_string();
        assert!(e.contains("os") && e.contains("32"), "{e}");
    }

    #[test]
    fn hostile_strings_are_refused() {
        let os = pb::OsInfo {
            hostname: "web\u{1b}]0;pwned\u{7}".into(),
            ..Default::default()
        };
        let req = pb::ReportRequest {
            sequence: 1,
            os: Some(pb::OsUpdate {
                kind: Some(pb::os_update::Kind::Full(os)),
            }),
            ..Default::default()
        };
        let e = Report::try_from(req).unwrap_err().to_string();
        assert!(e.contains("os.hostname") && e.contains("control"), "{e}");

        let pkg = pb::Package {
            name: "x".repeat(10_000),
            ..Default::default()
        };
        let req = pb::ReportRequest {
            sequence: 1,
            software: Some(pb::SoftwareUpdate {
                kind: Some(pb::software_update::Kind::Full(pb::Software {
                    packages: vec![pkg],
                })),
            }),
            ..Default::default()
        };
        let e = Report::try_from(req).unwrap_err().to_string();
        assert!(e.contains("package.name"), "{e}");
    }

    #[test]
    fn zero_sequence_is_refused() {
        assert!(Report::try_from(pb::ReportRequest::default()).is_err());
    }
}
