//! Ubuntu's phased updates on a hand-made Ubuntu-shaped root (noble, noble-updates with
//! `Phased-Update-Percentage`, noble-security), checked against the real apt pointed at
//! the root: for several machine ids, the updates `apt-get -s upgrade` keeps back are the
//! ones marked phased-excluded and held back here, and `apt list --upgradable` still
//! lists them all; `Never`/`Always-Include-Phased-Updates` and `APT::Machine-ID` from
//! the root's own configuration are followed the same way.

mod apt_support;

use apt_support::{apt_dirs, bootstrap, have, kept_back, run, write};

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use ward_agent::patches::apt;

const ARCHIVE: &str = "archive.ubuntu.test_ubuntu_dists";
const SECURITY: &str = "security.ubuntu.test_ubuntu_dists";

/// Phased candidates: (package, percentage) from their own source, at 1.1-1.
const PHASED: &[(&str, u32)] = &[
    ("p00", 0),
    ("p10", 10),
    ("p20", 20),
    ("p30", 30),
    ("p40", 40),
    ("p50", 50),
    ("p60", 60),
    ("p70", 70),
    ("p80", 80),
    ("p99", 99),
];

fn release(suite: &str) -> String {
    format!(
        "Origin: Ubuntu\nLabel: Ubuntu\nSuite: {suite}\nVersion: 24.04\nCodename: noble\n\
Date: Thu, 25 Apr 2024 15:10:33 UTC\nArchitectures: amd64\nComponents: main\n\
Description: Ubuntu Noble 24.04\n"
    )
}

fn stanza(out: &mut String, name: &str, version: &str, extra: &str) {
    let _ = write!(
        out,
        "Package: {name}\nArchitecture: amd64\nVersion: {version}\nPriority: optional\n\
Section: misc\nMaintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>\n\
Installed-Size: 10\nFilename: pool/main/{name}_{version}_amd64.deb\nSize: 1000\n\
{extra}Description: {name}\n\n"
    );
}

/// Builds the Ubuntu-shaped root.
fn ubuntu_root(root: &Path) {
    let mut status = String::new();
    let mut noble = String::new();
    let mut updates = String::new();
    let mut security = String::new();
    let mut installed = |name: &str, extra: &str| {
        let _ = write!(
            status,
            "Package: {name}\nStatus: install ok installed\nPriority: optional\n\
Section: misc\nInstalled-Size: 10\nMaintainer: Ubuntu\nArchitecture: amd64\n\
Version: 1.0-1\n{extra}Description: {name}\n\n"
        );
    };
    installed("dpkg", "");
    for (name, pct) in PHASED {
        installed(name, "");
        stanza(&mut noble, name, "1.0-1", "");
        stanza(
            &mut updates,
            name,
            "1.1-1",
            &format!("Phased-Update-Percentage: {pct}\n"),
        );
    }
    // Two binaries of one source: one decision for both.
    for name in ["bin-a", "bin-b"] {
        installed(name, "Source: shared\n");
        stanza(&mut noble, name, "1.0-1", "Source: shared\n");
        stanza(
            &mut updates,
            name,
            "2.0-1+b1",
            "Source: shared (2.0-1)\nPhased-Update-Percentage: 30\n",
        );
    }
    // A security update between the installed version and the phased candidate: apt
    // does not keep it back.
    installed("secmid", "");
    stanza(&mut noble, "secmid", "1.0-1", "");
    stanza(&mut security, "secmid", "1.0-1ubuntu0.1", "");
    stanza(
        &mut updates,
        "secmid",
        "1.1-1",
        "Phased-Update-Percentage: 1\n",
    );
    // The phased candidate itself also in -security: apt 2.x looks only between.
    installed("secboth", "");
    stanza(&mut security, "secboth", "1.1-1", "");
    stanza(
        &mut updates,
        "secboth",
        "1.1-1",
        "Phased-Update-Percentage: 1\n",
    );
    // Fully phased in, and not phased.
    installed("full", "");
    stanza(
        &mut updates,
        "full",
        "1.1-1",
        "Phased-Update-Percentage: 100\n",
    );
    installed("plain", "");
    stanza(&mut updates, "plain", "1.1-1", "");

    write(root, "var/lib/dpkg/status", &status);
    write(
        root,
        "etc/apt/sources.list",
        "deb [trusted=yes] http://archive.ubuntu.test/ubuntu noble main\n\
deb [trusted=yes] http://archive.ubuntu.test/ubuntu noble-updates main\n\
deb [trusted=yes] http://security.ubuntu.test/ubuntu noble-security main\n",
    );
    let lists = "var/lib/apt/lists";
    write(
        root,
        &format!("{lists}/{ARCHIVE}_noble_InRelease"),
        &release("noble"),
    );
    write(
        root,
        &format!("{lists}/{ARCHIVE}_noble-updates_InRelease"),
        &release("noble-updates"),
    );
    write(
        root,
        &format!("{lists}/{SECURITY}_noble-security_InRelease"),
        &release("noble-security"),
    );
    write(
        root,
        &format!("{lists}/{ARCHIVE}_noble_main_binary-amd64_Packages"),
        &noble,
    );
    write(
        root,
        &format!("{lists}/{ARCHIVE}_noble-updates_main_binary-amd64_Packages"),
        &updates,
    );
    write(
        root,
        &format!("{lists}/{SECURITY}_noble-security_main_binary-amd64_Packages"),
        &security,
    );
    apt_dirs(root);
}

