//! The SQLite backend: one database file in WAL mode, the embedded default.

use std::path::Path;
use std::time::Duration;

use prost::Message;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tracing::{debug, warn};
use ward_proto::digest::Hash;
use ward_proto::v1 as pb;

use super::ingest::{self, Decision};
use super::{
    Error, HostDetail, HostFilter, HostPage, HostStatus, NewHost, NewToken, PatchFilter, PatchList,
    Report, ReportOutcome, SECTIONS, SectionAck, SoftwareUpdate, Store, glob, page_token,
    section_from_i64,
};

/// The SQLite schema's migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Connections in the pool: WAL lets readers run beside the one writer.
const MAX_CONNECTIONS: u32 = 4;
/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows per multi-row INSERT: 6 binds each stays far below SQLite's variable limit.
const INSERT_CHUNK: usize = 500;

/// A [`Store`] in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// Columns of [`HostRow`], in one place for every query that lists hosts.
macro_rules! host_columns {
    () => {
        "id, hostname, os_id, os_pretty_name, kernel_release, architecture, machine_id, \
         memory_bytes, logical_cores, software_count, agent_version, enrolled_at, last_seen, \
         last_report"
    };
}

#[derive(sqlx::FromRow)]
struct HostRow {
    id: String,
    hostname: String,
    os_id: String,
    os_pretty_name: String,
    kernel_release: String,
    architecture: String,
    machine_id: String,
    memory_bytes: i64,
    logical_cores: i64,
    software_count: i64,
    agent_version: String,
    enrolled_at: i64,
    last_seen: i64,
    last_report: i64,
}

#[derive(sqlx::FromRow)]
struct MatchRow {
    host_id: String,
    hostname: String,
    name: String,
    version: String,
    arch: String,
    source: String,
    state: String,
    last_seen: i64,
}

/// The hashes of the sections a host holds.
#[derive(Debug, Default)]
struct Held {
    os: Option<Hash>,
    hardware: Option<Hash>,
    software: Option<Hash>,
    patches: Option<Hash>,
}

/// Columns of [`PatchRow`], for every query that lists patch summaries.
macro_rules! patch_columns {
    () => {
        "h.id, h.hostname, h.os_id, h.os_pretty_name, h.last_seen, p.pending, p.security, \
         p.held_back, p.security_since, p.pending_since, p.reboot_required, \
         p.reboot_required_since, p.restart_units, p.running_kernel, p.newest_kernel, \
         p.managers, p.reported_at"
    };
}

#[derive(sqlx::FromRow)]
struct PatchRow {
    id: String,
    hostname: String,
    os_id: String,
    os_pretty_name: String,
    last_seen: i64,
    pending: Option<i64>,
    security: Option<i64>,
    held_back: Option<i64>,
    security_since: Option<i64>,
    pending_since: Option<i64>,
    reboot_required: Option<i64>,
    reboot_required_since: Option<i64>,
    restart_units: Option<i64>,
    running_kernel: Option<String>,
    newest_kernel: Option<String>,
    managers: Option<String>,
    reported_at: Option<i64>,
}

impl PatchRow {
    /// Whether the host has reported patch state (the LEFT JOIN found a row).
    fn reported(&self) -> bool {
        self.reported_at.is_some()
    }

