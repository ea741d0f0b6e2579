//! rpm's SQLite database (`rpmdb.sqlite`, rpm 4.16 and later: RHEL 9, Fedora 33+,
//! openSUSE): the `Packages` table holds one header blob per installed package.
//!
//! The database is only ever opened read-only. rpm keeps it in WAL mode and checkpoints
//! the log when it closes, so an empty (or absent) `-wal` file means the main file is
//! complete. Where the root is not this machine's, the agent must not touch the image
//! either: with an empty log it opens the file `immutable` (no locks, no `-shm`
//! created); with a non-empty log (rpm was interrupted) it reads a private copy of the
//! database and its log, since reading the log needs a writable `-shm` next to it.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Why the database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite refused to open or query it.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Copying it aside (a foreign root with an uncheckpointed log) failed.
    #[error("{0}")]
    Copy(#[from] io::Error),
}

/// How long to wait when rpm holds a lock (it does so only briefly in WAL mode).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Calls `f(hnum, blob)` for every row of the `Packages` table of the database at `path`,
/// in header-number order. `live` says whether the database belongs to the running
/// system (locks are honoured and the log is read in place).
pub fn for_each(path: &Path, live: bool, f: impl FnMut(i64, &[u8])) -> Result<(), Error> {
    let wal = with_suffix(path, "-wal");
    let wal_pending = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    if live {
        return Ok(scan(&open(path, false)?, f)?);
    }
    if !wal_pending {
        return Ok(scan(&open(path, true)?, f)?);
    }
    tracing::debug!(path = %path.display(), "rpm database has an uncheckpointed log: reading a copy");
    let copy = Copy::new(path, &wal)?;
    Ok(scan(&open(&copy.db, false)?, f)?)
}

fn open(path: &Path, immutable: bool) -> rusqlite::Result<Connection> {
    let mut uri = b"file:".to_vec();
    for &b in path.as_os_str().as_bytes() {
        // Everything but unreserved characters and `/` is percent-encoded, so `?`, `#`
        // and `%` in a path cannot be read as URI syntax.
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b);
        } else {
            uri.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    uri.extend_from_slice(b"?mode=ro");
    if immutable {
        uri.extend_from_slice(b"&immutable=1");
    }
    let uri = PathBuf::from(OsString::from(std::ffi::OsStr::from_bytes(&uri)));
    let conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

fn scan(conn: &Connection, mut f: impl FnMut(i64, &[u8])) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let hnum: i64 = row.get(0)?;
        // A blob is borrowed from SQLite's row buffer, not copied.
        let blob = row.get_ref(1)?.as_blob_or_null()?.unwrap_or_default();
        f(hnum, blob);
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A private copy of a database and its log, removed when dropped.
struct Copy {
    dir: PathBuf,
    db: PathBuf,
}

impl Copy {
    fn new(db: &Path, wal: &Path) -> io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;

        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("ward-rpmdb-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let copy = Self {
            db: dir.join("rpmdb.sqlite"),
            dir,
        };
        std::fs::copy(db, &copy.db)?;
        std::fs::copy(wal, with_suffix(&copy.db, "-wal"))?;
        Ok(copy)
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "could not remove the copy of an rpm database");
        }
    }
}
