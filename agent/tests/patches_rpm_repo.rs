//! Pending RPM updates from a real repository: packages built with rpmbuild, the old
//! versions installed into a scratch root's rpm database with rpm, the new ones made a
//! repository with createrepo_c (and an updateinfo and a modules.yaml added with
//! modifyrepo_c), cached the way dnf caches it. dnf itself cannot run here, so the
//! expected candidates are worked out with rpm's own ordering (`rpm.vercmp`) over every
//! offer, and, for module streams and Obsoletes, by the rules dnf applies.
//!
//! Skips (with a message) when rpmbuild or createrepo_c is missing, or fails where
//! WARD_REQUIRE_TOOLS is set.

// Test harness: a failed step should stop the test where it happened.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ward_agent::patches;

/// Installed: (spec name, epoch, version, release, arch).
const OLD: &[(&str, &str, &str, &str, &str)] = &[
    ("ward-epoch", "1", "1.0", "1.el9", "x86_64"),
    ("ward-tilde", "", "2.0", "1.el9", "x86_64"),
    ("ward-rel", "", "3.0.7", "24.el9", "x86_64"),
    ("ward-noarch", "", "1.0", "1.el9", "noarch"),
    ("ward-same", "", "1.0", "1.el9", "x86_64"),
    ("ward-caret", "", "1.0", "1.el9", "x86_64"),
    ("kernel-core", "", "5.14.0", "362.8.1.el9_3", "x86_64"),
    ("kernel-core", "", "5.14.0", "284.11.1.el9_2", "x86_64"),
];

/// In the repository.
const NEW: &[(&str, &str, &str, &str, &str)] = &[
    ("ward-epoch", "2", "0.9", "1.el9", "x86_64"),
    ("ward-tilde", "", "2.0~rc2", "1.el9", "x86_64"),
    ("ward-rel", "", "3.0.7", "24.el9", "x86_64"),
    ("ward-rel", "", "3.0.7", "25.el9_3", "x86_64"),
    ("ward-rel", "", "3.0.7", "99.el9", "i686"),
    ("ward-noarch", "", "1.1", "1.el9", "noarch"),
    ("ward-same", "", "1.0", "1.el9", "x86_64"),
    ("ward-caret", "", "1.0^20240101git1", "1.el9", "x86_64"),
    ("kernel-core", "", "5.14.0", "362.13.1.el9_3", "x86_64"),
];

const UPDATEINFO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="release-engineering@redhat.com" status="final" type="security" version="2">
    <id>RHSA-2024:0001</id>
    <title>Important: ward-rel security update</title>
    <issued date="2024-01-10 00:00:00"/>
    <severity>Important</severity>
    <summary>An update for ward-rel</summary>
    <description>Fixes a flaw.</description>
    <references>
      <reference href="https://access.redhat.com/security/cve/CVE-2024-0002" id="CVE-2024-0002" type="cve" title="CVE-2024-0002"/>
      <reference href="https://access.redhat.com/security/cve/CVE-2024-0001" id="CVE-2024-0001" type="cve" title="CVE-2024-0001"/>
      <reference href="https://bugzilla.redhat.com/1" id="1" type="bugzilla" title="bug"/>
    </references>
    <pkglist>
      <collection short="baseos">
        <name>baseos</name>
        <package name="ward-rel" version="3.0.7" release="25.el9_3" epoch="0" arch="x86_64" src="ward-rel-3.0.7-25.el9_3.src.rpm">
          <filename>ward-rel-3.0.7-25.el9_3.x86_64.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
  <update from="release-engineering@redhat.com" status="final" type="enhancement" version="2">
    <id>RHEA-2024:0002</id>
    <severity>None</severity>
    <pkglist>
      <collection short="baseos">
        <package name="ward-noarch" version="1.1" release="1.el9" epoch="0" arch="noarch">
          <filename>ward-noarch-1.1-1.el9.noarch.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
