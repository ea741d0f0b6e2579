//! The pending updates computed from apt's files on this machine equal what apt itself
//! answers (`apt list --upgradable`), security flag included; the ones held back equal
//! what `apt-get -s upgrade` keeps back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use ward_agent::patches::{self, apt};

/// Parses `apt list --upgradable` lines, `name/suite1,suite2 VERSION ARCH [upgradable
/// from: OLD]`, into name -> (version, suites).
fn parse_apt_list(out: &str) -> BTreeMap<String, (String, Vec<String>, String)> {
    let mut map = BTreeMap::new();
    for line in out.lines() {
        if line.starts_with("Listing") || line.trim().is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name_suites), Some(version), Some(arch)) =
            (words.next(), words.next(), words.next())
        else {
            panic!("unexpected apt list line {line:?}");
        };
        let (name, suites) = name_suites
            .split_once('/')
            .unwrap_or_else(|| panic!("unexpected apt list line {line:?}"));
        // Foreign-architecture packages print as name:arch.
        let name = name.split(':').next().unwrap_or(name).to_owned();
        let suites = suites.split(',').map(str::to_owned).collect();
        map.insert(name, (version.to_owned(), suites, arch.to_owned()));
    }
    map
}

#[test]
fn pending_equals_apt_list_upgradable() {
    let output = match Command::new("apt")
        .args(["list", "--upgradable"])
        .env("LC_ALL", "C")
        .output()
    {
        Ok(o) if o.status.success() => o,
        other => {
            assert!(
                std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
                "WARD_REQUIRE_TOOLS is set but `apt list --upgradable` failed: {other:?}"
            );
            eprintln!("skipping: apt is not available here ({other:?})");
            return;
        }
    };
    let apt_says = parse_apt_list(&String::from_utf8_lossy(&output.stdout));
    let pending = apt::pending(Path::new("/")).expect("pending updates from apt's files");

    let ours: BTreeSet<(String, String)> = pending
        .iter()
        .filter(|p| !p.downgrade)
        .map(|p| (p.name.clone(), p.candidate_version.clone()))
        .collect();
    let theirs: BTreeSet<(String, String)> = apt_says
        .iter()
        .map(|(n, (v, _, _))| (n.clone(), v.clone()))
        .collect();
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    let only_apt: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_apt.is_empty(),
        "pending differs from apt list --upgradable\nonly ours: {only_ours:?}\nonly apt: {only_apt:?}"
    );

    let mut security = 0;
    for p in pending.iter().filter(|p| !p.downgrade) {
        let (_, suites, arch) = &apt_says[&p.name];
        assert_eq!(&p.arch, arch, "architecture of {}", p.name);
        let apt_security = suites.iter().any(|s| s.ends_with("-security"));
        assert_eq!(
            p.security, apt_security,
            "security flag of {} ({:?}) vs apt's suites {suites:?}",
            p.name, p.suites
        );
        let mut apt_suites = suites.clone();
        apt_suites.sort();
        assert_eq!(p.suites, apt_suites, "suites of {}", p.name);
        security += usize::from(p.security);
    }
    eprintln!(
        "apt list --upgradable: {} packages; ward: {} pending ({security} security), equal",
        apt_says.len(),
        ours.len()
    );
}

/// The packages `apt-get -s upgrade` keeps back, as `name` or `name:arch`.
fn parse_kept_back(out: &str) -> BTreeSet<String> {
    let mut kept = BTreeSet::new();
    let mut lines = out.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("The following packages have been kept back") {
            for l in lines.by_ref() {
                if !l.starts_with("  ") {
                    break;
                }
                kept.extend(l.split_whitespace().map(str::to_owned));
            }
            break;
        }
    }
    kept
}

#[test]
fn held_back_equals_apt_get_upgrade() {
    let output = match Command::new("apt-get")
        .args(["-s", "upgrade"])
        .env("LC_ALL", "C")
        .output()
    {
        Ok(o) if o.status.success() => o,
        other => {
            assert!(
                std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
                "WARD_REQUIRE_TOOLS is set but `apt-get -s upgrade` failed: {other:?}"
            );
            eprintln!("skipping: apt-get is not available here ({other:?})");
            return;
        }
    };
    let apt_kept = parse_kept_back(&String::from_utf8_lossy(&output.stdout));
    let native = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let pending = apt::pending(Path::new("/")).expect("pending updates from apt's files");
    let ours: BTreeSet<String> = pending
        .iter()
        .filter(|p| p.held_back && !p.downgrade)
        .map(|p| {
            if p.arch == native || p.arch == "all" {
                p.name.clone()
            } else {
                format!("{}:{}", p.name, p.arch)
            }
        })
        .collect();
    assert_eq!(
        ours, apt_kept,
        "held back vs apt-get -s upgrade's kept back"
    );
    eprintln!(
        "apt-get -s upgrade keeps back {} packages; ward holds back {}, equal",
        apt_kept.len(),
        ours.len()
    );
}

#[test]
fn the_live_report_describes_this_machine() {
    let report = patches::collect(Path::new("/")).expect("patch state of /");
    let osrelease = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    assert_eq!(report.running_kernel, osrelease.trim());
    for unit in &report.restart_needed {
        assert!(!unit.pids.is_empty() && !unit.files.is_empty(), "{unit:?}");
    }
    let json = patches::to_json(&report);
    assert_eq!(
        json["pending"].as_array().map(Vec::len),
        Some(report.pending.len())
    );
    eprintln!("{}", patches::render_table(&report));
}
