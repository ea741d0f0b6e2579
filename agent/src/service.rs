//! The service loop of `ward-agent run`: an inventory report at start and then every
//! interval (jittered, so a fleet restarted together does not report together), the
//! posture read every posture interval and reported on its own when it changed, a light
//! heartbeat in between, reconnection with capped exponential backoff while the collector
//! is away. It sleeps until the next of these events: no polling.

use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use ward_proto::section::{self, Posture};
use ward_proto::v1 as pb;

use crate::collect::{Collect, Snapshot};
use crate::config::Config;
use crate::patches;
use crate::transport::channel;
use crate::transport::identity::{self, Credentials, Identity, StateDir};
use crate::transport::report::{self, Contents, Summary};
use crate::transport::state::ReportState;

type Client = pb::agent_service_client::AgentServiceClient<Channel>;

/// The longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Days before certificate expiry from which every report logs an error.
const CERTIFICATE_WARNING_DAYS: i64 = 30;
/// Follow-up reports allowed for one inventory (send-full requests, duplicate sequence).
const MAX_FOLLOWUPS: usize = 3;

/// Errors that stop the service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    State(#[from] identity::Error),
    #[error(transparent)]
    Channel(#[from] channel::Error),
    #[error("failed to read this system: {0}")]
    Collect(String),
    #[error("the collector answered {:?}: {}", .0.code(), .0.message())]
    Rpc(#[from] tonic::Status),
    #[error("the collector kept asking for sections again after {MAX_FOLLOWUPS} follow-up reports")]
    NoProgress,
}

/// A running agent's connection and protocol state.
pub struct Agent {
    config: Config,
    state_dir: StateDir,
    identity: Identity,
    creds: Credentials,
    target: channel::Target,
    client: Option<Client>,
    state: ReportState,
    force_full: Vec<pb::Section>,
    /// When the last report was acknowledged, so `run` does not repeat one just made.
    reported_at: Option<Instant>,
    /// How the inventory, patch state and posture are read.
    collector: Box<dyn Collect>,
}

impl Agent {
    /// Loads the enrolled identity and report state from the configured state directory;
    /// reports are made from what `collector` gathers (`ward-agent run` uses
    /// [`crate::collect::Child`], library users [`crate::collect::InProcess`]).
    pub fn load(config: Config, collector: Box<dyn Collect>) -> Result<Self, Error> {
        let state_dir = StateDir::new(&config.state_dir);
        let (identity, creds) = state_dir.load()?;
        let url = config
            .collector
            .clone()
            .unwrap_or_else(|| identity.collector.clone());
        let target = channel::parse_url(&url)?;
        let state = ReportState::load(&state_dir);
        Ok(Self {
            config,
            state_dir,
            identity,
            creds,
            target,
            client: None,
            state,
            force_full: Vec::new(),
            reported_at: None,
            collector,
        })
    }

    /// Returns the host id from the enrolment.
    pub fn host_id(&self) -> &str {
        &self.identity.host_id
    }

    async fn client(&mut self) -> Result<Client, Error> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let channel = channel::connect(&self.target, &self.creds.ca_pem, Some(&self.creds)).await?;
        let client = Client::new(channel)
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(64 << 20);
        self.client = Some(client.clone());
        Ok(client)
    }

    /// Logs loudly when the agent's certificate nears its end: certificates are not
    /// renewed automatically yet, and an expired one locks the agent out.
    fn check_certificate_expiry(&self) {
        let Some(not_after) = self.creds.certificate_not_after() else {
            return;
        };
        let now = patches::exposure::unix_now();
        let days_left = (not_after - now) / 86400;
        if days_left < CERTIFICATE_WARNING_DAYS {
            tracing::error!(
                days_left,
                state_dir = %self.state_dir.path().display(),
                "the agent's certificate expires in {days_left} days; re-enrol with `ward-agent enroll --force` and a new token before then"
            );
        }
    }

    /// Collects the inventory, patch state and posture and reports them, following up
    /// until the collector holds them.
    pub async fn report_once(&mut self) -> Result<Summary, Error> {
        self.check_certificate_expiry();
        // Collection takes milliseconds (in a child process for the service): waiting for
        // it in place rather than on a blocking thread keeps the agent to one thread and
        // one malloc arena (idle RSS budget).
        let Snapshot {
            inventory: inv,
            patches,
        } = self
            .collector
            .collect(&self.config.root)
            .await
            .map_err(Error::Collect)?;
        let patches = self.stamp_patches(patches);
        let posture = self.read_posture().await;
        let summary = self
            .send(&Contents::inventory(
                &inv,
                patches.as_ref(),
                posture.as_ref(),
            ))
            .await?;
        self.reported_at = Some(Instant::now());
        Ok(summary)
    }

    /// Reads the posture and, when it differs from what the collector acknowledged (or
    /// the collector asked for it again), reports it on its own: the collector keeps the
    /// other sections. Returns the report's summary, or None when nothing was sent.
    pub async fn check_posture(&mut self) -> Result<Option<Summary>, Error> {
        let Some(posture) = self.read_posture().await else {
            return Ok(None);
        };
        let (posture, hash) = section::canonical::<Posture>(posture);
        let held = self.state.posture.is_some_and(|a| a.local == hash);
        if held && !self.force_full.contains(&pb::Section::Posture) {
            tracing::debug!("posture unchanged");
            return Ok(None);
        }
        tracing::info!("posture changed; reporting it");
        self.send(&Contents::posture(&posture)).await.map(Some)
    }

    /// Reads the posture section when it is enabled. A failed read is logged and the
    /// section left out of the report: the collector keeps the last posture it holds.
    async fn read_posture(&self) -> Option<pb::Posture> {
        if !self.config.posture.enabled {
            return None;
        }
        match self.collector.posture(&self.config.root).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(error = %e, "posture not read; the collector keeps the last one it holds");
                None
            }
        }
    }

    /// Sends a report of `contents`, following up (sections asked for in full, a used
    /// sequence number) until the collector holds what it carries.
    async fn send(&mut self, contents: &Contents<'_>) -> Result<Summary, Error> {
        let carried = contents.sections();
        let mut client = self.client().await?;
        for _ in 0..=MAX_FOLLOWUPS {
            let prepared = report::prepare(&self.state, contents, &self.force_full);
            let summary = prepared.summary.clone();
            let resp = match client.report(prepared.request.clone()).await {
                Ok(r) => r.into_inner(),
                Err(status) => {
                    self.client = None;
                    return Err(status.into());
                }
            };
            let follow = report::acknowledge(&mut self.state, prepared, &resp);
            self.state.save(&self.state_dir)?;
            tracing::info!(
                sequence = summary.sequence,
                bytes = summary.bytes,
                os = ?summary.os,
                hardware = ?summary.hardware,
                software = ?summary.software,
                patches = ?summary.patches,
                posture = ?summary.posture,
                duplicate = resp.duplicate,
                "report acknowledged"
            );
            // A section asked for in full stays forced until a report carries it: one
            // this report did not carry (a heartbeat asked for it) waits for the next.
            self.force_full.retain(|s| !carried.contains(s));
            for s in follow.send_full {
                if !self.force_full.contains(&s) {
                    self.force_full.push(s);
                }
            }
            if !follow.resend && !self.force_full.iter().any(|s| carried.contains(s)) {
                return Ok(summary);
            }
        }
        Err(Error::NoProgress)
    }

    /// Stamps the patch state with the persisted first-seen times. A failure to collect
    /// it is logged and the section left out of the report: the collector keeps the last
    /// patch state it holds, and the rest of the inventory still goes.
    fn stamp_patches(&self, collected: Result<pb::Patches, String>) -> Option<pb::Patches> {
        let mut collected = match collected {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "patch state not collected; the collector keeps the last one it holds");
                return None;
            }
        };
        let seen = patches::exposure::Seen::load(&self.state_dir)
            .stamp(&mut collected, patches::exposure::unix_now());
        if let Err(e) = seen.save(&self.state_dir) {
            tracing::warn!(error = %e, "first-seen times not saved; exposure may count from a later time");
        }
        Some(collected)
    }

    /// Sends a heartbeat; the collector may answer that it needs sections again.
    pub async fn heartbeat(&mut self) -> Result<bool, Error> {
        let mut client = self.client().await?;
        let sections = self
            .state
            .held()
            .into_iter()
            .filter_map(|(s, h)| {
                h.map(|h| pb::SectionHash {
                    section: s as i32,
                    hash: h.to_vec(),
                })
            })
            .collect();
        let req = pb::HeartbeatRequest {
            agent_version: env!("CARGO_PKG_VERSION").to_string(),
            sections,
        };
        let resp = match client.heartbeat(req).await {
            Ok(r) => r.into_inner(),
            Err(status) => {
                self.client = None;
                return Err(status.into());
            }
        };
        let wanted: Vec<pb::Section> = resp
            .send_full
            .iter()
            .filter_map(|s| pb::Section::try_from(*s).ok())
            .collect();
        let report_now = !wanted.is_empty();
        for s in wanted {
            if !self.force_full.contains(&s) {
                self.force_full.push(s);
            }
        }
        Ok(report_now)
    }

    /// Runs until `shutdown` completes.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        tokio::pin!(shutdown);
        let inventory_every = self.config.inventory_interval;
        let heartbeat_every = self.config.heartbeat_interval;
        let posture_every = self
            .config
            .posture
            .enabled
            .then_some(self.config.posture.interval);
        // A report made just before (quickstart does one) counts as the first.
        let mut next_report = match self.reported_at {
            Some(at) => at + jittered(inventory_every, self.config.jitter),
            None => Instant::now(),
        };
        // Every report reads the posture too, so the next read is due an interval after it.
        let mut next_posture =
            posture_every.map(|every| self.reported_at.unwrap_or_else(Instant::now) + every);
        let mut next_heartbeat = Instant::now() + heartbeat_every;
        let mut backoff = Duration::from_secs(1);
        // While reports fail (the collector away), posture-only reports would fail too:
        // the report that gets through carries the posture.
        let mut reports_failing = false;
        tracing::info!(host = %self.identity.host_id, collector = %self.target.url, "agent started");
        loop {
            let wake = [Some(next_report), Some(next_heartbeat), next_posture]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(next_report);
            tokio::select! {
                () = &mut shutdown => {
                    tracing::info!("agent stopping");
                    return Ok(());
                }
                () = sleep_until(wake) => {}
            }
            let now = Instant::now();
            if now >= next_report {
                // Cancellable: an interrupted report is safe (same sequence next time, which
                // the collector answers as a duplicate if it had applied it).
                let result = tokio::select! {
                    () = &mut shutdown => {
                        tracing::info!("agent stopping during a report");
                        return Ok(());
                    }
                    r = self.report_once() => r,
                };
                match result {
                    Ok(_) => {
                        backoff = Duration::from_secs(1);
                        reports_failing = false;
                        next_report = now + jittered(inventory_every, self.config.jitter);
                    }
                    Err(e) => {
                        log_failure("report", &e, Some(backoff));
                        reports_failing = true;
                        next_report = now + jittered(backoff, 0.2);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
                next_posture = posture_every.map(|every| Instant::now() + every);
                next_heartbeat = Instant::now() + jittered(heartbeat_every, 0.1);
            } else if next_posture.is_some_and(|at| now >= at) {
                if !reports_failing {
                    let result = tokio::select! {
                        () = &mut shutdown => {
                            tracing::info!("agent stopping during a posture check");
                            return Ok(());
                        }
                        r = self.check_posture() => r,
                    };
                    match result {
                        Ok(Some(_)) => {
                            next_heartbeat = Instant::now() + jittered(heartbeat_every, 0.1);
                        }
                        Ok(None) => {}
                        Err(e) => log_failure("posture report", &e, posture_every),
                    }
                }
                next_posture = posture_every.map(|every| Instant::now() + every);
            } else if now >= next_heartbeat {
                let result = tokio::select! {
                    () = &mut shutdown => {
                        tracing::info!("agent stopping");
                        return Ok(());
                    }
                    r = self.heartbeat() => r,
                };
                match result {
                    Ok(true) => {
                        tracing::info!(sections = ?self.force_full, "collector asked for sections again");
                        next_report = Instant::now();
                    }
                    Ok(false) => {}
                    Err(e) => log_failure("heartbeat", &e, None),
                }
                next_heartbeat = Instant::now() + jittered(heartbeat_every, 0.1);
            }
        }
    }
}

/// Logs a failed exchange: a refusal of this agent's identity needs an operator (ERROR),
/// anything else is retried (WARN).
fn log_failure(what: &str, e: &Error, retry_in: Option<Duration>) {
    let refused = matches!(e, Error::Rpc(s) if matches!(s.code(), tonic::Code::Unauthenticated | tonic::Code::PermissionDenied));
    if refused {
        tracing::error!(error = %e, retry_in = ?retry_in, "{what} refused: this agent's identity is not accepted; re-enrol it with `ward-agent enroll --force` and a new token");
    } else {
        tracing::warn!(error = %e, retry_in = ?retry_in, "{what} failed; will retry");
    }
}

/// Returns `d` moved by up to ±`fraction` of itself, at random.
fn jittered(d: Duration, fraction: f64) -> Duration {
    let f = 1.0 + fraction * (2.0 * rand::random::<f64>() - 1.0);
    d.mul_f64(f.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_bounds() {
        for _ in 0..1000 {
            let j = jittered(Duration::from_secs(100), 0.1);
            assert!(
                j >= Duration::from_secs(90) && j <= Duration::from_secs(110),
                "{j:?}"
            );
        }
    }
}
