//! Hosts and their sections: the read queries admins ask, and the write primitives the
//! report pipeline uses inside one transaction. Which primitives a report calls, in which
//! order, is decided by `crate::pipeline`, never by a backend.

use ward_proto::digest::Hash;
use ward_proto::v1 as pb;

use super::{Error, HostDetail, HostFilter, HostPage, HostStatus, PatchFilter, PatchList};

/// Read queries on hosts and their sections.
#[async_trait::async_trait]
pub trait HostStore: Send + Sync {
    /// Returns what authentication needs to know about a host, None if unknown.
    async fn host_status(&self, host_id: &str) -> Result<Option<HostStatus>, Error>;
    /// Returns one page of hosts matching `filter`, ordered bytewise by (hostname, id)
    /// (PostgreSQL needs `COLLATE "C"` for this order and its page tokens to agree).
    async fn list_hosts(&self, filter: &HostFilter, now: i64) -> Result<HostPage, Error>;
    /// By exact id, else by exact hostname; Error::AmbiguousHost{name, ids} when several
    /// hosts share it. A section whose stored body does not decode is logged and returned
    /// as None; the agent's next report asks for it in full.
    async fn get_host(&self, id_or_hostname: &str) -> Result<Option<HostDetail>, Error>;
    /// Package rows whose name matches `name_glob` (`*`,`?` globs or exact,
    /// case-sensitive), with the host's id, hostname, last_seen, ordered by (name,
    /// hostname, host id). Version filtering is done by the caller (Debian ordering isn't
    /// SQL).
    async fn find_software(
        &self,
        name_glob: &str,
        include_not_installed: bool,
    ) -> Result<Vec<pb::SoftwareMatch>, Error>;
    /// The patch summaries of hosts matching `filter`'s hostname and os filters, in no
    /// particular order (the caller filters further and sorts by risk), with the number
    /// of matching hosts that have no patch state yet.
    async fn list_patches(&self, filter: &PatchFilter) -> Result<PatchList, Error>;
    /// One host's patch summary and section, the host named as for
    /// [`HostStore::get_host`]. The summary is that of a host with nothing reported when
    /// it has sent no patch state (the section is then None).
    async fn get_patches(
        &self,
        id_or_hostname: &str,
    ) -> Result<Option<(pb::HostPatchSummary, Option<pb::Patches>)>, Error>;
}

/// What the pipeline reads of a host row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecord {
    pub id: String,
    pub hostname: String,
    pub machine_id: String,
    /// Highest report sequence applied.
    pub last_sequence: i64,
    pub last_seen: i64,
    pub cert_serial: String,
    pub cert_not_after: i64,
    pub revoked: bool,
}

/// The host columns a host's os section is denormalised into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsColumns<'a> {
    /// Empty keeps the hostname given at enrolment.
    pub hostname: &'a str,
    pub os_id: &'a str,
    pub os_pretty_name: &'a str,
    pub kernel_release: &'a str,
    pub architecture: &'a str,
    pub machine_id: &'a str,
}

/// What the fleet view and the patch rules need of a host's patch section, in brief.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchFacts {
    pub pending: u32,
    pub security: u32,
    pub held_back: u32,
    /// Oldest `security_since` of the pending security updates; 0 when none is known.
    pub security_since: i64,
    /// Oldest `first_seen` of the pending updates; 0 when none is known.
    pub pending_since: i64,
    pub reboot_required: bool,
    /// 0 when no reboot is required or the agent did not say since when.
    pub reboot_required_since: i64,
    pub restart_units: u32,
    pub running_kernel: String,
    pub newest_kernel: String,
    /// Package managers, comma-separated.
    pub managers: String,
}

/// The write primitives on hosts and sections, inside one transaction.
#[async_trait::async_trait]
pub trait HostTx: Send {
    /// Returns the host's row, None when the host is unknown.
    async fn host(&mut self, host_id: &str) -> Result<Option<HostRecord>, Error>;
    /// Returns every host's row (for rules that look at the fleet on a timer).
    async fn hosts(&mut self) -> Result<Vec<HostRecord>, Error>;
    /// Returns the stored (section number, hash) pairs of a host, whatever their length.
    async fn section_hashes(&mut self, host_id: &str) -> Result<Vec<(i64, Vec<u8>)>, Error>;
    /// Returns the stored body of one section.
    async fn section_body(
        &mut self,
        host_id: &str,
        section: pb::Section,
    ) -> Result<Option<Vec<u8>>, Error>;
    /// Stores a section's canonical body and hash, replacing what was held.
    async fn put_section(
        &mut self,
        host_id: &str,
        section: pb::Section,
        hash: &Hash,
        body: &[u8],
        now: i64,
    ) -> Result<(), Error>;
    /// Writes the host columns that follow the os section.
    async fn set_os_columns(&mut self, host_id: &str, os: &OsColumns<'_>) -> Result<(), Error>;
    /// Writes the host columns that follow the hardware section.
    async fn set_hardware_columns(
        &mut self,
        host_id: &str,
        memory_bytes: u64,
        logical_cores: u32,
    ) -> Result<(), Error>;
    /// Deletes every package row of the host.
    async fn clear_software_rows(&mut self, host_id: &str) -> Result<(), Error>;
    /// Deletes package rows by key (name, arch, version, source).
    async fn delete_software_rows(
        &mut self,
        host_id: &str,
        packages: &[&pb::Package],
    ) -> Result<(), Error>;
    /// Inserts package rows, or updates their state when the key exists.
    async fn upsert_software_rows(
        &mut self,
        host_id: &str,
        packages: &[&pb::Package],
    ) -> Result<(), Error>;
    /// Writes the host's count of installed packages.
    async fn set_software_count(&mut self, host_id: &str, installed: u32) -> Result<(), Error>;
    /// Writes the host's patch summary, received at `now`.
    async fn put_patch_facts(
        &mut self,
        host_id: &str,
        facts: &PatchFacts,
        now: i64,
    ) -> Result<(), Error>;
    /// Records that the patch state was received again, unchanged, at `now`.
    async fn touch_patch_facts(&mut self, host_id: &str, now: i64) -> Result<(), Error>;
    /// Returns the patch summaries of every host that has reported patch state.
    async fn patch_summaries(&mut self) -> Result<Vec<pb::HostPatchSummary>, Error>;
    /// Records an applied report: sequence, last report and last seen, agent version
    /// (empty keeps it).
    async fn finish_report(
        &mut self,
        host_id: &str,
        sequence: i64,
        agent_version: &str,
        now: i64,
    ) -> Result<(), Error>;
    /// Updates last seen and the agent version (empty keeps it); false when the host is
    /// unknown.
    async fn touch_host(
        &mut self,
        host_id: &str,
        agent_version: &str,
        now: i64,
    ) -> Result<bool, Error>;
}
