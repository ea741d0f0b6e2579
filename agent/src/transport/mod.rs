//! Everything between the agent and its collector: pinning the collector's CA, enrolment,
//! the mutually authenticated channel, and the report protocol with its persisted state.

pub mod channel;
pub mod enrol;
pub mod identity;
pub mod pin;
pub mod report;
pub mod state;
