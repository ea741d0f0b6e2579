//! A cache of what each apt list offered the installed packages, so that a run with
//! unchanged lists skips decompressing and scanning them (tens of megabytes).
//!
//! One file, `apt-lists.cache` (JSON), holds one entry per list: the list's identity
//! (path, device, inode, size, mtime in nanoseconds), a hash of the sorted installed
//! names and versions it was filtered with (the relationship fields of installed
//! versions are left out, see [`Installed`]), and the entries kept. An entry is used only
//! when all of these match; anything unreadable, corrupt or of another format is ignored
//! and rebuilt.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::patches::file_cache;
pub use crate::patches::file_cache::Identity;

use super::lists::{Entry, Installed};

/// The cache file's name inside the cache directory.
pub const FILE_NAME: &str = "apt-lists.cache";
/// Bumped whenever what is cached or how it is extracted changes (2: source version,
/// phasing, Multi-Arch and relationship fields, keyed on installed versions too).
pub const FORMAT: u32 = 2;

/// The lists' cache, loaded from and saved to one file.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    names_hash: u64,
    old: BTreeMap<String, Cached>,
    new: BTreeMap<String, Cached>,
    dirty: bool,
}

/// What one list yielded, and under which identity and filter.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    identity: Identity,
    names_hash: u64,
    entries: Vec<Entry>,
}

impl Cache {
    /// Loads the cache kept in `dir` for lists filtered with `installed`; a missing,
    /// unreadable, corrupt or other-format file gives an empty cache.
    pub fn load(dir: &Path, installed: &Installed) -> Self {
        let path = dir.join(FILE_NAME);
        let old = file_cache::load(&path, FORMAT, "apt list cache");
        Self {
            path,
            names_hash: names_hash(installed),
            old,
            new: BTreeMap::new(),
            dirty: false,
        }
    }

    /// Returns the entries cached for the list at `list` when its identity and the
    /// installed names still match.
    pub fn get(&mut self, list: &Path, identity: Identity) -> Option<Vec<Entry>> {
        let key = list.to_string_lossy().into_owned();
        let cached = self.old.remove(&key)?;
        if cached.identity != identity || cached.names_hash != self.names_hash {
            tracing::debug!(list = %key, "apt list cache entry stale");
            self.dirty = true;
            return None;
        }
        let entries = cached.entries.clone();
        self.new.insert(key, cached);
        Some(entries)
    }

    /// Records what the list at `list`, of identity `identity`, yielded.
    pub fn put(&mut self, list: &Path, identity: Identity, entries: &[Entry]) {
        self.dirty = true;
        self.new.insert(
            list.to_string_lossy().into_owned(),
            Cached {
                identity,
                names_hash: self.names_hash,
                entries: entries.to_vec(),
            },
        );
    }

    /// Writes the cache back (temporary file and rename) when it changed; entries of lists
    /// not seen this run are dropped. Failures are logged at debug and otherwise ignored:
    /// the cache only saves time.
    pub fn save(self) {
        if !self.dirty && self.old.is_empty() {
            return;
        }
        file_cache::save(&self.path, FORMAT, self.new, "apt list cache");
    }
}

/// BLAKE3 of the sorted names, each with its sorted versions, NUL-separated and
/// newline-terminated (first 8 bytes): stable across Rust releases, unlike
/// `DefaultHasher`, so a toolchain upgrade cannot make a stale entry look fresh.
fn names_hash(installed: &Installed) -> u64 {
    let mut hasher = blake3::Hasher::new();
    for (name, versions) in installed.iter() {
        hasher.update(name.as_bytes());
        for version in versions {
            hasher.update(b"\0");
            hasher.update(version.as_bytes());
        }
        hasher.update(b"\n");
    }
    let bytes = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Installed {
        let mut installed = Installed::default();
        for name in list {
            installed.insert(name, "1");
        }
        installed
    }

    fn entry(name: &str) -> Entry {
        Entry {
            name: name.into(),
            version: "1.0".into(),
            arch: "amd64".into(),
            source: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn names_hash_ignores_order_but_not_membership() {
        assert_eq!(
            names_hash(&names(&["a", "b"])),
            names_hash(&names(&["b", "a"]))
        );
        assert_ne!(names_hash(&names(&["a", "b"])), names_hash(&names(&["a"])));
        assert_ne!(names_hash(&names(&["ab"])), names_hash(&names(&["a", "b"])));
        let mut upgraded = names(&["a", "b"]);
        upgraded.insert("a", "2");
        assert_ne!(names_hash(&upgraded), names_hash(&names(&["a", "b"])));
    }

    #[test]
    fn round_trips_and_checks_identity_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("x_Packages");
        std::fs::write(&list, b"Package: a\n").unwrap();
        let id = Identity::of(&list).unwrap();

        let mut cache = Cache::load(dir.path(), &names(&["a"]));
        assert!(cache.get(&list, id).is_none());
        cache.put(&list, id, &[entry("a")]);
        cache.save();

        let mut cache = Cache::load(dir.path(), &names(&["a"]));
        assert_eq!(cache.get(&list, id), Some(vec![entry("a")]));
        let other = Identity { size: 1, ..id };
        let mut cache2 = Cache::load(dir.path(), &names(&["a"]));
        assert!(cache2.get(&list, other).is_none());
        let mut cache3 = Cache::load(dir.path(), &names(&["a", "b"]));
        assert!(cache3.get(&list, id).is_none());

        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        let mut cache = Cache::load(dir.path(), &names(&["a"]));
        assert!(cache.get(&list, id).is_none());
    }
}
