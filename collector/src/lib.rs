//! Ward's collector: keeps the fleet's state, issues agent certificates from its private
//! CA, and answers admins' questions; plus `wardctl`, the admin client.

pub mod api;
pub mod config;
pub mod ctl;
pub mod pipeline;
pub mod pki;
#[cfg(feature = "quickstart")]
pub mod quickstart;
pub mod rules;
pub mod sections;
pub mod server;
pub mod store;
/// Package version ordering per format (the `ward-version` crate).
pub use ward_version as version;
