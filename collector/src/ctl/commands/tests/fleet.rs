//! A real collector started in-process on loopback with a temporary data directory, and
//! real agents enrolled into it: each inventories a small fixture root that looks like a
//! Debian machine (hostname, machine-id, os-release, dpkg status) and reports it.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::Parser;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair,
};
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use ward_agent::config::Config as AgentConfig;
use ward_agent::service::Agent;
use ward_agent::transport::enrol;
use ward_agent::transport::identity::{StateDir, files as agent_files};
use ward_proto::v1 as pb;

use crate::config::Config;
use crate::ctl::cli::Cli;
use crate::ctl::commands::{self, Client, Error};
use crate::ctl::connect::{self, CredentialPaths, Target};
use crate::pki::{ca, identity};
use crate::server;

/// A package line of a fixture's dpkg status.
#[derive(Debug, Clone)]
pub struct Pkg {
    pub name: &'static str,
    pub version: &'static str,
    /// dpkg's Status field, e.g. "install ok installed".
    pub status: &'static str,
}

/// A fixture machine: what its root directory says about it.
#[derive(Debug, Clone)]
pub struct Machine {
    pub hostname: String,
    /// os-release ID.
    pub os_id: &'static str,
    pub packages: Vec<Pkg>,
    /// Newer versions its apt lists offer: (package, version, from the security archive).
    pub updates: Vec<(&'static str, &'static str, bool)>,
    /// Whether `/run/reboot-required` exists.
    pub reboot_required: bool,
}

/// A collector serving on 127.0.0.1 from a temporary data directory.
pub struct Fleet {
    pub url: String,
    /// `SHA256:<hex>` of the CA, as the collector reported it at start.
    pub fingerprint: String,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), server::Error>>>,
    /// Numbers fixture roots and machine ids.
    machines: AtomicUsize,
    dir: tempfile::TempDir,
}

/// What an agent needs to reach the collector.
#[derive(Debug, Clone)]
struct Site {
    url: String,
    fingerprint: String,
}

/// Where a fixture machine keeps its root and agent state.
#[derive(Debug)]
struct Home {
    dir: PathBuf,
    machine_id: String,
}

/// An agent the collector enrolled.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub host_id: String,
    pub state_dir: PathBuf,
    /// The fixture root it inventories (written only for agents that report).
    pub root: PathBuf,
    machine_id: String,
}

impl Pkg {
    /// A fully installed package.
    pub const fn installed(name: &'static str, version: &'static str) -> Self {
        Self {
            name,
            version,
            status: "install ok installed",
        }
    }

    /// A removed package whose configuration files remain.
    pub const fn config_files(name: &'static str, version: &'static str) -> Self {
        Self {
            name,
            version,
            status: "deinstall ok config-files",
        }
    }
}

impl Machine {
    /// A Debian machine with these packages.
    pub fn debian(hostname: &str, packages: &[Pkg]) -> Self {
        Self {
            hostname: hostname.to_string(),
            os_id: "debian",
            packages: packages.to_vec(),
            updates: Vec::new(),
            reboot_required: false,
        }
    }

    /// Writes the machine's root directory under `path`.
    fn write_root(&self, path: &Path, machine_id: &str) {
        for dir in ["etc", "var/lib/dpkg", "proc/sys/kernel"] {
            std::fs::create_dir_all(path.join(dir)).unwrap();
        }
        let hostname = format!("{}\n", self.hostname);
        std::fs::write(path.join("etc/hostname"), &hostname).unwrap();
        std::fs::write(path.join("proc/sys/kernel/hostname"), &hostname).unwrap();
        std::fs::write(path.join("etc/machine-id"), format!("{machine_id}\n")).unwrap();
        std::fs::write(
            path.join("etc/os-release"),
            format!(
                "PRETTY_NAME=\"{0} fixture\"\nNAME=\"{0}\"\nID={0}\n",
                self.os_id
            ),
        )
        .unwrap();
        let mut status = String::new();
        for p in &self.packages {
            let _ = write!(
                status,
                "Package: {}\nStatus: {}\nArchitecture: amd64\nVersion: {}\nDescription: fixture package\n\n",
                p.name, p.status, p.version
            );
        }
        std::fs::write(path.join("var/lib/dpkg/status"), status).unwrap();
        self.write_apt(path);
    }

