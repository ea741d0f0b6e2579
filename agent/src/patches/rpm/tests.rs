//! Pending RPM updates on fixture roots. The metadata is written here in the shape of
//! real RHEL 9 and Fedora files (createrepo_c's primary.xml, Red Hat's updateinfo.xml);
//! `agent/tests/patches_rpm_repo.rs` checks the same code on repositories built by
//! createrepo_c from packages built by rpmbuild.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use ward_proto::v1 as pb;

use super::*;

/// (name, arch, epoch, version, release)
type Pkg<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

fn installed(list: &[(&str, &str, &str)]) -> Vec<pb::Package> {
    list.iter()
        .map(|(name, evr, arch)| {
            let parsed = ward_version::rpm::parse(evr).unwrap();
            pb::Package {
                name: (*name).into(),
                version: (*evr).into(),
                arch: (*arch).into(),
                source: "rpm".into(),
                state: "installed".into(),
                epoch: parsed.epoch.unwrap_or_default(),
                release: parsed.release.unwrap_or_default(),
                ..Default::default()
            }
        })
        .collect()
}

/// One `<package>` of primary.xml as createrepo_c writes it.
fn package_xml(p: Pkg<'_>) -> String {
    package_xml_with(p, "")
}

/// [`package_xml`] with `extra` (dependency lists) at the end of its `<format>`.
fn package_xml_with((name, arch, epoch, ver, rel): Pkg<'_>, extra: &str) -> String {
    format!(
        r#"<package type="rpm">
  <name>{name}</name>
  <arch>{arch}</arch>
  <version epoch="{epoch}" ver="{ver}" rel="{rel}"/>
  <checksum type="sha256" pkgid="YES">5f1d0e3a9c7b2e4d6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e</checksum>
  <summary>{name} package</summary>
  <description>The {name} package &amp; its &lt;files&gt;.</description>
  <packager>Red Hat, Inc. &lt;http://bugzilla.redhat.com/bugzilla&gt;</packager>
  <url>https://example.org/{name}</url>
  <time file="1700000000" build="1699000000"/>
  <size package="123456" installed="456789" archive="460000"/>
  <location href="Packages/{first}/{name}-{ver}-{rel}.{arch}.rpm"/>
  <format>
    <rpm:license>ASL 2.0</rpm:license>
    <rpm:vendor>Red Hat, Inc.</rpm:vendor>
    <rpm:group>Unspecified</rpm:group>
    <rpm:buildhost>x86-64-01.build.eng.rdu2.redhat.com</rpm:buildhost>
    <rpm:sourcerpm>{name}-{ver}-{rel}.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="38969"/>
    <rpm:provides>
      <rpm:entry name="{name}" flags="EQ" epoch="{epoch}" ver="{ver}" rel="{rel}"/>
      <rpm:entry name="{name}({arch})" flags="EQ" epoch="{epoch}" ver="{ver}" rel="{rel}"/>
    </rpm:provides>
    <rpm:requires>
      <rpm:entry name="libc.so.6(GLIBC_2.34)(64bit)"/>
      <rpm:entry name="rtld(GNU_HASH)"/>
    </rpm:requires>
    <file>/usr/bin/{name}</file>
{extra}  </format>
</package>
"#,
        first = &name[..1]
    )
}

fn primary_xml(packages: &[Pkg<'_>]) -> String {
    let bodies: Vec<String> = packages.iter().map(|p| package_xml(*p)).collect();
    primary_of(&bodies)
}

/// primary.xml holding the `<package>` elements given.
fn primary_of(packages: &[String]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata \
         xmlns=\"http://linux.duke.edu/metadata/common\" \
         xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"{}\">\n",
        packages.len()
    );
    for p in packages {
        s.push_str(p);
    }
    s.push_str("</metadata>\n");
    s
}

