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
            Some(pb::os_update::Kind::Full(os)) => Some(SectionUpdate::Full(os)),
        };
        let hardware = match r.hardware.and_then(|u| u.kind) {
            None => None,
            Some(pb::hardware_update::Kind::Unchanged(h)) => {
                Some(SectionUpdate::Unchanged(hash("hardware", &h)?))
            }
            Some(pb::hardware_update::Kind::Full(hw)) => Some(SectionUpdate::Full(hw)),
        };
        let software = match r.software.and_then(|u| u.kind) {
            None => None,
            Some(pb::software_update::Kind::Unchanged(h)) => {
                Some(SoftwareUpdate::Unchanged(hash("software", &h)?))
            }
            Some(pb::software_update::Kind::Full(sw)) => Some(SoftwareUpdate::Full(sw)),
            Some(pb::software_update::Kind::Delta(d)) => {
                hash("software.delta.base_hash", &d.base_hash)?;
                hash("software.delta.result_hash", &d.result_hash)?;
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
    fn zero_sequence_is_refused() {
        assert!(Report::try_from(pb::ReportRequest::default()).is_err());
    }
}
