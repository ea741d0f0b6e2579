//! The alert engine: turns rule verdicts into alerts inside the caller's transaction, and
//! carries out admins' actions on alerts and silences.
//!
//! - Dedup by fingerprint (rule, host, subject): raising an unresolved alert again counts
//!   a repeat (count and last seen), never a second alert.
//! - Lifecycle open → acknowledged → resolved. A rule resolves an alert when its condition
//!   clears, with the reason; a resolved alert whose condition returns is reopened, the
//!   same alert with its history.
//! - Silences mark the alerts they match as silenced; they are still recorded.
//! - Every change appends an event; `WatchAlerts` streams events in id order.

use std::collections::{HashMap, HashSet};

use crate::rules::{Settings, Verdict, fingerprint};
use crate::store::alerts::{Alert, AlertEvent, EventKind, Silence, Status};
use crate::store::{self, Tx, glob};

/// The actor of the engine's own events.
pub const RULE_ACTOR: &str = "rule";

/// The unresolved alerts an evaluation may touch, by fingerprint and by (rule, host).
#[derive(Debug, Default)]
pub struct Unresolved {
    by_fingerprint: HashMap<String, Alert>,
    by_rule_host: HashMap<(String, String), HashSet<String>>,
}

impl Unresolved {
    /// Indexes alerts read with [`store::AlertTx::unresolved_alerts`].
    pub fn new(alerts: Vec<Alert>) -> Self {
        let mut u = Unresolved::default();
        for a in alerts {
            u.insert(a);
        }
        u
    }

    fn insert(&mut self, a: Alert) {
        self.by_rule_host
            .entry((a.rule.clone(), a.host_id.clone()))
            .or_default()
            .insert(a.fingerprint.clone());
        self.by_fingerprint.insert(a.fingerprint.clone(), a);
    }

    fn remove(&mut self, fp: &str) -> Option<Alert> {
        let a = self.by_fingerprint.remove(fp)?;
        if let Some(set) = self
            .by_rule_host
            .get_mut(&(a.rule.clone(), a.host_id.clone()))
        {
            set.remove(fp);
        }
        Some(a)
    }

    fn of(&self, rule: &str, host_id: &str) -> Vec<String> {
        self.by_rule_host
            .get(&(rule.to_owned(), host_id.to_owned()))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// One evaluation's engine: the rules' settings, the time, the silences in force (read
/// once, when first needed) and the number of events written.
pub struct Engine<'a> {
    settings: &'a Settings,
    now: i64,
    silences: Option<Vec<Silence>>,
    /// Events written so far.
    pub events: u32,
}

impl<'a> Engine<'a> {
    /// An engine evaluating at `now`.
    pub fn new(settings: &'a Settings, now: i64) -> Self {
        Self {
            settings,
            now,
            silences: None,
            events: 0,
        }
    }

