//! Builds a few small packages with rpmbuild, installs them into a scratch root with rpm
//! itself, and checks that the agent's inventory lists exactly what `rpm -qa` lists:
//! from rpm's SQLite database, and from Berkeley DB `Packages` files (RHEL 7/8) made
//! from the same headers with libdb's `db5.3_load`, which rpm's own read-only Berkeley
//! DB backend lists too.
//!
//! Skips (with a message) when rpmbuild is not installed, or fails where
//! WARD_REQUIRE_TOOLS is set; the Berkeley DB half likewise needs `db5.3_load`.

// Test harness: a failed step should stop the test where it happened.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ward_agent::inventory;
use ward_agent::inventory::software::rpm::{self, bdb};

/// rpm's database directory inside the scratch root, as on Fedora, RHEL 9 and SUSE.
const DBPATH: &str = "/usr/lib/sysimage/rpm";

/// Specs covering what the inventory must get right: an epoch, an epoch of 0 (printed
/// as `0:`), `~` and `^` in a version, a noarch package, and a subpackage whose source
/// package has another name.
const SPECS: &[(&str, &str)] = &[
    (
        "ward-epoch",
        "Name: ward-epoch\nEpoch: 2\nVersion: 1.0\nRelease: 3.el9\n",
    ),
    (
        "ward-tilde",
        "Name: ward-tilde\nVersion: 1.0~rc1^git2\nRelease: 1.fc39\n",
    ),
    (
        "ward-noarch",
        "Name: ward-noarch\nEpoch: 0\nVersion: 2.5\nRelease: 7.el9_3\nBuildArch: noarch\n",
    ),
    (
        "ward-multi",
        "Name: ward-multi\nVersion: 3.0.7\nRelease: 24.el9\n\
         %package -n ward-multi-libs\nSummary: libs\n\
         %description -n ward-multi-libs\nlibs\n\
         %files -n ward-multi-libs\n/usr/share/ward/ward-multi-libs.txt\n",
    ),
];

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Returns false (after saying why) when `tool` is missing and the tests may skip.
fn require(tool: &str, what: &str) -> bool {
    if have(tool) {
        return true;
    }
    assert!(
        std::env::var_os("WARD_REQUIRE_TOOLS").is_none(),
        "{tool} not found: required where WARD_REQUIRE_TOOLS is set (CI)"
    );
    eprintln!("{tool} not found: {what} skipped");
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

fn spec(name: &str, head: &str) -> String {
    // Every package installs one file named after it; subpackages add their own
    // %files section in `head`'s tail, which must come after the main package's.
    let (main, sub) = match head.find("%package") {
        Some(at) => head.split_at(at),
        None => (head, ""),
    };
    let files = format!("/usr/share/ward/{name}.txt\n");
    let mut install = format!("echo {name} > %{{buildroot}}/usr/share/ward/{name}.txt\n");
    if sub.contains("ward-multi-libs") {
        install.push_str("echo libs > %{buildroot}/usr/share/ward/ward-multi-libs.txt\n");
    }
    format!(
        "{main}Summary: Ward test package\nLicense: MIT\nVendor: Ward tests\n\
         %description\nWard test package.\n\
         {sub}\n\
         %install\nmkdir -p %{{buildroot}}/usr/share/ward\n{install}\n\
         %files\n{files}"
    )
}

/// Builds the packages and installs them (database only) into `root`; returns the
/// package files.
fn build_and_install(work: &Path, root: &Path) -> Vec<PathBuf> {
    let top = work.join("rpmbuild");
    let mut specs = Vec::new();
    for (name, head) in SPECS {
        let path = work.join(format!("{name}.spec"));
        std::fs::write(&path, spec(name, head)).unwrap();
        specs.push(path);
    }
    run(Command::new("rpmbuild")
        .arg("--quiet")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("-bb")
        .args(&specs));
    let mut rpms: Vec<PathBuf> = ["x86_64", "noarch", "aarch64", "i686"]
        .iter()
        .filter_map(|arch| std::fs::read_dir(top.join("RPMS").join(arch)).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .collect();
    rpms.sort();
    assert_eq!(rpms.len(), SPECS.len() + 1, "{rpms:?}");
    run(rpm(root)
        .args([
            "--define",
            "_db_backend sqlite",
            "-i",
            "--nodeps",
            "--justdb",
        ])
        .args(&rpms));
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rpm/ward-test-key.asc");
    run(rpm(root).arg("--import").arg(key));
    rpms
}

/// `rpm --root <root> --dbpath <dbpath>`.
fn rpm_at(root: &Path, dbpath: &str) -> Command {
    let mut cmd = Command::new("rpm");
    cmd.arg("--root").arg(root).args(["--dbpath", dbpath]);
    cmd
}

fn rpm(root: &Path) -> Command {
    rpm_at(root, DBPATH)
}

/// One line per package of `rpm -qa` for the fields the agent reports, sorted; rpm prints
/// `(none)` for an absent tag (VENDOR of a `gpg-pubkey`), which the agent leaves empty.
const QUERY: &str =
    "%{NAME}|%{EVR}|%{EPOCH}|%{RELEASE}|%{ARCH}|%{SIZE}|%{INSTALLTIME}|%{VENDOR}|%{SOURCERPM}\\n";

fn rpm_lines(mut cmd: Command) -> Vec<String> {
    let out = run(cmd.args(["-qa", "--qf", QUERY]));
    let mut lines: Vec<String> = out.lines().map(|l| l.replace("(none)", "")).collect();
    lines.sort();
    lines
}

fn agent_lines(root: &Path) -> Vec<String> {
    let inv = inventory::collect(root).unwrap();
    let mut lines: Vec<String> = inv
        .software
        .packages
        .iter()
        .map(|p| {
            assert_eq!((p.source.as_str(), p.state.as_str()), ("rpm", "installed"));
            // The source package is reported by name, and only when it differs.
            let source = if p.source_package.is_empty() {
                p.name.clone()
            } else {
                p.source_package.clone()
            };
            format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}",
                p.name,
                p.version,
                p.epoch,
                p.release,
                p.arch,
                p.installed_size,
                p.install_time,
                p.vendor,
                source
            )
        })
        .collect();
    lines.sort();
    lines
}

