//! Building reports and reading their acknowledgements. Each section goes as
//! `unchanged(hash)` when the collector already holds it, as a delta against the section
//! it acknowledged when that is smaller, or in full. Pure functions of the state and the
//! inventory, so the whole protocol is unit-testable without a network.

use prost::Message;
use serde::Serialize;
use ward_proto::digest::{self, Hash};
use ward_proto::v1 as pb;

use super::state::{Acked, ReportState};
use crate::inventory::Inventory;

/// How a section travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Unchanged,
    Full,
    Delta,
}

/// What a report carried, for logs and `ward-agent run --once`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub sequence: u64,
    /// Encoded size of the report message in bytes.
    pub bytes: usize,
    pub os: Kind,
    pub hardware: Kind,
    pub software: Kind,
    /// Encoded size the software section would have had in full.
    pub software_full_bytes: usize,
    pub packages: usize,
    /// How the patches section travelled; absent when the patch state could not be
    /// collected (the collector then keeps what it holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patches: Option<Kind>,
    /// Pending updates in the patches section.
    pub pending: usize,
}

/// A report ready to send, with what to remember once it is acknowledged.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: pb::ReportRequest,
    pub summary: Summary,
    os: Hash,
    hardware: Hash,
    software: Hash,
    software_body: pb::Software,
    patches: Option<(Hash, pb::Patches)>,
}

/// Returns the hardware section in the form that is reported: free space is rounded down
/// to 1 % of the file system, so that the section (and its hash) changes when usage moves
/// noticeably, not on every write to a log file.
pub fn stable_hardware(hw: &pb::Hardware) -> pb::Hardware {
    let mut hw = hw.clone();
    for fs in &mut hw.filesystems {
        let step = (fs.total_bytes / 100).max(1);
        fs.free_bytes -= fs.free_bytes % step;
    }
    digest::canonicalize_hardware(&mut hw);
    hw
}

/// Builds the next report from the acknowledged state, the current inventory and patch
/// state (None when it could not be collected: the section is then left out); sections
/// listed in `force_full` are sent in full whatever the state says.
pub fn prepare(
    state: &ReportState,
    inv: &Inventory,
    patches: Option<&pb::Patches>,
    force_full: &[pb::Section],
) -> Prepared {
    let forced = |s: pb::Section| force_full.contains(&s);
    // `unchanged` names the collector's hash of what it holds for what we sent last.
    let unchanged_since = |acked: Option<Acked>, ours: Hash, s: pb::Section| {
        acked
            .filter(|a| a.local == ours && !forced(s))
            .map(|a| a.held)
    };
    let os_hash = digest::os(&inv.os);
    let hardware = stable_hardware(&inv.hardware);
    let hw_hash = digest::hardware(&hardware);
    let mut software = inv.software.clone();
    digest::canonicalize_software(&mut software);
    let sw_hash = digest::software(&software);

    let (os_update, os_kind) = match unchanged_since(state.os, os_hash, pb::Section::Os) {
        Some(held) => (
            pb::os_update::Kind::Unchanged(held.to_vec()),
            Kind::Unchanged,
        ),
        None => (pb::os_update::Kind::Full(inv.os.clone()), Kind::Full),
    };
    let (hw_update, hw_kind) = match unchanged_since(state.hardware, hw_hash, pb::Section::Hardware)
    {
        Some(held) => (
            pb::hardware_update::Kind::Unchanged(held.to_vec()),
            Kind::Unchanged,
        ),
        None => (pb::hardware_update::Kind::Full(hardware), Kind::Full),
    };
    let software_full_bytes = software.encoded_len();
    let (sw_update, sw_kind) =
        if let Some(held) = unchanged_since(state.software, sw_hash, pb::Section::Software) {
            (
                pb::software_update::Kind::Unchanged(held.to_vec()),
                Kind::Unchanged,
            )
        } else {
            // A delta needs a base both sides hash alike.
            let base = match (&state.software_body, state.software) {
                (Some(body), Some(acked)) if acked.agrees() && !forced(pb::Section::Software) => {
                    Some(body)
                }
                _ => None,
            };
            match base.map(|b| ward_proto::delta::software(b, &software)) {
                Some(delta) if delta.encoded_len() < software_full_bytes => {
                    (pb::software_update::Kind::Delta(delta), Kind::Delta)
                }
                _ => (
                    pb::software_update::Kind::Full(software.clone()),
                    Kind::Full,
                ),
            }
        };
    let patches = patches.map(|p| {
        let mut p = p.clone();
        digest::canonicalize_patches(&mut p);
        let hash = digest::patches(&p);
        let (update, kind) = patches_update(state, &p, hash, forced(pb::Section::Patches));
        (update, kind, hash, p)
    });
    let sequence = state.sequence.saturating_add(1);
    let request = pb::ReportRequest {
        sequence,
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
        os: Some(pb::OsUpdate {
            kind: Some(os_update),
        }),
        hardware: Some(pb::HardwareUpdate {
            kind: Some(hw_update),
        }),
        software: Some(pb::SoftwareUpdate {
            kind: Some(sw_update),
        }),
        patches: patches.as_ref().map(|(u, ..)| pb::PatchesUpdate {
            kind: Some(u.clone()),
        }),
        // The posture section is not collected yet.
        posture: None,
    };
    let summary = Summary {
        sequence,
        bytes: request.encoded_len(),
        os: os_kind,
        hardware: hw_kind,
        software: sw_kind,
        software_full_bytes,
        packages: software.packages.len(),
        patches: patches.as_ref().map(|(_, k, ..)| *k),
        pending: patches.as_ref().map_or(0, |(.., p)| p.pending.len()),
    };
    Prepared {
        request,
        summary,
        os: os_hash,
        hardware: hw_hash,
        software: sw_hash,
        software_body: software,
        patches: patches.map(|(_, _, h, p)| (h, p)),
    }
}

