//! apt's candidate selection on a hand-made root (`tests/fixtures/apt/root`): pins that
//! hold back and force a downgrade, NotAutomatic archives, security archives, `all` and
//! foreign architectures.

mod apt_support;

use apt_support::{apt_dirs, copy_tree, fixture, have, ours};

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::Command;

use ward_agent::patches::{self, apt};

fn by_name(pending: &[apt::Pending]) -> BTreeMap<String, apt::Pending> {
    pending
        .iter()
        .map(|p| (format!("{}:{}", p.name, p.arch), p.clone()))
        .collect()
}

#[test]
fn candidates_follow_apt_policy() {
    let pending = apt::pending(&fixture()).unwrap();
    let got = by_name(&pending);
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "allpkg:all",
            "backpkg:amd64",
            "bponly:amd64",
            "downpkg:amd64",
            "ignoredpin:amd64",
            "libfoo:i386",
            "secpkg:amd64",
            "toall:amd64",
        ],
        "{pending:#?}"
    );

    // Backports (NotAutomatic + ButAutomaticUpgrades, 100) loses to the main archive
    // (500), but upgrades a package only backports has.
    assert_eq!(got["backpkg:amd64"].candidate_version, "1.1-1");
    assert_eq!(got["bponly:amd64"].candidate_version, "2.0-1~bpo12+1");
    assert_eq!(got["bponly:amd64"].suites, ["stable-backports"]);
    assert_eq!(got["bponly:amd64"].origin, "Debian Backports");

    // A 1001 pin on the stable release forces a downgrade.
    let down = &got["downpkg:amd64"];
    assert_eq!(
        (
            down.installed_version.as_str(),
            down.candidate_version.as_str()
        ),
        ("3.0-1", "2.0-1")
    );
    assert!(down.downgrade);

    // Security: from the security archive, alone or beside the main one.
    let all = &got["allpkg:all"];
    assert!(all.security);
    assert_eq!(all.candidate_version, "1.1-1");
    assert_eq!(all.origin, "Debian");
    assert_eq!(all.suite, "stable-security");
    let sec = &got["secpkg:amd64"];
    assert!(sec.security, "experimental's 7.0 is NotAutomatic");
    assert_eq!(sec.candidate_version, "1.1-1");
    assert_eq!(sec.suites, ["stable", "stable-security"]);
    assert_eq!(
        sec.suite, "stable-security",
        "security names the archive on a tie"
    );
    assert!(!got["backpkg:amd64"].security);

    // A package that became `all` upgrades from its architecture's slot; apt names it by
    // the installed architecture.
    assert_eq!(got["toall:amd64"].installed_version, "1.0-1");
    assert_eq!(got["toall:amd64"].candidate_version, "1.2-1");

    // The regex pin (no architecture) holds back the native libfoo, not the i386 one.
    assert_eq!(got["libfoo:i386"].candidate_version, "1.2-1");
    // The list of a source no longer configured (sid) is ignored, as apt ignores it.
    assert_eq!(got["secpkg:amd64"].candidate_version, "1.1-1");
    // A preferences.d file with an extension other than .pref is ignored.
    assert_eq!(got["ignoredpin:amd64"].candidate_version, "1.1-1");
    // holdpkg (pinned at its installed version) and exponly (experimental only) stay.
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("holdpkg") || n.starts_with("exponly"))
    );
    assert!(
        pending
            .iter()
            .filter(|p| p.name != "downpkg")
            .all(|p| !p.downgrade)
    );
}

#[test]
fn without_preferences_the_held_and_downgraded_packages_upgrade_normally() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(), dir.path());
    std::fs::remove_file(dir.path().join("etc/apt/preferences")).unwrap();
    std::fs::remove_dir_all(dir.path().join("etc/apt/preferences.d")).unwrap();
    let got = by_name(&apt::pending(dir.path()).unwrap());
    assert_eq!(got["holdpkg:amd64"].candidate_version, "2.0-1");
    assert_eq!(got["srcbin:amd64"].candidate_version, "2.0-1");
    assert!(
        !got.contains_key("downpkg:amd64"),
        "no downgrade without the pin"
    );
    assert_eq!(got["libfoo:amd64"].candidate_version, "1.1-1");
}

