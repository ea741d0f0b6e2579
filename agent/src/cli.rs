//! The one-shot local commands that need no collector: `inventory`, `patches`,
//! `posture` and `integrity scan`. Their
//! arguments are parsed by `ward-agent` (which then hands the command to
//! `ward-agent-collect`, unchanged) and run by `ward-agent-collect`.

use std::path::PathBuf;

use crate::config;
use crate::transport::identity::StateDir;
use crate::{integrity, inventory, patches, posture};

/// `inventory`: prints this machine's inventory (os, hardware, software).
#[derive(Debug, Clone, clap::Args)]
pub struct InventoryArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Inspect the system mounted at DIR instead of this one.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
}

/// `patches`: prints this machine's patch state.
#[derive(Debug, Clone, clap::Args)]
pub struct PatchesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Inspect the system mounted at DIR instead of this one.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Keep what the package lists yielded in DIR, so unchanged lists are not read again
    /// (default: /var/cache/ward-agent when --root is /).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Read every package list, using no cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Show since when each update has been pending, from the running agent's state
    /// directory (read, never written; absent or unreadable shows no times).
    #[arg(long, value_name = "DIR", default_value = config::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
}

/// `posture`: prints this machine's security posture.
#[derive(Debug, Clone, clap::Args)]
pub struct PostureArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Inspect the system mounted at DIR instead of this one (the firewall is then not
    /// read: only the running system's loaded ruleset can be).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
}

/// `integrity`: file integrity commands.
#[derive(Debug, Clone, clap::Args)]
pub struct IntegrityArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: IntegrityCommand,
}

/// The `integrity` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum IntegrityCommand {
    /// Hashes (BLAKE3) and lists every file, directory and link under each PATH,
    /// recursively, without following symbolic links; what cannot be read is listed as an
    /// error.
    Scan(ScanArgs),
}

/// `integrity scan PATH... [--json]`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan (relative ones against the current directory).
    // Not `required`: a missing PATH is reported by [`integrity`] as [`Usage`], exit 64.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A command was run without something it needs; the programs exit with 64 (EX_USAGE).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub &'static str);

/// Runs `integrity`: for `scan`, prints what is under the paths; the scan is a success
/// even when some of it could not be read (those are listed under errors).
pub fn integrity(args: IntegrityArgs) -> anyhow::Result<()> {
    match args.command {
        IntegrityCommand::Scan(args) => {
            if args.paths.is_empty() {
                return Err(Usage(
                    "integrity scan needs at least one PATH; usage: ward-agent integrity scan PATH... [--json]",
                )
                .into());
            }
            let scan = integrity::scan(&args.paths);
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&integrity::to_json(&scan))?
                );
            } else {
                print!("{}", integrity::render_table(&scan));
            }
            Ok(())
        }
    }
}

/// Runs `inventory`.
pub fn inventory(args: InventoryArgs) -> anyhow::Result<()> {
    let inv = inventory::collect(&args.root)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&inventory::to_json(&inv))?
        );
    } else {
        print!("{}", inventory::render_table(&inv));
    }
    Ok(())
}

/// Runs `patches`.
pub fn patches(args: PatchesArgs) -> anyhow::Result<()> {
    let cache_dir = match (args.cache_dir, args.no_cache) {
        (_, true) => None,
        (Some(dir), false) => Some(dir),
        (None, false) => patches::default_cache_dir(&args.root),
    };
    let mut report = patches::collect_with_cache(&args.root, cache_dir.as_deref())?;
    let state = StateDir::new(&args.state_dir);
    if state.file(patches::exposure::FILE).is_file() {
        patches::exposure::Seen::load(&state).stamp(&mut report, patches::exposure::unix_now());
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&patches::to_json(&report))?
        );
    } else {
        print!("{}", patches::render_table(&report));
    }
    Ok(())
}

/// Runs `posture`.
pub fn posture(args: PostureArgs) -> anyhow::Result<()> {
    let report = posture::collect_checked(&args.root)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&posture::to_json(&report))?
        );
    } else {
        print!("{}", posture::render_table(&report));
    }
    Ok(())
}
