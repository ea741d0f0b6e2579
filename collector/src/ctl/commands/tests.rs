//! The commands against an in-process AdminService over real mutual TLS, with
//! credentials from a real collector CA.

use std::sync::{Arc, Mutex};

use clap::Parser;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic::{Request, Response};
use ward_proto::v1::admin_service_server::{AdminService, AdminServiceServer};

use super::*;
use crate::pki::Authority;

/// Answers like a collector with `HOSTS` enrolled hosts, and records what it was asked.
#[derive(Default, Clone)]
struct Mock {
    list_requests: Arc<Mutex<Vec<pb::ListHostsRequest>>>,
    software_requests: Arc<Mutex<Vec<pb::FindSoftwareRequest>>>,
    token_requests: Arc<Mutex<Vec<pb::CreateEnrollmentTokenRequest>>>,
    /// Answer every call with this status instead.
    fail_with: Option<Code>,
}

const HOSTS: usize = 5;
/// Page size the mock uses when the client asks for the default.
const DEFAULT_PAGE: usize = 2;

fn host(i: usize) -> pb::HostSummary {
    pb::HostSummary {
        id: format!("0193a2b4-0000-7000-8000-00000000000{i}"),
        hostname: format!("web-{i}"),
        last_seen: 1_795_000_000,
        software_count: 400 + u32::try_from(i).unwrap(),
        ..Default::default()
    }
}

impl Mock {
    fn check<T>(&self, request: &Request<T>) -> Result<(), Status> {
        // Mutual TLS: the client must have presented its certificate.
        let certs = request
            .peer_certs()
            .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
        assert_eq!(certs.len(), 1);
        match self.fail_with {
            Some(code) => Err(Status::new(code, "mock failure")),
            None => Ok(()),
        }
    }
}

#[tonic::async_trait]
impl AdminService for Mock {
    async fn list_hosts(
        &self,
        request: Request<pb::ListHostsRequest>,
    ) -> Result<Response<pb::ListHostsResponse>, Status> {
        self.check(&request)?;
        let request = request.into_inner();
        self.list_requests.lock().unwrap().push(request.clone());
        let start: usize = if request.page_token.is_empty() {
            0
        } else {
            request
                .page_token
                .parse()
                .map_err(|_| Status::invalid_argument("bad page token"))?
        };
        let size = if request.page_size == 0 {
            DEFAULT_PAGE
        } else {
            request.page_size as usize
        };
        let end = (start + size).min(HOSTS);
        let next_page_token = if end < HOSTS {
            end.to_string()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListHostsResponse {
            hosts: (start..end).map(host).collect(),
            next_page_token,
        }))
    }

    async fn get_host(
        &self,
        request: Request<pb::GetHostRequest>,
    ) -> Result<Response<pb::GetHostResponse>, Status> {
        self.check(&request)?;
        let name = request.into_inner().host;
        if name != "web-1" {
            return Err(Status::not_found(format!("no host {name}")));
        }
        let packages = vec![pb::Package {
            name: "bash".into(),
            version: "5.2.15-2+b7".into(),
            arch: "amd64".into(),
            source: "deb".into(),
            state: "installed".into(),
            ..Default::default()
        }];
        Ok(Response::new(pb::GetHostResponse {
            summary: Some(host(1)),
            software: Some(pb::Software { packages }),
            ..Default::default()
        }))
    }

    async fn find_software(
        &self,
        request: Request<pb::FindSoftwareRequest>,
    ) -> Result<Response<pb::FindSoftwareResponse>, Status> {
        self.check(&request)?;
        let request = request.into_inner();
        self.software_requests.lock().unwrap().push(request.clone());
        let matches = if request.name == "openssl" {
            vec![pb::SoftwareMatch {
                host_id: host(1).id,
                hostname: "web-1".into(),
                name: "openssl".into(),
                version: "3.0.11-1~deb12u2".into(),
                arch: "amd64".into(),
                source: "deb".into(),
                state: "installed".into(),
                last_seen: 1_795_000_000,
            }]
        } else {
            vec![]
        };
        Ok(Response::new(pb::FindSoftwareResponse { matches }))
    }

    async fn create_enrollment_token(
        &self,
        request: Request<pb::CreateEnrollmentTokenRequest>,
    ) -> Result<Response<pb::CreateEnrollmentTokenResponse>, Status> {
        self.check(&request)?;
        let request = request.into_inner();
        self.token_requests.lock().unwrap().push(request.clone());
        Ok(Response::new(pb::CreateEnrollmentTokenResponse {
            token: "secret-token".into(),
            id: "tok-1".into(),
            expires_at: 1_795_003_600,
            uses: request.uses.max(1),
        }))
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    ca: Authority,
    url: String,
}

