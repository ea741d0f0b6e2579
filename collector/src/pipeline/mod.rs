//! The report pipeline: what one report, heartbeat or admin action on alerts does, in one
//! store transaction. A report walks each layer once: the api (its auth layer has proved
//! the host) → here: per section, unchanged / full / delta through one generic path
//! ([`section`]) → the rules on the old and new state → alerts ([`alerts`]) → the store's
//! primitives. The notification outbox of a later release is written in the same
//! transaction, where [`Pipeline::report`] commits. Backends never drive this flow.
//!
//! - [`section`]: the generic section path.
//! - [`alerts`]: the alert engine (dedup, lifecycle, silences, events).
//! - [`timer`]: rules that depend on time (offline hosts, overdue patches, expiring
//!   certificates, cloned machines), run every `alerts.evaluate_interval`.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::watch;
use tracing::debug;
use ward_proto::digest::Hash;
use ward_proto::section::{Hardware, Os, Patches, Posture, Software};
use ward_proto::v1 as pb;

use crate::rules::{self, Rule, Settings, Verdict};
use crate::sections;
use crate::store::alerts::{Alert, Silence, Status};
use crate::store::{self, HostRecord, Report, ReportOutcome, Store, Tx};

pub mod alerts;
pub mod section;
pub mod timer;

use alerts::{Engine, Unresolved};
use section::{Applied, Held};

/// Longest note an admin may attach to an alert or a silence.
pub const MAX_NOTE: usize = 4096;

/// Why a pipeline operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("no alert with id {0}; list them with `wardctl alerts --status all`")]
    UnknownAlert(i64),
    #[error("alert {0} is resolved; it reopens by itself if its condition returns")]
    AlertResolved(i64),
    #[error("no silence with id {0}; list them with `wardctl silence list --all`")]
    UnknownSilence(String),
    #[error("silence {0} has already ended")]
    SilenceEnded(String),
    #[error("invalid silence: {0}")]
    InvalidSilence(String),
    #[error("note too long (at most {MAX_NOTE} bytes)")]
    NoteTooLong,
}

/// A silence to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSilence {
    pub rule: String,
    pub host: String,
    pub subject: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub comment: String,
}

/// The collector's write path.
pub struct Pipeline {
    store: Arc<dyn Store>,
    settings: Arc<Settings>,
    /// Bumped after every commit that wrote alert events; `WatchAlerts` waits on it.
    events: watch::Sender<u64>,
    /// True once the collector is shutting down: streams end so that the server's
    /// graceful shutdown is not held open by a watching client.
    closing: watch::Sender<bool>,
    /// When this collector started watching the fleet (0: since ever).
    watching_since: i64,
}

