//! The agent's configuration file (TOML). Every key is optional; the state directory
//! written by `ward-agent enroll` supplies the collector address and identity.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Default state directory of the service.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/ward-agent";

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
}

/// The configuration file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Where the identity and report state live.
    state_dir: Option<PathBuf>,
    /// Overrides the collector URL recorded at enrolment.
    collector: Option<String>,
    /// Root of the file system to inventory (a mounted image, a container root).
    root: Option<PathBuf>,
    /// How often the full inventory is collected and reported.
    #[serde(default, with = "humantime_serde::option")]
    inventory_interval: Option<Duration>,
    /// How often a heartbeat keeps last-seen current.
    #[serde(default, with = "humantime_serde::option")]
    heartbeat_interval: Option<Duration>,
    /// Fraction of the inventory interval used as random jitter (0.0 - 0.5).
    jitter: Option<f64>,
    /// How long `ward-agent-collect` may take to read the system before it is stopped.
    #[serde(default, with = "humantime_serde::option")]
    collect_timeout: Option<Duration>,
    /// The `[posture]` table.
    #[serde(default)]
    posture: RawPosture,
}

/// The `[posture]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPosture {
    /// Whether the posture section is read and reported.
    enabled: Option<bool>,
    /// How often the posture is read; a change is reported at once.
    #[serde(default, with = "humantime_serde::option")]
    interval: Option<Duration>,
}

/// Validated agent configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub state_dir: PathBuf,
    pub collector: Option<String>,
    pub root: PathBuf,
    pub inventory_interval: Duration,
    pub heartbeat_interval: Duration,
    pub jitter: f64,
    pub collect_timeout: Duration,
    pub posture: Posture,
}

/// How the posture section is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posture {
    /// Whether the posture section is read and reported.
    pub enabled: bool,
    /// How often it is read (at least [`Posture::MIN_INTERVAL`]); a changed posture is
    /// reported at once, on its own.
    pub interval: Duration,
}

impl Posture {
    /// The shortest posture interval accepted: reading it walks every process's file
    /// descriptors, cheap but not free.
    pub const MIN_INTERVAL: Duration = Duration::from_secs(10);
}

impl Default for Posture {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: Duration::from_secs(300),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            collector: None,
            root: PathBuf::from("/"),
            inventory_interval: Duration::from_secs(3600),
            heartbeat_interval: Duration::from_secs(60),
            jitter: 0.1,
            collect_timeout: Duration::from_secs(300),
            posture: Posture::default(),
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
        let invalid = |key, problem: &str| Error::Invalid {
            path: path.into(),
            key,
            problem: problem.into(),
        };
        let inventory_interval = raw.inventory_interval.unwrap_or(d.inventory_interval);
        if inventory_interval < Duration::from_secs(60) {
            return Err(invalid("inventory_interval", "must be at least 1m"));
        }
        let heartbeat_interval = raw.heartbeat_interval.unwrap_or(d.heartbeat_interval);
        if heartbeat_interval < Duration::from_secs(5) {
            return Err(invalid("heartbeat_interval", "must be at least 5s"));
        }
        let jitter = raw.jitter.unwrap_or(d.jitter);
        if !(0.0..=0.5).contains(&jitter) {
            return Err(invalid("jitter", "must be between 0.0 and 0.5"));
        }
        // Unset, it is the default but never longer than the interval.
        let collect_timeout = match raw.collect_timeout {
            None => d.collect_timeout.min(inventory_interval),
            Some(t) if t < Duration::from_secs(10) || t > inventory_interval => {
                return Err(invalid(
                    "collect_timeout",
                    "must be at least 10s and at most inventory_interval",
                ));
            }
            Some(t) => t,
        };
        let posture_interval = raw.posture.interval.unwrap_or(d.posture.interval);
        if posture_interval < Posture::MIN_INTERVAL {
            return Err(invalid(
                "posture.interval",
                "must be at least 10s (a duration such as \"5m\")",
            ));
        }
        if let Some(c) = &raw.collector
            && !c.starts_with("https://")
        {
            return Err(invalid("collector", "must be an https:// URL"));
        }
        Ok(Self {
            state_dir: raw.state_dir.unwrap_or(d.state_dir),
            collector: raw.collector,
            root: raw.root.unwrap_or(d.root),
            inventory_interval,
            heartbeat_interval,
            jitter,
            collect_timeout,
            posture: Posture {
                enabled: raw.posture.enabled.unwrap_or(d.posture.enabled),
                interval: posture_interval,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(
            Config::parse(Path::new("a.toml"), "").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn durations_are_human() {
        let c = Config::parse(
            Path::new("a.toml"),
            "inventory_interval = \"30m\"\nheartbeat_interval = \"15s\"",
        )
        .unwrap();
        assert_eq!(c.inventory_interval, Duration::from_secs(1800));
        assert_eq!(c.heartbeat_interval, Duration::from_secs(15));
        assert_eq!(c.collect_timeout, Duration::from_secs(300));
        let c = Config::parse(Path::new("a.toml"), "inventory_interval = \"2m\"").unwrap();
        assert_eq!(c.collect_timeout, Duration::from_secs(120));
        let c = Config::parse(Path::new("a.toml"), "collect_timeout = \"45s\"").unwrap();
        assert_eq!(c.collect_timeout, Duration::from_secs(45));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let e = Config::parse(Path::new("a.toml"), "colector = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("colector") && e.contains("a.toml"), "{e}");
        let e = Config::parse(Path::new("a.toml"), "jitter = 2.0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("jitter"), "{e}");
        for bad in ["collect_timeout = \"1s\"", "collect_timeout = \"2h\""] {
            let e = Config::parse(Path::new("a.toml"), bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("collect_timeout"), "{bad}: {e}");
        }
    }

    #[test]
    fn posture_table_has_defaults_a_floor_and_named_errors() {
        let c = Config::parse(Path::new("a.toml"), "").unwrap();
        assert_eq!(
            c.posture,
            Posture {
                enabled: true,
                interval: Duration::from_secs(300)
            }
        );
        let c = Config::parse(
            Path::new("a.toml"),
            "[posture]\ninterval = \"10s\"\nenabled = false\n",
        )
        .unwrap();
        assert_eq!(
            c.posture,
            Posture {
                enabled: false,
                interval: Duration::from_secs(10)
            }
        );
        let e = Config::parse(
            Path::new("/etc/ward/agent.toml"),
            "[posture]\ninterval = \"9s\"",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("/etc/ward/agent.toml")
                && e.contains("posture.interval")
                && e.contains("10s"),
            "{e}"
        );
        for bad in [
            "[posture]\ninterval = \"soon\"",
            "[posture]\nintervall = \"1m\"",
        ] {
            let e = Config::parse(Path::new("a.toml"), bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("a.toml") && e.contains("interval"), "{bad}: {e}");
        }
    }
}
