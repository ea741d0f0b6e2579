//! The rpm database (RHEL and its rebuilds, Fedora, SUSE): which RPM packages are
//! installed, read from the header rpm keeps for each one.
//!
//! rpm 4.16 and later keep the headers in SQLite (`rpmdb.sqlite`) or, on SUSE, in rpm's
//! own `ndb` format (`Packages.db`); older releases (RHEL 7 and 8) in a Berkeley DB hash
//! file (`Packages`). All three are read here without rpm or libdb.

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use std::fs::File;
use std::io;
use std::path::PathBuf;

use ward_proto::v1 as pb;

use crate::inventory::root::Root;

/// Directories rpm keeps its database in, relative to the root, in the order they are
/// tried: `%_dbpath` is `/usr/lib/sysimage/rpm` on Fedora and SUSE (with `/var/lib/rpm`
/// a link to it) and `/var/lib/rpm` on RHEL.
pub const DB_DIRS: &[&str] = &["usr/lib/sysimage/rpm", "var/lib/rpm"];

/// The SQLite database file, in a [`DB_DIRS`] directory.
pub const SQLITE: &str = "rpmdb.sqlite";
/// The Berkeley DB package file, in a [`DB_DIRS`] directory.
pub const BDB: &str = "Packages";
/// The ndb package file (SUSE), in a [`DB_DIRS`] directory.
pub const NDB: &str = "Packages.db";

/// The fix named in errors about a damaged database.
const REPAIR: &str = "check it with `rpmdb --verifydb` and rebuild it with `rpmdb --rebuilddb` \
                      on that system";

/// Errors reading the rpm database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SQLite database exists but cannot be opened or queried.
    #[error(
        "failed to read rpm database at {}: {source}; rpm keeps it readable by all users \
         (0644), so run the agent as a user that can read it, or {REPAIR}",
        path.display(),
        REPAIR = REPAIR
    )]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Why reading failed.
        source: sqlite::Error,
    },
    /// The Berkeley DB or ndb file exists but cannot be read.
    #[error(
        "failed to read rpm database at {}: {source}; run the agent as a user that can \
         read it (rpm keeps it 0644)",
        path.display()
    )]
    Read {
        /// The database file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
    /// The Berkeley DB file is damaged or of a kind rpm does not write.
    #[error(
        "rpm database at {} is not readable as rpm's Berkeley DB: {reason}; {REPAIR}",
        path.display(),
        REPAIR = REPAIR
    )]
    Bdb {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The ndb file is damaged.
    #[error(
        "rpm database at {} is not readable as rpm's ndb: {reason}; {REPAIR}",
        path.display(),
        REPAIR = REPAIR
    )]
    Ndb {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// The kinds of rpm database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `rpmdb.sqlite`.
    Sqlite,
    /// Berkeley DB `Packages`.
    Bdb,
    /// ndb `Packages.db` (SUSE).
    Ndb,
}

/// Returns the database rpm would read under `root`: the first of [`DB_DIRS`] holding
/// one, the newer formats preferred (SQLite, then ndb, then Berkeley DB: a system
/// upgraded from RHEL 8 to 9 can keep a stale `Packages` next to its `rpmdb.sqlite`);
/// `None` when there is no rpm database.
pub(crate) fn locate(root: &Root) -> Option<(Backend, PathBuf)> {
    for dir in DB_DIRS {
        for (backend, file) in [
            (Backend::Sqlite, SQLITE),
            (Backend::Ndb, NDB),
            (Backend::Bdb, BDB),
        ] {
            let path = root.join(&format!("{dir}/{file}"));
            if path.is_file() {
                return Some((backend, path));
            }
        }
    }
    None
}

/// Reads the packages of the rpm database under `root`; `None` when there is none.
///
/// Like `rpm -qa`, this lists `gpg-pubkey` entries (imported signing keys, with no
/// architecture). A header that cannot be parsed is skipped with a warning naming the
/// database, as rpm skips it; a database that cannot be read is an error.
pub(crate) fn read(root: &Root) -> Result<Option<Vec<pb::Package>>, Error> {
    let Some((backend, path)) = locate(root) else {
        return Ok(None);
    };
    let mut packages = Vec::new();
    let mut skipped = Skipped::default();
    let mut add = |number: u64, blob: &[u8]| match package_from_header(blob) {
        Ok(p) => packages.push(p),
        Err(e) => skipped.add(number, e),
    };
    match backend {
        Backend::Sqlite => sqlite::for_each(&path, root.is_live(), |hnum, blob| {
            add(u64::try_from(hnum).unwrap_or_default(), blob)
        })
        .map_err(|source| Error::Sqlite {
            path: path.clone(),
            source,
        })?,
        Backend::Bdb => {
            let file = File::open(&path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            bdb::for_each(&file, |key, value| {
                // Record 0 holds rpm's next header number, not a header.
                if key != Some(0) {
                    add(u64::from(key.unwrap_or_default()), value);
                }
            })
            .map_err(|e| match e {
                bdb::Error::Io(source) => Error::Read {
                    path: path.clone(),
                    source,
                },
                bdb::Error::Format(reason) => Error::Bdb {
                    path: path.clone(),
                    reason,
                },
            })?;
        }
        Backend::Ndb => {
            let read = |source| Error::Read {
                path: path.clone(),
                source,
            };
            let file = File::open(&path).map_err(read)?;
            let len = file.metadata().map_err(read)?.len();
            ndb::for_each(&file, len, |index, blob| add(u64::from(index), blob)).map_err(|e| {
                match e {
                    ndb::Error::Io(source) => Error::Read {
                        path: path.clone(),
                        source,
                    },
                    ndb::Error::Format(reason) => Error::Ndb {
                        path: path.clone(),
                        reason,
                    },
                }
            })?;
        }
    }
    skipped.warn(&path);
    Ok(Some(packages))
}

/// Parses one header blob into a package (`source` "rpm", `version` the EVR as rpm's
/// `%{EVR}` prints it). Never panics, whatever the input.
pub fn package_from_header(blob: &[u8]) -> Result<pb::Package, header::Error> {
    let f = header::Header::parse(blob)?.fields()?;
    let source_package = match f.source_name() {
        s if s == f.name => String::new(),
        s => s.to_owned(),
    };
    Ok(pb::Package {
        version: f.evr(),
        arch: f.arch.clone(),
        source: "rpm".to_owned(),
        source_package,
        installed_size: f.size,
        state: "installed".to_owned(),
        epoch: f.epoch.map(|e| e.to_string()).unwrap_or_default(),
        release: f.release,
        install_time: f
            .install_time
            .map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)),
        vendor: f.vendor,
        name: f.name,
    })
}

/// Headers that could not be parsed.
#[derive(Debug, Default)]
struct Skipped {
    count: usize,
    first: Option<(u64, header::Error)>,
}

impl Skipped {
    fn add(&mut self, number: u64, error: header::Error) {
        self.count += 1;
        self.first.get_or_insert((number, error));
    }

    fn warn(&self, path: &std::path::Path) {
        if let Some((number, error)) = &self.first {
            tracing::warn!(
                path = %path.display(),
                skipped = self.count,
                first_header = number,
                error = %error,
                "skipped unreadable rpm headers, as rpm does; {REPAIR}"
            );
        }
    }
}

#[cfg(test)]
mod tests;
