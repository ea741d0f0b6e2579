//! `ward.v1.AgentService`: enrolment, reports and heartbeats.

use tonic::{Request, Response, Status};
use ward_proto::v1 as pb;

use super::{Shared, auth, now, status};
use crate::pki::token;
use crate::store::{NewHost, Report};

/// Largest CSR accepted (a P-256 or RSA-4096 request is under 2 KiB).
const MAX_CSR_BYTES: usize = 16 * 1024;

/// The agent service.
pub struct AgentApi {
    shared: Shared,
}

impl AgentApi {
    /// Creates the service.
    pub fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

#[tonic::async_trait]
impl pb::agent_service_server::AgentService for AgentApi {
    async fn enroll(
        &self,
        req: Request<pb::EnrollRequest>,
    ) -> Result<Response<pb::EnrollResponse>, Status> {
        let r = req.into_inner();
        if r.token.trim().is_empty() {
            return Err(Status::invalid_argument("enrolment token is empty"));
        }
        // Enrol is the one RPC open to anyone: bound what it parses and signs.
        if r.token.len() > 256 || r.csr_pem.len() > MAX_CSR_BYTES {
            return Err(Status::invalid_argument(format!(
                "enrolment request too large (token at most 256 bytes, CSR at most {MAX_CSR_BYTES} bytes)"
            )));
        }
        if r.hostname.chars().any(char::is_control) {
            return Err(Status::invalid_argument(
                "hostname: control characters are not allowed",
            ));
        }
        let token_hash = token::hash(&r.token);
        // Refuse a bad token before parsing and signing anything.
        self.shared
            .store
            .check_token(&token_hash, now())
            .await
            .map_err(status::from_store)?;
        let host_id = uuid::Uuid::new_v4().to_string();
        let issued = self
            .shared
            .authority
            .issue_agent(&r.csr_pem, &host_id)
            .map_err(status::from_issue)?;
        let hostname: String = r.hostname.chars().take(253).collect();
        let host = NewHost {
            id: host_id.clone(),
            hostname: hostname.clone(),
            cert_serial: issued.serial,
            cert_not_after: issued.not_after,
            agent_version: r.agent_version.chars().take(64).collect(),
            enrolled_at: now(),
        };
        // The certificate is worthless until this commits: authentication looks the
        // host up, so a refused token leaves nothing usable behind.
        self.shared
            .store
            .enroll(&token_hash, host)
            .await
            .map_err(|e| {
                tracing::warn!(hostname = %hostname, error = %e, "enrolment refused");
                status::from_store(e)
            })?;
        tracing::info!(host = %host_id, hostname = %hostname, "host enrolled");
        Ok(Response::new(pb::EnrollResponse {
            host_id,
            certificate_pem: issued.certificate_pem,
            ca_chain_pem: self.shared.authority.ca_pem().to_string(),
        }))
    }

    async fn report(
        &self,
        req: Request<pb::ReportRequest>,
    ) -> Result<Response<pb::ReportResponse>, Status> {
        let host = auth::agent(&req)?.host_id;
        let report = Report::try_from(req.into_inner()).map_err(status::from_convert)?;
        let sequence = report.sequence;
        let outcome = self
            .shared
            .pipeline
            .report(&host, report, now())
            .await
            .map_err(status::from_pipeline)?;
        let resend: Vec<&str> = outcome
            .sections
            .iter()
            .filter(|s| s.send_full)
            .map(|s| s.section.as_str_name())
            .collect();
        tracing::info!(host = %host, sequence, duplicate = outcome.duplicate, send_full = ?resend, "report applied");
        Ok(Response::new(pb::ReportResponse {
            applied_sequence: outcome.applied_sequence,
            duplicate: outcome.duplicate,
            sections: outcome
                .sections
                .into_iter()
                .map(|s| pb::SectionAck {
                    section: s.section as i32,
                    hash: s.hash.map(|h| h.to_vec()).unwrap_or_default(),
                    send_full: s.send_full,
                })
                .collect(),
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        let host = auth::agent(&req)?.host_id;
        let r = req.into_inner();
        let version: String = r.agent_version.chars().take(64).collect();
        let held = self
            .shared
            .pipeline
            .heartbeat(&host, &version, now())
            .await
            .map_err(status::from_pipeline)?;
        // Sections the agent believes acknowledged but the collector does not hold (a
        // restored backup, say) must come again in full.
        let send_full = r
            .sections
            .iter()
            // Sections this collector does not know (a newer agent's) are never asked for:
            // it could not hold them, and the agent would resend them at every heartbeat.
            .filter(|claimed| {
                crate::store::SECTIONS
                    .iter()
                    .any(|s| *s as i32 == claimed.section)
            })
            .filter(|claimed| {
                !held.iter().any(|(s, h)| {
                    *s as i32 == claimed.section && h.as_slice() == claimed.hash.as_slice()
                })
            })
            .map(|s| s.section)
            .collect();
        Ok(Response::new(pb::HeartbeatResponse { send_full }))
    }
}