/// Starts the mock on 127.0.0.1 with the collector's server certificate, requiring client
/// certificates from the same CA.
async fn serve(mock: Mock) -> Fixture {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let (ca, _) = Authority::load_or_create(&pki, &[], Duration::from_secs(3600)).unwrap();
    let read = |name: &str| std::fs::read_to_string(pki.join(name)).unwrap();
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(read("server.crt"), read("server.key")))
        .client_ca_root(Certificate::from_pem(read("ca.crt")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let server = Server::builder()
        .tls_config(tls)
        .unwrap()
        .add_service(AdminServiceServer::new(mock))
        .serve_with_incoming(TcpListenerStream::new(listener));
    tokio::spawn(server);
    Fixture { dir, ca, url }
}

impl Fixture {
    async fn run(&self, args: &[&str]) -> Result<String, Error> {
        let data_dir = self.dir.path().to_str().unwrap();
        let cli = Cli::try_parse_from(
            ["wardctl", "--collector", &self.url, "--data-dir", data_dir]
                .into_iter()
                .chain(args.iter().copied()),
        )
        .unwrap();
        let mut out = Vec::new();
        run(&cli, &mut out).await?;
        Ok(String::from_utf8(out).unwrap())
    }
}

#[tokio::test]
async fn hosts_follows_every_page() {
    let mock = Mock::default();
    let fixture = serve(mock.clone()).await;
    let text = fixture.run(&["hosts", "--output", "json"]).await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web-0", "web-1", "web-2", "web-3", "web-4"]);
    let requests = mock.list_requests.lock().unwrap().clone();
    let tokens: Vec<&str> = requests.iter().map(|r| r.page_token.as_str()).collect();
    assert_eq!(tokens, ["", "2", "4"]);
    assert!(requests.iter().all(|r| r.page_size == 0));
}

#[tokio::test]
async fn hosts_passes_filters_and_stops_at_the_limit() {
    let mock = Mock::default();
    let fixture = serve(mock.clone()).await;
    let text = fixture
        .run(&[
            "hosts",
            "--hostname",
            "web-*",
            "--os",
            "debian",
            "--seen-within",
            "15m",
            "--offline-for",
            "1d",
            "--limit",
            "3",
            "-o",
            "csv",
        ])
        .await
        .unwrap();
    assert_eq!(text.lines().count(), 4, "header and 3 hosts: {text}");
    let requests = mock.list_requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].hostname_glob, "web-*");
    assert_eq!(requests[0].os, "debian");
    assert_eq!(requests[0].seen_within_seconds, 900);
    assert_eq!(requests[0].not_seen_within_seconds, 86_400);
    assert_eq!(requests[0].page_size, 3);
}

#[tokio::test]
async fn host_shows_one_host_or_says_there_is_none() {
    let fixture = serve(Mock::default()).await;
    let text = fixture.run(&["host", "web-1"]).await.unwrap();
    assert!(
        text.contains("web-1") && text.contains("1 total, 1 installed"),
        "{text}"
    );
    let csv = fixture
        .run(&["host", "web-1", "--output", "csv"])
        .await
        .unwrap();
    assert_eq!(
        csv,
        "name,version,arch,source,state\nbash,5.2.15-2+b7,amd64,deb,installed\n"
    );

    let err = fixture.run(&["host", "db-9"]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "no such host: db-9; list hosts with `wardctl hosts`"
    );
    assert_eq!(err.exit_code(), EXIT_FAILURE);
}

