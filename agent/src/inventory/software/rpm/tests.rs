use std::path::{Path, PathBuf};

use ward_proto::v1 as pb;

use super::*;

/// A Berkeley DB `Packages` written by libdb 5.3 (`db5.3_load`, little-endian, 4 KiB
/// pages) from the headers rpm 4.18 installed; see `tests/fixtures/rpm/README.md`.
const BDB_LE: &str = "Packages.le4096";
/// The same records big-endian with 512-byte pages, so every header is on overflow pages.
const BDB_BE: &str = "Packages.be512";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rpm")
        .join(name)
}

/// `rpm -qa --qf '%{NAME} %{EVR} %{ARCH} %{SIZE} %{SOURCERPM}\n'` of the fixture
/// database, as (name, evr, arch, size, source package), sorted.
fn expected() -> Vec<(String, String, String, u64, String)> {
    let text = std::fs::read_to_string(fixture("rpm-qa.txt")).unwrap();
    let mut rows: Vec<_> = text
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let none = |s: &str| {
                if s == "(none)" {
                    String::new()
                } else {
                    s.to_owned()
                }
            };
            let name = f[0].to_owned();
            let source = none(f[4])
                .strip_suffix(".src.rpm")
                .map(|s| s.rsplitn(3, '-').nth(2).unwrap().to_owned())
                .filter(|s| *s != name)
                .unwrap_or_default();
            (
                name,
                f[1].to_owned(),
                none(f[2]),
                f[3].parse().unwrap(),
                source,
            )
        })
        .collect();
    rows.sort();
    rows
}

