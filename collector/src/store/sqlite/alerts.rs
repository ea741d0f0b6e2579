//! Alerts, alert events and silences on SQLite.

use sqlx::{QueryBuilder, Sqlite};

use super::{SqliteStore, SqliteTx};
use crate::store::alerts::{
    Alert, AlertEvent, AlertFilter, AlertPage, EventKind, Severity, Silence, Status,
};
use crate::store::{AlertStore, AlertTx, Error, glob, page_token};

/// Default number of alerts per page when a request asks for 0.
const DEFAULT_PAGE: u32 = 100;
/// Largest number of alerts one page holds.
const MAX_PAGE: u32 = 1000;

/// Columns of [`AlertRow`]; `a` is the alerts table, `h` the hosts table.
macro_rules! alert_columns {
    () => {
        "a.id, a.fingerprint, a.rule, a.host_id, COALESCE(h.hostname, '') AS hostname, \
     a.subject, a.severity, a.status, a.silenced, a.summary, a.detail, a.first_seen, a.last_seen, \
     a.count, a.resolved_at, a.resolution"
    };
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    fingerprint: String,
    rule: String,
    host_id: String,
    hostname: String,
    subject: String,
    severity: String,
    status: String,
    silenced: bool,
    summary: String,
    detail: String,
    first_seen: i64,
    last_seen: i64,
    count: i64,
    resolved_at: i64,
    resolution: String,
}

