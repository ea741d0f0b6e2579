//! `ward-collector quickstart`: a collector on loopback with SQLite under `./ward-data`,
//! plus an agent for this machine enrolled through the real enrolment path and running in
//! the same process, so one command shows Ward end to end. A second run reuses the data
//! directory (same CA, same host).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use ward_agent::collect::InProcess;
use ward_agent::config::Config as AgentConfig;
use ward_agent::service::{self, Agent};
use ward_agent::transport::enrol;
use ward_agent::transport::identity::StateDir;
use ward_proto::v1 as pb;

use crate::config::Config;
use crate::ctl::connect::{self, CredentialPaths, Target};
use crate::server;

/// Options of the quickstart.
#[derive(Debug, Clone)]
pub struct Options {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
}

/// Runs the quickstart until Ctrl-C or SIGTERM.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    // Listen for Ctrl-C from the start: the user may press it as soon as we say so.
    let interrupted = ward_runtime::shutdown::signal();
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let config = Config {
        data_dir: opts.data_dir.clone(),
        listen: opts.listen,
        ..Config::default()
    };
    let running = server::start(&config, stopped(stop_rx.clone()))
        .await
        .with_context(|| format!("failed to start the collector on {}", opts.listen))?;
    let url = format!("https://{}", running.addr);
    let data_dir = absolute(&opts.data_dir);

    let state = StateDir::new(data_dir.join("agent"));
    let agent_config = AgentConfig {
        state_dir: state.path().to_path_buf(),
        collector: Some(url.clone()),
        // A demo: a port opened on this machine shows as an alert within 15 s, not the
        // service's 5 minutes.
        posture: ward_agent::config::Posture {
            interval: Duration::from_secs(15),
            ..ward_agent::config::Posture::default()
        },
        ..AgentConfig::default()
    };
    if !state.is_enrolled() {
        enrol_local(&state, &url, &running.fingerprint, &data_dir, false).await?;
    }
    let mut agent = Agent::load(agent_config.clone(), Box::new(InProcess))?;
    let summary = match agent.report_once().await {
        Ok(s) => s,
        Err(service::Error::Rpc(status)) if status.code() == tonic::Code::Unauthenticated => {
            // The identity belongs to a collector database that is gone: enrol afresh.
            tracing::warn!("local agent identity unknown to this collector; enrolling again");
            enrol_local(&state, &url, &running.fingerprint, &data_dir, true).await?;
            agent = Agent::load(agent_config.clone(), Box::new(InProcess))?;
            agent.report_once().await?
        }
        Err(e) => return Err(e.into()),
    };
    let host_id = agent.host_id().to_string();

    let admin = admin_client(&url, &data_dir).await?;
    let host = admin
        .clone()
        .get_host(pb::GetHostRequest {
            host: host_id.clone(),
        })
        .await
        .context("the collector did not return the local host")?
        .into_inner();
    let patches = admin
        .clone()
        .get_host_patches(pb::GetHostPatchesRequest {
            host: host_id.clone(),
        })
        .await
        .context("the collector did not return the local host's patch state")?
        .into_inner()
        .summary
        .unwrap_or_default();
    print_welcome(
        &url,
        &running.fingerprint,
        &data_dir,
        &host,
        &patches,
        summary.bytes,
    );

    let agent_task = tokio::spawn(agent.run(stopped(stop_rx.clone())));
    interrupted.await;
    let _ = stop_tx.send(true);
    if let Ok(Err(e)) = agent_task.await {
        tracing::warn!(error = %e, "local agent stopped with an error");
    }
    running.task.await.context("collector task failed")??;
    Ok(())
}

async fn enrol_local(
    state: &StateDir,
    url: &str,
    fingerprint: &str,
    data_dir: &Path,
    force: bool,
) -> anyhow::Result<()> {
    let token = admin_client(url, data_dir)
        .await?
        .create_enrollment_token(pb::CreateEnrollmentTokenRequest {
            uses: 1,
            ttl_seconds: 600,
            label: "quickstart local agent".into(),
        })
        .await
        .context("failed to create an enrolment token")?
        .into_inner()
        .token;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let opts = enrol::Options {
        collector: url.to_string(),
        ca_fingerprint: fingerprint.to_string(),
        token,
        hostname,
        force,
    };
    let identity = enrol::enrol(state, &opts)
        .await
        .context("the local agent failed to enrol")?;
    tracing::info!(host = %identity.host_id, "local agent enrolled");
    Ok(())
}

async fn admin_client(
    url: &str,
    data_dir: &Path,
) -> anyhow::Result<pb::admin_service_client::AdminServiceClient<tonic::transport::Channel>> {
    let creds = CredentialPaths::resolve(data_dir, None, None, None).load()?;
    let channel = connect::connect(&Target::parse(url)?, &creds, Duration::from_secs(30)).await?;
    Ok(pb::admin_service_client::AdminServiceClient::new(channel))
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn print_welcome(
    url: &str,
    fingerprint: &str,
    data_dir: &Path,
    host: &pb::GetHostResponse,
    patches: &pb::HostPatchSummary,
    bytes: usize,
) {
    let s = host.summary.clone().unwrap_or_default();
    let dd = data_dir.display();
    let ctl = format!(
        "cargo run --release -q -p ward-collector --bin wardctl -- --data-dir {dd} --collector {url}"
    );
    println!();
    println!("Ward is running.");
    println!("  collector       {url}  (data in {dd})");
    println!("  CA fingerprint  {fingerprint}");
    println!("  this machine    {} ({})", s.hostname, s.id);
    println!(
        "                  {}, kernel {}, {}",
        s.os_pretty_name, s.kernel_release, s.architecture
    );
    println!(
        "                  {} logical cores, {:.1} GiB memory, {} packages installed",
        s.logical_cores,
        s.memory_bytes as f64 / f64::from(1u32 << 30),
        s.software_count
    );
    println!(
        "                  {} updates pending ({} security), reboot {}",
        patches.pending,
        patches.security,
        if patches.reboot_required {
            "required"
        } else {
            "not required"
        }
    );
    println!("                  first report: {bytes} bytes");
    println!();
    println!("Try, in another terminal:");
    println!("  {ctl} hosts");
    println!("  {ctl} host {}", s.hostname);
    println!("  {ctl} software 'openssl*'");
    println!("  {ctl} software libc6 --below 2.36-9+deb12u99");
    println!("  {ctl} patches");
    println!("  {ctl} patches {}", s.hostname);
    println!("  {ctl} alerts --status all");
    println!(
        "  {ctl} alerts watch   # then open a port (python3 -m http.server 8099): within 15 s"
    );
    println!("  {ctl} token create --uses 5 --ttl 1h");
    println!();
    println!("To enrol other machines, serve on an address they can reach (`ward-collector serve`");
    println!("with `listen` and `server_names` set), then run on each, with a token from above:");
    println!(
        "  ward-agent enroll --collector https://<this-host>:{} --ca-fingerprint {fingerprint} --token-file token.txt",
        url.rsplit(':').next().unwrap_or("7443")
    );
    println!();
    println!("Press Ctrl-C to stop.");
}
