//! Authentication of gRPC peers from their TLS client certificate. The TLS layer already
//! verified the chain against the collector's CA; here the certificate's role and, for
//! agents, the host's registration and revocation state are checked. The host id comes
//! only from the certificate.

use tonic::{Request, Status};

use super::Shared;
use crate::pki::identity::{self, Peer};

/// Returns the peer identity proven by the request's client certificate.
pub fn peer<T>(req: &Request<T>) -> Result<Peer, Status> {
    let certs = req.peer_certs().ok_or_else(|| {
        Status::unauthenticated(
            "a client certificate is required; enrol the agent (ward-agent enroll) or use the admin credentials",
        )
    })?;
    let leaf = certs
        .first()
        .ok_or_else(|| Status::unauthenticated("empty client certificate chain"))?;
    identity::identify(leaf.as_ref()).map_err(super::status::from_identity)
}

/// Returns the host id of an enrolled, non-revoked agent making the request.
pub async fn agent<T>(shared: &Shared, req: &Request<T>) -> Result<String, Status> {
    match peer(req)? {
        Peer::Agent { host_id, serial } => {
            let status = shared
                .store
                .host_status(&host_id)
                .await
                .map_err(super::status::from_store)?
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
            Ok(host_id)
        }
        Peer::Admin { .. } => Err(Status::permission_denied(
            "admin certificates may not call the agent service",
        )),
    }
}

/// Checks that the request comes from an administrator; returns the admin's name.
pub fn admin<T>(req: &Request<T>) -> Result<String, Status> {
    match peer(req)? {
        Peer::Admin { name } => Ok(name),
        Peer::Agent { .. } => Err(Status::permission_denied(
            "agent certificates may not call the admin service",
        )),
    }
}
