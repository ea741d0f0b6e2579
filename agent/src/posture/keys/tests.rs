use std::path::Path;

use super::*;
use crate::posture::accounts;

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID8UtoVzrbGS/yHgn5qFmcwRPqVNFSDZbYTTKvH3I9gM alice@laptop";
/// As `ssh-keygen -lf` printed it for the key above.
const ED25519_FP: &str = "SHA256:8+iQy0TdJvkVvieANV+fcPZfDHcahKEtSqZZwTJGbLk";
const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDOpg/Bg0pKKw0OrqzrjddmIdV83PpHQ0+tL8iMC/5iVpDru6GFjEJEAhRYpc1DJTzKs6At10nC/H4DadU3yR2fQ877kUXgI1JeUQPNx7fH/rftc45cHIy8aK132aKDwr8GGS1IZrq9B18jhaPQF0StwgVctJYUhSCOh3rbl+neiQ== ops";
const RSA_FP: &str = "SHA256:torxBtUXXrU5EvAuQs/4Z/BFGYPwjMxn0dz9xIQK2qQ";

#[test]
fn plain_keys_and_fingerprints_as_ssh_keygen() {
    let text = format!("# keys\n\n{ED25519}\r\n{RSA}\n");
    let keys = parse(&text);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[0].key_type, "ssh-ed25519");
    assert_eq!(keys[0].fingerprint, ED25519_FP);
    assert_eq!(keys[0].comment, "alice@laptop");
    assert_eq!(keys[0].options, "");
    assert_eq!(
        (keys[1].fingerprint.as_str(), keys[1].comment.as_str()),
        (RSA_FP, "ops")
    );
}

#[test]
fn options_with_quoted_commas_and_spaces() {
    let line = format!(
        "from=\"10.0.0.0/8,192.168.1.1\",command=\"/usr/bin/backup --to \\\"a b\\\", now\",no-pty {ED25519}"
    );
    let key = parse_line(&line).unwrap();
    assert_eq!(
        key.options,
        "from=\"10.0.0.0/8,192.168.1.1\",command=\"/usr/bin/backup --to \\\"a b\\\", now\",no-pty"
    );
    assert_eq!(key.fingerprint, ED25519_FP);
    assert_eq!(key.comment, "alice@laptop");
    // An unterminated quote never finds the key.
    assert_eq!(parse_line(&format!("command=\"x {ED25519}")), None);
}

#[test]
fn broken_lines_are_skipped_and_long_fields_capped() {
    let blob = ED25519.split(' ').nth(1).unwrap();
    for line in [
        "ssh-ed25519 not-base64!! c".to_owned(),
        // The blob names another type than the line.
        format!("ssh-rsa {blob} c"),
        format!("restrict ssh-rsa {blob}"),
        "ssh-ed25519".to_owned(),
        "ssh-ed25519 AAAA".to_owned(),
    ] {
        assert_eq!(parse_line(&line), None, "{line}");
    }
    let long = format!("{ED25519} {}", "é".repeat(300));
    let key = parse_line(&long).unwrap();
    assert!(key.comment.len() <= MAX_COMMENT && key.comment.len() > 250);
    let opts = format!("command=\"{}\" {ED25519}", "x".repeat(2000));
    assert_eq!(parse_line(&opts).unwrap().options.len(), MAX_OPTIONS);
}

#[test]
fn authorized_keys_file_patterns() {
    assert_eq!(
        expand(".ssh/authorized_keys", "bob", "/home/bob/").as_deref(),
        Some("/home/bob/.ssh/authorized_keys")
    );
    assert_eq!(
        expand("/etc/ssh/keys/%u", "bob", "/home/bob").as_deref(),
        Some("/etc/ssh/keys/bob")
    );
    assert_eq!(
        expand("%h/.ssh/k%%", "bob", "/home/bob").as_deref(),
        Some("/home/bob/.ssh/k%")
    );
    assert_eq!(expand("/keys/%U", "bob", "/home/bob"), None);
    assert_eq!(expand("/keys/%", "bob", "/home/bob"), None);
}

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

#[test]
fn keys_of_root_aliases_and_admins_from_a_fixture_root() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n\
         alice:x:1000:1000::/home/alice:/bin/bash\ncarol:x:1002:1002::/home/carol:/bin/bash\n",
    );
    write(r, "etc/group", "sudo:x:27:alice\n");
    write(r, "root/.ssh/authorized_keys", &format!("{RSA}\n"));
    write(
        r,
        "home/alice/.ssh/authorized_keys2",
        &format!("no-pty {ED25519}\n"),
    );
    // Not an administrator: not read.
    write(
        r,
        "home/carol/.ssh/authorized_keys",
        &format!("{ED25519}\n"),
    );
    let root = Root::new(r);
    let accounts = accounts::read(&root).unwrap();
    let read_keys = read(
        &root,
        &accounts,
        &crate::posture::sshd::default_authorized_keys_files(),
    );
    assert!(read_keys.errors.is_empty(), "{:?}", read_keys.errors);
    let got: Vec<(&str, &str, &str, &str)> = read_keys
        .keys
        .iter()
        .map(|k| {
            (
                k.user.as_str(),
                k.file.as_str(),
                k.fingerprint.as_str(),
                k.options.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "alice",
                "/home/alice/.ssh/authorized_keys2",
                ED25519_FP,
                "no-pty"
            ),
            ("root", "/root/.ssh/authorized_keys", RSA_FP, ""),
            ("toor", "/root/.ssh/authorized_keys", RSA_FP, ""),
        ]
    );

    // sshd's AuthorizedKeysFile, and an unreadable file (a directory) is an error.
    write(r, "etc/ssh/keys/alice", &format!("{RSA}\n"));
    std::fs::create_dir_all(r.join("root/.ssh/elsewhere")).unwrap();
    let patterns = [
        "/etc/ssh/keys/%u".to_owned(),
        "%h/.ssh/elsewhere".to_owned(),
    ];
    let read_keys = read(&root, &accounts, &patterns);
    assert_eq!(read_keys.keys.len(), 1);
    assert_eq!(read_keys.keys[0].file, "/etc/ssh/keys/alice");
    let e = read_keys.errors[0].to_string();
    assert!(e.contains("root/.ssh/elsewhere"), "{e}");
}

/// Checks the fingerprint against ssh-keygen itself, when this machine has it.
#[test]
fn fingerprints_match_ssh_keygen() {
    let Ok(out) = std::process::Command::new("ssh-keygen").arg("-?").output() else {
        eprintln!("ssh-keygen not installed; skipped");
        return;
    };
    drop(out);
    let dir = tempfile::tempdir().unwrap();
    for (kind, bits) in [
        ("ed25519", None),
        ("ecdsa", Some("256")),
        ("rsa", Some("2048")),
    ] {
        let key = dir.path().join(kind);
        let mut cmd = std::process::Command::new("ssh-keygen");
        cmd.args(["-q", "-t", kind, "-N", "", "-C", "test key", "-f"])
            .arg(&key);
        if let Some(b) = bits {
            cmd.args(["-b", b]);
        }
        assert!(cmd.status().unwrap().success());
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let listed = std::process::Command::new("ssh-keygen")
            .arg("-lf")
            .arg(key.with_extension("pub"))
            .output()
            .unwrap();
        let listed = String::from_utf8(listed.stdout).unwrap();
        let want = listed.split_whitespace().nth(1).unwrap();
        let got = parse(&public);
        assert_eq!(got.len(), 1, "{public}");
        assert_eq!(got[0].fingerprint, want, "{kind}");
        assert_eq!(got[0].comment, "test key");
    }
}
