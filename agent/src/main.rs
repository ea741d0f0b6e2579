//! `ward-agent`: the service (`run`), enrolment (`enroll`) and one-shot local commands.
//! What reads the system (`inventory`, `patches`, `posture`, `integrity`, and the collection behind
//! each report) is in `ward-agent-collect`, run beside this program (see
//! `ward_agent::collect`).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ward_agent::collect::{self, Child};
use ward_agent::config::{self, Config};
use ward_agent::transport::enrol;
use ward_agent::transport::identity::StateDir;
use ward_agent::{cli, service};
use ward_runtime::{logging, shutdown};

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
    Inventory(cli::InventoryArgs),
    /// Prints this machine's patch state (pending updates, reboot, kernels, restarts);
    /// needs no collector.
    Patches(cli::PatchesArgs),
    /// Prints this machine's security posture (listening sockets, administrators, SSH
    /// keys and settings, firewall, disk encryption, automatic updates, kernel); needs no
    /// collector.
    Posture(cli::PostureArgs),
    /// File integrity: `scan PATH...` hashes and lists what is under each path; needs no
    /// collector.
    Integrity(cli::IntegrityArgs),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The helper sets up its own logging for the commands handed to it.
    if !matches!(
        cli.command,
        Command::Inventory(_) | Command::Patches(_) | Command::Posture(_) | Command::Integrity(_)
    ) {
        logging::init("info");
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ward-agent: {}", logging::describe(&e));
            if e.downcast_ref::<config::Error>().is_some()
                || e.downcast_ref::<collect::HelperMissing>().is_some()
            {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        // Checked by the parser above, run by the helper with the same arguments.
        Command::Inventory(_)
        | Command::Patches(_)
        | Command::Posture(_)
        | Command::Integrity(_) => hand_to_helper(),
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
                // The system is read by the helper in a child process, so the service
                // keeps neither the parsers nor what reading package lists needed.
                let helper = Child::beside_current_exe()?.with_timeout(cfg.collect_timeout);
                let mut agent = service::Agent::load(cfg, Box::new(helper))?;
                if once {
                    let summary = agent.report_once().await?;
                    println!("{}", serde_json::to_string(&summary)?);
                    return Ok(());
                }
                agent.run(shutdown::signal()).await?;
                Ok(())
            })
        }
    }
}

/// Runs `ward-agent-collect` with this program's arguments, in place of this process
/// where the platform can, and exits with its status.
fn hand_to_helper() -> anyhow::Result<()> {
    let program = Child::beside_current_exe()?.program().to_owned();
    let mut command = std::process::Command::new(&program);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = command.exec();
        Err(anyhow::Error::new(e).context(format!("cannot run {}", program.display())))
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .with_context(|| format!("cannot run {}", program.display()))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // One thread is plenty for one connection, and every extra thread costs the agent
    // its own malloc arena and stack; the system is read by the helper, in a child.
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
