//! `ward-collector serve`: prepares the data directory (CA, certificates, database), binds
//! the listener, and serves the agent, admin, health and reflection services over TLS
//! until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tower_layer::Layer;
use ward_proto::v1 as pb;

use crate::api::Shared;
use crate::api::admin::AdminApi;
use crate::api::agent::AgentApi;
use crate::api::auth::AuthLayer;
use crate::config::Config;
use crate::pipeline::{Pipeline, timer};
use crate::pki::{Authority, ca};
use crate::store;

/// File name of the SQLite database in the data directory.
pub const DATABASE_FILE: &str = "ward.db";
/// Directory of the PKI in the data directory.
pub const PKI_DIR: &str = "pki";

/// Errors starting or running the collector.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Pki(#[from] ca::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("cannot listen on {addr}: {source}; is another collector running there?")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("failed to build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// A started collector.
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// `SHA256:<hex>` of the CA certificate: what agents pin.
    pub fingerprint: String,
    pub data_dir: PathBuf,
    /// Completes when the server has stopped.
    pub task: tokio::task::JoinHandle<Result<(), Error>>,
}

/// Prepares the data directory and starts serving; returns once the listener is bound.
pub async fn start(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, Error> {
    use std::os::unix::fs::PermissionsExt;
    let data_dir = config.data_dir.clone();
    let dir_err = |source| Error::DataDir {
        path: data_dir.clone(),
        source,
    };
    if data_dir.exists() {
        // An existing directory is the operator's: say so rather than change its mode.
        let mode = std::fs::metadata(&data_dir)
            .map_err(dir_err)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %data_dir.display(),
                mode = format!("{:o}", mode & 0o777),
                "data directory is accessible to other users; it holds the fleet's inventory: chmod 700 it"
            );
        }
    } else {
        std::fs::create_dir_all(&data_dir).map_err(dir_err)?;
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(dir_err)?;
    }

    let pki_dir = data_dir.join(PKI_DIR);
    let (authority, created) = Authority::load_or_create(
        &pki_dir,
        &config.server_names,
        config.agent_certificate_lifetime,
    )?;
    let store = store::open_sqlite(&data_dir.join(DATABASE_FILE)).await?;
    let read = |name: &str| {
        let path = pki_dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| Error::Read { path, source })
    };
    let server_identity =
        Identity::from_pem(read(ca::files::SERVER_CERT)?, read(ca::files::SERVER_KEY)?);
    let tls = ServerTlsConfig::new()
        .identity(server_identity)
        .client_ca_root(Certificate::from_pem(authority.ca_pem()))
        // Enrol is the one RPC a peer without a certificate may call; each service's auth
        // layer demands one everywhere else (api::auth).
        .client_auth_optional(true);

    let fingerprint = authority.fingerprint();
    let pipeline = Arc::new(
        Pipeline::new(store.clone(), config.rules.clone()).watching_since(crate::api::now()),
    );
    let shared = Shared {
        store,
        pipeline: pipeline.clone(),
        authority: Arc::new(authority),
    };
    let max = config.max_message_bytes;
    let agent_auth = AuthLayer::agent(shared.store.clone());
    let agent = pb::agent_service_server::AgentServiceServer::new(AgentApi::new(shared.clone()))
        .max_decoding_message_size(max)
        .accept_compressed(CompressionEncoding::Zstd)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Zstd);
    let admin = pb::admin_service_server::AdminServiceServer::new(AdminApi::new(shared))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max * 4)
        .accept_compressed(CompressionEncoding::Zstd)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Zstd);
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<pb::agent_service_server::AgentServiceServer<AgentApi>>()
        .await;
    health_reporter
        .set_serving::<pb::admin_service_server::AdminServiceServer<AdminApi>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.listen,
        source,
    })?;
    if created {
        tracing::info!(dir = %pki_dir.display(), "new CA created; admin credentials written to {}", pki_dir.display());
    }
    // Scripts read this line: it must keep carrying the fingerprint as SHA256:<hex>.
    tracing::info!(data_dir = %data_dir.display(), "collector listening on {addr}, CA fingerprint {fingerprint}");

    let router = Server::builder()
        .tls_config(tls)?
        .concurrency_limit_per_connection(config.concurrency_per_connection)
        .timeout(config.request_timeout)
        .add_service(health)
        .add_service(reflection)
        // Health and reflection stay open: load balancers probe health without a client
        // certificate, and reflection describes only the public schema (docs/security.md).
        // Each ward service sits behind its auth layer, so no handler runs unauthenticated.
        .add_service(agent_auth.layer(agent))
        .add_service(AuthLayer::admin().layer(admin));
    // Load balancers see the collector leave before it stops answering; the timed rules
    // stop with the server.
    let (stop_timer, timer_stopped) = tokio::sync::oneshot::channel::<()>();
    let pipeline_for_shutdown = pipeline.clone();
    tokio::spawn(timer::run(pipeline, config.alert_interval, async move {
        let _ = timer_stopped.await;
    }));
    let closing = pipeline_for_shutdown;
    let shutdown = async move {
        shutdown.await;
        let _ = stop_timer.send(());
        closing.close();
        health_reporter
            .set_not_serving::<pb::agent_service_server::AgentServiceServer<AgentApi>>()
            .await;
        health_reporter
            .set_not_serving::<pb::admin_service_server::AdminServiceServer<AdminApi>>()
            .await;
        tracing::info!("shutting down: finishing requests in flight");
    };
    let task = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
            .await?;
        tracing::info!("collector stopped");
        Ok(())
    });
    Ok(Running {
        addr,
        fingerprint,
        data_dir,
        task,
    })
}
