//! `ward-agent-collect`: reads the system for `ward-agent`. It runs the one-shot
//! `inventory`, `patches`, `posture` and `integrity scan` commands that `ward-agent` hands to it,
//! `snapshot`, which the service runs before each report, and `posture --proto`, which
//! prints the posture section as protobuf for the service (see `ward_agent::collect`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ward_agent::{cli, collect};
use ward_runtime::logging;

/// Exit code for bad usage (EX_USAGE), as `ward-agent` uses.
const EXIT_USAGE: u8 = 64;

#[derive(Parser)]
#[command(
    name = "ward-agent-collect",
    version,
    about = "Reads this machine's inventory and patch state for ward-agent"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints this machine's inventory (os, hardware, software).
    Inventory(cli::InventoryArgs),
    /// Prints this machine's patch state (pending updates, reboot, kernels, restarts).
    Patches(cli::PatchesArgs),
    /// Prints this machine's security posture.
    Posture {
        #[command(flatten)]
        args: cli::PostureArgs,
        /// Write the posture section as protobuf on stdout, for `ward-agent run`.
        #[arg(long, hide = true, conflicts_with = "json")]
        proto: bool,
    },
    /// File integrity: `scan PATH...` hashes and lists what is under each path.
    Integrity(cli::IntegrityArgs),
    /// Writes the inventory and patch state as protobuf on stdout, for `ward-agent run`.
    #[command(hide = true)]
    Snapshot {
        /// Inspect the system mounted at DIR instead of this one.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init("info");
    let result = match cli.command {
        Command::Inventory(args) => cli::inventory(args),
        Command::Patches(args) => cli::patches(args),
        Command::Posture { args, proto: false } => cli::posture(args),
        Command::Posture { args, proto: true } => posture_proto(&args.root),
        Command::Snapshot { root } => snapshot(&root),
        Command::Integrity(args) => cli::integrity(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ward-agent: {}", logging::describe(&e));
            if e.downcast_ref::<cli::Usage>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn snapshot(root: &std::path::Path) -> anyhow::Result<()> {
    let snapshot = collect::snapshot(root)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&snapshot.encode())?;
    out.flush()?;
    Ok(())
}

fn posture_proto(root: &std::path::Path) -> anyhow::Result<()> {
    use prost::Message;
    let posture = ward_agent::posture::collect_checked(root)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&posture.encode_to_vec())?;
    out.flush()?;
    Ok(())
}
