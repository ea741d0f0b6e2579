//! The collector's private PKI: its CA, the certificates it issues to agents, admins and
//! itself, the identity a peer certificate proves, and enrolment tokens.

pub mod ca;
pub mod identity;
pub mod token;

pub use ca::{Authority, Issued};
pub use identity::Peer;
