//! Updates `apt-get upgrade` keeps back, on a hand-made Debian-shaped root, checked
//! against the real `apt-get -s upgrade` pointed at the root: dpkg holds (and what an
//! exact-version dependency on a held package drags along), new dependencies,
//! Pre-Depends, Breaks and Conflicts, new Recommends, Provides, alternatives, `:any`
//! and Multi-Arch: same siblings; and `apt list --upgradable` still lists them all.

mod apt_support;

use apt_support::{apt_dirs, bootstrap, have, kept_back, run, write};

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use ward_agent::patches::apt;

const LISTS: &str = "var/lib/apt/lists/deb.example.org_debian_dists_stable";

/// (name, arch, installed version and fields, candidate version and fields, status
/// selection); a candidate of `None` is a package the list offers but nobody has.
struct Pkg {
    name: &'static str,
    arch: &'static str,
    installed: Option<(&'static str, &'static str)>,
    candidate: Option<(&'static str, &'static str)>,
    want: &'static str,
}

const fn pkg(
    name: &'static str,
    installed: Option<(&'static str, &'static str)>,
    candidate: Option<(&'static str, &'static str)>,
) -> Pkg {
    Pkg {
        name,
        arch: "amd64",
        installed,
        candidate,
        want: "install",
    }
}

/// The scenarios, and whether `apt-get upgrade` keeps each update back.
const PACKAGES: &[Pkg] = &[
    pkg("dpkg", Some(("1.21.22", "")), None),
    pkg("plain", Some(("1.0-1", "")), Some(("1.1-1", ""))),
    // A dpkg hold, and a sibling pinned to it by an exact version.
    Pkg {
        want: "hold",
        ..pkg(
            "libheld-dev",
            Some(("1.0-1", "Depends: libheld1 (= 1.0-1)\n")),
            Some(("2.0-1", "Depends: libheld1 (= 2.0-1)\n")),
        )
    },
    pkg("libheld1", Some(("1.0-1", "")), Some(("2.0-1", ""))),
    // A new dependency (a new kernel ABI), and what depends on the new version.
    pkg(
        "linux-image-amd64",
        Some(("6.1.0-9", "Depends: linux-image-6.1.0-9-amd64\n")),
        Some(("6.1.0-40", "Depends: linux-image-6.1.0-40-amd64\n")),
    ),
    pkg("linux-image-6.1.0-9-amd64", Some(("6.1.27-1", "")), None),
    pkg("linux-image-6.1.0-40-amd64", None, Some(("6.1.153-1", ""))),
    pkg(
        "linux-headers-amd64",
        Some(("6.1.0-9", "Depends: linux-image-amd64 (= 6.1.0-9)\n")),
        Some(("6.1.0-40", "Depends: linux-image-amd64 (= 6.1.0-40)\n")),
    ),
    pkg(
        "predep",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Pre-Depends: newlib (>= 1)\n")),
    ),
    pkg("newlib", None, Some(("1.0-1", ""))),
    // Breaks an installed version nothing upgrades; an installed Breaks on a candidate.
    pkg(
        "breaker",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Breaks: stays (<< 2.0)\n")),
    ),
    pkg("stays", Some(("1.0-1", "")), None),
    pkg(
        "oldguard",
        Some(("1.0-1", "Breaks: guarded (>= 2.0)\n")),
        None,
    ),
    pkg("guarded", Some(("1.0-1", "")), Some(("2.0-1", ""))),
    // Conflicts with a virtual package an installed one provides.
    pkg(
        "mta-new",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Conflicts: mail-transport-agent\n")),
    ),
    pkg(
        "exim",
        Some(("4.0-1", "Provides: mail-transport-agent\n")),
        None,
    ),
    // New Recommends: kept back unless a Recommends was already missing.
    pkg(
        "recnew",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Recommends: newlib\n")),
    ),
    pkg(
        "recmissing",
        Some(("1.0-1", "Recommends: gone\n")),
        Some(("2.0-1", "Recommends: newlib\n")),
    ),
    pkg(
        "sugnew",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Suggests: newlib\n")),
    ),
    // Satisfied through Provides, alternatives and :any; a versioned provide too old.
    pkg(
        "provider",
        Some(("1.0-1", "Provides: virt (= 1.0)\n")),
        Some(("1.5-1", "Provides: virt (= 1.5)\n")),
    ),
    pkg(
        "wantsvirt",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Depends: virt (>= 1.5)\n")),
    ),
    pkg(
        "wantsnew",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Depends: virt (>= 2)\n")),
    ),
    pkg(
        "alt",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Depends: newlib | stays (>= 1.0)\n")),
    ),
    pkg(
        "pyuser",
        Some(("1.0-1", "")),
        Some(("2.0-1", "Depends: python3x:any (>= 3.11)\n")),
    ),
    pkg(
        "python3x",
        Some(("3.11.2-1", "Multi-Arch: allowed\n")),
        None,
    ),
];

