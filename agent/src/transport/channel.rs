//! The gRPC channel to the collector, over TLS that pins the collector's CA and, once
//! enrolled, presents the agent's client certificate.

use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Uri};

use super::identity::Credentials;

/// Errors building or opening the channel.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid collector URL {url:?}: {problem}; expected https://HOST:PORT")]
    Url { url: String, problem: String },
    #[error("cannot reach the collector at {url}: {source}")]
    Connect {
        url: String,
        source: tonic::transport::Error,
    },
}

/// A parsed collector address.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub host: String,
    pub port: u16,
}

/// Parses and checks a collector URL.
pub fn parse_url(url: &str) -> Result<Target, Error> {
    let bad = |problem: &str| Error::Url {
        url: url.to_string(),
        problem: problem.to_string(),
    };
    let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
    if uri.scheme_str() != Some("https") {
        return Err(bad("the scheme must be https"));
    }
    let host = uri.host().ok_or_else(|| bad("no host"))?.to_string();
    let port = uri.port_u16().unwrap_or(443);
    Ok(Target {
        url: url.trim_end_matches('/').to_string(),
        host,
        port,
    })
}

/// Opens a channel to `target` trusting only `ca_pem`, presenting `creds` when given.
pub async fn connect(
    target: &Target,
    ca_pem: &str,
    creds: Option<&Credentials>,
) -> Result<Channel, Error> {
    let connect_err = |source| Error::Connect {
        url: target.url.clone(),
        source,
    };
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name(target.host.trim_start_matches('[').trim_end_matches(']'));
    if let Some(c) = creds {
        tls = tls.identity(Identity::from_pem(&c.cert_pem, &c.key_pem));
    }
    let endpoint = Endpoint::from_shared(target.url.clone())
        .map_err(|e| Error::Url {
            url: target.url.clone(),
            problem: e.to_string(),
        })?
        .tls_config(tls)
        .map_err(connect_err)?
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .http2_keep_alive_interval(Duration::from_secs(120))
        .keep_alive_while_idle(false);
    endpoint.connect().await.map_err(connect_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        let t = parse_url("https://collector.example.org:7443/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("collector.example.org", 7443));
        assert_eq!(parse_url("https://c.example.org").unwrap().port, 443);
        assert!(parse_url("http://c:1").is_err());
        assert!(parse_url("c:1").is_err());
    }
}
