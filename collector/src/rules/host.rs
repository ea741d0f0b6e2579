//! Host rules. On the timer, over the fleet's host rows: a host not seen for longer than
//! the threshold (`host.offline`), two live hosts with one machine-id
//! (`host.clone_suspected`), an agent certificate that expires within the threshold
//! (`agent.certificate_expiring`). In a report: an agent whose state went backwards
//! (`host.restored`).

use std::collections::BTreeMap;

use super::{Finding, Rule, Settings, Verdict, human};
use crate::store::HostRecord;
use crate::store::format_time;

/// Returns the verdict of `host.restored` for a report whose sequence is below the one
/// the collector applied last: the agent's state directory went back in time (a VM
/// snapshot or a backup was restored), so it may also have lost what it knew.
pub fn restored(host: &HostRecord, hostname: &str, sequence: u64) -> Verdict {
    let mut v = Verdict::new(Rule::HostRestored, &host.id);
    v.raise.push(Finding {
        subject: String::new(),
        summary: format!(
            "the agent state of {hostname} went back: report {sequence} after {} was applied",
            host.last_sequence
        ),
        detail: "a snapshot or backup of the machine was probably restored; what changed on it since then was undone".into(),
        repeat: true,
    });
    v
}

/// Returns the verdicts of the timer's host rules for every host. `watching_since` is when
/// this collector started watching: a host is not offline for the time the collector
/// itself was down (after an outage of the collector, agents get the threshold to come
/// back before the whole fleet is reported offline).
pub fn fleet(
    hosts: &[HostRecord],
    settings: &Settings,
    now: i64,
    watching_since: i64,
) -> Vec<Verdict> {
    let offline_after = settings.get(Rule::HostOffline).threshold_secs();
    let expiring_within = settings.get(Rule::CertificateExpiring).threshold_secs();
    let live = |h: &HostRecord| !h.revoked && age(now, h.last_seen) < offline_after;
    let mut by_machine: BTreeMap<&str, Vec<&HostRecord>> = BTreeMap::new();
    for h in hosts.iter().filter(|h| live(h) && !h.machine_id.is_empty()) {
        by_machine.entry(h.machine_id.as_str()).or_default().push(h);
    }
    let mut out = Vec::with_capacity(hosts.len() * 3);
    for h in hosts.iter().filter(|h| !h.revoked) {
        let mut offline = Verdict::new(Rule::HostOffline, &h.id);
        let unseen = age(now, h.last_seen);
        if age(now, h.last_seen.max(watching_since)) >= offline_after {
            offline.raise.push(Finding {
                subject: String::new(),
                summary: format!("{} has not been seen for {}", h.hostname, human(unseen)),
                detail: format!("last seen {}", format_time(h.last_seen)),
                repeat: false,
            });
        } else {
            offline.clear_others = Some("host seen again".into());
        }
        out.push(offline);

        let mut clone = Verdict::new(Rule::CloneSuspected, &h.id);
        let twins: Vec<&&HostRecord> = by_machine
            .get(h.machine_id.as_str())
            .map(|g| g.iter().filter(|o| o.id != h.id).collect())
            .unwrap_or_default();
        if live(h) && !twins.is_empty() {
            let names: Vec<String> = twins
                .iter()
                .map(|o| format!("{} ({})", o.hostname, o.id))
                .collect();
            clone.raise.push(Finding {
                subject: h.machine_id.clone(),
                summary: format!(
                    "{} shares its machine-id with {}",
                    h.hostname,
                    names.join(", ")
                ),
                detail: format!(
                    "machine-id {}: a cloned disk or VM image that kept /etc/machine-id; \
                     regenerate it on the clone (systemd-machine-id-setup) and enrol it again",
                    h.machine_id
                ),
                repeat: false,
            });
            clone.clear_others = Some("machine-id changed".into());
        } else {
            clone.clear_others = Some("machine-id no longer shared by live hosts".into());
        }
        out.push(clone);

        let mut cert = Verdict::new(Rule::CertificateExpiring, &h.id);
        let left = h.cert_not_after.saturating_sub(now);
        if u64::try_from(left).unwrap_or(0) < expiring_within {
            cert.raise.push(Finding {
                subject: h.cert_serial.clone(),
                summary: if left > 0 {
                    format!(
                        "the agent certificate of {} expires in {}",
                        h.hostname,
                        human(u64::try_from(left).unwrap_or(0))
                    )
                } else {
                    format!("the agent certificate of {} has expired", h.hostname)
                },
                detail: format!(
                    "certificate {} valid until {}; enrol the agent again before then",
                    h.cert_serial,
                    format_time(h.cert_not_after)
                ),
                repeat: false,
            });
        }
        cert.clear_others = Some("certificate replaced".into());
        out.push(cert);
    }
    out
}

