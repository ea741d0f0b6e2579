//! The `wardctl` command line: global flags (where the collector is, which credentials,
//! which output format) and one subcommand per question.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::connect::{DEFAULT_COLLECTOR, DEFAULT_DATA_DIR};
use super::output::Format;

/// Asks a Ward collector about the fleet.
#[derive(Debug, Parser)]
#[command(name = "wardctl", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Collector address, https://HOST:PORT.
    #[arg(long, env = "WARD_COLLECTOR", default_value = DEFAULT_COLLECTOR, global = true)]
    pub collector: String,
    /// The collector's data directory; the admin credentials are read from its pki/.
    #[arg(long, env = "WARD_DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
    pub data_dir: PathBuf,
    /// CA certificate (PEM) to trust instead of DATA_DIR/pki/ca.crt.
    #[arg(long, value_name = "FILE", global = true)]
    pub ca: Option<PathBuf>,
    /// Admin certificate (PEM) instead of DATA_DIR/pki/admin.crt.
    #[arg(long, value_name = "FILE", requires = "key", global = true)]
    pub cert: Option<PathBuf>,
    /// Admin private key (PEM, PKCS#8) instead of DATA_DIR/pki/admin.key.
    #[arg(long, value_name = "FILE", requires = "cert", global = true)]
    pub key: Option<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table, global = true)]
    pub output: Format,
    /// How long to wait for the collector (connecting, and each request).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, global = true)]
    pub timeout: Duration,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lists hosts, optionally filtered.
    Hosts(HostsArgs),
    /// Shows one host: system, hardware, packages.
    Host(HostArgs),
    /// Finds which hosts have a package, optionally below a version.
    Software(SoftwareArgs),
    /// Shows which hosts miss patches, riskiest first; with a host, its pending updates.
    Patches(PatchesArgs),
    /// Manages enrolment tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Lists alerts (open and acknowledged unless --status says otherwise); `alerts watch`
    /// streams them as they happen.
    Alerts(AlertsArgs),
    /// Shows one alert with its history; `alert ack ID` and `alert resolve ID` act on it.
    Alert(AlertArgs),
    /// Manages silences (maintenance windows): alerts they match are recorded, marked
    /// silenced.
    #[command(subcommand)]
    Silence(SilenceCommand),
}

/// Which alerts `wardctl alerts` lists, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFilter {
    Open,
    Acknowledged,
    Resolved,
    All,
}

/// `wardctl alerts`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub watch: Option<AlertsCommand>,
    /// Only alerts in this status [default: open and acknowledged].
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<StatusFilter>,
    /// Only these severities (info, low, medium, high, critical; comma-separated or
    /// repeated).
    #[arg(long, value_name = "SEVERITY", value_delimiter = ',', value_parser = parse_severity)]
    pub severity: Vec<String>,
    /// Only alerts of this host (id, or hostname glob).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Only alerts of rules matching this glob ("posture.*").
    #[arg(long, value_name = "RULE")]
    pub rule: Option<String>,
    /// Only alerts seen within this long ("1h", "7d") or since this time (RFC 3339).
    #[arg(long, value_name = "DURATION|TIME", value_parser = parse_since)]
    pub since: Option<Since>,
    /// Show at most N alerts.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// `wardctl alerts watch`.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Streams alert events as they happen, reconnecting (and resuming) when the
    /// connection drops, until interrupted.
    Watch(WatchArgs),
}

/// `wardctl alerts watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Resume after this event id (printed with each event), missing nothing.
    #[arg(long, value_name = "EVENT_ID", value_parser = clap::value_parser!(i64).range(0..))]
    pub after: Option<i64>,
    /// Replay every past event first.
    #[arg(long, conflicts_with = "after")]
    pub from_start: bool,
    /// Stop after N events (for scripts and tests).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

/// `wardctl alert`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AlertArgs {
    #[command(subcommand)]
    pub action: Option<AlertAction>,
    /// The alert's id.
    #[arg(value_name = "ID", required = true)]
    pub id: Option<i64>,
}

/// `wardctl alert ack|resolve`.
#[derive(Debug, Subcommand)]
pub enum AlertAction {
    /// Acknowledges an open alert: someone is on it.
    Ack(AlertNoteArgs),
    /// Resolves an alert by hand (it reopens if its condition returns).
    Resolve(AlertNoteArgs),
}

