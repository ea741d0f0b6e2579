//! Alerts end to end, with the real binaries on loopback: rules with short thresholds
//! raise and resolve by themselves (an overdue security update, an offline host), two
//! agents sharing a machine-id are flagged as clones, a restored agent state is noticed,
//! and `wardctl alerts watch` resumed from an event id misses nothing.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use ward_tests::fixture::{Pkg, Root, packages};
use ward_tests::{Agent, Collector, bin};

/// A collector whose timed rules run every second, with short thresholds.
const FAST_RULES: &str = r#"
[alerts]
evaluate_interval = "1s"

[rules."host.offline"]
threshold = "4s"

[rules.patch.security_overdue]
threshold = "2s"
severity = "critical"

# Fixture roots have no automatic updates configured: off, so that the event counts
# below are only those of the rules under test.
[rules."posture.auto_updates"]
enabled = false
"#;

fn status_of<'a>(alerts: &'a [Value], rule: &str, host: &str) -> Option<&'a str> {
    alerts
        .iter()
        .find(|a| a["rule"] == rule && a["host_id"] == host)
        .and_then(|a| a["status"].as_str())
}

#[test]
fn overdue_security_update_and_offline_host_raise_and_resolve_by_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start_with_config(FAST_RULES).unwrap();
    let root = Root::create(
        &tmp.path().join("web-1/root"),
        "web-1",
        "0123456789abcdef0123456789abc001",
    )
    .unwrap();
    root.write_packages(&packages(
        20,
        &[Pkg::installed("openssl", "3.0.11-1~deb12u2")],
    ))
    .unwrap();
    root.write_apt_lists(&[("openssl", "3.0.15-1~deb12u1", true)])
        .unwrap();
    let agent = Agent::enrol(&collector, &root.path, &tmp.path().join("web-1/state")).unwrap();
    let host = agent.host_id().unwrap();
    agent.report().unwrap();

    // Pending for more than 2 s: the timer raises it, with the configured severity.
    let alerts = collector
        .wait_for_alerts(&["--rule", "patch.*"], Duration::from_secs(30), |a| {
            status_of(a, "patch.security_overdue", &host) == Some("open")
        })
        .unwrap();
    let a = alerts
        .iter()
        .find(|a| a["rule"] == "patch.security_overdue")
        .unwrap();
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["hostname"], "web-1");
    assert_eq!(a["subject"], "");
    assert_eq!(a["silenced"], false);
    assert!(
        a["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 security update pending on web-1"),
        "{a}"
    );
    // Times are RFC 3339.
    assert!(
        a["first_seen"].as_str().unwrap().ends_with('Z') && a["last_seen"].is_string(),
        "{a}"
    );
    assert_eq!(a["count"], 1);

    // Not seen for 4 s (the agent reports only when told to): offline.
    collector
        .wait_for_alerts(&["--rule", "host.offline"], Duration::from_secs(30), |a| {
            status_of(a, "host.offline", &host) == Some("open")
        })
        .unwrap();

    // The update is installed and the agent reports: both resolve at once.
    root.write_packages(&packages(
        20,
        &[Pkg::installed("openssl", "3.0.15-1~deb12u1")],
    ))
    .unwrap();
    agent.report().unwrap();
    let all = collector
        .wait_for_alerts(&["--status", "all"], Duration::from_secs(10), |a| {
            status_of(a, "patch.security_overdue", &host) == Some("resolved")
                && status_of(a, "host.offline", &host) == Some("resolved")
        })
        .unwrap();
    let resolved = all
        .iter()
        .find(|a| a["rule"] == "patch.security_overdue")
        .unwrap();
    assert_eq!(resolved["resolution"], "security updates installed");
    // Resolved alerts are not listed by default.
    let open = collector
        .wardctl_json(&["alerts", "--rule", "patch.*"])
        .unwrap();
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|a| a["rule"] != "patch.security_overdue"),
        "{open}"
    );

    // The event history, streamed from the start, then resumed after an event id.
    let watch = |args: &[&str]| -> Vec<Value> {
        let out = Command::new(bin("wardctl").unwrap())
            .arg("--collector")
            .arg(&collector.url)
            .arg("--data-dir")
            .arg(&collector.data_dir)
            .args(["alerts", "watch", "--output", "json"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let everything = watch(&["--from-start", "--count", "4"]);
    let kinds: Vec<(&str, &str)> = everything
        .iter()
        .map(|e| {
            (
                e["alert"]["rule"].as_str().unwrap(),
                e["event"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds.len(), 4);
    assert_eq!(
        kinds
            .iter()
            .filter(|(r, k)| *r == "patch.security_overdue" && ["opened", "resolved"].contains(k))
            .count(),
        2,
        "{kinds:?}"
    );
    let ids: Vec<i64> = everything
        .iter()
        .map(|e| e["event"]["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let first = ids[0].to_string();
    let rest = watch(&["--after", &first, "--count", "3"]);
    let rest_ids: Vec<i64> = rest
        .iter()
        .map(|e| e["event"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(rest_ids, ids[1..]);
}

#[test]
fn alerts_watch_reconnects_and_misses_nothing_across_a_collector_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("collector");
    let config = tmp.path().join("collector.toml");
    std::fs::write(&config, FAST_RULES).unwrap();
    // A fixed port, so that the watcher reconnects to the restarted collector.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let collector = Collector::start_in_with_config(&data_dir, &listen, &config).unwrap();
    let mut agents = Vec::new();
    for (i, name) in ["a-1", "a-2", "a-3"].iter().enumerate() {
        let root = Root::create(
            &tmp.path().join(format!("{name}/root")),
            name,
            &format!("0123456789abcdef0123456789abd00{i}"),
        )
        .unwrap();
        root.write_packages(&packages(5, &[])).unwrap();
        let agent = Agent::enrol(
            &collector,
            &root.path,
            &tmp.path().join(format!("{name}/state")),
        )
        .unwrap();
        agent.report().unwrap();
        agents.push(agent);
    }
    // A watcher from now on, for 6 events: three hosts going offline, then back.
    let watcher = Command::new(bin("wardctl").unwrap())
        .arg("--collector")
        .arg(&collector.url)
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["alerts", "watch", "--output", "json", "--count", "6"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    collector
        .wait_for_alerts(&["--rule", "host.offline"], Duration::from_secs(30), |a| {
            a.len() == 3
        })
        .unwrap();
    // The collector stops (SIGTERM: its graceful shutdown must not wait for the watcher)
    // and comes back; events happen while the watcher is cut off.
    assert!(collector.stop().unwrap(), "the collector stopped cleanly");
    let collector = Collector::start_in_with_config(&data_dir, &listen, &config).unwrap();
    for agent in &agents {
        agent.report().unwrap();
    }
    let out = watcher.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "opened", "opened", "opened", "resolved", "resolved", "resolved"
        ],
        "{events:#?}"
    );
    let ids: Vec<i64> = events
        .iter()
        .map(|e| e["event"]["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "no gap: {ids:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("reconnecting"),
        "the watcher saw the collector go"
    );
    drop(collector);
}

#[test]
fn cloned_machines_and_a_restored_agent_state_are_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start_with_config(FAST_RULES).unwrap();
    // Two hosts made from one image: the same machine-id.
    let mut agents = Vec::new();
    for name in ["golden-1", "golden-2"] {
        let root = Root::create(
            &tmp.path().join(format!("{name}/root")),
            name,
            "feedfacefeedfacefeedfacefeedface",
        )
        .unwrap();
        root.write_packages(&packages(5, &[])).unwrap();
        let agent = Agent::enrol(
            &collector,
            &root.path,
            &tmp.path().join(format!("{name}/state")),
        )
        .unwrap();
        agent.report().unwrap();
        agents.push(agent);
    }
    let ids: Vec<String> = agents.iter().map(|a| a.host_id().unwrap()).collect();
    let clones = collector
        .wait_for_alerts(
            &["--rule", "host.clone_suspected"],
            Duration::from_secs(30),
            |a| a.len() == 2,
        )
        .unwrap();
    for a in &clones {
        assert_eq!(a["subject"], "feedfacefeedfacefeedfacefeedface");
        assert_eq!(a["severity"], "high");
        assert!(ids.contains(&a["host_id"].as_str().unwrap().to_string()));
    }

    // golden-1's state directory is backed up, two reports happen, and the backup is
    // restored (a VM snapshot rolled back): its next report goes back in sequence.
    let agent = &agents[0];
    let backup = tmp.path().join("backup");
    copy_dir(&agent.state_dir, &backup);
    agent.report().unwrap();
    agent.report().unwrap();
    std::fs::remove_dir_all(&agent.state_dir).unwrap();
    copy_dir(&backup, &agent.state_dir);
    agent.report().unwrap();
    let restored = collector
        .wait_for_alerts(&["--rule", "host.restored"], Duration::from_secs(10), |a| {
            !a.is_empty()
        })
        .unwrap();
    assert_eq!(restored[0]["host_id"], ids[0].as_str());
    assert_eq!(restored[0]["hostname"], "golden-1");

    // Acknowledge and resolve by hand through wardctl.
    let id = restored[0]["id"].as_i64().unwrap().to_string();
    let acked = collector
        .wardctl_json(&["alert", "ack", &id, "--note", "planned rollback"])
        .unwrap();
    assert_eq!(acked["status"], "acknowledged");
    let shown = collector.wardctl_json(&["alert", &id]).unwrap();
    let events: Vec<(&str, &str)> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["note"].as_str().unwrap()))
        .collect();
    assert_eq!(events[1], ("acknowledged", "planned rollback"));
    let resolved = collector
        .wardctl_json(&["alert", "resolve", &id, "--note", "checked"])
        .unwrap();
    assert_eq!(
        (resolved["status"].as_str(), resolved["resolution"].as_str()),
        (Some("resolved"), Some("checked"))
    );
    // Resolving it again is refused with the reason, as a usage error.
    let again = collector.wardctl_raw(&["alert", "resolve", &id]).unwrap();
    assert_eq!(again.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("is resolved"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A silence over golden-*: the clone alerts are marked, then unmarked when it ends.
    let s = collector
        .wardctl_json(&[
            "silence",
            "create",
            "--host",
            "golden-*",
            "--rule",
            "host.*",
            "--duration",
            "1h",
            "--comment",
            "re-imaging",
        ])
        .unwrap();
    let silenced = collector
        .wardctl_json(&["alerts", "--rule", "host.clone_suspected"])
        .unwrap();
    assert!(
        silenced
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["silenced"] == true),
        "{silenced}"
    );
    let listed = collector.wardctl_json(&["silence", "list"]).unwrap();
    assert_eq!(listed[0]["comment"], "re-imaging");
    collector
        .wardctl(&["silence", "expire", s["id"].as_str().unwrap()])
        .unwrap();
    let unsilenced = collector
        .wardctl_json(&["alerts", "--rule", "host.clone_suspected"])
        .unwrap();
    assert!(
        unsilenced
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["silenced"] == false),
        "{unsilenced}"
    );
    // CSV for spreadsheets: a header and one row per alert.
    let csv = collector
        .wardctl(&["alerts", "--status", "all", "--output", "csv"])
        .unwrap();
    assert!(csv.starts_with("id,rule,severity,status,silenced,host_id,hostname,subject"));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
