//! Patch rules, on the per-host summary the store keeps ([`pb::HostPatchSummary`]):
//! how long a security update has been pending, how long a reboot has been required, and
//! which hosts are the riskiest.

use std::cmp::{Ordering, Reverse};

use ward_proto::v1 as pb;

use super::{Finding, Settings, Verdict, human};
use crate::store::format_time;

/// A patch rule with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A security update has been pending on the host for at least this many seconds.
    SecurityUpdatePending { for_secs: u64 },
    /// The host has needed a reboot for at least this many seconds.
    RebootRequired { for_secs: u64 },
}

impl Rule {
    /// The alert rule this condition is.
    pub fn alert_rule(&self) -> super::Rule {
        match self {
            Rule::SecurityUpdatePending { .. } => super::Rule::SecurityOverdue,
            Rule::RebootRequired { .. } => super::Rule::RebootOverdue,
        }
    }

    /// Returns the verdict of the rule on `host` at `now`: raised when it holds,
    /// otherwise resolved with why. `repeat` says whether this look is new evidence (a
    /// report) rather than the timer.
    pub fn verdict(&self, host: &pb::HostPatchSummary, now: i64, repeat: bool) -> Verdict {
        let mut v = Verdict::new(self.alert_rule(), &host.host_id);
        match self.evaluate(host, now) {
            Some(mut f) => {
                f.repeat = repeat;
                v.raise.push(f);
            }
            None => {
                v.clear_others = Some(
                    match self {
                        Rule::SecurityUpdatePending { .. } if host.security == 0 => {
                            "security updates installed"
                        }
                        Rule::RebootRequired { .. } if !host.reboot_required => "rebooted",
                        _ => "pending for less than the threshold",
                    }
                    .to_owned(),
                );
            }
        }
        v
    }

    /// Returns the finding when the rule holds for `host` at `now`. A condition whose
    /// start is unknown (time 0, from an agent that does not say) counts as starting now:
    /// it holds for a threshold of 0 only, so no alert claims an exposure nobody measured.
    pub fn evaluate(&self, host: &pb::HostPatchSummary, now: i64) -> Option<Finding> {
        let (active, since, for_secs) = match *self {
            Rule::SecurityUpdatePending { for_secs } => {
                (host.security > 0, host.security_since, for_secs)
            }
            Rule::RebootRequired { for_secs } => {
                (host.reboot_required, host.reboot_required_since, for_secs)
            }
        };
        if !active {
            return None;
        }
        let since = if since > 0 { since.min(now) } else { now };
        let held_for = u64::try_from(now - since).unwrap_or(0);
        if held_for < for_secs {
            return None;
        }
        let summary = match self {
            Rule::SecurityUpdatePending { .. } => format!(
                "{} security update{} pending on {} for {}",
                host.security,
                if host.security == 1 { "" } else { "s" },
                host.hostname,
                human(held_for)
            ),
            Rule::RebootRequired { .. } => {
                format!(
                    "{} has needed a reboot for {}",
                    host.hostname,
                    human(held_for)
                )
            }
        };
        let detail = match self {
            Rule::SecurityUpdatePending { .. } => format!(
                "{} pending, {} of them security updates; the oldest security update has waited since {}",
                host.pending,
                host.security,
                format_time(since)
            ),
            Rule::RebootRequired { .. } => format!(
                "reboot required since {}; running kernel {}, newest installed {}",
                format_time(since),
                host.running_kernel,
                host.newest_kernel
            ),
        };
        Some(Finding {
            subject: String::new(),
            summary,
            detail,
            repeat: true,
        })
    }
}

/// Returns the verdicts of both patch rules for each host's summary, with the thresholds
/// of `settings`.
pub fn verdicts(
    hosts: &[pb::HostPatchSummary],
    settings: &Settings,
    now: i64,
    repeat: bool,
) -> Vec<Verdict> {
    let security = Rule::SecurityUpdatePending {
        for_secs: settings.get(super::Rule::SecurityOverdue).threshold_secs(),
    };
    let reboot = Rule::RebootRequired {
        for_secs: settings.get(super::Rule::RebootOverdue).threshold_secs(),
    };
    hosts
        .iter()
        .flat_map(|h| {
            [
                security.verdict(h, now, repeat),
                reboot.verdict(h, now, repeat),
            ]
        })
        .collect()
}

