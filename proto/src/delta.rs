//! Deltas of the software and patches sections: computed by the agent against the last section the
//! collector acknowledged, applied by the collector to the section it holds, and checked
//! against the hash the agent computed, so a lost or mismatched base can never corrupt
//! the collector's state.

use std::collections::HashMap;

use crate::digest;
use crate::v1 as pb;

/// Why a delta could not be applied; the caller asks the agent for the full section.
#[derive(Debug)]
pub enum Error {
    /// The collector's section is not the one the delta was computed against.
    BaseMismatch,
    /// Applying the delta did not give the section the agent described.
    ResultMismatch,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::BaseMismatch => f.write_str("delta base differs from the stored section"),
            Error::ResultMismatch => {
                f.write_str("applying the delta does not give the announced section hash")
            }
        }
    }
}

impl std::error::Error for Error {}

type Key<'a> = digest::KeyRef<'a>;

fn key(p: &pb::Package) -> Key<'_> {
    digest::key_ref(p)
}

fn key_of(k: &pb::PackageKey) -> Key<'_> {
    (&k.name, &k.arch, &k.version, &k.source)
}

/// Returns the delta that turns `old` into `new`. Both must be canonical.
pub fn software(old: &pb::Software, new: &pb::Software) -> pb::SoftwareDelta {
    let old_by_key: HashMap<Key<'_>, &pb::Package> =
        old.packages.iter().map(|p| (key(p), p)).collect();
    let new_by_key: HashMap<Key<'_>, &pb::Package> =
        new.packages.iter().map(|p| (key(p), p)).collect();
    let upsert = new
        .packages
        .iter()
        .filter(|p| old_by_key.get(&key(p)) != Some(p))
        .cloned()
        .collect();
    let remove = old
        .packages
        .iter()
        .filter(|p| !new_by_key.contains_key(&key(p)))
        .map(digest::package_key)
        .collect();
    pb::SoftwareDelta {
        base_hash: digest::software(old).to_vec(),
        result_hash: digest::software(new).to_vec(),
        upsert,
        remove,
    }
}

/// Applies `delta` to `base` and returns the resulting canonical section, or an error when
/// the base or the result does not match the hashes the delta carries.
pub fn apply_software(
    base: &pb::Software,
    delta: &pb::SoftwareDelta,
) -> Result<pb::Software, Error> {
    if digest::software(base).as_slice() != delta.base_hash.as_slice() {
        return Err(Error::BaseMismatch);
    }
    let removed: std::collections::HashSet<Key<'_>> = delta.remove.iter().map(key_of).collect();
    let upserted: std::collections::HashSet<Key<'_>> = delta.upsert.iter().map(key).collect();
    let mut packages: Vec<pb::Package> = base
        .packages
        .iter()
        .filter(|p| !removed.contains(&key(p)) && !upserted.contains(&key(p)))
        .cloned()
        .collect();
    packages.extend(delta.upsert.iter().cloned());
    let mut out = pb::Software { packages };
    digest::canonicalize_software(&mut out);
    if digest::software(&out).as_slice() != delta.result_hash.as_slice() {
        return Err(Error::ResultMismatch);
    }
    Ok(out)
}

/// Returns the delta that turns the patches section `old` into `new`. Both must be
/// canonical.
pub fn patches(old: &pb::Patches, new: &pb::Patches) -> pb::PatchesDelta {
    let old_by_key: HashMap<digest::PendingKeyRef<'_>, &pb::PendingUpdate> = old
        .pending
        .iter()
        .map(|p| (digest::pending_key_ref(p), p))
        .collect();
    let new_keys: std::collections::HashSet<digest::PendingKeyRef<'_>> =
        new.pending.iter().map(digest::pending_key_ref).collect();
    let upsert = new
        .pending
        .iter()
        .filter(|p| old_by_key.get(&digest::pending_key_ref(p)) != Some(p))
        .cloned()
        .collect();
    let remove = old
        .pending
        .iter()
        .filter(|p| !new_keys.contains(&digest::pending_key_ref(p)))
        .map(digest::pending_key)
        .collect();
    pb::PatchesDelta {
        base_hash: digest::patches(old).to_vec(),
        result_hash: digest::patches(new).to_vec(),
        upsert,
        remove,
        rest: Some(pb::Patches {
            pending: Vec::new(),
            ..new.clone()
        }),
    }
}