#[tokio::test]
async fn software_sends_the_query_and_says_when_nothing_matches() {
    let mock = Mock::default();
    let fixture = serve(mock.clone()).await;
    let text = fixture
        .run(&["software", "openssl", "--below", "3.0.13-1~deb12u1"])
        .await
        .unwrap();
    assert!(text.contains("3.0.11-1~deb12u2"), "{text}");
    let text = fixture
        .run(&["software", "nothing*", "--all-states"])
        .await
        .unwrap();
    assert_eq!(text, "no host has nothing*\n");
    let requests = mock.software_requests.lock().unwrap().clone();
    assert_eq!(requests[0].below_version, "3.0.13-1~deb12u1");
    assert!(!requests[0].include_not_installed);
    assert_eq!(requests[1].below_version, "");
    assert!(requests[1].include_not_installed);
}

#[tokio::test]
async fn token_create_prints_the_enrol_command_with_the_pinned_fingerprint() {
    let mock = Mock::default();
    let fixture = serve(mock.clone()).await;
    let text = fixture
        .run(&[
            "token", "create", "--uses", "3", "--ttl", "2h", "--label", "rack 4",
        ])
        .await
        .unwrap();
    let expected = format!(
        "ward-agent enroll --collector {} --ca-fingerprint {} --token-file FILE",
        fixture.url,
        fixture.ca.fingerprint()
    );
    assert!(text.contains(&expected), "{text}");
    assert!(text.contains("secret-token"), "{text}");
    let json = fixture
        .run(&["token", "create", "-o", "json"])
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["token"], "secret-token");
    let requests = mock.token_requests.lock().unwrap().clone();
    assert_eq!(requests[0].uses, 3);
    assert_eq!(requests[0].ttl_seconds, 7_200);
    assert_eq!(requests[0].label, "rack 4");
    assert_eq!(
        (
            requests[1].uses,
            requests[1].ttl_seconds,
            requests[1].label.as_str()
        ),
        (0, 0, "")
    );
}

#[tokio::test]
async fn collector_refusals_become_hints_and_exit_codes() {
    for (code, exit, needle) in [
        (
            Code::PermissionDenied,
            EXIT_USAGE,
            "refused the admin credentials",
        ),
        (Code::Unauthenticated, EXIT_USAGE, "--cert/--key"),
        (
            Code::Unavailable,
            EXIT_UNAVAILABLE,
            "is `ward-collector serve` running?",
        ),
        (
            Code::InvalidArgument,
            EXIT_USAGE,
            "the collector refused to list hosts: mock failure",
        ),
        (
            Code::Internal,
            EXIT_FAILURE,
            "failed to list hosts: the collector answered Internal: mock failure",
        ),
    ] {
        let fixture = serve(Mock {
            fail_with: Some(code),
            ..Mock::default()
        })
        .await;
        let err = fixture.run(&["hosts"]).await.unwrap_err();
        assert_eq!(err.exit_code(), exit, "{code:?}: {err}");
        assert!(err.to_string().contains(needle), "{code:?}: {err}");
    }
}

#[tokio::test]
async fn an_admin_certificate_from_another_ca_is_refused() {
    let fixture = serve(Mock::default()).await;
    let other = tempfile::tempdir().unwrap();
    Authority::load_or_create(&other.path().join("pki"), &[], Duration::from_secs(3600)).unwrap();
    let cert = other.path().join("pki/admin.crt");
    let key = other.path().join("pki/admin.key");
    let err = fixture
        .run(&[
            "hosts",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused { .. } | Error::Connect(connect::Error::Refused { .. })
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("refused the admin credentials"), "{text}");
    assert!(text.contains("UnknownCA"), "{text}");
    assert_eq!(err.exit_code(), EXIT_USAGE);
}

#[tokio::test]
async fn a_collector_with_another_ca_is_not_trusted() {
    let fixture = serve(Mock::default()).await;
    let other = tempfile::tempdir().unwrap();
    Authority::load_or_create(&other.path().join("pki"), &[], Duration::from_secs(3600)).unwrap();
    let ca = other.path().join("pki/ca.crt");
    let err = fixture
        .run(&["hosts", "--ca", ca.to_str().unwrap()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Connect(connect::Error::ServerNotTrusted { .. })),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "check that {} is this collector's CA",
            ca.display()
        )),
        "{text}"
    );
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert_eq!(err.exit_code(), EXIT_USAGE);
}

