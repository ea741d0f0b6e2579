//! What the apt integration tests share: the fixture root, building roots, and running
//! apt itself (the oracle) on them. Each test file uses part of it.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The hand-made root in `tests/fixtures/apt/root`.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apt/root")
}

/// Copies the tree at `from` to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory in the temporary root");
    for entry in std::fs::read_dir(from).expect("list a fixture directory") {
        let entry = entry.expect("read a fixture directory entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy a fixture file");
        }
    }
}

/// Writes `text` at `rel` under `root`, creating its directories.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create directories");
    std::fs::write(path, text).expect("write a fixture file");
}

/// Creates the directories apt expects under `root` before it runs there.
pub fn apt_dirs(root: &Path) {
    for d in [
        "var/lib/apt/lists/partial",
        "var/cache/apt/archives/partial",
        "etc/apt/apt.conf.d",
        "etc/apt/preferences.d",
        "etc/apt/sources.list.d",
        "etc/apt/trusted.gpg.d",
    ] {
        std::fs::create_dir_all(root.join(d)).expect("create apt directory");
    }
}

/// Returns whether `program` is installed; when it is not, fails under
/// `WARD_REQUIRE_TOOLS` (CI) and otherwise says the test is skipped.
pub fn have(program: &str) -> bool {
    if Command::new(program).arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
        "WARD_REQUIRE_TOOLS is set but {program} is not installed"
    );
    eprintln!("skipping: {program} is not installed here");
    false
}

/// An `APT_CONFIG` file, written in `dir` outside the root, that makes apt read its
/// configuration (and everything else) under `root`, as amd64, followed by `extra`.
/// apt skips phasing in a chroot and asks `ischroot` whether it is in one: `/bin/false`
/// says no, as on a machine itself.
pub fn bootstrap(dir: &Path, root: &Path, extra: &str) -> PathBuf {
    let path = dir.join("bootstrap.conf");
    let root = root.to_str().expect("utf-8 temporary path");
    std::fs::write(
        &path,
        format!(
            "Dir \"{root}/\";\nAPT::Architecture \"amd64\";\nDir::Etc::Trusted \"/dev/null\";\n\
Dir::Bin::ischroot \"/bin/false\";\n{extra}"
        ),
    )
    .expect("write the bootstrap configuration");
    path
}

/// Runs `args` (an apt program and its arguments) with `APT_CONFIG=boot` in the C locale
/// and returns its stdout; it must succeed.
pub fn run(boot: &Path, args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .env("APT_CONFIG", boot)
        .env("LC_ALL", "C")
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run apt");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The packages `apt-get -s upgrade` keeps back, as `name` or `name:arch`.
pub fn kept_back(boot: &Path) -> BTreeSet<String> {
    let out = run(boot, &["apt-get", "-s", "upgrade"]);
    let mut kept = BTreeSet::new();
    let mut lines = out.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("The following packages have been kept back") {
            for l in lines.by_ref() {
                if !l.starts_with("  ") {
                    break;
                }
                kept.extend(l.split_whitespace().map(str::to_owned));
            }
            break;
        }
    }
    kept
}

/// Our pending non-downgrades under `root`, as `apt list --upgradable` names them:
/// "name candidate arch".
pub fn ours(root: &Path) -> BTreeSet<String> {
    ward_agent::patches::apt::pending(root)
        .expect("pending")
        .iter()
        .filter(|p| !p.downgrade)
        .map(|p| format!("{} {} {}", p.name, p.candidate_version, p.arch))
        .collect()
}
