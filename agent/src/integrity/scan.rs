//! The one-shot scan: every file, directory and link under a set of paths, with its
//! metadata and, for regular files, its BLAKE3 hash.
//!
//! The walk is sequential (it is bound by the file system's metadata, not the CPU); the
//! hashing is spread over all cores with rayon, and a large file is itself hashed on
//! several cores. Every file is read through the one descriptor whose identity was
//! checked, never mapped (see [`hash_file`]). Nothing is skipped silently: what cannot be read, and a file that
//! changes or vanishes between the walk and the end of its hashing, become [`ScanError`]s.

use std::fs::{self, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// Files at least this large are hashed on several cores, [`LARGE_READ`] at a time;
/// smaller ones are read [`SMALL_READ`] at a time and hashed on one.
const LARGE_FROM: u64 = 1 << 20;

/// How much of a large file is read, then hashed on all cores, at a time.
const LARGE_READ: usize = 4 << 20;

/// The buffer small files are read with.
const SMALL_READ: usize = 64 * 1024;

/// What a scan found: entries sorted by path, and what could not be read.
#[derive(Debug, Default)]
pub struct Scan {
    /// Everything found, sorted by path, each path once.
    pub files: Vec<Entry>,
    /// What could not be read, sorted by path.
    pub errors: Vec<ScanError>,
}

/// One thing found under a scanned path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Absolute path, as scanned (symbolic links in it are not resolved).
    pub path: PathBuf,
    /// What it is.
    pub kind: Kind,
    /// BLAKE3 of the contents, lowercase hex; regular files only.
    pub blake3: Option<String>,
    /// Size in bytes (`st_size`).
    pub size: u64,
    /// Permission and type bits (`st_mode`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Last modification, Unix seconds.
    pub mtime: i64,
    /// Where a symbolic link points (not followed).
    pub target: Option<PathBuf>,
}

/// The kind of a scanned entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file: hashed.
    File,
    /// A directory: walked.
    Dir,
    /// A symbolic link: recorded with its target, never followed.
    Symlink,
    /// A device, FIFO or socket: recorded, never opened.
    Other,
}

/// Something that could not be read, and why.
#[derive(Debug)]
pub struct ScanError {
    /// The path that could not be read.
    pub path: PathBuf,
    /// Why.
    pub error: Error,
}

/// Why a path could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path's metadata cannot be read (it does not exist, or a parent is not
    /// searchable).
    #[error(
        "cannot read the metadata of {}: {source}; check that the path exists and that the \
         agent may search its directories",
        path.display()
    )]
    Metadata {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A directory cannot be listed.
    #[error(
        "cannot list the directory {}: {source}; run the scan as root or make the directory \
         readable to it",
        path.display()
    )]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A symbolic link's target cannot be read.
    #[error("cannot read the target of the symbolic link {}: {source}", path.display())]
    ReadLink {
        /// The link.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A regular file cannot be opened or read.
    #[error(
        "cannot read the file {}: {source}; run the scan as root or make the file readable \
         to it",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file changed, was replaced or vanished between the walk and the end of its
    /// hashing, so no hash of it can be trusted.
    #[error(
        "{} changed while it was scanned ({what}); scan it again once nothing writes to it",
        path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
        /// What was seen to change.
        what: &'static str,
    },
}

impl Kind {
    /// The name used in JSON and tables: `file`, `dir`, `symlink` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Other => "other",
        }
    }

    fn of(meta: &Metadata) -> Self {
        let t = meta.file_type();
        if t.is_symlink() {
            Kind::Symlink
        } else if t.is_dir() {
            Kind::Dir
        } else if t.is_file() {
            Kind::File
        } else {
            Kind::Other
        }
    }
}

/// Scans `paths`: each one and, for a directory, everything under it, without following
/// symbolic links (a path that is itself a link is recorded as the link). A relative path
/// is made absolute against the current directory, without resolving links.
///
/// Regular files are hashed in parallel on all cores. The scan always completes: what
/// cannot be read is listed in [`Scan::errors`] instead.
pub fn scan(paths: &[PathBuf]) -> Scan {
    let mut walk = walk(paths);
    let failures: Vec<ScanError> = walk
        .files
        .par_iter_mut()
        .filter(|w| w.entry.kind == Kind::File)
        .filter_map(|w| match hash_file(&w.entry.path, &w.meta) {
            Ok(hash) => {
                w.entry.blake3 = Some(hash);
                None
            }
            Err(error) => Some(ScanError {
                path: w.entry.path.clone(),
                error,
            }),
        })
        .collect();
    // A file that could not be hashed is reported as an error, not as an entry without a
    // hash that could be mistaken for a complete one.
    let files = walk
        .files
        .into_iter()
        .filter(|w| w.entry.kind != Kind::File || w.entry.blake3.is_some())
        .map(|w| w.entry)
        .collect();
    let mut errors = walk.errors;
    errors.extend(failures);
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Scan { files, errors }
}