/// The id and note of `alert ack|resolve`.
#[derive(Debug, Args)]
pub struct AlertNoteArgs {
    /// The alert's id.
    #[arg(value_name = "ID")]
    pub id: i64,
    /// Why, recorded in the alert's history.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub note: String,
}

/// `wardctl silence ...`.
#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Creates a silence.
    Create(SilenceCreateArgs),
    /// Lists silences in force (and with --all, those that ended).
    List(SilenceListArgs),
    /// Ends a silence now.
    Expire(SilenceExpireArgs),
}

/// `wardctl silence create`.
#[derive(Debug, Args)]
pub struct SilenceCreateArgs {
    /// Rule id glob ("posture.*") [default: every rule].
    #[arg(long, value_name = "GLOB")]
    pub rule: Option<String>,
    /// Hostname glob or host id [default: every host].
    #[arg(long, value_name = "GLOB")]
    pub host: Option<String>,
    /// Subject glob ("tcp/*:8080 *") [default: every subject].
    #[arg(long, value_name = "GLOB")]
    pub subject: Option<String>,
    /// How long from now (or from --start) it lasts ("2h").
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, required_unless_present = "end")]
    pub duration: Option<Duration>,
    /// When it ends (RFC 3339), instead of --duration.
    #[arg(long, value_name = "TIME", value_parser = parse_time, conflicts_with = "duration")]
    pub end: Option<i64>,
    /// When it starts (RFC 3339) [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub start: Option<i64>,
    /// Why (the change, the ticket).
    #[arg(long, value_name = "TEXT")]
    pub comment: String,
}

/// `wardctl silence list`.
#[derive(Debug, Args)]
pub struct SilenceListArgs {
    /// Also silences that have ended.
    #[arg(long)]
    pub all: bool,
}

/// `wardctl silence expire`.
#[derive(Debug, Args)]
pub struct SilenceExpireArgs {
    /// The silence's id.
    #[arg(value_name = "ID")]
    pub id: String,
}

/// A lower bound on when an alert was last seen: a window back from now, or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Window(Duration),
    Time(i64),
}

impl Since {
    /// The bound in Unix seconds at `now`.
    pub fn at(self, now: i64) -> i64 {
        match self {
            Since::Window(d) => now.saturating_sub(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            Since::Time(t) => t,
        }
    }
}

fn parse_since(text: &str) -> Result<Since, String> {
    if let Ok(t) = parse_time(text) {
        return Ok(Since::Time(t));
    }
    parse_duration(text)
        .map(Since::Window)
        .map_err(|e| format!("{e}, or a time such as 2026-12-01T00:00:00Z"))
}

/// Parses an RFC 3339 time ("2026-12-08T14:00:00Z") into Unix seconds.
pub fn parse_time(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp())
        .map_err(|e| format!("{e}; expected a time such as 2026-12-08T14:00:00Z"))
}

fn parse_severity(text: &str) -> Result<String, String> {
    text.parse::<crate::store::alerts::Severity>()
        .map(|s| s.as_str().to_owned())
}

/// `wardctl hosts`.
#[derive(Debug, Args)]
pub struct HostsArgs {
    /// Only hostnames matching this shell glob ("web-*").
    #[arg(long, value_name = "GLOB")]
    pub hostname: Option<String>,
    /// Only hosts with this os-release ID ("debian").
    #[arg(long, value_name = "ID")]
    pub os: Option<String>,
    /// Only hosts seen within this long ("15m", "2h").
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub seen_within: Option<Duration>,
    /// Only hosts NOT seen for at least this long ("1d").
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub offline_for: Option<Duration>,
    /// Show at most N hosts.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// `wardctl host`.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// Host id, or exact hostname.
    #[arg(value_name = "ID|HOSTNAME")]
    pub host: String,
}

/// `wardctl software`.
#[derive(Debug, Args)]
pub struct SoftwareArgs {
    /// Package name, or a glob ("openssl*").
    #[arg(value_name = "NAME|GLOB")]
    pub name: String,
    /// Only versions strictly below VERSION, in each package format's own ordering.
    #[arg(long, value_name = "VERSION")]
    pub below: Option<String>,
    /// Include packages that are not fully installed (config-files, half-installed, ...).
    #[arg(long)]
    pub all_states: bool,
}

