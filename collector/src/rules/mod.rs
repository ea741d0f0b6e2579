//! Rules: turn a host's state into findings that alerts are raised from. Each rule has a
//! stable id, a default severity and settings (`[rules.<id>]` in the collector's config).
//! Rules are pure functions of the state they are given (old and new sections of a
//! report, or the fleet's rows on a timer) and the time; the alert engine
//! (`crate::pipeline::alerts`) turns their verdicts into alerts in the same transaction.
//!
//! - [`posture`]: a new listening port, privileged account or authorized key; sshd root or
//!   password login turned on; the firewall off; the root disk unencrypted; automatic
//!   updates disabled.
//! - [`patches`]: a security update pending, or a reboot required, longer than N; and the
//!   risk order of the fleet patch view.
//! - [`software`]: packages installed or removed by a report.
//! - [`host`]: a host offline, two live hosts with one machine-id, a restored agent state,
//!   an agent certificate about to expire.
//! - [`settings`]: the `[rules.<id>]` settings.

use std::fmt;
use std::time::Duration;

use crate::store::alerts::Severity;

pub mod host;
pub mod patches;
pub mod posture;
pub mod settings;
pub mod software;

pub use settings::{RuleSettings, Settings};

/// Every rule, by its stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    ListeningPort,
    PrivilegedAccount,
    AuthorizedKey,
    SshdSetting,
    Firewall,
    DiskEncryption,
    AutoUpdates,
    SecurityOverdue,
    RebootOverdue,
    SoftwareInstalled,
    SoftwareRemoved,
    HostOffline,
    CloneSuspected,
    HostRestored,
    CertificateExpiring,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 15] = [
        Rule::ListeningPort,
        Rule::PrivilegedAccount,
        Rule::AuthorizedKey,
        Rule::SshdSetting,
        Rule::Firewall,
        Rule::DiskEncryption,
        Rule::AutoUpdates,
        Rule::SecurityOverdue,
        Rule::RebootOverdue,
        Rule::SoftwareInstalled,
        Rule::SoftwareRemoved,
        Rule::HostOffline,
        Rule::CloneSuspected,
        Rule::HostRestored,
        Rule::CertificateExpiring,
    ];

    /// The rule's stable id, part of alert fingerprints and of `[rules.<id>]`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::ListeningPort => "posture.listening_port",
            Rule::PrivilegedAccount => "posture.privileged_account",
            Rule::AuthorizedKey => "posture.authorized_key",
            Rule::SshdSetting => "posture.sshd_setting",
            Rule::Firewall => "posture.firewall",
            Rule::DiskEncryption => "posture.disk_encryption",
            Rule::AutoUpdates => "posture.auto_updates",
            Rule::SecurityOverdue => "patch.security_overdue",
            Rule::RebootOverdue => "patch.reboot_overdue",
            Rule::SoftwareInstalled => "software.installed",
            Rule::SoftwareRemoved => "software.removed",
            Rule::HostOffline => "host.offline",
            Rule::CloneSuspected => "host.clone_suspected",
            Rule::HostRestored => "host.restored",
            Rule::CertificateExpiring => "agent.certificate_expiring",
        }
    }

    /// Returns the rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// The severity of its alerts unless configured otherwise.
    pub fn default_severity(self) -> Severity {
        match self {
            Rule::PrivilegedAccount
            | Rule::AuthorizedKey
            | Rule::SshdSetting
            | Rule::SecurityOverdue
            | Rule::CloneSuspected
            | Rule::HostRestored => Severity::High,
            Rule::ListeningPort
            | Rule::Firewall
            | Rule::RebootOverdue
            | Rule::HostOffline
            | Rule::CertificateExpiring => Severity::Medium,
            Rule::DiskEncryption | Rule::AutoUpdates => Severity::Low,
            Rule::SoftwareInstalled | Rule::SoftwareRemoved => Severity::Info,
        }
    }

    /// Whether the rule runs unless configured otherwise: the noisy ones are opt-in.
    pub fn enabled_by_default(self) -> bool {
        !matches!(
            self,
            Rule::DiskEncryption | Rule::SoftwareInstalled | Rule::SoftwareRemoved
        )
    }

    /// The rule's threshold unless configured otherwise; None for rules without one.
    pub fn default_threshold(self) -> Option<Duration> {
        const DAY: u64 = 86400;
        match self {
            Rule::SecurityOverdue => Some(Duration::from_secs(7 * DAY)),
            Rule::RebootOverdue => Some(Duration::from_secs(7 * DAY)),
            Rule::HostOffline => Some(Duration::from_secs(15 * 60)),
            Rule::CertificateExpiring => Some(Duration::from_secs(30 * DAY)),
            _ => None,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// What a rule found about one subject of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What the finding is about inside the host ("tcp/0.0.0.0:8080 /usr/bin/python3";
    /// "" for the host as a whole).
    pub subject: String,
    /// One line for people.
    pub summary: String,
    /// What the rule saw, for people.
    pub detail: String,
    /// Raising it again while its alert is unresolved counts a repeat (new evidence from
    /// a report); false for rules re-checked on a timer, whose holding condition is not
    /// news.
    pub repeat: bool,
}

/// What one rule concluded about one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub rule: Rule,
    pub host_id: String,
    /// Findings to raise: open, reopen, or count a repeat.
    pub raise: Vec<Finding>,
    /// Subjects whose alerts are resolved, each with why (the condition that cleared).
    pub clear: Vec<(String, String)>,
    /// Resolve every other unresolved alert of this rule and host, with this reason: the
    /// verdict is the whole truth about the rule on the host.
    pub clear_others: Option<String>,
}

impl Verdict {
    /// An empty verdict of `rule` on `host_id`.
    pub fn new(rule: Rule, host_id: &str) -> Self {
        Self {
            rule,
            host_id: host_id.to_owned(),
            raise: Vec::new(),
            clear: Vec::new(),
            clear_others: None,
        }
    }

    /// True when the verdict changes nothing.
    pub fn is_empty(&self) -> bool {
        self.raise.is_empty() && self.clear.is_empty() && self.clear_others.is_none()
    }
}

/// The fingerprint of an alert: rule, host and subject.
pub fn fingerprint(rule: &str, host_id: &str, subject: &str) -> String {
    format!("{rule}/{host_id}/{subject}")
}

/// Formats a duration for people: whole days, or hours under two days, or minutes under
/// two hours.
pub fn human(secs: u64) -> String {
    if secs >= 2 * 86400 {
        format!("{} days", secs / 86400)
    } else if secs >= 2 * 3600 {
        format!("{} hours", secs / 3600)
    } else {
        format!("{} minutes", secs / 60)
    }
}
