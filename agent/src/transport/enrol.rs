//! Enrolment: the agent makes its own key pair, proves it holds an enrolment token, and
//! receives a client certificate bound to a host id the collector chose. The private key
//! never leaves the state directory.

use ward_proto::v1 as pb;

use super::identity::{self, Credentials, Identity, StateDir};
use super::{channel, pin};

/// Errors during enrolment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{0} is already enrolled; pass --force to replace its identity (the collector will see a new host)"
    )]
    AlreadyEnrolled(String),
    #[error("the enrolment token is empty; put the token from `wardctl token create` in the file")]
    EmptyToken,
    #[error(transparent)]
    Pin(#[from] pin::Error),
    #[error(transparent)]
    Channel(#[from] channel::Error),
    #[error(transparent)]
    State(#[from] identity::Error),
    #[error("failed to create a key pair or CSR: {0}")]
    Key(#[from] rcgen::Error),
    #[error("the collector refused the enrolment: {}", .0.message())]
    Refused(tonic::Status),
    #[error("the collector sent an invalid answer: {0}")]
    BadAnswer(&'static str),
}

/// What `enrol` needs.
#[derive(Debug, Clone)]
pub struct Options {
    pub collector: String,
    pub ca_fingerprint: String,
    pub token: String,
    pub hostname: String,
    pub force: bool,
}

/// Enrols the agent whose state lives in `state`, returning its new identity.
pub async fn enrol(state: &StateDir, opts: &Options) -> Result<Identity, Error> {
    if state.is_enrolled() && !opts.force {
        return Err(Error::AlreadyEnrolled(state.path().display().to_string()));
    }
    let token = opts.token.trim();
    if token.is_empty() {
        return Err(Error::EmptyToken);
    }
    let target = channel::parse_url(&opts.collector)?;
    let pin_bytes = pin::parse_fingerprint(&opts.ca_fingerprint)?;
    let ca_der = pin::fetch_pinned_ca(&target.host, target.port, pin_bytes).await?;
    let ca_pem = der_to_pem(&ca_der);

    let key = rcgen::KeyPair::generate()?;
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)?
        .pem()?;
    let channel = channel::connect(&target, &ca_pem, None).await?;
    let mut client = pb::agent_service_client::AgentServiceClient::new(channel);
    let resp = client
        .enroll(pb::EnrollRequest {
            token: token.to_string(),
            csr_pem: csr,
            hostname: opts.hostname.clone(),
            agent_version: env!("CARGO_PKG_VERSION").to_string(),
        })
        .await
        .map_err(Error::Refused)?
        .into_inner();
    if resp.host_id.is_empty() || !resp.certificate_pem.contains("BEGIN CERTIFICATE") {
        return Err(Error::BadAnswer("no host id or certificate"));
    }
    let identity = Identity {
        host_id: resp.host_id,
        collector: target.url.clone(),
        ca_fingerprint: ward_proto::fingerprint::of_der(&ca_der),
        enrolled_at: now(),
    };
    let creds = Credentials {
        ca_pem,
        cert_pem: resp.certificate_pem,
        key_pem: key.serialize_pem(),
    };
    // A new identity starts a new report history.
    super::state::ReportState::reset(state)?;
    state.store(&identity, &creds)?;
    Ok(identity)
}

fn der_to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_lines_are_64_wide() {
        let pem = der_to_pem(&[0u8; 100]);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
    }
}
