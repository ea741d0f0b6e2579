//! The collector's state behind one [`Store`] interface, split by concern: hosts and
//! their sections ([`HostStore`], [`HostTx`]), alerts and silences ([`AlertStore`],
//! [`AlertTx`]), enrolment tokens ([`TokenStore`]). A backend implements primitives only:
//! reads for admins, and the write primitives of one transaction ([`Tx`]) that the report
//! pipeline (`crate::pipeline`) drives. SQLite is the embedded default; every backend
//! passes the same conformance suite, one per concern.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use ward_proto::digest::Hash;
use ward_proto::section;
use ward_proto::v1 as pb;

pub mod alerts;
pub mod glob;
pub mod hosts;
mod page_token;
pub mod sqlite;
pub mod tokens;

#[cfg(test)]
pub(crate) mod tests;

pub use alerts::{AlertStore, AlertTx};
pub use hosts::{HostRecord, HostStore, HostTx};
pub use sqlite::SqliteStore;
pub use tokens::TokenStore;
pub use ward_proto::section::Update;

/// Default number of hosts per page when a request asks for 0.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest number of hosts one page holds, whatever the request asks.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The collector's persistent state: the read side of every concern, and write
/// transactions. Every read method is one (read) transaction.
#[async_trait::async_trait]
pub trait Store: HostStore + AlertStore + TokenStore + Send + Sync + 'static {
    /// Begins a write transaction. Dropping it without [`Tx::commit`] rolls it back, so an
    /// early return leaves nothing half-applied. Write transactions of one backend are
    /// serialised (SQLite `BEGIN IMMEDIATE`).
    async fn begin(&self) -> Result<Box<dyn Tx>, Error>;
}

/// One write transaction: the primitives of every concern.
#[async_trait::async_trait]
pub trait Tx: HostTx + AlertTx + Send {
    /// Commits everything written through this transaction.
    async fn commit(self: Box<Self>) -> Result<(), Error>;
}
/// Which hosts [`HostStore::list_patches`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchFilter {
    /// `*`/`?` glob on the hostname, case-insensitive.
    pub hostname_glob: Option<String>,
    /// os-release ID, case-insensitive.
    pub os: Option<String>,
}

/// The answer of [`HostStore::list_patches`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchList {
    pub hosts: Vec<pb::HostPatchSummary>,
    /// Matching hosts that have not reported patch state.
    pub without_patch_state: u32,
}

/// An enrolment token to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: String,
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    /// How many hosts may enrol with it.
    pub uses: u32,
    pub expires_at: i64,
    pub label: String,
    pub created_at: i64,
}

/// A host to register at enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHost {
    pub id: String,
    /// Hostname the agent gave at enrolment, shown until its first report.
    pub hostname: String,
    pub cert_serial: String,
    pub cert_not_after: i64,
    pub agent_version: String,
    /// Also the time the token's expiry is checked against.
    pub enrolled_at: i64,
}

/// What authentication needs to know about a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStatus {
    pub revoked: bool,
    pub cert_serial: String,
}

/// A report, converted from the wire and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Strictly increasing per host; 0 is never applied (hosts start at 0).
    pub sequence: u64,
    pub agent_version: String,
    pub os: Option<Update<section::Os>>,
    pub hardware: Option<Update<section::Hardware>>,
    pub software: Option<Update<section::Software>>,
    pub patches: Option<Update<section::Patches>>,
    pub posture: Option<Update<section::Posture>>,
}

impl Report {
    /// A report that carries no section (the sections are set field by field).
    pub fn empty(sequence: u64, agent_version: &str) -> Self {
        Self {
            sequence,
            agent_version: agent_version.to_owned(),
            os: None,
            hardware: None,
            software: None,
            patches: None,
            posture: None,
        }
    }
}

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOutcome {
    /// The highest sequence applied for the host (the report's own unless a duplicate).
    pub applied_sequence: u64,
    /// True when the sequence had been applied already and nothing changed.
    pub duplicate: bool,
    /// One entry per known section ([`SECTIONS`]), whether reported or not.
    pub sections: Vec<SectionAck>,
}

/// The state of one section after a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionAck {
    pub section: pb::Section,
    /// The hash now held, None when the collector holds nothing for the section.
    pub hash: Option<Hash>,
    /// The update could not be applied: the agent must send the section in full.
    pub send_full: bool,
}

