//! How the service gathers what it reports: the inventory (os, hardware, software) and the
//! patch state, as one [`Snapshot`]; and the posture section ([`Collect::posture`]), read
//! on its own, more often.
//!
//! The service (`ward-agent run`) does not read package databases itself: it runs the
//! `ward-agent-collect` program beside it ([`Child`]), which reads them, prints the
//! snapshot as protobuf and exits. The long-lived process then holds neither the parsers'
//! code nor what reading apt's lists or an rpm database needed: its idle RSS stays under
//! the 10 MiB budget (docs/benchmarks.md), and a parser that crashes on a file written by
//! a package mirror takes down a process that lives for a fraction of a second, not the
//! service. Library users and `ward-collector quickstart` collect in their own process
//! ([`InProcess`]).
//!
//! The snapshot is protobuf whose fields are only ever added, so a service and a helper
//! of different versions (during an upgrade, before the service restarts) still
//! understand each other.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use prost::Message;
use ward_proto::v1 as pb;

use crate::inventory::{self, Inventory};
use crate::patches;

/// The program, installed beside `ward-agent`, that collects for the service.
pub const HELPER: &str = "ward-agent-collect";

/// What one report is made from.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub inventory: Inventory,
    /// The patch state, or why it could not be read: the report then leaves the section
    /// out and the collector keeps the last one it holds.
    pub patches: Result<pb::Patches, String>,
}

/// What [`Collect::collect`] returns: a snapshot, or a message for the log.
pub type Collecting<'a> = Pin<Box<dyn Future<Output = Result<Snapshot, String>> + Send + 'a>>;

/// What [`Collect::posture`] returns: the posture section, or a message for the log.
pub type Reading<'a> = Pin<Box<dyn Future<Output = Result<pb::Posture, String>> + Send + 'a>>;

/// A way to gather a [`Snapshot`] and the posture section of the system mounted at a root.
pub trait Collect: Send + Sync {
    /// Collects; an error is a message for the log (the inventory could not be read).
    fn collect<'a>(&'a self, root: &'a Path) -> Collecting<'a>;

    /// Reads the posture section, in canonical order; an error is a message for the log
    /// (a reader that failed is only named in the section's `errors`).
    fn posture<'a>(&'a self, root: &'a Path) -> Reading<'a>;
}

/// Collects in the calling process (it takes milliseconds: done in place, not on a
/// blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

impl Collect for InProcess {
    fn collect<'a>(&'a self, root: &'a Path) -> Collecting<'a> {
        Box::pin(std::future::ready(
            snapshot(root).map_err(|e| e.to_string()),
        ))
    }

    fn posture<'a>(&'a self, root: &'a Path) -> Reading<'a> {
        // Each reader is guarded (a failure or panic is named in `errors`): no error here.
        Box::pin(std::future::ready(Ok(crate::posture::collect(root))))
    }
}

/// Reads the inventory and the patch state of `root`, with the patch metadata cache in
/// its default place (see [`patches::default_cache_dir`]).
///
/// A panic while reading the patch state (a parser bug on some package list) costs the
/// patches section only: it becomes the section's error, and the inventory still goes.
pub fn snapshot(root: &Path) -> Result<Snapshot, inventory::Error> {
    let inventory = inventory::collect(root)?;
    let cache_dir = patches::default_cache_dir(root);
    let patches = std::panic::catch_unwind(|| {
        patches::collect_with_cache(root, cache_dir.as_deref()).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!(
            "reading the patch state failed on a bug ({what}); please report it with the \
             output of `ward-agent patches`"
        ))
    });
    Ok(Snapshot { inventory, patches })
}

/// A snapshot as `ward-agent-collect snapshot` prints it on stdout (internal to one
/// installed version of the agent; not part of the collector protocol).
#[derive(Clone, PartialEq, Message)]
struct Encoded {
    #[prost(message, optional, tag = "1")]
    os: Option<pb::OsInfo>,
    #[prost(message, optional, tag = "2")]
    hardware: Option<pb::Hardware>,
    #[prost(message, optional, tag = "3")]
    software: Option<pb::Software>,
    #[prost(message, optional, tag = "4")]
    patches: Option<pb::Patches>,
    #[prost(string, tag = "5")]
    patches_error: String,
}

