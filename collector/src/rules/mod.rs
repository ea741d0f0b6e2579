//! Rules: turn a host's state into findings that alerts are raised from. Each rule is a
//! pure function of the state the store keeps and the time, so the alert pipeline (run
//! in the report transaction), `wardctl` filters and tests all ask the same question.
//!
//! - [`patches`]: "security update pending longer than N", "reboot required longer than
//!   N", and the risk order of the fleet patch view.

pub mod patches;

/// What a rule found about one host: the alert pipeline upserts an alert by
/// [`Finding::fingerprint`], so a condition that holds report after report stays one
/// alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable name ("security-update-pending").
    pub rule: &'static str,
    pub host_id: String,
    /// What the finding is about inside the host ("" for the host as a whole).
    pub subject: String,
    /// Since when the condition has held (Unix seconds).
    pub since: i64,
    /// One line for people.
    pub summary: String,
}

impl Finding {
    /// The identity of the alert this finding raises: rule, host and subject.
    pub fn fingerprint(&self) -> String {
        format!("{}/{}/{}", self.rule, self.host_id, self.subject)
    }
}