/// One `<update>` of updateinfo.xml as Red Hat writes it; `packages` are its pkglist.
fn update_xml(id: &str, kind: &str, severity: &str, cves: &[&str], packages: &[Pkg<'_>]) -> String {
    let mut refs = String::new();
    for cve in cves {
        refs.push_str(&format!(
            "      <reference href=\"https://access.redhat.com/security/cve/{cve}\" id=\"{cve}\" type=\"cve\" title=\"{cve}\"/>\n"
        ));
    }
    refs.push_str(&format!(
        "      <reference href=\"https://access.redhat.com/errata/{id}\" id=\"{id}\" type=\"self\" title=\"{id}\"/>\n      <reference href=\"https://bugzilla.redhat.com/2234\" id=\"2234\" type=\"bugzilla\" title=\"CVE-1999-0001 in the title only\"/>\n"
    ));
    let mut pkgs = String::new();
    for (name, arch, epoch, ver, rel) in packages {
        pkgs.push_str(&format!(
            "        <package name=\"{name}\" version=\"{ver}\" release=\"{rel}\" epoch=\"{epoch}\" arch=\"{arch}\" src=\"{name}-{ver}-{rel}.src.rpm\">\n          <filename>{name}-{ver}-{rel}.{arch}.rpm</filename>\n          <sum type=\"sha256\">abc</sum>\n        </package>\n"
        ));
    }
    format!(
        r#"  <update from="release-engineering@redhat.com" status="final" type="{kind}" version="4">
    <id>{id}</id>
    <title>{id}: an update</title>
    <issued date="2024-01-10 00:00:00"/>
    <updated date="2024-01-10 00:00:00"/>
    <rights>Copyright 2024 Red Hat Inc</rights>
    <release>Red Hat Enterprise Linux</release>
    <pushcount>1</pushcount>
    <severity>{severity}</severity>
    <summary>An update</summary>
    <description>Fixes &lt;things&gt;.</description>
    <solution>Apply it.</solution>
    <references>
{refs}    </references>
    <pkglist>
      <collection short="rhel-9-for-x86_64-baseos-rpms__9_DOT_3">
        <name>rhel-9-for-x86_64-baseos-rpms__9_DOT_3</name>
{pkgs}      </collection>
    </pkglist>
  </update>
"#
    )
}

fn updateinfo_xml(updates: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>\n{}</updates>\n",
        updates.concat()
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    Dnf,
    Dnf5,
    Yum,
    Zypper,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Compression {
    None,
    Gz,
    Xz,
    Zst,
}

fn compress(bytes: &[u8], c: Compression) -> (Vec<u8>, &'static str) {
    match c {
        Compression::None => (bytes.to_vec(), ""),
        Compression::Gz => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(bytes).unwrap();
            (e.finish().unwrap(), ".gz")
        }
        Compression::Xz => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(bytes).unwrap();
            (e.finish().unwrap(), ".xz")
        }
        Compression::Zst => (zstd::encode_all(bytes, 3).unwrap(), ".zst"),
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Configures repository `id` (`extra` lines in its section) and caches its metadata.
    fn repo(
        &self,
        id: &str,
        extra: &str,
        layout: Layout,
        packages: &[Pkg<'_>],
        updates: Option<&str>,
        c: Compression,
    ) -> PathBuf {
        self.repo_xml(id, extra, layout, &primary_xml(packages), updates, c)
    }

    /// [`Fixture::repo`] with primary.xml given whole.
    fn repo_xml(
        &self,
        id: &str,
        extra: &str,
        layout: Layout,
        primary: &str,
        updates: Option<&str>,
        c: Compression,
    ) -> PathBuf {
        let conf = format!(
            "[{id}]\nname={id}\nbaseurl=https://example.org/{id}/\nenabled=1\ngpgcheck=1\n{extra}\n"
        );
        let conf_dir = if layout == Layout::Zypper {
            "etc/zypp/repos.d"
        } else {
            "etc/yum.repos.d"
        };
        self.write(&format!("{conf_dir}/{id}.repo"), conf.as_bytes());
        let (base, data) = match layout {
            Layout::Dnf => (format!("var/cache/dnf/{id}-1a2b3c4d5e6f7a8b"), "repodata/"),
            Layout::Dnf5 => (
                format!("var/cache/libdnf5/{id}-1a2b3c4d5e6f7a8b"),
                "repodata/",
            ),
            Layout::Yum => (format!("var/cache/yum/x86_64/7/{id}"), ""),
            Layout::Zypper => (format!("var/cache/zypp/raw/{id}"), "repodata/"),
        };
        let (primary, suffix) = compress(primary.as_bytes(), c);
        let primary_name = format!("repodata/0f1e2d3c-primary.xml{suffix}");
        self.write(
            &format!("{base}/{data}0f1e2d3c-primary.xml{suffix}"),
            &primary,
        );
        let mut repomd = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n  <revision>1700000000</revision>\n  <data type=\"primary\">\n    <checksum type=\"sha256\">0f1e2d3c</checksum>\n    <open-checksum type=\"sha256\">aa</open-checksum>\n    <location href=\"{primary_name}\"/>\n    <timestamp>1700000000</timestamp>\n    <size>{}</size>\n  </data>\n  <data type=\"filelists\">\n    <location href=\"repodata/99-filelists.xml.gz\"/>\n  </data>\n",
            primary.len()
        );
        if let Some(u) = updates {
            let (bytes, suffix) = compress(u.as_bytes(), c);
            let name = format!("repodata/4b5a-updateinfo.xml{suffix}");
            self.write(&format!("{base}/{data}4b5a-updateinfo.xml{suffix}"), &bytes);
            repomd.push_str(&format!(
                "  <data type=\"updateinfo\">\n    <location href=\"{name}\"/>\n  </data>\n"
            ));
        }
        repomd.push_str("</repomd>\n");
        let repomd_rel = if layout == Layout::Yum {
            format!("{base}/repomd.xml")
        } else {
            format!("{base}/repodata/repomd.xml")
        };
        self.write(&repomd_rel, repomd.as_bytes())
    }

    /// Adds `yaml` as the `modules` metadata of the repository whose repomd.xml is at
    /// `repomd` (a dnf layout), gzip-compressed as RHEL publishes it.
    fn modules(&self, repomd: &Path, yaml: &str) {
        let (bytes, suffix) = compress(yaml.as_bytes(), Compression::Gz);
        let name = format!("7c6d-modules.yaml{suffix}");
        std::fs::write(repomd.parent().unwrap().join(&name), bytes).unwrap();
        let text = std::fs::read_to_string(repomd).unwrap().replace(
            "</repomd>",
            &format!(
                "  <data type=\"modules\">\n    <location href=\"repodata/{name}\"/>\n  </data>\n</repomd>"
            ),
        );
        std::fs::write(repomd, text).unwrap();
    }

    fn pending(&self, packages: &[pb::Package]) -> Vec<Pending> {
        pending_for(self.root(), packages, &Options::default()).unwrap()
    }
}

/// (name, arch, installed, candidate, security) of each pending update.
fn summary(p: &[Pending]) -> Vec<(String, String, String, String, bool)> {
    p.iter()
        .map(|x| {
            assert_eq!(x.source, "rpm");
            (
                x.name.clone(),
                x.arch.clone(),
                x.installed_version.clone(),
                x.candidate_version.clone(),
                x.security,
            )
        })
        .collect()
}

fn row(
    name: &str,
    arch: &str,
    from: &str,
    to: &str,
    security: bool,
) -> (String, String, String, String, bool) {
    (name.into(), arch.into(), from.into(), to.into(), security)
}

#[test]
fn rpm_ordering_decides_what_is_an_update() {
    let f = Fixture::new();
    f.repo(
        "baseos",
        "",
        Layout::Dnf,
        &[
            // epoch bump beats a lower version
            ("libfoo", "x86_64", "2", "0.9", "1.el9"),
            ("libfoo", "x86_64", "1", "1.0", "1.el9"),
            // a tilde pre-release sorts before the release: not an update
            ("tool", "x86_64", "0", "2.0~rc2", "1.el9"),
            // a release bump
            ("openssl", "x86_64", "1", "3.0.7", "25.el9_3"),
            ("openssl", "x86_64", "1", "3.0.7", "24.el9"),
            // noarch to noarch
            ("python3-six", "noarch", "0", "1.16.0", "1.el9"),
            // a caret snapshot is newer than its base
            ("snap", "x86_64", "0", "1.0^20240101git1", "1.el9"),
            // an i686 build is not offered to an x86_64 install
            ("glibc", "i686", "0", "2.34", "100.el9"),
            ("glibc", "x86_64", "0", "2.34", "83.el9"),
            // the same version again: nothing to do
            ("bash", "x86_64", "0", "5.1.8", "6.el9_1"),
            // not installed: never reported
            ("nginx", "x86_64", "1", "1.24.0", "1.el9"),
        ],
        None,
        Compression::Gz,
    );
    let pkgs = installed(&[
        ("libfoo", "1:1.0-1.el9", "x86_64"),
        ("tool", "2.0-1.el9", "x86_64"),
        ("openssl", "1:3.0.7-24.el9", "x86_64"),
        ("python3-six", "1.15.0-9.el9", "noarch"),
        ("snap", "1.0-1.el9", "x86_64"),
        ("glibc", "2.34-83.el9", "x86_64"),
        ("bash", "5.1.8-6.el9_1", "x86_64"),
        ("gpg-pubkey", "fd431d51-4ae0493b", ""),
    ]);
    let pending = f.pending(&pkgs);
    assert_eq!(
        summary(&pending),
        vec![
            row("libfoo", "x86_64", "1:1.0-1.el9", "2:0.9-1.el9", false),
            row(
                "openssl",
                "x86_64",
                "1:3.0.7-24.el9",
                "1:3.0.7-25.el9_3",
                false
            ),
            row(
                "python3-six",
                "noarch",
                "1.15.0-9.el9",
                "1.16.0-1.el9",
                false
            ),
            row(
                "snap",
                "x86_64",
                "1.0-1.el9",
                "1.0^20240101git1-1.el9",
                false
            ),
        ]
    );
    let openssl = &pending[1];
    assert_eq!(openssl.origin, "baseos");
    assert_eq!(openssl.suite, "baseos");
    assert_eq!(openssl.suites, vec!["baseos"]);
    assert!(openssl.advisories.is_empty());
}

#[test]
fn architectures_follow_libsolv() {
    let f = Fixture::new();
    f.repo(
        "appstream",
        "",
        Layout::Dnf,
        &[
            ("zlib", "i686", "0", "1.2.11", "41.el9"),
            ("zlib", "x86_64", "0", "1.2.11", "40.el9"),
            // a package that became noarch, and one that stopped being noarch
            ("became-noarch", "noarch", "0", "2.0", "1.el9"),
            ("left-noarch", "x86_64", "0", "2.0", "1.el9"),
            ("left-noarch", "aarch64", "0", "3.0", "1.el9"),
        ],
        None,
        Compression::None,
    );
    let pkgs = installed(&[
        ("rpm", "4.16.1.3-25.el9", "x86_64"),
        ("zlib", "1.2.11-39.el9", "x86_64"),
        ("zlib", "1.2.11-39.el9", "i686"),
        ("became-noarch", "1.0-1.el9", "x86_64"),
        ("left-noarch", "1.0-1.el9", "noarch"),
    ]);
    assert_eq!(
        summary(&f.pending(&pkgs)),
        vec![
            row("became-noarch", "x86_64", "1.0-1.el9", "2.0-1.el9", false),
            row("left-noarch", "noarch", "1.0-1.el9", "2.0-1.el9", false),
            row("zlib", "i686", "1.2.11-39.el9", "1.2.11-41.el9", false),
            row("zlib", "x86_64", "1.2.11-39.el9", "1.2.11-40.el9", false),
        ]
    );
}

#[test]
fn kernels_installed_side_by_side_count_as_the_newest() {
    let f = Fixture::new();
    f.repo(
        "baseos",
        "",
        Layout::Dnf,
        &[
            ("kernel-core", "x86_64", "0", "5.14.0", "362.8.1.el9_3"),
            ("kernel-core", "x86_64", "0", "5.14.0", "362.13.1.el9_3"),
        ],
        None,
        Compression::Gz,
    );
    let mut pkgs = installed(&[
        ("kernel-core", "5.14.0-362.8.1.el9_3", "x86_64"),
        ("kernel-core", "5.14.0-284.11.1.el9_2", "x86_64"),
    ]);
    assert_eq!(
        summary(&f.pending(&pkgs)),
        vec![row(
            "kernel-core",
            "x86_64",
            "5.14.0-362.8.1.el9_3",
            "5.14.0-362.13.1.el9_3",
            false
        )]
    );
    assert_eq!(
        newest_kernel(&pkgs).as_deref(),
        Some("5.14.0-362.8.1.el9_3.x86_64")
    );
    pkgs.extend(installed(&[("kernel", "3.10.0-1160.el7", "x86_64")]));
    assert_eq!(
        newest_kernel(&pkgs).as_deref(),
        Some("5.14.0-362.8.1.el9_3.x86_64")
    );
    let suse = installed(&[
        ("kernel-default", "5.14.21-150500.55.39.1", "x86_64"),
        ("kernel-default", "5.14.21-150500.55.36.1", "x86_64"),
    ]);
    assert_eq!(
        newest_kernel(&suse).as_deref(),
        Some("5.14.21-150500.55.39-default")
    );
    assert_eq!(
        newest_kernel(&installed(&[("bash", "5.1-1", "x86_64")])),
        None
    );
}

#[test]
fn updateinfo_marks_security_and_lists_advisories() {
    let f = Fixture::new();
    let updates = updateinfo_xml(&[
        // fixed by a version between installed and candidate: applies
        update_xml(
            "RHSA-2023:7877",
            "security",
            "Moderate",
            &["CVE-2023-5678", "CVE-2023-3817"],
            &[
                ("openssl", "x86_64", "1", "3.0.7", "25.el9_3"),
                ("openssl-libs", "x86_64", "1", "3.0.7", "25.el9_3"),
            ],
        ),
        // fixed by the candidate itself: applies
        update_xml(
            "RHSA-2024:2447",
            "security",
            "Important",
            &["CVE-2024-0727"],
            &[("openssl", "x86_64", "1", "3.0.7", "27.el9")],
        ),
        // already installed: does not apply
        update_xml(
            "RHSA-2023:3722",
            "security",
            "Critical",
            &["CVE-2023-0286"],
            &[("openssl", "x86_64", "1", "3.0.7", "18.el9_2")],
        ),
        // newer than the candidate (not offered yet): does not apply
        update_xml(
            "RHSA-2099:0001",
            "security",
            "Low",
            &["CVE-2099-0001"],
            &[("openssl", "x86_64", "1", "3.0.8", "1.el9")],
        ),
        // a bug fix: listed, not security
        update_xml(
            "RHBA-2024:0001",
            "bugfix",
            "None",
            &[],
            &[("bash", "x86_64", "0", "5.1.8", "9.el9")],
        ),
        // for another architecture only: does not apply
        update_xml(
            "RHSA-2024:9999",
            "security",
            "Important",
            &["CVE-2024-9999"],
            &[("bash", "s390x", "0", "5.1.8", "9.el9")],
        ),
    ]);
    for c in [
        Compression::Gz,
        Compression::Xz,
        Compression::Zst,
        Compression::None,
    ] {
        let f2 = Fixture::new();
        f2.repo(
            "baseos",
            "",
            Layout::Dnf,
            &[
                ("openssl", "x86_64", "1", "3.0.7", "27.el9"),
                ("bash", "x86_64", "0", "5.1.8", "9.el9"),
            ],
            Some(&updates),
            c,
        );
        let pending = f2.pending(&installed(&[
            ("openssl", "1:3.0.7-24.el9", "x86_64"),
            ("bash", "5.1.8-6.el9_1", "x86_64"),
        ]));
        assert_eq!(
            summary(&pending),
            vec![
                row("bash", "x86_64", "5.1.8-6.el9_1", "5.1.8-9.el9", false),
                row(
                    "openssl",
                    "x86_64",
                    "1:3.0.7-24.el9",
                    "1:3.0.7-27.el9",
                    true
                ),
            ],
            "{c:?}"
        );
        assert_eq!(
            pending[1].advisories,
            vec![
                pb::Advisory {
                    id: "RHSA-2023:7877".into(),
                    kind: "security".into(),
                    severity: "Moderate".into(),
                    cves: vec!["CVE-2023-3817".into(), "CVE-2023-5678".into()],
                },
                pb::Advisory {
                    id: "RHSA-2024:2447".into(),
                    kind: "security".into(),
                    severity: "Important".into(),
                    cves: vec!["CVE-2024-0727".into()],
                },
            ],
            "{c:?}"
        );
        assert_eq!(
            pending[0].advisories,
            vec![pb::Advisory {
                id: "RHBA-2024:0001".into(),
                kind: "bugfix".into(),
                severity: String::new(),
                cves: vec![],
            }]
        );
    }
    drop(f);
}

#[test]
fn priorities_excludes_and_locks_are_honoured() {
    let offers: &[Pkg<'_>] = &[
        ("curl", "x86_64", "0", "8.0", "1.el9"),
        ("vim-enhanced", "x86_64", "2", "9.0", "1.el9"),
        ("httpd", "x86_64", "0", "2.4.57", "5.el9"),
        ("podman", "x86_64", "4", "4.6.1", "5.el9"),
        ("zsh", "x86_64", "0", "5.9", "1.el9"),
    ];
    let pkgs = installed(&[
        ("curl", "7.76.1-26.el9", "x86_64"),
        ("vim-enhanced", "2:8.2.2637-20.el9_1", "x86_64"),
        ("httpd", "2.4.53-11.el9_2", "x86_64"),
        ("podman", "4:4.4.1-12.el9_2", "x86_64"),
        ("zsh", "5.8-9.el9", "x86_64"),
    ]);
    let f = Fixture::new();
    f.repo(
        "appstream",
        "excludepkgs=zsh",
        Layout::Dnf,
        offers,
        None,
        Compression::Gz,
    );
    // A repository of better priority offering an older curl hides the newer one.
    f.repo(
        "pinned",
        "priority=10",
        Layout::Dnf,
        &[("curl", "x86_64", "0", "7.76.1", "29.el9")],
        None,
        Compression::Gz,
    );
    // A disabled repository is ignored.
    f.repo(
        "disabled",
        "enabled=0",
        Layout::Dnf,
        &[("httpd", "x86_64", "0", "9.9", "1")],
        None,
        Compression::Gz,
    );
    f.write(
        "etc/dnf/dnf.conf",
        b"[main]\ngpgcheck=1\nexcludepkgs=vim-*,\n  other\n",
    );
    f.write(
        "etc/dnf/plugins/versionlock.list",
        b"# Added locks on Mon Jan  1 00:00:00 2024\nhttpd-0:2.4.53-11.el9_2.*\n!podman-4:4.6.1-5.el9.*\n",
    );
    assert_eq!(
        summary(&f.pending(&pkgs)),
        vec![row(
            "curl",
            "x86_64",
            "7.76.1-26.el9",
            "7.76.1-29.el9",
            false
        )]
    );
    // With the lock lifted (plugin disabled), httpd moves.
    f.write("etc/dnf/plugins/versionlock.conf", b"[main]\nenabled=0\n");
    let names: Vec<String> = f.pending(&pkgs).into_iter().map(|p| p.name).collect();
    assert_eq!(names, vec!["curl", "httpd", "podman"]);
}

#[test]
fn every_repository_offering_the_candidate_is_named() {
    let f = Fixture::new();
    let offers: &[Pkg<'_>] = &[("tzdata", "noarch", "0", "2024a", "1.el9")];
    f.repo("baseos", "", Layout::Dnf, offers, None, Compression::Gz);
    f.repo(
        "baseos-eus",
        "",
        Layout::Dnf5,
        offers,
        None,
        Compression::Zst,
    );
    f.repo(
        "appstream",
        "",
        Layout::Dnf,
        &[("tzdata", "noarch", "0", "2023c", "1.el9")],
        None,
        Compression::Xz,
    );
    let pending = f.pending(&installed(&[("tzdata", "2023c-1.el9", "noarch")]));
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].suites, vec!["baseos", "baseos-eus"]);
    assert_eq!(pending[0].origin, "baseos");
}

