//! `ward-agent`: the service (`run`), enrolment (`enroll`) and one-shot local commands.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ward_agent::config::{self, Config};
use ward_agent::transport::enrol;
use ward_agent::transport::identity::StateDir;
use ward_agent::{inventory, logging, patches, service};

/// Exit code for bad configuration or usage (EX_USAGE).
const EXIT_CONFIG: u8 = 64;

#[derive(Parser)]
#[command(
    name = "ward-agent",
    version,
    about = "Ward endpoint agent: inventory, patches and integrity, reported to a Ward collector"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints this machine's inventory (os, hardware, software); needs no collector.
    Inventory {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Inspect the system mounted at DIR instead of this one.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
    },
    /// Prints this machine's patch state (pending updates, reboot, kernels, restarts);
    /// needs no collector.
    Patches {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Inspect the system mounted at DIR instead of this one.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
        /// Keep what the apt lists yielded in DIR, so unchanged lists are not read again
        /// (default: /var/cache/ward-agent when --root is /).
        #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
        cache_dir: Option<PathBuf>,
        /// Read every apt list, using no cache.
        #[arg(long)]
        no_cache: bool,
        /// Show since when each update has been pending, from the running agent's state
        /// directory (read, never written; absent or unreadable shows no times).
        #[arg(long, value_name = "DIR", default_value = config::DEFAULT_STATE_DIR)]
        state_dir: PathBuf,
    },
    /// Enrols this machine with a collector, using a one-time token.
    Enroll {
        /// Collector address, https://HOST:PORT.
        #[arg(long, env = "WARD_COLLECTOR")]
        collector: String,
        /// The collector's CA fingerprint (SHA256:<hex>), as `ward-collector serve` prints it.
        #[arg(long, value_name = "SHA256:HEX")]
        ca_fingerprint: String,
        /// File holding the enrolment token; `-` or absent reads standard input.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Where the identity is kept.
        #[arg(long, value_name = "DIR", default_value = config::DEFAULT_STATE_DIR)]
        state_dir: PathBuf,
        /// Name to show until the first report (default: this machine's hostname).
        #[arg(long)]
        hostname: Option<String>,
        /// Replace an existing identity in the state directory.
        #[arg(long)]
        force: bool,
    },
    /// Runs the agent service: reports the inventory and keeps in touch with the collector.
    Run {
        /// Configuration file (TOML).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// State directory (overrides the configuration file).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Root of the system to inventory (overrides the configuration file).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Report once, print what was sent as JSON, and exit.
        #[arg(long)]
        once: bool,
    },
}

/// The current time in Unix seconds.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init("info");
    let _ = rustls::crypto::ring::default_provider().install_default();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ward-agent: {}", logging::describe(&e));
            if e.downcast_ref::<config::Error>().is_some() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Inventory { json, root } => {
            let inv = inventory::collect(&root)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&inventory::to_json(&inv))?
                );
            } else {
                print!("{}", inventory::render_table(&inv));
            }
            Ok(())
        }
        Command::Patches {
            json,
            root,
            cache_dir,
            no_cache,
            state_dir,
        } => {
            let cache_dir = match (cache_dir, no_cache) {
                (_, true) => None,
                (Some(dir), false) => Some(dir),
                (None, false) => patches::default_cache_dir(&root),
            };
            let mut report = patches::collect_with_cache(&root, cache_dir.as_deref())?;
            let state = StateDir::new(&state_dir);
            if state.file(patches::exposure::FILE).is_file() {
                let now = unix_now();
                patches::exposure::Seen::load(&state).stamp(&mut report, now);
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&patches::to_json(&report))?
                );
            } else {
                print!("{}", patches::render_table(&report));
            }
            Ok(())
        }
        Command::Enroll {
            collector,
            ca_fingerprint,
            token_file,
            state_dir,
            hostname,
            force,
        } => {
            let token = read_token(token_file.as_deref())?;
            let hostname = hostname.unwrap_or_else(local_hostname);
            let opts = enrol::Options {
                collector,
                ca_fingerprint,
                token,
                hostname,
                force,
            };
            let state = StateDir::new(&state_dir);
            let identity = runtime()?.block_on(enrol::enrol(&state, &opts))?;
            println!(
                "enrolled as host {} with {}",
                identity.host_id, identity.collector
            );
            println!("identity stored in {}", state_dir.display());
            Ok(())
        }
        Command::Run {
            config,
            state_dir,
            root,
            once,
        } => {
            let mut cfg = match &config {
                Some(path) => Config::load(path)?,
                None => Config::default(),
            };
            if let Some(d) = state_dir {
                cfg.state_dir = d;
            }
            if let Some(r) = root {
                cfg.root = r;
            }
            let rt = runtime()?;
            rt.block_on(async move {
                let mut agent = service::Agent::load(cfg)?;
                // The patch state is collected by this same program in a child process,
                // so the service does not keep what reading the package lists needed.
                match std::env::current_exe() {
                    Ok(program) => agent.set_patch_collector(program),
                    Err(e) => tracing::warn!(error = %e, "own program not found; patch state collected in process"),
                }
                if once {
                    let summary = agent.report_once().await?;
                    println!("{}", serde_json::to_string(&summary)?);
                    return Ok(());
                }
                agent.run(service::shutdown_signal()).await?;
                Ok(())
            })
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // One thread is plenty for one connection, and every extra thread costs the agent
    // its own malloc arena and stack; inventory runs on a short-lived blocking thread.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}

fn read_token(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    let mut token = String::new();
    match file {
        Some(p) if p != std::path::Path::new("-") => {
            token = std::fs::read_to_string(p)
                .with_context(|| format!("failed to read the token file {}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut token)
                .context("failed to read the token from standard input")?;
        }
    }
    Ok(token.trim().to_string())
}

fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