</updates>
"#;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn require(tool: &str) -> bool {
    if have(tool) {
        return true;
    }
    assert!(
        std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
        "{tool} not found: required where WARD_REQUIRE_TOOLS is set (CI)"
    );
    eprintln!("{tool} not found: RPM repository test skipped");
    false
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Builds one package per row into `top`; returns the package files.
fn build(work: &Path, top: &Path, rows: &[(&str, &str, &str, &str, &str)]) -> Vec<PathBuf> {
    build_with(work, top, rows, &[])
}

/// [`build`], with extra spec header lines (`Obsoletes: ...`) for the names given.
fn build_with(
    work: &Path,
    top: &Path,
    rows: &[(&str, &str, &str, &str, &str)],
    extra: &[(&str, &str)],
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (i, (name, epoch, version, release, arch)) in rows.iter().enumerate() {
        let spec = work.join(format!("{name}-{i}.spec"));
        let epoch_line = if epoch.is_empty() {
            String::new()
        } else {
            format!("Epoch: {epoch}\n")
        };
        let build_arch = if *arch == "noarch" {
            "BuildArch: noarch\n"
        } else {
            ""
        };
        let extra: String = extra
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, line)| format!("{line}\n"))
            .collect();
        std::fs::write(
            &spec,
            format!(
                "Name: {name}\n{epoch_line}Version: {version}\nRelease: {release}\n{build_arch}{extra}\
                 Summary: Ward test\nLicense: MIT\n%description\nWard test.\n\
                 %install\nmkdir -p %{{buildroot}}/usr/share/ward\n\
                 echo {i} > %{{buildroot}}/usr/share/ward/{name}-{i}.txt\n\
                 %files\n/usr/share/ward/{name}-{i}.txt\n"
            ),
        )
        .unwrap();
        let mut cmd = Command::new("rpmbuild");
        cmd.arg("--quiet")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()));
        if *arch != "noarch" {
            cmd.args(["--target", arch]);
        }
        run(cmd.arg("-bb").arg(&spec));
        let dir = top.join("RPMS").join(arch);
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n == format!("{name}-{version}-{release}.{arch}.rpm")
            })
            .unwrap_or_else(|| panic!("{name} {version} {release} {arch} not built in {dir:?}"));
        out.push(file);
    }
    out
}

/// `rpm.vercmp(a, b)` for each pair, from one `rpm --eval`.
fn vercmp(pairs: &[(String, String)]) -> Vec<i32> {
    let mut script = String::from("%{lua: for _, p in ipairs({");
    for (a, b) in pairs {
        script.push_str(&format!("{{'{a}','{b}'}},"));
    }
    script.push_str("}) do print(rpm.vercmp(p[1], p[2]) .. ',') end}");
    let out = run(Command::new("rpm").args(["--eval", &script]));
    out.trim()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

fn evr(epoch: &str, version: &str, release: &str) -> String {
    if epoch.is_empty() {
        format!("{version}-{release}")
    } else {
        format!("{epoch}:{version}-{release}")
    }
}

/// The candidates rpm's ordering gives: for each installed name and architecture (its
/// newest version), the offer of the same architecture (or noarch) that rpm orders at
/// or above every other such offer, when rpm orders it above the installed version.
fn expected_by_rpm() -> BTreeMap<(String, String), (String, String)> {
    let mut installed: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (n, e, v, r, a) in OLD {
        installed
            .entry((n.to_string(), a.to_string()))
            .or_default()
            .push(evr(e, v, r));
    }
    let mut out = BTreeMap::new();
    for ((name, arch), versions) in installed {
        // The newest installed, by rpm.
        let mut current = versions[0].clone();
        for v in &versions[1..] {
            if vercmp(&[(v.clone(), current.clone())])[0] > 0 {
                current = v.clone();
            }
        }
        let offers: Vec<String> = NEW
            .iter()
            .filter(|(n, _, _, _, a)| *n == name && (*a == arch || *a == "noarch"))
            .map(|(_, e, v, r, _)| evr(e, v, r))
            .collect();
        let mut pairs = Vec::new();
        for a in &offers {
            pairs.push((a.clone(), current.clone()));
            for b in &offers {
                pairs.push((a.clone(), b.clone()));
            }
        }
        let results = vercmp(&pairs);
        let stride = offers.len() + 1;
        for (i, offer) in offers.iter().enumerate() {
            let row = &results[i * stride..(i + 1) * stride];
            if row[0] > 0 && row[1..].iter().all(|c| *c >= 0) {
                out.insert(
                    (name.clone(), arch.clone()),
                    (current.clone(), offer.clone()),
                );
            }
        }
    }
    out
}

/// How the repository's metadata is compressed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    /// createrepo_c's default.
    Gz,
    /// `--xz`.
    Xz,
    /// `--zck`, and only the zchunk files cached, as Fedora's dnf keeps them.
    Zck,
}