#[test]
fn yum_and_zypper_caches_are_read() {
    let f = Fixture::new();
    f.repo(
        "base",
        "",
        Layout::Yum,
        &[("bash", "x86_64", "0", "4.2.46", "35.el7_9")],
        Some(&updateinfo_xml(&[update_xml(
            "RHSA-2020:1234",
            "security",
            "Moderate",
            &["CVE-2019-18276"],
            &[("bash", "x86_64", "0", "4.2.46", "35.el7_9")],
        )])),
        Compression::Gz,
    );
    f.repo(
        "repo-sle-update",
        "autorefresh=1\ntype=rpm-md",
        Layout::Zypper,
        &[("openssl-3", "x86_64", "0", "3.0.8", "150500.5.20.1")],
        None,
        Compression::Zst,
    );
    let pending = f.pending(&installed(&[
        ("bash", "4.2.46-34.el7", "x86_64"),
        ("openssl-3", "3.0.8-150500.5.14.2", "x86_64"),
    ]));
    assert_eq!(
        summary(&pending),
        vec![
            row("bash", "x86_64", "4.2.46-34.el7", "4.2.46-35.el7_9", true),
            row(
                "openssl-3",
                "x86_64",
                "3.0.8-150500.5.14.2",
                "3.0.8-150500.5.20.1",
                false
            ),
        ]
    );
    assert_eq!(pending[1].origin, "repo-sle-update");

    // zypper's locks keep a package where it is.
    f.write(
        "etc/zypp/locks",
        b"type: package\nmatch_type: glob\ncase_sensitive: on\nsolvable_name: openssl-*\n\n",
    );
    let pending = f.pending(&installed(&[(
        "openssl-3",
        "3.0.8-150500.5.14.2",
        "x86_64",
    )]));
    assert!(pending.is_empty(), "{pending:?}");
}

