//! What the collector has acknowledged, persisted in the state directory so a restart
//! does not resend everything: the last acknowledged sequence number, and for each section
//! the hash of what the agent sent together with the hash the collector holds for it,
//! plus the software section itself (the base the next delta is computed against).
//!
//! The two hashes are equal when agent and collector agree on the canonical form of a
//! section. They differ when they do not — an agent newer than its collector sends a
//! field the collector does not know, and prost drops it — and then the collector's hash
//! is the one to name in `unchanged`, and deltas wait until the versions agree again.

use prost::Message;
use serde::{Deserialize, Serialize};
use ward_proto::digest::{self, Hash};
use ward_proto::v1 as pb;

use super::identity::{self, StateDir};

const STATE_FILE: &str = "report-state.json";
const SOFTWARE_FILE: &str = "software.acked.pb";
const PATCHES_FILE: &str = "patches.acked.pb";

/// One acknowledged section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acked {
    /// Hash of the section as the agent sent it.
    pub local: Hash,
    /// Hash of the section as the collector holds it.
    pub held: Hash,
}

impl Acked {
    /// Returns whether both sides hash the section alike (deltas are then possible).
    pub fn agrees(&self) -> bool {
        self.local == self.held
    }
}

/// The persisted report state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportState {
    /// The highest sequence number the collector acknowledged (applied or duplicate).
    pub sequence: u64,
    pub os: Option<Acked>,
    pub hardware: Option<Acked>,
    pub software: Option<Acked>,
    /// The acknowledged software section, as the agent sent it (hash `software.local`).
    pub software_body: Option<pb::Software>,
    pub patches: Option<Acked>,
    /// The acknowledged patches section, as the agent sent it (hash `patches.local`).
    pub patches_body: Option<pb::Patches>,
}

#[derive(Serialize, Deserialize, Default)]
struct StoredAcked {
    local: String,
    held: String,
}

#[derive(Serialize, Deserialize, Default)]
struct Stored {
    sequence: u64,
    #[serde(default)]
    os: Option<StoredAcked>,
    #[serde(default)]
    hardware: Option<StoredAcked>,
    #[serde(default)]
    software: Option<StoredAcked>,
    #[serde(default)]
    patches: Option<StoredAcked>,
}

fn parse_hash(s: &str) -> Option<Hash> {
    hex::decode(s).ok().and_then(|v| v.try_into().ok())
}

fn parse_acked(s: Option<StoredAcked>) -> Option<Acked> {
    let s = s?;
    Some(Acked {
        local: parse_hash(&s.local)?,
        held: parse_hash(&s.held)?,
    })
}

fn store_acked(a: Option<Acked>) -> Option<StoredAcked> {
    a.map(|a| StoredAcked {
        local: hex::encode(a.local),
        held: hex::encode(a.held),
    })
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
            os: parse_acked(stored.os),
            hardware: parse_acked(stored.hardware),
            software: parse_acked(stored.software),
            software_body: None,
            patches: parse_acked(stored.patches),
            patches_body: None,
        };
        if let Some(acked) = state.software {
            state.software_body = std::fs::read(dir.file(SOFTWARE_FILE))
                .ok()
                .and_then(|b| pb::Software::decode(b.as_slice()).ok())
                .filter(|sw| digest::software(sw) == acked.local);
        }
        if let Some(acked) = state.patches {
            state.patches_body = std::fs::read(dir.file(PATCHES_FILE))
                .ok()
                .and_then(|b| pb::Patches::decode(b.as_slice()).ok())
                .filter(|p| digest::patches(p) == acked.local);
        }
        state
    }

    /// Writes the state atomically.
    pub fn save(&self, dir: &StateDir) -> Result<(), identity::Error> {
        if let Some(sw) = &self.software_body {
            dir.write(SOFTWARE_FILE, &sw.encode_to_vec(), 0o600)?;
        }
        if let Some(p) = &self.patches_body {
            dir.write(PATCHES_FILE, &p.encode_to_vec(), 0o600)?;
        }
        let stored = Stored {
            sequence: self.sequence,
            os: store_acked(self.os),
            hardware: store_acked(self.hardware),
            software: store_acked(self.software),
            patches: store_acked(self.patches),
        };
        let json = serde_json::to_vec_pretty(&stored).map_err(|e| identity::Error::Corrupt {
            path: dir.file(STATE_FILE),
            message: e.to_string(),
        })?;
        dir.write(STATE_FILE, &json, 0o600)
    }

    /// Forgets everything (a new enrolment).
    pub fn reset(dir: &StateDir) -> Result<(), identity::Error> {
        for f in [STATE_FILE, SOFTWARE_FILE, PATCHES_FILE] {
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

    /// Returns the hashes the collector holds, as a heartbeat announces them.
    pub fn held(&self) -> [(pb::Section, Option<Hash>); 4] {
        [
            (pb::Section::Os, self.os.map(|a| a.held)),
            (pb::Section::Hardware, self.hardware.map(|a| a.held)),
            (pb::Section::Software, self.software.map(|a| a.held)),
            (pb::Section::Patches, self.patches.map(|a| a.held)),
        ]
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
        let h = digest::software(&sw);
        let patches = pb::Patches {
            reboot_required: true,
            ..Default::default()
        };
        let ph = digest::patches(&patches);
        let st = ReportState {
            sequence: 7,
            os: Some(Acked {
                local: [1; 32],
                held: [2; 32],
            }),
            hardware: None,
            software: Some(Acked { local: h, held: h }),
            software_body: Some(sw),
            patches: Some(Acked {
                local: ph,
                held: ph,
            }),
            patches_body: Some(patches),
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
            software: Some(Acked {
                local: [9; 32],
                held: [9; 32],
            }),
            software_body: Some(pb::Software::default()),
            ..Default::default()
        };
        st.save(&sd).unwrap();
        assert_eq!(ReportState::load(&sd).software_body, None);
    }
}
