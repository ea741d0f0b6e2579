//! The software section: bounds, and its projection into `host_software` rows (one per
//! package key and state) and the host's installed-package count, so that "who has
//! package P" is an index lookup.

use std::collections::HashMap;

use ward_proto::section::Software;
use ward_proto::v1 as pb;

use super::check::{self, MAX_FIELD, MAX_PACKAGES, MAX_TEXT, text};
use super::{Change, Section};
use crate::store::{self, Tx};

/// The package state counted in a host's software count.
pub const INSTALLED: &str = "installed";

type Key<'a> = ward_proto::digest::KeyRef<'a>;

#[async_trait::async_trait]
impl Section for Software {
    fn check_body(sw: &pb::Software) -> Result<(), check::Error> {
        check_packages("software.packages", sw.packages.iter())
    }

    fn check_delta(d: &pb::SoftwareDelta) -> Result<(), check::Error> {
        check::hash("software.delta.base_hash", &d.base_hash)?;
        check::hash("software.delta.result_hash", &d.result_hash)?;
        check_packages("software.delta.upsert", d.upsert.iter())?;
        check::count("software.delta.remove", d.remove.len(), MAX_PACKAGES)
    }

    async fn project(
        tx: &mut dyn Tx,
        host_id: &str,
        change: &Change<pb::Software>,
        _now: i64,
    ) -> Result<(), store::Error> {
        // A delta changes only its rows; a full section rewrites them all, which also
        // heals any drift between the rows and the section.
        let rows = match (&change.old, change.by_delta) {
            (Some(old), true) => rows(Some(old), &change.new),
            _ => {
                tx.clear_software_rows(host_id).await?;
                rows(None, &change.new)
            }
        };
        tx.delete_software_rows(host_id, &rows.delete).await?;
        tx.upsert_software_rows(host_id, &rows.upsert).await?;
        tx.set_software_count(host_id, installed_count(&change.new))
            .await
    }
}

fn check_package(p: &pb::Package) -> Result<(), check::Error> {
    text("package.name", &p.name, MAX_FIELD, true)?;
    text("package.version", &p.version, MAX_FIELD, true)?;
    text("package.arch", &p.arch, MAX_FIELD, true)?;
    text("package.source", &p.source, MAX_FIELD, true)?;
    text("package.state", &p.state, MAX_FIELD, true)?;
    text("package.source_package", &p.source_package, MAX_FIELD, true)?;
    text("package.epoch", &p.epoch, MAX_FIELD, true)?;
    text("package.release", &p.release, MAX_FIELD, true)?;
    text("package.vendor", &p.vendor, MAX_TEXT, true)?;
    if p.name.is_empty() {
        return Err(check::Error::EmptyName);
    }
    Ok(())
}

fn check_packages<'a>(
    field: &'static str,
    packages: impl ExactSizeIterator<Item = &'a pb::Package>,
) -> Result<(), check::Error> {
    check::count(field, packages.len(), MAX_PACKAGES)?;
    for p in packages {
        check_package(p)?;
    }
    Ok(())
}

/// The `host_software` rows to change when a host's software section changes.
#[derive(Debug, Default, PartialEq)]
pub struct RowChanges<'a> {
    /// Rows whose package key is gone.
    pub delete: Vec<&'a pb::Package>,
    /// Rows that are new or whose state changed (insert, or update on key conflict).
    pub upsert: Vec<&'a pb::Package>,
}

/// Returns the row changes that turn the rows of `old` (None: no rows) into those of
/// `new`. Rows carry the package key and state only, so other changes touch no row.
pub fn rows<'a>(old: Option<&'a pb::Software>, new: &'a pb::Software) -> RowChanges<'a> {
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

fn key(p: &pb::Package) -> Key<'_> {
    ward_proto::digest::key_ref(p)
}

#[cfg(test)]
mod tests {
    use ward_proto::digest;

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
        let changes = rows(Some(&old), &new);
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
        let changes = rows(None, &new);
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
}
