//! Alert engine figures for docs/benchmarks.md (`cargo bench -p ward-collector --bench
//! alerts`):
//!
//! 1. Latency from a report to its alert on `WatchAlerts`: a real collector on loopback
//!    (TLS, SQLite with fsync per commit), one enrolled agent identity sending posture
//!    reports that each open a new listening port, and an admin watching. Measured from
//!    the moment the report leaves the agent's client (an upper bound of "from the moment
//!    the collector receives it") to the moment the watcher holds the `opened` event.
//! 2. CPU per report with and without the engine, on 1,000-package hosts: the pipeline
//!    over a SQLite file, reports that change software (delta), patches and posture, with
//!    every rule disabled, with the default rules, and with every rule enabled. CPU time is
//!    the process's (all threads, from /proc/self/task/*/schedstat).
//!
//! Options: `ALERTS=1000` (alerts measured for the latency), `REPORTS=1000` (reports per
//! cost run).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use ward_collector::config::Config;
use ward_collector::pipeline::Pipeline;
use ward_collector::rules::{Rule, RuleSettings, Settings};
use ward_collector::store::{self, NewHost, NewToken, Report, Update};
use ward_proto::digest;
use ward_proto::v1 as pb;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // `cargo bench` passes --bench; nothing else is taken.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        latency(env_usize("ALERTS", 1000)).await;
        cost(env_usize("REPORTS", 1000)).await;
    });
}

fn posture(ports: &[u32]) -> pb::Posture {
    pb::Posture {
        listening: ports
            .iter()
            .map(|p| pb::ListeningSocket {
                protocol: "tcp".into(),
                address: "0.0.0.0".into(),
                port: *p,
                process: "bench".into(),
                executable: "/usr/bin/bench".into(),
                uid: 1000,
            })
            .collect(),
        ..Default::default()
    }
}

fn channel(url: &str, ca: &str, cert: &str, key: &str) -> tonic::transport::Endpoint {
    Channel::from_shared(url.to_owned())
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .identity(Identity::from_pem(cert, key))
                .domain_name("localhost"),
        )
        .unwrap()
}