#[test]
fn without_sources_apt_reads_no_list() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(), dir.path());
    std::fs::remove_file(dir.path().join("etc/apt/sources.list")).unwrap();
    assert_eq!(apt::pending(dir.path()).unwrap(), Vec::new());
}

#[test]
fn compressed_lists_read_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(), dir.path());
    let lists = dir.path().join("var/lib/apt/lists");
    let plain = lists.join("deb.example.org_debian_dists_bookworm_main_binary-amd64_Packages");
    let bytes = std::fs::read(&plain).unwrap();
    std::fs::remove_file(&plain).unwrap();
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::new());
    enc.write_all(&bytes).unwrap();
    let mut lz4 = plain.into_os_string();
    lz4.push(".lz4");
    std::fs::write(lz4, enc.finish().unwrap()).unwrap();
    assert_eq!(
        apt::pending(dir.path()).unwrap(),
        apt::pending(&fixture()).unwrap()
    );
}

#[test]
fn a_damaged_list_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(), dir.path());
    std::fs::write(
        dir.path().join(
            "var/lib/apt/lists/deb.example.org_debian_dists_experimental_main_binary-amd64_Packages.gz",
        ),
        b"not gzip",
    )
    .unwrap();
    let msg = apt::pending(dir.path()).unwrap_err().to_string();
    assert!(msg.starts_with("failed to read "), "{msg}");
    assert!(
        msg.contains("dists_experimental_main_binary-amd64_Packages.gz"),
        "{msg}"
    );
}

#[test]
fn the_report_reads_kernels_and_the_reboot_flag() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(), dir.path());
    std::fs::create_dir_all(dir.path().join("run")).unwrap();
    std::fs::write(dir.path().join("run/reboot-required"), b"").unwrap();
    std::fs::create_dir_all(dir.path().join("proc/sys/kernel")).unwrap();
    std::fs::write(
        dir.path().join("proc/sys/kernel/osrelease"),
        b"6.1.0-9-amd64\n",
    )
    .unwrap();
    let mut status = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("var/lib/dpkg/status"))
        .unwrap();
    status
        .write_all(
            b"\nPackage: linux-image-6.1.0-40-amd64\nStatus: install ok installed\n\
Architecture: amd64\nVersion: 6.1.153-1\n\n\
Package: linux-image-6.1.0-9-amd64\nStatus: install ok installed\n\
Architecture: amd64\nVersion: 6.1.27-1\n",
        )
        .unwrap();
    let report = patches::collect(dir.path()).unwrap();
    assert!(report.reboot_required);
    assert_eq!(report.running_kernel, "6.1.0-9-amd64");
    assert_eq!(report.newest_kernel, "6.1.0-40-amd64");
    assert_eq!(report.pending.len(), 8);
    let json = patches::to_json(&report);
    assert_eq!(json["pending"].as_array().unwrap().len(), 8);
    assert_eq!(json["reboot_required"], true);
    assert!(json["restart_needed"].as_array().unwrap().is_empty());
}

/// Copies the fixture into a temporary root apt can run on, with `apt_conf` as
/// `etc/apt/apt.conf`.
fn apt_root(apt_conf: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary root");
    let root = dir.path();
    copy_tree(&fixture(), root);
    apt_dirs(root);
    std::fs::write(root.join("etc/apt/apt.conf"), apt_conf).expect("write apt.conf");
    dir
}