#[test]
fn yum_primary_db_is_read_when_there_is_no_xml() {
    let f = Fixture::new();
    let base = f.root().join("var/cache/yum/x86_64/7/updates");
    std::fs::create_dir_all(base.join("gen")).unwrap();
    f.write(
        "etc/yum.repos.d/CentOS-Base.repo",
        b"[updates]\nname=CentOS-7 - Updates\nmirrorlist=http://mirrorlist.centos.org/\n",
    );
    f.write(
        "var/cache/yum/x86_64/7/updates/repomd.xml",
        br#"<repomd xmlns="http://linux.duke.edu/metadata/repo"><data type="primary_db"><location href="repodata/abc-primary.sqlite.bz2"/></data></repomd>"#,
    );
    let conn = rusqlite::Connection::open(base.join("gen/primary_db.sqlite")).unwrap();
    conn.execute_batch(
        "CREATE TABLE packages (pkgKey INTEGER PRIMARY KEY, pkgId TEXT, name TEXT, arch TEXT, \
         version TEXT, epoch TEXT, release TEXT, summary TEXT); \
         INSERT INTO packages (name, arch, version, epoch, release) VALUES \
         ('openssh', 'x86_64', '7.4p1', '0', '23.el7_9'), ('openssh', 'src', '9.9', '0', '1'), \
         ('other', 'x86_64', '1', '0', '1');",
    )
    .unwrap();
    drop(conn);
    assert_eq!(
        summary(&f.pending(&installed(&[("openssh", "7.4p1-22.el7_9", "x86_64")]))),
        vec![row(
            "openssh",
            "x86_64",
            "7.4p1-22.el7_9",
            "7.4p1-23.el7_9",
            false
        )]
    );
}

#[test]
fn the_newest_cache_of_a_repository_wins() {
    let f = Fixture::new();
    f.repo(
        "baseos",
        "",
        Layout::Dnf,
        &[("jq", "x86_64", "0", "1.6", "16.el9")],
        None,
        Compression::Gz,
    );
    // A stale directory of the same repository (another URL hash), refreshed earlier.
    let stale = f.write(
        "var/cache/dnf/baseos-0000000000000000/repodata/repomd.xml",
        b"<repomd><data type=\"primary\"><location href=\"repodata/p.xml\"/></data></repomd>",
    );
    f.write(
        "var/cache/dnf/baseos-0000000000000000/repodata/p.xml",
        primary_xml(&[("jq", "x86_64", "0", "9.9", "1")]).as_bytes(),
    );
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let pending = f.pending(&installed(&[("jq", "1.6-15.el9", "x86_64")]));
    assert_eq!(pending[0].candidate_version, "1.6-16.el9");
}

/// zchunk fixtures (see `tests/fixtures/rpm/README.md`) and what `unzck` makes of them.
const ZCHUNK: &[(&str, &str)] = &[
    ("createrepo_c.primary.xml.zck", "createrepo_c.primary.xml"),
    ("dict.primary.xml.zck", "dict.primary.xml"),
    (
        "dict-uncompressed-sha512_128.primary.xml.zck",
        "dict.primary.xml",
    ),
];