    /// Writes apt's sources and lists: a main and a security archive offering `updates`.
    fn write_apt(&self, path: &Path) {
        let lists = path.join("var/lib/apt/lists");
        std::fs::create_dir_all(&lists).unwrap();
        std::fs::create_dir_all(path.join("etc/apt")).unwrap();
        std::fs::write(
            path.join("etc/apt/sources.list"),
            "deb http://deb.example.org/debian bookworm main\n\
             deb http://security.example.org/debian-security bookworm-security main\n",
        )
        .unwrap();
        for (site, suite, label, security) in [
            ("deb.example.org_debian", "bookworm", "Debian", false),
            (
                "security.example.org_debian-security",
                "bookworm-security",
                "Debian-Security",
                true,
            ),
        ] {
            std::fs::write(
                lists.join(format!("{site}_dists_{suite}_Release")),
                format!(
                    "Origin: Debian\nLabel: {label}\nSuite: {suite}\nCodename: {suite}\nComponents: main\n"
                ),
            )
            .unwrap();
            let mut packages = String::new();
            for (name, version, sec) in &self.updates {
                if *sec == security {
                    let _ = write!(
                        packages,
                        "Package: {name}\nVersion: {version}\nArchitecture: amd64\n\n"
                    );
                }
            }
            std::fs::write(
                lists.join(format!("{site}_dists_{suite}_main_binary-amd64_Packages")),
                packages,
            )
            .unwrap();
        }
        if self.reboot_required {
            std::fs::create_dir_all(path.join("run")).unwrap();
            std::fs::write(path.join("run/reboot-required"), "").unwrap();
            std::fs::write(path.join("run/reboot-required.pkgs"), "libc6\n").unwrap();
        }
    }
}

impl Fleet {
    /// Starts a collector on 127.0.0.1:0; it stops when the fleet is dropped.
    pub async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("collector"),
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let running = server::start(&config, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
        Self {
            url: format!("https://{}", running.addr),
            fingerprint: running.fingerprint,
            data_dir: running.data_dir,
            stop: Some(stop),
            task: Some(running.task),
            machines: AtomicUsize::new(0),
            dir,
        }
    }

    /// Runs a wardctl command line against this collector with its admin credentials and
    /// returns what it printed.
    pub async fn wardctl(&self, args: &[&str]) -> Result<String, Error> {
        wardctl(&self.url, &self.data_dir, args).await
    }

    /// Returns an admin client on the wire, to set the fleet up and look at it without
    /// going through the commands under test.
    pub async fn admin(&self) -> Client {
        let credentials = CredentialPaths::resolve(&self.data_dir, None, None, None)
            .load()
            .unwrap();
        let target = Target::parse(&self.url).unwrap();
        let channel = connect::connect(&target, &credentials, Duration::from_secs(10))
            .await
            .unwrap();
        Client::new(channel)
    }