fn age(now: i64, then: i64) -> u64 {
    u64::try_from(now.saturating_sub(then)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn host(id: &str, machine: &str, last_seen: i64) -> HostRecord {
        HostRecord {
            id: id.into(),
            hostname: format!("{id}.example"),
            machine_id: machine.into(),
            last_sequence: 3,
            last_seen,
            cert_serial: format!("serial-{id}"),
            cert_not_after: NOW + 365 * 86400,
            revoked: false,
        }
    }

    fn of(vs: &[Verdict], rule: Rule, id: &str) -> Verdict {
        vs.iter()
            .find(|v| v.rule == rule && v.host_id == id)
            .cloned()
            .unwrap()
    }

    #[test]
    fn offline_after_the_threshold() {
        let s = Settings::default();
        let vs = fleet(
            &[host("a", "m1", NOW - 16 * 60), host("b", "m2", NOW - 60)],
            &s,
            NOW,
            0,
        );
        let a = of(&vs, Rule::HostOffline, "a");
        assert_eq!(
            a.raise[0].summary,
            "a.example has not been seen for 16 minutes"
        );
        assert!(!a.raise[0].repeat);
        assert!(of(&vs, Rule::HostOffline, "b").raise.is_empty());
        // A collector that started 5 minutes ago gives hosts the threshold to come back.
        let vs = fleet(&[host("a", "m1", NOW - 3600)], &s, NOW, NOW - 300);
        assert!(of(&vs, Rule::HostOffline, "a").raise.is_empty());
        let vs = fleet(&[host("a", "m1", NOW - 3600)], &s, NOW + 700, NOW - 300);
        assert_eq!(of(&vs, Rule::HostOffline, "a").raise.len(), 1);
    }

    #[test]
    fn clones_are_live_hosts_sharing_a_machine_id() {
        let s = Settings::default();
        let vs = fleet(
            &[
                host("a", "m1", NOW),
                host("b", "m1", NOW - 10),
                host("c", "m1", NOW - 86400),
                host("d", "", NOW),
                host("e", "", NOW),
            ],
            &s,
            NOW,
            0,
        );
        let a = of(&vs, Rule::CloneSuspected, "a");
        assert_eq!(a.raise[0].subject, "m1");
        assert!(a.raise[0].summary.contains("b.example (b)"), "{a:?}");
        assert!(!a.raise[0].summary.contains("c.example"), "{a:?}");
        assert!(of(&vs, Rule::CloneSuspected, "c").raise.is_empty());
        assert!(of(&vs, Rule::CloneSuspected, "d").raise.is_empty());
    }

    #[test]
    fn certificates_expiring_within_the_threshold() {
        let s = Settings::default();
        let mut h = host("a", "m", NOW);
        h.cert_not_after = NOW + 10 * 86400;
        let vs = fleet(&[h], &s, NOW, 0);
        let v = of(&vs, Rule::CertificateExpiring, "a");
        assert_eq!(
            v.raise[0].summary,
            "the agent certificate of a.example expires in 10 days"
        );
        assert_eq!(v.raise[0].subject, "serial-a");
    }
}
