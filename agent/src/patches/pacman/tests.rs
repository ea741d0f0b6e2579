use std::io::Write;

use super::*;

fn desc(name: &str, version: &str) -> String {
    format!(
        "%FILENAME%\n{name}-{version}-x86_64.pkg.tar.zst\n\n%NAME%\n{name}\n\n%BASE%\n{name}\n\n%VERSION%\n{version}\n\n%ARCH%\nx86_64\n\n"
    )
}

/// A sync database archive holding `packages` (name, version), as repo-add lays it out.
fn sync_tar(packages: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, version) in packages {
        let mut dir = tar::Header::new_ustar();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        builder
            .append_data(&mut dir, format!("{name}-{version}/"), io::empty())
            .unwrap();
        let body = desc(name, version);
        let mut file = tar::Header::new_ustar();
        file.set_mode(0o644);
        file.set_size(body.len() as u64);
        builder
            .append_data(&mut file, format!("{name}-{version}/desc"), body.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn local(name: &str, version: &str, groups: &[&str]) -> Desc {
    Desc {
        name: name.into(),
        version: version.into(),
        arch: "x86_64".into(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        ..Default::default()
    }
}

#[test]
fn conf_sections_in_order_and_ignores_from_options_only() {
    let config = parse_conf(
        "# comment\n[options]\nIgnorePkg = linux linux-headers # kernels by hand\n\
         IgnorePkg=firefox\nIgnoreGroup = gnome\nHoldPkg = pacman\n\n[core]\n\
         Include = /etc/pacman.d/mirrorlist\nIgnorePkg = notthis\n[extra]\n\
         Server = file:///srv\n#[testing]\n[core]\n",
    );
    assert_eq!(
        config,
        Config {
            repos: vec!["core".into(), "extra".into()],
            ignore_pkg: vec!["linux".into(), "linux-headers".into(), "firefox".into()],
            ignore_group: vec!["gnome".into()],
        }
    );
}

#[test]
fn includes_are_followed_under_the_root_with_globs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        CONF,
        b"[options]\nInclude = /etc/pacman.d/opts-*.conf\n[core]\nInclude = /etc/pacman.d/mirrorlist\n",
    );
    write(dir.path(), "etc/pacman.d/opts-b.conf", b"IgnorePkg = b\n");
    write(dir.path(), "etc/pacman.d/opts-a.conf", b"IgnorePkg = a\n");
    write(dir.path(), "etc/pacman.d/other.conf", b"IgnorePkg = no\n");
    write(
        dir.path(),
        "etc/pacman.d/mirrorlist",
        b"Server = https://example.org/$repo/os/$arch\n[extra]\n",
    );
    let config = read_conf(&Root::new(dir.path())).unwrap();
    assert_eq!(config.ignore_pkg, ["a", "b"]);
    assert_eq!(config.repos, ["core", "extra"]);
}

#[test]
fn an_include_loop_stops() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        CONF,
        b"[options]\nInclude = /etc/pacman.conf\nIgnorePkg = x\n",
    );
    let config = read_conf(&Root::new(dir.path())).unwrap();
    assert_eq!(config.ignore_pkg.len(), MAX_INCLUDE_DEPTH);
}

#[test]
fn ignore_patterns_last_match_decides() {
    let config = Config {
        ignore_pkg: vec!["linux*".into(), "!linux-firmware".into(), "a{b}".into()],
        ignore_group: vec!["gnome".into()],
        ..Default::default()
    };
    let ignore = Ignore::new(&config);
    assert!(ignore.ignores(&local("linux-lts", "1-1", &[])));
    assert!(!ignore.ignores(&local("linux-firmware", "1-1", &[])));
    assert!(!ignore.ignores(&local("bash", "1-1", &[])));
    assert!(ignore.ignores(&local("a{b}", "1-1", &[])));
    assert!(!ignore.ignores(&local("ab", "1-1", &[])));
    assert!(ignore.ignores(&local("gedit", "1-1", &["gnome"])));
}