fn debian_root(root: &Path) {
    let mut status = String::new();
    let mut amd64 = String::new();
    let mut i386 = String::new();
    // Multi-Arch: same on two architectures whose candidates differ: both stay.
    let same = Some(("1.0-1", "Multi-Arch: same\n"));
    let multi_arch = [
        Pkg {
            candidate: Some(("2.0-1", "Multi-Arch: same\n")),
            ..pkg("libms", same, None)
        },
        Pkg {
            arch: "i386",
            candidate: Some(("1.5-1", "Multi-Arch: same\n")),
            ..pkg("libms", same, None)
        },
    ];
    for &Pkg {
        name,
        arch,
        installed,
        candidate,
        want,
    } in PACKAGES.iter().chain(&multi_arch)
    {
        if let Some((version, fields)) = installed {
            let _ = write!(
                status,
                "Package: {name}\nStatus: {want} ok installed\nPriority: optional\n\
Section: misc\nInstalled-Size: 10\nMaintainer: Debian\nArchitecture: {arch}\n\
Version: {version}\n{fields}Description: {name}\n\n"
            );
        }
        if let Some((version, fields)) = candidate {
            let list = if arch == "i386" {
                &mut i386
            } else {
                &mut amd64
            };
            let _ = write!(
                list,
                "Package: {name}\nArchitecture: {arch}\nVersion: {version}\nPriority: optional\n\
Section: misc\nMaintainer: Debian\nInstalled-Size: 10\n{fields}\
Filename: pool/main/{name}_{version}_{arch}.deb\nSize: 1000\nDescription: {name}\n\n"
            );
        }
    }
    write(root, "var/lib/dpkg/status", &status);
    write(root, "var/lib/dpkg/arch", "amd64\ni386\n");
    write(
        root,
        "etc/apt/sources.list",
        "deb [trusted=yes] http://deb.example.org/debian stable main\n",
    );
    write(
        root,
        &format!("{LISTS}_InRelease"),
        "Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: bookworm\nVersion: 12.8\n\
Architectures: amd64 i386\nComponents: main\n",
    );
    write(root, &format!("{LISTS}_main_binary-amd64_Packages"), &amd64);
    write(root, &format!("{LISTS}_main_binary-i386_Packages"), &i386);
    apt_dirs(root);
}

fn upgradable(boot: &Path) -> BTreeSet<String> {
    run(boot, &["apt", "list", "--upgradable"])
        .lines()
        .filter(|l| !l.starts_with("Listing") && !l.trim().is_empty())
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let name = w.first()?.split('/').next()?.split(':').next()?;
            Some(format!("{name} {}", w.get(2)?))
        })
        .collect()
}

/// apt's name for a package: `name`, with `:arch` for a foreign architecture.
fn apt_name(p: &apt::Pending) -> String {
    if p.arch == "i386" {
        format!("{}:i386", p.name)
    } else {
        p.name.clone()
    }
}

#[test]
fn held_back_equals_apt_get_upgrade() {
    if !have("apt-get") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    debian_root(&root);
    let boot = bootstrap(
        dir.path(),
        &root,
        "APT::Architectures { \"amd64\"; \"i386\"; };\n",
    );
    let pending = apt::pending(&root).expect("pending");

    let ours_upgradable: BTreeSet<String> = pending
        .iter()
        .map(|p| format!("{} {}", p.name, p.arch))
        .collect();
    assert_eq!(ours_upgradable, upgradable(&boot));

    let ours_kept: BTreeSet<String> = pending
        .iter()
        .filter(|p| p.held_back)
        .map(apt_name)
        .collect();
    let apt_kept = kept_back(&boot);
    assert_eq!(ours_kept, apt_kept);
    let expected: BTreeSet<String> = [
        "libheld-dev",
        "libheld1",
        "linux-image-amd64",
        "linux-headers-amd64",
        "predep",
        "breaker",
        "guarded",
        "mta-new",
        "recnew",
        "wantsnew",
        "libms",
        "libms:i386",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(apt_kept, expected, "the scenarios themselves");
    assert!(
        pending
            .iter()
            .all(|p| !p.phased_excluded && p.phased_percentage.is_none())
    );
}

#[test]
fn the_roots_apt_configuration_changes_what_is_kept() {
    if !have("apt-get") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    debian_root(&root);
    let boot = bootstrap(
        dir.path(),
        &root,
        "APT::Architectures { \"amd64\"; \"i386\"; };\n",
    );
    for config in [
        "APT::Install-Recommends \"false\";\n",
        "APT::Install-Suggests \"true\";\n",
        "APT { Ignore-Hold \"true\"; };\n",
    ] {
        write(&root, "etc/apt/apt.conf.d/50test", config);
        let ours: BTreeSet<String> = apt::pending(&root)
            .expect("pending")
            .iter()
            .filter(|p| p.held_back)
            .map(apt_name)
            .collect();
        assert_eq!(ours, kept_back(&boot), "{config}");
    }
}
