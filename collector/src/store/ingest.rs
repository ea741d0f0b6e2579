//! What a report does to the sections a host holds, decided without a database: every
//! backend asks these functions and only carries out the answer.
//!
//! - `Unchanged(h)`: keep the held section when its hash is `h`; otherwise the collector
//!   holds nothing or something else, so ask for the full section.
//! - `Full(x)`: canonicalize, hash, hold it (no write when the hash is already held).
//! - `Delta(d)`: apply to the held software section; when nothing is held or the delta's
//!   base or result hash does not match, ask for the full section and keep what is held.
//!
//! "Held" means a stored hash whose stored body decodes: a backend passes None for a
//! section whose body does not, so that a corrupt section heals on the next report even
//! when the agent's hash equals the stored one.

use std::collections::HashMap;

use ward_proto::digest::{self, Hash};
use ward_proto::{delta, v1 as pb};

use super::{PatchesUpdate, SectionUpdate, SoftwareUpdate};

/// The package state counted in a host's software count.
pub const INSTALLED: &str = "installed";

/// What to do with one section of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<T> {
    /// Leave the held section as it is; the agent and the collector agree.
    Keep,
    /// Hold this canonical section, whose hash is given, instead.
    Replace(T, Hash),
    /// Leave the held section as it is and ask the agent for the full section.
    SendFull,
}

/// The `host_software` rows to change when a host's software section changes.
#[derive(Debug, Default, PartialEq)]
pub struct RowChanges<'a> {
    /// Rows whose package key is gone.
    pub delete: Vec<&'a pb::Package>,
    /// Rows that are new or whose state changed (insert, or update on key conflict).
    pub upsert: Vec<&'a pb::Package>,
}

type Key<'a> = ward_proto::digest::KeyRef<'a>;

/// Decides what an os update does, given the hash of the held os section.
pub fn os(held: Option<&Hash>, update: SectionUpdate<pb::OsInfo>) -> Decision<pb::OsInfo> {
    // OsInfo holds no lists, so its encoding is already canonical.
    section(held, update, |_| {}, digest::os)
}

/// Decides what a hardware update does, given the hash of the held hardware section.
pub fn hardware(
    held: Option<&Hash>,
    update: SectionUpdate<pb::Hardware>,
) -> Decision<pb::Hardware> {
    section(
        held,
        update,
        digest::canonicalize_hardware,
        digest::hardware,
    )
}

/// Decides what a software update does, given the hash of the held software section and
/// the held section itself (None when nothing is held; only a delta reads it).
pub fn software(
    held: Option<&Hash>,
    base: Option<&pb::Software>,
    update: SoftwareUpdate,
) -> Decision<pb::Software> {
    match update {
        SoftwareUpdate::Unchanged(h) => section(
            held,
            SectionUpdate::Unchanged(h),
            digest::canonicalize_software,
            digest::software,
        ),
        SoftwareUpdate::Full(sw) => section(
            held,
            SectionUpdate::Full(sw),
            digest::canonicalize_software,
            digest::software,
        ),
        SoftwareUpdate::Delta(d) => {
            // A base without a held hash cannot be what the agent acknowledged.
            let (Some(held), Some(base)) = (held, base) else {
                return Decision::SendFull;
            };
            match delta::apply_software(base, &d) {
                Ok(next) => {
                    let hash = digest::software(&next);
                    if &hash == held {
                        Decision::Keep
                    } else {
                        Decision::Replace(next, hash)
                    }
                }
                Err(_) => Decision::SendFull,
            }
        }
    }
}

