//! The README's first command: `ward-collector quickstart` starts a collector, enrols this
//! machine's agent, prints its summary and the wardctl commands, stops cleanly on Ctrl-C,
//! and a second run reuses the data directory (same CA, same host).

// Helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ward_tests::bin;

/// Runs quickstart until it prints its summary, then interrupts it; returns stdout.
fn run_quickstart(data_dir: &std::path::Path) -> String {
    let mut child = Command::new(bin("ward-collector").unwrap())
        .args(["quickstart", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            if line.starts_with("Press Ctrl-C") {
                let _ = tx.send(text.clone());
            }
        }
    });
    let text = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("quickstart did not print its summary within 120 s");
        });
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "quickstart exited with {status} on Ctrl-C"
    );
    text
}

fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{text}"))
        .trim()
}

#[test]
fn quickstart_runs_and_reuses_its_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("ward-data");
    let first = run_quickstart(&data_dir);
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let machine = field(&first, "this machine");
    assert!(machine.starts_with(hostname.trim()), "{machine}");
    // The summary counts exactly what dpkg calls installed (where there is dpkg).
    if let Ok(out) = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Abbrev}\n"])
        .output()
    {
        let installed = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("ii"))
            .count();
        assert!(
            first.contains(&format!("{installed} packages installed")),
            "{first}"
        );
    }
    assert!(first.contains("wardctl -- --data-dir"), "{first}");
    assert!(first.contains(" hosts\n"), "{first}");
    assert!(first.contains(" patches\n"), "{first}");
    // The pending count is apt's own (where there is apt).
    if let Ok(out) = Command::new("apt")
        .args(["list", "--upgradable"])
        .env("LC_ALL", "C")
        .output()
    {
        let upgradable = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("[upgradable from:"))
            .count();
        assert!(
            first.contains(&format!("{upgradable} updates pending (")),
            "apt lists {upgradable} upgradable packages:\n{first}"
        );
    }
    for f in ["pki/ca.crt", "pki/admin.key", "ward.db", "agent/agent.key"] {
        assert!(data_dir.join(f).exists(), "{f} missing");
    }

    let second = run_quickstart(&data_dir);
    assert_eq!(
        field(&second, "this machine"),
        machine,
        "a second run must reuse the host"
    );
    assert_eq!(
        field(&second, "CA fingerprint"),
        field(&first, "CA fingerprint")
    );
}