fn summary(packages: &[pb::Package]) -> Vec<(String, String, String, u64, String)> {
    let mut rows: Vec<_> = packages
        .iter()
        .map(|p| {
            assert_eq!(p.source, "rpm");
            assert_eq!(p.state, "installed");
            (
                p.name.clone(),
                p.version.clone(),
                p.arch.clone(),
                p.installed_size,
                p.source_package.clone(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The (header number, blob) records of a Berkeley DB fixture, number 0 left out.
fn records(name: &str) -> Vec<(u32, Vec<u8>)> {
    let file = std::fs::File::open(fixture(name)).unwrap();
    let mut out = Vec::new();
    bdb::for_each(&file, |key, value| {
        if key != Some(0) {
            out.push((key.unwrap(), value.to_vec()));
        }
    })
    .unwrap();
    out.sort();
    out
}

fn put(root: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Writes an `rpmdb.sqlite` with rpm's `Packages` table holding `records`.
fn write_sqlite(path: &Path, records: &[(u32, Vec<u8>)]) -> rusqlite::Connection {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS 'Packages' \
         (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL);",
    )
    .unwrap();
    for (hnum, blob) in records {
        conn.execute(
            "INSERT INTO Packages (hnum, blob) VALUES (?1, ?2)",
            rusqlite::params![hnum, blob],
        )
        .unwrap();
    }
    conn
}

fn read_root(root: &Path) -> Result<Option<Vec<pb::Package>>, Error> {
    read(&Root::new(root))
}

fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    names.sort();
    names
}

#[test]
fn berkeley_db_in_both_byte_orders_reads_as_rpm_lists_it() {
    for name in [BDB_LE, BDB_BE] {
        let dir = tempfile::tempdir().unwrap();
        put(
            dir.path(),
            "var/lib/rpm/Packages",
            &std::fs::read(fixture(name)).unwrap(),
        );
        let packages = read_root(dir.path()).unwrap().unwrap();
        assert_eq!(summary(&packages), expected(), "{name}");
    }
    assert_eq!(records(BDB_LE), records(BDB_BE));
}

#[test]
fn fields_of_an_epoch_package_and_a_key() {
    let packages: Vec<_> = records(BDB_LE)
        .iter()
        .map(|(_, blob)| package_from_header(blob).unwrap())
        .collect();
    let epoch = packages.iter().find(|p| p.name == "ward-epoch").unwrap();
    assert_eq!(
        (
            epoch.version.as_str(),
            epoch.epoch.as_str(),
            epoch.release.as_str()
        ),
        ("2:1.0-3", "2", "3")
    );
    assert_eq!(
        epoch.source_package, "",
        "the source has the package's name"
    );
    let tilde = packages.iter().find(|p| p.name == "ward-tilde").unwrap();
    assert_eq!(
        (tilde.version.as_str(), tilde.epoch.as_str()),
        ("1.0~rc1^git2-1", "")
    );
    let key = packages.iter().find(|p| p.name == "gpg-pubkey").unwrap();
    assert_eq!(key.arch, "");
}

#[test]
fn sqlite_reads_in_header_order_and_skips_a_broken_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = records(BDB_LE);
    rows.push((99, b"\0\0\0\x01\0\0\0\0broken".to_vec()));
    drop(write_sqlite(
        &dir.path().join("usr/lib/sysimage/rpm/rpmdb.sqlite"),
        &rows,
    ));
    let packages = read_root(dir.path()).unwrap().unwrap();
    assert_eq!(summary(&packages), expected());
    let names: Vec<_> = packages.iter().map(|p| p.name.as_str()).collect();
    let first: Vec<_> = rows[..rows.len() - 1]
        .iter()
        .map(|(_, b)| package_from_header(b).unwrap().name)
        .collect();
    assert_eq!(names, first, "header-number order");
}

#[test]
fn a_foreign_root_is_never_written() {
    // Checkpointed: opened immutable, so no -shm appears beside it.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("var/lib/rpm/rpmdb.sqlite");
    drop(write_sqlite(&db, &records(BDB_LE)));
    let rpm_dir = db.parent().unwrap().to_owned();
    let before = listing(&rpm_dir);
    assert_eq!(
        summary(&read_root(dir.path()).unwrap().unwrap()),
        expected()
    );
    assert_eq!(listing(&rpm_dir), before);

    // A log rpm did not checkpoint (it was interrupted): the records in the log are
    // read, from a copy, and the root still gains no file.
    let live = tempfile::tempdir().unwrap();
    let live_db = live.path().join("rpmdb.sqlite");
    let conn = write_sqlite(&live_db, &[]);
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    for (hnum, blob) in records(BDB_LE) {
        conn.execute(
            "INSERT INTO Packages (hnum, blob) VALUES (?1, ?2)",
            rusqlite::params![hnum, blob],
        )
        .unwrap();
    }
    let crashed = tempfile::tempdir().unwrap();
    let rpm_dir = crashed.path().join("usr/lib/sysimage/rpm");
    std::fs::create_dir_all(&rpm_dir).unwrap();
    for suffix in ["", "-wal"] {
        std::fs::copy(
            live.path().join(format!("rpmdb.sqlite{suffix}")),
            rpm_dir.join(format!("rpmdb.sqlite{suffix}")),
        )
        .unwrap();
    }
    drop(conn);
    assert!(
        listing(&rpm_dir)
            .iter()
            .any(|(n, len)| n == "rpmdb.sqlite-wal" && *len > 0)
    );
    let before = listing(&rpm_dir);
    assert_eq!(
        summary(&read_root(crashed.path()).unwrap().unwrap()),
        expected()
    );
    assert_eq!(listing(&rpm_dir), before);
}

#[test]
fn sqlite_is_preferred_and_sysimage_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let one = records(BDB_LE).into_iter().take(1).collect::<Vec<_>>();
    put(
        dir.path(),
        "var/lib/rpm/Packages",
        &std::fs::read(fixture(BDB_LE)).unwrap(),
    );
    drop(write_sqlite(
        &dir.path().join("var/lib/rpm/rpmdb.sqlite"),
        &one,
    ));
    assert_eq!(read_root(dir.path()).unwrap().unwrap().len(), 1);
    let root = Root::new(dir.path());
    assert_eq!(locate(&root).unwrap().0, Backend::Sqlite);

    put(
        dir.path(),
        "usr/lib/sysimage/rpm/Packages",
        &std::fs::read(fixture(BDB_LE)).unwrap(),
    );
    assert_eq!(locate(&root).unwrap().0, Backend::Bdb);
    assert_eq!(
        read_root(dir.path()).unwrap().unwrap().len(),
        expected().len()
    );
}

#[test]
fn no_database_is_none() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
    assert!(read_root(dir.path()).unwrap().is_none());
}

#[test]
fn errors_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = put(
        dir.path(),
        "var/lib/rpm/rpmdb.sqlite",
        b"not a database, just text ...",
    );
    let msg = read_root(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("rpmdb --rebuilddb"),
        "{msg}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture(BDB_LE)).unwrap();
    bytes.truncate(5000);
    let path = put(dir.path(), "var/lib/rpm/Packages", &bytes);
    let msg = read_root(dir.path()).unwrap_err().to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");

    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture(BDB_LE)).unwrap();
    bytes[12..16].copy_from_slice(b"junk");
    let path = put(dir.path(), "var/lib/rpm/Packages", &bytes);
    let msg = read_root(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains(&path.display().to_string())
            && msg.contains("bad magic")
            && msg.contains("rpmdb --rebuilddb"),
        "{msg}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut bytes = write_ndb(&records(BDB_LE));
    bytes[4096] ^= 0xff; // the first blob's head
    let path = put(dir.path(), "usr/lib/sysimage/rpm/Packages.db", &bytes);
    let msg = read_root(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains(&path.display().to_string())
            && msg.contains("ndb")
            && msg.contains("rpmdb --rebuilddb"),
        "{msg}"
    );
}

#[test]
fn a_bdb_page_linked_to_itself_is_an_error_not_a_loop() {
    let mut bytes = std::fs::read(fixture(BDB_LE)).unwrap();
    // Page 1 is bucket 0's page in this file: make its next page itself.
    let page = 4096;
    assert_eq!(bytes[page + 25], 13, "page 1 is a hash page");
    bytes[page + 16..page + 20].copy_from_slice(&1u32.to_le_bytes());
    let err = bdb::for_each(bytes.as_slice(), |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("linked twice"), "{err}");
}

/// Writes an ndb `Packages.db` holding `records` the way rpm's `rpmpkg.c` does
/// (`rpmpkgWriteEmptySlotpage`, `rpmpkgWriteslot`, `rpmpkgWriteBlob`): Debian's rpm has no
/// ndb backend, so this writer stands in for it, following that code.
fn write_ndb(records: &[(u32, Vec<u8>)]) -> Vec<u8> {
    fn adler32(bytes: &[u8], start: u32) -> u32 {
        let (mut a, mut b) = (start & 0xffff, start >> 16);
        for &x in bytes {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }
    let le = |v: u32| v.to_le_bytes();
    let pages = 1 + (records.len() + 2) / 256;
    let mut out = vec![0u8; pages * 4096];
    out[0..4].copy_from_slice(b"RpmP");
    out[8..12].copy_from_slice(&le(7)); // generation
    out[12..16].copy_from_slice(&le(pages as u32));
    out[16..20].copy_from_slice(&le(records.len() as u32 + 1));
    for slot in 2..pages * 256 {
        out[slot * 16..slot * 16 + 4].copy_from_slice(b"Slot");
    }
    // Blobs in reverse order of their slots, so file order differs from slot order.
    for (i, (index, blob)) in records.iter().enumerate().rev() {
        let offset = out.len() / 16;
        let blocks = (16 + blob.len() + 12).div_ceil(16);
        let mut framed = Vec::new();
        framed.extend_from_slice(b"BlbS");
        framed.extend_from_slice(&le(*index));
        framed.extend_from_slice(&le(1_700_000_000));
        framed.extend_from_slice(&le(blob.len() as u32));
        framed.extend_from_slice(blob);
        framed.resize(blocks * 16 - 12, 0);
        let sum = adler32(&framed, 1);
        framed.extend_from_slice(&le(sum));
        framed.extend_from_slice(&le(blob.len() as u32));
        framed.extend_from_slice(b"BlbE");
        out.extend_from_slice(&framed);
        let slot = (2 + i) * 16;
        out[slot + 4..slot + 8].copy_from_slice(&le(*index));
        out[slot + 8..slot + 12].copy_from_slice(&le(offset as u32));
        out[slot + 12..slot + 16].copy_from_slice(&le(blocks as u32));
    }
    out
}

#[test]
fn ndb_reads_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let rows = records(BDB_LE);
    put(
        dir.path(),
        "usr/lib/sysimage/rpm/Packages.db",
        &write_ndb(&rows),
    );
    let packages = read_root(dir.path()).unwrap().unwrap();
    assert_eq!(summary(&packages), expected());
    let names: Vec<_> = packages.iter().map(|p| p.name.clone()).collect();
    let mut reversed: Vec<_> = rows
        .iter()
        .map(|(_, b)| package_from_header(b).unwrap().name)
        .collect();
    reversed.reverse();
    assert_eq!(names, reversed, "blob order in the file");
    let root = Root::new(dir.path());
    assert_eq!(locate(&root).unwrap().0, Backend::Ndb);

    // Many packages: slots spill onto a second page.
    let many: Vec<(u32, Vec<u8>)> = (1..=300u32)
        .map(|n| (n, rows[n as usize % rows.len()].1.clone()))
        .collect();
    let bytes = write_ndb(&many);
    let mut seen = Vec::new();
    ndb::for_each(bytes.as_slice(), bytes.len() as u64, |index, blob| {
        assert!(package_from_header(blob).is_ok());
        seen.push(index);
    })
    .unwrap();
    seen.sort_unstable();
    assert_eq!(seen, (1..=300).collect::<Vec<_>>());

    // Every truncation is an error, never a panic.
    for cut in (0..bytes.len()).step_by(509) {
        let _ = ndb::for_each(&bytes[..cut], cut as u64, |_, _| {})
            .map(|()| assert!(cut.is_multiple_of(16)));
    }
}
