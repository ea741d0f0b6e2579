//! `ward-agent integrity scan DIR --json`, with the real binaries: every regular file's
//! hash agrees with `b3sum`'s, links are listed and not followed, and what cannot be
//! scanned is listed under errors with the scan still exiting 0; no PATH exits 64.

// Helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// BLAKE3 of `file` as `b3sum` prints it, or `None` when b3sum is not installed (and
/// WARD_REQUIRE_TOOLS is not set).
fn b3sum(file: &Path) -> Option<String> {
    let out = match Command::new("b3sum").arg("--no-names").arg(file).output() {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
                "b3sum not found ({e}): required where WARD_REQUIRE_TOOLS is set (CI); \
                 install the Debian package b3sum"
            );
            return None;
        }
    };
    assert!(out.status.success(), "b3sum {}: {out:?}", file.display());
    Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

#[test]
fn scan_hashes_agree_with_b3sum() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tree");
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
    std::fs::write(dir.join("hello"), b"hello, ward\n").unwrap();
    let big: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("sub/big"), &big).unwrap();
    std::fs::write(dir.join("sub/deeper/x"), b"x").unwrap();
    std::os::unix::fs::symlink("../hello", dir.join("sub/link")).unwrap();

    let Some(_) = b3sum(&dir.join("hello")) else {
        eprintln!("b3sum not found; skipping the comparison with b3sum");
        return;
    };

    let missing = tmp.path().join("missing");
    let out = Command::new(ward_tests::bin("ward-agent").unwrap())
        .arg("integrity")
        .arg("scan")
        .arg(&dir)
        .arg(&missing)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();

    let files = json["files"].as_array().unwrap();
    let by_path: BTreeMap<&str, &Value> = files
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f))
        .collect();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        by_path.keys().copied().collect::<Vec<_>>(),
        "not sorted"
    );
    assert_eq!(files.len(), 8, "{json:#}");

    let mut compared = 0;
    for f in files.iter().filter(|f| f["kind"] == "file") {
        let path = Path::new(f["path"].as_str().unwrap());
        assert_eq!(
            f["blake3"].as_str(),
            b3sum(path).as_deref(),
            "{}",
            path.display()
        );
        assert_eq!(
            f["size"].as_u64(),
            Some(std::fs::metadata(path).unwrap().len())
        );
        compared += 1;
    }
    assert_eq!(compared, 4);

    let link = by_path[dir.join("sub/link").to_str().unwrap()];
    assert_eq!(link["kind"], "symlink");
    assert_eq!(link["target"], "../hello");
    assert!(link["blake3"].is_null());
    assert_eq!(by_path[dir.to_str().unwrap()]["kind"], "dir");
    assert_eq!(
        by_path[dir.to_str().unwrap()]["mode"].as_u64().unwrap() & 0o170_000,
        0o040_000
    );

    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{json:#}");
    assert_eq!(errors[0]["path"], missing.to_str().unwrap());
    assert!(
        errors[0]["error"]
            .as_str()
            .unwrap()
            .contains("No such file")
    );
}

#[test]
fn scan_without_a_path_is_a_usage_error() {
    let out = Command::new(ward_tests::bin("ward-agent").unwrap())
        .args(["integrity", "scan", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("PATH"));
}
