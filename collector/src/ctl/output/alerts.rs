//! Alerts, their events and silences, for people and scripts. JSON keeps the contract of
//! `wardctl alerts --output json`: an array of objects with `id`, `rule`, `severity`,
//! `status`, `silenced`, `host_id`, `hostname`, `subject`, `summary`, `first_seen`,
//! `last_seen` (RFC 3339), `count`, and more.

use serde::Serialize;
use ward_proto::v1 as pb;

use super::{Error, Format, View, age, csv, finish, fit, json, pairs, printable, text, timestamp};

/// An alert as scripts read it.
#[derive(Debug, Serialize)]
pub struct AlertJson<'a> {
    pub id: i64,
    pub rule: &'a str,
    pub severity: &'a str,
    pub status: &'a str,
    pub silenced: bool,
    pub host_id: &'a str,
    pub hostname: &'a str,
    pub subject: &'a str,
    pub summary: &'a str,
    pub detail: &'a str,
    pub first_seen: String,
    pub last_seen: String,
    pub count: i64,
    /// Null unless resolved.
    pub resolved_at: Option<String>,
    pub resolution: &'a str,
    pub fingerprint: &'a str,
}

impl<'a> From<&'a pb::Alert> for AlertJson<'a> {
    fn from(a: &'a pb::Alert) -> Self {
        AlertJson {
            id: a.id,
            rule: &a.rule,
            severity: &a.severity,
            status: &a.status,
            silenced: a.silenced,
            host_id: &a.host_id,
            hostname: &a.hostname,
            subject: &a.subject,
            summary: &a.summary,
            detail: &a.detail,
            first_seen: timestamp(a.first_seen),
            last_seen: timestamp(a.last_seen),
            count: a.count,
            resolved_at: (a.resolved_at > 0).then(|| timestamp(a.resolved_at)),
            resolution: &a.resolution,
            fingerprint: &a.fingerprint,
        }
    }
}

/// An alert event as scripts read it.
#[derive(Debug, Serialize)]
pub struct EventJson<'a> {
    pub id: i64,
    pub alert_id: i64,
    pub at: String,
    pub kind: &'a str,
    pub actor: &'a str,
    pub note: &'a str,
    pub status: &'a str,
}

impl<'a> From<&'a pb::AlertEvent> for EventJson<'a> {
    fn from(e: &'a pb::AlertEvent) -> Self {
        EventJson {
            id: e.id,
            alert_id: e.alert_id,
            at: timestamp(e.at),
            kind: &e.kind,
            actor: &e.actor,
            note: &e.note,
            status: &e.status,
        }
    }
}

/// A silence as scripts read it.
#[derive(Debug, Serialize)]
pub struct SilenceJson<'a> {
    pub id: &'a str,
    pub rule: &'a str,
    pub host: &'a str,
    pub subject: &'a str,
    pub starts_at: String,
    pub ends_at: String,
    pub comment: &'a str,
    pub created_by: &'a str,
    pub created_at: String,
}

impl<'a> From<&'a pb::Silence> for SilenceJson<'a> {
    fn from(s: &'a pb::Silence) -> Self {
        SilenceJson {
            id: &s.id,
            rule: &s.rule,
            host: &s.host,
            subject: &s.subject,
            starts_at: timestamp(s.starts_at),
            ends_at: timestamp(s.ends_at),
            comment: &s.comment,
            created_by: &s.created_by,
            created_at: timestamp(s.created_at),
        }
    }
}

/// The CSV columns of an alert, in the order of [`AlertJson`].
const ALERT_COLUMNS: [&str; 16] = [
    "id",
    "rule",
    "severity",
    "status",
    "silenced",
    "host_id",
    "hostname",
    "subject",
    "summary",
    "detail",
    "first_seen",
    "last_seen",
    "count",
    "resolved_at",
    "resolution",
    "fingerprint",
];

