//! The alert and silence RPCs of `ward.v1.AdminService`: thin handlers over the pipeline
//! (writes) and the store (reads). `AdminApi` delegates to these.

use std::pin::Pin;
use std::time::Duration;

use tokio_stream::Stream;
use tonic::{Response, Status};
use ward_proto::v1 as pb;

use super::{Shared, convert, now, status};
use crate::pipeline::NewSilence;
use crate::store::alerts::{AlertFilter, Severity, Status as AlertStatus};

/// Events read per query while a watcher catches up.
const WATCH_BATCH: u32 = 500;
/// How often a watcher looks for events even without a signal (another collector on the
/// same database writes events this one is not told about).
const WATCH_POLL: Duration = Duration::from_secs(1);
/// Events buffered per watcher before it waits for the client to read.
const WATCH_BUFFER: usize = 256;

/// Longest host, rule or page-token filter accepted.
const MAX_FILTER: usize = 512;

/// The stream `WatchAlerts` answers with.
pub type WatchStream =
    Pin<Box<dyn Stream<Item = Result<pb::WatchAlertsResponse, Status>> + Send + 'static>>;

/// `ListAlerts`.
pub async fn list(
    shared: &Shared,
    r: pb::ListAlertsRequest,
) -> Result<Response<pb::ListAlertsResponse>, Status> {
    // Bounded before anything reads them: globs are matched per row.
    if r.host.len() > MAX_FILTER || r.rule.len() > MAX_FILTER || r.page_token.len() > MAX_FILTER {
        return Err(Status::invalid_argument(format!(
            "host, rule and page_token filters are at most {MAX_FILTER} bytes"
        )));
    }
    if r.statuses.len() + r.severities.len() > 32 {
        return Err(Status::invalid_argument(
            "at most 32 statuses and severities in one request",
        ));
    }
    let parse_all = |values: &[String]| -> Result<Vec<String>, Status> {
        Ok(values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect())
    };
    let statuses = parse_all(&r.statuses)?
        .iter()
        .map(|s| s.parse::<AlertStatus>().map_err(Status::invalid_argument))
        .collect::<Result<Vec<_>, _>>()?;
    let severities = parse_all(&r.severities)?
        .iter()
        .map(|s| s.parse::<Severity>().map_err(Status::invalid_argument))
        .collect::<Result<Vec<_>, _>>()?;
    let opt = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let filter = AlertFilter {
        statuses,
        severities,
        host: opt(r.host),
        rule: opt(r.rule),
        since: (r.since > 0).then_some(r.since),
        page_size: r.page_size,
        page_token: opt(r.page_token),
    };
    let page = shared
        .store
        .list_alerts(&filter)
        .await
        .map_err(status::from_store)?;
    Ok(Response::new(pb::ListAlertsResponse {
        alerts: page.alerts.into_iter().map(convert::alert).collect(),
        next_page_token: page.next_page_token.unwrap_or_default(),
    }))
}

/// `GetAlert`.
pub async fn get(
    shared: &Shared,
    r: pb::GetAlertRequest,
) -> Result<Response<pb::GetAlertResponse>, Status> {
    let (alert, events) = shared
        .store
        .get_alert(r.id)
        .await
        .map_err(status::from_store)?
        .ok_or_else(|| {
            Status::not_found(format!(
                "no alert with id {}; list them with `wardctl alerts --status all`",
                r.id
            ))
        })?;
    Ok(Response::new(pb::GetAlertResponse {
        alert: Some(convert::alert(alert)),
        events: events.into_iter().map(convert::alert_event).collect(),
    }))
}

/// `AckAlert`.
pub async fn ack(
    shared: &Shared,
    admin: &str,
    r: pb::AckAlertRequest,
) -> Result<Response<pb::AckAlertResponse>, Status> {
    let a = shared
        .pipeline
        .acknowledge(r.id, admin, &r.note, now())
        .await
        .map_err(status::from_pipeline)?;
    Ok(Response::new(pb::AckAlertResponse {
        alert: Some(convert::alert(a)),
    }))
}

