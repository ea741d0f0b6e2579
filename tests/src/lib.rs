//! Harness for Ward's end-to-end tests: builds the real binaries, starts a collector on an
//! ephemeral loopback port with a temporary data directory, enrols agents against fixture
//! roots, and runs `wardctl` exactly as an admin would.

pub mod fixture;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Returns the directory holding the workspace's binaries, building them first (once per
/// test process) so that a test never runs a stale binary.
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binaries().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_binaries() -> anyhow::Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> -> target/<profile>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("cannot find the target directory")?
        .to_path_buf();
    let release = dir.file_name().is_some_and(|n| n == "release");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .args(["-p", "ward-agent", "-p", "ward-collector", "--bins"]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().context("failed to run cargo build")?;
    if !status.success() {
        bail!("cargo build of the ward binaries failed");
    }
    Ok(dir)
}

/// Path of a built binary.
pub fn bin(name: &str) -> anyhow::Result<PathBuf> {
    Ok(bin_dir()?.join(name))
}

/// A collector process with its own data directory, killed on drop.
pub struct Collector {
    child: Child,
    pub data_dir: PathBuf,
    pub url: String,
    pub fingerprint: String,
    pub log: std::sync::Arc<Mutex<String>>,
    _tmp: Option<tempfile::TempDir>,
}

impl Collector {
    /// Starts a collector on 127.0.0.1:0 in a fresh temporary data directory.
    pub fn start() -> anyhow::Result<Self> {
        let tmp = tempfile::tempdir()?;
        let data_dir = tmp.path().join("collector");
        let mut c = Self::start_in(&data_dir, "127.0.0.1:0")?;
        c._tmp = Some(tmp);
        Ok(c)
    }

    /// Starts a collector on 127.0.0.1:0 in a fresh temporary data directory, with
    /// `config` (TOML: `[alerts]`, `[rules.<id>]`, ...) as its configuration file.
    pub fn start_with_config(config: &str) -> anyhow::Result<Self> {
        let tmp = tempfile::tempdir()?;
        let data_dir = tmp.path().join("collector");
        let file = tmp.path().join("collector.toml");
        std::fs::write(&file, config)?;
        let mut c = Self::spawn(&data_dir, "127.0.0.1:0", Some(&file))?;
        c._tmp = Some(tmp);
        Ok(c)
    }

    /// Starts a collector on `listen` with `data_dir`, waiting for its readiness line.
    pub fn start_in(data_dir: &Path, listen: &str) -> anyhow::Result<Self> {
        Self::spawn(data_dir, listen, None)
    }

    /// Starts a collector on `listen` with `data_dir` and the configuration file `config`.
    pub fn start_in_with_config(
        data_dir: &Path,
        listen: &str,
        config: &Path,
    ) -> anyhow::Result<Self> {
        Self::spawn(data_dir, listen, Some(config))
    }