/// rpm's lines with SOURCERPM cut to the source package's name (the key has none).
fn with_source_names(lines: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|l| {
            let (head, srpm) = l.rsplit_once('|').unwrap();
            let name = head.split('|').next().unwrap();
            let source = srpm
                .strip_suffix(".src.rpm")
                .and_then(|s| s.rsplitn(3, '-').nth(2))
                .unwrap_or(name);
            format!("{head}|{source}")
        })
        .collect();
    out.sort();
    out
}

fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Writes a `db5.3_load` dump of `records` (header number, blob) as a hash database with
/// the byte order and page size given, and a fill factor that spreads the records over
/// many buckets.
fn load_bdb(path: &Path, records: &[(u32, Vec<u8>)], big_endian: bool, page_size: u32) {
    let number = |n: u32| {
        let bytes = if big_endian {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        };
        hex(&bytes)
    };
    let mut dump = format!(
        "VERSION=3\nformat=bytevalue\ntype=hash\ndb_lorder={}\ndb_pagesize={page_size}\n\
         h_ffactor=2\nHEADER=END\n",
        if big_endian { 4321 } else { 1234 }
    );
    let next = records.iter().map(|r| r.0).max().unwrap_or(0) + 1;
    dump.push_str(&format!(" {}\n {}\n", number(0), number(next)));
    for (hnum, blob) in records {
        dump.push_str(&format!(" {}\n {}\n", number(*hnum), hex(blob)));
    }
    dump.push_str("DATA=END\n");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let dump_path = path.with_extension("dump");
    std::fs::write(&dump_path, dump).unwrap();
    run(Command::new("db5.3_load")
        .arg("-f")
        .arg(&dump_path)
        .arg(path));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn inventory_lists_what_rpm_lists() {
    if !require("rpmbuild", "RPM database test") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    build_and_install(work.path(), &root);

    let expected = with_source_names(rpm_lines(rpm(&root)));
    assert_eq!(expected.len(), SPECS.len() + 2, "{expected:#?}");
    let db_dir = root.join(DBPATH.trim_start_matches('/'));
    let before = listing(&db_dir);
    assert_eq!(agent_lines(&root), expected);
    // A foreign root is read without a file being created or changed in it.
    assert_eq!(listing(&db_dir), before);

    // What each case must look like, beyond agreeing with rpm.
    for line in [
        "ward-epoch|2:1.0-3.el9|2|3.el9|x86_64|",
        "ward-noarch|0:2.5-7.el9_3|0|7.el9_3|noarch|",
        "ward-tilde|1.0~rc1^git2-1.fc39||1.fc39|x86_64|",
        "ward-multi-libs|3.0.7-24.el9||24.el9|x86_64|",
    ] {
        assert!(
            expected.iter().any(|l| l.starts_with(line)),
            "{line} not in {expected:#?}"
        );
    }
    assert!(
        expected
            .iter()
            .any(|l| l.ends_with("|ward-multi") && l.starts_with("ward-multi-libs|")),
        "{expected:#?}"
    );
    assert!(
        expected
            .iter()
            .any(|l| l.starts_with("gpg-pubkey|") && l.contains("||0|"))
    );
    // Install time and vendor: every built package carries the spec's Vendor and was
    // installed just now; the imported key has an install time but no vendor.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let inv = inventory::collect(&root).unwrap();
    for p in &inv.software.packages {
        assert!(
            (now - 3600..=now + 60).contains(&p.install_time),
            "{} installed at {}",
            p.name,
            p.install_time
        );
        let vendor = if p.name == "gpg-pubkey" {
            ""
        } else {
            "Ward tests"
        };
        assert_eq!(p.vendor, vendor, "{}", p.name);
    }
}

#[test]
fn berkeley_db_packages_lists_what_rpm_lists() {
    if !require("rpmbuild", "Berkeley DB test") || !require("db5.3_load", "Berkeley DB test") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    build_and_install(work.path(), &root);

    // The header blobs rpm wrote, each stored many times over so that the hash file
    // has many buckets and chains of pages.
    let conn = rusqlite::Connection::open_with_flags(
        root.join("usr/lib/sysimage/rpm/rpmdb.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let blobs: Vec<Vec<u8>> = conn
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(conn);
    let records: Vec<(u32, Vec<u8>)> = (1..=blobs.len() as u32 * 25)
        .map(|n| (n, blobs[n as usize % blobs.len()].clone()))
        .collect();

    for (big_endian, page_size) in [(false, 4096), (true, 512), (false, 65536)] {
        let bdb_root = work.path().join(format!("bdb-{big_endian}-{page_size}"));
        load_bdb(
            &bdb_root.join("var/lib/rpm/Packages"),
            &records,
            big_endian,
            page_size,
        );
        let mut cmd = rpm_at(&bdb_root, "/var/lib/rpm");
        cmd.args(["--define", "_db_backend bdb_ro"]);
        let mut expected = with_source_names(rpm_lines(cmd));
        assert_eq!(expected.len(), records.len(), "rpm lists every record");

        // Every record, as the reader hands them out.
        let path = bdb_root.join("var/lib/rpm/Packages");
        let file = std::fs::File::open(&path).unwrap();
        let mut read = Vec::new();
        bdb::for_each(&file, |key, value| {
            if key != Some(0) {
                read.push((key.unwrap(), rpm::package_from_header(value).unwrap()));
            }
        })
        .unwrap();
        read.sort_by_key(|(n, _)| *n);
        let numbers: Vec<u32> = read.iter().map(|(n, _)| *n).collect();
        let wanted: Vec<u32> = records.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, wanted, "header numbers in the file's byte order");

        // The inventory holds each distinct package once (its canonical form).
        expected.dedup();
        assert_eq!(
            agent_lines(&bdb_root),
            expected,
            "big-endian {big_endian}, {page_size}-byte pages"
        );
    }
}