#[test]
fn first_repository_with_the_package_gives_the_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        CONF,
        b"[options]\nIgnorePkg = held\n[core]\n[extra]\n[missing]\n[plain]\n",
    );
    // core has bash at the installed version, so extra's newer bash is not a candidate.
    write(
        root,
        &format!("{SYNC}/core.db"),
        &gzip(&sync_tar(&[("bash", "5.2.026-2"), ("glibc", "2.39-1")])),
    );
    let extra = sync_tar(&[
        ("bash", "5.2.032-1"),
        ("glibc", "2.40-1"),
        ("curl", "8.9.0-1"),
        ("held", "2-1"),
        ("old", "0.9-1"),
    ]);
    write(
        root,
        &format!("{SYNC}/extra.db"),
        &zstd::encode_all(&extra[..], 3).unwrap(),
    );
    write(
        root,
        &format!("{SYNC}/plain.db"),
        &sync_tar(&[("curl", "8.9.0-1")]),
    );
    let installed = [
        local("bash", "5.2.026-2", &[]),
        local("glibc", "2.38-7", &[]),
        local("curl", "8.8.0-1", &[]),
        local("held", "1-1", &[]),
        local("old", "1.0-1", &[]),
        local("local-only", "1-1", &[]),
    ];
    let pending = pending_for(&Root::new(root), &installed).unwrap();
    let got: Vec<_> = pending
        .iter()
        .map(|p| {
            (
                &*p.name,
                &*p.installed_version,
                &*p.candidate_version,
                &*p.origin,
                p.suites.join(","),
                p.held_back,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "curl",
                "8.8.0-1",
                "8.9.0-1",
                "extra",
                "extra,plain".to_owned(),
                false
            ),
            (
                "glibc",
                "2.38-7",
                "2.39-1",
                "core",
                "core".to_owned(),
                false
            ),
            ("held", "1-1", "2-1", "extra", "extra".to_owned(), true),
        ]
    );
    assert!(pending.iter().all(|p| p.source == "pacman" && !p.security));
}

#[test]
fn a_damaged_sync_database_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), CONF, b"[core]\n");
    write(
        dir.path(),
        &format!("{SYNC}/core.db"),
        &[0x1f, 0x8b, 0, 1, 2, 3],
    );
    let err = pending_for(&Root::new(dir.path()), &[local("a", "1-1", &[])])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sync/core.db") && err.contains("pacman -Sy"),
        "{err}"
    );
}

#[test]
fn kernel_release_from_files_or_version() {
    assert_eq!(
        release_in_files(
            "%FILES%\nusr/\nusr/lib/modules/6.6.1-arch1-1/\nusr/lib/modules/6.6.1-arch1-1/vmlinuz\n"
        )
        .as_deref(),
        Some("6.6.1-arch1-1")
    );
    assert_eq!(release_in_files("%FILES%\nusr/lib/firmware/x\n"), None);
    for (name, version, release) in [
        ("linux", "6.6.1.arch1-1", Some("6.6.1-arch1-1")),
        ("linux", "6.7.arch3-1", Some("6.7-arch3-1")),
        ("linux-lts", "6.6.36-1", Some("6.6.36-1-lts")),
        ("linux-zen", "6.9.7.zen1-1", Some("6.9.7-zen1-1-zen")),
        (
            "linux-hardened",
            "6.9.7.hardened1-1",
            Some("6.9.7-hardened1-1-hardened"),
        ),
        ("linux-headers", "6.6.1.arch1-1", None),
        ("linux-firmware", "20240610.7c2303ee-1", None),
    ] {
        assert_eq!(
            release_from_version(name, version).as_deref(),
            release,
            "{name} {version}"
        );
    }
}

#[test]
fn newest_kernel_prefers_the_file_list_and_the_newest_version() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &format!("{}/linux-6.6.1.arch1-1/files", local_db::LOCAL),
        b"%FILES%\nusr/lib/modules/6.6.1-arch1-1/vmlinuz\n",
    );
    write(
        root,
        &format!("{}/linux-headers-6.9.0.arch1-1/files", local_db::LOCAL),
        b"%FILES%\nusr/lib/modules/6.9.0-arch1-1/build/Makefile\n",
    );
    let installed = [
        local("linux", "6.6.1.arch1-1", &[]),
        local("linux-headers", "6.9.0.arch1-1", &[]),
        // No files entry: derived from the version.
        local("linux-lts", "6.6.36-1", &[]),
        local("bash", "5.2.026-2", &[]),
    ];
    assert_eq!(
        newest_kernel(&Root::new(root), &installed).as_deref(),
        Some("6.6.36-1-lts")
    );
    assert_eq!(
        newest_kernel(&Root::new(root), &installed[..2]).as_deref(),
        Some("6.6.1-arch1-1")
    );
}
