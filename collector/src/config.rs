//! The collector's configuration file (TOML), with command-line overrides applied by the
//! binary. Every key is optional.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::rules::Settings;

/// Default gRPC listen address.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:7443";
/// Default data directory of the service.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/ward-collector";

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config file {path}: {key} {problem}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        problem: String,
    },
    #[error("invalid config file {path}: {key} {problem}")]
    Rule {
        path: PathBuf,
        key: String,
        problem: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Directory for the CA, certificates and the SQLite database.
    data_dir: Option<PathBuf>,
    /// Address:port to listen on.
    listen: Option<String>,
    /// Extra DNS names or IP addresses agents use to reach this collector; they go into
    /// the server certificate (localhost, 127.0.0.1, ::1 and the hostname always do).
    #[serde(default)]
    server_names: Vec<String>,
    /// Lifetime of the client certificates issued to agents.
    #[serde(default, with = "humantime_serde::option")]
    agent_certificate_lifetime: Option<Duration>,
    /// Largest accepted gRPC message.
    max_message_bytes: Option<usize>,
    /// Concurrent requests per connection.
    concurrency_per_connection: Option<usize>,
    /// Per-request time limit.
    #[serde(default, with = "humantime_serde::option")]
    request_timeout: Option<Duration>,
    /// The alert engine.
    #[serde(default)]
    alerts: RawAlerts,
    /// `[rules.<id>]`: each rule's settings (see `rules::settings`).
    #[serde(default)]
    rules: toml::Table,
}

/// `[alerts]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    /// How often the rules that depend on time (offline hosts, overdue patches, expiring
    /// certificates, cloned machines) and silences that start or end are evaluated.
    #[serde(default, with = "humantime_serde::option")]
    evaluate_interval: Option<Duration>,
}

/// Validated collector configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub server_names: Vec<String>,
    pub agent_certificate_lifetime: Duration,
    pub max_message_bytes: usize,
    pub concurrency_per_connection: usize,
    pub request_timeout: Duration,
    /// How often the timed rules run.
    pub alert_interval: Duration,
    /// Each rule's settings.
    pub rules: Settings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            listen: SocketAddr::from(([0, 0, 0, 0], 7443)),
            server_names: Vec::new(),
            agent_certificate_lifetime: Duration::from_secs(365 * 86400),
            max_message_bytes: 32 << 20,
            concurrency_per_connection: 32,
            request_timeout: Duration::from_secs(60),
            alert_interval: Duration::from_secs(30),
            rules: Settings::default(),
        }
    }
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.into(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses and validates configuration text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| Error::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
        let d = Config::default();
        let invalid = |key, problem: String| Error::Invalid {
            path: path.into(),
            key,
            problem,
        };
        let listen = match raw.listen {
            Some(s) => s.parse().map_err(|_| {
                invalid(
                    "listen",
                    format!("must be ADDRESS:PORT like {DEFAULT_LISTEN}, not {s:?}"),
                )
            })?,
            None => d.listen,
        };
        let lifetime = raw
            .agent_certificate_lifetime
            .unwrap_or(d.agent_certificate_lifetime);
        if lifetime < Duration::from_secs(3600) || lifetime > Duration::from_secs(10 * 365 * 86400)
        {
            return Err(invalid(
                "agent_certificate_lifetime",
                "must be between 1h and 10 years".into(),
            ));
        }
        let max_message_bytes = raw.max_message_bytes.unwrap_or(d.max_message_bytes);
        if max_message_bytes < 1 << 20 {
            return Err(invalid(
                "max_message_bytes",
                "must be at least 1048576".into(),
            ));
        }
        let concurrency = raw
            .concurrency_per_connection
            .unwrap_or(d.concurrency_per_connection);
        if concurrency == 0 {
            return Err(invalid(
                "concurrency_per_connection",
                "must be at least 1".into(),
            ));
        }
        for name in &raw.server_names {
            if name.trim().is_empty()
                || name.contains(['/', ' ', ':']) && name.parse::<std::net::IpAddr>().is_err()
            {
                return Err(invalid(
                    "server_names",
                    format!("holds {name:?}, which is not a DNS name or IP address"),
                ));
            }
        }
        let request_timeout = raw.request_timeout.unwrap_or(d.request_timeout);
        if request_timeout < Duration::from_secs(1) {
            return Err(invalid("request_timeout", "must be at least 1s".into()));
        }
        let alert_interval = raw.alerts.evaluate_interval.unwrap_or(d.alert_interval);
        if alert_interval < Duration::from_secs(1) || alert_interval > Duration::from_secs(3600) {
            return Err(invalid(
                "alerts.evaluate_interval",
                "must be between 1s and 1h".into(),
            ));
        }
        let rules = Settings::parse(&raw.rules).map_err(|(key, problem)| Error::Rule {
            path: path.into(),
            key,
            problem,
        })?;
        Ok(Self {
            alert_interval,
            rules,
            data_dir: raw.data_dir.unwrap_or(d.data_dir),
            listen,
            server_names: raw.server_names,
            agent_certificate_lifetime: lifetime,
            max_message_bytes,
            concurrency_per_connection: concurrency,
            request_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(
            Config::parse(Path::new("c.toml"), "").unwrap(),
            Config::default()
        );
        let c = Config::parse(
            Path::new("c.toml"),
            "listen = \"127.0.0.1:9000\"\nserver_names = [\"ward.example.org\", \"10.0.0.5\"]\nagent_certificate_lifetime = \"90days\"",
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(
            c.agent_certificate_lifetime,
            Duration::from_secs(90 * 86400)
        );
    }

    #[test]
    fn errors_name_file_and_key() {
        let e = Config::parse(Path::new("c.toml"), "listen = \"nope\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.toml") && e.contains("listen"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "lisen = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");
        let e = Config::parse(
            Path::new("c.toml"),
            "agent_certificate_lifetime = \"100000years\"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("agent_certificate_lifetime"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "request_timeout = \"0s\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("request_timeout"), "{e}");
        let e = Config::parse(
            Path::new("c.toml"),
            "[rules.\"host.offline\"]\nthreshold = \"soon\"",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("c.toml") && e.contains("rules.host.offline"),
            "{e}"
        );
        let e = Config::parse(Path::new("c.toml"), "[alerts]\nevaluate_interval = \"0s\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("alerts.evaluate_interval"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "server_names = [\"a b\"]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("server_names"), "{e}");
    }
}
