//! Patch state end to end, with the real binaries: an agent whose root has apt lists
//! offering updates reports them, the collector keeps them, and `wardctl patches` answers
//! the fleet questions; updates installed later travel as a patches delta.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use ward_tests::fixture::{Pkg, Root, packages};
use ward_tests::{Agent, Collector};

fn hostnames(v: &Value) -> Vec<String> {
    v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hostname"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pending_updates_reach_wardctl_and_follow_upgrades() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start_in(&tmp.path().join("collector"), "127.0.0.1:0").unwrap();

    let root = Root::create(
        &tmp.path().join("web-1/root"),
        "web-1",
        "0123456789abcdef0123456789abcd11",
    )
    .unwrap();
    let installed = |openssl: &str| {
        packages(
            200,
            &[
                Pkg::installed("openssl", openssl),
                Pkg::installed("curl", "7.88.1-10+deb12u5"),
            ],
        )
    };
    root.write_packages(&installed("3.0.11-1~deb12u2")).unwrap();
    // 30 point-release updates of the generated packages, curl, and openssl's security fix.
    let newer: Vec<(String, String)> = (0..30)
        .map(|i| (format!("lib-fixture{i:04}"), format!("1.{i}.0-1+deb12u2")))
        .collect();
    let mut updates: Vec<(&str, &str, bool)> = newer
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str(), false))
        .collect();
    updates.push(("openssl", "3.0.15-1~deb12u1", true));
    updates.push(("curl", "7.88.1-10+deb12u8", false));
    root.write_apt_lists(&updates).unwrap();
    let agent = Agent::enrol(&collector, &root.path, &tmp.path().join("web-1/state")).unwrap();
    let first = agent.report().unwrap();
    assert_eq!(
        (first["patches"].as_str(), first["pending"].as_u64()),
        (Some("full"), Some(32)),
        "{first}"
    );

    // A second host with nothing pending is listed only with --all.
    let quiet = Root::create(
        &tmp.path().join("db-1/root"),
        "db-1",
        "0123456789abcdef0123456789abcd12",
    )
    .unwrap();
    quiet.write_packages(&packages(50, &[])).unwrap();
    quiet.write_apt_lists(&[]).unwrap();
    let quiet_agent =
        Agent::enrol(&collector, &quiet.path, &tmp.path().join("db-1/state")).unwrap();
    quiet_agent.report().unwrap();

    let fleet = collector.wardctl_json(&["patches"]).unwrap();
    assert_eq!(hostnames(&fleet), ["web-1"], "{fleet}");
    let web1 = &fleet["hosts"][0];
    assert_eq!(
        (web1["pending"].as_u64(), web1["security"].as_u64()),
        (Some(32), Some(1))
    );
    assert_eq!(fleet["hosts_without_patch_state"].as_u64().unwrap_or(0), 0);
    let all = collector.wardctl_json(&["patches", "--all"]).unwrap();
    assert_eq!(hostnames(&all), ["web-1", "db-1"]);

    // Nothing changed: unchanged in a few bytes.
    let steady = agent.report().unwrap();
    assert_eq!(steady["patches"], "unchanged", "{steady}");

    // openssl upgraded: the security update is gone, as a delta.
    root.write_packages(&installed("3.0.15-1~deb12u1")).unwrap();
    let after = agent.report().unwrap();
    assert_eq!(
        (after["patches"].as_str(), after["pending"].as_u64()),
        (Some("delta"), Some(31)),
        "{after}"
    );
    let detail = collector.wardctl_json(&["patches", "web-1"]).unwrap();
    let pending = detail["patches"]["pending"].as_array().unwrap();
    assert_eq!(pending.len(), 31, "{detail}");
    assert_eq!(pending[0]["name"], "curl");
    assert_eq!(pending[0]["candidate_version"], "7.88.1-10+deb12u8");
    assert!(pending.iter().all(|p| p["name"] != "openssl"));
    assert_eq!(detail["summary"]["security"].as_u64().unwrap_or(0), 0);
    assert!(
        collector.wardctl_json(&["patches", "--security"]).unwrap()["hosts"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let table = collector.wardctl(&["patches", "web-1"]).unwrap();
    assert!(
        table.contains("curl") && table.contains("bookworm"),
        "{table}"
    );
}
