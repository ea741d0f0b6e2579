//! Reaching the collector: the admin credentials (CA, certificate, key) from the data
//! directory or explicit files, and a gRPC channel over mutual TLS.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity, Uri};

/// Collector address used when neither `--collector` nor `WARD_COLLECTOR` is given.
pub const DEFAULT_COLLECTOR: &str = "https://127.0.0.1:7443";
/// Data directory used when neither `--data-dir` nor `WARD_DATA_DIR` is given.
pub const DEFAULT_DATA_DIR: &str = "ward-data";

/// TLS alerts a server sends when it rejects the client's certificate.
const CERTIFICATE_ALERTS: &[rustls::AlertDescription] = &[
    rustls::AlertDescription::BadCertificate,
    rustls::AlertDescription::UnsupportedCertificate,
    rustls::AlertDescription::CertificateRevoked,
    rustls::AlertDescription::CertificateExpired,
    rustls::AlertDescription::CertificateUnknown,
    rustls::AlertDescription::UnknownCA,
    rustls::AlertDescription::AccessDenied,
    rustls::AlertDescription::CertificateRequired,
];

/// Why wardctl could not set up a connection.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid collector address {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("no {what} at {}: {hint}", path.display())]
    Missing {
        what: &'static str,
        path: PathBuf,
        hint: &'static str,
    },
    #[error("failed to read {what} at {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid {what} at {}: {reason}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("invalid CA certificate: {0}")]
    Fingerprint(String),
    #[error("failed to set up TLS to the collector at {url}: {source}")]
    Tls {
        url: String,
        source: tonic::transport::Error,
    },
    #[error("cannot reach the collector at {url}: {cause}; is `ward-collector serve` running?")]
    Unreachable { url: String, cause: String },
    #[error(
        "the collector at {url} presented a certificate wardctl does not trust ({cause}); check that {} is this collector's CA (--data-dir or --ca) and that its certificate names the host in --collector",
        ca.display()
    )]
    ServerNotTrusted {
        url: String,
        ca: PathBuf,
        cause: String,
    },
    #[error("{}", refused_message(url, cause))]
    Refused { url: String, cause: String },
}

/// What a TLS failure found among an error's causes says about the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// wardctl rejected the collector's certificate (another CA, or another name).
    ServerNotTrusted(String),
    /// The collector rejected the admin certificate.
    ClientRefused(String),
}

/// Where the admin credentials are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialPaths {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Whether the certificate and key were named explicitly (`--cert`/`--key`).
    explicit_identity: bool,
    /// Whether the CA was named explicitly (`--ca`).
    explicit_ca: bool,
}

/// The admin credentials, read and checked.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub paths: CredentialPaths,
    /// The CA certificate the collector's certificate must chain to, PEM.
    pub ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

/// A collector address, checked: `https://HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address as given.
    pub url: String,
    uri: Uri,
    /// The host the server certificate must name (IPv6 without brackets).
    pub host: String,
}

impl CredentialPaths {
    /// Resolves the credential files: explicit files win, the rest come from
    /// `DATA_DIR/pki/{ca.crt,admin.crt,admin.key}`.
    pub fn resolve(
        data_dir: &Path,
        ca: Option<&Path>,
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Self {
        let pki = data_dir.join("pki");
        Self {
            ca: ca.map_or_else(|| pki.join("ca.crt"), Path::to_path_buf),
            cert: cert.map_or_else(|| pki.join("admin.crt"), Path::to_path_buf),
            key: key.map_or_else(|| pki.join("admin.key"), Path::to_path_buf),
            explicit_identity: cert.is_some() || key.is_some(),
            explicit_ca: ca.is_some(),
        }
    }

    /// Reads and checks the three files.
    pub fn load(&self) -> Result<Credentials, Error> {
        let identity_hint = if self.explicit_identity {
            "check the --cert/--key paths"
        } else {
            "pass --data-dir pointing at the collector's data directory, or --cert/--key"
        };
        let ca_hint = if self.explicit_ca {
            "check the --ca path"
        } else {
            "pass --data-dir pointing at the collector's data directory, or --ca"
        };
        let cert_pem = read("admin credentials", &self.cert, identity_hint)?;
        let key_pem = read("admin credentials", &self.key, identity_hint)?;
        let ca_pem = read("collector CA certificate", &self.ca, ca_hint)?;
        // rustls silently skips CA certificates it cannot parse, and tonic reports bad
        // identities only at connection time: check here to name the file.
        check_certificate("collector CA certificate", &self.ca, &ca_pem)?;
        check_certificate("admin certificate", &self.cert, &cert_pem)?;
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| Error::Pem {
            what: "admin private key",
            path: self.key.clone(),
            reason: format!("{e}; expected a PEM private key (PKCS#8)"),
        })?;
        Ok(Credentials {
            paths: self.clone(),
            ca_pem,
            cert_pem,
            key_pem,
        })
    }
}

