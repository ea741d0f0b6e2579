//! `ward-collector`: serves the fleet (`serve`) or shows Ward end to end on this machine
//! (`quickstart`, when built with the `quickstart` feature, the default).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ward_collector::config::{self, Config};
use ward_collector::server;
use ward_runtime::{logging, shutdown};

/// Exit code for bad configuration or usage (EX_USAGE).
const EXIT_CONFIG: u8 = 64;

#[derive(Parser)]
#[command(
    name = "ward-collector",
    version,
    about = "Ward collector: keeps the fleet's inventory and answers wardctl"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves agents and admins over gRPC with mutual TLS.
    Serve {
        /// Configuration file (TOML).
        #[arg(long, value_name = "FILE", env = "WARD_CONFIG")]
        config: Option<PathBuf>,
        /// Data directory: CA, certificates, SQLite database (overrides the file).
        #[arg(long, value_name = "DIR", env = "WARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Address to listen on, ADDRESS:PORT (overrides the file).
        #[arg(long, value_name = "ADDR", env = "WARD_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Starts a collector on 127.0.0.1 and an agent for this machine, and shows the result.
    /// (Needs a build with the `quickstart` feature, the default.)
    Quickstart {
        /// Data directory.
        #[arg(long, value_name = "DIR", default_value = "ward-data")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7443")]
        listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init("info");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ward-collector: failed to start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ward-collector: {}", logging::describe(&e));
            if e.downcast_ref::<config::Error>().is_some()
                || e.downcast_ref::<NotBuiltIn>().is_some()
            {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            config,
            data_dir,
            listen,
        } => {
            let mut cfg = match &config {
                Some(path) => Config::load(path)?,
                None => Config::default(),
            };
            if let Some(d) = data_dir {
                cfg.data_dir = d;
            }
            if let Some(l) = listen {
                cfg.listen = l;
            }
            let running = server::start(&cfg, shutdown::signal()).await?;
            // Also on stdout, whatever the log filter: enrolling agents needs it.
            println!(
                "listening on {}, CA fingerprint {}",
                running.addr, running.fingerprint
            );
            running.task.await??;
            Ok(())
        }
        Command::Quickstart { data_dir, listen } => quickstart(data_dir, listen).await,
    }
}

/// A subcommand this build of the collector left out.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} is not in this build of ward-collector (built without the `{0}` feature); rebuild with `cargo build -p ward-collector --features {0}`"
)]
struct NotBuiltIn(&'static str);

#[cfg(feature = "quickstart")]
async fn quickstart(data_dir: PathBuf, listen: SocketAddr) -> anyhow::Result<()> {
    use ward_collector::quickstart::{Options, run};
    run(Options { data_dir, listen }).await
}

#[cfg(not(feature = "quickstart"))]
async fn quickstart(_data_dir: PathBuf, _listen: SocketAddr) -> anyhow::Result<()> {
    Err(NotBuiltIn("quickstart").into())
}