/// Chooses how the (canonical) patches section travels: unchanged, as a delta against
/// the acknowledged section when both sides hash it alike and that is smaller, or full.
fn patches_update(
    state: &ReportState,
    patches: &pb::Patches,
    hash: Hash,
    forced: bool,
) -> (pb::patches_update::Kind, Kind) {
    if let Some(acked) = state.patches.filter(|a| a.local == hash && !forced) {
        return (
            pb::patches_update::Kind::Unchanged(acked.held.to_vec()),
            Kind::Unchanged,
        );
    }
    let base = match (&state.patches_body, state.patches) {
        (Some(body), Some(acked)) if acked.agrees() && !forced => Some(body),
        _ => None,
    };
    match base.map(|b| ward_proto::delta::patches(b, patches)) {
        Some(delta) if delta.encoded_len() < patches.encoded_len() => {
            (pb::patches_update::Kind::Delta(delta), Kind::Delta)
        }
        _ => (pb::patches_update::Kind::Full(patches.clone()), Kind::Full),
    }
}

/// What the acknowledgement asks of the agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Followup {
    /// Sections to send again in full, at once.
    pub send_full: Vec<pb::Section>,
    /// The sequence number had been used already: send again with a fresh one.
    pub resend: bool,
}

/// Records what the collector acknowledged for a sent report.
///
/// Only `send_full` asks for a follow-up, so agent and collector cannot ping-pong: when
/// the collector holds a section under another hash than the agent's (version skew), that
/// hash is simply remembered and named in the next `unchanged`.
pub fn acknowledge(state: &mut ReportState, sent: Prepared, resp: &pb::ReportResponse) -> Followup {
    if resp.duplicate {
        // The collector applied this sequence number before (an ack lost in transit, or
        // restored agent state): nothing of this report was applied. Move past it and
        // send again; the next report sorts out what the collector holds.
        state.sequence = resp.applied_sequence.max(sent.summary.sequence);
        return Followup {
            send_full: Vec::new(),
            resend: true,
        };
    }
    state.sequence = sent.summary.sequence;
    let mut follow = Followup::default();
    let mut software_body = Some(sent.software_body);
    let (patches_hash, mut patches_body) = match sent.patches {
        Some((h, p)) => (Some(h), Some(p)),
        None => (None, None),
    };
    for ack in &resp.sections {
        let Ok(section) = pb::Section::try_from(ack.section) else {
            continue;
        };
        let (slot, ours) = match section {
            pb::Section::Os => (&mut state.os, sent.os),
            pb::Section::Hardware => (&mut state.hardware, sent.hardware),
            pb::Section::Software => (&mut state.software, sent.software),
            // Not sent in this report: the collector names what it holds, which the
            // agent can only trust for a section it sent.
            pb::Section::Patches => match patches_hash {
                Some(h) => (&mut state.patches, h),
                None => continue,
            },
            _ => continue,
        };
        let held: Option<Hash> = ack.hash.as_slice().try_into().ok();
        *slot = match held {
            Some(held) if !ack.send_full => {
                if held != ours {
                    tracing::debug!(
                        section = section.as_str_name(),
                        "collector hashes this section differently (version skew); deltas paused"
                    );
                }
                Some(Acked { local: ours, held })
            }
            _ => None,
        };
        if section == pb::Section::Software {
            state.software_body = if slot.is_some() {
                software_body.take()
            } else {
                None
            };
        }
        if section == pb::Section::Patches {
            state.patches_body = if slot.is_some() {
                patches_body.take()
            } else {
                None
            };
        }
        if ack.send_full {
            follow.send_full.push(section);
        }
    }
    follow
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str) -> pb::Package {
        pb::Package {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            source: "deb".into(),
            state: "installed".into(),
            ..Default::default()
        }
    }

    fn inventory(n: usize) -> Inventory {
        Inventory {
            os: pb::OsInfo {
                hostname: "h".into(),
                ..Default::default()
            },
            hardware: pb::Hardware::default(),
            software: pb::Software {
                packages: (0..n).map(|i| pkg(&format!("p{i}"), "1.0")).collect(),
            },
        }
    }

    fn ack_all(p: &Prepared) -> pb::ReportResponse {
        let mk = |s: pb::Section, h: Hash| pb::SectionAck {
            section: s as i32,
            hash: h.to_vec(),
            send_full: false,
        };
        pb::ReportResponse {
            applied_sequence: p.summary.sequence,
            duplicate: false,
            sections: [
                mk(pb::Section::Os, p.os),
                mk(pb::Section::Hardware, p.hardware),
                mk(pb::Section::Software, p.software),
            ]
            .into_iter()
            .chain(
                p.patches
                    .as_ref()
                    .map(|(h, _)| mk(pb::Section::Patches, *h)),
            )
            .collect(),
        }
    }

    fn patch_state(n: usize, reboot: bool) -> pb::Patches {
        pb::Patches {
            pending: (0..n)
                .map(|i| pb::PendingUpdate {
                    name: format!("p{i}"),
                    arch: "amd64".into(),
                    source: "deb".into(),
                    installed_version: "1.0".into(),
                    candidate_version: "1.1".into(),
                    security: i % 2 == 0,
                    origin: "Debian".into(),
                    suite: "bookworm-security".into(),
                    suites: vec!["bookworm-security".into()],
                    first_seen: 1_700_000_000,
                    ..Default::default()
                })
                .collect(),
            reboot_required: reboot,
            running_kernel: "6.1.0-9-amd64".into(),
            managers: vec!["apt".into()],
            ..Default::default()
        }
    }

    #[test]
    fn patches_go_full_then_unchanged_then_delta_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let sd = crate::transport::identity::StateDir::new(dir.path());
        let mut st = ReportState::default();
        let inv = inventory(3);
        let patches = patch_state(100, false);
        let p1 = prepare(&st, &inv, Some(&patches), &[]);
        assert_eq!(
            (p1.summary.patches, p1.summary.pending),
            (Some(Kind::Full), 100)
        );
        let r1 = ack_all(&p1);
        acknowledge(&mut st, p1.clone(), &r1);
        st.save(&sd).unwrap();
        // A restarted agent reads the acknowledged section back as its delta base.
        let st = ReportState::load(&sd);
        assert!(st.patches_body.is_some());

        let p2 = prepare(&st, &inv, Some(&patches), &[]);
        assert_eq!(p2.summary.patches, Some(Kind::Unchanged));

        let mut changed = patches.clone();
        changed.pending.remove(7);
        changed.pending[0].candidate_version = "1.2".into();
        changed.reboot_required = true;
        let p3 = prepare(&st, &inv, Some(&changed), &[]);
        assert_eq!(p3.summary.patches, Some(Kind::Delta));
        let Some(pb::patches_update::Kind::Delta(d)) =
            p3.request.patches.as_ref().and_then(|u| u.kind.clone())
        else {
            panic!("expected a delta");
        };
        let base = st.patches_body.as_ref().unwrap();
        let mut expected = changed.clone();
        ward_proto::digest::canonicalize_patches(&mut expected);
        assert_eq!(
            ward_proto::delta::apply_patches(base, &d).unwrap(),
            expected
        );

        // Forced full, and left out when the patch state could not be collected.
        let p4 = prepare(&st, &inv, Some(&changed), &[pb::Section::Patches]);
        assert_eq!(p4.summary.patches, Some(Kind::Full));
        let p5 = prepare(&st, &inv, None, &[]);
        assert!(p5.request.patches.is_none() && p5.summary.patches.is_none());
    }

    #[test]
    fn an_ack_without_patches_sent_keeps_the_patches_state() {
        let mut st = ReportState::default();
        let inv = inventory(1);
        let patches = patch_state(2, true);
        let p1 = prepare(&st, &inv, Some(&patches), &[]);
        acknowledge(&mut st, p1.clone(), &ack_all(&p1));
        let acked = st.patches;
        assert!(acked.is_some());
        let p2 = prepare(&st, &inv, None, &[]);
        let mut r2 = ack_all(&p2);
        r2.sections.push(pb::SectionAck {
            section: pb::Section::Patches as i32,
            hash: vec![1; 32],
            send_full: false,
        });
        acknowledge(&mut st, p2, &r2);
        assert_eq!(st.patches, acked);
    }

    #[test]
    fn first_full_then_unchanged_then_delta() {
        let mut st = ReportState::default();
        let inv = inventory(500);
        let p1 = prepare(&st, &inv, None, &[]);
        assert_eq!(
            (p1.summary.os, p1.summary.software),
            (Kind::Full, Kind::Full)
        );
        let r1 = ack_all(&p1);
        assert_eq!(acknowledge(&mut st, p1.clone(), &r1), Followup::default());

        let p2 = prepare(&st, &inv, None, &[]);
        assert_eq!(p2.summary.sequence, 2);
        assert_eq!(
            (p2.summary.os, p2.summary.hardware, p2.summary.software),
            (Kind::Unchanged, Kind::Unchanged, Kind::Unchanged)
        );
        assert!(
            p2.summary.bytes < 200,
            "steady state is {} bytes",
            p2.summary.bytes
        );
        acknowledge(&mut st, p2.clone(), &ack_all(&p2));

        let mut changed = inv.clone();
        changed.software.packages[3].version = "2.0".into();
        changed.software.packages.push(pkg("zz-new", "1"));
        changed.software.packages.remove(10);
        let p3 = prepare(&st, &changed, None, &[]);
        assert_eq!(p3.summary.software, Kind::Delta);
        assert!(p3.summary.bytes * 20 < p1.summary.bytes);
    }

    #[test]
    fn send_full_clears_the_acked_hash() {
        let mut st = ReportState::default();
        let inv = inventory(5);
        let p = prepare(&st, &inv, None, &[]);
        let mut r = ack_all(&p);
        r.sections[2].send_full = true;
        r.sections[2].hash.clear();
        let f = acknowledge(&mut st, p, &r);
        assert_eq!(f.send_full, vec![pb::Section::Software]);
        assert_eq!(st.software, None);
        assert!(st.os.is_some());
        let again = prepare(&st, &inv, None, &f.send_full);
        assert_eq!(again.summary.software, Kind::Full);
    }

    #[test]
    fn a_collector_that_hashes_differently_does_not_cause_a_loop() {
        // An older collector drops a field it does not know: it holds the section under
        // another hash than ours, without asking for it again.
        let mut st = ReportState::default();
        let inv = inventory(50);
        let p = prepare(&st, &inv, None, &[]);
        let mut r = ack_all(&p);
        for ack in &mut r.sections {
            ack.hash = vec![7; 32];
        }
        assert_eq!(acknowledge(&mut st, p, &r), Followup::default());
        let again = prepare(&st, &inv, None, &[]);
        assert_eq!(
            (
                again.summary.os,
                again.summary.hardware,
                again.summary.software
            ),
            (Kind::Unchanged, Kind::Unchanged, Kind::Unchanged)
        );
        match again.request.software.and_then(|u| u.kind) {
            Some(pb::software_update::Kind::Unchanged(h)) => assert_eq!(h, vec![7; 32]),
            other => panic!("expected unchanged, got {other:?}"),
        }
        // A change goes in full: a delta against a base the collector hashes
        // differently would only be refused.
        let mut changed = inv.clone();
        changed.software.packages[0].version = "9".into();
        assert_eq!(
            prepare(&st, &changed, None, &[]).summary.software,
            Kind::Full
        );
    }

    #[test]
    fn duplicate_moves_the_sequence_forward() {
        let mut st = ReportState::default();
        let p = prepare(&st, &inventory(1), None, &[]);
        let r = pb::ReportResponse {
            applied_sequence: 41,
            duplicate: true,
            sections: vec![],
        };
        let f = acknowledge(&mut st, p, &r);
        assert!(f.resend);
        assert_eq!(st.sequence, 41);
        assert_eq!(prepare(&st, &inventory(1), None, &[]).summary.sequence, 42);
    }

    #[test]
    fn free_space_jitter_does_not_change_the_hash() {
        let fs = |free| pb::Filesystem {
            mount_point: "/".into(),
            total_bytes: 100_000,
            free_bytes: free,
            ..Default::default()
        };
        let a = pb::Hardware {
            filesystems: vec![fs(50_010)],
            ..Default::default()
        };
        let b = pb::Hardware {
            filesystems: vec![fs(50_900)],
            ..Default::default()
        };
        let c = pb::Hardware {
            filesystems: vec![fs(52_000)],
            ..Default::default()
        };
        let h = |x: &pb::Hardware| digest::hardware(&stable_hardware(x));
        assert_eq!(h(&a), h(&b));
        assert_ne!(h(&a), h(&c));
    }
}
