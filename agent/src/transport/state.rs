//! What the collector has acknowledged, persisted in the state directory so a restart
//! does not resend everything: the last acknowledged sequence number, and for each section
//! the hash of what the agent sent together with the hash the collector holds for it,
//! plus the acknowledged body of each section that travels as deltas (software, patches:
//! the base the next delta is computed against). Each section kind is one
//! [`Tracked`] implementation, so loading, saving and acknowledging are generic.
//!
//! The two hashes are equal when agent and collector agree on the canonical form of a
//! section. They differ when they do not — an agent newer than its collector sends a
//! field the collector does not know, and prost drops it — and then the collector's hash
//! is the one to name in `unchanged`, and deltas wait until the versions agree again.

use prost::Message;
use serde::{Deserialize, Serialize};
use ward_proto::digest::Hash;
use ward_proto::section::{self, Hardware, Os, Patches, Posture, Software};
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
    pub posture: Option<Acked>,
}

/// A section kind whose acknowledgement the report state keeps: where its [`Acked`]
/// lives and, for kinds with deltas, its acknowledged body (the next delta's base) and
/// the file that body is kept in.
pub trait Tracked: section::Kind {
    /// The state directory file holding the acknowledged body (kinds with deltas only).
    const BODY_FILE: Option<&'static str>;

    /// Returns the section's acknowledgement.
    fn acked(state: &ReportState) -> Option<Acked>;

    /// Returns the section's acknowledgement, to update it.
    fn acked_mut(state: &mut ReportState) -> &mut Option<Acked>;

    /// Returns the acknowledged body (None for kinds without deltas).
    fn body(state: &ReportState) -> Option<&Self::Body>;

    /// Replaces the acknowledged body (ignored by kinds without deltas).
    fn set_body(state: &mut ReportState, body: Option<Self::Body>);
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
    /// Absent from files written before the agent reported posture.
    #[serde(default)]
    posture: Option<StoredAcked>,
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

/// Implements [`Tracked`] for a kind without deltas (only its [`Acked`] is kept).
macro_rules! tracked {
    ($kind:ty, $field:ident) => {
        impl Tracked for $kind {
            const BODY_FILE: Option<&'static str> = None;

            fn acked(state: &ReportState) -> Option<Acked> {
                state.$field
            }

            fn acked_mut(state: &mut ReportState) -> &mut Option<Acked> {
                &mut state.$field
            }

            fn body(_: &ReportState) -> Option<&Self::Body> {
                None
            }

            fn set_body(_: &mut ReportState, _: Option<Self::Body>) {}
        }
    };
    ($kind:ty, $field:ident, $body:ident, $file:expr) => {
        impl Tracked for $kind {
            const BODY_FILE: Option<&'static str> = Some($file);

            fn acked(state: &ReportState) -> Option<Acked> {
                state.$field
            }

            fn acked_mut(state: &mut ReportState) -> &mut Option<Acked> {
                &mut state.$field
            }

            fn body(state: &ReportState) -> Option<&Self::Body> {
                state.$body.as_ref()
            }

            fn set_body(state: &mut ReportState, body: Option<Self::Body>) {
                state.$body = body;
            }
        }
    };
}
tracked!(Os, os);
tracked!(Hardware, hardware);
tracked!(Software, software, software_body, SOFTWARE_FILE);
tracked!(Patches, patches, patches_body, PATCHES_FILE);
tracked!(Posture, posture);

/// Reads the acknowledged body of `K` back, keeping it only when it is the one
/// acknowledged (its hash is the acknowledged local hash).
fn load_body<K: Tracked>(dir: &StateDir, state: &mut ReportState) {
    let (Some(file), Some(acked)) = (K::BODY_FILE, K::acked(state)) else {
        return;
    };
    let body = std::fs::read(dir.file(file))
        .ok()
        .and_then(|b| K::Body::decode(b.as_slice()).ok())
        .filter(|b| K::hash(b) == acked.local);
    K::set_body(state, body);
}

/// Writes the acknowledged body of `K`, when there is one.
fn save_body<K: Tracked>(dir: &StateDir, state: &ReportState) -> Result<(), identity::Error> {
    match (K::BODY_FILE, K::body(state)) {
        (Some(file), Some(body)) => dir.write(file, &body.encode_to_vec(), 0o600),
        _ => Ok(()),
    }
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
            posture: parse_acked(stored.posture),
        };
        load_body::<Software>(dir, &mut state);
        load_body::<Patches>(dir, &mut state);
        state
    }

    /// Writes the state atomically.
    pub fn save(&self, dir: &StateDir) -> Result<(), identity::Error> {
        save_body::<Software>(dir, self)?;
        save_body::<Patches>(dir, self)?;
        let stored = Stored {
            sequence: self.sequence,
            os: store_acked(self.os),
            hardware: store_acked(self.hardware),
            software: store_acked(self.software),
            patches: store_acked(self.patches),
            posture: store_acked(self.posture),
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
    pub fn held(&self) -> [(pb::Section, Option<Hash>); 5] {
        fn of<K: Tracked>(state: &ReportState) -> (pb::Section, Option<Hash>) {
            (K::SECTION, K::acked(state).map(|a| a.held))
        }
        [
            of::<Os>(self),
            of::<Hardware>(self),
            of::<Software>(self),
            of::<Patches>(self),
            of::<Posture>(self),
        ]
    }
}

#[cfg(test)]
mod tests {
    use ward_proto::digest;

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
            posture: Some(Acked {
                local: [3; 32],
                held: [3; 32],
            }),
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

    #[test]
    fn a_file_written_before_posture_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path());
        let h = hex::encode([4u8; 32]);
        let old = format!(
            r#"{{"sequence": 12, "os": {{"local": "{h}", "held": "{h}"}}, "hardware": null,
                "software": null, "patches": null}}"#
        );
        std::fs::write(dir.path().join(STATE_FILE), old).unwrap();
        let st = ReportState::load(&sd);
        assert_eq!(st.sequence, 12);
        assert_eq!(st.os.map(|a| a.local), Some([4; 32]));
        assert_eq!(st.posture, None);
        // And the posture entry is written from then on.
        let st = ReportState {
            posture: st.os,
            ..st
        };
        st.save(&sd).unwrap();
        let json = std::fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
        assert!(json.contains("\"posture\""), "{json}");
        assert_eq!(ReportState::load(&sd), st);
    }
}
