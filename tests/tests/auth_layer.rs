//! Every RPC of every `ward.v1` service is closed to the wrong peer before any handler
//! runs: the methods come from the protobuf descriptor, so an RPC added later is walked
//! without editing this test. Without a certificate, with an agent certificate on the
//! admin service and with an admin certificate on the agent service, each call must be
//! refused as UNAUTHENTICATED or PERMISSION_DENIED; a handler's own answer (OK,
//! INVALID_ARGUMENT, NOT_FOUND, ...) would mean the auth layer let it through. The one
//! open RPC, Enroll without a certificate, must reach its handler.

// Helpers below run only inside tests; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use prost::Message;
use tonic::Code;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use ward_proto::v1 as pb;
use ward_tests::{Agent, Collector};

/// The one RPC a peer without a certificate may call.
const OPEN_WITHOUT_CERTIFICATE: &str = "/ward.v1.AgentService/Enroll";

/// Which certificate a client presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    Agent,
    Admin,
}

/// One RPC as the descriptor declares it.
#[derive(Debug)]
struct Rpc {
    service: String,
    path: String,
    client_streaming: bool,
    server_streaming: bool,
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("failed to read {}: {e}", p.display()))
}

/// Every RPC of every service in package `ward.v1`.
fn rpcs() -> Vec<Rpc> {
    let set = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    let mut out = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == "ward.v1") {
        for service in &file.service {
            let full = format!("ward.v1.{}", service.name());
            for method in &service.method {
                out.push(Rpc {
                    path: format!("/{full}/{}", method.name()),
                    service: full.clone(),
                    client_streaming: method.client_streaming(),
                    server_streaming: method.server_streaming(),
                });
            }
        }
    }
    out
}

async fn channel(url: &str, ca_pem: &str, identity: Option<&(String, String)>) -> Channel {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("127.0.0.1");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Channel::from_shared(url.to_string())
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Calls `rpc` with an empty message (every field at its default) in the shape the
/// descriptor gives it, and returns the status it ends with. `()` encodes as nothing and
/// decodes any message, its fields skipped as unknown.
async fn call(ch: Channel, rpc: &Rpc) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(ch);
    grpc.ready().await.unwrap();
    let path = PathAndQuery::try_from(rpc.path.as_str()).unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let one = || tokio_stream::iter([()]);
    let stream = match (rpc.client_streaming, rpc.server_streaming) {
        (false, false) => {
            return match grpc.unary(tonic::Request::new(()), path, codec).await {
                Ok(_) => tonic::Status::ok(""),
                Err(s) => s,
            };
        }
        (true, false) => {
            return match grpc
                .client_streaming(tonic::Request::new(one()), path, codec)
                .await
            {
                Ok(_) => tonic::Status::ok(""),
                Err(s) => s,
            };
        }
        (false, true) => {
            grpc.server_streaming(tonic::Request::new(()), path, codec)
                .await
        }
        (true, true) => {
            grpc.streaming(tonic::Request::new(one()), path, codec)
                .await
        }
    };
    // A refusal comes as the response's headers; an accepted stream ends with a status.
    match stream {
        Err(s) => s,
        Ok(response) => {
            let mut stream = response.into_inner();
            loop {
                match stream.message().await {
                    Ok(Some(())) => continue,
                    Ok(None) => return tonic::Status::ok(""),
                    Err(s) => return s,
                }
            }
        }
    }
}

#[test]
fn every_rpc_refuses_the_wrong_certificate() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tmp = tempfile::tempdir().unwrap();
    let collector = Collector::start().unwrap();
    let agent = Agent::enrol(
        &collector,
        &tmp.path().join("root"),
        &tmp.path().join("state"),
    )
    .unwrap();
    let ca_pem = read(&collector.data_dir.join("pki/ca.crt"));
    let agent_identity = (
        read(&agent.state_dir.join("agent.crt")),
        read(&agent.state_dir.join("agent.key")),
    );
    let admin_identity = (
        read(&collector.data_dir.join("pki/admin.crt")),
        read(&collector.data_dir.join("pki/admin.key")),
    );

    let rpcs = rpcs();
    for service in ["ward.v1.AgentService", "ward.v1.AdminService"] {
        assert!(
            rpcs.iter().any(|r| r.service == service),
            "the descriptor has no {service}: {rpcs:?}"
        );
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let nobody = channel(&collector.url, &ca_pem, None).await;
        let as_agent = channel(&collector.url, &ca_pem, Some(&agent_identity)).await;
        let as_admin = channel(&collector.url, &ca_pem, Some(&admin_identity)).await;

        // The credentials work where they belong: the refusals below are the layer's.
        pb::agent_service_client::AgentServiceClient::new(as_agent.clone())
            .heartbeat(pb::HeartbeatRequest::default())
            .await
            .unwrap();
        pb::admin_service_client::AdminServiceClient::new(as_admin.clone())
            .list_hosts(pb::ListHostsRequest::default())
            .await
            .unwrap();

        let mut checked = 0;
        for rpc in &rpcs {
            let mut callers = vec![(Caller::Nobody, nobody.clone())];
            match rpc.service.as_str() {
                "ward.v1.AdminService" => callers.push((Caller::Agent, as_agent.clone())),
                "ward.v1.AgentService" => callers.push((Caller::Admin, as_admin.clone())),
                // A service of another role: no certificate is refused all the same.
                _ => {}
            }
            for (caller, ch) in callers {
                let status = call(ch, rpc).await;
                let code = status.code();
                if caller == Caller::Nobody && rpc.path == OPEN_WITHOUT_CERTIFICATE {
                    // Reached the handler, which refuses the empty token.
                    assert_eq!(
                        code,
                        Code::InvalidArgument,
                        "{} without a certificate: {status:?}",
                        rpc.path
                    );
                } else {
                    assert!(
                        matches!(code, Code::Unauthenticated | Code::PermissionDenied),
                        "{} as {caller:?} was not refused by the auth layer: {status:?}",
                        rpc.path
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > rpcs.len(), "{checked} calls for {rpcs:?}");

        // A path that names no method is refused too, before any routing question.
        for path in [
            "/ward.v1.AgentService/NoSuchMethod",
            "/ward.v1.AdminService/NoSuchMethod",
        ] {
            let rpc = Rpc {
                service: String::new(),
                path: path.into(),
                client_streaming: false,
                server_streaming: false,
            };
            let status = call(nobody.clone(), &rpc).await;
            assert_eq!(status.code(), Code::Unauthenticated, "{path}: {status:?}");
        }
    });
}
