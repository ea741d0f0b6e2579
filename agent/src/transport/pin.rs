//! Trust on first use, made safe by a pinned fingerprint: before enrolment the agent has no
//! CA certificate, only the `SHA256:<hex>` fingerprint the admin gave it. It opens one TLS
//! connection, accepts the server only if the presented chain contains a certificate with
//! that fingerprint and the server certificate verifies against it, and keeps that CA.

use std::sync::{Arc, Mutex};

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use ward_proto::fingerprint;

/// Errors while fetching the pinned CA.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "invalid CA fingerprint {0:?}: expected SHA256: followed by 64 hex digits, as printed by ward-collector serve"
    )]
    BadFingerprint(String),
    #[error("cannot connect to the collector at {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error(
        "the collector at {addr} did not present a CA with fingerprint {fingerprint}; check the fingerprint, or you may be talking to another server"
    )]
    NotPinned { addr: String, fingerprint: String },
    #[error(
        "the collector at {addr} presented the pinned CA, but its certificate is not valid for {host}: {reason}; add {host} to server_names in the collector's configuration, or use a name it has"
    )]
    WrongName {
        addr: String,
        host: String,
        reason: String,
    },
    #[error("TLS set-up failed: {0}")]
    Tls(#[from] rustls::Error),
}

/// Parses `SHA256:<hex>` (colons between hex pairs allowed) into the digest bytes.
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], Error> {
    fingerprint::parse(s).ok_or_else(|| Error::BadFingerprint(s.to_string()))
}

/// Connects to `host:port` and returns the DER of the CA certificate whose SHA-256 is
/// `pin`, after checking that the server's certificate chains to it for `server_name`.
pub async fn fetch_pinned_ca(host: &str, port: u16, pin: [u8; 32]) -> Result<Vec<u8>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinVerifier {
        pin,
        provider: provider.clone(),
        found: Mutex::new(None),
        rejected: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let addr = format!("{host}:{port}");
    let tcp = TcpStream::connect(&addr)
        .await
        .map_err(|source| Error::Connect {
            addr: addr.clone(),
            source,
        })?;
    let name = ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .map_err(|_| {
        Error::Tls(rustls::Error::General(format!(
            "invalid server name {host}"
        )))
    })?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = connector.connect(name, tcp).await;
    let found = verifier.found.lock().ok().and_then(|mut f| f.take());
    if let Some(reason) = verifier.rejected.lock().ok().and_then(|mut r| r.take()) {
        return Err(Error::WrongName {
            addr,
            host: host.to_string(),
            reason,
        });
    }
    match (handshake, found) {
        (Ok(_), Some(ca)) => Ok(ca),
        (Err(e), _) if e.kind() != std::io::ErrorKind::InvalidData => {
            Err(Error::Connect { addr, source: e })
        }
        _ => Err(Error::NotPinned {
            addr,
            fingerprint: format!("SHA256:{}", hex::encode(pin)),
        }),
    }
}

#[derive(Debug)]
struct PinVerifier {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
    found: Mutex<Option<Vec<u8>>>,
    /// Set when the pinned CA was presented but the server certificate did not verify.
    rejected: Mutex<Option<String>>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let ca = intermediates
            .iter()
            .find(|c| fingerprint::digest(c.as_ref()) == self.pin)
            .ok_or_else(|| {
                rustls::Error::General("no certificate matches the pinned fingerprint".into())
            })?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone().into_owned())?;
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        let verified = inner
            .verify_server_cert(end_entity, &[], server_name, ocsp_response, now)
            .inspect_err(|e| {
                if let Ok(mut r) = self.rejected.lock() {
                    *r = Some(e.to_string());
                }
            })?;
        if let Ok(mut f) = self.found.lock() {
            *f = Some(ca.as_ref().to_vec());
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_with_and_without_colons() {
        let hex64 = "ab".repeat(32);
        assert_eq!(
            parse_fingerprint(&format!("SHA256:{hex64}")).unwrap(),
            [0xab; 32]
        );
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(
            parse_fingerprint(&format!("SHA256:{colons}")).unwrap(),
            [0xab; 32]
        );
        assert!(parse_fingerprint(&hex64).is_err());
        assert!(parse_fingerprint("SHA256:abcd").is_err());
        assert!(parse_fingerprint("SHA256:zz").is_err());
    }
}