/// An entry found by the walk, with the metadata its hashing is checked against.
struct Walked {
    entry: Entry,
    meta: Metadata,
}

/// What the walk found, before hashing.
struct Walk {
    files: Vec<Walked>,
    errors: Vec<ScanError>,
}

/// Lists everything under `paths`, sorted by path, each path once; nothing is hashed.
fn walk(paths: &[PathBuf]) -> Walk {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut stack: Vec<PathBuf> = Vec::new();
    for given in paths {
        match std::path::absolute(given) {
            Ok(p) => stack.push(p),
            Err(source) => errors.push(ScanError {
                path: given.clone(),
                error: Error::Metadata {
                    path: given.clone(),
                    source,
                },
            }),
        }
    }
    while let Some(path) = stack.pop() {
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(source) => {
                errors.push(ScanError {
                    error: Error::Metadata {
                        path: path.clone(),
                        source,
                    },
                    path,
                });
                continue;
            }
        };
        let kind = Kind::of(&meta);
        let mut target = None;
        match kind {
            Kind::Dir => match fs::read_dir(&path) {
                Ok(dir) => {
                    for child in dir {
                        match child {
                            Ok(child) => stack.push(child.path()),
                            Err(source) => errors.push(ScanError {
                                path: path.clone(),
                                error: Error::ReadDir {
                                    path: path.clone(),
                                    source,
                                },
                            }),
                        }
                    }
                }
                Err(source) => errors.push(ScanError {
                    path: path.clone(),
                    error: Error::ReadDir {
                        path: path.clone(),
                        source,
                    },
                }),
            },
            Kind::Symlink => match fs::read_link(&path) {
                Ok(t) => target = Some(t),
                Err(source) => errors.push(ScanError {
                    path: path.clone(),
                    error: Error::ReadLink {
                        path: path.clone(),
                        source,
                    },
                }),
            },
            Kind::File | Kind::Other => {}
        }
        files.push(Walked {
            entry: Entry {
                path,
                kind,
                blake3: None,
                size: meta.size(),
                mode: meta.mode(),
                uid: meta.uid(),
                gid: meta.gid(),
                mtime: meta.mtime(),
                target,
            },
            meta,
        });
    }
    // Overlapping paths (`/etc` and `/etc/ssh`) list the same entries twice.
    files.sort_by(|a, b| a.entry.path.cmp(&b.entry.path));
    files.dedup_by(|a, b| a.entry.path == b.entry.path);
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    errors.dedup_by(|a, b| a.path == b.path && a.error.to_string() == b.error.to_string());
    Walk { files, errors }
}

/// Hashes the regular file at `path`, which the walk saw as `seen`; an error if it cannot
/// be read or is not, from opening to the end of hashing, the file the walk saw.
fn hash_file(path: &Path, seen: &Metadata) -> Result<String, Error> {
    let read = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let changed = |what| Error::Changed {
        path: path.to_owned(),
        what,
    };
    // Never block on a FIFO or follow a link that replaced the file since the walk.
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => changed("it vanished"),
            _ if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                changed("it was replaced by a symbolic link")
            }
            _ => read(e),
        })?;
    let before = file.metadata().map_err(read)?;
    same_file(seen, &before).map_err(changed)?;

    // Large files are read from the descriptor opened above and hashed a few MiB at a
    // time with `update_rayon`, not memory-mapped (`update_mmap_rayon`): a mapped file
    // truncated mid-hash kills the process with SIGBUS, and that function reopens the path,
    // which by then may be a FIFO (a read that never returns) or a link to `/dev/zero`.
    // Anyone who can write a scanned file could otherwise stop the whole scan.
    let large = before.size() >= LARGE_FROM;
    let mut buf = vec![0; if large { LARGE_READ } else { SMALL_READ }];
    let mut hasher = blake3::Hasher::new();
    let mut total: u64 = 0;
    loop {
        let n = read_full(&mut file, &mut buf).map_err(read)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > before.size() {
            return Err(changed("its size"));
        }
        if large {
            hasher.update_rayon(&buf[..n]);
        } else {
            hasher.update(&buf[..n]);
        }
    }
    if total != before.size() {
        return Err(changed("its size"));
    }
    let after = file.metadata().map_err(read)?;
    same_file(&before, &after).map_err(changed)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// Reads into `buf` until it is full or the file ends; the bytes read.
fn read_full(file: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Whether `a` and `b` describe the same, unchanged file; if not, what differs.
fn same_file(a: &Metadata, b: &Metadata) -> Result<(), &'static str> {
    if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
        return Err("it was replaced");
    }
    if !b.file_type().is_file() {
        return Err("it is no longer a regular file");
    }
    if a.size() != b.size() {
        return Err("its size");
    }
    if (a.mtime(), a.mtime_nsec()) != (b.mtime(), b.mtime_nsec()) {
        return Err("its modification time");
    }
    if (a.ctime(), a.ctime_nsec()) != (b.ctime(), b.ctime_nsec()) {
        return Err("its status change time");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