/// Orders hosts riskiest first: a security update pending (the longest-waiting first),
/// then a reboot required (longest first), then the most updates pending, then by
/// hostname and id. An unknown start (0) sorts after known ones.
pub fn risk_order(a: &pb::HostPatchSummary, b: &pb::HostPatchSummary) -> Ordering {
    // Oldest first; 0 (unknown) after every known time.
    let oldest = |t: i64| if t > 0 { t } else { i64::MAX };
    let key = |h: &pb::HostPatchSummary| {
        (
            Reverse(h.security > 0),
            if h.security > 0 {
                oldest(h.security_since)
            } else {
                i64::MAX
            },
            Reverse(h.security),
            Reverse(h.reboot_required),
            if h.reboot_required {
                oldest(h.reboot_required_since)
            } else {
                i64::MAX
            },
            Reverse(h.pending),
        )
    };
    key(a)
        .cmp(&key(b))
        .then_with(|| a.hostname.cmp(&b.hostname))
        .then_with(|| a.host_id.cmp(&b.host_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86400;
    const NOW: i64 = 1_800_000_000;

    fn host(
        name: &str,
        security: u32,
        security_since: i64,
        reboot_since: Option<i64>,
        pending: u32,
    ) -> pb::HostPatchSummary {
        pb::HostPatchSummary {
            host_id: format!("id-{name}"),
            hostname: name.into(),
            security,
            security_since,
            reboot_required: reboot_since.is_some(),
            reboot_required_since: reboot_since.unwrap_or(0),
            pending,
            ..Default::default()
        }
    }

    #[test]
    fn security_pending_fires_after_the_threshold_only() {
        let rule = Rule::SecurityUpdatePending {
            for_secs: 7 * 86400,
        };
        let h = host("web", 3, NOW - 8 * DAY, None, 5);
        let f = rule.evaluate(&h, NOW).expect("8 days is over 7");
        assert_eq!(f.subject, "");
        assert!(f.detail.contains("waited since"), "{}", f.detail);
        assert_eq!(f.summary, "3 security updates pending on web for 8 days");
        assert_eq!(
            rule.evaluate(&host("web", 3, NOW - 6 * DAY, None, 5), NOW),
            None
        );
        assert_eq!(rule.evaluate(&host("web", 0, 0, None, 5), NOW), None);
        // Unknown start: only a zero threshold fires.
        assert_eq!(rule.evaluate(&host("web", 1, 0, None, 1), NOW), None);
        let any = Rule::SecurityUpdatePending { for_secs: 0 };
        assert!(any.evaluate(&host("web", 1, 0, None, 1), NOW).is_some());
        // A start in the future (agent clock ahead) is now.
        assert_eq!(
            rule.evaluate(&host("web", 1, NOW + DAY, None, 1), NOW),
            None
        );
    }

    #[test]
    fn reboot_required_fires_after_the_threshold_only() {
        let rule = Rule::RebootRequired {
            for_secs: 3 * 86400,
        };
        let f = rule
            .evaluate(&host("db", 0, 0, Some(NOW - 4 * DAY), 0), NOW)
            .expect("4 days is over 3");
        assert_eq!(rule.alert_rule().id(), "patch.reboot_overdue");
        assert_eq!(f.summary, "db has needed a reboot for 4 days");
        assert_eq!(
            rule.evaluate(&host("db", 0, 0, Some(NOW - DAY), 0), NOW),
            None
        );
        assert_eq!(rule.evaluate(&host("db", 0, 0, None, 0), NOW), None);
    }

    #[test]
    fn verdicts_raise_or_say_why_they_clear() {
        let s = Settings::default();
        let hosts = [
            host("sec", 1, NOW - 8 * DAY, None, 1),
            host("clean", 0, 0, None, 0),
        ];
        let vs = verdicts(&hosts, &s, NOW, true);
        assert_eq!(vs.len(), 4);
        assert_eq!(vs[0].raise.len(), 1);
        assert_eq!(
            vs[2].clear_others.as_deref(),
            Some("security updates installed")
        );
        assert_eq!(vs[3].clear_others.as_deref(), Some("rebooted"));
    }

    #[test]
    fn riskiest_first() {
        let mut hosts = [
            host("clean", 0, 0, None, 0),
            host("many-pending", 0, 0, None, 40),
            host("reboot-old", 0, 0, Some(NOW - 9 * DAY), 1),
            host("reboot-new", 0, 0, Some(NOW - DAY), 1),
            host("sec-new", 1, NOW - DAY, None, 1),
            host("sec-old", 1, NOW - 30 * DAY, None, 1),
            host("sec-unknown", 5, 0, None, 5),
        ];
        hosts.sort_by(risk_order);
        let names: Vec<&str> = hosts.iter().map(|h| h.hostname.as_str()).collect();
        assert_eq!(
            names,
            [
                "sec-old",
                "sec-new",
                "sec-unknown",
                "reboot-old",
                "reboot-new",
                "many-pending",
                "clean"
            ]
        );
    }
}
