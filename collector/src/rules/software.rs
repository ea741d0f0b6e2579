//! Software rules, on the old and new software section of a report: packages installed
//! and packages removed, one alert per report listing them (off by default: servers that
//! change often would fill the alert list). An upgrade is neither.

use std::collections::BTreeSet;

use ward_proto::v1 as pb;

use super::{Finding, Rule, Verdict};
use crate::sections::Change;
use crate::sections::software::INSTALLED;

/// Most package names one alert's detail lists.
const MAX_LISTED: usize = 50;

/// Returns the verdicts of the software rules on a changed software section of report
/// `sequence`. The first software section of a host is its baseline.
pub fn evaluate(
    host_id: &str,
    hostname: &str,
    sequence: u64,
    change: &Change<pb::Software>,
) -> Vec<Verdict> {
    let mut installed = Verdict::new(Rule::SoftwareInstalled, host_id);
    let mut removed = Verdict::new(Rule::SoftwareRemoved, host_id);
    if let Some(old) = &change.old {
        let before = names(old);
        let after = names(&change.new);
        let subject = format!("report {sequence}");
        let added: Vec<String> = after.difference(&before).map(|k| label(*k)).collect();
        let gone: Vec<String> = before.difference(&after).map(|k| label(*k)).collect();
        if let Some(f) = finding(&subject, hostname, "installed", &added) {
            installed.raise.push(f);
        }
        if let Some(f) = finding(&subject, hostname, "removed", &gone) {
            removed.raise.push(f);
        }
    }
    vec![installed, removed]
}

/// Installed packages as (name, arch): the identity an upgrade keeps. Borrowed, so that a
/// report of a big host allocates nothing to compare them.
fn names(sw: &pb::Software) -> BTreeSet<(&str, &str)> {
    sw.packages
        .iter()
        .filter(|p| p.state == INSTALLED)
        .map(|p| (p.name.as_str(), p.arch.as_str()))
        .collect()
}

/// "name:arch", or the name alone when the format has no architecture.
fn label((name, arch): (&str, &str)) -> String {
    if arch.is_empty() {
        name.to_owned()
    } else {
        format!("{name}:{arch}")
    }
}

fn finding(subject: &str, hostname: &str, verb: &str, packages: &[String]) -> Option<Finding> {
    if packages.is_empty() {
        return None;
    }
    let n = packages.len();
    let shown: Vec<&str> = packages.iter().take(5).map(String::as_str).collect();
    let more = if n > shown.len() {
        format!(" and {} more", n - shown.len())
    } else {
        String::new()
    };
    let mut detail = packages
        .iter()
        .take(MAX_LISTED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    if n > MAX_LISTED {
        detail.push_str(&format!("\n... and {} more", n - MAX_LISTED));
    }
    Some(Finding {
        subject: subject.to_owned(),
        summary: format!(
            "{n} package{} {verb} on {hostname}: {}{more}",
            if n == 1 { "" } else { "s" },
            shown.join(", ")
        ),
        detail,
        repeat: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sw(pkgs: &[(&str, &str)]) -> pb::Software {
        pb::Software {
            packages: pkgs
                .iter()
                .map(|(n, v)| pb::Package {
                    name: (*n).into(),
                    version: (*v).into(),
                    arch: "amd64".into(),
                    state: INSTALLED.into(),
                    ..Default::default()
                })
                .collect(),
        }
    }

    #[test]
    fn installs_and_removals_are_listed_upgrades_are_not() {
        let change = Change {
            old: Some(sw(&[("a", "1"), ("b", "1")])),
            new: sw(&[("a", "2"), ("c", "1")]),
            by_delta: true,
        };
        let vs = evaluate("h", "web", 7, &change);
        assert_eq!(vs[0].raise[0].subject, "report 7");
        assert_eq!(
            vs[0].raise[0].summary,
            "1 package installed on web: c:amd64"
        );
        assert_eq!(vs[1].raise[0].summary, "1 package removed on web: b:amd64");
        let first = Change {
            old: None,
            new: sw(&[("a", "1")]),
            by_delta: false,
        };
        assert!(
            evaluate("h", "web", 1, &first)
                .iter()
                .all(Verdict::is_empty)
        );
    }
}
