//! Patch state: pending package updates, whether a reboot is required, the running and
//! newest installed kernels, and what runs replaced code; read from a root directory.

pub mod apk;
pub mod apt;
pub mod exposure;
pub mod file_cache;
pub mod kernel;
pub mod macos;
pub mod pacman;
pub mod reboot;
pub mod restart;
pub mod rpm;
pub mod windows;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use comfy_table::{Table, presets};

use crate::inventory::software::apk as apk_db;
use crate::inventory::software::dpkg;
use crate::inventory::software::pacman as pacman_db;
use crate::inventory::software::rpm as rpm_db;

/// A machine's patch state: the `patches` section of a report (see `patches.proto`).
pub type Patches = ward_proto::v1::Patches;

/// Errors collecting the patch state.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The root to read from is not a directory.
    #[error(transparent)]
    Root(#[from] crate::inventory::root::NotADirectory),
    /// apt's or dpkg's files exist but cannot be read.
    #[error(transparent)]
    Apt(#[from] apt::Error),
    /// apk's files exist but cannot be read.
    #[error(transparent)]
    Apk(#[from] apk::Error),
    /// pacman's files exist but cannot be read.
    #[error(transparent)]
    Pacman(#[from] pacman::Error),
    /// rpm's database, or dnf's, yum's or zypper's files, exist but cannot be read.
    #[error(transparent)]
    Rpm(#[from] rpm::Error),
}

/// The cache directory used for `/` when none is given.
pub const DEFAULT_CACHE_DIR: &str = "/var/cache/ward-agent";

/// Collects the patch state of the system under `root` (`/` for this machine).
pub fn collect(root: &Path) -> Result<Patches, Error> {
    collect_with_cache(root, None)
}

/// Collects the patch state like [`collect`], keeping what the apt lists and the RPM
/// repository metadata yielded in `cache_dir` (see [`apt::cache`] and [`rpm::cache`]) so
/// that unchanged files are not read again.
pub fn collect_with_cache(root: &Path, cache_dir: Option<&Path>) -> Result<Patches, Error> {
    let opened = crate::inventory::root::Root::open(root)?;
    let mut out = Patches::default();

    // Debian and Ubuntu: dpkg's database (journal included) is read once, for the
    // pending updates (with the relations apt's upgrade resolver needs) and for the
    // installed kernels.
    if let Some((packages, extras)) = dpkg::read_with_extras(&opened).map_err(apt::Error::from)? {
        out.pending.extend(apt::pending_for(
            root,
            &packages,
            &apt::Options {
                cache_dir,
                extras: Some(&extras),
            },
        )?);
        out.newest_kernel = kernel::newest(&packages).unwrap_or_default();
        out.managers.push("apt".to_owned());
    }

    // Alpine: apk's installed database, its cached indexes and world file.
    if let Some(packages) = apk_db::read(&opened).map_err(apk::Error::from)? {
        out.pending.extend(apk::pending_for(&opened, &packages)?);
        if out.newest_kernel.is_empty() {
            out.newest_kernel = apk::newest_kernel(&opened, &packages).unwrap_or_default();
        }
        out.managers.push("apk".to_owned());
    }

    // Arch Linux: pacman's local database, its sync databases and pacman.conf.
    if let Some(local) = pacman_db::read_local(&opened).map_err(pacman::Error::from)? {
        out.pending.extend(pacman::pending_for(&opened, &local)?);
        if out.newest_kernel.is_empty() {
            out.newest_kernel = pacman::newest_kernel(&opened, &local).unwrap_or_default();
        }
        out.managers.push("pacman".to_owned());
    }

    // Windows Update and macOS softwareupdate, for the live system only; Windows also
    // sets the reboot flag from its registry keys.
    #[cfg(target_os = "windows")]
    windows::collect(&opened, &mut out);
    #[cfg(target_os = "macos")]
    macos::collect(&opened, &mut out);

    // RHEL, Fedora, SUSE: rpm's database, and the repository metadata dnf, yum or
    // zypper cached.
    if let Some(packages) = rpm_db::read(&opened).map_err(rpm::Error::from)? {
        out.pending.extend(rpm::pending_for(
            root,
            &packages,
            &rpm::Options { cache_dir },
        )?);
        if out.newest_kernel.is_empty() {
            out.newest_kernel = rpm::newest_kernel(&packages).unwrap_or_default();
        }
        out.managers.extend(rpm::managers(root));
    }

    // Each package manager found adds its pending updates (and the newest kernel, when
    // no earlier one named it) above this line.
    out.pending
        .sort_by(|a, b| (&a.name, &a.arch, &a.source).cmp(&(&b.name, &b.arch, &b.source)));
    out.running_kernel = std::fs::read_to_string(root.join("proc/sys/kernel/osrelease"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    // Or-ed with what a package manager above may have set (Windows' registry keys).
    let (reboot_required, reboot_packages) = reboot::read(root);
    out.reboot_required |= reboot_required;
    out.reboot_required_packages.extend(reboot_packages);
    out.restart_needed = restart::scan(root);
    Ok(out)
}

/// Returns the cache directory to use for `root` when none is given:
/// [`DEFAULT_CACHE_DIR`] when `root` is `/` and the directory exists or can be created
/// (mode 0700), else `None`.
pub fn default_cache_dir(root: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;

    if root != Path::new("/") {
        tracing::debug!(root = %root.display(), "no apt list cache for a root other than /");
        return None;
    }
    let dir = Path::new(DEFAULT_CACHE_DIR);
    if dir.is_dir() {
        return Some(dir.to_owned());
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Some(dir.to_owned()),
        Err(e) => {
            tracing::debug!(dir = %dir.display(), error = %e, "no apt list cache: directory cannot be created");
            None
        }
    }
}

/// Returns the JSON form: `{"pending": [{name, arch, installed_version,
/// candidate_version, replaced_by, security, origin, suite, suites, downgrade, ...}],
/// "reboot_required",
/// "running_kernel", "newest_kernel", "restart_needed": [{unit, pids, files}]}`.
pub fn to_json(p: &Patches) -> serde_json::Value {
    // Plain structs of strings, numbers, bools and lists always serialize.
    serde_json::to_value(p).unwrap_or_else(|e| {
        tracing::error!(error = %e, "patch state did not serialize to json");
        serde_json::Value::Null
    })
}

/// Formats Unix seconds as a UTC day (`2026-11-23`); "-" for 0 (unknown).
fn day(secs: i64) -> String {
    match u64::try_from(secs) {
        Ok(s) if s > 0 => {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
            humantime::format_rfc3339_seconds(t)
                .to_string()
                .chars()
                .take(10)
                .collect()
        }
        _ => "-".to_owned(),
    }
}

/// Renders the patch state as text tables for people.
pub fn render_table(p: &Patches) -> String {
    let mut out = String::new();
    let security = p.pending.iter().filter(|x| x.security).count();
    let mut summary = Table::new();
    summary.load_style(presets::NOTHING);
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    summary.add_row(vec![
        "Pending updates".to_owned(),
        format!("{} ({security} security)", p.pending.len()),
    ]);
    summary.add_row(vec![
        "Reboot required".to_owned(),
        if p.reboot_required { "yes" } else { "no" }.to_owned(),
    ]);
    summary.add_row(vec!["Running kernel".to_owned(), dash(&p.running_kernel)]);
    summary.add_row(vec!["Newest kernel".to_owned(), dash(&p.newest_kernel)]);
    summary.add_row(vec![
        "Units to restart".to_owned(),
        p.restart_needed.len().to_string(),
    ]);
    let _ = writeln!(out, "Patches\n{summary}\n");

    if !p.pending.is_empty() {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        t.set_header(vec![
            "Package",
            "Arch",
            "Installed",
            "Candidate",
            "Suite",
            "Security",
            "Pending since",
        ]);
        for x in &p.pending {
            let candidate = if x.downgrade {
                format!("{} (downgrade)", x.candidate_version)
            } else if !x.replaced_by.is_empty() {
                format!("{} {}", x.replaced_by, x.candidate_version)
            } else {
                x.candidate_version.clone()
            };
            t.add_row(vec![
                x.name.clone(),
                x.arch.clone(),
                x.installed_version.clone(),
                candidate,
                dash(&x.suites.join(",")),
                if x.security { "yes" } else { "" }.to_owned(),
                day(x.first_seen),
            ]);
        }
        let _ = writeln!(out, "Pending updates\n{t}\n");
    }
    if !p.restart_needed.is_empty() {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        t.set_header(vec!["Unit", "PIDs", "Deleted files"]);
        for r in &p.restart_needed {
            let pids: Vec<String> = r.pids.iter().map(u32::to_string).collect();
            t.add_row(vec![r.unit.clone(), pids.join(" "), r.files.join("\n")]);
        }
        let _ = writeln!(out, "Needs restart\n{t}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Patches {
        Patches {
            pending: vec![ward_proto::v1::PendingUpdate {
                name: "openssl".into(),
                arch: "amd64".into(),
                installed_version: "3.0.1-1".into(),
                candidate_version: "3.0.2-1".into(),
                security: true,
                origin: "Debian".into(),
                suite: "bookworm-security".into(),
                suites: vec!["bookworm-security".into()],
                source: "deb".into(),
                ..Default::default()
            }],
            reboot_required: true,
            running_kernel: "6.1.0-9-amd64".into(),
            newest_kernel: "6.1.0-40-amd64".into(),
            restart_needed: vec![restart::Restart {
                unit: "ssh.service".into(),
                pids: vec![1],
                files: vec!["/usr/lib/libssl.so.3".into()],
            }],
            ..Default::default()
        }
    }

    #[test]
    fn json_contract() {
        let v = to_json(&sample());
        let p = &v["pending"][0];
        for field in [
            "name",
            "arch",
            "installed_version",
            "candidate_version",
            "security",
            "origin",
            "suite",
        ] {
            assert!(!p[field].is_null(), "{field} missing from {p}");
        }
        assert_eq!(p["security"], true);
        assert_eq!(v["reboot_required"], true);
        assert_eq!(v["running_kernel"], "6.1.0-9-amd64");
        assert_eq!(v["newest_kernel"], "6.1.0-40-amd64");
        assert_eq!(v["restart_needed"][0]["unit"], "ssh.service");
    }

    #[test]
    fn table_names_what_matters() {
        let t = render_table(&sample());
        for s in [
            "1 (1 security)",
            "openssl",
            "3.0.2-1",
            "ssh.service",
            "6.1.0-40-amd64",
        ] {
            assert!(t.contains(s), "{s} missing from\n{t}");
        }
    }

    #[test]
    fn a_missing_root_is_an_error_naming_it() {
        let msg = collect(Path::new("/nonexistent/ward-root"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("root /nonexistent/ward-root is not a readable directory")
                && msg.contains("or / for this machine"),
            "{msg}"
        );
    }

    #[test]
    fn an_empty_root_has_nothing_pending() {
        let dir = tempfile::tempdir().unwrap();
        let p = collect(dir.path()).unwrap();
        assert_eq!(p, Patches::default());
    }
}
