//! Building reports and reading their acknowledgements. Each section goes as
//! `unchanged(hash)` when the collector already holds it, as a delta against the section
//! it acknowledged when that is smaller, or in full. Every section kind goes through the
//! same two generic functions ([`choose`] and [`acknowledge_section`], over
//! [`ward_proto::section::Kind`]), so a new section is its `Kind`, its [`Tracked`] slot
//! in the state and a line in [`prepare`] and [`acknowledge`]. Pure functions of the state
//! and the sections, so the whole protocol is unit-testable without a network.

use prost::Message;
use serde::Serialize;
use ward_proto::digest::{self, Hash};
use ward_proto::section::{self, Hardware, Kind as _, Os, Patches, Posture, Software, Update};
use ward_proto::v1 as pb;

use super::state::{Acked, ReportState, Tracked};
use crate::inventory::Inventory;

/// How a section travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Unchanged,
    Full,
    Delta,
}

/// What a report carried, for logs and `ward-agent run --once`. A section absent here
/// was not in the report (the collector keeps what it holds).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub sequence: u64,
    /// Encoded size of the report message in bytes.
    pub bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardware: Option<Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software: Option<Kind>,
    /// Encoded size the software section would have had in full (0 when not reported).
    pub software_full_bytes: usize,
    pub packages: usize,
    /// How the patches section travelled; absent when the patch state could not be
    /// collected (the collector then keeps what it holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patches: Option<Kind>,
    /// Pending updates in the patches section.
    pub pending: usize,
    /// How the posture section travelled; absent when it was not read (disabled, or the
    /// read failed) or the report carried only other sections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posture: Option<Kind>,
}

/// What a report is made from: each section given is reported, the others left out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Contents<'a> {
    /// The os, hardware and software sections.
    pub inventory: Option<&'a Inventory>,
    pub patches: Option<&'a pb::Patches>,
    pub posture: Option<&'a pb::Posture>,
}

impl<'a> Contents<'a> {
    /// The periodic report: the inventory, and the patch state and posture when they
    /// could be read.
    pub fn inventory(
        inventory: &'a Inventory,
        patches: Option<&'a pb::Patches>,
        posture: Option<&'a pb::Posture>,
    ) -> Self {
        Self {
            inventory: Some(inventory),
            patches,
            posture,
        }
    }

    /// A report of the posture section alone (it changed between inventory reports).
    pub fn posture(posture: &'a pb::Posture) -> Self {
        Self {
            posture: Some(posture),
            ..Self::default()
        }
    }

    /// Returns the sections a report of these contents carries.
    pub fn sections(&self) -> Vec<pb::Section> {
        let mut out = Vec::new();
        if self.inventory.is_some() {
            out.extend([Os::SECTION, Hardware::SECTION, Software::SECTION]);
        }
        if self.patches.is_some() {
            out.push(Patches::SECTION);
        }
        if self.posture.is_some() {
            out.push(Posture::SECTION);
        }
        out
    }
}

/// A report ready to send, with what to remember once it is acknowledged.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: pb::ReportRequest,
    pub summary: Summary,
    os: Option<Sent<Os>>,
    hardware: Option<Sent<Hardware>>,
    software: Option<Sent<Software>>,
    patches: Option<Sent<Patches>>,
    posture: Option<Sent<Posture>>,
}

