//! The posture section: the security facts of a machine (listening sockets, privileged
//! accounts and administrators, their SSH keys, sshd's settings, the firewall, disk
//! encryption, automatic updates, kernel hardening), each read by its own reader from
//! files under a root directory so that a fixture tree or mounted image reads like `/`.
//!
//! Every reader bounds what it reads (bytes of a file, entries kept, processes and file
//! descriptors walked): the machine being described may be hostile, and a posture read
//! must not be made to exhaust the helper's memory or run for ever.

pub mod accounts;
pub mod disk;
pub mod firewall;
pub mod kernel;
pub mod keys;
mod render;
pub mod sockets;
pub mod sshd;
pub mod updates;

use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use ward_proto::digest;
use ward_proto::v1 as pb;

use crate::inventory::root::Root;

pub use render::render_table;

/// Errors of the posture readers: a source that exists but cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file exists but cannot be read.
    #[error(
        "failed to read {}: {source}; run the agent as root (it reads files only root may \
         read) or make the file readable to it",
        path.display()
    )]
    Read {
        /// The file, under the root.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
    /// A file is larger than a reader reads of it.
    #[error(
        "{} is larger than {max} bytes, the most the agent reads of it; such a file is not \
         written by the system's own tools, so look at what made it",
        path.display()
    )]
    TooLarge {
        /// The file, under the root.
        path: PathBuf,
        /// The bound.
        max: u64,
    },
    /// The root to read from is not a directory.
    #[error(transparent)]
    Root(#[from] crate::inventory::root::NotADirectory),
    /// A required file is missing.
    #[error("{} not found; is {} the root of a system?", path.display(), root.display())]
    Missing {
        /// The file, under the root.
        path: PathBuf,
        /// The root given.
        root: PathBuf,
    },
}

/// Collects the posture of the system under `root` (`/` for this machine), in canonical
/// order ([`digest::canonicalize_posture`]).
///
/// A reader that fails (an unreadable file, or a bug) adds `"reader: error"` to `errors`;
/// the others still report.
pub fn collect(root: &Path) -> pb::Posture {
    let root = Root::new(root);
    let mut errors = Vec::new();

    let listening = guarded("sockets", &mut errors, || sockets::read(&root)).unwrap_or_default();
    let accounts = guarded("accounts", &mut errors, || accounts::read(&root));
    let sshd = guarded("sshd", &mut errors, || sshd::read(&root));
    let key_files = sshd
        .as_ref()
        .map(|s| s.authorized_keys_files.clone())
        .unwrap_or_else(sshd::default_authorized_keys_files);
    // Keys are read file by file: an unreadable file is an error, the others' keys stay.
    let authorized_keys = match &accounts {
        Some(accounts) => guarded("keys", &mut errors, || {
            Ok::<_, Error>(keys::read(&root, accounts, &key_files))
        })
        .map(|read| {
            errors.extend(read.errors.iter().map(|e| format!("keys: {e}")));
            read.keys
        })
        .unwrap_or_default(),
        None => Vec::new(),
    };
    let firewall = guarded("firewall", &mut errors, || {
        Ok::<_, Error>(firewall::read(&root))
    });
    let disk_encryption = guarded("disk", &mut errors, || Ok::<_, Error>(disk::read(&root)));
    let auto_updates = guarded("updates", &mut errors, || {
        Ok::<_, Error>(updates::read(&root))
    });
    let kernel = guarded("kernel", &mut errors, || {
        Ok::<_, Error>(kernel::read(&root))
    });

    let (privileged_accounts, admins) = accounts
        .map(|a| (a.privileged, a.admins))
        .unwrap_or_default();
    let mut posture = pb::Posture {
        listening,
        privileged_accounts,
        admins,
        authorized_keys,
        sshd: sshd.map(|s| s.settings),
        firewall,
        disk_encryption,
        auto_updates,
        kernel,
        errors,
    };
    digest::canonicalize_posture(&mut posture);
    posture
}

/// As [`collect`], after checking that `root` is a readable directory (for commands,
/// where a mistyped root should be an error rather than every reader failing).
pub fn collect_checked(root: &Path) -> Result<pb::Posture, Error> {
    Root::open(root)?;
    Ok(collect(root))
}

/// Returns the JSON form of a posture section (protobuf field names).
pub fn to_json(p: &pb::Posture) -> serde_json::Value {
    // Plain structs of strings, numbers, bools and lists always serialize.
    serde_json::to_value(p).unwrap_or_else(|e| {
        tracing::error!(error = %e, "posture did not serialize to json");
        serde_json::Value::Null
    })
}

/// Runs one reader; its error or panic becomes `"name: message"` in `errors`.
fn guarded<T, E: std::fmt::Display>(
    name: &str,
    errors: &mut Vec<String>,
    read: impl FnOnce() -> Result<T, E>,
) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(read)) {
        Ok(Ok(value)) => Some(value),
        Ok(Err(e)) => {
            errors.push(format!("{name}: {e}"));
            None
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            errors.push(format!(
                "{name}: failed on a bug ({what}); please report it with the output of \
                 `ward-agent posture`"
            ));
            None
        }
    }
}

/// Reads `rel` under the root, at most `max` bytes: `Ok(None)` when it does not exist,
/// [`Error::TooLarge`] when it holds more.
pub(crate) fn read_capped(root: &Root, rel: &str, max: u64) -> Result<Option<Vec<u8>>, Error> {
    let path = root.join(rel);
    read_path_capped(&path, max)
}

/// As [`read_capped`], for a path already under the root.
pub(crate) fn read_path_capped(path: &Path, max: u64) -> Result<Option<Vec<u8>>, Error> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > max {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            max,
        });
    }
    Ok(Some(bytes))
}

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn capped(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests;
