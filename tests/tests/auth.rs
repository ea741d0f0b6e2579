//! Only enrolled agents may report, and only as themselves: a client without a
//! certificate, with a certificate from another CA, or with the wrong role is refused,
//! and enrolment needs a valid token and the right CA fingerprint.

// Helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use ward_proto::v1 as pb;
use ward_tests::fixture::{Pkg, Root};
use ward_tests::{Agent, Collector, bin};

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("failed to read {}: {e}", p.display()))
}

async fn channel(
    url: &str,
    ca_pem: &str,
    identity: Option<(String, String)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("127.0.0.1");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Channel::from_shared(url.to_string())
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

fn full_report(sequence: u64) -> pb::ReportRequest {
    pb::ReportRequest {
        sequence,
        agent_version: "evil".into(),
        software: Some(pb::SoftwareUpdate {
            kind: Some(pb::software_update::Kind::Full(pb::Software {
                packages: vec![pb::Package {
                    name: "backdoor".into(),
                    version: "1".into(),
                    arch: "amd64".into(),
                    source: "deb".into(),
                    state: "installed".into(),
                    ..Default::default()
                }],
            })),
        }),
        ..Default::default()
    }
}

/// A CA that is not the collector's, and an "agent" certificate from it naming `host_id`.
fn foreign_agent_cert(host_id: &str) -> (String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::default();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_cert.pem(), ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::OrganizationName, "Ward");
    dn.push(rcgen::DnType::OrganizationalUnitName, "ward-agent");
    dn.push(rcgen::DnType::CommonName, host_id);
    params.distinguished_name = dn;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &issuer).unwrap();
    (
        format!("{}{}", cert.pem(), ca_cert.pem()),
        key.serialize_pem(),
    )
}

#[test]
fn refuses_what_it_should() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start().unwrap();
    let root = Root::create(
        &tmp.path().join("root"),
        "victim",
        "00000000000000000000000000000042",
    )
    .unwrap();
    root.write_packages(&[Pkg::installed("openssl", "3.0.15-1~deb12u1")])
        .unwrap();
    let agent = Agent::enrol(&collector, &root.path, &tmp.path().join("state")).unwrap();
    agent.report().unwrap();
    let host_id = agent.host_id().unwrap();
    let ca_pem = read(&collector.data_dir.join("pki/ca.crt"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // No client certificate at all.
        let ch = channel(&collector.url, &ca_pem, None).await.unwrap();
        let err = pb::agent_service_client::AgentServiceClient::new(ch.clone())
            .report(full_report(100))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err:?}");
        let err = pb::admin_service_client::AdminServiceClient::new(ch)
            .list_hosts(pb::ListHostsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err:?}");

        // A certificate from another CA that names the real host id: TLS refuses it.
        let forged = foreign_agent_cert(&host_id);
        match channel(&collector.url, &ca_pem, Some(forged)).await {
            Err(_) => {}
            Ok(ch) => {
                let err = pb::agent_service_client::AgentServiceClient::new(ch)
                    .report(full_report(101))
                    .await
                    .unwrap_err();
                // Refused by the TLS layer (the connection dies), not by a handler that
                // would have seen a forged identity: a handler's refusal would say
                // Unauthenticated or PermissionDenied.
                assert!(
                    !matches!(
                        err.code(),
                        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
                    ),
                    "the foreign certificate reached a handler: {err:?}"
                );
                eprintln!("foreign certificate refused: {err:?}");
            }
        }

        // The agent's own certificate may not use the admin service.
        let agent_identity = (
            read(&agent.state_dir.join("agent.crt")),
            read(&agent.state_dir.join("agent.key")),
        );
        let ch = channel(&collector.url, &ca_pem, Some(agent_identity))
            .await
            .unwrap();
        let err = pb::admin_service_client::AdminServiceClient::new(ch)
            .list_hosts(pb::ListHostsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");

        // The admin certificate may not report as a host.
        let admin_identity = (
            read(&collector.data_dir.join("pki/admin.crt")),
            read(&collector.data_dir.join("pki/admin.key")),
        );
        let ch = channel(&collector.url, &ca_pem, Some(admin_identity))
            .await
            .unwrap();
        let err = pb::agent_service_client::AgentServiceClient::new(ch)
            .report(full_report(102))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");
    });

    // Nothing of the above reached the host's state.
    let host = collector.wardctl_json(&["host", &host_id]).unwrap();
    let names: Vec<&str> = host["software"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["openssl"]);

    // A one-use token works once.
    let token = collector.token_file(tmp.path(), 1).unwrap();
    let enrol = |state: &str, fingerprint: &str| {
        Command::new(bin("ward-agent").unwrap())
            .args([
                "enroll",
                "--collector",
                &collector.url,
                "--ca-fingerprint",
                fingerprint,
                "--token-file",
            ])
            .arg(&token)
            .arg("--state-dir")
            .arg(tmp.path().join(state))
            .output()
            .unwrap()
    };
    // The wrong fingerprint is refused before the token is ever sent.
    let wrong = format!("SHA256:{}", "ab".repeat(32));
    let out = enrol("s0", &wrong);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did not present a CA with fingerprint"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(enrol("s1", &collector.fingerprint).status.success());
    let out = enrol("s2", &collector.fingerprint);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no uses left"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The key stays private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(tmp.path().join("s1/agent.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "agent key readable by others: {mode:o}");
}