async fn latency(alerts: usize) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = ward_collector::server::start(&config, async move {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    let pki = running.data_dir.join("pki");
    let read = |f: &str| std::fs::read_to_string(pki.join(f)).unwrap();
    let ca = read("ca.crt");
    let admin_channel = channel(&url, &ca, &read("admin.crt"), &read("admin.key"))
        .connect()
        .await
        .unwrap();
    let mut admin = pb::admin_service_client::AdminServiceClient::new(admin_channel);
    let token = admin
        .create_enrollment_token(pb::CreateEnrollmentTokenRequest {
            uses: 1,
            ttl_seconds: 600,
            label: "bench".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    // Enrol as an agent would: our own key, a CSR, the certificate back.
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let open = Channel::from_shared(url.clone())
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&ca))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    let enrolled = pb::agent_service_client::AgentServiceClient::new(open)
        .enroll(pb::EnrollRequest {
            token,
            csr_pem: csr,
            hostname: "bench-host".into(),
            agent_version: "bench".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let agent_channel = channel(&url, &ca, &enrolled.certificate_pem, &key.serialize_pem())
        .connect()
        .await
        .unwrap();
    let mut agent = pb::agent_service_client::AgentServiceClient::new(agent_channel);
    let mut sequence = 1;
    let report = |sequence: u64, ports: &[u32]| pb::ReportRequest {
        sequence,
        agent_version: "bench".into(),
        posture: Some(pb::PostureUpdate {
            kind: Some(pb::posture_update::Kind::Full(posture(ports))),
        }),
        ..Default::default()
    };
    agent.report(report(sequence, &[22])).await.unwrap();
    let mut stream = admin
        .watch_alerts(pb::WatchAlertsRequest {
            after_event_id: 0,
            from_start: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut samples = Vec::with_capacity(alerts);
    for i in 0..alerts {
        sequence += 1;
        let port = 10_000 + u32::try_from(i).unwrap();
        let sent = Instant::now();
        agent.report(report(sequence, &[22, port])).await.unwrap();
        // Wait for this port's `opened` event (the previous port's `resolved` comes too).
        loop {
            let item = tokio::time::timeout(Duration::from_secs(10), stream.message())
                .await
                .expect("no event within 10 s")
                .unwrap()
                .unwrap();
            let event = item.event.unwrap();
            let alert = item.alert.unwrap();
            if event.kind == "opened" && alert.subject.contains(&format!(":{port} ")) {
                samples.push(sent.elapsed());
                break;
            }
        }
    }
    samples.sort();
    let pct = |p: f64| {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    println!(
        "report -> WatchAlerts, {} alerts: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        samples.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    drop(stream);
    let _ = stop.send(());
    let _ = running.task.await;
}

/// CPU time of the whole process so far, from every thread's schedstat (nanoseconds).
fn cpu_ns() -> u64 {
    let mut total = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
                total += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

fn software(n: usize, round: usize) -> pb::Software {
    let mut sw = pb::Software {
        packages: (0..n)
            .map(|i| pb::Package {
                name: format!("pkg-{i:04}"),
                // Two packages are upgraded in each round.
                version: if i % 500 == round % 500 || i % 500 == (round + 250) % 500 {
                    format!("1.{round}-1")
                } else {
                    "1.0-1".into()
                },
                arch: "amd64".into(),
                source: "deb".into(),
                state: "installed".into(),
                installed_size: 1000,
                ..Default::default()
            })
            .collect(),
    };
    digest::canonicalize_software(&mut sw);
    sw
}

fn patches(round: usize) -> pb::Patches {
    let mut p = pb::Patches {
        pending: (0..20)
            .map(|i| pb::PendingUpdate {
                name: format!("pkg-{i:04}"),
                arch: "amd64".into(),
                source: "deb".into(),
                installed_version: "1.0-1".into(),
                candidate_version: format!("1.0-{}", 2 + round),
                security: i % 4 == 0,
                first_seen: 1_700_000_000,
                security_since: if i % 4 == 0 { 1_700_000_000 } else { 0 },
                ..Default::default()
            })
            .collect(),
        managers: vec!["apt".into()],
        ..Default::default()
    };
    digest::canonicalize_patches(&mut p);
    p
}

async fn cost(reports: usize) {
    for churn in [false, true] {
        cost_of(reports, churn).await;
    }
}

/// `churn`: every report also changes the patches and opens and resolves a port (each
/// report changes alerts: the engine's worst steady case); otherwise only the software
/// changes (two upgrades), as in most reports.
async fn cost_of(reports: usize, churn: bool) {
    let mut all = Settings::default();
    let mut none = Settings::default();
    for rule in Rule::ALL {
        let on = RuleSettings {
            enabled: true,
            ..RuleSettings::default_for(rule)
        };
        all.set(rule, on.clone());
        none.set(
            rule,
            RuleSettings {
                enabled: false,
                ..on
            },
        );
    }
    let configs = [
        ("rules off", none),
        ("default rules", Settings::default()),
        ("every rule on", all),
    ];
    // One store and pipeline per configuration, fed the same reports in turn, so that
    // the machine's drift (other load, the disk's fsync times) hits all three alike.
    let dirs: Vec<tempfile::TempDir> = configs
        .iter()
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    let mut runs = Vec::new();
    for ((_, settings), dir) in configs.iter().zip(&dirs) {
        runs.push(Run::new(dir.path(), settings.clone()).await);
    }
    let mut spent = vec![0_u64; configs.len()];
    for round in 1..=reports {
        let report = next_report(&mut runs[0].held_sw, round, churn);
        // Each configuration goes first, second and third in turn: what one report leaves
        // running on the store's threads is charged to the next one alike.
        for k in 0..runs.len() {
            let i = (k + round) % runs.len();
            let run = &runs[i];
            let start = cpu_ns();
            run.pipeline
                .report("h", report.clone(), run.now + round as i64)
                .await
                .unwrap();
            spent[i] += cpu_ns() - start;
        }
    }
    let base = spent[0] as f64 / reports as f64;
    for ((name, _), ns) in configs.iter().zip(&spent) {
        let per_report = *ns as f64 / reports as f64;
        println!(
            "{}, {name}: {:.0} µs CPU per report ({:+.1} % vs rules off), {reports} reports of a 1,000-package host, interleaved",
            if churn {
                "alerts change at every report"
            } else {
                "software changes only"
            },
            per_report / 1000.0,
            (per_report / base - 1.0) * 100.0
        );
    }
}

/// One configuration's store and pipeline, with a host that reported once.
struct Run {
    pipeline: Pipeline,
    held_sw: pb::Software,
    now: i64,
}

impl Run {
    async fn new(dir: &Path, settings: Settings) -> Self {
        let (pipeline, held_sw, now) = setup(dir, settings).await;
        Run {
            pipeline,
            held_sw,
            now,
        }
    }
}

/// The report of `round`: a software delta against the previous round's section, the
/// patches section, and a posture in which one port changes.
fn next_report(held_sw: &mut pb::Software, round: usize, churn: bool) -> Report {
    let sw = software(1000, round);
    let mut r = Report::empty(1 + round as u64, "bench");
    r.software = Some(Update::Delta(ward_proto::delta::software(held_sw, &sw)));
    *held_sw = sw;
    if churn {
        r.patches = Some(Update::Full(patches(round)));
        r.posture = Some(Update::Full(posture(&[22, 10_000 + (round % 7) as u32])));
    } else {
        r.patches = Some(Update::Full(patches(0)));
        r.posture = Some(Update::Full(posture(&[22])));
    }
    r
}

async fn setup(dir: &Path, settings: Settings) -> (Pipeline, pb::Software, i64) {
    let store: Arc<dyn store::Store> = store::open_sqlite(&dir.join("ward.db")).await.unwrap();
    let now = 1_700_100_000;
    store
        .create_token(NewToken {
            id: "t".into(),
            hash: [7; 32],
            uses: 1,
            expires_at: now + 3600,
            label: String::new(),
            created_at: now,
        })
        .await
        .unwrap();
    store
        .enroll(
            &[7; 32],
            NewHost {
                id: "h".into(),
                hostname: "bench".into(),
                cert_serial: "s".into(),
                cert_not_after: now + 365 * 86400,
                agent_version: "bench".into(),
                enrolled_at: now,
            },
        )
        .await
        .unwrap();
    let pipeline = Pipeline::new(store, settings);
    let held_sw = software(1000, 0);
    let mut first = Report::empty(1, "bench");
    first.software = Some(Update::Full(held_sw.clone()));
    first.patches = Some(Update::Full(patches(0)));
    first.posture = Some(Update::Full(posture(&[22])));
    pipeline.report("h", first, now).await.unwrap();
    (pipeline, held_sw, now)
}
