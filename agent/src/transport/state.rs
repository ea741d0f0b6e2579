//! What the collector has acknowledged, persisted in the state directory so a restart
//! does not resend everything: the sequence number, the hash of each section, and the
//! software section itself (the base the next delta is computed against).

use prost::Message;
use serde::{Deserialize, Serialize};
use ward_proto::digest::{self, Hash};
use ward_proto::v1 as pb;

use super::identity::{self, StateDir};

const STATE_FILE: &str = "report-state.json";
const SOFTWARE_FILE: &str = "software.acked.pb";

/// The persisted report state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportState {
    /// The last sequence number sent.
    pub sequence: u64,
    pub os: Option<Hash>,
    pub hardware: Option<Hash>,
    pub software: Option<Hash>,
    /// The acknowledged software section, when its hash is `software`.
    pub software_body: Option<pb::Software>,
}

#[derive(Serialize, Deserialize, Default)]
struct Stored {
    sequence: u64,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    hardware: Option<String>,
    #[serde(default)]
    software: Option<String>,
}

fn parse_hash(s: Option<String>) -> Option<Hash> {
    s.and_then(|h| hex::decode(h).ok())
        .and_then(|v| v.try_into().ok())
}

impl ReportState {
    /// Loads the state; a missing or unreadable file yields the empty state (the next
    /// report is then full, which is always safe).
    pub fn load(dir: &StateDir) -> Self {
        let stored: Stored = match std::fs::read(dir.file(STATE_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "report state unreadable; the next report will be full");
                Stored::default()
            }),
            Err(_) => Stored::default(),
        };
        let mut state = ReportState {
            sequence: stored.sequence,
            os: parse_hash(stored.os),
            hardware: parse_hash(stored.hardware),
            software: parse_hash(stored.software),
            software_body: None,
        };
        if let Some(h) = state.software {
            state.software_body = std::fs::read(dir.file(SOFTWARE_FILE))
                .ok()
                .and_then(|b| pb::Software::decode(b.as_slice()).ok())
                .filter(|sw| digest::software(sw) == h);
        }
        state
    }

    /// Writes the state atomically.
    pub fn save(&self, dir: &StateDir) -> Result<(), identity::Error> {
        if let Some(sw) = &self.software_body {
            dir.write(SOFTWARE_FILE, &sw.encode_to_vec(), 0o600)?;
        }
        let stored = Stored {
            sequence: self.sequence,
            os: self.os.map(hex::encode),
            hardware: self.hardware.map(hex::encode),
            software: self.software.map(hex::encode),
        };
        let json = serde_json::to_vec_pretty(&stored).unwrap_or_default();
        dir.write(STATE_FILE, &json, 0o600)
    }

    /// Forgets everything (a new enrolment).
    pub fn reset(dir: &StateDir) -> Result<(), identity::Error> {
        for f in [STATE_FILE, SOFTWARE_FILE] {
            match std::fs::remove_file(dir.file(f)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(identity::Error::Write {
                        path: dir.file(f),
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path());
        assert_eq!(ReportState::load(&sd), ReportState::default());
        let sw = pb::Software {
            packages: vec![pb::Package {
                name: "a".into(),
                version: "1".into(),
                ..Default::default()
            }],
        };
        let st = ReportState {
            sequence: 7,
            os: Some([1; 32]),
            hardware: None,
            software: Some(digest::software(&sw)),
            software_body: Some(sw),
        };
        st.save(&sd).unwrap();
        assert_eq!(ReportState::load(&sd), st);
        ReportState::reset(&sd).unwrap();
        assert_eq!(ReportState::load(&sd), ReportState::default());
    }

    #[test]
    fn body_that_does_not_match_its_hash_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path());
        let st = ReportState {
            sequence: 1,
            software: Some([9; 32]),
            software_body: Some(pb::Software::default()),
            ..Default::default()
        };
        st.save(&sd).unwrap();
        assert_eq!(ReportState::load(&sd).software_body, None);
    }
}