/// Makes a repository of `rpms` with createrepo_c and the updateinfo added by
/// modifyrepo_c, and caches it in `root` as dnf does.
fn cache_repo(work: &Path, root: &Path, rpms: &[PathBuf], form: Form) {
    let repo = work.join(format!("repo-{form:?}"));
    std::fs::create_dir_all(&repo).unwrap();
    for rpm in rpms {
        std::fs::copy(rpm, repo.join(rpm.file_name().unwrap())).unwrap();
    }
    let mut cmd = Command::new("createrepo_c");
    cmd.args(["--quiet", "--no-database"]);
    match form {
        Form::Gz => {}
        Form::Xz => {
            cmd.arg("--xz");
        }
        Form::Zck => {
            cmd.arg("--zck");
        }
    }
    run(cmd.arg(&repo));
    let updateinfo = work.join("updateinfo.xml");
    std::fs::write(&updateinfo, UPDATEINFO).unwrap();
    let mut cmd = Command::new("modifyrepo_c");
    cmd.args(["--mdtype=updateinfo", "--compress-type"]);
    cmd.arg(if form == Form::Xz { "xz" } else { "gz" });
    if form == Form::Zck {
        cmd.arg("--zck");
    }
    run(cmd.arg(&updateinfo).arg(repo.join("repodata")));

    let cache = root.join("var/cache/dnf/ward-baseos-0123456789abcdef/repodata");
    std::fs::create_dir_all(&cache).unwrap();
    for entry in std::fs::read_dir(repo.join("repodata")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if form == Form::Zck && name != "repomd.xml" && !name.ends_with(".zck") {
            continue;
        }
        std::fs::copy(&path, cache.join(name)).unwrap();
    }
    let conf = root.join("etc/yum.repos.d/ward.repo");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(
        conf,
        "[ward-baseos]\nname=Ward BaseOS\nbaseurl=file:///srv/ward\nenabled=1\ngpgcheck=0\n",
    )
    .unwrap();
}

