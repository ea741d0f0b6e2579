//! Bounds on what an agent may send, checked at the edge before anything is stored: sizes
//! of strings and lists, and no control characters in identifiers (they end up in admins'
//! terminals, CSV files and chat messages).

use ward_proto::digest::{HASH_LEN, Hash};

/// A section that does not hold what the protocol promises.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: a section hash must be {HASH_LEN} bytes, got {len}")]
    HashLength { field: &'static str, len: usize },
    #[error("sequence must be at least 1")]
    ZeroSequence,
    #[error("{0}: too long (at most {1} bytes)")]
    TooLong(&'static str, usize),
    #[error("{0}: control characters are not allowed")]
    Control(&'static str),
    #[error("package.name: a package must have a name")]
    EmptyName,
    #[error("patches.pending.name: a pending update must name its package")]
    EmptyPendingName,
    #[error("{0}: too many entries (at most {1})")]
    TooMany(&'static str, usize),
    #[error("{0}")]
    Update(#[from] ward_proto::section::Error),
}

/// Longest hostname (DNS limit).
pub const MAX_HOSTNAME: usize = 253;
/// Longest free-text field (pretty names, models, serials).
pub const MAX_TEXT: usize = 1024;
/// Longest identity field (package name, version, arch, source, state; user names).
pub const MAX_FIELD: usize = 512;
/// Most packages one section or delta may hold.
pub const MAX_PACKAGES: usize = 500_000;
/// Most entries of one hardware list (file systems, disks, interfaces, GPUs).
pub const MAX_DEVICES: usize = 10_000;
/// Most entries of the smaller lists (advisories of an update, CVEs of an advisory,
/// suites, units to restart, listening sockets, accounts, keys).
pub const MAX_LIST: usize = 10_000;

/// Checks one string from an agent: bounded, and for identifiers, free of control
/// characters.
pub fn text(field: &'static str, value: &str, max: usize, identifier: bool) -> Result<(), Error> {
    if value.len() > max {
        return Err(Error::TooLong(field, max));
    }
    if identifier && value.chars().any(char::is_control) {
        return Err(Error::Control(field));
    }
    Ok(())
}

/// Checks the length of a list.
pub fn count(field: &'static str, n: usize, max: usize) -> Result<(), Error> {
    if n > max {
        return Err(Error::TooMany(field, max));
    }
    Ok(())
}

/// Checks that bytes are a section hash.
pub fn hash(field: &'static str, bytes: &[u8]) -> Result<Hash, Error> {
    bytes.try_into().map_err(|_| Error::HashLength {
        field,
        len: bytes.len(),
    })
}