fn zchunk_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/rpm/zchunk")
            .join(name),
    )
    .unwrap()
}

#[test]
fn zchunk_decodes_as_unzck_does() {
    use std::io::Read;
    for (zck, plain) in ZCHUNK {
        let bytes = zchunk_fixture(zck);
        let mut out = Vec::new();
        zchunk::Reader::new(bytes.as_slice())
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, zchunk_fixture(plain), "{zck}");
        // Every truncation is an error, never a panic or a short success.
        for cut in (0..bytes.len()).step_by(7) {
            let mut out = Vec::new();
            let result =
                zchunk::Reader::new(&bytes[..cut]).and_then(|mut r| r.read_to_end(&mut out));
            assert!(result.is_err(), "{zck} cut at {cut}");
        }
        // Damage anywhere gives an error or other bytes (checksums are not verified;
        // see the module), never a panic.
        for at in (0..bytes.len()).step_by(11) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x55;
            let mut out = Vec::new();
            let _ =
                zchunk::Reader::new(damaged.as_slice()).and_then(|mut r| r.read_to_end(&mut out));
        }
    }
}

#[test]
fn fedora_style_zchunk_only_metadata_is_read() {
    let f = Fixture::new();
    f.write(
        "etc/yum.repos.d/fedora-updates.repo",
        b"[updates]\nname=Fedora $releasever - $basearch - Updates\nmetalink=https://mirrors.fedoraproject.org/\n",
    );
    let base = "var/cache/libdnf5/updates-1a2b3c4d5e6f7a8b/repodata";
    f.write(
        &format!("{base}/repomd.xml"),
        br#"<repomd><data type="primary"><location href="repodata/p-primary.xml.gz"/></data><data type="primary_zck"><location href="repodata/p-primary.xml.zck"/></data></repomd>"#,
    );
    f.write(
        &format!("{base}/p-primary.xml.zck"),
        &zchunk_fixture("dict.primary.xml.zck"),
    );
    let pending = f.pending(&installed(&[("ward-tilde", "1.0~rc1^git1-1", "x86_64")]));
    assert_eq!(
        summary(&pending),
        vec![row(
            "ward-tilde",
            "x86_64",
            "1.0~rc1^git1-1",
            "1.0~rc1^git2-1",
            false
        )]
    );
    assert_eq!(pending[0].origin, "updates");
}

#[test]
fn damaged_metadata_is_an_error_naming_the_file_and_the_fix() {
    let f = Fixture::new();
    f.repo(
        "baseos",
        "",
        Layout::Dnf,
        &[("bash", "x86_64", "0", "9", "1")],
        None,
        Compression::Gz,
    );
    let path = f
        .root()
        .join("var/cache/dnf/baseos-1a2b3c4d5e6f7a8b/repodata/0f1e2d3c-primary.xml.gz");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let msg = pending_for(
        f.root(),
        &installed(&[("bash", "5.1-1", "x86_64")]),
        &Options::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("dnf makecache"),
        "{msg}"
    );

    std::fs::write(
        &path,
        compress(
            b"<metadata><package><name>bash</nam></package>",
            Compression::Gz,
        )
        .0,
    )
    .unwrap();
    let msg = pending_for(
        f.root(),
        &installed(&[("bash", "5.1-1", "x86_64")]),
        &Options::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.starts_with(&format!(
            "failed to parse repository metadata {}",
            path.display()
        )),
        "{msg}"
    );
}

