//! Builds real Arch packages with makepkg, installs them into a scratch root with pacman
//! and makes sync databases with repo-add, then checks that the agent reads exactly what
//! pacman reads: `pacman -Q` for the installed software, `pacman -Qu` for the pending
//! updates (offline: it reads the sync databases as they are).
//!
//! Needs Debian's pacman-package-manager, makepkg, libarchive-tools (bsdtar, used by
//! makepkg and repo-add), fakeroot and util-linux (setpriv: makepkg refuses to run as
//! root, so it runs as nobody), and root for `pacman -U`. Skips with a message when
//! one is missing, unless WARD_REQUIRE_TOOLS is set, when it fails.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The packages built: (directory, PKGBUILD). The first round is installed; the second
/// is only in the sync databases.
const INSTALLED: &[(&str, &str)] = &[
    (
        "hello-1",
        "pkgname=ward-hello\npkgver=1.2.3\npkgrel=1\nepoch=1\narch=('any')\n",
    ),
    (
        "suite-1",
        "pkgbase=ward-suite\npkgname=(ward-cli ward-lib)\npkgver=2.0\npkgrel=1\narch=(\"$CARCH\")\n\
         package_ward-cli() { mkdir -p \"$pkgdir/usr/share/ward-cli\"; echo cli > \"$pkgdir/usr/share/ward-cli/x\"; }\n\
         package_ward-lib() { groups=('ward-libs'); mkdir -p \"$pkgdir/usr/share/ward-lib\"; echo lib > \"$pkgdir/usr/share/ward-lib/x\"; }\n",
    ),
    (
        "pinned-1",
        "pkgname=ward-pinned\npkgver=0.9\npkgrel=1\narch=('any')\n",
    ),
    (
        "epoch-1",
        "pkgname=ward-epoch\npkgver=5.0\npkgrel=1\narch=('any')\n",
    ),
    (
        "stay-1",
        "pkgname=ward-stay\npkgver=3.0\npkgrel=2\narch=('any')\n",
    ),
    (
        "linux-1",
        "pkgname=linux\npkgver=6.6.1.arch1\npkgrel=1\narch=(\"$CARCH\")\n\
         package() { mkdir -p \"$pkgdir/usr/lib/modules/6.6.1-arch1-1\"; echo k > \"$pkgdir/usr/lib/modules/6.6.1-arch1-1/vmlinuz\"; }\n",
    ),
];

const NEWER: &[(&str, &str)] = &[
    (
        "hello-2",
        "pkgname=ward-hello\npkgver=1.2.4\npkgrel=1\nepoch=1\narch=('any')\n",
    ),
    (
        "suite-2",
        "pkgbase=ward-suite\npkgname=(ward-cli ward-lib)\npkgver=2.1\npkgrel=1\narch=(\"$CARCH\")\n\
         package_ward-cli() { mkdir -p \"$pkgdir/usr/share/ward-cli\"; echo cli > \"$pkgdir/usr/share/ward-cli/x\"; }\n\
         package_ward-lib() { groups=('ward-libs'); mkdir -p \"$pkgdir/usr/share/ward-lib\"; echo lib > \"$pkgdir/usr/share/ward-lib/x\"; }\n",
    ),
    (
        "pinned-2",
        "pkgname=ward-pinned\npkgver=1.0\npkgrel=1\narch=('any')\n",
    ),
    (
        "epoch-2",
        "pkgname=ward-epoch\npkgver=1.0\npkgrel=1\nepoch=1\narch=('any')\n",
    ),
    (
        "stay-2",
        "pkgname=ward-stay\npkgver=3.1\npkgrel=1\narch=('any')\n",
    ),
];

/// The body every single-package PKGBUILD gets when it has no `package()` of its own.
const DEFAULT_PACKAGE: &str = "package() { mkdir -p \"$pkgdir/usr/share/$pkgname\"; echo \"$pkgver\" > \"$pkgdir/usr/share/$pkgname/v\"; }\n";

/// pacman's configuration for the root; installing uses one without the Ignore lines.
const PACMAN_CONF: &str = "\
[options]
Architecture = auto
SigLevel = Never
LocalFileSigLevel = Never
IgnorePkg = ward-pin*
IgnoreGroup = ward-libs

[core]

[extra]
";

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Returns whether everything the test needs is here; otherwise skips or, under
/// WARD_REQUIRE_TOOLS, fails naming what is missing.
fn tools_present() -> bool {
    let mut missing: Vec<String> = [
        ("pacman", "pacman-package-manager"),
        ("makepkg", "makepkg"),
        ("repo-add", "pacman-package-manager"),
        ("bsdtar", "libarchive-tools"),
        ("fakeroot", "fakeroot"),
        ("setpriv", "util-linux"),
    ]
    .iter()
    .filter(|(tool, _)| !have(tool))
    .map(|(tool, package)| format!("{tool} (Debian package {package})"))
    .collect();
    if !is_root() {
        missing.push("root (pacman -U installs into the scratch root as root)".to_owned());
    }
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
        "WARD_REQUIRE_TOOLS is set but this test lacks: {}",
        missing.join(", ")
    );
    eprintln!(
        "pacman database test skipped; missing: {}",
        missing.join(", ")
    );
    false
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds every PKGBUILD under `dir` with makepkg as nobody, all at once; returns the
/// package files.
fn build(dir: &Path, pkgbuilds: &[(&str, &str)]) -> Vec<PathBuf> {
    let mut children = Vec::new();
    for (name, pkgbuild) in pkgbuilds {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).expect("create a build directory");
        let mut text = format!("pkgdesc='Ward test package'\nlicense=('MIT')\n{pkgbuild}");
        if !pkgbuild.contains("package") {
            text.push_str(DEFAULT_PACKAGE);
        }
        std::fs::write(d.join("PKGBUILD"), text).expect("write a PKGBUILD");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777))
            .expect("open the build directory to nobody");
        let child = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .args(["env", &format!("HOME={}", d.display())])
            .args([
                "makepkg",
                "--nodeps",
                "--nocheck",
                "--noconfirm",
                "--noprogressbar",
            ])
            .current_dir(&d)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start makepkg");
        children.push((name, child));
    }
    let mut files = Vec::new();
    for (name, child) in children {
        let out = child.wait_with_output().expect("wait for makepkg");
        assert!(
            out.status.success(),
            "makepkg {name} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for entry in std::fs::read_dir(dir.join(name)).expect("list a build directory") {
            let path = entry.expect("read a build directory entry").path();
            if path.to_string_lossy().contains(".pkg.tar") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn named<'a>(files: &'a [PathBuf], prefix: &str) -> Vec<&'a PathBuf> {
    files
        .iter()
        .filter(|f| {
            f.file_name()
                .expect("package files have names")
                .to_string_lossy()
                .starts_with(prefix)
        })
        .collect()
}

