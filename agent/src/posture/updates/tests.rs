use std::path::Path;

use super::*;

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

#[test]
fn unattended_upgrades_nested_blocks_later_files_override() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "usr/bin/unattended-upgrade", "#!/usr/bin/python3\n");
    write(
        r,
        "etc/apt/apt.conf.d/10periodic",
        "// from the package\nAPT {\n  Periodic {\n    Update-Package-Lists \"1\";\n    \
         Unattended-Upgrade \"0\"; # off\n  };\n};\n",
    );
    write(
        r,
        "etc/apt/apt.conf.d/20auto-upgrades",
        "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n",
    );
    // Not read by apt (an extension other than .conf).
    write(
        r,
        "etc/apt/apt.conf.d/99off.dpkg-old",
        "APT::Periodic::Unattended-Upgrade \"0\";\n",
    );
    let u = read(&Root::new(r));
    assert_eq!(u.mechanism, "unattended-upgrades");
    assert!(u.enabled, "{u:?}");
    assert_eq!(
        u.detail,
        "APT::Periodic::Unattended-Upgrade \"1\" in /etc/apt/apt.conf.d/20auto-upgrades"
    );

    write(
        r,
        "etc/apt/apt.conf.d/50local",
        "/* turned off */ APT { Periodic { Unattended-Upgrade \"0\"; }; };\n",
    );
    let u = read(&Root::new(r));
    assert!(!u.enabled, "{u:?}");
    assert!(
        u.detail.ends_with("/etc/apt/apt.conf.d/50local"),
        "{}",
        u.detail
    );
}

#[test]
fn installed_by_dpkg_status_and_not_configured() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "var/lib/dpkg/status",
        "Package: unattended-upgrades\nStatus: install ok installed\nVersion: 2.9.1\n\
         Architecture: all\n\n",
    );
    let u = read(&Root::new(r));
    assert_eq!(u.mechanism, "unattended-upgrades");
    assert!(!u.enabled);
    assert!(u.detail.contains("not set"), "{}", u.detail);

    write(
        r,
        "var/lib/dpkg/status",
        "Package: unattended-upgrades\nStatus: deinstall ok config-files\nVersion: 2.9.1\n\n",
    );
    let u = read(&Root::new(r));
    assert_eq!((u.mechanism.as_str(), u.enabled), ("none", false));
}

#[test]
fn periodic_disabled_overall() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "usr/bin/unattended-upgrade", "");
    write(
        r,
        "etc/apt/apt.conf.d/20auto-upgrades",
        "APT::Periodic::Unattended-Upgrade \"1\";\nAPT::Periodic::Enable \"0\";\n",
    );
    assert!(!read(&Root::new(r)).enabled);
}

#[test]
fn dnf_automatic_needs_apply_updates_and_a_timer() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "usr/bin/dnf-automatic", "");
    write(
        r,
        "etc/dnf/automatic.conf",
        "[commands]\n# apply_updates = no\nupgrade_type = security\napply_updates = yes\n\n[emitters]\napply_updates = no\n",
    );
    let u = read(&Root::new(r));
    assert_eq!(u.mechanism, "dnf-automatic");
    assert!(!u.enabled, "no timer: {u:?}");
    std::fs::create_dir_all(r.join("etc/systemd/system/timers.target.wants")).unwrap();
    std::os::unix::fs::symlink(
        "/usr/lib/systemd/system/dnf-automatic.timer",
        r.join("etc/systemd/system/timers.target.wants/dnf-automatic.timer"),
    )
    .unwrap();
    let u = read(&Root::new(r));
    assert!(u.enabled, "{u:?}");
    assert_eq!(
        u.detail,
        "apply_updates = yes in /etc/dnf/automatic.conf; dnf-automatic.timer enabled"
    );
}

#[test]
fn yum_cron_and_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    assert_eq!(read(&Root::new(r)).mechanism, "none");
    write(
        r,
        "etc/yum/yum-cron.conf",
        "[commands]\napply_updates = yes\n",
    );
    let u = read(&Root::new(r));
    assert_eq!((u.mechanism.as_str(), u.enabled), ("yum-cron", true));
}

#[test]
fn intervals_and_ini() {
    assert!(apt_interval_on("1") && apt_interval_on("7") && apt_interval_on("always"));
    assert!(!apt_interval_on("0") && !apt_interval_on("") && !apt_interval_on("false"));
    assert_eq!(
        ini_value("[a]\nk=1\n[b]\nK = 2\n", "b", "k").as_deref(),
        Some("2")
    );
    assert_eq!(ini_value("k=1\n", "b", "k"), None);
}