#[test]
fn primary_reader_keeps_only_wanted_binary_packages() {
    let xml = primary_xml(&[
        ("bash", "x86_64", "0", "5.1.8", "6.el9_1"),
        ("bash", "src", "0", "5.1.8", "6.el9_1"),
        ("zsh", "x86_64", "0", "5.8", "9.el9"),
    ]);
    let wanted: HashSet<String> = ["bash".to_owned()].into();
    let offers = repodata::read_primary(xml.as_bytes(), &wanted).unwrap();
    assert_eq!(
        offers,
        vec![Offer {
            name: "bash".into(),
            arch: "x86_64".into(),
            epoch: "0".into(),
            version: "5.1.8".into(),
            release: "6.el9_1".into(),
            ..Offer::default()
        }]
    );
    // Entities in names resolve (nobody writes them, but XML allows it).
    let xml = "<metadata><package><name>a&amp;b&#x41;</name><arch>noarch</arch><version epoch=\"0\" ver=\"1\" rel=\"1\"/></package></metadata>";
    let wanted: HashSet<String> = ["a&bA".to_owned()].into();
    assert_eq!(
        repodata::read_primary(xml.as_bytes(), &wanted)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn repomd_locations() {
    let md = repodata::parse_repomd(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1705000000</revision>
  <data type="primary"><location href="repodata/a-primary.xml.gz"/></data>
  <data type="primary_zck"><location href="repodata/a-primary.xml.zck"/></data>
  <data type="updateinfo"><location href="repodata/b-updateinfo.xml.bz2"/></data>
  <data type="filelists"><location href="repodata/c-filelists.xml.gz"/></data>
</repomd>"#,
    );
    assert_eq!(md.primary.as_deref(), Some("repodata/a-primary.xml.gz"));
    assert_eq!(
        md.primary_zck.as_deref(),
        Some("repodata/a-primary.xml.zck")
    );
    assert_eq!(
        md.updateinfo.as_deref(),
        Some("repodata/b-updateinfo.xml.bz2")
    );
    assert_eq!(md.primary_db, None);
}

#[test]
fn config_files_and_globs() {
    let ini = repos::parse_ini(
        "# comment\n[main]\nexclude = kernel* ,foo\n  bar\n; other\n[baseos]\nname: BaseOS\nenabled=0\n",
    );
    assert_eq!(ini[0].0, "main");
    assert_eq!(ini[0].1[0], ("exclude".into(), "kernel* ,foo bar".into()));
    assert_eq!(
        ini[1].1,
        vec![
            ("name".into(), "BaseOS".into()),
            ("enabled".into(), "0".into())
        ]
    );
    for (pattern, text, expected) in [
        ("kernel*", "kernel-core", true),
        ("kernel*", "kmod", false),
        ("*-devel", "glibc-devel", true),
        ("python3.?", "python3.9", true),
        ("python3.?", "python3.11", false),
        ("lib[a-c]z", "libbz", true),
        ("lib[!a-c]z", "libbz", false),
        ("lib[!a-c]z", "libzz", true),
        (
            "httpd-0:2.4.53-11.el9_2.*",
            "httpd-0:2.4.53-11.el9_2.x86_64",
            true,
        ),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("[", "[", true),
        ("", "", true),
        ("*", "", true),
    ] {
        assert_eq!(
            repos::glob_match(pattern, text),
            expected,
            "{pattern} {text}"
        );
    }
}

#[test]
fn managers_are_named_by_what_is_installed() {
    let f = Fixture::new();
    assert_eq!(managers(f.root()), vec!["rpm"]);
    f.write("usr/bin/yum", b"");
    assert_eq!(managers(f.root()), vec!["yum"]);
    f.write("usr/bin/dnf", b"");
    assert_eq!(managers(f.root()), vec!["dnf"]);
    f.write("usr/bin/zypper", b"");
    assert_eq!(managers(f.root()), vec!["dnf", "zypper"]);
}

/// One `modulemd` v2 document as RHEL 8 AppStream publishes it (trimmed of the fields
/// nothing reads: licences, components, profiles' descriptions).
fn modulemd_doc(
    stream: &str,
    version: &str,
    context: &str,
    platform: &str,
    nevras: &[&str],
) -> String {
    let mut artifacts = String::new();
    for n in nevras {
        artifacts.push_str(&format!("    - {n}\n"));
    }
    format!(
        r#"---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "{stream}"
  version: {version}
  context: {context}
  arch: x86_64
  summary: Javascript runtime
  description: >-
    Node.js is a platform built on Chrome's JavaScript runtime
    for easily building fast, scalable network applications.
  license:
    module:
    - MIT
  xmd: {{}}
  dependencies:
  - buildrequires:
      platform: [el8.9.0]
    requires:
      platform: [{platform}]
  references:
    community: http://nodejs.org
  profiles:
    common:
      rpms:
      - nodejs
      - npm
  api:
    rpms:
    - nodejs
  components:
    rpms:
      nodejs:
        rationale: Javascript runtime and npm package manager.
        ref: 7ba1d2c5
        buildorder: 10
  artifacts:
    rpms:
{artifacts}...
"#
    )
}

const NODEJS_DEFAULTS: &str = r#"---
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

/// AppStream with nodejs:18 (two builds, of different contexts), nodejs:20 (and a build
/// of it for el9, which does not run here), the default stream 20, and a non-modular
/// nodejs in BaseOS.
fn nodejs_fixture() -> Fixture {
    let f = Fixture::new();
    let m18 = "module+el8.9.0+20473+c4e3d824";
    let m18b = "module+el8.10.0+21000+aaaaaaaa";
    let m20 = "module+el8.9.0+20500+bbbbbbbb";
    let repomd = f.repo(
        "appstream",
        "",
        Layout::Dnf,
        &[
            (
                "nodejs",
                "x86_64",
                "1",
                "18.18.2",
                "1.module+el8.9.0+20473+c4e3d824",
            ),
            (
                "nodejs",
                "x86_64",
                "1",
                "18.20.4",
                "1.module+el8.10.0+21000+aaaaaaaa",
            ),
            (
                "npm",
                "x86_64",
                "1",
                "10.7.0",
                "1.18.20.4.1.module+el8.10.0+21000+aaaaaaaa",
            ),
            (
                "nodejs",
                "x86_64",
                "1",
                "20.10.0",
                "1.module+el8.9.0+20500+bbbbbbbb",
            ),
            (
                "nodejs",
                "x86_64",
                "1",
                "20.99.0",
                "1.module+el9.4.0+1+cccccccc",
            ),
        ],
        None,
        Compression::Gz,
    );
    let yaml = [
        modulemd_doc(
            "18",
            "8090020231025093418",
            "a75119d5",
            "el8",
            &[
                &format!("nodejs-1:18.18.2-1.{m18}.src"),
                &format!("nodejs-1:18.18.2-1.{m18}.x86_64"),
            ],
        ),
        modulemd_doc(
            "18",
            "8100020240807161023",
            "e4f7f4a1",
            "el8",
            &[
                &format!("nodejs-1:18.20.4-1.{m18b}.x86_64"),
                &format!("npm-1:10.7.0-1.18.20.4.1.{m18b}.x86_64"),
            ],
        ),
        modulemd_doc(
            "20",
            "8090020231201000000",
            "bf0d8d4b",
            "el8",
            &[&format!("nodejs-1:20.10.0-1.{m20}.x86_64")],
        ),
        modulemd_doc(
            "20",
            "9040020240101000000",
            "aaaa0000",
            "el9",
            &["nodejs-1:20.99.0-1.module+el9.4.0+1+cccccccc.x86_64"],
        ),
        NODEJS_DEFAULTS.to_owned(),
        // Another kind of document, skipped.
        "---\ndocument: modulemd-obsoletes\nversion: 1\ndata:\n  module: nodejs\n  stream: \"16\"\n...\n".to_owned(),
    ]
    .concat();
    f.modules(&repomd, &yaml);
    f.repo(
        "baseos",
        "",
        Layout::Dnf,
        &[("nodejs", "x86_64", "1", "22.0.0", "1.el8")],
        None,
        Compression::Gz,
    );
    f.write(
        "etc/os-release",
        b"NAME=\"Rocky Linux\"\nVERSION_ID=\"8.10\"\nPLATFORM_ID=\"platform:el8\"\n",
    );
    f
}

fn nodejs_candidate(f: &Fixture) -> Option<String> {
    let pending = f.pending(&installed(&[
        ("rpm", "4.14.3-31.el8", "x86_64"),
        ("nodejs", "1:18.17.0-1.module+el8.8.0+1+dddddddd", "x86_64"),
        (
            "npm",
            "1:9.6.7-1.18.17.0.1.module+el8.8.0+1+dddddddd",
            "x86_64",
        ),
    ]));
    pending
        .iter()
        .find(|p| p.name == "nodejs")
        .map(|p| format!("{} {}", p.candidate_version, p.origin))
}

#[test]
fn module_streams_decide_what_dnf_offers() {
    let f = nodejs_fixture();
    // No state: the default stream (20), its el8 build only; BaseOS's non-modular nodejs
    // of the same name is hidden.
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:20.10.0-1.module+el8.9.0+20500+bbbbbbbb appstream")
    );

    // Stream 18 enabled: its newest build (another context than the older one).
    f.write(
        "etc/dnf/modules.d/nodejs.module",
        b"[nodejs]\nname=nodejs\nstream=18\nprofiles=\nstate=enabled\n",
    );
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:18.20.4-1.module+el8.10.0+21000+aaaaaaaa appstream")
    );
    let pending = f.pending(&installed(&[(
        "npm",
        "1:9.6.7-1.18.17.0.1.module+el8.8.0+1+dddddddd",
        "x86_64",
    )]));
    assert_eq!(
        pending[0].candidate_version,
        "1:10.7.0-1.18.20.4.1.module+el8.10.0+21000+aaaaaaaa"
    );

    // Disabled: no modular build at all; the non-modular one is offered again.
    f.write(
        "etc/dnf/modules.d/nodejs.module",
        b"[nodejs]\nname=nodejs\nstream=\nprofiles=\nstate=disabled\n",
    );
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:22.0.0-1.el8 baseos")
    );

    // A file libdnf ignores (no `profiles`): the default stream again.
    f.write(
        "etc/dnf/modules.d/nodejs.module",
        b"[nodejs]\nstream=18\nstate=enabled\n",
    );
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:20.10.0-1.module+el8.9.0+20500+bbbbbbbb appstream")
    );

    // dnf5's state wins over dnf 4's files.
    f.write(
        "usr/lib/sysimage/libdnf5/modules.toml",
        b"version = \"1.0\"\n\n[modules.nodejs]\nenabled_stream = \"18\"\nstate = \"Enabled\"\ninstalled_profiles = []\n",
    );
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:18.20.4-1.module+el8.10.0+21000+aaaaaaaa appstream")
    );
    std::fs::remove_file(f.root().join("usr/lib/sysimage/libdnf5/modules.toml")).unwrap();

    // A local default stream wins over the repositories'.
    f.write(
        "etc/dnf/modules.defaults.d/nodejs.yaml",
        b"---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: nodejs\n  stream: \"18\"\n...\n",
    );
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:18.20.4-1.module+el8.10.0+21000+aaaaaaaa appstream")
    );

    // The platform decides which builds can run: on el9 only the el9 build of 20.
    f.write("etc/os-release", b"PLATFORM_ID=\"platform:el9\"\n");
    std::fs::remove_file(f.root().join("etc/dnf/modules.defaults.d/nodejs.yaml")).unwrap();
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:20.99.0-1.module+el9.4.0+1+cccccccc appstream")
    );
    // And dnf.conf's module_platform_id wins over os-release.
    f.write(
        "etc/dnf/dnf.conf",
        b"[main]\nmodule_platform_id=platform:el8\n",
    );
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:20.10.0-1.module+el8.9.0+20500+bbbbbbbb appstream")
    );
}

