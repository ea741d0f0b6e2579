//! A cache of what each repository metadata file yielded, so that a run with unchanged
//! metadata skips decompressing and scanning it (RHEL 9 AppStream's primary.xml is about
//! 100 MB): the service collects patches every hour, and dnf refreshes far less often.
//!
//! One file, `rpm-metadata.cache` (JSON, mode 0600), holds one entry per metadata file:
//! its identity (path, device, inode, size, mtime in nanoseconds), a hash of the names it
//! was filtered with, and what was kept (the offers of installed names and of packages
//! obsoleting one, the advisories naming one, or a `modules.yaml` whole). An entry is used
//! only when all of these match; anything unreadable, corrupt or of another format is
//! ignored and rebuilt, and entries of files not read in a run are dropped.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::patches::file_cache;
pub use crate::patches::file_cache::Identity;

use super::modulemd::Metadata;
use super::repodata::Offer;
use super::updateinfo::Update;

/// The cache file's name inside the cache directory.
pub const FILE_NAME: &str = "rpm-metadata.cache";
/// Bumped whenever what is cached or how it is extracted changes.
pub const FORMAT: u32 = 1;

/// The metadata cache, loaded from and saved to one file.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    old: BTreeMap<String, Cached>,
    new: BTreeMap<String, Cached>,
    dirty: bool,
}

/// What one metadata file yielded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// primary.xml (or yum's primary_db).
    Offers(Vec<Offer>),
    /// updateinfo.xml.
    Updates(Vec<Update>),
    /// modules.yaml.
    Modules(Metadata),
}

/// One file's entry: under which identity and filter it was read, and what it yielded.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    identity: Identity,
    names_hash: u64,
    content: Content,
}

impl Cache {
    /// Loads the cache kept in `dir`; a missing, unreadable, corrupt or other-format file
    /// gives an empty cache.
    pub fn load(dir: &Path) -> Self {
        let path = dir.join(FILE_NAME);
        let old = file_cache::load(&path, FORMAT, "rpm metadata cache");
        Self {
            path,
            old,
            new: BTreeMap::new(),
            dirty: false,
        }
    }

    /// Returns what the file at `file` yielded when its identity and the names it was
    /// filtered with still match.
    pub fn get(&mut self, file: &Path, identity: Identity, names_hash: u64) -> Option<Content> {
        let key = file.to_string_lossy().into_owned();
        let cached = self.old.remove(&key)?;
        if cached.identity != identity || cached.names_hash != names_hash {
            tracing::debug!(file = %key, "rpm metadata cache entry stale");
            self.dirty = true;
            return None;
        }
        let content = cached.content.clone();
        self.new.insert(key, cached);
        Some(content)
    }

    /// Records what the file at `file`, of identity `identity`, yielded when filtered
    /// with names of hash `names_hash`.
    pub fn put(&mut self, file: &Path, identity: Identity, names_hash: u64, content: &Content) {
        self.dirty = true;
        self.new.insert(
            file.to_string_lossy().into_owned(),
            Cached {
                identity,
                names_hash,
                content: content.clone(),
            },
        );
    }

    /// Writes the cache back (a 0600 temporary file, then a rename) when it changed;
    /// entries of files not seen this run are dropped. Failures are logged at debug and
    /// otherwise ignored: the cache only saves time.
    pub fn save(self) {
        if !self.dirty && self.old.is_empty() {
            return;
        }
        file_cache::save(&self.path, FORMAT, self.new, "rpm metadata cache");
    }
}

/// BLAKE3 of the sorted names, newline-separated (first 8 bytes): stable across Rust
/// releases, unlike `DefaultHasher`, so a toolchain upgrade cannot make a stale entry
/// look fresh.
pub fn names_hash(names: &HashSet<String>) -> u64 {
    let sorted: BTreeSet<&String> = names.iter().collect();
    let mut hasher = blake3::Hasher::new();
    for name in sorted {
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
    }
    let bytes = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn offer(name: &str) -> Offer {
        Offer {
            name: name.into(),
            arch: "x86_64".into(),
            epoch: "0".into(),
            version: "1.0".into(),
            release: "1.el9".into(),
            ..Offer::default()
        }
    }

    #[test]
    fn round_trips_and_checks_identity_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("primary.xml.gz");
        std::fs::write(&file, b"x").unwrap();
        let id = Identity::of(&file).unwrap();
        let names: HashSet<String> = ["a".to_owned()].into();
        let hash = names_hash(&names);
        let content = Content::Offers(vec![offer("a")]);

        let mut cache = Cache::load(dir.path());
        assert!(cache.get(&file, id, hash).is_none());
        cache.put(&file, id, hash, &content);
        cache.save();
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let mut cache = Cache::load(dir.path());
        assert_eq!(cache.get(&file, id, hash), Some(content.clone()));
        assert!(
            Cache::load(dir.path())
                .get(&file, Identity { size: 9, ..id }, hash)
                .is_none()
        );
        assert!(Cache::load(dir.path()).get(&file, id, hash ^ 1).is_none());
        // Saved again without the file being read: its entry is dropped.
        let cache = Cache::load(dir.path());
        cache.save();
        assert!(Cache::load(dir.path()).get(&file, id, hash).is_none());

        for damage in [&b"{not json"[..], b"{\"format\":999,\"files\":{}}", b""] {
            std::fs::write(dir.path().join(FILE_NAME), damage).unwrap();
            let mut cache = Cache::load(dir.path());
            assert!(cache.get(&file, id, hash).is_none());
            cache.put(&file, id, hash, &content);
            cache.save();
            assert_eq!(
                Cache::load(dir.path()).get(&file, id, hash),
                Some(content.clone())
            );
        }
    }

    #[test]
    fn names_hash_ignores_order_but_not_membership() {
        let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<HashSet<_>>();
        assert_eq!(names_hash(&set(&["a", "b"])), names_hash(&set(&["b", "a"])));
        assert_ne!(names_hash(&set(&["a", "b"])), names_hash(&set(&["a"])));
        assert_ne!(names_hash(&set(&["ab"])), names_hash(&set(&["a", "b"])));
    }
}