    /// Creates an enrolment token for `uses` agents through the admin API.
    pub async fn token(&self, uses: u32) -> String {
        self.admin()
            .await
            .create_enrollment_token(pb::CreateEnrollmentTokenRequest {
                uses,
                ttl_seconds: 600,
                label: "wardctl command tests".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .token
    }

    /// Enrols an agent for `machine` and has it report its inventory once.
    pub async fn add(&self, machine: &Machine) -> Enrolled {
        let token = self.token(1).await;
        let enrolled = self.enrol(machine, &token).await.unwrap();
        self.report(&enrolled).await;
        enrolled
    }

    /// Enrols an agent for every machine with one token, several at a time, without
    /// reporting (so without a fixture root): the collector lists such a host under the
    /// hostname it enrolled with.
    /// Returns them in the order given.
    pub async fn enrol_all(&self, machines: &[Machine]) -> Vec<Enrolled> {
        let token = self.token(u32::try_from(machines.len()).unwrap()).await;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, machine) in machines.iter().enumerate() {
            let (site, home, machine, token) =
                (self.site(), self.home(), machine.clone(), token.clone());
            tasks.spawn(async move { (i, site.enrol(&machine, home, &token).await.unwrap()) });
        }
        let mut enrolled = tasks.join_all().await;
        enrolled.sort_by_key(|(i, _)| *i);
        enrolled.into_iter().map(|(_, e)| e).collect()
    }

    /// Writes the machine's fixture root and enrols an agent for it with `token`, as
    /// `ward-agent enroll` does.
    pub async fn enrol(&self, machine: &Machine, token: &str) -> Result<Enrolled, enrol::Error> {
        let enrolled = self.site().enrol(machine, self.home(), token).await?;
        machine.write_root(&enrolled.root, &enrolled.machine_id);
        Ok(enrolled)
    }

    /// Has the agent collect its root's inventory and report it, as `ward-agent run --once`.
    pub async fn report(&self, enrolled: &Enrolled) {
        self.site().report(enrolled).await;
    }

    /// Opens the collector's SQLite database beside the collector.
    pub async fn database(&self) -> sqlx::SqliteConnection {
        let path = self.data_dir.join(server::DATABASE_FILE);
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap()
    }

    /// Writes a client certificate this collector's CA signed for no Ward role (the
    /// collector's own unit, as if its server certificate could authenticate clients), and
    /// returns its certificate and key files.
    pub fn certificate_without_role(&self) -> (PathBuf, PathBuf) {
        let pki = self.data_dir.join(server::PKI_DIR);
        let read = |name| std::fs::read_to_string(pki.join(name)).unwrap();
        let ca_key = KeyPair::from_pem(&read(ca::files::CA_KEY)).unwrap();
        let issuer = Issuer::from_ca_cert_pem(&read(ca::files::CA_CERT), ca_key).unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationalUnitName, identity::SERVER_OU);
        params
            .distinguished_name
            .push(DnType::CommonName, "intruder");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        let (cert_path, key_path) = (
            self.dir.path().join("role.crt"),
            self.dir.path().join("role.key"),
        );
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }

    /// Stops the collector and waits until it has stopped listening.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("the collector did not stop within 20s")
                .unwrap()
                .unwrap();
        }
    }

    fn site(&self) -> Site {
        Site {
            url: self.url.clone(),
            fingerprint: self.fingerprint.clone(),
        }
    }

    /// A fresh directory and machine id for the next machine.
    fn home(&self) -> Home {
        let n = self.machines.fetch_add(1, Ordering::Relaxed) + 1;
        Home {
            dir: self.dir.path().join(format!("machine-{n}")),
            machine_id: format!("{n:032x}"),
        }
    }
}

impl Site {
    async fn enrol(
        &self,
        machine: &Machine,
        home: Home,
        token: &str,
    ) -> Result<Enrolled, enrol::Error> {
        let state = StateDir::new(home.dir.join("state"));
        let options = enrol::Options {
            collector: self.url.clone(),
            ca_fingerprint: self.fingerprint.clone(),
            token: token.to_string(),
            hostname: machine.hostname.clone(),
            force: false,
        };
        let identity = enrol::enrol(&state, &options).await?;
        Ok(Enrolled {
            host_id: identity.host_id,
            state_dir: state.path().to_path_buf(),
            root: home.dir.join("root"),
            machine_id: home.machine_id,
        })
    }

    async fn report(&self, enrolled: &Enrolled) {
        let mut agent = Agent::load(
            AgentConfig {
                state_dir: enrolled.state_dir.clone(),
                collector: Some(self.url.clone()),
                root: enrolled.root.clone(),
                ..AgentConfig::default()
            },
            Box::new(ward_agent::collect::InProcess),
        )
        .unwrap();
        if let Err(e) = agent.report_once().await {
            panic!(
                "the agent of host {} failed to report: {e}",
                enrolled.host_id
            );
        }
    }
}

impl Enrolled {
    /// Returns the agent's client certificate and key files.
    pub fn credentials(&self) -> (PathBuf, PathBuf) {
        (
            self.state_dir.join(agent_files::CERT),
            self.state_dir.join(agent_files::KEY),
        )
    }
}

/// Runs `wardctl --collector URL --data-dir DATA_DIR ARGS...` and returns what it printed.
pub async fn wardctl(url: &str, data_dir: &Path, args: &[&str]) -> Result<String, Error> {
    let data_dir = data_dir.to_str().unwrap();
    let cli = Cli::try_parse_from(
        ["wardctl", "--collector", url, "--data-dir", data_dir]
            .into_iter()
            .chain(args.iter().copied()),
    )
    .unwrap();
    let mut out = Vec::new();
    commands::run(&cli, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}
