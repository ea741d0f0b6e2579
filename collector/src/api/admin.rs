//! `ward.v1.AdminService`: the questions `wardctl` asks, and enrolment tokens.

use tonic::{Request, Response, Status};
use ward_proto::v1 as pb;

use super::{Shared, alerts, auth, now, status};
use crate::pki::token;
use crate::rules::patches::{self as patch_rules, Rule};
use crate::store::{HostFilter, NewToken, PatchFilter};
use crate::version;

/// Longest lifetime an enrolment token may have.
const MAX_TOKEN_TTL_SECS: u64 = 30 * 86400;
/// Most package rows one FindSoftware answer holds.
const MAX_SOFTWARE_MATCHES: usize = 200_000;
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
    type WatchAlertsStream = alerts::WatchStream;

    async fn list_alerts(
        &self,
        req: Request<pb::ListAlertsRequest>,
    ) -> Result<Response<pb::ListAlertsResponse>, Status> {
        auth::admin(&req)?;
        alerts::list(&self.shared, req.into_inner()).await
    }

    async fn get_alert(
        &self,
        req: Request<pb::GetAlertRequest>,
    ) -> Result<Response<pb::GetAlertResponse>, Status> {
        auth::admin(&req)?;
        alerts::get(&self.shared, req.into_inner()).await
    }

    async fn ack_alert(
        &self,
        req: Request<pb::AckAlertRequest>,
    ) -> Result<Response<pb::AckAlertResponse>, Status> {
        let admin = auth::admin(&req)?.name;
        alerts::ack(&self.shared, &admin, req.into_inner()).await
    }

    async fn resolve_alert(
        &self,
        req: Request<pb::ResolveAlertRequest>,
    ) -> Result<Response<pb::ResolveAlertResponse>, Status> {
        let admin = auth::admin(&req)?.name;
        alerts::resolve(&self.shared, &admin, req.into_inner()).await
    }

    async fn watch_alerts(
        &self,
        req: Request<pb::WatchAlertsRequest>,
    ) -> Result<Response<Self::WatchAlertsStream>, Status> {
        auth::admin(&req)?;
        alerts::watch(&self.shared, req.into_inner()).await
    }

    async fn create_silence(
        &self,
        req: Request<pb::CreateSilenceRequest>,
    ) -> Result<Response<pb::CreateSilenceResponse>, Status> {
        let admin = auth::admin(&req)?.name;
        alerts::create_silence(&self.shared, &admin, req.into_inner()).await
    }

    async fn list_silences(
        &self,
        req: Request<pb::ListSilencesRequest>,
    ) -> Result<Response<pb::ListSilencesResponse>, Status> {
        auth::admin(&req)?;
        alerts::list_silences(&self.shared, req.into_inner()).await
    }

    async fn expire_silence(
        &self,
        req: Request<pb::ExpireSilenceRequest>,
    ) -> Result<Response<pb::ExpireSilenceResponse>, Status> {
        let admin = auth::admin(&req)?.name;
        alerts::expire_silence(&self.shared, &admin, req.into_inner()).await
    }

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
            posture: detail.posture,
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
        if rows.len() > MAX_SOFTWARE_MATCHES {
            return Err(Status::resource_exhausted(format!(
                "{} package rows match {:?}, more than {MAX_SOFTWARE_MATCHES} one answer holds; narrow the name or glob",
                rows.len(),
                r.name.trim()
            )));
        }
        let below = r.below_version.trim();
        let matches = if below.is_empty() {
            rows
        } else {
            filter_below(rows, below)?
        };
        Ok(Response::new(pb::FindSoftwareResponse { matches }))
    }

    async fn list_patches(
        &self,
        req: Request<pb::ListPatchesRequest>,
    ) -> Result<Response<pb::ListPatchesResponse>, Status> {
        auth::admin(&req)?;
        let r = req.into_inner();
        let list = self
            .shared
            .store
            .list_patches(&PatchFilter::from(&r))
            .await
            .map_err(status::from_store)?;
        let now = now();
        let mut hosts: Vec<pb::HostPatchSummary> = list
            .hosts
            .into_iter()
            .filter(|h| keep_patch_row(&r, h, now))
            .collect();
        hosts.sort_by(patch_rules::risk_order);
        Ok(Response::new(pb::ListPatchesResponse {
            hosts,
            hosts_without_patch_state: list.without_patch_state,
        }))
    }

    async fn get_host_patches(
        &self,
        req: Request<pb::GetHostPatchesRequest>,
    ) -> Result<Response<pb::GetHostPatchesResponse>, Status> {
        auth::admin(&req)?;
        let host = req.into_inner().host;
        if host.trim().is_empty() {
            return Err(Status::invalid_argument("name a host by id or hostname"));
        }
        let (summary, patches) = self
            .shared
            .store
            .get_patches(&host)
            .await
            .map_err(status::from_store)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no host with id or hostname {host:?}; list them with `wardctl hosts`"
                ))
            })?;
        Ok(Response::new(pb::GetHostPatchesResponse {
            summary: Some(summary),
            patches,
        }))
    }

    async fn create_enrollment_token(
        &self,
        req: Request<pb::CreateEnrollmentTokenRequest>,
    ) -> Result<Response<pb::CreateEnrollmentTokenResponse>, Status> {
        let admin = auth::admin(&req)?.name;
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
/// ordering. The bound must parse in at least one supported format; rows of a format it
/// does not parse in, or that cannot be ordered yet, are left out and logged — one host's
/// odd data never fails the fleet-wide question.
fn filter_below(
    rows: Vec<pb::SoftwareMatch>,
    below: &str,
) -> Result<Vec<pb::SoftwareMatch>, Status> {
    let errors: Vec<String> = version::SUPPORTED_FORMATS
        .iter()
        .filter_map(|f| version::validate(f, below).err().map(|e| e.to_string()))
        .collect();
    if errors.len() == version::SUPPORTED_FORMATS.len() {
        return Err(Status::invalid_argument(format!(
            "--below {below:?}: {}",
            errors.join("; ")
        )));
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut skipped = 0usize;
    for row in rows {
        match version::is_below(&row.source, &row.version, below) {
            Ok(true) => out.push(row),
            Ok(false) => {}
            Err(e) => {
                skipped += 1;
                tracing::debug!(host = %row.host_id, package = %row.name, version = %row.version, error = %e, "cannot order version");
            }
        }
    }
    if skipped > 0 {
        tracing::warn!(skipped, bound = %below, "rows left out of a --below query: their versions cannot be ordered against the bound");
    }
    Ok(out)
}

/// Whether a host's patch summary passes the fleet view's filters. The "pending longer
/// than" filters are the alert rules themselves ([`Rule::evaluate`]).
fn keep_patch_row(r: &pb::ListPatchesRequest, h: &pb::HostPatchSummary, now: i64) -> bool {
    if r.security_only && h.security == 0 {
        return false;
    }
    if r.reboot_required_only && !h.reboot_required {
        return false;
    }
    if r.security_pending_for_seconds > 0
        && (Rule::SecurityUpdatePending {
            for_secs: r.security_pending_for_seconds,
        })
        .evaluate(h, now)
        .is_none()
    {
        return false;
    }
    if r.reboot_required_for_seconds > 0
        && (Rule::RebootRequired {
            for_secs: r.reboot_required_for_seconds,
        })
        .evaluate(h, now)
        .is_none()
    {
        return false;
    }
    r.include_up_to_date || h.pending > 0 || h.reboot_required || h.restart_units > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(host: &str, source: &str, version: &str) -> pb::SoftwareMatch {
        pb::SoftwareMatch {
            host_id: host.into(),
            name: "openssl".into(),
            source: source.into(),
            version: version.into(),
            ..Default::default()
        }
    }

    #[test]
    fn one_odd_host_does_not_fail_the_fleet_query() {
        let rows = vec![
            row("a", "deb", "3.0.11-1~deb12u2"),
            row("b", "rpm", "3.0.7-27.el9"),
            row("c", "deb", "not a version!"),
            row("d", "deb", "3.0.15-1~deb12u1"),
            row("e", "msi", "3.0.1"),
            row("f", "rpm", "1:3.0.1-1.el9"),
        ];
        let kept = filter_below(rows, "3.0.15-1~deb12u1").unwrap();
        let hosts: Vec<&str> = kept.iter().map(|r| r.host_id.as_str()).collect();
        // b in rpm order (3.0.7 < 3.0.15); f's epoch puts it above; c and e cannot be
        // ordered and are left out rather than failing the query.
        assert_eq!(hosts, vec!["a", "b"]);
    }

    #[test]
    fn a_bound_no_format_parses_is_refused() {
        let e = filter_below(vec![row("a", "deb", "1.0")], "1.0 beta").unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(e.message().contains("1.0 beta"), "{}", e.message());
    }
}
