//! Collects this machine's inventory and checks it against what the system's own tools say.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use ward_agent::inventory::{self, Inventory};

fn live() -> Inventory {
    inventory::collect(Path::new("/")).expect("collect /")
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .trim()
        .to_owned()
}

type Row = (String, String, String);

/// Returns the (name, version, arch) rows dpkg-query reports fully installed, or `None`
/// when dpkg-query is not on this machine.
fn dpkg_query_installed() -> Option<BTreeSet<Row>> {
    let out = match Command::new("dpkg-query")
        .args([
            "-W",
            "-f=${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n",
        ])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
                "dpkg-query not available: required where WARD_REQUIRE_TOOLS is set (CI)"
            );
            eprintln!("dpkg-query not available ({e}); skipped");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "dpkg-query failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "unexpected dpkg-query line {l:?}");
            f[3].starts_with("ii")
                .then(|| (f[0].to_owned(), f[1].to_owned(), f[2].to_owned()))
        })
        .collect();
    Some(rows)
}

#[test]
fn installed_packages_match_dpkg_query() {
    // apt may be running on this machine; compare only when dpkg-query saw the same
    // database before and after the collection.
    for _ in 0..60 {
        let Some(before) = dpkg_query_installed() else {
            return;
        };
        let inv = live();
        if dpkg_query_installed().as_ref() != Some(&before) {
            std::thread::sleep(std::time::Duration::from_secs(2));
            continue;
        }
        assert!(
            !before.is_empty(),
            "dpkg-query listed no installed packages"
        );
        let got: BTreeSet<Row> = inv
            .software
            .packages
            .iter()
            .filter(|p| p.state == "installed")
            .map(|p| (p.name.clone(), p.version.clone(), p.arch.clone()))
            .collect();
        let missing: Vec<_> = before.difference(&got).collect();
        let extra: Vec<_> = got.difference(&before).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:?}, extra {extra:?}"
        );
        assert!(inv.software.packages.iter().all(|p| p.source == "deb"));
        return;
    }
    eprintln!("the dpkg database kept changing for two minutes; skipped");
}

#[test]
fn memory_cores_and_identity_match_the_kernel() {
    let inv = live();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let hw = &inv.hardware;
    assert_eq!(hw.memory.as_ref().unwrap().total_bytes, kib * 1024);

    // cpuinfo lists every online CPU; nproc only those this process may run on. The two
    // agree on this machine (2 and 2); if they ever differ, the affinity is restricted.
    let processors = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .filter(|l| l.split(':').next().is_some_and(|k| k.trim() == "processor"))
        .count();
    let nproc: usize = String::from_utf8(Command::new("nproc").output().unwrap().stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        processors, nproc,
        "this process's CPU affinity is restricted"
    );
    assert_eq!(hw.cpu.as_ref().unwrap().logical_cores as usize, nproc);

    assert_eq!(inv.os.hostname, read_trimmed("/proc/sys/kernel/hostname"));
    assert_eq!(inv.os.machine_id, read_trimmed("/etc/machine-id"));
    assert_eq!(
        inv.os.kernel_release,
        read_trimmed("/proc/sys/kernel/osrelease")
    );
    assert!(!inv.os.architecture.is_empty());
    assert!(inv.os.boot_time > 0);
}

#[test]
fn json_and_table_describe_the_same_machine() {
    let inv = live();
    let json = inventory::to_json(&inv);
    assert_eq!(json["os"]["hostname"], inv.os.hostname.as_str());
    assert_eq!(
        json["software"].as_array().unwrap().len(),
        inv.software.packages.len()
    );
    assert_eq!(
        json["hardware"]["memory"]["total_bytes"],
        inv.hardware.memory.as_ref().unwrap().total_bytes
    );
    let table = inventory::render_table(&inv);
    assert!(table.contains(&inv.os.hostname), "{table}");
    assert!(
        table.lines().count() < 200,
        "summary should not list every package:\n{table}"
    );
}

#[test]
fn collection_is_canonical_and_repeatable() {
    // Software may change between two runs if apt is busy; os facts may not.
    let (a, b) = (live(), live());
    assert_eq!(a.os, b.os);
    let mut sw = a.software.clone();
    ward_proto::digest::canonicalize_software(&mut sw);
    assert_eq!(sw, a.software, "software must already be canonical");
}
