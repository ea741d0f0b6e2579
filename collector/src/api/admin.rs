//! `ward.v1.AdminService`: the questions `wardctl` asks, and enrolment tokens.

use std::cmp::Ordering;

use tonic::{Request, Response, Status};
use ward_proto::v1 as pb;

use super::{Shared, auth, now, status};
use crate::pki::token;
use crate::store::{HostFilter, NewToken};
use crate::version;

/// Longest lifetime an enrolment token may have.
const MAX_TOKEN_TTL_SECS: u64 = 30 * 86400;
/// Most hosts one token may enrol.
const MAX_TOKEN_USES: u32 = 100_000;

/// The admin service.
pub struct AdminApi {
    shared: Shared,
}

impl AdminApi {
    /// Creates the service.
    pub fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

#[tonic::async_trait]
impl pb::admin_service_server::AdminService for AdminApi {
    async fn list_hosts(
        &self,
        req: Request<pb::ListHostsRequest>,
    ) -> Result<Response<pb::ListHostsResponse>, Status> {
        auth::admin(&req)?;
        let filter = HostFilter::from(req.into_inner());
        let page = self
            .shared
            .store
            .list_hosts(&filter, now())
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(pb::ListHostsResponse {
            hosts: page.hosts,
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn get_host(
        &self,
        req: Request<pb::GetHostRequest>,
    ) -> Result<Response<pb::GetHostResponse>, Status> {
        auth::admin(&req)?;
        let host = req.into_inner().host;
        if host.trim().is_empty() {
            return Err(Status::invalid_argument("name a host by id or hostname"));
        }
        let detail = self
            .shared
            .store
            .get_host(&host)
            .await
            .map_err(status::from_store)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no host with id or hostname {host:?}; list them with `wardctl hosts`"
                ))
            })?;
        Ok(Response::new(pb::GetHostResponse {
            summary: Some(detail.summary),
            os: detail.os,
            hardware: detail.hardware,
            software: detail.software,
        }))
    }

    async fn find_software(
        &self,
        req: Request<pb::FindSoftwareRequest>,
    ) -> Result<Response<pb::FindSoftwareResponse>, Status> {
        auth::admin(&req)?;
        let r = req.into_inner();
        if r.name.trim().is_empty() {
            return Err(Status::invalid_argument(
                "name a package (or a glob such as openssl*)",
            ));
        }
        let rows = self
            .shared
            .store
            .find_software(r.name.trim(), r.include_not_installed)
            .await
            .map_err(status::from_store)?;
        let below = r.below_version.trim();
        let matches = if below.is_empty() {
            rows
        } else {
            filter_below(rows, below)?
        };
        Ok(Response::new(pb::FindSoftwareResponse { matches }))
    }

    async fn create_enrollment_token(
        &self,
        req: Request<pb::CreateEnrollmentTokenRequest>,
    ) -> Result<Response<pb::CreateEnrollmentTokenResponse>, Status> {
        let admin = auth::admin(&req)?;
        let r = req.into_inner();
        let uses = if r.uses == 0 { 1 } else { r.uses };
        if uses > MAX_TOKEN_USES {
            return Err(Status::invalid_argument(format!(
                "uses must be at most {MAX_TOKEN_USES}"
            )));
        }
        let ttl = if r.ttl_seconds == 0 {
            3600
        } else {
            r.ttl_seconds
        };
        if ttl > MAX_TOKEN_TTL_SECS {
            return Err(Status::invalid_argument(
                "ttl must be at most 30 days; enrolment tokens are meant to be short-lived",
            ));
        }
        let generated = token::generate();
        let created_at = now();
        let expires_at = created_at.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
        let label: String = r.label.chars().take(200).collect();
        self.shared
            .store
            .create_token(NewToken {
                id: generated.id.clone(),
                hash: generated.hash,
                uses,
                expires_at,
                label: label.clone(),
                created_at,
            })
            .await
            .map_err(status::from_store)?;
        tracing::info!(admin = %admin, token_id = %generated.id, uses, ttl, label = %label, "enrolment token created");
        Ok(Response::new(pb::CreateEnrollmentTokenResponse {
            token: generated.token,
            id: generated.id,
            expires_at,
            uses,
        }))
    }
}

/// Keeps the rows whose version is strictly below `below` in their package format's own
/// ordering. The bound must parse for every format present; a stored version that does
/// not parse is left out and logged.
fn filter_below(
    rows: Vec<pb::SoftwareMatch>,
    below: &str,
) -> Result<Vec<pb::SoftwareMatch>, Status> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match version::compare(&row.source, &row.version, below) {
            Ok(Ordering::Less) => out.push(row),
            Ok(_) => {}
            Err(e) => {
                // Tell a bad bound apart from a bad stored version.
                if version::validate(&row.source, below).is_err() {
                    return Err(Status::invalid_argument(format!("--below {below:?}: {e}")));
                }
                tracing::warn!(host = %row.host_id, package = %row.name, version = %row.version, error = %e, "cannot order version");
            }
        }
    }
    Ok(out)
}
