use std::io::Write;

use super::*;

/// An `APKINDEX.tar.gz` as apk-tools writes and abuild-sign signs it: a gzip stream with
/// the signature's tar (no end marker), then a gzip stream with `DESCRIPTION` and
/// `APKINDEX` and the end marker.
pub(super) fn apkindex_tar_gz(description: &str, index: &str) -> Vec<u8> {
    let mut sig = tar::Builder::new(Vec::new());
    append(
        &mut sig,
        ".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
        &[7; 512],
    );
    // A tar without its end marker: the two zero blocks `into_inner` would add are cut.
    let sig = sig.into_inner().unwrap();
    let sig = &sig[..sig.len() - 1024];
    let mut body = tar::Builder::new(Vec::new());
    append(&mut body, "DESCRIPTION", description.as_bytes());
    append(&mut body, "APKINDEX", index.as_bytes());
    let body = body.into_inner().unwrap();
    let mut out = gzip(sig);
    out.extend(gzip(&body));
    out
}

fn append(builder: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_ustar();
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    builder.append_data(&mut header, name, data).unwrap();
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

fn stanza(name: &str, version: &str) -> String {
    format!("C:Q1abc=\nP:{name}\nV:{version}\nA:x86_64\nS:1\nI:2\no:{name}\n\n")
}

fn pkg(name: &str, version: &str) -> pb::Package {
    pb::Package {
        name: name.into(),
        version: version.into(),
        arch: "x86_64".into(),
        source: "apk".into(),
        state: "installed".into(),
        ..Default::default()
    }
}

#[test]
fn cache_names_are_the_sha1_of_the_url() {
    // The values pmbootstrap's tests check for the cache apk writes.
    assert_eq!(
        cache_name("https://nl.alpinelinux.org/alpine/edge/testing"),
        "APKINDEX.865a153c.tar.gz"
    );
    assert_eq!(
        cache_name("http://dl-cdn.alpinelinux.org/alpine/edge/testing"),
        "APKINDEX.30e6f5af.tar.gz"
    );
}

#[test]
fn repositories_with_tags_and_comments() {
    assert_eq!(
        parse_repositories(
            "https://dl-cdn.alpinelinux.org/alpine/v3.20/main\n\
             #https://dl-cdn.alpinelinux.org/alpine/v3.20/community\n\n\
             @edge https://dl-cdn.alpinelinux.org/alpine/edge/main\n  /media/cdrom/apks  \n@x\n"
        ),
        [
            Repository {
                tag: None,
                url: "https://dl-cdn.alpinelinux.org/alpine/v3.20/main".into()
            },
            Repository {
                tag: Some("edge".into()),
                url: "https://dl-cdn.alpinelinux.org/alpine/edge/main".into()
            },
            Repository {
                tag: None,
                url: "/media/cdrom/apks".into()
            },
        ]
    );
}

#[test]
fn world_pins_and_constraints() {
    let world = parse_world("alpine-base\nbusybox=1.36.1-r29 nginx@edge curl<9 !sudo go~1.22\n");
    let entry = |name: &str, tag: Option<&str>, c: Option<(&str, &str)>| WorldEntry {
        name: name.into(),
        tag: tag.map(Into::into),
        constraint: c.map(|(o, v)| (o.into(), v.into())),
    };
    assert_eq!(
        world,
        [
            entry("alpine-base", None, None),
            entry("busybox", None, Some(("=", "1.36.1-r29"))),
            entry("nginx", Some("edge"), None),
            entry("curl", None, Some(("<", "9"))),
            entry("go", None, Some(("~", "1.22"))),
        ]
    );
    assert!(!allows("=", "1.36.1-r29", "1.36.1-r30"));
    assert!(allows("<", "9", "8.9.0-r0"));
    assert!(allows(">=", "8", "8.9.0-r0"));
    assert!(allows("~", "1.22", "1.22.5-r0"));
    assert!(!allows("~", "1.22", "1.23.0-r0"));
    assert!(!allows("~", "1.2", "1.22.0-r0"));
}

#[test]
fn index_with_signature_stream_reads() {
    let bytes = apkindex_tar_gz(
        "v3.20.3-119-g7b8c5a0d37f",
        &(stanza("musl", "1.2.5-r1") + &stanza("zlib", "1.3.1-r1")),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("APKINDEX.x.tar.gz");
    std::fs::write(&path, bytes).unwrap();
    let index = read_index(&path).unwrap();
    assert_eq!(index.description, "v3.20.3-119-g7b8c5a0d37f");
    let names: Vec<_> = index.packages.iter().map(|p| &*p.name).collect();
    assert_eq!(names, ["musl", "zlib"]);
}

const MAIN: &str = "https://dl-cdn.alpinelinux.org/alpine/v3.20/main";
const COMMUNITY: &str = "https://dl-cdn.alpinelinux.org/alpine/v3.20/community";
const EDGE: &str = "https://dl-cdn.alpinelinux.org/alpine/edge/main";

fn fixture_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        REPOSITORIES,
        format!("{MAIN}\n{COMMUNITY}\n@edge {EDGE}\n").as_bytes(),
    );
    write(
        root,
        WORLD,
        b"alpine-base\nbusybox=1.36.1-r29\nnginx@edge\ncurl\n",
    );
    let main = stanza("musl", "1.2.5-r1")
        + &stanza("busybox", "1.36.1-r30")
        + &stanza("curl", "8.9.0-r0")
        + &stanza("curl", "8.9.1-r0")
        + &stanza("zlib", "1.3.1-r1")
        + &stanza("nginx", "1.26.2-r0");
    write(
        root,
        &format!("{CACHE}/{}", cache_name(MAIN)),
        &apkindex_tar_gz("v3.20.3-1-gaaaa", &main),
    );
    write(
        root,
        &format!("{CACHE}/{}", cache_name(COMMUNITY)),
        &apkindex_tar_gz("v3.20.3-1-gaaaa", &stanza("curl", "8.9.1-r0")),
    );
    write(
        root,
        &format!("{CACHE}/{}", cache_name(EDGE)),
        &apkindex_tar_gz(
            "v3.21.0-1-gbbbb",
            &(stanza("nginx", "1.27.1-r0") + &stanza("musl", "1.2.6-r0")),
        ),
    );
    // A stale index of a repository no longer configured is not read.
    write(
        root,
        &format!(
            "{CACHE}/{}",
            cache_name("https://old.example/alpine/v3.19/main")
        ),
        &apkindex_tar_gz("old", &stanza("zlib", "9-r0")),
    );
    dir
}

