use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use super::*;

/// Whether the tests run as root, where mode 000 does not stop a read: a file they create
/// is then owned by uid 0.
fn is_root(dir: &Path) -> bool {
    let probe = dir.join("probe");
    fs::write(&probe, b"").unwrap();
    let uid = fs::metadata(&probe).unwrap().uid();
    fs::remove_file(probe).unwrap();
    uid == 0
}

fn entry<'a>(scan: &'a Scan, path: &Path) -> &'a Entry {
    scan.files
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("{} not in the scan: {scan:#?}", path.display()))
}

/// Asserts that the scan's hash of `path` is BLAKE3 of its bytes, read separately.
fn assert_hashed(scan: &Scan, path: &Path) {
    let e = entry(scan, path);
    assert_eq!(e.kind, Kind::File);
    let bytes = fs::read(path).unwrap();
    assert_eq!(
        e.blake3.as_deref(),
        Some(blake3::hash(&bytes).to_hex().as_str())
    );
    assert_eq!(e.size, bytes.len() as u64);
}

#[test]
fn scans_files_of_every_size_links_and_nested_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("empty"), b"").unwrap();
    // 5 MiB of varied bytes: hashed on several cores, in two reads.
    let big: Vec<u8> = (0..5 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(root.join("big"), &big).unwrap();
    // 64 MiB, almost all holes.
    let mut sparse = fs::File::create(root.join("sparse")).unwrap();
    sparse.set_len(64 << 20).unwrap();
    sparse.seek(SeekFrom::Start(40 << 20)).unwrap();
    sparse.write_all(b"a few bytes").unwrap();
    drop(sparse);
    fs::create_dir_all(root.join("a/b/c")).unwrap();
    fs::write(root.join("a/b/c/deep"), b"deep").unwrap();
    fs::write(root.join("a/small"), b"small file\n").unwrap();
    fs::set_permissions(root.join("a/small"), fs::Permissions::from_mode(0o640)).unwrap();
    // A link to a directory that must not be followed, and one to nothing.
    symlink(root.join("a"), root.join("link-to-a")).unwrap();
    symlink("nowhere", root.join("dangling")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();

    let scan = scan(&[root.to_path_buf()]);
    assert!(scan.errors.is_empty(), "{:#?}", scan.errors);

    for f in ["empty", "big", "sparse", "a/b/c/deep", "a/small"] {
        assert_hashed(&scan, &root.join(f));
    }
    assert_eq!(
        entry(&scan, &root.join("empty")).blake3.as_deref(),
        Some(blake3::hash(b"").to_hex().as_str())
    );
    assert_eq!(entry(&scan, &root.join("sparse")).size, 64 << 20);
    let small = entry(&scan, &root.join("a/small"));
    assert_eq!(small.mode, 0o100_640);
    let meta = fs::metadata(root.join("a/small")).unwrap();
    assert_eq!((small.uid, small.gid), (meta.uid(), meta.gid()));
    assert_eq!(small.mtime, meta.mtime());

    for d in ["", "a", "a/b", "a/b/c"] {
        let e = entry(&scan, &root.join(d));
        assert_eq!(e.kind, Kind::Dir, "{d}");
        assert_eq!(e.blake3, None);
    }
    let link = entry(&scan, &root.join("link-to-a"));
    assert_eq!(link.kind, Kind::Symlink);
    assert_eq!(link.target.as_deref(), Some(root.join("a").as_path()));
    assert_eq!(link.blake3, None);
    assert_eq!(link.mode & 0o170_000, 0o120_000);
    let dangling = entry(&scan, &root.join("dangling"));
    assert_eq!(dangling.kind, Kind::Symlink);
    assert_eq!(dangling.target.as_deref(), Some(Path::new("nowhere")));
    let fifo = entry(&scan, &root.join("fifo"));
    assert_eq!((fifo.kind, fifo.blake3.as_deref()), (Kind::Other, None));

    // Not followed: nothing under the link.
    assert!(
        !scan.files.iter().any(
            |e| e.path.starts_with(root.join("link-to-a/")) && e.path != root.join("link-to-a")
        ),
        "the link was followed"
    );
    // Sorted, each path once.
    let paths: Vec<&PathBuf> = scan.files.iter().map(|e| &e.path).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(paths, sorted);
    assert_eq!(paths.len(), 12);
}

#[test]
fn a_path_given_that_does_not_exist_is_an_error_entry() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("here"), b"x").unwrap();
    let missing = dir.path().join("not-here");
    let scan = scan(&[missing.clone(), dir.path().join("here")]);
    assert_eq!(scan.files.len(), 1);
    assert_eq!(scan.errors.len(), 1);
    assert_eq!(scan.errors[0].path, missing);
    assert!(
        matches!(&scan.errors[0].error, Error::Metadata { source, .. } if source.kind() == io::ErrorKind::NotFound),
        "{:?}",
        scan.errors[0]
    );
}