fn upgradable(boot: &Path) -> BTreeSet<String> {
    run(boot, &["apt", "list", "--upgradable"])
        .lines()
        .filter(|l| !l.starts_with("Listing") && !l.trim().is_empty())
        .filter_map(|l| l.split('/').next().map(str::to_owned))
        .collect()
}

struct Ours {
    pending: BTreeSet<String>,
    held_back: BTreeSet<String>,
    phased_excluded: BTreeSet<String>,
}

fn ours(root: &Path) -> Ours {
    let pending = apt::pending(root).expect("pending");
    let names = |f: &dyn Fn(&apt::Pending) -> bool| {
        pending
            .iter()
            .filter(|p| f(p))
            .map(|p| p.name.clone())
            .collect::<BTreeSet<_>>()
    };
    for p in &pending {
        let want = PHASED
            .iter()
            .find(|(n, _)| *n == p.name)
            .map(|(_, pct)| *pct)
            .or(match p.name.as_str() {
                "bin-a" | "bin-b" => Some(30),
                "secmid" | "secboth" => Some(1),
                _ => None,
            })
            // Under Phase-Policy secmid's candidate can be its security update instead.
            .filter(|_| p.candidate_version != "1.0-1ubuntu0.1");
        assert_eq!(p.phased_percentage, want, "{}", p.name);
    }
    Ours {
        pending: names(&|_| true),
        held_back: names(&|p| p.held_back),
        phased_excluded: names(&|p| p.phased_excluded),
    }
}

fn machine_id(i: u64) -> String {
    let a = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d;
    let b = a.rotate_left(17).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    format!("{a:016x}{b:016x}")
}

#[test]
fn phased_updates_are_kept_back_as_apt_keeps_them() {
    if !have("apt-get") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    ubuntu_root(&root);
    let boot = bootstrap(dir.path(), &root, "APT::Architectures { \"amd64\"; };\n");
    let mut kept_any = BTreeSet::new();
    let mut upgraded_any = BTreeSet::new();
    for i in 0..12 {
        let id = machine_id(i);
        write(&root, "etc/machine-id", &format!("{id}\n"));
        let ours = ours(&root);
        let apt_kept = kept_back(&boot);
        assert_eq!(ours.held_back, apt_kept, "machine id {id}");
        assert_eq!(ours.phased_excluded, apt_kept, "machine id {id}");
        assert_eq!(ours.pending, upgradable(&boot), "machine id {id}");
        assert!(!apt_kept.contains("secmid") && !apt_kept.contains("full"));
        assert_eq!(apt_kept.contains("bin-a"), apt_kept.contains("bin-b"));
        kept_any.extend(apt_kept.iter().cloned());
        upgraded_any.extend(ours.pending.difference(&apt_kept).cloned());
    }
    // The machine ids cover both outcomes for most percentages.
    for (name, _) in &PHASED[1..9] {
        assert!(
            kept_any.contains(*name) && upgraded_any.contains(*name),
            "{name}: kept {kept_any:?}, upgraded {upgraded_any:?}"
        );
    }
    assert!(kept_any.contains("p00") && kept_any.contains("secboth"));
}

#[test]
fn the_phasing_options_and_machine_id_of_the_root_are_followed() {
    if !have("apt-get") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    ubuntu_root(&root);
    let boot = bootstrap(dir.path(), &root, "APT::Architectures { \"amd64\"; };\n");
    write(&root, "etc/machine-id", &format!("{}\n", machine_id(1)));
    let conf = "etc/apt/apt.conf.d/99phasing";
    for (config, expect_all, expect_none) in [
        (
            "APT::Get::Never-Include-Phased-Updates \"true\";\n",
            true,
            false,
        ),
        (
            "Update-Manager { Always-Include-Phased-Updates \"yes\"; };\n",
            false,
            true,
        ),
        (
            "Update-Manager::Never-Include-Phased-Updates \"1\";\n\
APT::Get::Never-Include-Phased-Updates \"false\";\n",
            false,
            false,
        ),
        (
            "APT::Machine-ID \"00000000000000000000000000000000\";\n",
            false,
            false,
        ),
        // Phasing through the policy: excluded versions drop to priority 1, so they are
        // not candidates at all, and nothing is kept back.
        ("APT::Get::Phase-Policy \"true\";\n", false, true),
    ] {
        write(&root, conf, config);
        let ours = ours(&root);
        let apt_kept = kept_back(&boot);
        assert_eq!(ours.held_back, apt_kept, "{config}");
        assert_eq!(ours.pending, upgradable(&boot), "{config}");
        let phased: BTreeSet<String> = PHASED
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .chain(["bin-a", "bin-b", "secboth"].map(String::from))
            .collect();
        if expect_all {
            assert_eq!(apt_kept, phased, "{config}");
        }
        if expect_none {
            assert!(apt_kept.is_empty(), "{config}: {apt_kept:?}");
        }
    }
    // Without any machine id apt includes every phased update.
    std::fs::remove_file(root.join(conf)).unwrap();
    std::fs::remove_file(root.join("etc/machine-id")).unwrap();
    assert!(ours(&root).held_back.is_empty());
    assert!(kept_back(&boot).is_empty());
}