/// A section this report carries: how it travels, the hash of its canonical form, and
/// for kinds with deltas the body itself (the next delta's base once acknowledged).
#[derive(Debug, Clone)]
struct Sent<K: section::Kind> {
    kind: Kind,
    hash: Hash,
    body: Option<K::Body>,
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

/// Builds the next report from the acknowledged state and `contents` (a section not in
/// it is left out, and the collector keeps what it holds); sections listed in
/// `force_full` are sent in full whatever the state says.
pub fn prepare(state: &ReportState, contents: &Contents, force_full: &[pb::Section]) -> Prepared {
    let sequence = state.sequence.saturating_add(1);
    let mut request = pb::ReportRequest {
        sequence,
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
        ..Default::default()
    };
    let r = &mut request;
    let os = contents
        .inventory
        .map(|inv| add::<Os>(state, r, force_full, inv.os.clone()));
    let hardware = contents
        .inventory
        .map(|inv| add::<Hardware>(state, r, force_full, stable_hardware(&inv.hardware)));
    let software = contents
        .inventory
        .map(|inv| add::<Software>(state, r, force_full, inv.software.clone()));
    let patches = contents
        .patches
        .map(|p| add::<Patches>(state, r, force_full, p.clone()));
    let posture = contents
        .posture
        .map(|p| add::<Posture>(state, r, force_full, p.clone()));

    let software_body = software.as_ref().and_then(|s| s.body.as_ref());
    let summary = Summary {
        sequence,
        bytes: request.encoded_len(),
        os: os.as_ref().map(|s| s.kind),
        hardware: hardware.as_ref().map(|s| s.kind),
        software: software.as_ref().map(|s| s.kind),
        software_full_bytes: software_body.map_or(0, Message::encoded_len),
        packages: software_body.map_or(0, |s| s.packages.len()),
        patches: patches.as_ref().map(|s| s.kind),
        pending: patches
            .as_ref()
            .and_then(|s| s.body.as_ref())
            .map_or(0, |p| p.pending.len()),
        posture: posture.as_ref().map(|s| s.kind),
    };
    Prepared {
        request,
        summary,
        os,
        hardware,
        software,
        patches,
        posture,
    }
}

/// Chooses how one section travels and puts it into the request; returns what to
/// remember of it.
fn add<K: Tracked>(
    state: &ReportState,
    request: &mut pb::ReportRequest,
    force_full: &[pb::Section],
    body: K::Body,
) -> Sent<K> {
    let (update, sent) = choose::<K>(state, body, force_full.contains(&K::SECTION));
    K::put(request, K::to_wire(update));
    sent
}

/// Chooses how a section travels: `unchanged` (naming the collector's hash) when the
/// collector acknowledged what we would send and it is not forced; a delta against the
/// acknowledged body when the kind has deltas, both sides hash that base alike and the
/// delta encodes smaller than the section; otherwise the whole section.
fn choose<K: Tracked>(state: &ReportState, body: K::Body, forced: bool) -> (Update<K>, Sent<K>) {
    let (body, hash) = section::canonical::<K>(body);
    let acked = K::acked(state);
    let sent = |kind, body: &K::Body| Sent {
        kind,
        hash,
        body: K::HAS_DELTA.then(|| body.clone()),
    };
    if let Some(acked) = acked.filter(|a| a.local == hash && !forced) {
        return (Update::Unchanged(acked.held), sent(Kind::Unchanged, &body));
    }
    // A delta needs a base both sides hash alike.
    let delta = match (acked, K::body(state)) {
        (Some(a), Some(base)) if K::HAS_DELTA && a.agrees() && !forced => {
            K::delta(base, &body).filter(|d| d.encoded_len() < body.encoded_len())
        }
        _ => None,
    };
    match delta {
        Some(d) => {
            let sent = sent(Kind::Delta, &body);
            (Update::Delta(d), sent)
        }
        None => {
            let sent = sent(Kind::Full, &body);
            (Update::Full(body), sent)
        }
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
    let acks = &resp.sections;
    acknowledge_section(state, sent.os, acks, &mut follow);
    acknowledge_section(state, sent.hardware, acks, &mut follow);
    acknowledge_section(state, sent.software, acks, &mut follow);
    acknowledge_section(state, sent.patches, acks, &mut follow);
    acknowledge_section(state, sent.posture, acks, &mut follow);
    follow
}

/// Records the collector's acknowledgement of one section this report carried.
fn acknowledge_section<K: Tracked>(
    state: &mut ReportState,
    sent: Option<Sent<K>>,
    acks: &[pb::SectionAck],
    follow: &mut Followup,
) {
    // Not sent in this report: the collector names what it holds, which the agent can
    // only trust for a section it sent.
    let Some(sent) = sent else {
        return;
    };
    let Some(ack) = acks.iter().find(|a| a.section == K::SECTION as i32) else {
        return;
    };
    let held: Option<Hash> = ack.hash.as_slice().try_into().ok();
    let acked = match held {
        Some(held) if !ack.send_full => {
            if held != sent.hash {
                tracing::debug!(
                    section = K::name(),
                    "collector hashes this section differently (version skew); deltas paused"
                );
            }
            Some(Acked {
                local: sent.hash,
                held,
            })
        }
        _ => None,
    };
    *K::acked_mut(state) = acked;
    K::set_body(state, acked.and(sent.body));
    if ack.send_full {
        follow.send_full.push(K::SECTION);
    }
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

    /// Acknowledges every section the report carried under the agent's own hash.
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
                p.os.as_ref().map(|s| mk(pb::Section::Os, s.hash)),
                p.hardware
                    .as_ref()
                    .map(|s| mk(pb::Section::Hardware, s.hash)),
                p.software
                    .as_ref()
                    .map(|s| mk(pb::Section::Software, s.hash)),
                p.patches.as_ref().map(|s| mk(pb::Section::Patches, s.hash)),
                p.posture.as_ref().map(|s| mk(pb::Section::Posture, s.hash)),
            ]
            .into_iter()
            .flatten()
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
        let p1 = prepare(&st, &Contents::inventory(&inv, Some(&patches), None), &[]);
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

        let p2 = prepare(&st, &Contents::inventory(&inv, Some(&patches), None), &[]);
        assert_eq!(p2.summary.patches, Some(Kind::Unchanged));

        let mut changed = patches.clone();
        changed.pending.remove(7);
        changed.pending[0].candidate_version = "1.2".into();
        changed.reboot_required = true;
        let p3 = prepare(&st, &Contents::inventory(&inv, Some(&changed), None), &[]);
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
        let p4 = prepare(
            &st,
            &Contents::inventory(&inv, Some(&changed), None),
            &[pb::Section::Patches],
        );
        assert_eq!(p4.summary.patches, Some(Kind::Full));
        let p5 = prepare(&st, &Contents::inventory(&inv, None, None), &[]);
        assert!(p5.request.patches.is_none() && p5.summary.patches.is_none());
    }