#[tokio::test]
async fn a_name_the_certificate_does_not_cover_is_not_trusted() {
    let fixture = serve(Mock::default()).await;
    // Same server, reached by a name its certificate does not list.
    let url = fixture.url.replace("127.0.0.1", "127.0.0.2");
    let cli = Cli::try_parse_from([
        "wardctl",
        "--collector",
        &url,
        "--data-dir",
        fixture.dir.path().to_str().unwrap(),
        "hosts",
    ])
    .unwrap();
    let err = run(&cli, &mut Vec::new()).await.unwrap_err();
    // Linux routes all of 127/8 to loopback, but the server listens on 127.0.0.1 only.
    assert!(
        matches!(
            err,
            Error::Connect(
                connect::Error::ServerNotTrusted { .. } | connect::Error::Unreachable { .. }
            )
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_bad_below_version_is_refused_before_connecting() {
    // Nothing listens here and there are no credentials: the check must come first.
    let cli = Cli::try_parse_from([
        "wardctl",
        "--collector",
        "https://127.0.0.1:9",
        "--data-dir",
        "/nonexistent",
        "software",
        "openssl",
        "--below",
        "1.0-",
    ])
    .unwrap();
    let err = run(&cli, &mut Vec::new()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "--below: invalid version \"1.0-\": revision number is empty"
    );
    assert_eq!(err.exit_code(), EXIT_USAGE);
}

#[tokio::test]
async fn configuration_and_connection_failures_have_their_exit_codes() {
    let cli = Cli::try_parse_from(["wardctl", "--data-dir", "/nonexistent", "hosts"]).unwrap();
    let err = run(&cli, &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.exit_code(), EXIT_USAGE, "{err}");

    let cli = Cli::try_parse_from(["wardctl", "--collector", "http://x:1", "hosts"]).unwrap();
    assert_eq!(
        run(&cli, &mut Vec::new()).await.unwrap_err().exit_code(),
        EXIT_USAGE
    );

    let fixture = serve(Mock::default()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data_dir = fixture.dir.path().to_str().unwrap();
    let url = format!("https://127.0.0.1:{port}");
    let cli = Cli::try_parse_from([
        "wardctl",
        "--collector",
        &url,
        "--data-dir",
        data_dir,
        "hosts",
    ])
    .unwrap();
    let err = run(&cli, &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.exit_code(), EXIT_UNAVAILABLE, "{err}");
}

#[test]
fn statuses_map_to_readable_errors() {
    let target = Target::parse("https://c.example:7443").unwrap();
    let timeout = Duration::from_secs(10);
    let map = |status: Status, call| Error::from_status(&status, call, &target, timeout);
    assert_eq!(
        map(Status::not_found("x"), Call::GetHost("web-9")).to_string(),
        "no such host: web-9; list hosts with `wardctl hosts`"
    );
    assert_eq!(
        map(Status::deadline_exceeded("slow"), Call::ListHosts).to_string(),
        "the collector at https://c.example:7443 did not answer within 10s; try again, or raise --timeout"
    );
    assert_eq!(
        map(Status::unimplemented(""), Call::FindSoftware).to_string(),
        "the collector at https://c.example:7443 cannot find software (not implemented); upgrade the collector"
    );
    assert_eq!(
        map(
            Status::failed_precondition("hostname web is ambiguous"),
            Call::GetHost("web")
        )
        .to_string(),
        "the collector refused to show the host: hostname web is ambiguous"
    );
    assert_eq!(
        map(Status::unknown(""), Call::CreateToken).exit_code(),
        EXIT_FAILURE
    );
    assert_eq!(
        map(Status::deadline_exceeded(""), Call::CreateToken).exit_code(),
        EXIT_UNAVAILABLE
    );
}

#[test]
fn below_versions_are_checked_in_supported_formats() {
    assert!(check_below("3.0.13-1~deb12u1").is_ok());
    assert!(check_below("1:2.36").is_ok());
    assert!(matches!(check_below("1 0"), Err(Error::Usage(_))));
}