/// Runs `apt list --upgradable` on `root` and returns its lines as "name version arch".
fn apt_list_upgradable(root: &Path, options: &[&str]) -> BTreeSet<String> {
    let root_s = root.to_str().expect("utf-8 temporary path");
    let mut args = vec![
        format!("Dir={root_s}"),
        format!("Dir::State::status={root_s}/var/lib/dpkg/status"),
        // apt reads its configuration files before -o options, so the root's apt.conf
        // is not its own: the test passes the same settings on the command line.
        "APT::Architecture=amd64".to_owned(),
        "APT::Architectures=amd64,i386".to_owned(),
        "Dir::Etc::Trusted=/dev/null".to_owned(),
    ];
    args.extend(options.iter().map(|o| (*o).to_owned()));
    let mut cmd = Command::new("apt");
    cmd.env("LC_ALL", "C");
    for a in &args {
        cmd.args(["-o", a]);
    }
    let output = cmd
        .args(["list", "--upgradable"])
        .output()
        .expect("run apt");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with("Listing") && !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let name = w[0].split('/').next().unwrap_or_default();
            format!("{name} {} {}", w[1], w[2])
        })
        .collect()
}

/// apt itself, pointed at a copy of the fixture, is the oracle: `apt list --upgradable`
/// must print exactly the non-downgrades computed here.
#[test]
fn apt_agrees_on_the_fixture() {
    if !have("apt") {
        return;
    }
    let dir = apt_root("");
    let ours = ours(dir.path());
    assert_eq!(ours, apt_list_upgradable(dir.path(), &[]));
    assert_eq!(ours.len(), 7, "{ours:?}");
}

/// With `APT::Default-Release` naming experimental, its NotAutomatic versions become
/// candidates at 990, for apt and here alike.
#[test]
fn apt_agrees_with_a_default_release() {
    if !have("apt") {
        return;
    }
    let dir = apt_root("APT::Default-Release \"experimental\";\n");
    let ours = ours(dir.path());
    assert_eq!(
        ours,
        apt_list_upgradable(dir.path(), &["APT::Default-Release=experimental"])
    );
    assert!(ours.contains("exponly 5.0-1 amd64"), "{ours:?}");
    assert!(ours.contains("secpkg 7.0-1 amd64"), "{ours:?}");
}

/// Versions dpkg accepts with only a warning (`_` in the upstream part, as in old CVS
/// snapshots) are compared like any other, for apt and here alike; a version dpkg refuses
/// outright (an empty revision) is never a candidate here.
#[test]
fn apt_agrees_on_versions_outside_policy() {
    if !have("apt") {
        return;
    }
    let dir = apt_root("");
    let root = dir.path();
    let append = |rel: &str, text: &str| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(root.join(rel))
            .expect("open a fixture file for appending");
        f.write_all(text.as_bytes())
            .expect("append to a fixture file");
    };
    append(
        "var/lib/dpkg/status",
        "\nPackage: cvssnap\nStatus: install ok installed\nArchitecture: amd64\n\
         Version: 2.0.37+cvs.JCW_PRE2_2037-1\n",
    );
    append(
        "var/lib/apt/lists/deb.example.org_debian_dists_bookworm_main_binary-amd64_Packages",
        "\nPackage: cvssnap\nArchitecture: amd64\nVersion: 2.0.38+cvs.JCW_PRE2_2038-1\n",
    );
    let ours = ours(root);
    assert!(
        ours.contains("cvssnap 2.0.38+cvs.JCW_PRE2_2038-1 amd64"),
        "{ours:?}"
    );
    assert_eq!(ours, apt_list_upgradable(root, &[]));

    // "1.0-" has an empty revision: dpkg could not install it, and it is not offered.
    append(
        "var/lib/apt/lists/deb.example.org_debian_dists_bookworm_main_binary-amd64_Packages",
        "\nPackage: backpkg\nArchitecture: amd64\nVersion: 9.0-\n",
    );
    let pending = apt::pending(root).expect("pending");
    let backpkg = pending
        .iter()
        .find(|p| p.name == "backpkg")
        .expect("backpkg");
    assert_eq!(backpkg.candidate_version, "1.1-1");
}
