//! Conversions from wire requests to validated domain values.

use ward_proto::section::{Hardware, Kind, Os, Patches, Posture, Software};
use ward_proto::v1 as pb;

use crate::store::alerts::{Alert, AlertEvent, Silence};
use crate::store::{HostFilter, PatchFilter, Report};

pub use crate::sections::check::Error;
use crate::sections::from_wire;

impl TryFrom<pb::ReportRequest> for Report {
    type Error = Error;

    fn try_from(mut r: pb::ReportRequest) -> Result<Self, Error> {
        if r.sequence == 0 {
            return Err(Error::ZeroSequence);
        }
        if r.agent_version.len() > 64 {
            return Err(Error::TooLong("agent_version", 64));
        }
        Ok(Report {
            sequence: r.sequence,
            os: from_wire::<Os>(Os::take(&mut r))?,
            hardware: from_wire::<Hardware>(Hardware::take(&mut r))?,
            software: from_wire::<Software>(Software::take(&mut r))?,
            patches: from_wire::<Patches>(Patches::take(&mut r))?,
            posture: from_wire::<Posture>(Posture::take(&mut r))?,
            agent_version: r.agent_version,
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

/// An alert as the admin service serves it.
pub fn alert(a: Alert) -> pb::Alert {
    pb::Alert {
        id: a.id,
        rule: a.rule,
        severity: a.severity.as_str().to_owned(),
        status: a.status.as_str().to_owned(),
        silenced: a.silenced,
        host_id: a.host_id,
        hostname: a.hostname,
        subject: a.subject,
        summary: a.summary,
        detail: a.detail,
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        count: a.count,
        resolved_at: a.resolved_at,
        resolution: a.resolution,
        fingerprint: a.fingerprint,
    }
}

/// An alert event as the admin service serves it.
pub fn alert_event(e: AlertEvent) -> pb::AlertEvent {
    pb::AlertEvent {
        id: e.id,
        alert_id: e.alert_id,
        at: e.at,
        kind: e.kind.as_str().to_owned(),
        actor: e.actor,
        note: e.note,
        status: e.status.as_str().to_owned(),
    }
}

/// A silence as the admin service serves it.
pub fn silence(s: Silence) -> pb::Silence {
    pb::Silence {
        id: s.id,
        rule: s.rule,
        host: s.host,
        subject: s.subject,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        comment: s.comment,
        created_by: s.created_by,
        created_at: s.created_at,
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
