//! Hosts and sections on SQLite: the read queries and the write primitives.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use ward_proto::digest::Hash;
use ward_proto::v1 as pb;

use super::{SqliteStore, SqliteTx, resolve_host};
use crate::store::decode_body;
use crate::store::hosts::{OsColumns, PatchFacts};
use crate::store::{
    Error, HostDetail, HostFilter, HostPage, HostRecord, HostStatus, HostStore, HostTx,
    PatchFilter, PatchList, glob, page_token, section_from_i64,
};

/// Rows per multi-row INSERT: 6 binds each stays far below SQLite's variable limit.
const INSERT_CHUNK: usize = 500;

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

#[async_trait::async_trait]
impl HostStore for SqliteStore {
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

    async fn list_hosts(&self, filter: &HostFilter, now: i64) -> Result<HostPage, Error> {
        let page_size = match filter.page_size {
            0 => crate::store::DEFAULT_PAGE_SIZE,
            n => n.min(crate::store::MAX_PAGE_SIZE),
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
            posture: None,
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
                Some(s @ pb::Section::Posture) => {
                    detail.posture = decode_body(&host_id, s, &body);
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

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: String,
    hostname: String,
    machine_id: String,
    last_sequence: i64,
    last_seen: i64,
    cert_serial: String,
    cert_not_after: i64,
    revoked: bool,
}

impl From<RecordRow> for HostRecord {
    fn from(r: RecordRow) -> Self {
        HostRecord {
            id: r.id,
            hostname: r.hostname,
            machine_id: r.machine_id,
            last_sequence: r.last_sequence,
            last_seen: r.last_seen,
            cert_serial: r.cert_serial,
            cert_not_after: r.cert_not_after,
            revoked: r.revoked,
        }
    }
}

macro_rules! record_columns {
    () => {
        "id, hostname, machine_id, last_sequence, last_seen, cert_serial, \
     cert_not_after, revoked"
    };
}

#[async_trait::async_trait]
impl HostTx for SqliteTx {
    async fn host(&mut self, host_id: &str) -> Result<Option<HostRecord>, Error> {
        let row: Option<RecordRow> = sqlx::query_as(concat!(
            "SELECT ",
            record_columns!(),
            " FROM hosts WHERE id = $1"
        ))
        .bind(host_id)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.map(HostRecord::from))
    }

    async fn hosts(&mut self) -> Result<Vec<HostRecord>, Error> {
        let rows: Vec<RecordRow> = sqlx::query_as(concat!(
            "SELECT ",
            record_columns!(),
            " FROM hosts ORDER BY id"
        ))
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(HostRecord::from).collect())
    }

    async fn section_hashes(&mut self, host_id: &str) -> Result<Vec<(i64, Vec<u8>)>, Error> {
        Ok(
            sqlx::query_as("SELECT section, hash FROM sections WHERE host_id = $1")
                .bind(host_id)
                .fetch_all(self.conn())
                .await?,
        )
    }

    async fn section_body(
        &mut self,
        host_id: &str,
        section: pb::Section,
    ) -> Result<Option<Vec<u8>>, Error> {
        Ok(
            sqlx::query_scalar("SELECT body FROM sections WHERE host_id = $1 AND section = $2")
                .bind(host_id)
                .bind(section as i64)
                .fetch_optional(self.conn())
                .await?,
        )
    }

    async fn put_section(
        &mut self,
        host_id: &str,
        section: pb::Section,
        hash: &Hash,
        body: &[u8],
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
        .bind(body)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_os_columns(&mut self, host_id: &str, os: &OsColumns<'_>) -> Result<(), Error> {
        sqlx::query(
            "UPDATE hosts SET hostname = COALESCE(NULLIF($2, ''), hostname), os_id = $3, \
             os_pretty_name = $4, kernel_release = $5, architecture = $6, machine_id = $7 \
             WHERE id = $1",
        )
        .bind(host_id)
        .bind(os.hostname)
        .bind(os.os_id)
        .bind(os.os_pretty_name)
        .bind(os.kernel_release)
        .bind(os.architecture)
        .bind(os.machine_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_hardware_columns(
        &mut self,
        host_id: &str,
        memory_bytes: u64,
        logical_cores: u32,
    ) -> Result<(), Error> {
        sqlx::query("UPDATE hosts SET memory_bytes = $2, logical_cores = $3 WHERE id = $1")
            .bind(host_id)
            .bind(i64::try_from(memory_bytes).unwrap_or(i64::MAX))
            .bind(i64::from(logical_cores))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn clear_software_rows(&mut self, host_id: &str) -> Result<(), Error> {
        sqlx::query("DELETE FROM host_software WHERE host_id = $1")
            .bind(host_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn delete_software_rows(
        &mut self,
        host_id: &str,
        packages: &[&pb::Package],
    ) -> Result<(), Error> {
        for p in packages {
            sqlx::query(
                "DELETE FROM host_software \
                 WHERE host_id = $1 AND name = $2 AND arch = $3 AND version = $4 AND source = $5",
            )
            .bind(host_id)
            .bind(&p.name)
            .bind(&p.arch)
            .bind(&p.version)
            .bind(&p.source)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    async fn upsert_software_rows(
        &mut self,
        host_id: &str,
        packages: &[&pb::Package],
    ) -> Result<(), Error> {
        for chunk in packages.chunks(INSERT_CHUNK) {
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
            insert.build().execute(self.conn()).await?;
        }
        Ok(())
    }

    async fn set_software_count(&mut self, host_id: &str, installed: u32) -> Result<(), Error> {
        sqlx::query("UPDATE hosts SET software_count = $2 WHERE id = $1")
            .bind(host_id)
            .bind(i64::from(installed))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn put_patch_facts(
        &mut self,
        host_id: &str,
        facts: &PatchFacts,
        now: i64,
    ) -> Result<(), Error> {
        write_patch_facts(self.conn(), host_id, facts, now).await
    }

    async fn touch_patch_facts(&mut self, host_id: &str, now: i64) -> Result<(), Error> {
        sqlx::query("UPDATE host_patches SET reported_at = $2 WHERE host_id = $1")
            .bind(host_id)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn patch_summaries(&mut self) -> Result<Vec<pb::HostPatchSummary>, Error> {
        let rows: Vec<PatchRow> = sqlx::query_as(concat!(
            "SELECT ",
            patch_columns!(),
            " FROM hosts h JOIN host_patches p ON p.host_id = h.id ORDER BY h.id"
        ))
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(PatchRow::into_summary).collect())
    }

    async fn finish_report(
        &mut self,
        host_id: &str,
        sequence: i64,
        agent_version: &str,
        now: i64,
    ) -> Result<(), Error> {
        sqlx::query(
            "UPDATE hosts SET last_sequence = $2, last_report = $3, last_seen = $3, \
             agent_version = COALESCE(NULLIF($4, ''), agent_version) WHERE id = $1",
        )
        .bind(host_id)
        .bind(sequence)
        .bind(now)
        .bind(agent_version)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn touch_host(
        &mut self,
        host_id: &str,
        agent_version: &str,
        now: i64,
    ) -> Result<bool, Error> {
        let updated = sqlx::query(
            "UPDATE hosts SET last_seen = $2, agent_version = COALESCE(NULLIF($3, ''), agent_version) \
             WHERE id = $1",
        )
        .bind(host_id)
        .bind(now)
        .bind(agent_version)
        .execute(self.conn())
        .await?;
        Ok(updated.rows_affected() > 0)
    }
}

/// Writes a host's patch summary (the row follows the patches section it summarises).
async fn write_patch_facts(
    conn: &mut SqliteConnection,
    host_id: &str,
    f: &PatchFacts,
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