#[test]
fn module_hotfix_repositories_are_not_filtered() {
    let f = nodejs_fixture();
    f.write(
        "etc/dnf/modules.d/nodejs.module",
        b"[nodejs]\nname=nodejs\nstream=18\nprofiles=\nstate=enabled\n",
    );
    f.repo(
        "hotfix",
        "module_hotfixes=1",
        Layout::Dnf,
        &[("nodejs", "x86_64", "1", "18.20.5", "1.hotfix.el8")],
        None,
        Compression::Gz,
    );
    assert_eq!(
        nodejs_candidate(&f).as_deref(),
        Some("1:18.20.5-1.hotfix.el8 hotfix")
    );
}

#[test]
fn modular_filtering_hides_packages_providing_a_modular_name() {
    let f = nodejs_fixture();
    // BaseOS also carries a package that provides `nodejs`; an installed copy of it is
    // not updated from BaseOS while nodejs is modular here.
    let compat = ("nodejs-compat", "x86_64", "0", "2.0", "1.el8");
    f.repo_xml(
        "extras",
        "",
        Layout::Dnf,
        &primary_of(&[package_xml_with(
            compat,
            "    <rpm:provides>\n      <rpm:entry name=\"nodejs\" flags=\"EQ\" epoch=\"1\" ver=\"16\"/>\n    </rpm:provides>\n",
        )]),
        None,
        Compression::None,
    );
    let pkgs = installed(&[("nodejs-compat", "1.0-1.el8", "x86_64")]);
    assert!(f.pending(&pkgs).is_empty());
    f.write(
        "etc/dnf/modules.d/nodejs.module",
        b"[nodejs]\nname=nodejs\nstream=\nprofiles=\nstate=disabled\n",
    );
    assert_eq!(f.pending(&pkgs)[0].candidate_version, "2.0-1.el8");
}

#[test]
fn modulemd_reader_keeps_what_dnf_reads() {
    let yaml = [
        modulemd_doc("5.30", "820181219174508", "9edba152", "el8", &["perl-4:5.30.1-1.module_el8.x86_64"]),
        NODEJS_DEFAULTS.to_owned(),
        // Flow style, an alias, a document of an unknown version, a stream with no
        // default, a stream written as a plain number.
        "--- {document: modulemd, version: 2, data: {name: perl-DBI, stream: 1.641, version: 1, context: c, arch: x86_64, dependencies: [{requires: {perl: [], platform: &p [el8]}}, {requires: {platform: *p}}], artifacts: {rpms: [perl-DBI-0:1.641-4.module_el8.x86_64]}}}\n".to_owned(),
        "---\ndocument: modulemd\nversion: 3\ndata:\n  name: x\n  stream: y\n".to_owned(),
        "---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: perl\n".to_owned(),
    ]
    .concat();
    let md = modulemd::read_modules(yaml.as_bytes()).unwrap();
    assert_eq!(md.modules.len(), 2);
    let perl = &md.modules[0];
    assert_eq!(
        (
            perl.name.as_str(),
            perl.stream.as_str(),
            perl.version,
            perl.context.as_str(),
            perl.arch.as_str()
        ),
        ("nodejs", "5.30", 820181219174508, "9edba152", "x86_64")
    );
    assert_eq!(perl.artifacts, ["perl-4:5.30.1-1.module_el8.x86_64"]);
    assert_eq!(
        perl.requires,
        vec![BTreeMap::from([(
            "platform".to_owned(),
            vec!["el8".to_owned()]
        )])]
    );
    let dbi = &md.modules[1];
    assert_eq!(dbi.stream, "1.641");
    assert_eq!(
        dbi.requires,
        vec![
            BTreeMap::from([
                ("perl".to_owned(), vec![]),
                ("platform".to_owned(), vec!["el8".to_owned()])
            ]),
            // The alias reads as nothing.
            BTreeMap::from([("platform".to_owned(), vec![])]),
        ]
    );
    assert_eq!(
        md.defaults,
        vec![
            modulemd::Defaults {
                module: "nodejs".into(),
                stream: Some("20".into())
            },
            modulemd::Defaults {
                module: "perl".into(),
                stream: None
            },
        ]
    );
    // Not YAML: an error, never a panic; truncations likewise.
    assert!(modulemd::read_modules(&b"--- [unclosed\n  - {"[..]).is_err());
    for cut in (0..yaml.len()).step_by(13) {
        let _ = modulemd::read_modules(&yaml.as_bytes()[..cut]);
    }
    // Invalid UTF-8 reads as replacement characters.
    let md = modulemd::read_modules(
        &b"---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: n\xffx\n  stream: s\n"[..],
    )
    .unwrap();
    assert_eq!(md.defaults[0].module, "n\u{fffd}x");
    // Deep nesting is bounded, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let _ = modulemd::read_modules(deep.as_bytes());
}

/// A package of `name` obsoleting `obsoletes` (`<rpm:entry>` attributes).
fn obsoleting(p: Pkg<'_>, obsoletes: &[&str]) -> String {
    let mut extra = String::from("    <rpm:obsoletes>\n");
    for o in obsoletes {
        extra.push_str(&format!("      <rpm:entry {o}/>\n"));
    }
    extra.push_str("    </rpm:obsoletes>\n");
    package_xml_with(p, &extra)
}

