//! The patches section: bounds, and its summary per host (`host_patches`: counts, oldest
//! security exposure, reboot since, kernels) that the fleet view and the patch rules read.

use ward_proto::section::Patches;
use ward_proto::v1 as pb;

use super::check::{self, MAX_FIELD, MAX_LIST, MAX_PACKAGES, MAX_TEXT, count, text};
use super::{Change, Section};
use crate::store::hosts::PatchFacts;
use crate::store::{self, Tx};

#[async_trait::async_trait]
impl Section for Patches {
    fn check_body(p: &pb::Patches) -> Result<(), check::Error> {
        check_pending_list("patches.pending", &p.pending)?;
        check_patches_rest(p)
    }

    fn check_delta(d: &pb::PatchesDelta) -> Result<(), check::Error> {
        check::hash("patches.delta.base_hash", &d.base_hash)?;
        check::hash("patches.delta.result_hash", &d.result_hash)?;
        check_pending_list("patches.delta.upsert", &d.upsert)?;
        count("patches.delta.remove", d.remove.len(), MAX_PACKAGES)?;
        if let Some(rest) = &d.rest {
            check_patches_rest(rest)?;
        }
        Ok(())
    }

    async fn project(
        tx: &mut dyn Tx,
        host_id: &str,
        change: &Change<pb::Patches>,
        now: i64,
    ) -> Result<(), store::Error> {
        tx.put_patch_facts(host_id, &facts(&change.new, now), now)
            .await
    }

    async fn kept(tx: &mut dyn Tx, host_id: &str, now: i64) -> Result<(), store::Error> {
        tx.touch_patch_facts(host_id, now).await
    }
}

/// The patch summary of a host as the patch rules read it, from its patches section.
pub fn summary(host_id: &str, hostname: &str, p: &pb::Patches, now: i64) -> pb::HostPatchSummary {
    let f = facts(p, now);
    pb::HostPatchSummary {
        host_id: host_id.to_owned(),
        hostname: hostname.to_owned(),
        pending: f.pending,
        security: f.security,
        held_back: f.held_back,
        security_since: f.security_since,
        pending_since: f.pending_since,
        reboot_required: f.reboot_required,
        reboot_required_since: f.reboot_required_since,
        restart_units: f.restart_units,
        running_kernel: f.running_kernel,
        newest_kernel: f.newest_kernel,
        patches_reported_at: now,
        managers: p.managers.clone(),
        ..Default::default()
    }
}

/// Summarises a patches section. Times come from the agent's clock: one ahead of the
/// collector's (`now`) is clamped to `now`, so an exposure is never negative.
pub fn facts(p: &pb::Patches, now: i64) -> PatchFacts {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let clamp = |t: i64| t.min(now);
    let oldest = |times: &mut dyn Iterator<Item = i64>| {
        times.filter(|t| *t > 0).map(clamp).min().unwrap_or(0)
    };
    PatchFacts {
        pending: count(p.pending.len()),
        security: count(p.pending.iter().filter(|u| u.security).count()),
        held_back: count(p.pending.iter().filter(|u| u.held_back).count()),
        security_since: oldest(
            &mut p
                .pending
                .iter()
                .filter(|u| u.security)
                .map(|u| u.security_since),
        ),
        pending_since: oldest(&mut p.pending.iter().map(|u| u.first_seen)),
        reboot_required: p.reboot_required,
        reboot_required_since: if p.reboot_required && p.reboot_required_since > 0 {
            clamp(p.reboot_required_since)
        } else {
            0
        },
        restart_units: count(p.restart_needed.len()),
        running_kernel: p.running_kernel.clone(),
        newest_kernel: p.newest_kernel.clone(),
        managers: p.managers.join(","),
    }
}

fn check_pending(u: &pb::PendingUpdate) -> Result<(), check::Error> {
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
        text(field, v, MAX_FIELD, true)?;
    }
    if u.name.is_empty() {
        return Err(check::Error::EmptyPendingName);
    }
    count("patches.pending.suites", u.suites.len(), MAX_LIST)?;
    for v in &u.suites {
        text("patches.pending.suites", v, MAX_FIELD, true)?;
    }
    count("patches.pending.advisories", u.advisories.len(), MAX_LIST)?;
    for a in &u.advisories {
        text("patches.pending.advisories.id", &a.id, MAX_FIELD, true)?;
        text("patches.pending.advisories.kind", &a.kind, MAX_FIELD, true)?;
        text(
            "patches.pending.advisories.severity",
            &a.severity,
            MAX_FIELD,
            true,
        )?;
        count("patches.pending.advisories.cves", a.cves.len(), MAX_LIST)?;
        for c in &a.cves {
            text("patches.pending.advisories.cves", c, MAX_FIELD, true)?;
        }
    }
    Ok(())
}

fn check_pending_list(
    field: &'static str,
    pending: &[pb::PendingUpdate],
) -> Result<(), check::Error> {
    count(field, pending.len(), MAX_PACKAGES)?;
    pending.iter().try_for_each(check_pending)
}

/// Checks everything of a patches section but its pending list.
fn check_patches_rest(p: &pb::Patches) -> Result<(), check::Error> {
    count(
        "patches.reboot_required_packages",
        p.reboot_required_packages.len(),
        MAX_PACKAGES,
    )?;
    for v in &p.reboot_required_packages {
        text("patches.reboot_required_packages", v, MAX_FIELD, true)?;
    }
    text("patches.running_kernel", &p.running_kernel, MAX_FIELD, true)?;
    text("patches.newest_kernel", &p.newest_kernel, MAX_FIELD, true)?;
    count("patches.managers", p.managers.len(), 64)?;
    for v in &p.managers {
        text("patches.managers", v, MAX_FIELD, true)?;
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

#[cfg(test)]
mod tests {
    use ward_proto::digest;

    use super::*;

    fn update(name: &str, security: bool, since: i64) -> pb::PendingUpdate {
        pb::PendingUpdate {
            name: name.into(),
            arch: "amd64".into(),
            source: "deb".into(),
            installed_version: "1".into(),
            candidate_version: "2".into(),
            security,
            first_seen: since,
            security_since: if security { since } else { 0 },
            held_back: name.starts_with("held"),
            ..Default::default()
        }
    }

    fn patch_section(pending: Vec<pb::PendingUpdate>) -> pb::Patches {
        let mut p = pb::Patches {
            pending,
            reboot_required: true,
            reboot_required_since: 500,
            managers: vec!["apt".into()],
            ..Default::default()
        };
        digest::canonicalize_patches(&mut p);
        p
    }

    #[test]
    fn patch_facts_take_the_oldest_times_and_clamp_the_future() {
        let p = patch_section(vec![
            update("a", true, 300),
            update("b", true, 100),
            update("c", false, 50),
            update("held-d", false, 0),
            update("e", true, 9_999),
        ]);
        let f = facts(&p, 1_000);
        assert_eq!((f.pending, f.security, f.held_back), (5, 3, 1));
        assert_eq!((f.security_since, f.pending_since), (100, 50));
        assert_eq!((f.reboot_required, f.reboot_required_since), (true, 500));
        assert_eq!(f.managers, "apt");
        let future = patch_section(vec![update("a", true, 5_000)]);
        assert_eq!(facts(&future, 1_000).security_since, 1_000);
        let none = pb::Patches::default();
        assert_eq!(facts(&none, 1_000), PatchFacts::default());
    }
}
