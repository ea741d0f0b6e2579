//! Plumbing shared by Ward's binaries (`ward-agent`, `ward-agent-collect`,
//! `ward-collector`, `wardctl`), so that the collector and `wardctl` need nothing from the
//! agent's crate: how they log, how they render an error, when they stop.

/// Tracing set-up (`WARD_LOG`, `WARD_LOG_FORMAT`) and one-line error rendering.
pub mod logging;
/// The future that completes when the process is asked to stop (Ctrl-C, SIGTERM).
pub mod shutdown;