impl AlertRow {
    fn into_alert(self) -> Result<Alert, Error> {
        Ok(Alert {
            severity: self
                .severity
                .parse::<Severity>()
                .map_err(|m| Error::Corrupt(format!("alert {}: {m}", self.id)))?,
            status: self
                .status
                .parse::<Status>()
                .map_err(|m| Error::Corrupt(format!("alert {}: {m}", self.id)))?,
            id: self.id,
            fingerprint: self.fingerprint,
            rule: self.rule,
            host_id: self.host_id,
            hostname: self.hostname,
            subject: self.subject,
            silenced: self.silenced,
            summary: self.summary,
            detail: self.detail,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            count: self.count,
            resolved_at: self.resolved_at,
            resolution: self.resolution,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    alert_id: i64,
    at: i64,
    kind: String,
    actor: String,
    note: String,
    status: String,
}

impl EventRow {
    fn into_event(self) -> Result<AlertEvent, Error> {
        Ok(AlertEvent {
            kind: EventKind::parse(&self.kind).ok_or_else(|| {
                Error::Corrupt(format!("alert event {}: kind {:?}", self.id, self.kind))
            })?,
            status: self
                .status
                .parse::<Status>()
                .map_err(|m| Error::Corrupt(format!("alert event {}: {m}", self.id)))?,
            id: self.id,
            alert_id: self.alert_id,
            at: self.at,
            actor: self.actor,
            note: self.note,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SilenceRow {
    id: String,
    rule: String,
    host: String,
    subject: String,
    starts_at: i64,
    ends_at: i64,
    comment: String,
    created_by: String,
    created_at: i64,
}

impl From<SilenceRow> for Silence {
    fn from(r: SilenceRow) -> Self {
        Silence {
            id: r.id,
            rule: r.rule,
            host: r.host,
            subject: r.subject,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            comment: r.comment,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

macro_rules! silence_columns {
    () => {
        "id, rule, host, subject, starts_at, ends_at, comment, created_by, created_at"
    };
}

#[async_trait::async_trait]
impl AlertStore for SqliteStore {
    async fn list_alerts(&self, filter: &AlertFilter) -> Result<AlertPage, Error> {
        let page_size = match filter.page_size {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let after = match filter.page_token.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => {
                let a = page_token::decode(t)?;
                let last_seen: i64 = a.hostname.parse().map_err(|_| Error::InvalidPageToken)?;
                let id: i64 = a.id.parse().map_err(|_| Error::InvalidPageToken)?;
                Some((last_seen, id))
            }
            None => None,
        };
        let statuses: Vec<Status> = if filter.statuses.is_empty() {
            vec![Status::Open, Status::Acknowledged]
        } else {
            filter.statuses.clone()
        };
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts a LEFT JOIN hosts h ON h.id = a.host_id WHERE a.status IN ("
        ));
        let mut list = q.separated(", ");
        for s in &statuses {
            list.push_bind(s.as_str());
        }
        q.push(")");
        if !filter.severities.is_empty() {
            q.push(" AND a.severity IN (");
            let mut list = q.separated(", ");
            for s in &filter.severities {
                list.push_bind(s.as_str());
            }
            q.push(")");
        }
        if let Some(host) = filter.host.as_deref().filter(|h| !h.is_empty()) {
            q.push(" AND (a.host_id = ")
                .push_bind(host.to_owned())
                .push(r" OR LOWER(h.hostname) LIKE LOWER(")
                .push_bind(glob::to_like(host))
                .push(r") ESCAPE '\')");
        }
        if let Some(rule) = filter.rule.as_deref().filter(|r| !r.is_empty()) {
            q.push(r" AND a.rule LIKE ")
                .push_bind(glob::to_like(rule))
                .push(r" ESCAPE '\'");
        }
        if let Some(since) = filter.since {
            q.push(" AND a.last_seen >= ").push_bind(since);
        }
        if let Some((last_seen, id)) = after {
            q.push(" AND (a.last_seen < ")
                .push_bind(last_seen)
                .push(" OR (a.last_seen = ")
                .push_bind(last_seen)
                .push(" AND a.id < ")
                .push_bind(id)
                .push("))");
        }
        q.push(" ORDER BY a.last_seen DESC, a.id DESC LIMIT ")
            .push_bind(i64::from(page_size) + 1);
        let rows: Vec<AlertRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let mut alerts = Vec::with_capacity(rows.len());
        for row in rows {
            let alert = row.into_alert()?;
            // LIKE ignores ASCII case only; the glob decides (rules are case-sensitive).
            if let Some(rule) = filter.rule.as_deref().filter(|r| !r.is_empty())
                && !glob::matches(rule, &alert.rule)
            {
                continue;
            }
            alerts.push(alert);
        }
        let page_len = usize::try_from(page_size).unwrap_or(usize::MAX);
        let next_page_token = if alerts.len() > page_len {
            alerts.truncate(page_len);
            alerts
                .last()
                .map(|a| page_token::encode(&a.last_seen.to_string(), &a.id.to_string()))
        } else {
            None
        };
        Ok(AlertPage {
            alerts,
            next_page_token,
        })
    }

    async fn get_alert(&self, id: i64) -> Result<Option<(Alert, Vec<AlertEvent>)>, Error> {
        let mut tx = self.pool.begin().await?;
        let row: Option<AlertRow> = sqlx::query_as(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts a LEFT JOIN hosts h ON h.id = a.host_id WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let events: Vec<EventRow> = sqlx::query_as(
            "SELECT id, alert_id, at, kind, actor, note, status FROM alert_events \
             WHERE alert_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let events = events
            .into_iter()
            .map(EventRow::into_event)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((row.into_alert()?, events)))
    }

    async fn alert_events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(AlertEvent, Alert)>, Error> {
        #[derive(sqlx::FromRow)]
        struct Joined {
            #[sqlx(flatten)]
            alert: AlertRow,
            event_id: i64,
            event_at: i64,
            event_kind: String,
            event_actor: String,
            event_note: String,
            event_status: String,
        }
        let rows: Vec<Joined> = sqlx::query_as(concat!(
            "SELECT ",
            alert_columns!(),
            ", e.id AS event_id, e.at AS event_at, e.kind AS event_kind, \
             e.actor AS event_actor, e.note AS event_note, e.status AS event_status \
             FROM alert_events e JOIN alerts a ON a.id = e.alert_id \
             LEFT JOIN hosts h ON h.id = a.host_id \
             WHERE e.id > $1 ORDER BY e.id LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let event = EventRow {
                    id: r.event_id,
                    alert_id: r.alert.id,
                    at: r.event_at,
                    kind: r.event_kind,
                    actor: r.event_actor,
                    note: r.event_note,
                    status: r.event_status,
                }
                .into_event()?;
                Ok((event, r.alert.into_alert()?))
            })
            .collect()
    }

    async fn last_alert_event(&self) -> Result<i64, Error> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM alert_events")
            .fetch_one(&self.pool)
            .await?;
        Ok(id.unwrap_or(0))
    }

    async fn list_silences(&self, now: i64, expired: bool) -> Result<Vec<Silence>, Error> {
        let rows: Vec<SilenceRow> = sqlx::query_as(concat!(
            "SELECT ",
            silence_columns!(),
            " FROM silences WHERE $1 OR ends_at > $2 \
             ORDER BY starts_at, id"
        ))
        .bind(expired)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Silence::from).collect())
    }
}

#[async_trait::async_trait]
impl AlertTx for SqliteTx {
    async fn alert_by_fingerprint(&mut self, fingerprint: &str) -> Result<Option<Alert>, Error> {
        let row: Option<AlertRow> = sqlx::query_as(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts a LEFT JOIN hosts h ON h.id = a.host_id \
             WHERE a.fingerprint = $1"
        ))
        .bind(fingerprint)
        .fetch_optional(self.conn())
        .await?;
        row.map(AlertRow::into_alert).transpose()
    }

    async fn alert_by_id(&mut self, id: i64) -> Result<Option<Alert>, Error> {
        let row: Option<AlertRow> = sqlx::query_as(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts a LEFT JOIN hosts h ON h.id = a.host_id WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        row.map(AlertRow::into_alert).transpose()
    }

    async fn unresolved_alerts(
        &mut self,
        host_id: Option<&str>,
        rule: Option<&str>,
    ) -> Result<Vec<Alert>, Error> {
        let rows: Vec<AlertRow> = sqlx::query_as(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts a LEFT JOIN hosts h ON h.id = a.host_id \
             WHERE a.status <> 'resolved' AND ($1 IS NULL OR a.host_id = $1) \
             AND ($2 IS NULL OR a.rule = $2) ORDER BY a.id"
        ))
        .bind(host_id)
        .bind(rule)
        .fetch_all(self.conn())
        .await?;
        rows.into_iter().map(AlertRow::into_alert).collect()
    }

    async fn insert_alert(&mut self, a: &Alert) -> Result<i64, Error> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO alerts (fingerprint, rule, host_id, subject, severity, status, silenced, \
             summary, detail, first_seen, last_seen, count, resolved_at, resolution) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(&a.fingerprint)
        .bind(&a.rule)
        .bind(&a.host_id)
        .bind(&a.subject)
        .bind(a.severity.as_str())
        .bind(a.status.as_str())
        .bind(a.silenced)
        .bind(&a.summary)
        .bind(&a.detail)
        .bind(a.first_seen)
        .bind(a.last_seen)
        .bind(a.count)
        .bind(a.resolved_at)
        .bind(&a.resolution)
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    async fn update_alert(&mut self, a: &Alert) -> Result<(), Error> {
        sqlx::query(
            "UPDATE alerts SET severity = $2, status = $3, silenced = $4, summary = $5, \
             detail = $6, last_seen = $7, count = $8, resolved_at = $9, resolution = $10 \
             WHERE id = $1",
        )
        .bind(a.id)
        .bind(a.severity.as_str())
        .bind(a.status.as_str())
        .bind(a.silenced)
        .bind(&a.summary)
        .bind(&a.detail)
        .bind(a.last_seen)
        .bind(a.count)
        .bind(a.resolved_at)
        .bind(&a.resolution)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn insert_event(&mut self, e: &AlertEvent) -> Result<i64, Error> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO alert_events (alert_id, at, kind, actor, note, status) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(e.alert_id)
        .bind(e.at)
        .bind(e.kind.as_str())
        .bind(&e.actor)
        .bind(&e.note)
        .bind(e.status.as_str())
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    async fn active_silences(&mut self, now: i64) -> Result<Vec<Silence>, Error> {
        let rows: Vec<SilenceRow> = sqlx::query_as(concat!(
            "SELECT ",
            silence_columns!(),
            " FROM silences WHERE starts_at <= $1 AND ends_at > $1 \
             ORDER BY starts_at, id"
        ))
        .bind(now)
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(Silence::from).collect())
    }

    async fn insert_silence(&mut self, s: &Silence) -> Result<(), Error> {
        sqlx::query(concat!(
            "INSERT INTO silences (",
            silence_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&s.id)
        .bind(&s.rule)
        .bind(&s.host)
        .bind(&s.subject)
        .bind(s.starts_at)
        .bind(s.ends_at)
        .bind(&s.comment)
        .bind(&s.created_by)
        .bind(s.created_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn silence(&mut self, id: &str) -> Result<Option<Silence>, Error> {
        let row: Option<SilenceRow> = sqlx::query_as(concat!(
            "SELECT ",
            silence_columns!(),
            " FROM silences WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.map(Silence::from))
    }

    async fn end_silence(&mut self, id: &str, now: i64) -> Result<(), Error> {
        sqlx::query("UPDATE silences SET ends_at = MIN(ends_at, $2) WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
