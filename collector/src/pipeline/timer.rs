//! The rules that depend on time (a host offline, a patch overdue, a certificate about to
//! expire, two live hosts with one machine-id) and silences that start or end: evaluated
//! over the fleet every `alerts.evaluate_interval`, each run one transaction.

use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use super::Pipeline;

/// Runs [`Pipeline::evaluate_fleet`] every `interval` until `shutdown` completes. A failed
/// run is logged and retried at the next tick: nothing it would have written is lost, the
/// next run finds the same conditions.
pub async fn run(
    pipeline: Arc<Pipeline>,
    interval: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = ticks.tick() => {
                if let Err(e) = pipeline.evaluate_fleet(crate::api::now()).await {
                    warn!(error = %e, "timed alert rules failed; retrying at the next tick");
                }
            }
        }
    }
}
