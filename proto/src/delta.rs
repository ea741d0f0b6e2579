//! Deltas of the software section: computed by the agent against the last section the
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
}