impl Credentials {
    /// Returns the CA fingerprint agents pin (see [`ca_fingerprint`]).
    pub fn ca_fingerprint(&self) -> Result<String, Error> {
        ca_fingerprint(&self.ca_pem)
    }
}

impl Target {
    /// Checks a collector address: https, a host, no path.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::Url {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e| bad(&format!("{e}; expected https://HOST:PORT")))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some(_) => return Err(bad("wardctl only speaks TLS; use https://HOST:PORT")),
            None => return Err(bad("no scheme; use https://HOST:PORT")),
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host"))?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad(
                "a collector address has no path; use https://HOST:PORT",
            ));
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Self {
            url: url.to_string(),
            uri,
            host,
        })
    }

    /// Returns whether the host is a loopback address or `localhost`, which other machines
    /// cannot use to reach the collector.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// Opens a channel to the collector with mutual TLS: the server must present a
/// certificate for the target's host issued by the CA, and wardctl presents the admin
/// certificate. `timeout` bounds the connection and each request.
pub async fn connect(
    target: &Target,
    credentials: &Credentials,
    timeout: Duration,
) -> Result<Channel, Error> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&credentials.ca_pem))
        .identity(Identity::from_pem(
            &credentials.cert_pem,
            &credentials.key_pem,
        ))
        .domain_name(target.host.clone());
    let endpoint = Channel::builder(target.uri.clone())
        .tls_config(tls)
        .map_err(|source| Error::Tls {
            url: target.url.clone(),
            source,
        })?
        .connect_timeout(timeout)
        .timeout(timeout);
    endpoint.connect().await.map_err(|e| {
        let url = target.url.clone();
        match tls_failure(&e) {
            Some(TlsFailure::ServerNotTrusted(cause)) => Error::ServerNotTrusted {
                url,
                ca: credentials.paths.ca.clone(),
                cause,
            },
            Some(TlsFailure::ClientRefused(cause)) => Error::Refused { url, cause },
            None => Error::Unreachable {
                url,
                cause: super::describe(&e),
            },
        }
    })
}

/// Finds a TLS failure about certificates among an error's causes. With TLS 1.3 the
/// collector judges the client certificate after the handshake, so its refusal arrives
/// with the first request rather than at connection time: callers check both.
pub fn tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
    let mut next = Some(error);
    while let Some(cause) = next {
        // rustls errors travel inside io::Errors, whose source() skips the inner error.
        let inner = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        match cause
            .downcast_ref::<rustls::Error>()
            .or_else(|| inner?.downcast_ref())
        {
            Some(e @ rustls::Error::InvalidCertificate(_)) => {
                return Some(TlsFailure::ServerNotTrusted(e.to_string()));
            }
            Some(e @ rustls::Error::AlertReceived(alert)) if CERTIFICATE_ALERTS.contains(alert) => {
                return Some(TlsFailure::ClientRefused(e.to_string()));
            }
            _ => {}
        }
        // Once the connection is up, h2 passes on an alert as text only.
        if let Some(text) = inner.map(ToString::to_string) {
            let alert = CERTIFICATE_ALERTS
                .iter()
                .map(|a| rustls::Error::AlertReceived(*a).to_string())
                .find(|a| *a == text);
            if let Some(alert) = alert {
                return Some(TlsFailure::ClientRefused(alert));
            }
        }
        next = cause.source();
    }
    None
}

/// The message for a collector refusing the admin credentials, shared with the refusals
/// that arrive as gRPC statuses.
pub fn refused_message(url: &str, cause: &str) -> String {
    format!(
        "the collector at {url} refused the admin credentials ({cause}); pass --data-dir pointing at the collector's data directory, or --cert/--key with an admin certificate its CA issued"
    )
}

/// Returns the fingerprint agents pin for a CA certificate: `SHA256:` and the lowercase
/// hex (no colons) of the SHA-256 of the first certificate's DER.
pub fn ca_fingerprint(pem: &str) -> Result<String, Error> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| Error::Fingerprint(format!("{e}; expected a PEM certificate")))?;
    Ok(ward_proto::fingerprint::of_der(der.as_ref()))
}

fn read(what: &'static str, path: &Path, hint: &'static str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::Missing {
                what,
                path: path.to_path_buf(),
                hint,
            }
        } else {
            Error::Read {
                what,
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

fn check_certificate(what: &'static str, path: &Path, pem: &str) -> Result<(), Error> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map(drop)
        .map_err(|e| Error::Pem {
            what,
            path: path.to_path_buf(),
            reason: format!("{e}; expected a PEM certificate"),
        })
}

#[cfg(test)]
mod tests;