/// `wardctl patches`.
#[derive(Debug, Args)]
pub struct PatchesArgs {
    /// Show this host's pending updates (host id, or exact hostname).
    #[arg(
        value_name = "ID|HOSTNAME",
        conflicts_with_all = ["hostname", "os", "security", "security_for", "reboot", "reboot_for", "all"]
    )]
    pub host: Option<String>,
    /// Only hostnames matching this shell glob ("web-*").
    #[arg(long, value_name = "GLOB")]
    pub hostname: Option<String>,
    /// Only hosts with this os-release ID ("debian").
    #[arg(long, value_name = "ID")]
    pub os: Option<String>,
    /// Only hosts with a security update pending.
    #[arg(long)]
    pub security: bool,
    /// Only hosts where a security update has been pending at least this long ("7d").
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub security_for: Option<Duration>,
    /// Only hosts that need a reboot.
    #[arg(long)]
    pub reboot: bool,
    /// Only hosts that have needed a reboot at least this long ("3d").
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub reboot_for: Option<Duration>,
    /// Also list hosts with nothing pending.
    #[arg(long)]
    pub all: bool,
}

/// `wardctl token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates an enrolment token and prints how an agent uses it.
    Create(TokenCreateArgs),
}

/// `wardctl token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// How many agents may enrol with the token [collector default: 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub uses: Option<u32>,
    /// How long the token stays valid ("30m", "1h", "7d") [collector default: 1h].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub ttl: Option<Duration>,
    /// Free text recorded with the token (who or what it is for).
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
}