/// Decides what a patches update does, given the hash of the held patches section and
/// the held section itself (None when nothing is held; only a delta reads it).
pub fn patches(
    held: Option<&Hash>,
    base: Option<&pb::Patches>,
    update: PatchesUpdate,
) -> Decision<pb::Patches> {
    match update {
        PatchesUpdate::Unchanged(h) => section(
            held,
            SectionUpdate::Unchanged(h),
            digest::canonicalize_patches,
            digest::patches,
        ),
        PatchesUpdate::Full(p) => section(
            held,
            SectionUpdate::Full(p),
            digest::canonicalize_patches,
            digest::patches,
        ),
        PatchesUpdate::Delta(d) => {
            let (Some(held), Some(base)) = (held, base) else {
                return Decision::SendFull;
            };
            match delta::apply_patches(base, &d) {
                Ok(next) => {
                    let hash = digest::patches(&next);
                    if &hash == held {
                        Decision::Keep
                    } else {
                        Decision::Replace(next, hash)
                    }
                }
                Err(_) => Decision::SendFull,
            }
        }
    }
}

/// What the fleet view and the patch rules need of a host's patch section, in brief.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchFacts {
    pub pending: u32,
    pub security: u32,
    pub held_back: u32,
    /// Oldest `security_since` of the pending security updates; 0 when none is known.
    pub security_since: i64,
    /// Oldest `first_seen` of the pending updates; 0 when none is known.
    pub pending_since: i64,
    pub reboot_required: bool,
    /// 0 when no reboot is required or the agent did not say since when.
    pub reboot_required_since: i64,
    pub restart_units: u32,
    pub running_kernel: String,
    pub newest_kernel: String,
    /// Package managers, comma-separated.
    pub managers: String,
}