/// `ResolveAlert`.
pub async fn resolve(
    shared: &Shared,
    admin: &str,
    r: pb::ResolveAlertRequest,
) -> Result<Response<pb::ResolveAlertResponse>, Status> {
    let a = shared
        .pipeline
        .resolve(r.id, admin, &r.note, now())
        .await
        .map_err(status::from_pipeline)?;
    Ok(Response::new(pb::ResolveAlertResponse {
        alert: Some(convert::alert(a)),
    }))
}

/// `WatchAlerts`: events after the given id (or from now), then live ones, in id order.
/// A client that reconnects with the id of the last event it saw misses nothing.
pub async fn watch(
    shared: &Shared,
    r: pb::WatchAlertsRequest,
) -> Result<Response<WatchStream>, Status> {
    if r.after_event_id < 0 {
        return Err(Status::invalid_argument(
            "after_event_id must not be negative",
        ));
    }
    let mut after = if r.after_event_id > 0 || r.from_start {
        r.after_event_id
    } else {
        shared
            .store
            .last_alert_event()
            .await
            .map_err(status::from_store)?
    };
    let store = shared.store.clone();
    let mut changed = shared.pipeline.subscribe();
    let mut closing = shared.pipeline.closing();
    let (tx, rx) = tokio::sync::mpsc::channel(WATCH_BUFFER);
    tokio::spawn(async move {
        loop {
            // The collector is stopping: end the stream (the client resumes elsewhere or
            // later) instead of holding the graceful shutdown open.
            if *closing.borrow() {
                return;
            }
            let batch = match store.alert_events_after(after, WATCH_BATCH).await {
                Ok(b) => b,
                Err(e) => {
                    let _ = tx.send(Err(status::from_store(e))).await;
                    return;
                }
            };
            let full = batch.len() >= WATCH_BATCH as usize;
            for (event, alert) in batch {
                after = event.id;
                let item = pb::WatchAlertsResponse {
                    event: Some(convert::alert_event(event)),
                    alert: Some(convert::alert(alert)),
                };
                if tx.send(Ok(item)).await.is_err() {
                    return; // the client went away
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                () = tx.closed() => return,
                r = changed.changed() => if r.is_err() { return },
                _ = closing.changed() => return,
                () = tokio::time::sleep(WATCH_POLL) => {}
            }
        }
    });
    let stream: WatchStream = Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(Response::new(stream))
}

/// `CreateSilence`.
pub async fn create_silence(
    shared: &Shared,
    admin: &str,
    r: pb::CreateSilenceRequest,
) -> Result<Response<pb::CreateSilenceResponse>, Status> {
    let s = shared
        .pipeline
        .create_silence(
            NewSilence {
                rule: r.rule,
                host: r.host,
                subject: r.subject,
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                comment: r.comment,
            },
            admin,
            now(),
        )
        .await
        .map_err(status::from_pipeline)?;
    Ok(Response::new(pb::CreateSilenceResponse {
        silence: Some(convert::silence(s)),
    }))
}

/// `ListSilences`.
pub async fn list_silences(
    shared: &Shared,
    r: pb::ListSilencesRequest,
) -> Result<Response<pb::ListSilencesResponse>, Status> {
    let silences = shared
        .store
        .list_silences(now(), r.include_expired)
        .await
        .map_err(status::from_store)?;
    Ok(Response::new(pb::ListSilencesResponse {
        silences: silences.into_iter().map(convert::silence).collect(),
    }))
}

/// `ExpireSilence`.
pub async fn expire_silence(
    shared: &Shared,
    admin: &str,
    r: pb::ExpireSilenceRequest,
) -> Result<Response<pb::ExpireSilenceResponse>, Status> {
    if r.id.trim().is_empty() {
        return Err(Status::invalid_argument("name a silence by its id"));
    }
    shared
        .pipeline
        .expire_silence(r.id.trim(), admin, now())
        .await
        .map_err(status::from_pipeline)?;
    Ok(Response::new(pb::ExpireSilenceResponse {}))
}