    fn into_summary(self) -> pb::HostPatchSummary {
        let n = |v: Option<i64>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
        pb::HostPatchSummary {
            host_id: self.id,
            hostname: self.hostname,
            os_id: self.os_id,
            os_pretty_name: self.os_pretty_name,
            pending: n(self.pending),
            security: n(self.security),
            held_back: n(self.held_back),
            security_since: self.security_since.unwrap_or(0),
            pending_since: self.pending_since.unwrap_or(0),
            reboot_required: self.reboot_required.unwrap_or(0) != 0,
            reboot_required_since: self.reboot_required_since.unwrap_or(0),
            restart_units: n(self.restart_units),
            running_kernel: self.running_kernel.unwrap_or_default(),
            newest_kernel: self.newest_kernel.unwrap_or_default(),
            last_seen: self.last_seen,
            patches_reported_at: self.reported_at.unwrap_or(0),
            managers: self
                .managers
                .unwrap_or_default()
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
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

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn create_token(&self, token: NewToken) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO enrollment_tokens (id, hash, uses_total, uses_left, expires_at, label, created_at) \
             VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(&token.id)
        .bind(&token.hash[..])
        .bind(i64::from(token.uses))
        .bind(token.expires_at)
        .bind(&token.label)
        .bind(token.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn check_token(&self, token_hash: &[u8; 32], now: i64) -> Result<(), Error> {
        let token: Option<(String, i64, i64)> = sqlx::query_as(
            "SELECT id, uses_left, expires_at FROM enrollment_tokens WHERE hash = $1",
        )
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await?;
        token_usable(token, now).map(drop)
    }

    async fn enroll(&self, token_hash: &[u8; 32], host: NewHost) -> Result<(), Error> {
        let mut tx = self.begin_write().await?;
        let token: Option<(String, i64, i64)> = sqlx::query_as(
            "SELECT id, uses_left, expires_at FROM enrollment_tokens WHERE hash = $1",
        )
        .bind(&token_hash[..])
        .fetch_optional(&mut *tx)
        .await?;
        let token_id = token_usable(token, host.enrolled_at)?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM hosts WHERE id = $1")
            .bind(&host.id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(Error::HostExists(host.id));
        }
        sqlx::query(
            "INSERT INTO hosts (id, hostname, agent_version, cert_serial, cert_not_after, enrolled_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&host.id)
        .bind(&host.hostname)
        .bind(&host.agent_version)
        .bind(&host.cert_serial)
        .bind(host.cert_not_after)
        .bind(host.enrolled_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE enrollment_tokens SET uses_left = uses_left - 1 WHERE id = $1")
            .bind(&token_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn host_status(&self, host_id: &str) -> Result<Option<HostStatus>, Error> {
        let row: Option<(bool, String)> =
            sqlx::query_as("SELECT revoked, cert_serial FROM hosts WHERE id = $1")
                .bind(host_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(revoked, cert_serial)| HostStatus {
            revoked,
            cert_serial,
        }))
    }

    async fn apply_report(
        &self,
        host_id: &str,
        report: Report,
        now: i64,
    ) -> Result<ReportOutcome, Error> {
        let sequence = i64::try_from(report.sequence)
            .map_err(|_| Error::SequenceOutOfRange(report.sequence))?;
        // Every early return drops `tx`, which rolls back: nothing is half-applied.
        let mut tx = self.begin_write().await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT last_sequence FROM hosts WHERE id = $1")
            .bind(host_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(last) = last else {
            return Err(Error::UnknownHost(host_id.to_owned()));
        };
        let mut held = held_hashes(&mut tx, host_id).await?;
        if sequence <= last {
            tx.rollback().await?;
            debug!(host = %host_id, sequence, last, "duplicate report ignored");
            return Ok(ReportOutcome {
                applied_sequence: u64::try_from(last).unwrap_or(0),
                duplicate: true,
                sections: held.acks(&[]),
            });
        }

        let mut send_full = Vec::new();
        let mut replaced = 0_u32;
        if let Some(update) = report.os {
            held_body::<pb::OsInfo>(&mut tx, host_id, pb::Section::Os, &mut held.os).await?;
            match ingest::os(held.os.as_ref(), update) {
                Decision::Keep => {}
                Decision::SendFull => send_full.push(pb::Section::Os),
                Decision::Replace(os, hash) => {
                    write_section(&mut tx, host_id, pb::Section::Os, &hash, &os, now).await?;
                    sqlx::query(
                        "UPDATE hosts SET hostname = COALESCE(NULLIF($2, ''), hostname), os_id = $3, \
                         os_pretty_name = $4, kernel_release = $5, architecture = $6, machine_id = $7 \
                         WHERE id = $1",
                    )
                    .bind(host_id)
                    .bind(&os.hostname)
                    .bind(&os.os_id)
                    .bind(&os.os_pretty_name)
                    .bind(&os.kernel_release)
                    .bind(&os.architecture)
                    .bind(&os.machine_id)
                    .execute(&mut *tx)
                    .await?;
                    held.os = Some(hash);
                    replaced += 1;
                }
            }
        }
        if let Some(update) = report.hardware {
            held_body::<pb::Hardware>(&mut tx, host_id, pb::Section::Hardware, &mut held.hardware)
                .await?;
            match ingest::hardware(held.hardware.as_ref(), update) {
                Decision::Keep => {}
                Decision::SendFull => send_full.push(pb::Section::Hardware),
                Decision::Replace(hw, hash) => {
                    write_section(&mut tx, host_id, pb::Section::Hardware, &hash, &hw, now).await?;
                    let memory = hw.memory.as_ref().map_or(0, |m| m.total_bytes);
                    let cores = hw.cpu.as_ref().map_or(0, |c| c.logical_cores);
                    sqlx::query(
                        "UPDATE hosts SET memory_bytes = $2, logical_cores = $3 WHERE id = $1",
                    )
                    .bind(host_id)
                    .bind(i64::try_from(memory).unwrap_or(i64::MAX))
                    .bind(i64::from(cores))
                    .execute(&mut *tx)
                    .await?;
                    held.hardware = Some(hash);
                    replaced += 1;
                }
            }
        }
        if let Some(update) = report.software {
            let base = held_body::<pb::Software>(
                &mut tx,
                host_id,
                pb::Section::Software,
                &mut held.software,
            )
            .await?;
            // A delta changes only its rows; a full section rewrites them all, which also
            // heals any drift between the rows and the section.
            let rows_base = match update {
                SoftwareUpdate::Delta(_) => base.as_ref(),
                _ => None,
            };
            match ingest::software(held.software.as_ref(), base.as_ref(), update) {
                Decision::Keep => {}
                Decision::SendFull => send_full.push(pb::Section::Software),
                Decision::Replace(sw, hash) => {
                    write_section(&mut tx, host_id, pb::Section::Software, &hash, &sw, now).await?;
                    write_software_rows(&mut tx, host_id, rows_base, &sw).await?;
                    sqlx::query("UPDATE hosts SET software_count = $2 WHERE id = $1")
                        .bind(host_id)
                        .bind(i64::from(ingest::installed_count(&sw)))
                        .execute(&mut *tx)
                        .await?;
                    held.software = Some(hash);
                    replaced += 1;
                }
            }
        }
        if let Some(update) = report.patches {
            let base =
                held_body::<pb::Patches>(&mut tx, host_id, pb::Section::Patches, &mut held.patches)
                    .await?;
            match ingest::patches(held.patches.as_ref(), base.as_ref(), update) {
                Decision::Keep => {
                    sqlx::query("UPDATE host_patches SET reported_at = $2 WHERE host_id = $1")
                        .bind(host_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                Decision::SendFull => send_full.push(pb::Section::Patches),
                Decision::Replace(p, hash) => {
                    write_section(&mut tx, host_id, pb::Section::Patches, &hash, &p, now).await?;
                    write_patch_facts(&mut tx, host_id, &ingest::patch_facts(&p, now), now).await?;
                    held.patches = Some(hash);
                    replaced += 1;
                }
            }
        }
        // Last, so that a failure here (tests induce one) proves the section writes roll back.
        sqlx::query(
            "UPDATE hosts SET last_sequence = $2, last_report = $3, last_seen = $3, \
             agent_version = COALESCE(NULLIF($4, ''), agent_version) WHERE id = $1",
        )
        .bind(host_id)
        .bind(sequence)
        .bind(now)
        .bind(&report.agent_version)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        debug!(host = %host_id, sequence, replaced, send_full = send_full.len(), "report applied");
        Ok(ReportOutcome {
            applied_sequence: report.sequence,
            duplicate: false,
            sections: held.acks(&send_full),
        })
    }

    async fn heartbeat(
        &self,
        host_id: &str,
        agent_version: &str,
        now: i64,
    ) -> Result<Vec<(pb::Section, Hash)>, Error> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE hosts SET last_seen = $2, agent_version = COALESCE(NULLIF($3, ''), agent_version) \
             WHERE id = $1",
        )
        .bind(host_id)
        .bind(now)
        .bind(agent_version)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::UnknownHost(host_id.to_owned()));
        }
        let held = held_hashes(&mut tx, host_id).await?;
        tx.commit().await?;
        Ok(SECTIONS
            .into_iter()
            .filter_map(|s| held.get(s).map(|h| (s, h)))
            .collect())
    }

    async fn list_hosts(&self, filter: &HostFilter, now: i64) -> Result<HostPage, Error> {
        let page_size = match filter.page_size {
            0 => super::DEFAULT_PAGE_SIZE,
            n => n.min(super::MAX_PAGE_SIZE),
        };
        let after = filter
            .page_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(page_token::decode)
            .transpose()?;
        let hostname_like = filter
            .hostname_glob
            .as_deref()
            .filter(|g| !g.is_empty())
            .map(glob::to_like);
        let os = filter.os.as_deref().filter(|o| !o.is_empty());
        // A window of 0 seconds means "no bound", as on the wire.
        let since = |secs: Option<u64>| {
            secs.filter(|s| *s > 0)
                .map(|s| now.saturating_sub(i64::try_from(s).unwrap_or(i64::MAX)))
        };
        let rows: Vec<HostRow> = sqlx::query_as(concat!(
            "SELECT ",
            host_columns!(),
            r" FROM hosts
              WHERE ($1 IS NULL OR LOWER(hostname) LIKE LOWER($1) ESCAPE '\')
                AND ($2 IS NULL OR LOWER(os_id) = LOWER($2))
                AND ($3 IS NULL OR last_seen >= $3)
                AND ($4 IS NULL OR last_seen < $4)
                AND ($5 IS NULL OR hostname > $5 OR (hostname = $5 AND id > $6))
              ORDER BY hostname, id
              LIMIT $7"
        ))
        .bind(hostname_like)
        .bind(os)
        .bind(since(filter.seen_within_secs))
        .bind(since(filter.not_seen_within_secs))
        .bind(after.as_ref().map(|a| a.hostname.as_str()))
        .bind(after.as_ref().map(|a| a.id.as_str()))
        .bind(i64::from(page_size) + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut hosts: Vec<pb::HostSummary> = rows.into_iter().map(HostRow::into_summary).collect();
        let page_len = usize::try_from(page_size).unwrap_or(usize::MAX);
        let next_page_token = if hosts.len() > page_len {
            hosts.truncate(page_len);
            hosts.last().map(|h| page_token::encode(&h.hostname, &h.id))
        } else {
            None
        };
        Ok(HostPage {
            hosts,
            next_page_token,
        })
    }

    async fn get_host(&self, id_or_hostname: &str) -> Result<Option<HostDetail>, Error> {
        // One read transaction: the summary and the sections come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let Some(id) = resolve_host(&mut tx, id_or_hostname).await? else {
            return Ok(None);
        };
        let row: HostRow = sqlx::query_as(concat!(
            "SELECT ",
            host_columns!(),
            " FROM hosts WHERE id = $1"
        ))
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        let bodies: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT section, body FROM sections WHERE host_id = $1")
                .bind(&row.id)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        let host_id = row.id.clone();
        let mut detail = HostDetail {
            summary: row.into_summary(),
            os: None,
            hardware: None,
            software: None,
            patches: None,
        };
        // A body that does not decode is left out rather than failing the whole host: the
        // agent's next report finds it not held and sends it in full (see apply_report).
        for (section, body) in bodies {
            match section_from_i64(section) {
                Some(s @ pb::Section::Os) => detail.os = decode_body(&host_id, s, &body),
                Some(s @ pb::Section::Hardware) => {
                    detail.hardware = decode_body(&host_id, s, &body);
                }
                Some(s @ pb::Section::Software) => {
                    detail.software = decode_body(&host_id, s, &body);
                }
                Some(s @ pb::Section::Patches) => {
                    detail.patches = decode_body(&host_id, s, &body);
                }
                // Sections a later version stored: not part of this build's answer.
                _ => {}
            }
        }
        Ok(Some(detail))
    }

    async fn find_software(
        &self,
        name_glob: &str,
        include_not_installed: bool,
    ) -> Result<Vec<pb::SoftwareMatch>, Error> {
        let wildcard = glob::has_wildcards(name_glob);
        // An exact name is an index lookup; a glob narrows with LIKE (which ignores ASCII
        // case in SQLite) and glob::matches decides, case-sensitively.
        let query = if wildcard {
            concat!(
                "SELECT s.host_id, h.hostname, s.name, s.version, s.arch, s.source, s.state, h.last_seen \
                 FROM host_software s JOIN hosts h ON h.id = s.host_id ",
                r"WHERE s.name LIKE $1 ESCAPE '\' AND ($2 OR s.state = 'installed') ",
                "ORDER BY s.name, h.hostname, s.host_id, s.version, s.arch, s.source"
            )
        } else {
            concat!(
                "SELECT s.host_id, h.hostname, s.name, s.version, s.arch, s.source, s.state, h.last_seen \
                 FROM host_software s JOIN hosts h ON h.id = s.host_id ",
                "WHERE s.name = $1 AND ($2 OR s.state = 'installed') ",
                "ORDER BY s.name, h.hostname, s.host_id, s.version, s.arch, s.source"
            )
        };
        let pattern = if wildcard {
            glob::to_like(name_glob)
        } else {
            name_glob.to_owned()
        };
        let rows: Vec<MatchRow> = sqlx::query_as(query)
            .bind(pattern)
            .bind(include_not_installed)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|r| !wildcard || glob::matches(name_glob, &r.name))
            .map(|r| pb::SoftwareMatch {
                host_id: r.host_id,
                hostname: r.hostname,
                name: r.name,
                version: r.version,
                arch: r.arch,
                source: r.source,
                state: r.state,
                last_seen: r.last_seen,
            })
            .collect())
    }

    async fn list_patches(&self, filter: &PatchFilter) -> Result<PatchList, Error> {
        let hostname_like = filter
            .hostname_glob
            .as_deref()
            .filter(|g| !g.is_empty())
            .map(glob::to_like);
        let os = filter.os.as_deref().filter(|o| !o.is_empty());
        let rows: Vec<PatchRow> = sqlx::query_as(concat!(
            "SELECT ",
            patch_columns!(),
            r" FROM hosts h LEFT JOIN host_patches p ON p.host_id = h.id
              WHERE ($1 IS NULL OR LOWER(h.hostname) LIKE LOWER($1) ESCAPE '\')
                AND ($2 IS NULL OR LOWER(h.os_id) = LOWER($2))
              ORDER BY h.hostname, h.id"
        ))
        .bind(hostname_like)
        .bind(os)
        .fetch_all(&self.pool)
        .await?;
        let mut list = PatchList::default();
        for row in rows {
            if row.reported() {
                list.hosts.push(row.into_summary());
            } else {
                list.without_patch_state = list.without_patch_state.saturating_add(1);
            }
        }
        Ok(list)
    }

    async fn get_patches(
        &self,
        id_or_hostname: &str,
    ) -> Result<Option<(pb::HostPatchSummary, Option<pb::Patches>)>, Error> {
        let mut tx = self.pool.begin().await?;
        let Some(id) = resolve_host(&mut tx, id_or_hostname).await? else {
            return Ok(None);
        };
        let row: PatchRow = sqlx::query_as(concat!(
            "SELECT ",
            patch_columns!(),
            " FROM hosts h LEFT JOIN host_patches p ON p.host_id = h.id WHERE h.id = $1"
        ))
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        let body: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT body FROM sections WHERE host_id = $1 AND section = $2")
                .bind(&id)
                .bind(pb::Section::Patches as i64)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        let patches = body.and_then(|b| decode_body(&id, pb::Section::Patches, &b));
        Ok(Some((row.into_summary(), patches)))
    }
}

/// Returns the id of the host named by exact id, else by exact hostname; None when none
/// matches, Error::AmbiguousHost when several hosts share the hostname.
async fn resolve_host(
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

/// Writes a host's patch summary (the row follows the patches section it summarises).
async fn write_patch_facts(
    conn: &mut SqliteConnection,
    host_id: &str,
    f: &ingest::PatchFacts,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO host_patches (host_id, pending, security, held_back, security_since, \
         pending_since, reboot_required, reboot_required_since, restart_units, running_kernel, \
         newest_kernel, managers, reported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (host_id) DO UPDATE SET pending = excluded.pending, \
         security = excluded.security, held_back = excluded.held_back, \
         security_since = excluded.security_since, pending_since = excluded.pending_since, \
         reboot_required = excluded.reboot_required, \
         reboot_required_since = excluded.reboot_required_since, \
         restart_units = excluded.restart_units, running_kernel = excluded.running_kernel, \
         newest_kernel = excluded.newest_kernel, managers = excluded.managers, \
         reported_at = excluded.reported_at",
    )
    .bind(host_id)
    .bind(i64::from(f.pending))
    .bind(i64::from(f.security))
    .bind(i64::from(f.held_back))
    .bind(f.security_since)
    .bind(f.pending_since)
    .bind(f.reboot_required)
    .bind(f.reboot_required_since)
    .bind(i64::from(f.restart_units))
    .bind(&f.running_kernel)
    .bind(&f.newest_kernel)
    .bind(&f.managers)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl HostRow {
    fn into_summary(self) -> pb::HostSummary {
        pb::HostSummary {
            id: self.id,
            hostname: self.hostname,
            os_id: self.os_id,
            os_pretty_name: self.os_pretty_name,
            kernel_release: self.kernel_release,
            architecture: self.architecture,
            enrolled_at: self.enrolled_at,
            last_seen: self.last_seen,
            last_report: self.last_report,
            // Written from u32/u64 values (saturated), so these only clamp what cannot occur.
            software_count: u32::try_from(self.software_count).unwrap_or(0),
            memory_bytes: u64::try_from(self.memory_bytes).unwrap_or(0),
            logical_cores: u32::try_from(self.logical_cores).unwrap_or(0),
            agent_version: self.agent_version,
            machine_id: self.machine_id,
        }
    }
}

impl Held {
    fn get(&self, section: pb::Section) -> Option<Hash> {
        match section {
            pb::Section::Os => self.os,
            pb::Section::Hardware => self.hardware,
            pb::Section::Software => self.software,
            pb::Section::Patches => self.patches,
            _ => None,
        }
    }

    /// Returns one ack per section, with the hash now held.
    fn acks(&self, send_full: &[pb::Section]) -> Vec<SectionAck> {
        SECTIONS
            .into_iter()
            .map(|section| SectionAck {
                section,
                hash: self.get(section),
                send_full: send_full.contains(&section),
            })
            .collect()
    }
}

/// Returns the hashes of the sections `host_id` holds.
async fn held_hashes(conn: &mut SqliteConnection, host_id: &str) -> Result<Held, Error> {
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT section, hash FROM sections WHERE host_id = $1")
            .bind(host_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut held = Held::default();
    for (section, hash) in rows {
        let Some(section) = section_from_i64(section) else {
            continue;
        };
        let slot = match section {
            pb::Section::Os => &mut held.os,
            pb::Section::Hardware => &mut held.hardware,
            pb::Section::Software => &mut held.software,
            pb::Section::Patches => &mut held.patches,
            _ => continue,
        };
        // A hash of the wrong length counts as not held, like a body that does not
        // decode: the agent is asked for the section and its full report replaces the row.
        *slot = Hash::try_from(hash.as_slice()).ok();
        if slot.is_none() {
            warn!(
                host = %host_id,
                section = section.as_str_name(),
                len = hash.len(),
                "stored section hash has the wrong length; asking the agent for the section in full"
            );
        }
    }
    Ok(held)
}

/// Returns the decoded body of the section `host_id` holds under `hash`. A body that does
/// not decode clears `hash`: the section then counts as not held, so `Unchanged` asks for
/// it in full and a full section replaces it even when its hash equals the stored one.
/// Without this a host whose inventory never changes would keep a corrupt body forever.
async fn held_body<M: Message + Default>(
    conn: &mut SqliteConnection,
    host_id: &str,
    section: pb::Section,
    hash: &mut Option<Hash>,
) -> Result<Option<M>, Error> {
    if hash.is_none() {
        return Ok(None);
    }
    let body: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT body FROM sections WHERE host_id = $1 AND section = $2")
            .bind(host_id)
            .bind(section as i64)
            .fetch_optional(&mut *conn)
            .await?;
    let decoded = body.and_then(|b| decode_body(host_id, section, &b));
    if decoded.is_none() {
        *hash = None;
    }
    Ok(decoded)
}

/// Decodes a stored section body, None (logged) when it does not decode.
fn decode_body<M: Message + Default>(
    host_id: &str,
    section: pb::Section,
    body: &[u8],
) -> Option<M> {
    match M::decode(body) {
        Ok(m) => Some(m),
        Err(e) => {
            warn!(
                host = %host_id,
                section = section.as_str_name(),
                error = %e,
                "stored section does not decode; treating it as not held until the agent sends it in full"
            );
            None
        }
    }
}

async fn write_section<M: Message>(
    conn: &mut SqliteConnection,
    host_id: &str,
    section: pb::Section,
    hash: &Hash,
    body: &M,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO sections (host_id, section, hash, body, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (host_id, section) DO UPDATE \
         SET hash = excluded.hash, body = excluded.body, updated_at = excluded.updated_at",
    )
    .bind(host_id)
    .bind(section as i64)
    .bind(&hash[..])
    .bind(body.encode_to_vec())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Brings `host_software` from the rows of `old` to those of `new`. Without a decoded old
/// section (a full report) every row is rewritten, which also heals any drift.
async fn write_software_rows(
    conn: &mut SqliteConnection,
    host_id: &str,
    old: Option<&pb::Software>,
    new: &pb::Software,
) -> Result<(), Error> {
    let changes = match old {
        Some(old) => ingest::software_rows(Some(old), new),
        None => {
            sqlx::query("DELETE FROM host_software WHERE host_id = $1")
                .bind(host_id)
                .execute(&mut *conn)
                .await?;
            ingest::software_rows(None, new)
        }
    };
    for p in &changes.delete {
        sqlx::query(
            "DELETE FROM host_software \
             WHERE host_id = $1 AND name = $2 AND arch = $3 AND version = $4 AND source = $5",
        )
        .bind(host_id)
        .bind(&p.name)
        .bind(&p.arch)
        .bind(&p.version)
        .bind(&p.source)
        .execute(&mut *conn)
        .await?;
    }
    for chunk in changes.upsert.chunks(INSERT_CHUNK) {
        let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO host_software (host_id, name, version, arch, source, state) ",
        );
        insert.push_values(chunk, |mut row, p| {
            row.push_bind(host_id.to_owned())
                .push_bind(p.name.clone())
                .push_bind(p.version.clone())
                .push_bind(p.arch.clone())
                .push_bind(p.source.clone())
                .push_bind(p.state.clone());
        });
        insert.push(
            " ON CONFLICT (host_id, name, arch, version, source) DO UPDATE SET state = excluded.state",
        );
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Returns the id of a token row that may enrol a host at `now`, or why not.
fn token_usable(token: Option<(String, i64, i64)>, now: i64) -> Result<String, Error> {
    let Some((token_id, uses_left, expires_at)) = token else {
        return Err(Error::TokenUnknown);
    };
    if now >= expires_at {
        return Err(Error::TokenExpired { at: expires_at });
    }
    if uses_left <= 0 {
        return Err(Error::TokenUsedUp);
    }
    Ok(token_id)
}

#[cfg(test)]
mod tests;
