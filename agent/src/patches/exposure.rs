//! How long a machine has been exposed: when the agent first saw each package with an
//! update pending (and with a security update pending), and since when a reboot has been
//! required, kept across runs in the state directory (`patches-seen.json`).
//!
//! A time holds while the condition holds at every look: a package whose pending update
//! disappears (installed, or withdrawn from the archive) starts again from the next look
//! that finds one. Times come from the agent's clock, so an agent that was offline still
//! reports how long the machine has been exposed, not how long the collector has known.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Patches;
use crate::transport::identity::{self, StateDir};

/// The file in the state directory.
pub const FILE: &str = "patches-seen.json";

/// First-seen times, keyed by `source/arch/name` of each pending update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    #[serde(default)]
    pending: BTreeMap<String, Times>,
    /// Since when the reboot has been required; 0 when it is not.
    #[serde(default)]
    reboot_required_since: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Times {
    first_seen: i64,
    #[serde(default)]
    security_since: i64,
}

fn key(p: &ward_proto::v1::PendingUpdate) -> String {
    format!("{}/{}/{}", p.source, p.arch, p.name)
}

impl Seen {
    /// Loads the times from `dir`; a missing file is an empty history, and an unreadable
    /// one is logged and treated as empty (exposure then counts from now, never longer).
    pub fn load(dir: &StateDir) -> Self {
        let path = dir.file(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %path.display(), error = %e, "first-seen times unreadable; exposure counts from now");
                Self::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::default(),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "first-seen times unreadable; exposure counts from now");
                Self::default()
            }
        }
    }

    /// Writes the times to `dir` atomically (mode 0600).
    pub fn save(&self, dir: &StateDir) -> Result<(), identity::Error> {
        let json = serde_json::to_vec(self).map_err(|e| identity::Error::Corrupt {
            path: dir.file(FILE),
            message: e.to_string(),
        })?;
        dir.write(FILE, &json, 0o600)
    }

    /// Stamps `patches` with the times this history knows, starting at `now` what is new,
    /// and returns the history to keep (only what is pending now).
    pub fn stamp(&self, patches: &mut Patches, now: i64) -> Seen {
        let mut next = Seen::default();
        for p in &mut patches.pending {
            let k = key(p);
            let before = self.pending.get(&k).copied().unwrap_or_default();
            // A time in the future (a clock set back) counts from now.
            let keep = |t: i64| if t > 0 && t <= now { t } else { now };
            let times = Times {
                first_seen: keep(before.first_seen),
                security_since: if p.security {
                    keep(before.security_since)
                } else {
                    0
                },
            };
            p.first_seen = times.first_seen;
            p.security_since = times.security_since;
            next.pending.insert(k, times);
        }
        next.reboot_required_since = if patches.reboot_required {
            match self.reboot_required_since {
                t if t > 0 && t <= now => t,
                _ => now,
            }
        } else {
            0
        };
        patches.reboot_required_since = next.reboot_required_since;
        next
    }
}

/// The current time in Unix seconds, as the first-seen times are kept (0 before 1970,
/// which no real clock reports).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_proto::v1 as pb;

    fn pending(name: &str, security: bool) -> pb::PendingUpdate {
        pb::PendingUpdate {
            name: name.into(),
            arch: "amd64".into(),
            source: "deb".into(),
            installed_version: "1".into(),
            candidate_version: "2".into(),
            security,
            ..Default::default()
        }
    }

    #[test]
    fn times_hold_while_pending_and_restart_after_a_break() {
        let mut p = Patches {
            pending: vec![pending("a", false), pending("b", true)],
            reboot_required: true,
            ..Default::default()
        };
        let seen = Seen::default().stamp(&mut p, 100);
        assert_eq!(
            (p.pending[0].first_seen, p.pending[0].security_since),
            (100, 0)
        );
        assert_eq!(
            (p.pending[1].first_seen, p.pending[1].security_since),
            (100, 100)
        );
        assert_eq!(p.reboot_required_since, 100);

        // An hour later: a's update became a security update, b's was installed, c is new.
        let mut p2 = Patches {
            pending: vec![pending("a", true), pending("c", false)],
            reboot_required: true,
            ..Default::default()
        };
        let seen2 = seen.stamp(&mut p2, 3700);
        assert_eq!(
            (p2.pending[0].first_seen, p2.pending[0].security_since),
            (100, 3700)
        );
        assert_eq!(p2.pending[1].first_seen, 3700);
        assert_eq!(p2.reboot_required_since, 100);

        // b comes back: its exposure starts again; the reboot was done.
        let mut p3 = Patches {
            pending: vec![pending("b", true)],
            ..Default::default()
        };
        let seen3 = seen2.stamp(&mut p3, 7300);
        assert_eq!(p3.pending[0].security_since, 7300);
        assert_eq!(p3.reboot_required_since, 0);
        assert_eq!(seen3.pending.len(), 1);
    }

    #[test]
    fn a_future_time_counts_from_now() {
        let mut p = Patches {
            pending: vec![pending("a", true)],
            ..Default::default()
        };
        let seen = Seen::default().stamp(&mut p, 5000);
        let mut again = p.clone();
        seen.stamp(&mut again, 1000);
        assert_eq!(again.pending[0].first_seen, 1000);
    }

    #[test]
    fn round_trips_and_survives_a_corrupt_file() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path());
        assert_eq!(Seen::load(&sd), Seen::default());
        let mut p = Patches {
            pending: vec![pending("a", true)],
            reboot_required: true,
            ..Default::default()
        };
        let seen = Seen::default().stamp(&mut p, 42);
        seen.save(&sd).unwrap();
        assert_eq!(Seen::load(&sd), seen);
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert_eq!(Seen::load(&sd), Seen::default());
    }
}
