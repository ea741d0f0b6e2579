//! Ward's endpoint agent: collects what a machine is and what is on it, and reports it to
//! a collector over mutually authenticated gRPC.

pub mod config;
pub mod inventory;
pub mod logging;
pub mod patches;
pub mod service;
pub mod transport;
