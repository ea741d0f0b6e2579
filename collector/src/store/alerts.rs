//! Alerts, their event history, and silences: the read queries admins ask, and the write
//! primitives the alert engine (`crate::pipeline::alerts`) uses inside a transaction. What
//! an alert's status may become, and when, is the engine's decision, never a backend's.

use std::fmt;
use std::str::FromStr;

use super::Error;

/// How urgent an alert is, lowest first (the order is meaningful).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The severity's name as configured, stored and printed ("high").
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity {s:?}; expected one of info, low, medium, high, critical")
            })
    }
}

/// Where an alert is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Open,
    Acknowledged,
    Resolved,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 3] = [Status::Open, Status::Acknowledged, Status::Resolved];

    /// The status's name as stored and printed ("acknowledged").
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown alert status {s:?}; expected open, acknowledged or resolved")
            })
    }
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A rule raised it for the first time.
    Opened,
    /// A rule raised it again after it had been resolved.
    Reopened,
    /// An admin acknowledged it.
    Acknowledged,
    /// Its condition cleared (actor "rule") or an admin resolved it.
    Resolved,
    /// A silence started to cover it.
    Silenced,
    /// No silence covers it any more.
    Unsilenced,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 6] = [
        EventKind::Opened,
        EventKind::Reopened,
        EventKind::Acknowledged,
        EventKind::Resolved,
        EventKind::Silenced,
        EventKind::Unsilenced,
    ];

    /// The kind's name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Reopened => "reopened",
            EventKind::Acknowledged => "acknowledged",
            EventKind::Resolved => "resolved",
            EventKind::Silenced => "silenced",
            EventKind::Unsilenced => "unsilenced",
        }
    }

    /// Parses a stored name; None for a name this build does not know.
    pub fn parse(s: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One alert: a rule's finding about one subject of one host, deduplicated by
/// fingerprint (rule, host, subject) for its whole life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Assigned by the store; ignored by [`AlertTx::insert_alert`].
    pub id: i64,
    pub fingerprint: String,
    pub rule: String,
    pub host_id: String,
    /// The host's current hostname (read side only; empty when written).
    pub hostname: String,
    pub subject: String,
    pub severity: Severity,
    pub status: Status,
    /// A silence covered the alert when it was last raised or when silences changed.
    pub silenced: bool,
    /// One line for people.
    pub summary: String,
    /// What the rule saw, for people (several lines at most).
    pub detail: String,
    pub first_seen: i64,
    pub last_seen: i64,
    /// How many times a rule raised it.
    pub count: i64,
    /// 0 unless resolved.
    pub resolved_at: i64,
    /// Why it was last resolved (the condition that cleared, or an admin's note).
    pub resolution: String,
}

/// One entry of an alert's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    /// Increasing across all alerts; assigned by the store. `WatchAlerts` resumes from it.
    pub id: i64,
    pub alert_id: i64,
    pub at: i64,
    pub kind: EventKind,
    /// "rule" for the engine, the admin's name otherwise.
    pub actor: String,
    pub note: String,
    /// The alert's status after the event.
    pub status: Status,
}

/// A maintenance window: alerts it matches are still recorded, marked silenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub id: String,
    /// Glob on the rule id ("posture.*"); "*" matches every rule.
    pub rule: String,
    /// Glob on the hostname or the host id, case-insensitive.
    pub host: String,
    /// Glob on the alert's subject.
    pub subject: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub comment: String,
    pub created_by: String,
    pub created_at: i64,
}

/// Which alerts [`AlertStore::list_alerts`] returns, newest first (by last seen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Empty means open and acknowledged.
    pub statuses: Vec<Status>,
    /// Empty means every severity.
    pub severities: Vec<Severity>,
    /// Host id, or glob on the hostname (case-insensitive).
    pub host: Option<String>,
    /// Glob on the rule id.
    pub rule: Option<String>,
    /// Only alerts last seen at or after this time.
    pub since: Option<i64>,
    /// 0 means the default page size; capped at the maximum.
    pub page_size: u32,
    pub page_token: Option<String>,
}

/// One page of alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPage {
    pub alerts: Vec<Alert>,
    pub next_page_token: Option<String>,
}

/// Read queries on alerts and silences.
#[async_trait::async_trait]
pub trait AlertStore: Send + Sync {
    /// Returns one page of alerts matching `filter`, ordered by (last_seen, id)
    /// descending.
    async fn list_alerts(&self, filter: &AlertFilter) -> Result<AlertPage, Error>;
    /// Returns an alert and its history (oldest first), None when unknown.
    async fn get_alert(&self, id: i64) -> Result<Option<(Alert, Vec<AlertEvent>)>, Error>;
    /// Returns up to `limit` events with an id above `after`, oldest first, each with its
    /// alert as it is now.
    async fn alert_events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(AlertEvent, Alert)>, Error>;
    /// Returns the id of the newest event, 0 when there is none.
    async fn last_alert_event(&self) -> Result<i64, Error>;
    /// Returns the silences that have not ended at `now` (all of them with `expired`),
    /// ordered by start.
    async fn list_silences(&self, now: i64, expired: bool) -> Result<Vec<Silence>, Error>;
}

/// The write primitives on alerts and silences, inside one transaction.
#[async_trait::async_trait]
pub trait AlertTx: Send {
    /// Returns the alert with this fingerprint, whatever its status.
    async fn alert_by_fingerprint(&mut self, fingerprint: &str) -> Result<Option<Alert>, Error>;
    /// Returns the alert with this id.
    async fn alert_by_id(&mut self, id: i64) -> Result<Option<Alert>, Error>;
    /// Returns the open and acknowledged alerts, of one host and one rule when given.
    async fn unresolved_alerts(
        &mut self,
        host_id: Option<&str>,
        rule: Option<&str>,
    ) -> Result<Vec<Alert>, Error>;
    /// Inserts an alert; returns its id.
    async fn insert_alert(&mut self, alert: &Alert) -> Result<i64, Error>;
    /// Writes every mutable column of an existing alert (by id).
    async fn update_alert(&mut self, alert: &Alert) -> Result<(), Error>;
    /// Appends an event; returns its id.
    async fn insert_event(&mut self, event: &AlertEvent) -> Result<i64, Error>;
    /// Returns the silences in force at `now`.
    async fn active_silences(&mut self, now: i64) -> Result<Vec<Silence>, Error>;
    /// Records a silence.
    async fn insert_silence(&mut self, silence: &Silence) -> Result<(), Error>;
    /// Returns the silence with this id.
    async fn silence(&mut self, id: &str) -> Result<Option<Silence>, Error>;
    /// Ends a silence at `now` (its end moves to `now`).
    async fn end_silence(&mut self, id: &str, now: i64) -> Result<(), Error>;
}
