//! The SQLite backend: one database file in WAL mode, the embedded default.

use std::path::Path;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection};

use super::{Error, Store, Tx};

mod alerts;
mod hosts;
mod tokens;

/// The SQLite schema's migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Connections in the pool: WAL lets readers run beside the one writer.
const MAX_CONNECTIONS: u32 = 4;
/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    pub async fn open(path: &Path) -> Result<Self, Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL, not NORMAL: with WAL, NORMAL syncs only at checkpoints, so a power loss
            // can roll back commits the collector already acknowledged (a lost enrolment
            // leaves an agent with a valid certificate for a host the store does not know).
            // FULL syncs the WAL at every commit: one fsync per write transaction.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|source| Error::Open {
                path: path.to_owned(),
                source,
            })?;
        MIGRATOR.run(&pool).await.map_err(|source| match source {
            // An applied migration this build does not have: a newer collector wrote it.
            MigrateError::VersionMissing(version) => Error::SchemaTooNew {
                path: path.to_owned(),
                version,
            },
            source => Error::Migrate {
                path: path.to_owned(),
                source,
            },
        })?;
        Ok(Self { pool })
    }

    /// Closes every connection, checkpointing the WAL; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a write transaction. IMMEDIATE takes the write lock up front: a deferred
    /// transaction that reads and then writes can fail with SQLITE_BUSY when another
    /// connection wrote in between, without waiting for the busy timeout.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, Error> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    #[cfg(test)]
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// One write transaction on the SQLite store.
pub struct SqliteTx {
    tx: sqlx::Transaction<'static, Sqlite>,
}

impl SqliteTx {
    /// The transaction's connection.
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, Error> {
        Ok(Box::new(SqliteTx {
            tx: self.begin_write().await?,
        }))
    }
}

#[async_trait::async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> Result<(), Error> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Returns the id of the host named by exact id, else by exact hostname; None when none
/// matches, Error::AmbiguousHost when several hosts share the hostname.
pub(super) async fn resolve_host(
    conn: &mut SqliteConnection,
    id_or_hostname: &str,
) -> Result<Option<String>, Error> {
    let by_id: Option<String> = sqlx::query_scalar("SELECT id FROM hosts WHERE id = $1")
        .bind(id_or_hostname)
        .fetch_optional(&mut *conn)
        .await?;
    if by_id.is_some() {
        return Ok(by_id);
    }
    let mut ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM hosts WHERE hostname = $1 ORDER BY id")
            .bind(id_or_hostname)
            .fetch_all(&mut *conn)
            .await?;
    match ids.len() {
        0 => Ok(None),
        1 => Ok(ids.pop()),
        _ => Err(Error::AmbiguousHost {
            name: id_or_hostname.to_owned(),
            ids,
        }),
    }
}

#[cfg(test)]
mod tests;