    #[test]
    fn an_ack_without_patches_sent_keeps_the_patches_state() {
        let mut st = ReportState::default();
        let inv = inventory(1);
        let patches = patch_state(2, true);
        let p1 = prepare(&st, &Contents::inventory(&inv, Some(&patches), None), &[]);
        acknowledge(&mut st, p1.clone(), &ack_all(&p1));
        let acked = st.patches;
        assert!(acked.is_some());
        let p2 = prepare(&st, &Contents::inventory(&inv, None, None), &[]);
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
        let p1 = prepare(&st, &Contents::inventory(&inv, None, None), &[]);
        assert_eq!(
            (p1.summary.os, p1.summary.software),
            (Some(Kind::Full), Some(Kind::Full))
        );
        let r1 = ack_all(&p1);
        assert_eq!(acknowledge(&mut st, p1.clone(), &r1), Followup::default());

        let p2 = prepare(&st, &Contents::inventory(&inv, None, None), &[]);
        assert_eq!(p2.summary.sequence, 2);
        assert_eq!(
            (p2.summary.os, p2.summary.hardware, p2.summary.software),
            (
                Some(Kind::Unchanged),
                Some(Kind::Unchanged),
                Some(Kind::Unchanged)
            )
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
        let p3 = prepare(&st, &Contents::inventory(&changed, None, None), &[]);
        assert_eq!(p3.summary.software, Some(Kind::Delta));
        assert!(p3.summary.bytes * 20 < p1.summary.bytes);
    }

    #[test]
    fn send_full_clears_the_acked_hash() {
        let mut st = ReportState::default();
        let inv = inventory(5);
        let p = prepare(&st, &Contents::inventory(&inv, None, None), &[]);
        let mut r = ack_all(&p);
        r.sections[2].send_full = true;
        r.sections[2].hash.clear();
        let f = acknowledge(&mut st, p, &r);
        assert_eq!(f.send_full, vec![pb::Section::Software]);
        assert_eq!(st.software, None);
        assert!(st.os.is_some());
        let again = prepare(&st, &Contents::inventory(&inv, None, None), &f.send_full);
        assert_eq!(again.summary.software, Some(Kind::Full));
    }

    #[test]
    fn a_collector_that_hashes_differently_does_not_cause_a_loop() {
        // An older collector drops a field it does not know: it holds the section under
        // another hash than ours, without asking for it again.
        let mut st = ReportState::default();
        let inv = inventory(50);
        let p = prepare(&st, &Contents::inventory(&inv, None, None), &[]);
        let mut r = ack_all(&p);
        for ack in &mut r.sections {
            ack.hash = vec![7; 32];
        }
        assert_eq!(acknowledge(&mut st, p, &r), Followup::default());
        let again = prepare(&st, &Contents::inventory(&inv, None, None), &[]);
        assert_eq!(
            (
                again.summary.os,
                again.summary.hardware,
                again.summary.software
            ),
            (
                Some(Kind::Unchanged),
                Some(Kind::Unchanged),
                Some(Kind::Unchanged)
            )
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
            prepare(&st, &Contents::inventory(&changed, None, None), &[])
                .summary
                .software,
            Some(Kind::Full)
        );
    }

    #[test]
    fn duplicate_moves_the_sequence_forward() {
        let mut st = ReportState::default();
        let p = prepare(&st, &Contents::inventory(&inventory(1), None, None), &[]);
        let r = pb::ReportResponse {
            applied_sequence: 41,
            duplicate: true,
            sections: vec![],
        };
        let f = acknowledge(&mut st, p, &r);
        assert!(f.resend);
        assert_eq!(st.sequence, 41);
        assert_eq!(
            prepare(&st, &Contents::inventory(&inventory(1), None, None), &[])
                .summary
                .sequence,
            42
        );
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

    fn posture(ports: &[u32]) -> pb::Posture {
        pb::Posture {
            // Out of order: the report canonicalizes.
            listening: ports
                .iter()
                .rev()
                .map(|&port| pb::ListeningSocket {
                    protocol: "tcp".into(),
                    address: "0.0.0.0".into(),
                    port,
                    process: "sshd".into(),
                    uid: 0,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn posture_goes_full_then_unchanged_survives_a_restart_and_a_change_goes_full() {
        let dir = tempfile::tempdir().unwrap();
        let sd = crate::transport::identity::StateDir::new(dir.path());
        let mut st = ReportState::default();
        let inv = inventory(3);
        let p = posture(&[22, 443]);
        let p1 = prepare(&st, &Contents::inventory(&inv, None, Some(&p)), &[]);
        assert_eq!(p1.summary.posture, Some(Kind::Full));
        let Some(pb::posture_update::Kind::Full(sent)) =
            p1.request.posture.as_ref().and_then(|u| u.kind.clone())
        else {
            panic!("expected the full posture");
        };
        assert_eq!(sent.listening[0].port, 22, "canonical order");
        acknowledge(&mut st, p1.clone(), &ack_all(&p1));
        st.save(&sd).unwrap();

        let st = ReportState::load(&sd);
        assert!(st.posture.is_some());
        let p2 = prepare(&st, &Contents::inventory(&inv, None, Some(&p)), &[]);
        assert_eq!(p2.summary.posture, Some(Kind::Unchanged));
        match p2.request.posture.and_then(|u| u.kind) {
            Some(pb::posture_update::Kind::Unchanged(h)) => {
                assert_eq!(h, st.posture.unwrap().held.to_vec())
            }
            other => panic!("expected unchanged, got {other:?}"),
        }

        // Posture has no deltas: a change goes in full, and so does a forced one.
        let changed = posture(&[22, 443, 8080]);
        let p3 = prepare(&st, &Contents::inventory(&inv, None, Some(&changed)), &[]);
        assert_eq!(p3.summary.posture, Some(Kind::Full));
        let forced = prepare(
            &st,
            &Contents::inventory(&inv, None, Some(&p)),
            &[pb::Section::Posture],
        );
        assert_eq!(forced.summary.posture, Some(Kind::Full));
        // Not read: left out.
        let p4 = prepare(&st, &Contents::inventory(&inv, None, None), &[]);
        assert!(p4.request.posture.is_none() && p4.summary.posture.is_none());
    }

    #[test]
    fn a_posture_only_report_carries_and_updates_only_posture() {
        let mut st = ReportState::default();
        let inv = inventory(3);
        let patches = patch_state(2, false);
        let p1 = prepare(
            &st,
            &Contents::inventory(&inv, Some(&patches), Some(&posture(&[22]))),
            &[],
        );
        acknowledge(&mut st, p1.clone(), &ack_all(&p1));
        let before = st.clone();

        let changed = posture(&[22, 8080]);
        // Sections forced by a heartbeat that this report does not carry stay unforced
        // here (they wait for the next inventory report).
        let p2 = prepare(&st, &Contents::posture(&changed), &[pb::Section::Software]);
        let r = &p2.request;
        assert!(r.os.is_none() && r.hardware.is_none() && r.software.is_none());
        assert!(r.patches.is_none());
        assert_eq!(p2.summary.posture, Some(Kind::Full));
        assert_eq!(
            (p2.summary.os, p2.summary.software, p2.summary.patches),
            (None, None, None)
        );
        assert_eq!(p2.summary.sequence, 2);
        let json = serde_json::to_value(&p2.summary).unwrap();
        assert!(json.get("software").is_none() && json["posture"] == "full");

        // The collector acks every section it holds; only posture is taken from it.
        let mut resp = ack_all(&p1);
        resp.applied_sequence = 2;
        for ack in &mut resp.sections {
            if ack.section != pb::Section::Posture as i32 {
                ack.hash = vec![9; 32];
            }
        }
        let posture_ack = resp
            .sections
            .iter_mut()
            .find(|a| a.section == pb::Section::Posture as i32)
            .unwrap();
        posture_ack.hash = p2.posture.as_ref().unwrap().hash.to_vec();
        assert_eq!(acknowledge(&mut st, p2.clone(), &resp), Followup::default());
        assert_eq!(st.sequence, 2);
        assert_eq!(
            (st.os, st.hardware, st.software, st.patches),
            (before.os, before.hardware, before.software, before.patches)
        );
        assert_eq!(st.software_body, before.software_body);
        assert_eq!(st.patches_body, before.patches_body);
        assert_ne!(st.posture, before.posture);
        let p3 = prepare(&st, &Contents::posture(&changed), &[]);
        assert_eq!(p3.summary.posture, Some(Kind::Unchanged));

        // Asked for in full: cleared, and named in the follow-up.
        let mut again = ack_all(&p3);
        again.sections[0].send_full = true;
        again.sections[0].hash.clear();
        let f = acknowledge(&mut st, p3, &again);
        assert_eq!(f.send_full, vec![pb::Section::Posture]);
        assert_eq!(st.posture, None);
    }
}