impl Snapshot {
    /// The bytes `ward-agent-collect snapshot` writes.
    pub fn encode(&self) -> Vec<u8> {
        let (patches, patches_error) = match &self.patches {
            Ok(p) => (Some(p.clone()), String::new()),
            Err(e) => (None, e.clone()),
        };
        Encoded {
            os: Some(self.inventory.os.clone()),
            hardware: Some(self.inventory.hardware.clone()),
            software: Some(self.inventory.software.clone()),
            patches,
            patches_error,
        }
        .encode_to_vec()
    }

    /// Reads what [`Snapshot::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let e = Encoded::decode(bytes).map_err(|e| format!("not a snapshot: {e}"))?;
        let (Some(os), Some(hardware), Some(software)) = (e.os, e.hardware, e.software) else {
            return Err("not a snapshot: the inventory is missing".to_owned());
        };
        let patches = match e.patches {
            Some(p) => Ok(p),
            None if e.patches_error.is_empty() => Err("no patch state".to_owned()),
            None => Err(e.patches_error),
        };
        Ok(Self {
            inventory: Inventory {
                os,
                hardware,
                software,
            },
            patches,
        })
    }
}

/// Collects with `ward-agent-collect snapshot` in a child process, killed if it takes
/// longer than its timeout (a hung read must not stop the service's heartbeats for good).
#[derive(Debug, Clone)]
pub struct Child {
    program: PathBuf,
    timeout: Duration,
}

/// The helper program is not where it must be.
#[derive(Debug, thiserror::Error)]
#[error(
    "{HELPER} not found at {}: it does the reading for ward-agent; install it in the same \
     directory as ward-agent (see the README's install steps), or name its path in \
     {HELPER_ENV}",
    .0.display()
)]
pub struct HelperMissing(pub PathBuf);

impl Child {
    /// How long a collection may take by default: a first read of large RPM repository
    /// metadata takes seconds, an apt machine's well under one.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

