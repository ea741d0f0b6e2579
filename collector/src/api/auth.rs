//! Authentication of gRPC peers, per service, before any handler runs.
//!
//! Each ward service is wrapped in an [`AuthLayer`] that reads the TLS client certificate
//! (the TLS layer already verified its chain against the collector's CA), checks that its
//! role may call the service and, for agents, that the host is enrolled, not revoked and
//! presenting its current certificate. Only then does the request reach the service, with
//! the proven identity in its extensions ([`AdminIdentity`], [`AgentIdentity`]); handlers
//! read it with [`admin`] and [`agent`], which fail closed if it is missing. So a handler
//! that forgets to check anything is still closed, and the host id comes only from the
//! certificate.
//!
//! What each service admits:
//! - `AdminService`: admin certificates, on every method.
//! - `AgentService`: agent certificates of enrolled hosts, on every method but `Enroll`,
//!   the one RPC open to a peer without a certificate (it is how an agent gets one);
//!   admin certificates on none.
//!
//! A path that names no method of the service in `ward.v1`'s descriptor is refused by
//! the layer too, after the role check, so no route is open by accident.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};

use prost::Message;
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::{Request, Status};
use tower_layer::Layer;
use ward_proto::v1 as pb;

use super::status;
use crate::pki::identity::{self, Peer};
use crate::store::Store;

/// Methods of `ward.v1.AgentService` that admit a peer without a client certificate.
pub const OPEN_AGENT_METHODS: &[&str] = &["Enroll"];

/// An administrator proven by an admin certificate; the admin service's layer puts it in
/// the extensions of every request it lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminIdentity {
    /// The admin's name (the certificate's common name).
    pub name: String,
}

/// An enrolled, non-revoked agent presenting its current certificate; the agent
/// service's layer puts it in the extensions of every request it authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    /// The host id the collector's CA wrote into the certificate.
    pub host_id: String,
}

/// A tower layer that authenticates every request to one service before the service
/// sees it. Build one per service: [`AuthLayer::admin`] or [`AuthLayer::agent`].
#[derive(Clone)]
pub struct AuthLayer {
    guard: Guard,
}

/// A service behind an [`AuthLayer`].
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    guard: Guard,
}

/// Which peers a service admits.
#[derive(Clone)]
enum Guard {
    Admin,
    Agent(Arc<dyn Store>),
}

/// Returns the administrator the admin service's layer authenticated. Fails closed: a
/// request without the identity (a service mounted without its layer) is refused.
pub fn admin<T>(req: &Request<T>) -> Result<AdminIdentity, Status> {
    proven(req)
}

/// Returns the agent the agent service's layer authenticated. Fails closed: a request
/// without the identity (an open method, or a service mounted without its layer) is
/// refused.
pub fn agent<T>(req: &Request<T>) -> Result<AgentIdentity, Status> {
    proven(req)
}

fn proven<T, I: Clone + Send + Sync + 'static>(req: &Request<T>) -> Result<I, Status> {
    req.extensions().get::<I>().cloned().ok_or_else(|| {
        tracing::error!(
            identity = std::any::type_name::<I>(),
            "a handler found no authenticated identity: the service is not behind its auth layer"
        );
        Status::internal("the request was not authenticated; see the collector's log")
    })
}

impl AuthLayer {
    /// Returns the layer of the admin service: admin certificates only.
    pub fn admin() -> Self {
        Self {
            guard: Guard::Admin,
        }
    }

    /// Returns the layer of the agent service: certificates of agents enrolled in `store`
    /// (the open methods excepted).
    pub fn agent(store: Arc<dyn Store>) -> Self {
        Self {
            guard: Guard::Agent(store),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticated<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticated {
            inner,
            guard: self.guard.clone(),
        }
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for Authenticated<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<Body>) -> Self::Future {
        // The clone is not ready; the service that was polled ready handles this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        Box::pin(async move {
            let path = req.uri().path().to_owned();
            let peer = peer(req.extensions());
            match guard.admit(S::NAME, &path, peer).await {
                Ok(Some(Proven::Admin(id))) => {
                    req.extensions_mut().insert(id);
                }
                Ok(Some(Proven::Agent(id))) => {
                    req.extensions_mut().insert(id);
                }
                Ok(None) => {}
                Err(status) => {
                    tracing::debug!(path = %path, code = ?status.code(), reason = status.message(), "request refused by the auth layer");
                    return Ok(status.into_http());
                }
            }
            inner.call(req).await
        })
    }
}

/// What the layer proved about a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Proven {
    Admin(AdminIdentity),
    Agent(AgentIdentity),
}

