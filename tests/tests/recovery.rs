//! A collector restored from an older backup loses what agents reported since. A running
//! agent notices at its next heartbeat (the collector does not hold the hashes it names)
//! and sends those sections in full, so the fleet state heals without anyone acting.

// Helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ward_tests::fixture::{Pkg, Root, packages};
use ward_tests::{Agent, Collector, bin};

fn copy_db(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["ward.db", "ward.db-wal", "ward.db-shm"] {
        let _ = std::fs::remove_file(to.join(f));
        if from.join(f).exists() {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    }
}

fn curl_version(collector: &Collector) -> Option<String> {
    let v = collector.wardctl_json(&["software", "curl"]).unwrap();
    v.as_array()
        .unwrap()
        .first()
        .map(|m| m["version"].as_str().unwrap().to_string())
}

#[test]
fn agents_refill_a_collector_restored_from_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("collector");
    let backup = tmp.path().join("backup");
    let collector = Collector::start_in(&data_dir, "127.0.0.1:0").unwrap();
    let addr = collector.url.trim_start_matches("https://").to_string();

    let root = Root::create(
        &tmp.path().join("root"),
        "app-1",
        "11111111111111111111111111111111",
    )
    .unwrap();
    root.write_packages(&packages(
        50,
        &[Pkg::installed("curl", "7.88.1-10+deb12u5")],
    ))
    .unwrap();
    let agent = Agent::enrol(&collector, &root.path, &tmp.path().join("state")).unwrap();
    agent.report().unwrap();

    // Back up the collector as it is now (stopped, so the copy is consistent).
    assert!(collector.stop().unwrap());
    copy_db(&data_dir, &backup);
    let collector = Collector::start_in(&data_dir, &addr).unwrap();

    // The host upgrades curl and reports it.
    root.write_packages(&packages(
        50,
        &[Pkg::installed("curl", "7.88.1-10+deb12u8")],
    ))
    .unwrap();
    assert_eq!(agent.report().unwrap()["software"], "delta");
    assert_eq!(
        curl_version(&collector).as_deref(),
        Some("7.88.1-10+deb12u8")
    );

    // The agent service runs with a short heartbeat...
    let config = tmp.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = {:?}\nroot = {:?}\ninventory_interval = \"1h\"\nheartbeat_interval = \"5s\"\n",
            agent.state_dir, agent.root
        ),
    )
    .unwrap();
    let mut service = Command::new(bin("ward-agent").unwrap())
        .args(["run", "--config"])
        .arg(&config)
        .env("WARD_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = service.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str, within: Duration| {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("the agent never logged {needle:?}");
    };
    wait_for("report acknowledged", Duration::from_secs(60));

    // ...while the collector is restored from the older backup.
    assert!(collector.stop().unwrap());
    copy_db(&backup, &data_dir);
    let collector = Collector::start_in(&data_dir, &addr).unwrap();
    assert_eq!(
        curl_version(&collector).as_deref(),
        Some("7.88.1-10+deb12u5"),
        "the backup is older"
    );

    // The next heartbeat finds the collector lacking the agent's sections; they come back.
    wait_for(
        "collector asked for sections again",
        Duration::from_secs(60),
    );
    wait_for("report acknowledged", Duration::from_secs(60));
    assert_eq!(
        curl_version(&collector).as_deref(),
        Some("7.88.1-10+deb12u8")
    );

    let _ = service.kill();
    let _ = service.wait();
}