fn alert_row(a: &pb::Alert) -> Vec<String> {
    let j = AlertJson::from(a);
    vec![
        j.id.to_string(),
        j.rule.to_owned(),
        j.severity.to_owned(),
        j.status.to_owned(),
        j.silenced.to_string(),
        j.host_id.to_owned(),
        j.hostname.to_owned(),
        j.subject.to_owned(),
        j.summary.to_owned(),
        j.detail.to_owned(),
        j.first_seen,
        j.last_seen,
        j.count.to_string(),
        j.resolved_at.unwrap_or_default(),
        j.resolution.to_owned(),
        j.fingerprint.to_owned(),
    ]
}

/// The status column: "open", "acknowledged", "resolved", with "(silenced)".
fn status(a: &pb::Alert) -> String {
    if a.silenced && a.status != "resolved" {
        format!("{} (silenced)", a.status)
    } else {
        a.status.clone()
    }
}

/// Renders `wardctl alerts`.
pub fn alerts(view: &View, alerts: &[pb::Alert]) -> Result<String, Error> {
    match view.format {
        Format::Json => json(&alerts.iter().map(AlertJson::from).collect::<Vec<_>>()),
        Format::Csv => csv(&ALERT_COLUMNS, alerts.iter().map(alert_row)),
        Format::Table => {
            if alerts.is_empty() {
                return Ok("no alerts match\n".into());
            }
            let mut table = view.table(&[
                "ID",
                "SEVERITY",
                "STATUS",
                "HOST",
                "RULE",
                "SUMMARY",
                "LAST SEEN",
                "COUNT",
            ]);
            for a in alerts {
                table.add_row(vec![
                    text(&a.id.to_string()),
                    text(&a.severity),
                    text(&status(a)),
                    text(&a.hostname),
                    text(&a.rule),
                    text(&a.summary),
                    text(&age(a.last_seen, view.now)),
                    text(&a.count.to_string()),
                ]);
            }
            fit(&mut table, &[5]);
            Ok(finish(&table))
        }
    }
}

/// Renders `wardctl alert ID`: the alert and its history.
pub fn alert(view: &View, answer: &pb::GetAlertResponse) -> Result<String, Error> {
    let a = answer.alert.clone().unwrap_or_default();
    match view.format {
        Format::Json => {
            #[derive(Serialize)]
            struct Detail<'a> {
                alert: AlertJson<'a>,
                events: Vec<EventJson<'a>>,
            }
            json(&Detail {
                alert: AlertJson::from(&a),
                events: answer.events.iter().map(EventJson::from).collect(),
            })
        }
        Format::Csv => csv(
            &["event_id", "at", "kind", "actor", "note", "status"],
            answer.events.iter().map(|e| {
                let j = EventJson::from(e);
                vec![
                    j.id.to_string(),
                    j.at,
                    j.kind.to_owned(),
                    j.actor.to_owned(),
                    j.note.to_owned(),
                    j.status.to_owned(),
                ]
            }),
        ),
        Format::Table => {
            let mut out = overview(view, &a);
            out.push_str("\n\nHistory\n");
            let mut table = view.table(&["EVENT", "AT", "KIND", "BY", "NOTE"]);
            for e in &answer.events {
                table.add_row(vec![
                    text(&e.id.to_string()),
                    text(&timestamp(e.at)),
                    text(&e.kind),
                    text(&e.actor),
                    text(&e.note),
                ]);
            }
            fit(&mut table, &[4]);
            out.push_str(&finish(&table));
            Ok(out)
        }
    }
}

/// Renders the answer of `alert ack|resolve`: the alert as it is now.
pub fn changed(view: &View, verb: &str, a: &pb::Alert) -> Result<String, Error> {
    match view.format {
        Format::Json => json(&AlertJson::from(a)),
        Format::Csv => csv(&ALERT_COLUMNS, [alert_row(a)]),
        Format::Table => Ok(format!("alert {} {verb}\n\n{}\n", a.id, overview(view, a))),
    }
}

