//! Three agents, each with its own fixture root, enrol with a real collector; wardctl sees
//! them; a package change on one host travels as a small delta and the collector's state
//! follows it exactly.

// Helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use serde_json::Value;
use ward_tests::fixture::{Pkg, Root, packages};
use ward_tests::{Agent, Collector};

fn software_rows(v: &Value) -> BTreeSet<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["hostname"].as_str().unwrap().to_string(),
                m["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn three_hosts_enrol_report_and_follow_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("collector");
    let collector = Collector::start_in(&data_dir, "127.0.0.1:0").unwrap();

    let hosts = [
        (
            "web-1",
            "0123456789abcdef0123456789abcd01",
            "3.0.11-1~deb12u2",
        ),
        (
            "web-2",
            "0123456789abcdef0123456789abcd02",
            "3.0.15-1~deb12u1",
        ),
        ("db-1", "0123456789abcdef0123456789abcd03", "1:3.0.9-1"),
    ];
    let mut agents = Vec::new();
    let mut roots = Vec::new();
    for (name, mid, openssl) in hosts {
        let root = Root::create(&tmp.path().join(name).join("root"), name, mid).unwrap();
        root.write_packages(&packages(
            400,
            &[
                Pkg::installed("openssl", openssl),
                Pkg::installed("bash", "5.2.15-2+b7"),
                Pkg {
                    name: "old-tool".into(),
                    version: "0.9-1".into(),
                    arch: "amd64".into(),
                    status: "deinstall ok config-files".into(),
                },
            ],
        ))
        .unwrap();
        let state = tmp.path().join(name).join("state");
        let agent = Agent::enrol(&collector, &root.path, &state).unwrap();
        let first = agent.report().unwrap();
        assert_eq!(first["software"], "full", "{first}");
        agents.push(agent);
        roots.push(root);
    }

    // The fleet as wardctl sees it.
    let listed = collector.wardctl_json(&["hosts"]).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let names: BTreeSet<&str> = listed
        .iter()
        .map(|h| h["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["web-1", "web-2", "db-1"]));
    for h in listed {
        assert!(h["id"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(h["last_seen"].as_i64().unwrap() > 1_700_000_000);
        // 400 + openssl + bash installed; old-tool is only config-files.
        assert_eq!(h["software_count"], 402, "{h}");
    }
    let ids: BTreeSet<String> = agents.iter().map(|a| a.host_id().unwrap()).collect();
    let listed_ids: BTreeSet<String> = listed
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, listed_ids);

    // Who has openssl, and who is below a version (Debian ordering: epoch, tilde).
    let all = collector.wardctl_json(&["software", "openssl"]).unwrap();
    assert_eq!(
        software_rows(&all),
        BTreeSet::from([
            ("web-1".into(), "3.0.11-1~deb12u2".into()),
            ("web-2".into(), "3.0.15-1~deb12u1".into()),
            ("db-1".into(), "1:3.0.9-1".into()),
        ])
    );
    let below = collector
        .wardctl_json(&["software", "openssl", "--below", "3.0.15-1~deb12u1"])
        .unwrap();
    assert_eq!(
        software_rows(&below),
        BTreeSet::from([("web-1".into(), "3.0.11-1~deb12u2".into())])
    );
    let below_tilde = collector
        .wardctl_json(&["software", "openssl", "--below", "3.0.15-1"])
        .unwrap();
    assert_eq!(
        software_rows(&below_tilde).len(),
        2,
        "3.0.15-1~deb12u1 sorts before 3.0.15-1"
    );
    let config_only = collector.wardctl_json(&["software", "old-tool"]).unwrap();
    assert_eq!(
        config_only.as_array().unwrap().len(),
        0,
        "config-files packages are not installed"
    );

    // Nothing changed: the next report says so in a few bytes.
    let steady = agents[0].report().unwrap();
    assert_eq!(
        (
            steady["os"].as_str(),
            steady["hardware"].as_str(),
            steady["software"].as_str()
        ),
        (Some("unchanged"), Some("unchanged"), Some("unchanged")),
        "{steady}"
    );
    let full_bytes = steady["software_full_bytes"].as_u64().unwrap();
    assert!(steady["bytes"].as_u64().unwrap() < 300, "{steady}");

    // Upgrade openssl, remove bash, add curl on web-1.
    roots[0]
        .write_packages(&packages(
            400,
            &[
                Pkg::installed("openssl", "3.0.15-1~deb12u1"),
                Pkg::installed("curl", "7.88.1-10+deb12u8"),
                Pkg {
                    name: "old-tool".into(),
                    version: "0.9-1".into(),
                    arch: "amd64".into(),
                    status: "deinstall ok config-files".into(),
                },
            ],
        ))
        .unwrap();
    let delta = agents[0].report().unwrap();
    assert_eq!(delta["software"], "delta", "{delta}");
    let bytes = delta["bytes"].as_u64().unwrap();
    assert!(
        bytes * 20 < full_bytes,
        "delta report of {bytes} bytes vs full section of {full_bytes}"
    );

    let web1 = collector.wardctl_json(&["host", "web-1"]).unwrap();
    let pkgs: BTreeSet<(String, String, String)> = web1["software"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["version"].as_str().unwrap().into(),
                p["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(pkgs.contains(&(
        "openssl".into(),
        "3.0.15-1~deb12u1".into(),
        "installed".into()
    )));
    assert!(pkgs.contains(&(
        "curl".into(),
        "7.88.1-10+deb12u8".into(),
        "installed".into()
    )));
    assert!(!pkgs.iter().any(|p| p.0 == "bash"));
    assert!(
        !pkgs
            .iter()
            .any(|p| p.0 == "openssl" && p.1 == "3.0.11-1~deb12u2")
    );
    assert_eq!(pkgs.len(), 403);
    assert_eq!(web1["summary"]["software_count"], 402);
    assert_eq!(web1["os"]["machine_id"], "0123456789abcdef0123456789abcd01");

    let after = collector
        .wardctl_json(&["software", "openssl", "--below", "3.0.15-1~deb12u1"])
        .unwrap();
    assert!(after.as_array().unwrap().is_empty(), "{after}");
    let bash = collector.wardctl_json(&["software", "bash"]).unwrap();
    let bash_hosts: BTreeSet<String> = software_rows(&bash).into_iter().map(|r| r.0).collect();
    assert_eq!(bash_hosts, BTreeSet::from(["web-2".into(), "db-1".into()]));

    // The other hosts were not touched.
    let web2 = collector.wardctl_json(&["host", "web-2"]).unwrap();
    assert_eq!(web2["summary"]["software_count"], 402);

    // Graceful shutdown on SIGTERM; a restart on the same data directory keeps everything,
    // so agents go on sending "unchanged".
    let addr = collector.url.trim_start_matches("https://").to_string();
    let fingerprint = collector.fingerprint.clone();
    assert!(
        collector.stop().unwrap(),
        "collector did not exit cleanly on SIGTERM"
    );
    let collector = Collector::start_in(&data_dir, &addr).unwrap();
    assert_eq!(
        collector.fingerprint, fingerprint,
        "the CA changed across a restart"
    );
    assert_eq!(
        collector
            .wardctl_json(&["hosts"])
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let after_restart = agents[1].report().unwrap();
    assert_eq!(after_restart["software"], "unchanged", "{after_restart}");
    assert_eq!(after_restart["os"], "unchanged", "{after_restart}");
}