/// Runs pacman on the scratch root with `conf`.
fn pacman(root: &Path, conf: &Path) -> Command {
    let mut cmd = Command::new("pacman");
    cmd.arg("--root")
        .arg(root)
        .arg("--dbpath")
        .arg(root.join("var/lib/pacman"))
        .arg("--config")
        .arg(conf)
        .arg("--cachedir")
        .arg(root.join("var/cache/pacman/pkg"))
        .arg("--logfile")
        .arg(root.join("var/log/pacman.log"))
        .arg("--hookdir")
        .arg(root.join("etc/pacman.d/hooks"))
        .arg("--gpgdir")
        .arg(root.join("etc/pacman.d/gnupg"));
    cmd
}

#[test]
fn agent_reads_what_pacman_reads() {
    if !tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let old = build(&work.path().join("old"), INSTALLED);
    let new = build(&work.path().join("new"), NEWER);
    assert_eq!(old.len(), 7, "{old:?}");
    assert_eq!(new.len(), 6, "{new:?}");

    let root = work.path().join("root");
    for dir in [
        "etc",
        "var/lib/pacman/sync",
        "var/cache/pacman/pkg",
        "var/log",
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let conf = root.join("etc/pacman.conf");
    std::fs::write(&conf, PACMAN_CONF).unwrap();
    let install_conf = work.path().join("install.conf");
    std::fs::write(
        &install_conf,
        "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n",
    )
    .unwrap();
    run(pacman(&root, &install_conf)
        .args(["-U", "--noconfirm", "--nodeps", "--nodeps", "--noscriptlet"])
        .args(&old));

    // core: the installed hello, stay and linux again; extra: everything newer. pacman
    // takes a package from the first repository that has it, so hello and stay stay.
    let sync = root.join("var/lib/pacman/sync");
    let mut core: Vec<&PathBuf> = named(&old, "ward-hello-");
    core.extend(named(&old, "ward-stay-"));
    core.extend(named(&old, "linux-"));
    run(Command::new("repo-add")
        .arg("-q")
        .arg(sync.join("core.db.tar.gz"))
        .args(&core));
    run(Command::new("repo-add")
        .arg("-q")
        .arg(sync.join("extra.db.tar.zst"))
        .args(&new));

    // Installed software: exactly `pacman -Q`.
    let expected: BTreeSet<(String, String)> = run(pacman(&root, &conf).arg("-Q"))
        .lines()
        .map(|l| {
            let (name, version) = l.split_once(' ').unwrap();
            (name.to_owned(), version.to_owned())
        })
        .collect();
    assert_eq!(expected.len(), 7, "{expected:?}");
    let inventory = ward_agent::inventory::collect(&root).unwrap();
    let got: BTreeSet<(String, String)> = inventory
        .software
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(got, expected);
    let hello = inventory
        .software
        .packages
        .iter()
        .find(|p| p.name == "ward-hello")
        .unwrap();
    assert_eq!(
        (
            &*hello.version,
            &*hello.epoch,
            &*hello.release,
            &*hello.arch,
            &*hello.source
        ),
        ("1:1.2.3-1", "1", "1", "any", "pacman")
    );
    let lib = inventory
        .software
        .packages
        .iter()
        .find(|p| p.name == "ward-lib")
        .unwrap();
    assert_eq!(lib.source_package, "ward-suite");
    assert_ne!(lib.arch, "any");

    // Pending updates: exactly `pacman -Qu`, "[ignored]" being held back.
    let out = pacman(&root, &conf).arg("-Qu").output().unwrap();
    let expected: BTreeSet<(String, String, String, bool)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(words[2], "->", "{l}");
            (
                words[0].to_owned(),
                words[1].to_owned(),
                words[3].to_owned(),
                l.ends_with("[ignored]"),
            )
        })
        .collect();
    assert_eq!(expected.len(), 4, "{expected:?}");
    assert_eq!(expected.iter().filter(|e| e.3).count(), 2, "{expected:?}");
    let patches = ward_agent::patches::collect(&root).unwrap();
    let got: BTreeSet<(String, String, String, bool)> = patches
        .pending
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.installed_version.clone(),
                p.candidate_version.clone(),
                p.held_back,
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(
        patches
            .pending
            .iter()
            .all(|p| p.source == "pacman" && p.suite == "extra" && p.suites == ["extra"]),
        "{:?}",
        patches.pending
    );
    assert_eq!(patches.managers, ["pacman"]);
    assert_eq!(patches.newest_kernel, "6.6.1-arch1-1");
}