/// Summarises a patches section. Times come from the agent's clock: one ahead of the
/// collector's (`now`) is clamped to `now`, so an exposure is never negative.
pub fn patch_facts(p: &pb::Patches, now: i64) -> PatchFacts {
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

/// Returns the row changes that turn the rows of `old` (None: no rows) into those of
/// `new`. Rows carry the package key and state only, so other changes touch no row.
pub fn software_rows<'a>(old: Option<&'a pb::Software>, new: &'a pb::Software) -> RowChanges<'a> {
    let old_by_key: HashMap<Key<'a>, &'a pb::Package> = old
        .map(|o| o.packages.iter().map(|p| (key(p), p)).collect())
        .unwrap_or_default();
    let new_by_key: HashMap<Key<'a>, &'a pb::Package> =
        new.packages.iter().map(|p| (key(p), p)).collect();
    let delete = old
        .map(|o| {
            o.packages
                .iter()
                .filter(|p| !new_by_key.contains_key(&key(p)))
                .collect()
        })
        .unwrap_or_default();
    let upsert = new
        .packages
        .iter()
        .filter(|p| {
            old_by_key
                .get(&key(p))
                .is_none_or(|old| old.state != p.state)
        })
        .collect();
    RowChanges { delete, upsert }
}

/// Returns the number of fully installed packages.
pub fn installed_count(sw: &pb::Software) -> u32 {
    let n = sw.packages.iter().filter(|p| p.state == INSTALLED).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn section<T>(
    held: Option<&Hash>,
    update: SectionUpdate<T>,
    canonicalize: impl FnOnce(&mut T),
    hash_of: impl FnOnce(&T) -> Hash,
) -> Decision<T> {
    match update {
        SectionUpdate::Unchanged(h) if held == Some(&h) => Decision::Keep,
        SectionUpdate::Unchanged(_) => Decision::SendFull,
        SectionUpdate::Full(mut x) => {
            canonicalize(&mut x);
            let hash = hash_of(&x);
            if held == Some(&hash) {
                Decision::Keep
            } else {
                Decision::Replace(x, hash)
            }
        }
    }
}

fn key(p: &pb::Package) -> Key<'_> {
    ward_proto::digest::key_ref(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, state: &str) -> pb::Package {
        pb::Package {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            source: "deb".into(),
            state: state.into(),
            ..Default::default()
        }
    }

    fn sw(packages: Vec<pb::Package>) -> pb::Software {
        let mut s = pb::Software { packages };
        digest::canonicalize_software(&mut s);
        s
    }

    fn os_info(host: &str) -> pb::OsInfo {
        pb::OsInfo {
            hostname: host.into(),
            os_id: "debian".into(),
            ..Default::default()
        }
    }

    #[test]
    fn unchanged_with_the_held_hash_keeps() {
        let h = digest::os(&os_info("a"));
        assert_eq!(os(Some(&h), SectionUpdate::Unchanged(h)), Decision::Keep);
    }

    #[test]
    fn unchanged_with_another_hash_or_nothing_held_asks_for_full() {
        let h = digest::os(&os_info("a"));
        let other = digest::os(&os_info("b"));
        assert_eq!(
            os(Some(&other), SectionUpdate::Unchanged(h)),
            Decision::SendFull
        );
        assert_eq!(os(None, SectionUpdate::Unchanged(h)), Decision::SendFull);
        assert_eq!(
            software(None, None, SoftwareUpdate::Unchanged(h)),
            Decision::SendFull
        );
    }

    #[test]
    fn full_replaces_with_the_canonical_form_and_its_hash() {
        let unsorted = pb::Software {
            packages: vec![pkg("b", "1", INSTALLED), pkg("a", "1", INSTALLED)],
        };
        let canonical = sw(unsorted.packages.clone());
        let want = digest::software(&canonical);
        assert_eq!(
            software(None, None, SoftwareUpdate::Full(unsorted)),
            Decision::Replace(canonical, want)
        );
    }

    #[test]
    fn full_hardware_is_canonicalized_before_hashing() {
        let iface = |n: &str| pb::NetworkInterface {
            name: n.into(),
            ..Default::default()
        };
        let hw = pb::Hardware {
            interfaces: vec![iface("eth1"), iface("eth0")],
            ..Default::default()
        };
        let Decision::Replace(got, hash) = hardware(None, SectionUpdate::Full(hw)) else {
            panic!("expected a replacement");
        };
        assert_eq!(got.interfaces[0].name, "eth0");
        assert_eq!(hash, digest::hardware(&got));
    }

    #[test]
    fn full_equal_to_the_held_section_keeps() {
        let s = os_info("a");
        let h = digest::os(&s);
        assert_eq!(os(Some(&h), SectionUpdate::Full(s)), Decision::Keep);
    }

    #[test]
    fn delta_on_the_held_base_replaces() {
        let old = sw(vec![pkg("a", "1", INSTALLED), pkg("b", "1", INSTALLED)]);
        let new = sw(vec![pkg("a", "2", INSTALLED), pkg("c", "1", INSTALLED)]);
        let d = delta::software(&old, &new);
        let held = digest::software(&old);
        assert_eq!(
            software(Some(&held), Some(&old), SoftwareUpdate::Delta(d)),
            Decision::Replace(new.clone(), digest::software(&new))
        );
    }

    #[test]
    fn empty_delta_keeps() {
        let old = sw(vec![pkg("a", "1", INSTALLED)]);
        let d = delta::software(&old, &old);
        let held = digest::software(&old);
        assert_eq!(
            software(Some(&held), Some(&old), SoftwareUpdate::Delta(d)),
            Decision::Keep
        );
    }

    #[test]
    fn delta_on_another_base_or_nothing_asks_for_full() {
        let old = sw(vec![pkg("a", "1", INSTALLED)]);
        let new = sw(vec![pkg("a", "2", INSTALLED)]);
        let other = sw(vec![pkg("z", "1", INSTALLED)]);
        let d = delta::software(&old, &new);
        let other_hash = digest::software(&other);
        assert_eq!(
            software(
                Some(&other_hash),
                Some(&other),
                SoftwareUpdate::Delta(d.clone())
            ),
            Decision::SendFull
        );
        assert_eq!(
            software(None, None, SoftwareUpdate::Delta(d.clone())),
            Decision::SendFull
        );
        // Held hash known but body undecodable: no base to apply to.
        let held = digest::software(&old);
        assert_eq!(
            software(Some(&held), None, SoftwareUpdate::Delta(d)),
            Decision::SendFull
        );
    }

    #[test]
    fn tampered_delta_asks_for_full() {
        let old = sw(vec![pkg("a", "1", INSTALLED)]);
        let new = sw(vec![pkg("a", "2", INSTALLED)]);
        let mut d = delta::software(&old, &new);
        d.upsert[0].version = "3".into();
        let held = digest::software(&old);
        assert_eq!(
            software(Some(&held), Some(&old), SoftwareUpdate::Delta(d)),
            Decision::SendFull
        );
    }

    #[test]
    fn rows_change_only_where_key_or_state_changed() {
        let mut resized = pkg("keep-size", "1", INSTALLED);
        let old = sw(vec![
            pkg("same", "1", INSTALLED),
            pkg("upgraded", "1", INSTALLED),
            pkg("removed", "1", INSTALLED),
            pkg("state", "1", INSTALLED),
            resized.clone(),
        ]);
        resized.installed_size = 42;
        let new = sw(vec![
            pkg("same", "1", INSTALLED),
            pkg("upgraded", "2", INSTALLED),
            pkg("added", "1", INSTALLED),
            pkg("state", "1", "config-files"),
            resized,
        ]);
        let changes = software_rows(Some(&old), &new);
        let names = |v: &[&pb::Package]| {
            let mut n: Vec<String> = v
                .iter()
                .map(|p| format!("{}={}", p.name, p.version))
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(&changes.delete), ["removed=1", "upgraded=1"]);
        assert_eq!(names(&changes.upsert), ["added=1", "state=1", "upgraded=2"]);
    }

    #[test]
    fn rows_from_nothing_insert_everything() {
        let new = sw(vec![
            pkg("a", "1", INSTALLED),
            pkg("b", "1", "config-files"),
        ]);
        let changes = software_rows(None, &new);
        assert!(changes.delete.is_empty());
        assert_eq!(changes.upsert.len(), 2);
    }

    #[test]
    fn only_installed_packages_count() {
        let s = sw(vec![
            pkg("a", "1", INSTALLED),
            pkg("b", "1", "config-files"),
            pkg("c", "1", INSTALLED),
        ]);
        assert_eq!(installed_count(&s), 2);
    }

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
    fn patches_full_delta_and_unchanged() {
        let old = patch_section(vec![update("a", true, 100)]);
        let new = patch_section(vec![update("a", true, 100), update("b", false, 200)]);
        let held = digest::patches(&old);
        assert_eq!(
            patches(None, None, PatchesUpdate::Full(old.clone())),
            Decision::Replace(old.clone(), held)
        );
        assert_eq!(
            patches(Some(&held), Some(&old), PatchesUpdate::Unchanged(held)),
            Decision::Keep
        );
        let d = delta::patches(&old, &new);
        assert_eq!(
            patches(Some(&held), Some(&old), PatchesUpdate::Delta(d.clone())),
            Decision::Replace(new.clone(), digest::patches(&new))
        );
        assert_eq!(
            patches(Some(&held), None, PatchesUpdate::Delta(d)),
            Decision::SendFull
        );
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
        let f = patch_facts(&p, 1_000);
        assert_eq!((f.pending, f.security, f.held_back), (5, 3, 1));
        assert_eq!((f.security_since, f.pending_since), (100, 50));
        assert_eq!((f.reboot_required, f.reboot_required_since), (true, 500));
        assert_eq!(f.managers, "apt");
        let future = patch_section(vec![update("a", true, 5_000)]);
        assert_eq!(patch_facts(&future, 1_000).security_since, 1_000);
        let none = pb::Patches::default();
        assert_eq!(patch_facts(&none, 1_000), PatchFacts::default());
    }
}
