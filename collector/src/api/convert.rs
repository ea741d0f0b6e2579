//! Conversions from wire requests to validated domain values.

use ward_proto::digest::{HASH_LEN, Hash};
use ward_proto::v1 as pb;

use crate::store::{HostFilter, Report, SectionUpdate, SoftwareUpdate};

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
        Ok(Report {
            sequence: r.sequence,
            agent_version: r.agent_version,
            os,
            hardware,
            software,
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

#[cfg(test)]
mod tests {
    use super::*;

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