#[test]
fn highest_version_from_allowed_repositories() {
    let dir = fixture_root();
    let installed = [
        pkg("musl", "1.2.5-r0"),
        pkg("busybox", "1.36.1-r29"),
        pkg("curl", "8.8.0-r0"),
        pkg("zlib", "1.3.1-r1"),
        pkg("nginx", "1.26.1-r0"),
        pkg("local-only", "1-r0"),
    ];
    let pending = pending_for(&Root::new(dir.path()), &installed).unwrap();
    let got: Vec<_> = pending
        .iter()
        .map(|p| {
            (
                &*p.name,
                &*p.candidate_version,
                &*p.suite,
                p.suites.join(","),
                p.held_back,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "busybox",
                "1.36.1-r30",
                "v3.20/main",
                "v3.20/main".to_owned(),
                true
            ),
            (
                "curl",
                "8.9.1-r0",
                "v3.20/main",
                "v3.20/community,v3.20/main".to_owned(),
                false
            ),
            // Musl is not pinned to @edge, so edge's 1.2.6 is not a candidate.
            (
                "musl",
                "1.2.5-r1",
                "v3.20/main",
                "v3.20/main".to_owned(),
                false
            ),
            (
                "nginx",
                "1.27.1-r0",
                "edge/main",
                "edge/main".to_owned(),
                false
            ),
        ]
    );
    assert_eq!(pending[0].origin, MAIN);
    assert!(pending.iter().all(|p| p.source == "apk" && !p.security));
}

#[test]
fn unknown_cache_names_fall_back_to_every_cached_index() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, REPOSITORIES, format!("{MAIN}\n").as_bytes());
    write(
        root,
        &format!("{CACHE}/APKINDEX.0badc0de.tar.gz"),
        &apkindex_tar_gz("v3.20.3-1-gaaaa", &stanza("musl", "1.2.5-r1")),
    );
    let pending = pending_for(&Root::new(root), &[pkg("musl", "1.2.5-r0")]).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (&*pending[0].origin, &*pending[0].suite),
        ("APKINDEX.0badc0de.tar.gz", "v3.20.3-1-gaaaa")
    );
}

#[test]
fn a_damaged_index_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, REPOSITORIES, format!("{MAIN}\n").as_bytes());
    write(
        root,
        &format!("{CACHE}/{}", cache_name(MAIN)),
        &[0x1f, 0x8b, 8, 0, 1],
    );
    let err = pending_for(&Root::new(root), &[pkg("musl", "1.2.5-r0")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&cache_name(MAIN)) && err.contains("apk update"),
        "{err}"
    );
}

#[test]
fn newest_kernel_is_a_linux_package_with_its_modules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("lib/modules/6.6.31-0-lts")).unwrap();
    std::fs::create_dir_all(root.join("lib/modules/6.6.30-0-virt")).unwrap();
    let installed = [
        pkg("linux-lts", "6.6.31-r0"),
        pkg("linux-virt", "6.6.30-r0"),
        pkg("linux-pam", "1.6.0-r0"),
        pkg("linux-firmware-none", "20240610-r0"),
        // No modules directory: not counted.
        pkg("linux-edge", "6.9.7-r0"),
    ];
    assert_eq!(
        newest_kernel(&Root::new(root), &installed).as_deref(),
        Some("6.6.31-0-lts")
    );
    assert_eq!(
        kernel_release("linux-lts", "6.6.31-r0").as_deref(),
        Some("6.6.31-0-lts")
    );
    assert_eq!(kernel_release("linux", "6.6.31-r0"), None);
}