impl Guard {
    /// Decides whether `peer` may call `path` on `service`; returns the identity to hand
    /// to the handler (none for an open method).
    async fn admit(
        &self,
        service: &str,
        path: &str,
        peer: Result<Option<Peer>, Status>,
    ) -> Result<Option<Proven>, Status> {
        let method = method_of(service, path);
        let proven = match self {
            Self::Admin => match peer? {
                Some(Peer::Admin { name }) => Some(Proven::Admin(AdminIdentity { name })),
                Some(Peer::Agent { .. }) => {
                    return Err(Status::permission_denied(
                        "agent certificates may not call the admin service",
                    ));
                }
                None => {
                    return Err(Status::unauthenticated(
                        "an admin certificate is required; use the admin credentials in the collector's pki directory",
                    ));
                }
            },
            Self::Agent(store) => match peer? {
                Some(Peer::Admin { .. }) => {
                    return Err(Status::permission_denied(
                        "admin certificates may not call the agent service",
                    ));
                }
                _ if method.is_some_and(|m| OPEN_AGENT_METHODS.contains(&m)) => None,
                Some(Peer::Agent { host_id, serial }) => Some(Proven::Agent(
                    enrolled(store.as_ref(), host_id, &serial).await?,
                )),
                None => {
                    return Err(Status::unauthenticated(
                        "a client certificate is required; enrol the agent (ward-agent enroll)",
                    ));
                }
            },
        };
        match method {
            Some(m) if methods(service).contains(m) => Ok(proven),
            _ => Err(Status::unimplemented(format!(
                "{path} is not a method of {service}"
            ))),
        }
    }
}

/// Returns the peer the request's client certificate names: the same certificates
/// `tonic::Request::peer_certs` reads, put there by tonic's TLS acceptor.
fn peer(extensions: &http::Extensions) -> Result<Option<Peer>, Status> {
    let certs = extensions
        .get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(TlsConnectInfo::peer_certs);
    let Some(leaf) = certs.as_ref().and_then(|c| c.first()) else {
        return Ok(None);
    };
    identity::identify(leaf.as_ref())
        .map(Some)
        .map_err(status::from_identity)
}

/// Returns the identity of the agent `host_id` if it is enrolled, not revoked, and
/// `serial` is its current certificate.
async fn enrolled(
    store: &dyn Store,
    host_id: String,
    serial: &str,
) -> Result<AgentIdentity, Status> {
    let status = store
        .host_status(&host_id)
        .await
        .map_err(status::from_store)?
        .ok_or_else(|| {
            Status::unauthenticated(format!(
                "host {host_id} is not registered with this collector; enrol it again"
            ))
        })?;
    if status.revoked {
        return Err(Status::permission_denied(format!(
            "host {host_id} has been revoked"
        )));
    }
    if status.cert_serial != serial {
        return Err(Status::unauthenticated(format!(
            "certificate {serial} of host {host_id} has been superseded; enrol again"
        )));
    }
    Ok(AgentIdentity { host_id })
}

/// Returns the method a request path names on `service` (`/ward.v1.AgentService/Report`
/// → `Report`), if the path is under the service.
fn method_of<'a>(service: &str, path: &'a str) -> Option<&'a str> {
    path.strip_prefix('/')?
        .strip_prefix(service)?
        .strip_prefix('/')
        .filter(|m| !m.is_empty() && !m.contains('/'))
}

/// Returns the method names of `service` (full name, `ward.v1.AgentService`) in the
/// compiled-in descriptor; none for a service it does not hold, so that every path of
/// an unknown service is refused.
fn methods(service: &str) -> &'static HashSet<String> {
    static EMPTY: LazyLock<HashSet<String>> = LazyLock::new(HashSet::new);
    static SERVICES: LazyLock<HashMap<String, HashSet<String>>> = LazyLock::new(|| {
        let set = match prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET) {
            Ok(set) => set,
            Err(e) => {
                // Compiled in by ward-proto's build: unreachable unless the build broke.
                tracing::error!(error = %e, "the ward.v1 descriptor does not decode; refusing every method");
                return HashMap::new();
            }
        };
        set.file
            .iter()
            .flat_map(|file| {
                let package = file.package().to_owned();
                file.service.iter().map(move |s| {
                    let methods = s.method.iter().map(|m| m.name().to_owned()).collect();
                    (format!("{package}.{}", s.name()), methods)
                })
            })
            .collect()
    });
    SERVICES.get(service).unwrap_or(&EMPTY)
}

#[cfg(test)]
mod tests;
