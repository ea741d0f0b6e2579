//! `ward-agent-collect`, the program that reads the system for `ward-agent`: what the
//! service gets from it equals what collecting in process gives, `ward-agent`'s one-shot
//! commands hand over to it unchanged, and a missing helper is named with the fix.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ward_agent::collect::{self, Child, Collect, Snapshot};

const AGENT: &str = env!("CARGO_BIN_EXE_ward-agent");
const HELPER: &str = env!("CARGO_BIN_EXE_ward-agent-collect");

/// A root with this repository's dpkg status fixture, an os-release, and apt lists that
/// offer an update for one installed package.
fn root() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let write = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    write(
        "var/lib/dpkg/status",
        &std::fs::read(fixtures.join("dpkg-status-debian12.txt")).unwrap(),
    );
    write(
        "etc/os-release",
        &std::fs::read(fixtures.join("os-release-debian12.txt")).unwrap(),
    );
    write(
        "etc/apt/sources.list",
        b"deb http://deb.debian.org/debian bookworm main\n",
    );
    write(
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
        b"Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: bookworm\n\
          Architectures: amd64\nComponents: main\n",
    );
    write(
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
        b"Package: bash\nVersion: 99.0-1\nArchitecture: amd64\n\n",
    );
    write("var/lib/dpkg/arch", b"amd64\n");
    (dir, root)
}

fn run(program: &str, args: &[&str], root: &Path) -> Output {
    Command::new(program)
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn the_helpers_snapshot_equals_collecting_in_process() {
    let (_dir, root) = root();
    let from_child = block_on(Child::new(PathBuf::from(HELPER)).collect(&root)).unwrap();
    let in_process = collect::snapshot(&root).unwrap();
    assert_eq!(from_child.inventory, in_process.inventory);
    assert!(
        from_child
            .inventory
            .software
            .packages
            .iter()
            .any(|p| p.name == "bash"),
        "the fixture's packages are read"
    );
    let patches = from_child.patches.unwrap();
    assert_eq!(patches, in_process.patches.unwrap());
    assert_eq!(
        patches
            .pending
            .iter()
            .map(|p| (p.name.as_str(), p.candidate_version.as_str()))
            .collect::<Vec<_>>(),
        [("bash", "99.0-1")]
    );

    // The bytes on stdout are the whole snapshot.
    let out = run(HELPER, &["snapshot"], &root);
    assert!(out.status.success(), "{out:?}");
    let decoded = Snapshot::decode(&out.stdout).unwrap();
    assert_eq!(decoded.inventory, from_child.inventory);
}

#[test]
fn a_failing_helper_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-root");
    let e = block_on(Child::new(PathBuf::from(HELPER)).collect(&missing)).unwrap_err();
    assert!(e.contains("ward-agent-collect"), "{e}");
    assert!(e.contains("no-such-root"), "{e}");
    let e = block_on(Child::new(dir.path().join("absent")).collect(dir.path())).unwrap_err();
    assert!(e.contains("cannot run"), "{e}");

    // A helper that hangs is stopped at the timeout, and the error says so.
    let hang = dir.path().join("hang");
    std::fs::write(&hang, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&hang, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let started = std::time::Instant::now();
    let e = block_on(
        Child::new(hang)
            .with_timeout(std::time::Duration::from_millis(300))
            .collect(dir.path()),
    )
    .unwrap_err();
    assert!(e.contains("took longer than"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn ward_agent_hands_its_one_shot_commands_to_the_helper() {
    let (dir, root) = root();
    // An empty state directory: no first-seen times from this machine's own agent.
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let state = state.to_str().unwrap();
    for args in [
        &["inventory", "--json"][..],
        &["patches", "--json", "--no-cache", "--state-dir", state],
        &["patches", "--no-cache", "--state-dir", state],
    ] {
        let via_agent = run(AGENT, args, &root);
        let direct = run(HELPER, args, &root);
        assert!(via_agent.status.success(), "{args:?}: {via_agent:?}");
        assert!(!via_agent.stdout.is_empty());
        assert_eq!(via_agent.stdout, direct.stdout, "{args:?}");
    }
    // ward-agent's own parser refuses bad arguments before handing over.
    let out = Command::new(AGENT)
        .args(["patches", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}

#[test]
fn without_its_helper_ward_agent_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let lone = dir.path().join("ward-agent");
    std::fs::copy(AGENT, &lone).unwrap();
    let expected = dir.path().join("ward-agent-collect");

    let out = Command::new(&lone).args(["inventory"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "ward-agent-collect not found at {}",
            expected.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("same directory as ward-agent"), "{stderr}");

    // The service refuses to start rather than failing every report.
    let out = Command::new(&lone)
        .args(["run", "--once", "--state-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ward-agent-collect not found"));

    // A package that installs the helper elsewhere names it in WARD_AGENT_COLLECT.
    let (_root_dir, root) = root();
    let out = Command::new(&lone)
        .args(["inventory", "--json", "--root"])
        .arg(&root)
        .env(collect::HELPER_ENV, HELPER)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"bash\""));
    let out = Command::new(&lone)
        .args(["inventory"])
        .env(collect::HELPER_ENV, dir.path().join("elsewhere"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("elsewhere"),
        "{out:?}"
    );
}