#[test]
fn a_package_obsoleting_an_installed_one_is_its_update() {
    let f = Fixture::new();
    let updates = updateinfo_xml(&[update_xml(
        "RHSA-2024:0100",
        "security",
        "Moderate",
        &["CVE-2024-0100"],
        &[("python3.11-foo", "x86_64", "0", "2.0", "1.el9")],
    )]);
    f.repo_xml(
        "appstream",
        "",
        Layout::Dnf,
        &primary_of(&[
            obsoleting(
                ("python3.11-foo", "x86_64", "0", "2.0", "1.el9"),
                &[r#"name="python3-foo" flags="LT" epoch="0" ver="2.0""#],
            ),
            // An older build of the same replacement: not the candidate.
            obsoleting(
                ("python3.11-foo", "x86_64", "0", "1.9", "1.el9"),
                &[r#"name="python3-foo" flags="LT" epoch="0" ver="2.0""#],
            ),
            // Obsoletes only versions below what is installed.
            obsoleting(
                ("legacy-ng", "x86_64", "0", "3.0", "1.el9"),
                &[r#"name="legacy" flags="LE" epoch="0" ver="1.0" rel="1.el9""#],
            ),
            // For another architecture only.
            obsoleting(
                ("armonly-ng", "aarch64", "0", "1.0", "1.el9"),
                &[r#"name="armonly""#],
            ),
            // Obsoletes a package that has an update of its own: that one wins.
            obsoleting(
                ("curl-full", "x86_64", "0", "8.0", "1.el9"),
                &[r#"name="curl""#],
            ),
            package_xml(("curl", "x86_64", "0", "7.76.1", "30.el9")),
            // Obsoleting itself is no replacement.
            obsoleting(("self", "x86_64", "0", "0.1", "1.el9"), &[r#"name="self""#]),
        ]),
        Some(&updates),
        Compression::Gz,
    );
    let pkgs = installed(&[
        ("python3-foo", "1.5-3.el9", "x86_64"),
        ("legacy", "1.0-2.el9", "x86_64"),
        ("armonly", "1.0-1.el9", "x86_64"),
        ("curl", "7.76.1-26.el9", "x86_64"),
        ("self", "1.0-1.el9", "x86_64"),
    ]);
    let pending = f.pending(&pkgs);
    assert_eq!(
        summary(&pending),
        vec![
            row("curl", "x86_64", "7.76.1-26.el9", "7.76.1-30.el9", false),
            row("python3-foo", "x86_64", "1.5-3.el9", "2.0-1.el9", true),
        ]
    );
    assert_eq!(pending[0].replaced_by, "", "curl updates itself");
    let foo = &pending[1];
    assert_eq!(foo.replaced_by, "python3.11-foo");
    assert_eq!(foo.origin, "appstream");
    assert_eq!(foo.suites, ["appstream"]);
    assert_eq!(foo.advisories[0].id, "RHSA-2024:0100");

    // `obsoletes=0` in dnf.conf: dnf upgrade does not replace packages.
    f.write("etc/dnf/dnf.conf", b"[main]\nobsoletes=0\n");
    assert_eq!(f.pending(&pkgs).len(), 1);
}

#[test]
fn zypper_repositories_do_not_replace_by_obsoletes() {
    let f = Fixture::new();
    f.repo_xml(
        "repo-oss",
        "",
        Layout::Zypper,
        &primary_of(&[obsoleting(
            ("foo-ng", "x86_64", "0", "2.0", "1.1"),
            &[r#"name="foo""#],
        )]),
        None,
        Compression::Gz,
    );
    assert!(
        f.pending(&installed(&[("foo", "1.0-1.1", "x86_64")]))
            .is_empty()
    );
}

#[test]
fn yum_primary_db_obsoletes_are_read() {
    let f = Fixture::new();
    let base = f.root().join("var/cache/yum/x86_64/7/base");
    std::fs::create_dir_all(base.join("gen")).unwrap();
    f.write("etc/yum.repos.d/base.repo", b"[base]\nname=Base\n");
    f.write(
        "var/cache/yum/x86_64/7/base/repomd.xml",
        br#"<repomd><data type="primary_db"><location href="repodata/abc-primary.sqlite.bz2"/></data></repomd>"#,
    );
    let conn = rusqlite::Connection::open(base.join("gen/primary_db.sqlite")).unwrap();
    conn.execute_batch(
        "CREATE TABLE packages (pkgKey INTEGER PRIMARY KEY, name TEXT, arch TEXT, version TEXT, \
         epoch TEXT, release TEXT); \
         CREATE TABLE obsoletes (name TEXT, flags TEXT, epoch TEXT, version TEXT, release TEXT, \
         pkgKey INTEGER); \
         INSERT INTO packages VALUES (1, 'mariadb-server', 'x86_64', '5.5.68', '1', '1.el7'); \
         INSERT INTO packages VALUES (2, 'unrelated', 'x86_64', '1', '0', '1'); \
         INSERT INTO obsoletes VALUES ('mysql-server', 'LT', '0', '5.5', NULL, 1);",
    )
    .unwrap();
    drop(conn);
    assert_eq!(
        summary(&f.pending(&installed(&[("mysql-server", "5.1.73-8.el6", "x86_64")]))),
        vec![row(
            "mysql-server",
            "x86_64",
            "5.1.73-8.el6",
            "1:5.5.68-1.el7",
            false
        )]
    );
    assert_eq!(
        f.pending(&installed(&[("mysql-server", "5.1.73-8.el6", "x86_64")]))[0].replaced_by,
        "mariadb-server"
    );
}

#[test]
fn the_metadata_cache_gives_what_the_files_give() {
    use std::os::unix::fs::PermissionsExt;

    let f = nodejs_fixture();
    f.repo(
        "updates",
        "",
        Layout::Dnf,
        &[("bash", "x86_64", "0", "5.1.8", "9.el8")],
        Some(&updateinfo_xml(&[update_xml(
            "RHSA-2024:1",
            "security",
            "Low",
            &[],
            &[("bash", "x86_64", "0", "5.1.8", "9.el8")],
        )])),
        Compression::Xz,
    );
    let pkgs = installed(&[
        ("bash", "5.1.8-6.el8", "x86_64"),
        ("nodejs", "1:18.17.0-1.module+el8.8.0+1+dddddddd", "x86_64"),
    ]);
    let cache_dir = tempfile::tempdir().unwrap();
    let options = Options {
        cache_dir: Some(cache_dir.path()),
    };
    let uncached = f.pending(&pkgs);
    assert_eq!(uncached.len(), 2);
    let first = pending_for(f.root(), &pkgs, &options).unwrap();
    assert_eq!(first, uncached);
    let file = cache_dir.path().join(cache::FILE_NAME);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(
        stored.contains("\"name\":\"nodejs\"") && !stored.contains("\"name\":\"npm\""),
        "only the offers of installed names are kept"
    );

    // Served from the cache: a primary.xml damaged in place, with its size and time kept,
    // is not read again.
    let primary = f
        .root()
        .join("var/cache/dnf/updates-1a2b3c4d5e6f7a8b/repodata/0f1e2d3c-primary.xml.xz");
    let meta = std::fs::metadata(&primary).unwrap();
    let len = usize::try_from(meta.len()).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&primary)
        .unwrap()
        .write_all(&vec![b'x'; len])
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&primary)
        .unwrap()
        .set_modified(meta.modified().unwrap())
        .unwrap();
    assert_eq!(pending_for(f.root(), &pkgs, &options).unwrap(), uncached);
    assert!(pending_for(f.root(), &pkgs, &Options::default()).is_err());

    // A refreshed primary.xml is read again.
    std::fs::write(
        &primary,
        compress(
            primary_xml(&[("bash", "x86_64", "0", "5.1.8", "10.el8")]).as_bytes(),
            Compression::Xz,
        )
        .0,
    )
    .unwrap();
    let after = pending_for(f.root(), &pkgs, &options).unwrap();
    assert_eq!(after[0].candidate_version, "5.1.8-10.el8");
    assert_eq!(after, f.pending(&pkgs));

    // Other installed names: the entries filtered for the old ones are not used.
    let more = installed(&[
        ("bash", "5.1.8-6.el8", "x86_64"),
        ("npm", "1:9.6.7-1.module+el8.8.0+1+dddddddd", "x86_64"),
    ]);
    assert_eq!(
        pending_for(f.root(), &more, &options).unwrap(),
        f.pending(&more)
    );

    // A damaged cache is rebuilt silently.
    std::fs::write(&file, b"\x00garbage").unwrap();
    assert_eq!(pending_for(f.root(), &pkgs, &options).unwrap(), after);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("{\"format\":")
    );
}