    fn spawn(data_dir: &Path, listen: &str, config: Option<&Path>) -> anyhow::Result<Self> {
        let mut command = Command::new(bin("ward-collector")?);
        command.arg("serve");
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .args(["--listen", listen, "--data-dir"])
            .arg(data_dir)
            .env("WARD_LOG", "info")
            .env_remove("WARD_LOG_FORMAT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("failed to start ward-collector")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let log = std::sync::Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let re =
                regex::Regex::new(r"listening on (\S+), CA fingerprint (SHA256:[0-9a-f]{64})").ok();
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = log2.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
                if !sent && let Some(c) = re.as_ref().and_then(|re| re.captures(&line)) {
                    let _ = tx.send((c[1].to_string(), c[2].to_string()));
                    sent = true;
                }
            }
        });
        let (addr, fingerprint) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let log = log.lock().map(|l| l.clone()).unwrap_or_default();
                bail!("collector did not report readiness; its log:\n{log}");
            }
        };
        Ok(Self {
            child,
            data_dir: data_dir.to_path_buf(),
            url: format!("https://{addr}"),
            fingerprint,
            log,
            _tmp: None,
        })
    }

    /// Runs `wardctl` against this collector with the admin credentials; fails unless
    /// it exits 0. Returns stdout.
    pub fn wardctl(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.wardctl_raw(args)?;
        if !out.status.success() {
            bail!(
                "wardctl {args:?} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// Runs `wardctl` and returns its whole output, whatever the exit status.
    pub fn wardctl_raw(&self, args: &[&str]) -> anyhow::Result<Output> {
        Command::new(bin("wardctl")?)
            .arg("--collector")
            .arg(&self.url)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env_remove("WARD_COLLECTOR")
            .env_remove("WARD_DATA_DIR")
            .output()
            .context("failed to run wardctl")
    }

    /// Runs `wardctl ... --output json` and parses stdout.
    pub fn wardctl_json(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.wardctl(&all)?;
        serde_json::from_str(&out)
            .with_context(|| format!("wardctl {args:?} printed no JSON: {out}"))
    }

    /// Creates an enrolment token and writes it to a file in `dir`.
    pub fn token_file(&self, dir: &Path, uses: u32) -> anyhow::Result<PathBuf> {
        let v = self.wardctl_json(&[
            "token",
            "create",
            "--uses",
            &uses.to_string(),
            "--ttl",
            "10m",
        ])?;
        let token = v["token"].as_str().context("no token field")?;
        let path = dir.join(format!("token-{}", &token[token.len() - 8..]));
        std::fs::write(&path, format!("{token}\n"))?;
        Ok(path)
    }

    /// Asks `wardctl alerts --output json` with `args` until `until` holds for the
    /// answer (an array of alerts), for at most `within`; returns that answer.
    pub fn wait_for_alerts(
        &self,
        args: &[&str],
        within: Duration,
        until: impl Fn(&[serde_json::Value]) -> bool,
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        let deadline = Instant::now() + within;
        let mut all = vec!["alerts"];
        all.extend_from_slice(args);
        loop {
            let v = self.wardctl_json(&all)?;
            let alerts = v
                .as_array()
                .cloned()
                .context("alerts JSON is not an array")?;
            if until(&alerts) {
                return Ok(alerts);
            }
            if Instant::now() > deadline {
                bail!(
                    "alerts {args:?} did not reach the expected state within {within:?}; last answer: {alerts:#?}\ncollector log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Returns the collector's log so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Stops the collector with SIGTERM and waits for it, returning whether it exited 0.
    pub fn stop(mut self) -> anyhow::Result<bool> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            if Instant::now() > deadline {
                bail!("collector did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An agent identity in its own state directory, inventorying a fixture root.
pub struct Agent {
    pub state_dir: PathBuf,
    pub root: PathBuf,
}

impl Agent {
    /// Enrols an agent for `root` with `collector`, keeping state under `state_dir`.
    pub fn enrol(collector: &Collector, root: &Path, state_dir: &Path) -> anyhow::Result<Self> {
        let token = collector.token_file(state_dir.parent().unwrap_or(state_dir), 1)?;
        let out = Command::new(bin("ward-agent")?)
            .args([
                "enroll",
                "--collector",
                &collector.url,
                "--ca-fingerprint",
                &collector.fingerprint,
            ])
            .arg("--token-file")
            .arg(&token)
            .arg("--state-dir")
            .arg(state_dir)
            .output()?;
        if !out.status.success() {
            bail!(
                "ward-agent enroll failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(Self {
            state_dir: state_dir.to_path_buf(),
            root: root.to_path_buf(),
        })
    }

    /// Host id from the state directory.
    pub fn host_id(&self) -> anyhow::Result<String> {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.state_dir.join("identity.json"))?)?;
        Ok(v["host_id"].as_str().context("no host_id")?.to_string())
    }

    /// Reports once (`ward-agent run --once`) and returns the printed summary.
    pub fn report(&self) -> anyhow::Result<serde_json::Value> {
        let out = Command::new(bin("ward-agent")?)
            .args(["run", "--once", "--state-dir"])
            .arg(&self.state_dir)
            .arg("--root")
            .arg(&self.root)
            .output()?;
        if !out.status.success() {
            bail!(
                "ward-agent run --once failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// Starts `ward-agent run` with a config file written beside the state directory:
    /// this agent's state directory and root, a short heartbeat, and `extra` (TOML
    /// appended as is, such as a `[posture]` table). Killed on drop.
    pub fn start(&self, extra: &str) -> anyhow::Result<Service> {
        let config = self.state_dir.with_extension("toml");
        std::fs::write(
            &config,
            format!(
                "state_dir = {:?}\nroot = {:?}\ninventory_interval = \"1h\"\nheartbeat_interval = \"30s\"\n{extra}\n",
                self.state_dir, self.root
            ),
        )?;
        let mut child = Command::new(bin("ward-agent")?)
            .args(["run", "--config"])
            .arg(&config)
            .env("WARD_LOG", "info")
            .env_remove("WARD_LOG_FORMAT")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("failed to start ward-agent run")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let log = std::sync::Arc::new((Mutex::new(String::new()), Condvar::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = log2.0.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
                log2.1.notify_all();
            }
        });
        Ok(Service { child, log })
    }
}

/// A running `ward-agent run`, killed on drop.
pub struct Service {
    child: Child,
    /// The agent's stderr so far, and a signal for each line added.
    log: std::sync::Arc<(Mutex<String>, Condvar)>,
}

impl Service {
    /// Returns the agent's log so far.
    pub fn log(&self) -> String {
        self.log.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits until the log holds `count` lines containing `needle`.
    pub fn wait_for_lines(
        &self,
        needle: &str,
        count: usize,
        within: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        let (lock, added) = &*self.log;
        let mut log = lock
            .lock()
            .map_err(|_| anyhow::anyhow!("log lock poisoned"))?;
        loop {
            if log.lines().filter(|l| l.contains(needle)).count() >= count {
                return Ok(());
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                bail!(
                    "the agent did not log {needle:?} {count} times within {within:?}; its log:\n{}",
                    *log
                );
            };
            log = added
                .wait_timeout(log, left)
                .map_err(|_| anyhow::anyhow!("log lock poisoned"))?
                .0;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
