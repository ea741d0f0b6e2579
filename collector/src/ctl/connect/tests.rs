use std::time::Duration;

use super::*;
use crate::pki::Authority;

/// A data directory with a real CA and admin credentials, as the collector creates it.
fn data_dir() -> (tempfile::TempDir, Authority) {
    let dir = tempfile::tempdir().unwrap();
    let (ca, _) =
        Authority::load_or_create(&dir.path().join("pki"), &[], Duration::from_secs(3600)).unwrap();
    (dir, ca)
}

#[test]
fn collector_addresses_are_checked() {
    let t = Target::parse("https://127.0.0.1:7443").unwrap();
    assert_eq!(t.host, "127.0.0.1");
    assert!(t.is_loopback());
    let t = Target::parse("https://[::1]:7443").unwrap();
    assert_eq!(t.host, "::1");
    assert!(t.is_loopback());
    let t = Target::parse("https://collector.example.org:7443/").unwrap();
    assert_eq!(t.host, "collector.example.org");
    assert!(!t.is_loopback());
    assert!(
        Target::parse("https://localhost:7443")
            .unwrap()
            .is_loopback()
    );

    for (url, reason) in [
        ("http://127.0.0.1:7443", "wardctl only speaks TLS"),
        ("127.0.0.1:7443", "no scheme"),
        ("https://127.0.0.1:7443/admin", "no path"),
        ("https://", "expected https://HOST:PORT"),
        ("not a url", "expected https://HOST:PORT"),
    ] {
        let err = Target::parse(url).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("invalid collector address {url:?}: ")),
            "{err}"
        );
        assert!(err.contains(reason), "{url}: {err}");
    }
}

#[test]
fn credentials_come_from_the_data_dir_unless_named() {
    let paths = CredentialPaths::resolve(Path::new("ward-data"), None, None, None);
    assert_eq!(paths.ca, Path::new("ward-data/pki/ca.crt"));
    assert_eq!(paths.cert, Path::new("ward-data/pki/admin.crt"));
    assert_eq!(paths.key, Path::new("ward-data/pki/admin.key"));
    let paths = CredentialPaths::resolve(
        Path::new("ward-data"),
        Some(Path::new("/etc/ca.pem")),
        Some(Path::new("me.crt")),
        Some(Path::new("me.key")),
    );
    assert_eq!(paths.ca, Path::new("/etc/ca.pem"));
    assert_eq!(paths.cert, Path::new("me.crt"));
    assert_eq!(paths.key, Path::new("me.key"));
}

#[test]
fn missing_credentials_name_the_file_and_the_fix() {
    let paths = CredentialPaths::resolve(Path::new("ward-data"), None, None, None);
    assert_eq!(
        paths.load().unwrap_err().to_string(),
        "no admin credentials at ward-data/pki/admin.crt: pass --data-dir pointing at the collector's data directory, or --cert/--key"
    );
    let paths = CredentialPaths::resolve(
        Path::new("ward-data"),
        None,
        Some(Path::new("nowhere/me.crt")),
        Some(Path::new("nowhere/me.key")),
    );
    assert_eq!(
        paths.load().unwrap_err().to_string(),
        "no admin credentials at nowhere/me.crt: check the --cert/--key paths"
    );

    let (dir, _) = data_dir();
    std::fs::remove_file(dir.path().join("pki/ca.crt")).unwrap();
    let paths = CredentialPaths::resolve(dir.path(), None, None, None);
    assert_eq!(
        paths.load().unwrap_err().to_string(),
        format!(
            "no collector CA certificate at {}/pki/ca.crt: pass --data-dir pointing at the collector's data directory, or --ca",
            dir.path().display()
        )
    );
}

#[test]
fn credentials_the_collector_created_load() {
    let (dir, ca) = data_dir();
    let creds = CredentialPaths::resolve(dir.path(), None, None, None)
        .load()
        .unwrap();
    assert_eq!(creds.ca_pem, ca.ca_pem());
}

#[test]
fn broken_credentials_name_the_file() {
    let (dir, _) = data_dir();
    let pki = dir.path().join("pki");
    std::fs::write(pki.join("admin.key"), "not a key").unwrap();
    let err = CredentialPaths::resolve(dir.path(), None, None, None)
        .load()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "invalid admin private key at {}",
            pki.join("admin.key").display()
        )),
        "{text}"
    );
    assert!(text.contains("PKCS#8"), "{text}");

    std::fs::write(
        pki.join("ca.crt"),
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = CredentialPaths::resolve(
        dir.path(),
        None,
        Some(&pki.join("admin.crt")),
        Some(&pki.join("server.key")),
    )
    .load()
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid collector CA certificate at "),
        "{err}"
    );
}

#[test]
fn fingerprint_matches_what_the_collector_pins() {
    let (_dir, ca) = data_dir();
    let fingerprint = ca_fingerprint(ca.ca_pem()).unwrap();
    assert_eq!(fingerprint, ca.fingerprint());
    let hex = fingerprint.strip_prefix("SHA256:").unwrap();
    assert_eq!(hex.len(), 64);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{hex}"
    );
    assert!(ca_fingerprint("no certificate here").is_err());
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (dir, _) = data_dir();
    let creds = CredentialPaths::resolve(dir.path(), None, None, None)
        .load()
        .unwrap();
    // Bind then drop: the port is very likely closed afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = Target::parse(&format!("https://127.0.0.1:{port}")).unwrap();
    let err = connect(&target, &creds, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot reach the collector at https://127.0.0.1:{port}: "
        )),
        "{text}"
    );
    assert!(
        text.ends_with("is `ward-collector serve` running?"),
        "{text}"
    );
    assert!(
        text.to_lowercase().contains("refused"),
        "the cause should show: {text}"
    );
}
