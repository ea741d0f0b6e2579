//! The gRPC services: thin handlers that authenticate the peer, convert wire types at the
//! edge, delegate to the store and PKI, and map errors to statuses in one place.

pub mod admin;
pub mod agent;
pub mod alerts;
pub mod auth;
pub mod convert;
pub mod status;

use std::sync::Arc;

use crate::pipeline::Pipeline;
use crate::pki::Authority;
use crate::store::Store;

/// What every handler shares.
#[derive(Clone)]
pub struct Shared {
    /// Reads go straight to the store.
    pub store: Arc<dyn Store>,
    /// Writes of reports, heartbeats and alert actions go through the pipeline.
    pub pipeline: Arc<Pipeline>,
    pub authority: Arc<Authority>,
}

/// Returns the current time in seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
