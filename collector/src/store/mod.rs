//! The collector's state behind one [`Store`] interface: hosts, their inventory sections,
//! enrolment tokens. SQLite is the embedded default; every backend passes the same suite.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use ward_proto::digest::Hash;
use ward_proto::v1 as pb;

pub mod glob;
pub mod ingest;
mod page_token;
pub mod sqlite;

#[cfg(test)]
pub(crate) mod tests;

pub use sqlite::SqliteStore;

/// Default number of hosts per page when a request asks for 0.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest number of hosts one page holds, whatever the request asks.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The collector's persistent state. Every method is one transaction.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records a new enrolment token (only its SHA-256 hash is stored).
    async fn create_token(&self, token: NewToken) -> Result<(), Error>;
    /// Checks, without consuming it, that the token with this hash could enrol a host at
    /// `now` (so that nothing is signed for a bad token). `enroll` checks again.
    async fn check_token(&self, token_hash: &[u8; 32], now: i64) -> Result<(), Error>;
    /// Consumes one use of the token with this hash and registers the host, atomically.
    /// The token is checked against `host.enrolled_at`.
    async fn enroll(&self, token_hash: &[u8; 32], host: NewHost) -> Result<(), Error>;
    /// Returns what authentication needs to know about a host, None if unknown.
    async fn host_status(&self, host_id: &str) -> Result<Option<HostStatus>, Error>;
    /// Applies a report in one transaction: see [`ingest`] for what each update does. A
    /// reported section whose stored body does not decode counts as not held, so that the
    /// agent's next full section replaces it.
    async fn apply_report(
        &self,
        host_id: &str,
        report: Report,
        now: i64,
    ) -> Result<ReportOutcome, Error>;
    /// Updates last_seen (and agent version); returns the section hashes held for the host.
    async fn heartbeat(
        &self,
        host_id: &str,
        agent_version: &str,
        now: i64,
    ) -> Result<Vec<(pb::Section, Hash)>, Error>;
    /// Returns one page of hosts matching `filter`, ordered bytewise by (hostname, id)
    /// (PostgreSQL needs `COLLATE "C"` for this order and its page tokens to agree).
    async fn list_hosts(&self, filter: &HostFilter, now: i64) -> Result<HostPage, Error>;
    /// By exact id, else by exact hostname; Error::AmbiguousHost{name, ids} when several hosts share it.
    /// A section whose stored body does not decode is logged and returned as None; the
    /// agent's next report asks for it in full.
    async fn get_host(&self, id_or_hostname: &str) -> Result<Option<HostDetail>, Error>;
    /// Package rows whose name matches `name_glob` (`*`,`?` globs or exact, case-sensitive),
    /// with the host's id, hostname, last_seen, ordered by (name, hostname, host id).
    /// Version filtering is done by the caller (Debian ordering isn't SQL).
    async fn find_software(
        &self,
        name_glob: &str,
        include_not_installed: bool,
    ) -> Result<Vec<pb::SoftwareMatch>, Error>;
    /// The patch summaries of hosts matching `filter`'s hostname and os filters, in no
    /// particular order (the caller filters further and sorts by risk), with the number
    /// of matching hosts that have no patch state yet.
    async fn list_patches(&self, filter: &PatchFilter) -> Result<PatchList, Error>;
    /// One host's patch summary and section, the host named as for [`Store::get_host`].
    /// The summary is that of a host with nothing reported when it has sent no patch
    /// state (the section is then None).
    async fn get_patches(
        &self,
        id_or_hostname: &str,
    ) -> Result<Option<(pb::HostPatchSummary, Option<pb::Patches>)>, Error>;
}

/// Which hosts [`Store::list_patches`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchFilter {
    /// `*`/`?` glob on the hostname, case-insensitive.
    pub hostname_glob: Option<String>,
    /// os-release ID, case-insensitive.
    pub os: Option<String>,
}

/// The answer of [`Store::list_patches`].
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
    pub os: Option<SectionUpdate<pb::OsInfo>>,
    pub hardware: Option<SectionUpdate<pb::Hardware>>,
    pub software: Option<SoftwareUpdate>,
    pub patches: Option<PatchesUpdate>,
}

/// An os or hardware section as a report carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum SectionUpdate<T> {
    /// Unchanged since the collector acknowledged this hash.
    Unchanged(Hash),
    /// The whole section.
    Full(T),
}

/// The software section as a report carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum SoftwareUpdate {
    /// Unchanged since the collector acknowledged this hash.
    Unchanged(Hash),
    /// The whole section.
    Full(pb::Software),
    /// The difference from the section acknowledged as the delta's base hash.
    Delta(pb::SoftwareDelta),
}

/// The patches section as a report carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchesUpdate {
    /// Unchanged since the collector acknowledged this hash.
    Unchanged(Hash),
    /// The whole section.
    Full(pb::Patches),
    /// The difference from the section acknowledged as the delta's base hash.
    Delta(pb::PatchesDelta),
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

/// Which hosts [`Store::list_hosts`] returns.
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
}

/// Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
pub async fn open_sqlite(path: &Path) -> Result<Arc<dyn Store>, Error> {
    Ok(Arc::new(SqliteStore::open(path).await?))
}

/// Formats unix seconds as RFC 3339 UTC, or the raw number when out of range.
fn format_time(secs: i64) -> String {
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => secs.to_string(),
    }
}

/// The sections a report can carry, in ack order.
pub const SECTIONS: [pb::Section; 4] = [
    pb::Section::Os,
    pb::Section::Hardware,
    pb::Section::Software,
    pb::Section::Patches,
];

/// Converts a stored section number, None for numbers this build does not know.
fn section_from_i64(n: i64) -> Option<pb::Section> {
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
