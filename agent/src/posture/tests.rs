use std::path::Path;

use super::*;

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID8UtoVzrbGS/yHgn5qFmcwRPqVNFSDZbYTTKvH3I9gM alice@laptop";

/// A small system: two uid-0 accounts, an admin with a key, sshd with root login on,
/// a listening socket without a visible owner.
fn fixture(r: &Path) {
    write(
        r,
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n\
         alice:x:1000:1000::/home/alice:/bin/bash\n",
    );
    write(r, "etc/group", "wheel:x:10:alice\n");
    write(r, "home/alice/.ssh/authorized_keys", &format!("{KEY}\n"));
    write(r, "etc/ssh/sshd_config", "PermitRootLogin yes\n");
    write(
        r,
        "proc/net/tcp",
        "  sl  local_address rem_address   st\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1\n",
    );
    write(r, "proc/sys/kernel/randomize_va_space", "2\n");
}

#[test]
fn collects_every_reader_from_a_fixture_root() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let p = collect(dir.path());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.listening.len(), 1);
    assert_eq!(
        (p.listening[0].address.as_str(), p.listening[0].port),
        ("0.0.0.0", 22)
    );
    let names: Vec<&str> = p
        .privileged_accounts
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["root", "toor"]);
    assert_eq!(p.admins.len(), 1);
    assert_eq!(p.authorized_keys.len(), 1);
    assert_eq!(p.authorized_keys[0].user, "alice");
    assert_eq!(p.sshd.as_ref().unwrap().permit_root_login, "yes");
    assert_eq!(p.firewall.as_ref().unwrap().backend, "unknown");
    assert!(!p.disk_encryption.as_ref().unwrap().known);
    assert_eq!(p.auto_updates.as_ref().unwrap().mechanism, "none");
    assert_eq!(p.kernel.as_ref().unwrap().aslr, 2);

    // Canonical: hashing it again gives the same section.
    let mut again = p.clone();
    digest::canonicalize_posture(&mut again);
    assert_eq!(again, p);
    let json = to_json(&p);
    assert_eq!(json["sshd"]["permit_root_login"], "yes");
    assert_eq!(json["listening"][0]["port"], 22);
}

#[test]
fn a_failing_reader_is_named_and_the_others_still_report() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // Unreadable as files, even for root.
    std::fs::remove_file(dir.path().join("etc/ssh/sshd_config")).unwrap();
    std::fs::create_dir_all(dir.path().join("etc/ssh/sshd_config")).unwrap();
    std::fs::remove_file(dir.path().join("proc/net/tcp")).unwrap();
    std::fs::create_dir_all(dir.path().join("proc/net/tcp")).unwrap();
    // And one of two key files unreadable: its error, and the other's keys.
    std::fs::create_dir_all(dir.path().join("home/alice/.ssh/authorized_keys2")).unwrap();
    let p = collect(dir.path());
    assert_eq!(p.errors.len(), 3, "{:?}", p.errors);
    assert!(
        p.errors[0].starts_with("keys: failed to read "),
        "{:?}",
        p.errors
    );
    assert!(p.errors[0].contains("authorized_keys2"), "{:?}", p.errors);
    assert!(
        p.errors[1].starts_with("sockets: failed to read "),
        "{:?}",
        p.errors
    );
    assert!(
        p.errors[2].starts_with("sshd: failed to read "),
        "{:?}",
        p.errors
    );
    assert!(
        p.errors[2].contains("etc/ssh/sshd_config"),
        "{:?}",
        p.errors
    );
    assert!(p.sshd.is_none());
    assert_eq!(p.privileged_accounts.len(), 2);
    // Keys are still read from the default files.
    assert_eq!(p.authorized_keys.len(), 1);
}

#[test]
fn an_empty_root_reports_missing_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let p = collect(dir.path());
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert!(p.errors[0].starts_with("accounts: "), "{:?}", p.errors);
    assert!(!p.sshd.unwrap().present);
}

#[test]
fn guarded_turns_a_panic_into_an_error() {
    let mut errors = Vec::new();
    let got: Option<()> = guarded("disk", &mut errors, || -> Result<(), Error> {
        panic!("boom")
    });
    assert!(got.is_none());
    assert!(
        errors[0].starts_with("disk: failed on a bug (boom)"),
        "{errors:?}"
    );
}

#[test]
fn capped_reads_and_strings() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", "0123456789");
    let root = Root::new(dir.path());
    assert_eq!(read_capped(&root, "f", 10).unwrap().unwrap().len(), 10);
    let e = read_capped(&root, "f", 9).unwrap_err().to_string();
    assert!(e.contains("larger than 9 bytes"), "{e}");
    assert!(read_capped(&root, "missing", 9).unwrap().is_none());
    assert_eq!(capped("ééé", 3), "é");
}