#[test]
fn pending_updates_from_a_createrepo_repository() {
    if !require("rpmbuild") || !require("createrepo_c") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let old = build(work.path(), &work.path().join("old"), OLD);
    let new = build(work.path(), &work.path().join("new"), NEW);
    let expected = expected_by_rpm();

    for form in [Form::Gz, Form::Xz, Form::Zck] {
        let root = work.path().join(format!("root-{form:?}"));
        std::fs::create_dir_all(&root).unwrap();
        run(Command::new("rpm")
            .arg("--root")
            .arg(&root)
            .args(["--dbpath", "/usr/lib/sysimage/rpm"])
            .args([
                "--define",
                "_db_backend sqlite",
                "-i",
                "--nodeps",
                "--justdb",
            ])
            .args(&old));
        cache_repo(work.path(), &root, &new, form);

        let p = patches::collect(&root).unwrap();
        let got: BTreeMap<(String, String), (String, String)> = p
            .pending
            .iter()
            .map(|x| {
                (
                    (x.name.clone(), x.arch.clone()),
                    (x.installed_version.clone(), x.candidate_version.clone()),
                )
            })
            .collect();
        assert_eq!(got, expected, "{form:?}");

        // What each case must look like, beyond agreeing with rpm's ordering.
        let names: Vec<&str> = p.pending.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "kernel-core",
                "ward-caret",
                "ward-epoch",
                "ward-noarch",
                "ward-rel"
            ],
            "a tilde pre-release, the same version and an i686 build are not updates"
        );
        let rel = p.pending.iter().find(|x| x.name == "ward-rel").unwrap();
        assert_eq!(rel.candidate_version, "3.0.7-25.el9_3");
        assert!(rel.security);
        assert_eq!(rel.suites, ["ward-baseos"]);
        assert_eq!(rel.origin, "ward-baseos");
        assert_eq!(rel.advisories.len(), 1);
        assert_eq!(rel.advisories[0].id, "RHSA-2024:0001");
        assert_eq!(rel.advisories[0].severity, "Important");
        assert_eq!(rel.advisories[0].cves, ["CVE-2024-0001", "CVE-2024-0002"]);
        let noarch = p.pending.iter().find(|x| x.name == "ward-noarch").unwrap();
        assert!(!noarch.security);
        assert_eq!(noarch.advisories[0].kind, "enhancement");
        assert_eq!(noarch.advisories[0].severity, "");
        let epoch = p.pending.iter().find(|x| x.name == "ward-epoch").unwrap();
        assert_eq!(
            (
                epoch.installed_version.as_str(),
                epoch.candidate_version.as_str()
            ),
            ("1:1.0-1.el9", "2:0.9-1.el9")
        );
        assert_eq!(p.newest_kernel, "5.14.0-362.8.1.el9_3.x86_64");
        assert_eq!(p.managers, ["dnf"]);
    }
}

/// AppStream-like modules.yaml: nodejs:18 and nodejs:20 (RHEL 8's shape, trimmed of
/// licences and components), and 20 as the default stream.
const MODULES_YAML: &str = r#"---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "18"
  version: 8090020231025093418
  context: a75119d5
  arch: x86_64
  summary: Javascript runtime
  description: >-
    Node.js is a platform built on Chrome's JavaScript runtime.
  license:
    module:
    - MIT
  dependencies:
  - buildrequires:
      platform: [el8.9.0]
    requires:
      platform: [el8]
  profiles:
    common:
      rpms:
      - nodejs
  artifacts:
    rpms:
    - nodejs-1:18.19.0-1.module+el8.9.0+20473+c4e3d824.src
    - nodejs-1:18.19.0-1.module+el8.9.0+20473+c4e3d824.x86_64
...
---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "20"
  version: 8090020231201000000
  context: bf0d8d4b
  arch: x86_64
  summary: Javascript runtime
  description: >-
    Node.js is a platform built on Chrome's JavaScript runtime.
  license:
    module:
    - MIT
  dependencies:
  - buildrequires:
      platform: [el8.9.0]
    requires:
      platform: [el8]
  profiles:
    common:
      rpms:
      - nodejs
  artifacts:
    rpms:
    - nodejs-1:20.10.0-1.module+el8.9.0+20500+bbbbbbbb.x86_64
...
---
document: modulemd-defaults
version: 1
data:
  module: nodejs
  stream: "20"
  profiles:
    18: [common]
    20: [common]
...
"#;