/// Parses a human duration ("90s", "15m", "1h 30m", "7d") of at least one second.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("{e}; expected a duration such as 30s, 15m, 2h or 7d"))?;
    if duration < Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("wardctl").chain(args.iter().copied()))
    }

    #[test]
    fn alert_commands_parse() {
        let cli = parse(&[
            "alerts",
            "--status",
            "all",
            "--severity",
            "high,critical",
            "--since",
            "2h",
        ])
        .unwrap();
        let Command::Alerts(a) = cli.command else {
            panic!("expected alerts")
        };
        assert_eq!(a.status, Some(StatusFilter::All));
        assert_eq!(a.severity, ["high", "critical"]);
        assert_eq!(a.since, Some(Since::Window(Duration::from_secs(7200))));
        assert!(a.watch.is_none());
        let cli = parse(&["alerts", "watch", "--after", "42"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Alerts(AlertsArgs {
                watch: Some(AlertsCommand::Watch(WatchArgs {
                    after: Some(42),
                    ..
                })),
                ..
            })
        ));
        assert!(parse(&["alerts", "--severity", "urgent"]).is_err());
        let cli = parse(&["alert", "12"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Alert(AlertArgs {
                id: Some(12),
                action: None
            })
        ));
        let cli = parse(&["alert", "ack", "12", "--note", "on it"]).unwrap();
        let Command::Alert(AlertArgs {
            action: Some(AlertAction::Ack(n)),
            ..
        }) = cli.command
        else {
            panic!("expected ack")
        };
        assert_eq!((n.id, n.note.as_str()), (12, "on it"));
        assert!(parse(&["alert"]).is_err());
        let cli = parse(&[
            "silence",
            "create",
            "--host",
            "web-*",
            "--duration",
            "2h",
            "--comment",
            "upgrade",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Silence(SilenceCommand::Create(_))
        ));
        assert!(parse(&["silence", "create", "--comment", "x"]).is_err());
        let cli = parse(&["alerts", "--since", "2026-12-01T00:00:00Z"]).unwrap();
        let Command::Alerts(a) = cli.command else {
            panic!("expected alerts")
        };
        assert_eq!(a.since, Some(Since::Time(1_796_083_200)));
    }

    #[test]
    fn patches_parses_a_host_or_filters_but_not_both() {
        let cli = parse(&[
            "patches",
            "--security-for",
            "7d",
            "--reboot",
            "--os",
            "debian",
        ])
        .unwrap();
        let Command::Patches(p) = cli.command else {
            panic!("expected patches")
        };
        assert_eq!(p.security_for, Some(Duration::from_secs(7 * 86_400)));
        assert!(p.reboot && !p.security && p.host.is_none());
        let cli = parse(&["patches", "web-1"]).unwrap();
        assert!(
            matches!(cli.command, Command::Patches(PatchesArgs { host: Some(ref h), .. }) if h == "web-1")
        );
        let err = parse(&["patches", "web-1", "--security"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_apply_without_environment() {
        let cli = parse(&["hosts"]).unwrap();
        // The defaults only hold when the environment does not override them.
        if std::env::var_os("WARD_COLLECTOR").is_none() {
            assert_eq!(cli.global.collector, "https://127.0.0.1:7443");
        }
        if std::env::var_os("WARD_DATA_DIR").is_none() {
            assert_eq!(cli.global.data_dir, PathBuf::from("ward-data"));
        }
        assert_eq!(cli.global.output, Format::Table);
        assert_eq!(cli.global.timeout, Duration::from_secs(10));
        assert!(cli.global.ca.is_none() && cli.global.cert.is_none() && cli.global.key.is_none());
        let Command::Hosts(hosts) = cli.command else {
            panic!("expected hosts")
        };
        assert!(hosts.hostname.is_none() && hosts.limit.is_none() && hosts.seen_within.is_none());
    }

    #[test]
    fn global_flags_go_before_or_after_the_subcommand() {
        let before = parse(&["--output", "json", "--collector", "https://c:1", "hosts"]).unwrap();
        let after = parse(&["hosts", "--output", "json", "--collector", "https://c:1"]).unwrap();
        for cli in [before, after] {
            assert_eq!(cli.global.output, Format::Json);
            assert_eq!(cli.global.collector, "https://c:1");
        }
        let cli = parse(&["token", "create", "-o", "csv", "--timeout", "1m"]).unwrap();
        assert_eq!(cli.global.output, Format::Csv);
        assert_eq!(cli.global.timeout, Duration::from_secs(60));
    }

    #[test]
    fn hosts_filters_parse() {
        let cli = parse(&[
            "hosts",
            "--hostname",
            "web-*",
            "--os",
            "debian",
            "--seen-within",
            "15m",
            "--offline-for",
            "1d",
            "--limit",
            "20",
        ])
        .unwrap();
        let Command::Hosts(h) = cli.command else {
            panic!("expected hosts")
        };
        assert_eq!(h.hostname.as_deref(), Some("web-*"));
        assert_eq!(h.os.as_deref(), Some("debian"));
        assert_eq!(h.seen_within, Some(Duration::from_secs(900)));
        assert_eq!(h.offline_for, Some(Duration::from_secs(86_400)));
        assert_eq!(h.limit, Some(20));
    }

    #[test]
    fn host_software_and_token_parse() {
        let cli = parse(&["host", "web-1"]).unwrap();
        assert!(matches!(cli.command, Command::Host(HostArgs { ref host }) if host == "web-1"));

        let cli = parse(&[
            "software",
            "openssl*",
            "--below",
            "3.0.13-1~deb12u1",
            "--all-states",
        ])
        .unwrap();
        let Command::Software(s) = cli.command else {
            panic!("expected software")
        };
        assert_eq!(s.name, "openssl*");
        assert_eq!(s.below.as_deref(), Some("3.0.13-1~deb12u1"));
        assert!(s.all_states);

        let cli = parse(&[
            "token", "create", "--uses", "5", "--ttl", "2h", "--label", "rack 4",
        ])
        .unwrap();
        let Command::Token(TokenCommand::Create(t)) = cli.command else {
            panic!("expected token")
        };
        assert_eq!(t.uses, Some(5));
        assert_eq!(t.ttl, Some(Duration::from_secs(7200)));
        assert_eq!(t.label.as_deref(), Some("rack 4"));
    }

    #[test]
    fn credential_overrides_come_in_pairs() {
        let cli = parse(&[
            "--ca", "ca.pem", "--cert", "a.crt", "--key", "a.key", "hosts",
        ])
        .unwrap();
        assert_eq!(cli.global.cert, Some(PathBuf::from("a.crt")));
        assert_eq!(
            parse(&["--cert", "a.crt", "hosts"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            parse(&["--key", "a.key", "hosts"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["hosts", "--limit", "0"][..],
            &["hosts", "--seen-within", "soon"],
            &["hosts", "--seen-within", "10ms"],
            &["token", "create", "--uses", "0"],
            &["hosts", "--output", "yaml"],
            &["host"],
            &["software"],
            &["token"],
            &[],
        ] {
            assert!(parse(args).is_err(), "{args:?} should not parse");
        }
    }

    #[test]
    fn durations_name_the_expected_shape() {
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(
            parse_duration("tomorrow")
                .unwrap_err()
                .contains("expected a duration")
        );
        assert_eq!(parse_duration("0s"), Err("must be at least 1s".into()));
    }
}