#[test]
fn a_link_given_as_the_path_is_recorded_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("d")).unwrap();
    fs::write(dir.path().join("d/f"), b"x").unwrap();
    symlink(dir.path().join("d"), dir.path().join("l")).unwrap();
    let scan = scan(&[dir.path().join("l")]);
    assert_eq!(scan.files.len(), 1, "{:#?}", scan.files);
    assert_eq!(scan.files[0].kind, Kind::Symlink);
}

#[test]
fn relative_paths_are_made_absolute_against_the_current_directory() {
    let cwd = std::env::current_dir().unwrap();
    let scan = scan(&[PathBuf::from("src/integrity/scan.rs")]);
    assert!(scan.errors.is_empty(), "{:#?}", scan.errors);
    assert_eq!(scan.files[0].path, cwd.join("src/integrity/scan.rs"));
    assert_hashed(&scan, &cwd.join("src/integrity/scan.rs"));
}

#[test]
fn unreadable_files_and_directories_are_error_entries() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("secret"), b"secret").unwrap();
    fs::set_permissions(root.join("secret"), fs::Permissions::from_mode(0o000)).unwrap();
    fs::create_dir(root.join("closed")).unwrap();
    fs::write(root.join("closed/inside"), b"x").unwrap();
    fs::set_permissions(root.join("closed"), fs::Permissions::from_mode(0o000)).unwrap();
    let root_user = is_root(root);
    let scan = scan(&[root.to_path_buf()]);
    // Let the tempdir be removed.
    fs::set_permissions(root.join("closed"), fs::Permissions::from_mode(0o700)).unwrap();

    if root_user {
        // Mode 000 does not stop root: both are read.
        assert!(scan.errors.is_empty(), "{:#?}", scan.errors);
        assert_hashed(&scan, &root.join("secret"));
        entry(&scan, &root.join("closed/inside"));
        return;
    }
    let errors: Vec<(&Path, &Error)> = scan
        .errors
        .iter()
        .map(|e| (e.path.as_path(), &e.error))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(matches!(errors[0], (p, Error::ReadDir { .. }) if p == root.join("closed")));
    assert!(matches!(errors[1], (p, Error::Read { .. }) if p == root.join("secret")));
    // Not listed as a file without a hash.
    assert!(!scan.files.iter().any(|e| e.path == root.join("secret")));
    // The directory itself is still listed.
    assert_eq!(entry(&scan, &root.join("closed")).kind, Kind::Dir);
}

#[test]
fn a_file_that_vanishes_or_changes_after_the_walk_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("gone"), b"soon gone").unwrap();
    fs::write(root.join("grows"), b"short").unwrap();
    fs::write(root.join("big"), vec![7; 2 << 20]).unwrap();
    fs::write(root.join("swapped"), b"first").unwrap();
    let walked = walk(&[root.to_path_buf()]);
    let seen = |name: &str| {
        &walked
            .files
            .iter()
            .find(|w| w.entry.path == root.join(name))
            .unwrap()
            .meta
    };

    fs::remove_file(root.join("gone")).unwrap();
    let e = hash_file(&root.join("gone"), seen("gone")).unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "{e:?}");

    fs::OpenOptions::new()
        .append(true)
        .open(root.join("grows"))
        .unwrap()
        .write_all(b" and longer")
        .unwrap();
    let e = hash_file(&root.join("grows"), seen("grows")).unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "{e:?}");

    fs::OpenOptions::new()
        .append(true)
        .open(root.join("big"))
        .unwrap()
        .write_all(b"more")
        .unwrap();
    let e = hash_file(&root.join("big"), seen("big")).unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "{e:?}");

    fs::remove_file(root.join("swapped")).unwrap();
    symlink("/etc/hostname", root.join("swapped")).unwrap();
    let e = hash_file(&root.join("swapped"), seen("swapped")).unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "{e:?}");
}

#[test]
fn overlapping_paths_list_each_entry_once() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("d")).unwrap();
    fs::write(dir.path().join("d/f"), b"x").unwrap();
    let scan = scan(&[dir.path().to_path_buf(), dir.path().join("d")]);
    assert_eq!(scan.files.len(), 3, "{:#?}", scan.files);
}