fn overview(view: &View, a: &pb::Alert) -> String {
    let mut rows = vec![
        ("id", a.id.to_string()),
        ("rule", a.rule.clone()),
        ("severity", a.severity.clone()),
        ("status", status(a)),
        ("host", format!("{} ({})", a.hostname, a.host_id)),
        (
            "subject",
            if a.subject.is_empty() {
                "-".into()
            } else {
                a.subject.clone()
            },
        ),
        ("summary", a.summary.clone()),
        ("detail", a.detail.clone()),
        (
            "first seen",
            format!(
                "{} ({})",
                timestamp(a.first_seen),
                age(a.first_seen, view.now)
            ),
        ),
        (
            "last seen",
            format!(
                "{} ({})",
                timestamp(a.last_seen),
                age(a.last_seen, view.now)
            ),
        ),
        ("count", a.count.to_string()),
    ];
    if a.resolved_at > 0 {
        rows.push((
            "resolved",
            format!("{} ({})", timestamp(a.resolved_at), a.resolution),
        ));
    }
    pairs(view, &rows)
}

/// Renders one streamed event of `wardctl alerts watch`: a line per event, JSON lines for
/// scripts (each with the event id to resume after).
pub fn event(view: &View, item: &pb::WatchAlertsResponse) -> Result<String, Error> {
    let e = item.event.clone().unwrap_or_default();
    let a = item.alert.clone().unwrap_or_default();
    match view.format {
        Format::Json => {
            #[derive(Serialize)]
            struct Line<'a> {
                event: EventJson<'a>,
                alert: AlertJson<'a>,
            }
            Ok(serde_json::to_string(&Line {
                event: EventJson::from(&e),
                alert: AlertJson::from(&a),
            })? + "\n")
        }
        Format::Csv => csv(
            &[
                "event_id", "at", "kind", "actor", "alert_id", "severity", "rule", "hostname",
                "subject", "summary",
            ],
            [vec![
                e.id.to_string(),
                timestamp(e.at),
                e.kind.clone(),
                e.actor.clone(),
                a.id.to_string(),
                a.severity.clone(),
                a.rule.clone(),
                a.hostname.clone(),
                a.subject.clone(),
                a.summary.clone(),
            ]],
        )
        .map(|text| text.lines().skip(1).map(|l| format!("{l}\n")).collect()),
        Format::Table => Ok(format!(
            "[{}] event {} alert {} {} {} {} on {}: {}{}\n",
            timestamp(e.at),
            e.id,
            a.id,
            printable(&e.kind),
            printable(&a.severity),
            printable(&a.rule),
            printable(&a.hostname),
            printable(&a.summary),
            if e.note.is_empty() || e.note == a.summary {
                String::new()
            } else {
                format!(" ({})", printable(&e.note))
            }
        )),
    }
}

/// Renders `wardctl silence list`.
pub fn silences(view: &View, silences: &[pb::Silence]) -> Result<String, Error> {
    match view.format {
        Format::Json => json(&silences.iter().map(SilenceJson::from).collect::<Vec<_>>()),
        Format::Csv => csv(
            &[
                "id",
                "rule",
                "host",
                "subject",
                "starts_at",
                "ends_at",
                "comment",
                "created_by",
                "created_at",
            ],
            silences.iter().map(|s| {
                let j = SilenceJson::from(s);
                vec![
                    j.id.to_owned(),
                    j.rule.to_owned(),
                    j.host.to_owned(),
                    j.subject.to_owned(),
                    j.starts_at,
                    j.ends_at,
                    j.comment.to_owned(),
                    j.created_by.to_owned(),
                    j.created_at,
                ]
            }),
        ),
        Format::Table => {
            if silences.is_empty() {
                return Ok("no silences\n".into());
            }
            let mut table = view.table(&[
                "ID", "RULE", "HOST", "SUBJECT", "STARTS", "ENDS", "BY", "COMMENT",
            ]);
            for s in silences {
                table.add_row(vec![
                    text(&s.id),
                    text(&s.rule),
                    text(&s.host),
                    text(&s.subject),
                    text(&timestamp(s.starts_at)),
                    text(&format!(
                        "{} ({})",
                        timestamp(s.ends_at),
                        age(s.ends_at, view.now)
                    )),
                    text(&s.created_by),
                    text(&s.comment),
                ]);
            }
            fit(&mut table, &[7]);
            Ok(finish(&table))
        }
    }
}

/// Renders a created silence.
pub fn silence(view: &View, s: &pb::Silence) -> Result<String, Error> {
    match view.format {
        Format::Json => json(&SilenceJson::from(s)),
        Format::Csv | Format::Table => silences(view, std::slice::from_ref(s)),
    }
}