/// Applies a patches delta to `base` and returns the resulting canonical section, or an
/// error when the base or the result does not match the hashes the delta carries.
pub fn apply_patches(base: &pb::Patches, delta: &pb::PatchesDelta) -> Result<pb::Patches, Error> {
    if digest::patches(base).as_slice() != delta.base_hash.as_slice() {
        return Err(Error::BaseMismatch);
    }
    let removed: std::collections::HashSet<digest::PendingKeyRef<'_>> = delta
        .remove
        .iter()
        .map(|k| (k.name.as_str(), k.arch.as_str(), k.source.as_str()))
        .collect();
    let upserted: std::collections::HashSet<digest::PendingKeyRef<'_>> =
        delta.upsert.iter().map(digest::pending_key_ref).collect();
    let mut pending: Vec<pb::PendingUpdate> = base
        .pending
        .iter()
        .filter(|p| {
            let k = digest::pending_key_ref(p);
            !removed.contains(&k) && !upserted.contains(&k)
        })
        .cloned()
        .collect();
    pending.extend(delta.upsert.iter().cloned());
    let mut out = pb::Patches {
        pending,
        ..delta.rest.clone().unwrap_or_default()
    };
    digest::canonicalize_patches(&mut out);
    if digest::patches(&out).as_slice() != delta.result_hash.as_slice() {
        return Err(Error::ResultMismatch);
    }
    Ok(out)
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

    #[test]
    fn add_remove_upgrade_round_trip() {
        let old = sw(vec![
            pkg("a", "1", "installed"),
            pkg("b", "1", "installed"),
            pkg("c", "1", "installed"),
        ]);
        let new = sw(vec![
            pkg("a", "1", "installed"),
            pkg("b", "2", "installed"),
            pkg("c", "1", "config-files"),
            pkg("d", "1", "installed"),
        ]);
        let d = software(&old, &new);
        assert_eq!(d.upsert.len(), 3); // b 2, c state, d
        assert_eq!(d.remove.len(), 1); // b 1
        let applied = apply_software(&old, &d).unwrap();
        assert_eq!(applied, new);
    }

    #[test]
    fn wrong_base_is_refused() {
        let old = sw(vec![pkg("a", "1", "installed")]);
        let new = sw(vec![pkg("a", "2", "installed")]);
        let d = software(&old, &new);
        let other = sw(vec![pkg("z", "1", "installed")]);
        assert!(matches!(
            apply_software(&other, &d),
            Err(Error::BaseMismatch)
        ));
    }

    #[test]
    fn tampered_delta_is_refused() {
        let old = sw(vec![pkg("a", "1", "installed")]);
        let new = sw(vec![pkg("a", "2", "installed")]);
        let mut d = software(&old, &new);
        d.upsert[0].version = "3".into();
        assert!(matches!(
            apply_software(&old, &d),
            Err(Error::ResultMismatch)
        ));
    }

    #[test]
    fn empty_delta_for_equal_sections() {
        let s = sw(vec![pkg("a", "1", "installed")]);
        let d = software(&s, &s);
        assert!(d.upsert.is_empty() && d.remove.is_empty());
        assert_eq!(apply_software(&s, &d).unwrap(), s);
    }

    fn pending(name: &str, candidate: &str) -> pb::PendingUpdate {
        pb::PendingUpdate {
            name: name.into(),
            arch: "amd64".into(),
            source: "deb".into(),
            installed_version: "1".into(),
            candidate_version: candidate.into(),
            security: true,
            first_seen: 1_700_000_000,
            ..Default::default()
        }
    }

    fn patches_of(names: &[(&str, &str)], reboot: bool) -> pb::Patches {
        let mut p = pb::Patches {
            pending: names.iter().map(|(n, v)| pending(n, v)).collect(),
            reboot_required: reboot,
            running_kernel: "6.1.0-9-amd64".into(),
            managers: vec!["apt".into()],
            ..Default::default()
        };
        digest::canonicalize_patches(&mut p);
        p
    }

    #[test]
    fn patches_delta_round_trips_and_carries_the_rest() {
        let old = patches_of(&[("a", "2"), ("b", "2"), ("c", "2")], false);
        let new = patches_of(&[("a", "2"), ("b", "3"), ("d", "1")], true);
        let d = patches(&old, &new);
        assert_eq!(d.upsert.len(), 2);
        assert_eq!(d.remove.len(), 1);
        assert!(d.rest.as_ref().is_some_and(|r| r.pending.is_empty()));
        let applied = apply_patches(&old, &d).unwrap();
        assert_eq!(applied, new);
        assert!(applied.reboot_required);
    }

    #[test]
    fn patches_delta_refuses_a_wrong_base_or_result() {
        let old = patches_of(&[("a", "2")], false);
        let new = patches_of(&[("a", "3")], false);
        let d = patches(&old, &new);
        let other = patches_of(&[("x", "2")], false);
        assert!(matches!(
            apply_patches(&other, &d),
            Err(Error::BaseMismatch)
        ));
        let mut tampered = d.clone();
        tampered.rest = Some(pb::Patches {
            reboot_required: true,
            ..Default::default()
        });
        assert!(matches!(
            apply_patches(&old, &tampered),
            Err(Error::ResultMismatch)
        ));
    }
}
