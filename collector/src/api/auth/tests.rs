use std::sync::Mutex;

use super::*;
use crate::store::{self, NewHost, NewToken};
use tonic::Code;

const AGENT: &str = "ward.v1.AgentService";
const ADMIN: &str = "ward.v1.AdminService";

fn admin_peer() -> Result<Option<Peer>, Status> {
    Ok(Some(Peer::Admin {
        name: "alice".into(),
    }))
}

fn agent_peer(host_id: &str, serial: &str) -> Result<Option<Peer>, Status> {
    Ok(Some(Peer::Agent {
        host_id: host_id.into(),
        serial: serial.into(),
    }))
}

/// A store holding one enrolled host, `host-1` with certificate serial `0a`.
async fn store_with_host(dir: &std::path::Path) -> Arc<dyn Store> {
    let store = store::open_sqlite(&dir.join("ward.db")).await.unwrap();
    store
        .create_token(NewToken {
            id: "t".into(),
            hash: [7; 32],
            uses: 1,
            expires_at: i64::MAX,
            label: String::new(),
            created_at: 0,
        })
        .await
        .unwrap();
    store
        .enroll(
            &[7; 32],
            NewHost {
                id: "host-1".into(),
                hostname: "web-1".into(),
                cert_serial: "0a".into(),
                cert_not_after: i64::MAX,
                agent_version: "test".into(),
                enrolled_at: 1,
            },
        )
        .await
        .unwrap();
    store
}

#[test]
fn paths_name_methods_of_their_service_only() {
    assert_eq!(
        method_of(AGENT, "/ward.v1.AgentService/Report"),
        Some("Report")
    );
    assert_eq!(method_of(AGENT, "/ward.v1.AdminService/Report"), None);
    assert_eq!(method_of(AGENT, "/ward.v1.AgentService/"), None);
    assert_eq!(method_of(AGENT, "/ward.v1.AgentService/Enroll/x"), None);
    assert_eq!(method_of(AGENT, "/ward.v1.AgentServiceX/Enroll"), None);
    assert_eq!(method_of(AGENT, "ward.v1.AgentService/Enroll"), None);
}

#[test]
fn the_descriptor_names_every_method_and_the_open_ones_exist() {
    assert!(methods(AGENT).contains("Report"), "{:?}", methods(AGENT));
    assert!(methods(ADMIN).contains("ListHosts"), "{:?}", methods(ADMIN));
    for open in OPEN_AGENT_METHODS {
        assert!(
            methods(AGENT).contains(*open),
            "{open} is not an AgentService method"
        );
    }
    assert!(methods("ward.v1.NoSuchService").is_empty());
}

#[tokio::test]
async fn the_admin_service_admits_admin_certificates_only() {
    let guard = Guard::Admin;
    let path = "/ward.v1.AdminService/ListHosts";
    assert_eq!(
        guard.admit(ADMIN, path, admin_peer()).await.unwrap(),
        Some(Proven::Admin(AdminIdentity {
            name: "alice".into()
        }))
    );
    let e = guard.admit(ADMIN, path, Ok(None)).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = guard
        .admit(ADMIN, path, agent_peer("host-1", "0a"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // A certificate that names no role is refused whatever the method.
    let bad = Err(status::from_identity(identity::Error::NoCommonName));
    let e = guard.admit(ADMIN, path, bad).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn the_agent_service_admits_enrolled_agents_and_opens_enroll_only() {
    let dir = tempfile::tempdir().unwrap();
    let guard = Guard::Agent(store_with_host(dir.path()).await);
    let report = "/ward.v1.AgentService/Report";
    let enroll = "/ward.v1.AgentService/Enroll";

    assert_eq!(
        guard
            .admit(AGENT, report, agent_peer("host-1", "0a"))
            .await
            .unwrap(),
        Some(Proven::Agent(AgentIdentity {
            host_id: "host-1".into()
        }))
    );
    // Superseded certificate, unknown host, no certificate, admin certificate.
    for (peer, code) in [
        (agent_peer("host-1", "0b"), Code::Unauthenticated),
        (agent_peer("host-2", "0a"), Code::Unauthenticated),
        (Ok(None), Code::Unauthenticated),
        (admin_peer(), Code::PermissionDenied),
    ] {
        let e = guard.admit(AGENT, report, peer).await.unwrap_err();
        assert_eq!(e.code(), code, "{e:?}");
    }

    // Enroll is open to a peer without a certificate (and to an agent re-enrolling),
    // and hands the handler no identity; an admin certificate is still refused.
    assert_eq!(guard.admit(AGENT, enroll, Ok(None)).await.unwrap(), None);
    assert_eq!(
        guard
            .admit(AGENT, enroll, agent_peer("host-9", "ff"))
            .await
            .unwrap(),
        None
    );
    let e = guard.admit(AGENT, enroll, admin_peer()).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn unknown_methods_are_refused_after_the_role_check() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Guard::Agent(store_with_host(dir.path()).await);
    let path = "/ward.v1.AgentService/Shell";
    let e = agent.admit(AGENT, path, Ok(None)).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = agent
        .admit(AGENT, path, agent_peer("host-1", "0a"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unimplemented);
    let e = Guard::Admin
        .admit(ADMIN, "/ward.v1.AdminService/DropAll", admin_peer())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unimplemented);
}

/// A service that records the paths it was called with.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl NamedService for Recorder {
    const NAME: &'static str = ADMIN;
}

impl Service<http::Request<Body>> for Recorder {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let seen = self.0.clone();
        Box::pin(async move {
            let who = req
                .extensions()
                .get::<AdminIdentity>()
                .map(|a| a.name.clone());
            seen.lock()
                .unwrap()
                .push(format!("{} {who:?}", req.uri().path()));
            Ok(http::Response::new(Body::empty()))
        })
    }
}

#[tokio::test]
async fn a_refused_request_never_reaches_the_service() {
    let recorder = Recorder::default();
    let mut svc = AuthLayer::admin().layer(recorder.clone());
    // No TLS connection info at all: the peer presented no certificate.
    let req = http::Request::builder()
        .uri("/ward.v1.AdminService/ListHosts")
        .body(Body::empty())
        .unwrap();
    let resp = svc.call(req).await.unwrap();
    let status = Status::from_header_map(resp.headers()).unwrap();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(recorder.0.lock().unwrap().is_empty());
}

#[test]
fn handlers_fail_closed_without_the_layer() {
    let req = Request::new(());
    assert_eq!(admin(&req).unwrap_err().code(), Code::Internal);
    assert_eq!(agent(&req).unwrap_err().code(), Code::Internal);

    let mut req = Request::new(());
    req.extensions_mut().insert(AgentIdentity {
        host_id: "host-1".into(),
    });
    assert_eq!(agent(&req).unwrap().host_id, "host-1");
    // One service's identity is not the other's.
    assert_eq!(admin(&req).unwrap_err().code(), Code::Internal);
}
