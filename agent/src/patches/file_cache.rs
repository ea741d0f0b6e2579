//! What the package-list caches (`apt::cache`, `rpm::cache`) share: the identity of a
//! source file, and the cache file itself (a format number and entries by key, loaded
//! leniently, written atomically with mode 0600).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A cache file's contents.
#[derive(Debug, Serialize, Deserialize)]
struct Stored<E> {
    format: u32,
    // Written as "lists" (apt) and "files" (rpm) before the two shared this code.
    #[serde(alias = "lists", alias = "files")]
    entries: BTreeMap<String, E>,
}

/// Loads the entries of the cache file at `path` written with `format`; a missing,
/// unreadable, corrupt or other-format file gives none (logged at debug as `what`).
pub fn load<E: DeserializeOwned>(path: &Path, format: u32, what: &str) -> BTreeMap<String, E> {
    let ignored = |why: &str, detail: &dyn std::fmt::Display| {
        tracing::debug!(path = %path.display(), %detail, "{why} {what} ignored");
        BTreeMap::new()
    };
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice::<Stored<E>>(&bytes) {
            Ok(stored) if stored.format == format => stored.entries,
            Ok(stored) => ignored("other-format", &stored.format),
            Err(e) => ignored("corrupt", &e),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => ignored("unreadable", &e),
    }
}

/// Writes `entries` as the cache file at `path` with `format` (see
/// [`write_json_atomically`]); a failure is logged at debug as `what` and otherwise
/// ignored: a cache only saves time.
pub fn save<E: Serialize>(path: &Path, format: u32, entries: BTreeMap<String, E>, what: &str) {
    let stored = Stored { format, entries };
    if let Err(e) = write_json_atomically(path, &stored) {
        tracing::debug!(path = %path.display(), error = %e, "{what} not saved");
    }
}

/// The identity of a source file: any change to it makes a cached entry stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub(crate) dev: u64,
    pub(crate) inode: u64,
    pub(crate) size: u64,
    pub(crate) mtime_ns: i128,
}

impl Identity {
    /// Returns the identity of the file at `path`.
    pub fn of(path: &Path) -> io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            dev: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        })
    }
}

/// Writes `value` as JSON to `path`: a new 0600 temporary file beside it, synced, then
/// renamed over it, so a reader sees the old file or the new one, never half of one.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    // A temporary file left by a crashed run of the same pid must not be followed.
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_is_lenient_and_save_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.cache");
        let empty = |p: &Path| load::<u32>(p, 3, "test cache").is_empty();
        assert!(empty(&path), "missing");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(empty(&path), "corrupt");
        std::fs::write(&path, br#"{"format":2,"entries":{"a":1}}"#).unwrap();
        assert!(empty(&path), "other format");
        // The field names the apt and rpm caches wrote before sharing this code.
        for old in ["lists", "files"] {
            std::fs::write(&path, format!(r#"{{"format":3,"{old}":{{"a":1}}}}"#)).unwrap();
            assert_eq!(load::<u32>(&path, 3, "test cache")["a"], 1, "{old}");
        }
        let entries = BTreeMap::from([("b".to_owned(), 7_u32)]);
        save(&path, 3, entries.clone(), "test cache");
        assert_eq!(load::<u32>(&path, 3, "test cache"), entries);
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
