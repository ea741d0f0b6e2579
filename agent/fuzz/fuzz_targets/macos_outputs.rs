//! Fuzzes the macOS parsers: `system_profiler SPApplicationsDataType -json`
//! (`parse_applications`, then `app_packages`), `pkgutil --pkgs` (`parse_pkg_ids`),
//! property lists (`parse_pkg_info`, `parse_system_version`) and `softwareupdate --list`
//! (`parse_list`, then `pending`).
//!
//! The first byte picks the parser (modulo 4): 0 system_profiler, 1 pkgutil --pkgs,
//! 2 property lists, 3 softwareupdate; the rest is the output.
//!
//! Checks: names, versions and ids are one trimmed line; app packages are sorted and
//! unique, of source "app" with the documented architectures; no package id starts with
//! `-`; pending updates are of source "pkg", unique and never nameless, security for every
//! update whose label names a security release, and an installed version only for a
//! macOS update within the running major version.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::software::macos::{
    app_packages, parse_applications, parse_pkg_ids, parse_pkg_info,
};
use ward_agent::patches::macos::{SECURITY_MARKERS, parse_list, parse_system_version, pending};

fn is_one_trimmed_line(s: &str) -> bool {
    !s.contains(|c: char| c.is_control()) && s.trim() == s
}

fn fuzz_applications(bytes: &[u8]) {
    let Ok(apps) = parse_applications(bytes) else {
        return;
    };
    let packages = app_packages(&apps);
    for w in packages.windows(2) {
        let key = |p: &ward_proto::v1::Package| (p.name.clone(), p.arch.clone(), p.version.clone());
        assert!(key(&w[0]) < key(&w[1]), "{w:?}");
    }
    for p in &packages {
        assert!(!p.name.is_empty() && is_one_trimmed_line(&p.name), "{p:?}");
        assert!(is_one_trimmed_line(&p.version), "{p:?}");
        assert_eq!(p.source, "app");
        assert!(is_one_trimmed_line(&p.vendor), "{p:?}");
        assert_eq!(p.install_time, 0, "{p:?}");
        assert!(
            ["universal", "arm64", "x86_64", "i386", "ppc", "ios", ""].contains(&p.arch.as_str()),
            "{p:?}"
        );
    }
    assert!(packages.len() <= apps.len());
}

fn fuzz_pkg_ids(bytes: &[u8]) {
    let ids = parse_pkg_ids(bytes);
    assert!(ids.len() <= bytes.iter().filter(|b| **b == b'\n').count() + 1);
    for id in &ids {
        assert!(
            !id.is_empty() && is_one_trimmed_line(id) && !id.starts_with('-'),
            "{id:?}"
        );
    }
}

fn fuzz_plists(bytes: &[u8]) {
    if let Ok(r) = parse_pkg_info(bytes) {
        assert!(!r.id.is_empty() && is_one_trimmed_line(&r.id), "{r:?}");
        assert!(is_one_trimmed_line(&r.version), "{r:?}");
        let p = r.to_package();
        assert_eq!((p.name.as_str(), p.source.as_str()), (r.id.as_str(), "pkg"));
        assert_eq!(p.install_time, r.install_time.unwrap_or(0));
    }
    if let Some(v) = parse_system_version(bytes) {
        assert!(!v.is_empty() && is_one_trimmed_line(&v), "{v:?}");
    }
}

fn fuzz_list(bytes: &[u8]) {
    let Ok(updates) = parse_list(bytes) else {
        return;
    };
    for u in &updates {
        assert!(!u.label.is_empty() || !u.title.is_empty(), "{u:?}");
        for s in [&u.label, &u.title, &u.version, &u.action] {
            assert!(is_one_trimmed_line(s), "{u:?}");
        }
        let marked = SECURITY_MARKERS.iter().any(|m| {
            u.label
                .to_ascii_lowercase()
                .contains(&m.to_ascii_lowercase())
        });
        if marked {
            assert!(u.is_security(None), "{u:?}");
        }
    }
    for running in [None, Some("14.4.1")] {
        let p = pending(&updates, running);
        assert!(p.len() <= updates.len());
        for w in p.windows(2) {
            assert!(w[0].name < w[1].name, "{w:?}");
        }
        for x in &p {
            assert!(!x.name.is_empty() && is_one_trimmed_line(&x.name), "{x:?}");
            assert_eq!(x.source, "pkg");
            if !x.installed_version.is_empty() {
                assert_eq!(Some(x.installed_version.as_str()), running, "{x:?}");
                assert!(x.security, "{x:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => fuzz_applications(rest),
        1 => fuzz_pkg_ids(rest),
        2 => fuzz_plists(rest),
        _ => fuzz_list(rest),
    }
});
