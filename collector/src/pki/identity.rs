//! What a peer's client certificate proves. The collector's CA is the only issuer the
//! TLS layer accepts, and it writes the role into the subject's organizational unit and
//! the host id into the common name, so both are as trustworthy as the CA key.

use x509_parser::prelude::{FromDer, X509Certificate};

/// Organizational unit of agent certificates.
pub const AGENT_OU: &str = "ward-agent";
/// Organizational unit of admin certificates.
pub const ADMIN_OU: &str = "ward-admin";
/// Organizational unit of the collector's server certificate.
pub const SERVER_OU: &str = "ward-collector";

/// An authenticated peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// An enrolled agent, with its host id and certificate serial (lowercase hex).
    Agent { host_id: String, serial: String },
    /// An administrator.
    Admin { name: String },
}

/// Why a certificate does not identify a peer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("client certificate is not valid DER")]
    Malformed,
    #[error("client certificate has no common name")]
    NoCommonName,
    #[error("client certificate has role {0:?}, which may not call this service")]
    UnknownRole(String),
}

/// Returns the peer a DER client certificate (already verified against the CA) names.
pub fn identify(der: &[u8]) -> Result<Peer, Error> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| Error::Malformed)?;
    let subject = cert.subject();
    let cn = subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .ok_or(Error::NoCommonName)?
        .to_string();
    let ou = subject
        .iter_organizational_unit()
        .next()
        .and_then(|a| a.as_str().ok())
        .unwrap_or_default();
    match ou {
        AGENT_OU => Ok(Peer::Agent {
            host_id: cn,
            serial: hex::encode(cert.raw_serial()),
        }),
        ADMIN_OU => Ok(Peer::Admin { name: cn }),
        other => Err(Error::UnknownRole(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::ca::{Authority, files, pem_to_der};

    #[test]
    fn agent_and_admin_certificates_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, _) =
            Authority::load_or_create(dir.path(), &[], std::time::Duration::from_secs(3600))
                .unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let csr = rcgen::CertificateParams::default()
            .serialize_request(&key)
            .unwrap();
        let issued = ca.issue_agent(&csr.pem().unwrap(), "host-123").unwrap();
        let der = pem_to_der(&issued.certificate_pem).unwrap();
        match identify(&der).unwrap() {
            Peer::Agent { host_id, serial } => {
                assert_eq!(host_id, "host-123");
                assert_eq!(serial, issued.serial);
            }
            other => panic!("expected an agent, got {other:?}"),
        }
        let admin = std::fs::read_to_string(dir.path().join(files::ADMIN_CERT)).unwrap();
        assert_eq!(
            identify(&pem_to_der(&admin).unwrap()).unwrap(),
            Peer::Admin {
                name: "admin".into()
            }
        );
        let server = std::fs::read_to_string(dir.path().join(files::SERVER_CERT)).unwrap();
        assert!(matches!(
            identify(&pem_to_der(&server).unwrap()),
            Err(Error::UnknownRole(_))
        ));
        assert!(matches!(identify(b"junk"), Err(Error::Malformed)));
    }
}