#[test]
fn module_streams_and_obsoletes_from_a_createrepo_repository() {
    if !require("rpmbuild") || !require("createrepo_c") || !require("modifyrepo_c") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let old = build(
        work.path(),
        &work.path().join("old"),
        &[
            (
                "nodejs",
                "1",
                "18.17.0",
                "1.module+el8.8.0+1+dddddddd",
                "x86_64",
            ),
            ("ward-legacy", "", "1.0", "1.el8", "x86_64"),
        ],
    );
    let new = build_with(
        work.path(),
        &work.path().join("new"),
        &[
            (
                "nodejs",
                "1",
                "18.19.0",
                "1.module+el8.9.0+20473+c4e3d824",
                "x86_64",
            ),
            (
                "nodejs",
                "1",
                "20.10.0",
                "1.module+el8.9.0+20500+bbbbbbbb",
                "x86_64",
            ),
            // Not modular: hidden while a nodejs stream is active.
            ("nodejs", "1", "22.0.0", "1.el8", "x86_64"),
            ("ward-legacy-ng", "", "2.0", "1.el8", "x86_64"),
        ],
        &[("ward-legacy-ng", "Obsoletes: ward-legacy < 2.0")],
    );

    let root = work.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    run(Command::new("rpm")
        .arg("--root")
        .arg(&root)
        .args(["--dbpath", "/usr/lib/sysimage/rpm"])
        .args([
            "--define",
            "_db_backend sqlite",
            "-i",
            "--nodeps",
            "--justdb",
        ])
        .args(&old));
    std::fs::write(
        root.join("etc/os-release"),
        "NAME=\"Rocky Linux\"\nPLATFORM_ID=\"platform:el8\"\n",
    )
    .unwrap();

    let repo = work.path().join("appstream");
    std::fs::create_dir_all(&repo).unwrap();
    for rpm in &new {
        std::fs::copy(rpm, repo.join(rpm.file_name().unwrap())).unwrap();
    }
    run(Command::new("createrepo_c")
        .args(["--quiet", "--no-database"])
        .arg(&repo));
    let modules = work.path().join("modules.yaml");
    std::fs::write(&modules, MODULES_YAML).unwrap();
    run(Command::new("modifyrepo_c")
        .args(["--mdtype=modules", "--compress-type", "gz"])
        .arg(&modules)
        .arg(repo.join("repodata")));
    let cache = root.join("var/cache/dnf/ward-appstream-0123456789abcdef/repodata");
    std::fs::create_dir_all(&cache).unwrap();
    for entry in std::fs::read_dir(repo.join("repodata")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, cache.join(path.file_name().unwrap())).unwrap();
    }
    let conf = root.join("etc/yum.repos.d/ward.repo");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(
        conf,
        "[ward-appstream]\nname=Ward AppStream\nbaseurl=file:///srv/ward\nenabled=1\n",
    )
    .unwrap();

    let cache_dir = work.path().join("ward-cache");
    std::fs::create_dir_all(&cache_dir).unwrap();
    let state = root.join("etc/dnf/modules.d/nodejs.module");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    for (module_state, nodejs) in [
        // No state: the default stream.
        (None, "1:20.10.0-1.module+el8.9.0+20500+bbbbbbbb"),
        (
            Some("stream=18\nprofiles=\nstate=enabled"),
            "1:18.19.0-1.module+el8.9.0+20473+c4e3d824",
        ),
        // Disabled: neither stream; the non-modular build is no longer hidden.
        (Some("stream=\nprofiles=\nstate=disabled"), "1:22.0.0-1.el8"),
    ] {
        match module_state {
            Some(s) => std::fs::write(&state, format!("[nodejs]\nname=nodejs\n{s}\n")).unwrap(),
            None => {
                let _ = std::fs::remove_file(&state);
            }
        }
        let uncached = patches::collect(&root).unwrap();
        // The same from the metadata cache, filled on the first pass and used after.
        let cached = patches::collect_with_cache(&root, Some(&cache_dir)).unwrap();
        assert_eq!(cached, uncached);
        let got: Vec<(&str, &str, &str)> = uncached
            .pending
            .iter()
            .map(|x| {
                (
                    x.name.as_str(),
                    x.installed_version.as_str(),
                    x.candidate_version.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("nodejs", "1:18.17.0-1.module+el8.8.0+1+dddddddd", nodejs),
                // Replaced by the package that obsoletes it.
                ("ward-legacy", "1.0-1.el8", "2.0-1.el8"),
            ],
            "{module_state:?}"
        );
        assert!(
            uncached
                .pending
                .iter()
                .all(|x| x.origin == "ward-appstream")
        );
    }
    assert!(cache_dir.join("rpm-metadata.cache").is_file());
}