impl Pipeline {
    /// A pipeline over `store`, with the rules' `settings`.
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            events: watch::Sender::new(0),
            closing: watch::Sender::new(false),
            watching_since: 0,
        }
    }

    /// Counts hosts' silence from `at` at the earliest: the time the collector itself was
    /// down does not make hosts offline (`server::start` passes its start time).
    pub fn watching_since(mut self, at: i64) -> Self {
        self.watching_since = at;
        self
    }

    /// Tells long-lived streams to end: the collector is shutting down.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// A receiver that turns true when the collector starts shutting down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// The store the pipeline writes to (reads go to it directly).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The rules' settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A receiver that changes after every commit that wrote alert events.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.events.subscribe()
    }

    fn published(&self, events: u32) {
        if events > 0 {
            self.events.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Applies a report in one transaction: sections, their rows, the rules on what
    /// changed, alerts. A report whose sequence is not above the host's last applied one
    /// changes nothing (answered as a duplicate), unless it is below it: then the agent's
    /// state went back (`host.restored`).
    pub async fn report(
        &self,
        host_id: &str,
        report: Report,
        now: i64,
    ) -> Result<ReportOutcome, Error> {
        let sequence = i64::try_from(report.sequence)
            .map_err(|_| store::Error::SequenceOutOfRange(report.sequence))?;
        // Every early return drops `tx`, which rolls back: nothing is half-applied.
        let mut tx = self.store.begin().await?;
        let Some(host) = tx.host(host_id).await? else {
            return Err(store::Error::UnknownHost(host_id.to_owned()).into());
        };
        let mut held = Held::load(&mut *tx, host_id).await?;
        if sequence <= host.last_sequence {
            debug!(host = %host_id, sequence, last = host.last_sequence, "duplicate report ignored");
            let outcome = ReportOutcome {
                applied_sequence: u64::try_from(host.last_sequence).unwrap_or(0),
                duplicate: true,
                sections: held.acks(&[]),
            };
            if sequence < host.last_sequence {
                let verdict = rules::host::restored(&host, &host.hostname, report.sequence);
                let events = self.evaluate(&mut *tx, &host, vec![verdict], now).await?;
                tx.commit().await?;
                self.published(events);
            }
            return Ok(outcome);
        }

        let mut send_full = Vec::new();
        let os = section::apply::<Os>(&mut *tx, host_id, &mut held, report.os, now).await?;
        let hw =
            section::apply::<Hardware>(&mut *tx, host_id, &mut held, report.hardware, now).await?;
        let sw =
            section::apply::<Software>(&mut *tx, host_id, &mut held, report.software, now).await?;
        let patches =
            section::apply::<Patches>(&mut *tx, host_id, &mut held, report.patches, now).await?;
        let posture =
            section::apply::<Posture>(&mut *tx, host_id, &mut held, report.posture, now).await?;
        for (section, send) in [
            (pb::Section::Os, matches!(os, Applied::SendFull)),
            (pb::Section::Hardware, matches!(hw, Applied::SendFull)),
            (pb::Section::Software, matches!(sw, Applied::SendFull)),
            (pb::Section::Patches, matches!(patches, Applied::SendFull)),
            (pb::Section::Posture, matches!(posture, Applied::SendFull)),
        ] {
            if send {
                send_full.push(section);
            }
        }
        tx.finish_report(host_id, sequence, &report.agent_version, now)
            .await?;

        // The rules, on what changed.
        let hostname = os
            .change()
            .map(|c| c.new.hostname.clone())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| host.hostname.clone());
        let mut verdicts = Vec::new();
        let mut back = Verdict::new(Rule::HostOffline, host_id);
        back.clear_others = Some("host reported again".into());
        verdicts.push(back);
        if let Some(c) = posture.change() {
            verdicts.extend(rules::posture::evaluate(host_id, &hostname, c));
        }
        if let Some(c) = sw.change() {
            verdicts.extend(rules::software::evaluate(
                host_id,
                &hostname,
                report.sequence,
                c,
            ));
        }
        if let Some(c) = patches.change() {
            let summary = sections::patches::summary(host_id, &hostname, &c.new, now);
            verdicts.extend(rules::patches::verdicts(
                &[summary],
                &self.settings,
                now,
                true,
            ));
        }
        let host = HostRecord { hostname, ..host };
        let events = self.evaluate(&mut *tx, &host, verdicts, now).await?;
        // The notification outbox (a later release) is written here, in this transaction.
        tx.commit().await?;
        self.published(events);
        debug!(host = %host_id, sequence, send_full = send_full.len(), events, "report applied");
        Ok(ReportOutcome {
            applied_sequence: report.sequence,
            duplicate: false,
            sections: held.acks(&send_full),
        })
    }

    /// Evaluates verdicts about one host against its unresolved alerts; returns the
    /// number of events written.
    async fn evaluate(
        &self,
        tx: &mut dyn Tx,
        host: &HostRecord,
        mut verdicts: Vec<Verdict>,
        now: i64,
    ) -> Result<u32, Error> {
        // Disabled rules cost nothing: not even the read of the host's alerts.
        verdicts.retain(|v| !v.is_empty() && self.settings.get(v.rule).enabled);
        if verdicts.is_empty() {
            return Ok(0);
        }
        let mut unresolved = Unresolved::new(tx.unresolved_alerts(Some(&host.id), None).await?);
        let mut engine = Engine::new(&self.settings, now);
        let name = host.hostname.clone();
        engine
            .apply(tx, verdicts, &mut unresolved, &|_| name.clone())
            .await?;
        Ok(engine.events)
    }

    /// Records a heartbeat: last seen and agent version; a host that was offline is back.
    /// Returns the section hashes held for the host.
    pub async fn heartbeat(
        &self,
        host_id: &str,
        agent_version: &str,
        now: i64,
    ) -> Result<Vec<(pb::Section, Hash)>, Error> {
        let mut tx = self.store.begin().await?;
        if !tx.touch_host(host_id, agent_version, now).await? {
            return Err(store::Error::UnknownHost(host_id.to_owned()).into());
        }
        let held = Held::load(&mut *tx, host_id).await?;
        let offline = tx
            .unresolved_alerts(Some(host_id), Some(Rule::HostOffline.id()))
            .await?;
        let mut events = 0;
        if !offline.is_empty() {
            let mut engine = Engine::new(&self.settings, now);
            for a in offline {
                engine
                    .resolve(&mut *tx, a, alerts::RULE_ACTOR, "host seen again")
                    .await?;
            }
            events = engine.events;
        }
        tx.commit().await?;
        self.published(events);
        Ok(held.pairs())
    }

    /// Acknowledges an open alert (an acknowledged one stays as it is).
    pub async fn acknowledge(
        &self,
        id: i64,
        actor: &str,
        note: &str,
        now: i64,
    ) -> Result<Alert, Error> {
        check_note(note)?;
        let mut tx = self.store.begin().await?;
        let a = tx.alert_by_id(id).await?.ok_or(Error::UnknownAlert(id))?;
        match a.status {
            Status::Resolved => return Err(Error::AlertResolved(id)),
            Status::Acknowledged => return Ok(a),
            Status::Open => {}
        }
        let mut engine = Engine::new(&self.settings, now);
        let a = engine.acknowledge(&mut *tx, a, actor, note).await?;
        tx.commit().await?;
        self.published(engine.events);
        Ok(a)
    }

    /// Resolves an alert by hand. If its condition still holds, the rule opens it again
    /// at its next look that finds the condition anew.
    pub async fn resolve(
        &self,
        id: i64,
        actor: &str,
        note: &str,
        now: i64,
    ) -> Result<Alert, Error> {
        check_note(note)?;
        let mut tx = self.store.begin().await?;
        let a = tx.alert_by_id(id).await?.ok_or(Error::UnknownAlert(id))?;
        if a.status == Status::Resolved {
            return Err(Error::AlertResolved(id));
        }
        let reason = if note.trim().is_empty() {
            format!("resolved by {actor}")
        } else {
            note.to_owned()
        };
        let mut engine = Engine::new(&self.settings, now);
        let a = engine.resolve(&mut *tx, a, actor, &reason).await?;
        tx.commit().await?;
        self.published(engine.events);
        Ok(a)
    }

    /// Creates a silence and marks the unresolved alerts it covers.
    pub async fn create_silence(
        &self,
        s: NewSilence,
        actor: &str,
        now: i64,
    ) -> Result<Silence, Error> {
        check_note(&s.comment)?;
        let glob = |field: &str, v: &str| -> Result<String, Error> {
            let v = v.trim();
            if v.len() > 512 || v.chars().any(char::is_control) {
                return Err(Error::InvalidSilence(format!(
                    "{field} must be a glob of at most 512 characters without control characters"
                )));
            }
            Ok(if v.is_empty() {
                "*".into()
            } else {
                v.to_owned()
            })
        };
        let silence = Silence {
            id: uuid::Uuid::now_v7().to_string(),
            rule: glob("rule", &s.rule)?,
            host: glob("host", &s.host)?,
            subject: glob("subject", &s.subject)?,
            starts_at: if s.starts_at > 0 { s.starts_at } else { now },
            ends_at: s.ends_at,
            comment: s.comment,
            created_by: actor.to_owned(),
            created_at: now,
        };
        if silence.ends_at <= silence.starts_at.max(now) {
            return Err(Error::InvalidSilence(
                "it must end after it starts and in the future".into(),
            ));
        }
        if silence.rule == "*" && silence.host == "*" && silence.subject == "*" {
            return Err(Error::InvalidSilence(
                "it would silence every alert; name a rule, a host or a subject".into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        tx.insert_silence(&silence).await?;
        let mut engine = Engine::new(&self.settings, now);
        let all = tx.unresolved_alerts(None, None).await?;
        engine.refresh_silences(&mut *tx, all, actor).await?;
        tx.commit().await?;
        self.published(engine.events);
        Ok(silence)
    }

    /// Ends a silence now and unmarks the alerts no other silence covers.
    pub async fn expire_silence(&self, id: &str, actor: &str, now: i64) -> Result<(), Error> {
        let mut tx = self.store.begin().await?;
        let s = tx
            .silence(id)
            .await?
            .ok_or_else(|| Error::UnknownSilence(id.to_owned()))?;
        if s.ends_at <= now {
            return Err(Error::SilenceEnded(id.to_owned()));
        }
        tx.end_silence(id, now).await?;
        let mut engine = Engine::new(&self.settings, now);
        let all = tx.unresolved_alerts(None, None).await?;
        engine.refresh_silences(&mut *tx, all, actor).await?;
        tx.commit().await?;
        self.published(engine.events);
        Ok(())
    }

    /// Runs the rules that depend on time over the whole fleet, and brings silence marks
    /// up to date (silences start and end with time). Returns the events written.
    pub async fn evaluate_fleet(&self, now: i64) -> Result<u32, Error> {
        let mut tx = self.store.begin().await?;
        let hosts = tx.hosts().await?;
        let patches = tx.patch_summaries().await?;
        let mut verdicts = rules::host::fleet(&hosts, &self.settings, now, self.watching_since);
        verdicts.extend(rules::patches::verdicts(
            &patches,
            &self.settings,
            now,
            false,
        ));
        let mut unresolved = Vec::new();
        for rule in [
            Rule::HostOffline,
            Rule::CloneSuspected,
            Rule::CertificateExpiring,
            Rule::SecurityOverdue,
            Rule::RebootOverdue,
        ] {
            unresolved.extend(tx.unresolved_alerts(None, Some(rule.id())).await?);
        }
        let mut unresolved = Unresolved::new(unresolved);
        let names: HashMap<String, String> = hosts
            .iter()
            .map(|h| (h.id.clone(), h.hostname.clone()))
            .collect();
        let mut engine = Engine::new(&self.settings, now);
        engine
            .apply(&mut *tx, verdicts, &mut unresolved, &|id| {
                names.get(id).cloned().unwrap_or_default()
            })
            .await?;
        let all = tx.unresolved_alerts(None, None).await?;
        engine
            .refresh_silences(&mut *tx, all, alerts::RULE_ACTOR)
            .await?;
        tx.commit().await?;
        self.published(engine.events);
        Ok(engine.events)
    }
}

fn check_note(note: &str) -> Result<(), Error> {
    if note.len() > MAX_NOTE {
        return Err(Error::NoteTooLong);
    }
    Ok(())
}