    /// Runs `program` (a `ward-agent-collect`).
    pub fn new(program: PathBuf) -> Self {
        Self {
            program,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Kills the child and fails the collection after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The helper at [`helper_path`], which must exist.
    pub fn beside_current_exe() -> Result<Self, HelperMissing> {
        let program = helper_path();
        if program.is_absolute() && program.is_file() {
            Ok(Self::new(program))
        } else {
            Err(HelperMissing(program))
        }
    }

    /// The program this runs.
    pub fn program(&self) -> &Path {
        &self.program
    }
}

/// Names the helper's path instead of looking beside the running program (for packages
/// that install it elsewhere, such as `/usr/libexec/ward/`).
pub const HELPER_ENV: &str = "WARD_AGENT_COLLECT";

/// Where the helper is expected: `$WARD_AGENT_COLLECT` when set, else beside the running
/// program (`ward-agent-collect` next to `ward-agent`, symbolic links resolved), else
/// (the running program cannot be found) just its name, which is then never run.
pub fn helper_path() -> PathBuf {
    if let Some(path) = std::env::var_os(HELPER_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let name = format!("{HELPER}{}", std::env::consts::EXE_SUFFIX);
    match std::env::current_exe() {
        Ok(exe) => exe.with_file_name(name),
        // A bare name, which `beside_current_exe` refuses rather than let the process
        // search find some other program of that name.
        Err(_) => PathBuf::from(name),
    }
}

impl Collect for Child {
    fn collect<'a>(&'a self, root: &'a Path) -> Collecting<'a> {
        Box::pin(self.run(root))
    }

    fn posture<'a>(&'a self, root: &'a Path) -> Reading<'a> {
        Box::pin(Child::posture(self, root))
    }
}

impl Child {
    /// Reads the posture section with `ward-agent-collect posture --proto` in a child
    /// process, with the same timeout and log handling as a snapshot. The section comes
    /// canonicalized (`ward_proto::digest::canonicalize_posture`); a reader that failed
    /// is named in its `errors`.
    pub async fn posture(&self, root: &Path) -> Result<pb::Posture, String> {
        let out = self
            .run_helper(&["posture".as_ref(), "--proto".as_ref()], root)
            .await?;
        pb::Posture::decode(out.as_slice()).map_err(|e| {
            format!(
                "{} printed something that is not a posture section: {e}",
                self.program.display()
            )
        })
    }

    async fn run(&self, root: &Path) -> Result<Snapshot, String> {
        let out = self.run_helper(&["snapshot".as_ref()], root).await?;
        Snapshot::decode(&out).map_err(|e| format!("{} printed {e}", self.program.display()))
    }

    /// Runs the helper with `args` and `--root ROOT`; its stdout, once it exited with
    /// success. Its stderr lines go to the log as warnings.
    async fn run_helper(&self, args: &[&std::ffi::OsStr], root: &Path) -> Result<Vec<u8>, String> {
        let program = self.program.display();
        let child = tokio::process::Command::new(&self.program)
            .args(args)
            .arg("--root")
            .arg(root)
            // The child's warnings reach the service's log through its stderr, below:
            // plain lines, at the operator's level or else warnings only.
            .env(
                "WARD_LOG",
                std::env::var_os("WARD_LOG").unwrap_or_else(|| "warn".into()),
            )
            .env_remove("WARD_LOG_FORMAT")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            // Dropped on timeout (or when the service stops mid-report): killed.
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        let out = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(out) => out.map_err(|e| format!("lost {program}: {e}"))?,
            Err(_) => {
                return Err(format!(
                    "{program} took longer than {} and was stopped",
                    humantime::format_duration(self.timeout)
                ));
            }
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!(
                "{program} failed ({}): {}",
                out.status,
                truncated(stderr.trim(), MAX_LOG_LINE)
            ));
        }
        for line in stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(MAX_LOG_LINES)
        {
            tracing::warn!(helper = HELPER, "{}", truncated(line.trim(), MAX_LOG_LINE));
        }
        Ok(out.stdout)
    }
}

/// At most this many of the helper's log lines are passed on per collection.
const MAX_LOG_LINES: usize = 50;
/// Longest helper message passed on, in bytes.
const MAX_LOG_LINE: usize = 2000;

/// `s` cut to at most `max` bytes at a character boundary.
fn truncated(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            inventory: Inventory {
                os: pb::OsInfo {
                    os_id: "debian".into(),
                    ..Default::default()
                },
                hardware: pb::Hardware::default(),
                software: pb::Software {
                    packages: vec![pb::Package {
                        name: "bash".into(),
                        ..Default::default()
                    }],
                },
            },
            patches: Ok(pb::Patches {
                reboot_required: true,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn snapshot_round_trips() {
        let s = sample();
        let back = Snapshot::decode(&s.encode()).unwrap();
        assert_eq!(back.inventory.os.os_id, "debian");
        assert_eq!(back.inventory.software.packages[0].name, "bash");
        assert!(back.patches.unwrap().reboot_required);

        let mut failed = sample();
        failed.patches = Err("apt lists unreadable".into());
        let back = Snapshot::decode(&failed.encode()).unwrap();
        assert_eq!(back.patches.unwrap_err(), "apt lists unreadable");
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(Snapshot::decode(b"\xff\xff\xff").is_err());
        // Valid protobuf with no inventory in it (an empty message).
        let e = Snapshot::decode(b"").unwrap_err();
        assert!(e.contains("inventory is missing"), "{e}");
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        assert_eq!(truncated("short", 10), "short");
        assert_eq!(truncated("ééé", 3), "é");
        assert_eq!(truncated("abcdef", 4), "abcd");
    }

    #[test]
    fn a_missing_helper_names_itself_and_the_fix() {
        let e = HelperMissing(PathBuf::from("/opt/ward/ward-agent-collect"));
        let text = e.to_string();
        assert!(text.contains("/opt/ward/ward-agent-collect"), "{text}");
        assert!(text.contains("same directory as ward-agent"), "{text}");
    }
}