/// Which hosts [`HostStore::list_hosts`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFilter {
    /// `*`/`?` glob on the hostname, case-insensitive.
    pub hostname_glob: Option<String>,
    /// os-release ID, case-insensitive.
    pub os: Option<String>,
    /// Only hosts with last_seen >= now - this.
    pub seen_within_secs: Option<u64>,
    /// Only hosts with last_seen < now - this.
    pub not_seen_within_secs: Option<u64>,
    /// 0 means [`DEFAULT_PAGE_SIZE`]; capped at [`MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// From a previous page's `next_page_token`.
    pub page_token: Option<String>,
}

/// One page of hosts.
#[derive(Debug, Clone, PartialEq)]
pub struct HostPage {
    pub hosts: Vec<pb::HostSummary>,
    /// None on the last page.
    pub next_page_token: Option<String>,
}

/// Everything held about one host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostDetail {
    pub summary: pb::HostSummary,
    pub os: Option<pb::OsInfo>,
    pub hardware: Option<pb::Hardware>,
    pub software: Option<pb::Software>,
    pub patches: Option<pb::Patches>,
    pub posture: Option<pb::Posture>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "unknown enrolment token; check it was copied whole or create a new one with `wardctl token create`"
    )]
    TokenUnknown,
    #[error(
        "enrolment token expired at {}; create a new one with `wardctl token create`",
        format_time(*at)
    )]
    TokenExpired { at: i64 },
    #[error(
        "enrolment token has no uses left; create a new one with `wardctl token create --uses N`"
    )]
    TokenUsedUp,
    #[error("host {0} is already enrolled; enrol again to be given a new host id")]
    HostExists(String),
    #[error("unknown host {0}; enrol it again with a new token and `ward-agent enroll --force`")]
    UnknownHost(String),
    #[error(
        "hostname {name} is shared by several hosts ({}); name one by its id",
        ids.join(", ")
    )]
    AmbiguousHost { name: String, ids: Vec<String> },
    #[error("invalid page token; start again without one")]
    InvalidPageToken,
    #[error(
        "report sequence {0} is too large; the largest accepted is {max}; delete report-state.json in the agent's state directory to start again",
        max = i64::MAX
    )]
    SequenceOutOfRange(u64),
    #[error("failed to open database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error(
        "database {path} has schema migration {version}, which this collector does not know; run the newer ward-collector that wrote it, or restore a backup taken before the upgrade"
    )]
    SchemaTooNew { path: PathBuf, version: i64 },
    #[error("failed to bring the schema of database {path} up to date: {source}")]
    Migrate {
        path: PathBuf,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database holds a value this collector cannot read: {0}")]
    Corrupt(String),
}

/// Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
pub async fn open_sqlite(path: &Path) -> Result<Arc<dyn Store>, Error> {
    Ok(Arc::new(SqliteStore::open(path).await?))
}

/// Decodes a stored section body, None (logged) when it does not decode: every backend
/// and the pipeline treat such a section as not held.
pub fn decode_body<M: prost::Message + Default>(
    host_id: &str,
    section: pb::Section,
    body: &[u8],
) -> Option<M> {
    match M::decode(body) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!(
                host = %host_id,
                section = section.as_str_name(),
                error = %e,
                "stored section does not decode; treating it as not held until the agent sends it in full"
            );
            None
        }
    }
}

/// Formats unix seconds as RFC 3339 UTC, or the raw number when out of range.
pub fn format_time(secs: i64) -> String {
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => secs.to_string(),
    }
}

/// The sections a report can carry, in ack order.
pub const SECTIONS: [pb::Section; 5] = [
    pb::Section::Os,
    pb::Section::Hardware,
    pb::Section::Software,
    pb::Section::Patches,
    pb::Section::Posture,
];

/// Converts a stored section number, None for numbers this build does not know.
pub(crate) fn section_from_i64(n: i64) -> Option<pb::Section> {
    i32::try_from(n)
        .ok()
        .and_then(|n| pb::Section::try_from(n).ok())
        .filter(|s| *s != pb::Section::Unspecified)
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn expiry_message_names_the_time_and_the_fix() {
        let msg = Error::TokenExpired { at: 1_800_000_000 }.to_string();
        assert_eq!(
            msg,
            "enrolment token expired at 2027-01-15T08:00:00Z; create a new one with `wardctl token create`"
        );
    }

    #[test]
    fn ambiguity_lists_the_ids() {
        let msg = Error::AmbiguousHost {
            name: "web".into(),
            ids: vec!["a".into(), "b".into()],
        }
        .to_string();
        assert_eq!(
            msg,
            "hostname web is shared by several hosts (a, b); name one by its id"
        );
    }

    #[test]
    fn section_numbers_round_trip() {
        for s in SECTIONS {
            assert_eq!(section_from_i64(s as i64), Some(s));
        }
        assert_eq!(section_from_i64(0), None);
        assert_eq!(section_from_i64(99), None);
    }
}
