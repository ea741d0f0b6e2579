//! Posture end to end, with the real binaries: a running agent reads the posture every
//! `[posture] interval` and reports a change at once, on its own, so the collector's
//! posture rules raise (and resolve) alerts within an interval, not at the next hourly
//! report. One agent reads this machine (a socket the test opens and closes), one a
//! fixture root (a uid-0 account appended to its passwd).

// Helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use ward_tests::fixture::{Root, packages};
use ward_tests::{Agent, Collector};

/// How long an alert may take: a posture interval of 10 s, the report, and slack for a
/// machine shared with other builds.
const WITHIN: Duration = Duration::from_secs(40);

const POSTURE_EVERY_10S: &str = "[posture]\ninterval = \"10s\"\n";

/// Polls `wardctl alerts ARGS --output json` until an alert of `rule` whose subject
/// contains `subject` has `status`; returns it.
fn wait_for_alert(
    collector: &Collector,
    args: &[&str],
    rule: &str,
    subject: &str,
    status: &str,
) -> Value {
    let deadline = Instant::now() + WITHIN;
    let mut last = Value::Null;
    while Instant::now() < deadline {
        let mut all = vec!["alerts", "--rule", rule];
        all.extend(args);
        last = collector.wardctl_json(&all).unwrap();
        let found = last.as_array().unwrap().iter().find(|a| {
            a["rule"] == rule
                && a["subject"].as_str().unwrap().contains(subject)
                && a["status"] == status
        });
        if let Some(alert) = found {
            return alert.clone();
        }
        // Nothing to await but the collector's answer: wardctl is polled.
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!(
        "no {status} {rule} alert about {subject:?} within {WITHIN:?}; last answer: {last:#}\ncollector log:\n{}",
        collector.log()
    );
}

/// Enrols an agent for `root` and starts it with a 10 s posture interval, waiting for
/// its first report (which carries the posture: the host's baseline).
fn start_agent(collector: &Collector, root: &Path, state: &Path) -> (Agent, ward_tests::Service) {
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    let agent = Agent::enrol(collector, root, state).unwrap();
    let service = agent.start(POSTURE_EVERY_10S).unwrap();
    service
        .wait_for_lines("report acknowledged", 1, Duration::from_secs(60))
        .unwrap();
    let log = service.log();
    assert!(log.contains("posture=Some(Full)"), "{log}");
    (agent, service)
}

#[test]
fn a_new_listening_socket_raises_an_alert_within_the_posture_interval_and_resolves() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start_in(&tmp.path().join("collector"), "127.0.0.1:0").unwrap();
    let (agent, service) = start_agent(&collector, Path::new("/"), &tmp.path().join("live/state"));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let subject = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let open = wait_for_alert(&collector, &[], "posture.listening_port", &subject, "open");
    assert_eq!(open["host_id"], agent.host_id().unwrap(), "{open}");
    assert!(
        open["subject"].as_str().unwrap().starts_with("tcp/"),
        "{open}"
    );
    // Carried by a posture-only report, between hourly ones.
    service
        .wait_for_lines("posture changed; reporting it", 1, WITHIN)
        .unwrap();

    drop(listener);
    let resolved = wait_for_alert(
        &collector,
        &["--status", "all"],
        "posture.listening_port",
        &subject,
        "resolved",
    );
    assert_eq!(resolved["id"], open["id"], "the same alert resolves");
}

#[test]
fn a_new_uid0_account_in_a_fixture_root_raises_an_alert() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start_in(&tmp.path().join("collector"), "127.0.0.1:0").unwrap();
    let root = Root::create(
        &tmp.path().join("app-1/root"),
        "app-1",
        "0123456789abcdef0123456789abcd21",
    )
    .unwrap();
    root.write_packages(&packages(20, &[])).unwrap();
    let passwd = root.path.join("etc/passwd");
    std::fs::write(
        &passwd,
        "root:x:0:0:root:/root:/bin/bash\n\
         daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
         alice:x:1000:1000:Alice:/home/alice:/bin/bash\n",
    )
    .unwrap();
    std::fs::write(
        root.path.join("etc/group"),
        "root:x:0:\nsudo:x:27:alice\nalice:x:1000:\n",
    )
    .unwrap();
    let (_agent, service) = start_agent(&collector, &root.path, &tmp.path().join("app-1/state"));
    let baseline = collector
        .wardctl_json(&["alerts", "--rule", "posture.privileged_account"])
        .unwrap();
    assert_eq!(baseline, Value::Array(vec![]), "root is the baseline");

    let mut text = std::fs::read_to_string(&passwd).unwrap();
    text.push_str("toor:x:0:0::/root:/bin/sh\n");
    std::fs::write(&passwd, text).unwrap();
    let alert = wait_for_alert(
        &collector,
        &[],
        "posture.privileged_account",
        "uid0:toor",
        "open",
    );
    assert_eq!(alert["subject"], "uid0:toor", "{alert}");
    assert_eq!(alert["hostname"], "app-1", "{alert}");
    service
        .wait_for_lines("posture changed; reporting it", 1, WITHIN)
        .unwrap();
}
