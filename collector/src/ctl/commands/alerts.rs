//! `wardctl alerts`, `alert`, `silence`: the requests, and `alerts watch`, which streams
//! events to the output as they come and reconnects, resuming after the last event it
//! printed, when the connection drops.

use std::io::Write;
use std::time::Duration;

use tonic::Code;
use ward_proto::v1 as pb;
use ward_proto::v1::admin_service_client::AdminServiceClient;

use super::{Call, Error, Session};
use crate::ctl::cli::{
    AlertAction, AlertArgs, AlertsArgs, SilenceCommand, SilenceCreateArgs, StatusFilter, WatchArgs,
};
use crate::ctl::connect;
use crate::ctl::output::{self, View};

/// The longest wait between reconnection attempts of `alerts watch`.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Session {
    /// Lists the alerts matching `args`, following pages until the last one or `--limit`.
    pub async fn list_alerts(
        &mut self,
        args: &AlertsArgs,
        now: i64,
    ) -> Result<Vec<pb::Alert>, Error> {
        let statuses: Vec<String> = match args.status {
            None => Vec::new(),
            Some(StatusFilter::All) => {
                vec!["open".into(), "acknowledged".into(), "resolved".into()]
            }
            Some(StatusFilter::Open) => vec!["open".into()],
            Some(StatusFilter::Acknowledged) => vec!["acknowledged".into()],
            Some(StatusFilter::Resolved) => vec!["resolved".into()],
        };
        let client = self.client.clone();
        let request = pb::ListAlertsRequest {
            statuses,
            severities: args.severity.clone(),
            host: args.host.clone().unwrap_or_default(),
            rule: args.rule.clone().unwrap_or_default(),
            since: args.since.map_or(0, |s| s.at(now)),
            ..Default::default()
        };
        self.pages(
            args.limit,
            Call::ListAlerts,
            move |page_size, page_token| {
                let mut client = client.clone();
                let request = pb::ListAlertsRequest {
                    page_size,
                    page_token,
                    ..request.clone()
                };
                async move {
                    let page = client.list_alerts(request).await?.into_inner();
                    Ok((page.alerts, page.next_page_token))
                }
            },
        )
        .await
    }

    /// Runs `wardctl alert ...`.
    pub async fn alert(&mut self, args: &AlertArgs, view: &View) -> Result<String, Error> {
        match (&args.action, args.id) {
            (Some(AlertAction::Ack(n)), _) => {
                let request = pb::AckAlertRequest {
                    id: n.id,
                    note: n.note.clone(),
                };
                let a = self
                    .client
                    .ack_alert(request)
                    .await
                    .map_err(|s| self.error(&s, Call::AckAlert))?
                    .into_inner()
                    .alert
                    .unwrap_or_default();
                Ok(output::alerts::changed(view, "acknowledged", &a)?)
            }
            (Some(AlertAction::Resolve(n)), _) => {
                let request = pb::ResolveAlertRequest {
                    id: n.id,
                    note: n.note.clone(),
                };
                let a = self
                    .client
                    .resolve_alert(request)
                    .await
                    .map_err(|s| self.error(&s, Call::ResolveAlert))?
                    .into_inner()
                    .alert
                    .unwrap_or_default();
                Ok(output::alerts::changed(view, "resolved", &a)?)
            }
            (None, Some(id)) => {
                let answer = self
                    .client
                    .get_alert(pb::GetAlertRequest { id })
                    .await
                    .map_err(|s| self.error(&s, Call::GetAlert))?
                    .into_inner();
                Ok(output::alerts::alert(view, &answer)?)
            }
            (None, None) => Err(Error::Usage(
                "name an alert: `wardctl alert ID`, `wardctl alert ack ID`".into(),
            )),
        }
    }

    /// Runs `wardctl silence ...`.
    pub async fn silence(
        &mut self,
        command: &SilenceCommand,
        view: &View,
    ) -> Result<String, Error> {
        match command {
            SilenceCommand::Create(args) => {
                let request = silence_request(args, view.now)?;
                let s = self
                    .client
                    .create_silence(request)
                    .await
                    .map_err(|s| self.error(&s, Call::CreateSilence))?
                    .into_inner()
                    .silence
                    .unwrap_or_default();
                Ok(output::alerts::silence(view, &s)?)
            }
            SilenceCommand::List(args) => {
                let list = self
                    .client
                    .list_silences(pb::ListSilencesRequest {
                        include_expired: args.all,
                    })
                    .await
                    .map_err(|s| self.error(&s, Call::ListSilences))?
                    .into_inner();
                Ok(output::alerts::silences(view, &list.silences)?)
            }
            SilenceCommand::Expire(args) => {
                self.client
                    .expire_silence(pb::ExpireSilenceRequest {
                        id: args.id.clone(),
                    })
                    .await
                    .map_err(|s| self.error(&s, Call::ExpireSilence))?;
                Ok(match view.format {
                    output::Format::Json => format!("{{\"expired\":{:?}}}\n", args.id),
                    _ => format!("silence {} expired\n", args.id),
                })
            }
        }
    }

    /// Runs `wardctl alerts watch`: prints each event as it comes, and when the stream
    /// breaks, reconnects with backoff and resumes after the last event printed, so that
    /// nothing is missed. Returns after `--count` events, or on an error that a retry
    /// cannot fix (refused credentials, a bad argument).
    pub async fn watch(
        &mut self,
        args: &WatchArgs,
        view: &View,
        out: &mut dyn Write,
    ) -> Result<(), Error> {
        let mut after = args.after.unwrap_or(0);
        let mut from_start = args.from_start;
        let mut printed: u64 = 0;
        let mut backoff = Duration::from_secs(1);
        loop {
            let request = pb::WatchAlertsRequest {
                after_event_id: after,
                from_start,
            };
            let failure = match self.client.watch_alerts(request).await {
                Ok(response) => {
                    let mut stream = response.into_inner();
                    loop {
                        match stream.message().await {
                            Ok(Some(item)) => {
                                let id = item.event.as_ref().map_or(after, |e| e.id);
                                let text = output::alerts::event(view, &item)?;
                                match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                                        return Ok(());
                                    }
                                    Err(e) => return Err(Error::Write(e)),
                                    Ok(()) => {}
                                }
                                after = id;
                                // From here on, resume after what was printed.
                                from_start = false;
                                backoff = Duration::from_secs(1);
                                printed += 1;
                                if args.count.is_some_and(|n| printed >= n) {
                                    return Ok(());
                                }
                            }
                            Ok(None) => {
                                break Some(tonic::Status::unavailable(
                                    "the collector ended the stream",
                                ));
                            }
                            Err(status) => break Some(status),
                        }
                    }
                }
                Err(status) => Some(status),
            };
            if let Some(status) = failure {
                let error = self.error(&status, Call::WatchAlerts);
                if !matches!(
                    status.code(),
                    Code::Unavailable
                        | Code::Unknown
                        | Code::Internal
                        | Code::DeadlineExceeded
                        | Code::Cancelled
                ) {
                    return Err(error);
                }
                tracing::warn!(after, error = %crate::ctl::describe(&error), "alert stream interrupted; reconnecting");
                eprintln!(
                    "wardctl: {}; reconnecting in {}s (resuming after event {after})",
                    crate::ctl::describe(&error),
                    backoff.as_secs()
                );
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if let Ok(channel) =
                connect::connect(&self.target, &self.credentials, self.timeout).await
            {
                self.client = AdminServiceClient::new(channel);
            }
        }
    }
}

fn silence_request(args: &SilenceCreateArgs, now: i64) -> Result<pb::CreateSilenceRequest, Error> {
    let starts_at = args.start.unwrap_or(0);
    let ends_at = match (args.end, args.duration) {
        (Some(end), _) => end,
        (None, Some(d)) => starts_at
            .max(now)
            .saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        (None, None) => {
            return Err(Error::Usage(
                "say how long the silence lasts: --duration 2h or --end TIME".into(),
            ));
        }
    };
    Ok(pb::CreateSilenceRequest {
        rule: args.rule.clone().unwrap_or_default(),
        host: args.host.clone().unwrap_or_default(),
        subject: args.subject.clone().unwrap_or_default(),
        starts_at,
        ends_at,
        comment: args.comment.clone(),
    })
}
