//! The apt lists' cache: a cached run answers like an uncached one, on this machine and on
//! a copy of the fixture root, and a changed list, a changed installed set or a corrupt
//! cache file is never answered from stale entries.

mod apt_support;

use apt_support::{copy_tree, fixture};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use ward_agent::patches::{self, apt};

const MAIN_LIST: &str =
    "var/lib/apt/lists/deb.example.org_debian_dists_bookworm_main_binary-amd64_Packages";

/// A copy of the fixture root and an empty cache directory.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let root = dir.path().join("root");
    copy_tree(&fixture(), &root);
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).expect("create the cache directory");
    (dir, root, cache)
}

fn candidate(pending: &[apt::Pending], name: &str) -> Option<String> {
    pending
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.candidate_version.clone())
}

fn cache_file(cache: &Path) -> PathBuf {
    cache.join(apt::cache::FILE_NAME)
}

#[test]
fn cached_runs_of_this_machine_match_uncached() {
    let cache = tempfile::tempdir().unwrap();
    let root = Path::new("/");
    let uncached = patches::collect(root).expect("patch state of /");
    let first = patches::collect_with_cache(root, Some(cache.path())).unwrap();
    let written = std::fs::read(cache_file(cache.path())).expect("cache written");
    let second = patches::collect_with_cache(root, Some(cache.path())).unwrap();
    // The second run found every entry fresh, so it had nothing to rewrite.
    assert_eq!(std::fs::read(cache_file(cache.path())).unwrap(), written);
    assert_eq!(first.pending, uncached.pending);
    assert_eq!(second.pending, uncached.pending);
}

#[test]
fn cached_entries_are_what_a_second_run_reads() {
    let (_dir, root, cache) = setup();
    let uncached = patches::collect(&root).unwrap();
    let first = patches::collect_with_cache(&root, Some(&cache)).unwrap();
    assert_eq!(first, uncached);
    assert_eq!(
        candidate(&first.pending, "backpkg").as_deref(),
        Some("1.1-1")
    );

    // Doctor the cache: a run that reads it must see the doctored version.
    let text = std::fs::read_to_string(cache_file(&cache)).unwrap();
    let needle = r#""name":"backpkg","version":"1.1-1""#;
    assert!(text.contains(needle), "{text}");
    std::fs::write(
        cache_file(&cache),
        text.replace(needle, r#""name":"backpkg","version":"1.2-1""#),
    )
    .unwrap();
    let second = patches::collect_with_cache(&root, Some(&cache)).unwrap();
    assert_eq!(
        candidate(&second.pending, "backpkg").as_deref(),
        Some("1.2-1")
    );
}

#[test]
fn a_changed_list_is_read_again() {
    let (_dir, root, cache) = setup();
    let list = root.join(MAIN_LIST);
    let first = patches::collect_with_cache(&root, Some(&cache)).unwrap();
    assert_eq!(
        candidate(&first.pending, "backpkg").as_deref(),
        Some("1.1-1")
    );

    // Same size, same inode: only the mtime tells the change.
    let text = std::fs::read_to_string(&list).unwrap();
    let changed = text.replace(
        "Package: backpkg\nVersion: 1.1-1",
        "Package: backpkg\nVersion: 1.3-1",
    );
    assert_ne!(changed, text);
    assert_eq!(changed.len(), text.len());
    let before = std::fs::metadata(&list).unwrap().modified().unwrap();
    let mut file = std::fs::OpenOptions::new().write(true).open(&list).unwrap();
    file.write_all(changed.as_bytes()).unwrap();
    file.set_modified(before + Duration::from_secs(7)).unwrap();
    drop(file);

    let second = patches::collect_with_cache(&root, Some(&cache)).unwrap();
    assert_eq!(
        candidate(&second.pending, "backpkg").as_deref(),
        Some("1.3-1")
    );
    assert_eq!(second, patches::collect(&root).unwrap());
}

#[test]
fn a_corrupt_cache_is_ignored_and_rebuilt() {
    let (_dir, root, cache) = setup();
    let uncached = patches::collect(&root).unwrap();
    for garbage in [
        &b"{\"format\": 1, \"lists\": {\"x\": 3}}"[..],
        b"\0\0\xff not json",
        b"",
    ] {
        std::fs::write(cache_file(&cache), garbage).unwrap();
        let got = patches::collect_with_cache(&root, Some(&cache)).unwrap();
        assert_eq!(got, uncached);
        let rebuilt = std::fs::read(cache_file(&cache)).unwrap();
        assert!(serde_json::from_slice::<serde_json::Value>(&rebuilt).is_ok());
    }
    // A cache directory that does not exist costs the cache, not the answer.
    let missing = cache.join("missing");
    assert_eq!(
        patches::collect_with_cache(&root, Some(&missing)).unwrap(),
        uncached
    );
}

#[test]
fn a_changed_installed_set_invalidates() {
    let (_dir, root, cache) = setup();
    let first = patches::collect_with_cache(&root, Some(&cache)).unwrap();
    assert_eq!(candidate(&first.pending, "notinstalled"), None);

    // The lists are untouched; only dpkg's status gains a package they offer.
    let status = root.join("var/lib/dpkg/status");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&status)
        .unwrap();
    file.write_all(
        b"\nPackage: notinstalled\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n",
    )
    .unwrap();
    file.set_modified(SystemTime::now()).unwrap();
    drop(file);

    let second = patches::collect_with_cache(&root, Some(&cache)).unwrap();
    assert_eq!(
        candidate(&second.pending, "notinstalled").as_deref(),
        Some("9.9-1")
    );
    assert_eq!(second, patches::collect(&root).unwrap());
}

#[test]
fn the_cli_takes_a_cache_dir_or_none() {
    let (_dir, root, cache) = setup();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ward-agent"))
            .args(["patches", "--json", "--root"])
            .arg(&root)
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout
    };
    let uncached = run(&["--no-cache"]);
    assert!(!cache_file(&cache).exists());
    let cached = run(&["--cache-dir", cache.to_str().unwrap()]);
    assert!(cache_file(&cache).exists());
    assert_eq!(cached, uncached);
    assert_eq!(run(&["--cache-dir", cache.to_str().unwrap()]), uncached);
    // No default cache for a root other than /.
    let _ = run(&[]);
    let conflict = std::process::Command::new(env!("CARGO_BIN_EXE_ward-agent"))
        .args(["patches", "--no-cache", "--cache-dir"])
        .arg(&cache)
        .output()
        .unwrap();
    assert!(!conflict.status.success());
}
