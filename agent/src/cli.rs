//! The one-shot local commands that need no collector: `inventory`, `patches` and
//! `posture`. Their
//! arguments are parsed by `ward-agent` (which then hands the command to
//! `ward-agent-collect`, unchanged) and run by `ward-agent-collect`.

use std::path::PathBuf;

use crate::config;
use crate::transport::identity::StateDir;
use crate::{inventory, patches, posture};

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
