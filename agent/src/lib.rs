//! Ward's endpoint agent: collects what a machine is and what is on it, and reports it to
//! a collector over mutually authenticated gRPC.
//!
//! Two programs are built from this library: `ward-agent` (the service, enrolment, and the
//! one-shot commands, which it hands to the helper) and `ward-agent-collect` (the helper
//! that reads the system; see [`collect`] for why it is a separate program).

/// The one-shot local commands (`inventory`, `patches`, `posture`, `integrity`) shared by both programs.
pub mod cli;
/// What a report is made from, and how the service gathers it.
pub mod collect;
/// `agent.toml`.
pub mod config;
/// File integrity: the one-shot scan (hashes and metadata of everything under a path).
pub mod integrity;
/// OS, hardware and installed software, read from a root directory.
pub mod inventory;
/// Pending updates, reboot and restart state.
pub mod patches;
/// Security posture: listening sockets, administrators, SSH keys and settings, firewall,
/// disk encryption, automatic updates, kernel hardening.
pub mod posture;
/// The `run` loop: reports, heartbeats, backoff.
pub mod service;
/// Enrolment, identity, the gRPC channel and the report protocol.
pub mod transport;
