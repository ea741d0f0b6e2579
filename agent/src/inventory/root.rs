//! The directory an inventory is read from: `/` for the live system, or a mounted image or
//! fixture tree laid out like one.

use std::io;
use std::path::{Path, PathBuf};

/// A root directory, with readers that treat a missing file as an absent fact.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Root<'a> {
    path: &'a Path,
}

/// The directory given as a root cannot be listed.
#[derive(Debug, thiserror::Error)]
#[error(
    "root {} is not a readable directory: {source}; pass the directory a system is \
     mounted at, or / for this machine",
    path.display()
)]
pub struct NotADirectory {
    /// The root given.
    pub path: PathBuf,
    /// Why it could not be used.
    pub source: io::Error,
}

impl<'a> Root<'a> {
    /// Wraps `path` as the root to read from, checking that it is a readable directory.
    pub(crate) fn open(path: &'a Path) -> Result<Self, NotADirectory> {
        std::fs::read_dir(path).map_err(|source| NotADirectory {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self { path })
    }

    /// Wraps `path` as the root to read from.
    pub(crate) fn new(path: &'a Path) -> Self {
        Self { path }
    }

    /// Returns true when the root is the running system's `/`, so that live-only sources
    /// (statvfs, interface addresses, the compiled-in architecture) describe it.
    pub(crate) fn is_live(&self) -> bool {
        self.path == Path::new("/")
    }

    /// Returns the path of `rel` (written without a leading `/`) under the root.
    pub(crate) fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel.trim_start_matches('/'))
    }

    /// Returns the bytes of `rel`, or `None` when it is missing or unreadable.
    ///
    /// Optional sources are allowed to be absent (no DMI in a VM) or private (root-only
    /// files such as `product_serial`), so only the debug log hears about it.
    pub(crate) fn read(&self, rel: &str) -> Option<Vec<u8>> {
        let path = self.join(rel);
        match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "optional inventory source unreadable");
                None
            }
        }
    }

    /// Returns `rel` as text (invalid UTF-8 replaced), or `None` when missing or unreadable.
    pub(crate) fn read_string(&self, rel: &str) -> Option<String> {
        self.read(rel)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Returns the trimmed one-value content of a sysfs/procfs-style file, or `None` when
    /// it is missing, unreadable or blank.
    pub(crate) fn read_value(&self, rel: &str) -> Option<String> {
        let s = self.read_string(rel)?;
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    }

    /// Returns the target of the symlink `rel`, or `None` when it is not a readable link.
    pub(crate) fn read_link(&self, rel: &str) -> Option<PathBuf> {
        std::fs::read_link(self.join(rel)).ok()
    }

    /// Returns true when `rel` exists (following symlinks).
    pub(crate) fn exists(&self, rel: &str) -> bool {
        self.join(rel).exists()
    }

    /// Returns the sorted entry names of directory `rel`; empty when it is missing.
    pub(crate) fn list_dir(&self, rel: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.join(rel)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Returns the last component of a link target (`../../bus/pci/drivers/virtio-pci` gives
/// `virtio-pci`), or an empty string.
pub(crate) fn basename(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_slash_is_live() {
        assert!(Root::new(Path::new("/")).is_live());
        assert!(!Root::new(Path::new("/tmp")).is_live());
    }

    #[test]
    fn missing_files_are_absent_and_blank_values_are_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blank"), " \n").unwrap();
        std::fs::write(dir.path().join("value"), "  kvm\n").unwrap();
        let root = Root::new(dir.path());
        assert_eq!(root.read("missing"), None);
        assert_eq!(root.read_value("blank"), None);
        assert_eq!(root.read_value("/value").as_deref(), Some("kvm"));
        assert!(root.list_dir("missing").is_empty());
    }

    #[test]
    fn basename_of_a_link_target() {
        assert_eq!(
            basename(Path::new("../../bus/pci/drivers/virtio-pci")),
            "virtio-pci"
        );
        assert_eq!(basename(Path::new("/")), "");
    }
}