    /// Applies rule verdicts. `hostname` names each host (for settings' host globs,
    /// silences and summaries).
    pub async fn apply(
        &mut self,
        tx: &mut dyn Tx,
        verdicts: Vec<Verdict>,
        unresolved: &mut Unresolved,
        hostname: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<(), store::Error> {
        for v in verdicts {
            if v.is_empty() {
                continue;
            }
            let settings = self.settings.get(v.rule);
            let name = hostname(&v.host_id);
            if !settings.covers(&name) {
                continue;
            }
            let rule = v.rule.id();
            let mut raised = HashSet::new();
            for f in v.raise {
                if settings.ignores(&f.subject) {
                    continue;
                }
                let fp = fingerprint(rule, &v.host_id, &f.subject);
                raised.insert(fp.clone());
                let silenced = self
                    .silenced(tx, rule, &v.host_id, &name, &f.subject)
                    .await?;
                if let Some(mut a) = unresolved.remove(&fp) {
                    let was_silenced = a.silenced;
                    a.silenced = silenced;
                    if f.repeat {
                        a.count = a.count.saturating_add(1);
                        a.last_seen = self.now;
                        a.summary = f.summary;
                        a.detail = f.detail;
                        a.severity = settings.severity;
                    }
                    if f.repeat || was_silenced != silenced {
                        tx.update_alert(&a).await?;
                    }
                    if was_silenced != silenced {
                        self.event(tx, &a, silence_kind(silenced), RULE_ACTOR, "")
                            .await?;
                    }
                    unresolved.insert(a);
                    continue;
                }
                match tx.alert_by_fingerprint(&fp).await? {
                    Some(mut a) => {
                        // Resolved before: the condition returned.
                        a.status = Status::Open;
                        a.count = a.count.saturating_add(1);
                        a.last_seen = self.now;
                        a.resolved_at = 0;
                        a.resolution = String::new();
                        a.summary = f.summary;
                        a.detail = f.detail;
                        a.severity = settings.severity;
                        a.silenced = silenced;
                        tx.update_alert(&a).await?;
                        let note = a.summary.clone();
                        self.event(tx, &a, EventKind::Reopened, RULE_ACTOR, &note)
                            .await?;
                        unresolved.insert(a);
                    }
                    None => {
                        let mut a = Alert {
                            id: 0,
                            fingerprint: fp,
                            rule: rule.to_owned(),
                            host_id: v.host_id.clone(),
                            hostname: name.clone(),
                            subject: f.subject,
                            severity: settings.severity,
                            status: Status::Open,
                            silenced,
                            summary: f.summary,
                            detail: f.detail,
                            first_seen: self.now,
                            last_seen: self.now,
                            count: 1,
                            resolved_at: 0,
                            resolution: String::new(),
                        };
                        a.id = tx.insert_alert(&a).await?;
                        let note = a.summary.clone();
                        self.event(tx, &a, EventKind::Opened, RULE_ACTOR, &note)
                            .await?;
                        unresolved.insert(a);
                    }
                }
            }
            for (subject, reason) in v.clear {
                let fp = fingerprint(rule, &v.host_id, &subject);
                if raised.contains(&fp) {
                    continue;
                }
                if let Some(a) = unresolved.remove(&fp) {
                    self.resolve(tx, a, RULE_ACTOR, &reason).await?;
                }
            }
            if let Some(reason) = v.clear_others {
                for fp in unresolved.of(rule, &v.host_id) {
                    if raised.contains(&fp) {
                        continue;
                    }
                    if let Some(a) = unresolved.remove(&fp) {
                        self.resolve(tx, a, RULE_ACTOR, &reason).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Resolves an alert with why.
    pub async fn resolve(
        &mut self,
        tx: &mut dyn Tx,
        mut a: Alert,
        actor: &str,
        reason: &str,
    ) -> Result<Alert, store::Error> {
        a.status = Status::Resolved;
        a.resolved_at = self.now;
        a.resolution = reason.to_owned();
        tx.update_alert(&a).await?;
        self.event(tx, &a, EventKind::Resolved, actor, reason)
            .await?;
        Ok(a)
    }

    /// Acknowledges an open alert.
    pub async fn acknowledge(
        &mut self,
        tx: &mut dyn Tx,
        mut a: Alert,
        actor: &str,
        note: &str,
    ) -> Result<Alert, store::Error> {
        a.status = Status::Acknowledged;
        tx.update_alert(&a).await?;
        self.event(tx, &a, EventKind::Acknowledged, actor, note)
            .await?;
        Ok(a)
    }

    /// Brings the silenced mark of unresolved alerts in line with the silences in force,
    /// with an event for each alert that changes.
    pub async fn refresh_silences(
        &mut self,
        tx: &mut dyn Tx,
        alerts: Vec<Alert>,
        actor: &str,
    ) -> Result<(), store::Error> {
        for mut a in alerts {
            let silenced = self
                .silenced(tx, &a.rule, &a.host_id, &a.hostname, &a.subject)
                .await?;
            if silenced != a.silenced {
                a.silenced = silenced;
                tx.update_alert(&a).await?;
                self.event(tx, &a, silence_kind(silenced), actor, "")
                    .await?;
            }
        }
        Ok(())
    }

    /// Forgets the silences read, so that the next check reads them again.
    pub fn reload_silences(&mut self) {
        self.silences = None;
    }

    async fn silenced(
        &mut self,
        tx: &mut dyn Tx,
        rule: &str,
        host_id: &str,
        hostname: &str,
        subject: &str,
    ) -> Result<bool, store::Error> {
        if self.silences.is_none() {
            self.silences = Some(tx.active_silences(self.now).await?);
        }
        Ok(self
            .silences
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|s| silence_matches(s, rule, host_id, hostname, subject)))
    }

    async fn event(
        &mut self,
        tx: &mut dyn Tx,
        a: &Alert,
        kind: EventKind,
        actor: &str,
        note: &str,
    ) -> Result<(), store::Error> {
        tx.insert_event(&AlertEvent {
            id: 0,
            alert_id: a.id,
            at: self.now,
            kind,
            actor: actor.to_owned(),
            note: note.to_owned(),
            status: a.status,
        })
        .await?;
        self.events = self.events.saturating_add(1);
        Ok(())
    }
}

fn silence_kind(silenced: bool) -> EventKind {
    if silenced {
        EventKind::Silenced
    } else {
        EventKind::Unsilenced
    }
}

/// Whether a silence covers an alert: its rule glob matches the rule, its host glob the
/// hostname (case-insensitive) or the host id, its subject glob the subject.
pub fn silence_matches(
    s: &Silence,
    rule: &str,
    host_id: &str,
    hostname: &str,
    subject: &str,
) -> bool {
    glob::matches(&s.rule, rule)
        && (s.host == host_id || glob::matches(&s.host.to_lowercase(), &hostname.to_lowercase()))
        && glob::matches(&s.subject, subject)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence(rule: &str, host: &str, subject: &str) -> Silence {
        Silence {
            id: "s".into(),
            rule: rule.into(),
            host: host.into(),
            subject: subject.into(),
            starts_at: 0,
            ends_at: 10,
            comment: String::new(),
            created_by: "admin".into(),
            created_at: 0,
        }
    }

    #[test]
    fn silences_match_by_rule_host_and_subject_globs() {
        let s = silence("posture.*", "WEB-*", "*");
        assert!(silence_matches(
            &s,
            "posture.listening_port",
            "id1",
            "web-1",
            "tcp/x"
        ));
        assert!(silence_matches(&s, "posture.firewall", "id1", "web-2", ""));
        assert!(!silence_matches(&s, "host.offline", "id1", "web-1", ""));
        assert!(!silence_matches(&s, "posture.firewall", "id1", "db-1", ""));
        let by_id = silence("*", "id-42", "tcp/*");
        assert!(silence_matches(
            &by_id,
            "posture.listening_port",
            "id-42",
            "db",
            "tcp/0.0.0.0:80 x"
        ));
        assert!(!silence_matches(
            &by_id,
            "posture.listening_port",
            "id-42",
            "db",
            "udp/0.0.0.0:53 x"
        ));
    }
}
