//! The subcommands: each checks its arguments, asks the collector (for `hosts`, page by
//! page) and renders the answer. Collector answers become [`Error`]s in one place,
//! [`Error::from_status`], which also decides the exit code.

use std::io::Write;
use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status};
use ward_proto::v1 as pb;
use ward_proto::v1::admin_service_client::AdminServiceClient;

use super::cli::{
    AlertsArgs, AlertsCommand, Cli, Command, HostsArgs, PatchesArgs, SoftwareArgs, TokenCommand,
    TokenCreateArgs,
};
use super::connect::{self, CredentialPaths, Credentials, Target, TlsFailure};
use super::output::{self, EnrollHint, SoftwareQuery, View};
use crate::version;

/// The admin client over a connected channel.
pub type Client = AdminServiceClient<Channel>;

/// Exit code for bad usage or configuration (sysexits `EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;
/// Exit code when the collector cannot be reached (sysexits `EX_UNAVAILABLE`).
pub const EXIT_UNAVAILABLE: u8 = 69;
/// Exit code for every other failure.
pub const EXIT_FAILURE: u8 = 1;

/// The most hosts asked for in one page (the collector's cap).
const MAX_PAGE: usize = 1000;

/// Why a wardctl command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Connect(#[from] connect::Error),
    #[error("{0}")]
    Usage(String),
    #[error("no such host: {host}; list hosts with `wardctl hosts`")]
    NoSuchHost { host: String },
    #[error("{}", connect::refused_message(url, message))]
    Refused { url: String, message: String },
    #[error(
        "the collector at {url} presented a certificate wardctl does not trust ({message}); check --ca and --collector"
    )]
    ServerNotTrusted { url: String, message: String },
    #[error("cannot reach the collector at {url}: {message}; is `ward-collector serve` running?")]
    Unavailable { url: String, message: String },
    #[error(
        "the collector at {url} did not answer within {}; try again, or raise --timeout",
        humantime::format_duration(*timeout)
    )]
    Timeout { url: String, timeout: Duration },
    #[error("the collector refused to {what}: {message}")]
    Rejected { what: &'static str, message: String },
    #[error("the collector at {url} cannot {what} (not implemented); upgrade the collector")]
    Unimplemented { url: String, what: &'static str },
    #[error("failed to {what}: the collector answered {code:?}: {message}")]
    Rpc {
        what: &'static str,
        code: Code,
        message: String,
    },
    #[error("the collector sent the same page of hosts twice (page token {0:?}); stopping")]
    PageLoop(String),
    #[error(transparent)]
    Output(#[from] output::Error),
    #[error("failed to write the answer: {0}")]
    Write(#[source] std::io::Error),
}

/// A call to the collector, to word its failure.
#[derive(Debug, Clone, Copy)]
pub enum Call<'a> {
    ListHosts,
    GetHost(&'a str),
    FindSoftware,
    ListPatches,
    CreateToken,
    ListAlerts,
    GetAlert,
    AckAlert,
    ResolveAlert,
    WatchAlerts,
    CreateSilence,
    ListSilences,
    ExpireSilence,
}

impl Call<'_> {
    fn what(self) -> &'static str {
        match self {
            Call::ListHosts => "list hosts",
            Call::GetHost(_) => "show the host",
            Call::FindSoftware => "find software",
            Call::ListPatches => "list the fleet's patch state",
            Call::CreateToken => "create an enrolment token",
            Call::ListAlerts => "list alerts",
            Call::GetAlert => "show the alert",
            Call::AckAlert => "acknowledge the alert",
            Call::ResolveAlert => "resolve the alert",
            Call::WatchAlerts => "watch alerts",
            Call::CreateSilence => "create the silence",
            Call::ListSilences => "list silences",
            Call::ExpireSilence => "expire the silence",
        }
    }
}

impl Error {
    /// Words a failed call: what went wrong and what to do about it.
    pub fn from_status(
        status: &Status,
        call: Call<'_>,
        target: &Target,
        timeout: Duration,
    ) -> Self {
        let message = status_message(status);
        let url = target.url.clone();
        match connect::tls_failure(status) {
            Some(TlsFailure::ClientRefused(cause)) => {
                return Error::Refused {
                    url,
                    message: cause,
                };
            }
            Some(TlsFailure::ServerNotTrusted(cause)) => {
                return Error::ServerNotTrusted {
                    url,
                    message: cause,
                };
            }
            None => {}
        }
        match status.code() {
            Code::NotFound => match call {
                Call::GetHost(host) => Error::NoSuchHost {
                    host: host.to_string(),
                },
                _ => Error::Rpc {
                    what: call.what(),
                    code: Code::NotFound,
                    message,
                },
            },
            Code::Unauthenticated | Code::PermissionDenied => Error::Refused { url, message },
            Code::Unavailable => Error::Unavailable { url, message },
            Code::DeadlineExceeded => Error::Timeout { url, timeout },
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                Error::Rejected {
                    what: call.what(),
                    message,
                }
            }
            Code::Unimplemented => Error::Unimplemented {
                url,
                what: call.what(),
            },
            code => Error::Rpc {
                what: call.what(),
                code,
                message,
            },
        }
    }

    /// Returns the process exit code for this error: [`EXIT_USAGE`] for what the user can
    /// fix in the command or its configuration, [`EXIT_UNAVAILABLE`] when the collector
    /// cannot be reached, [`EXIT_FAILURE`] otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Connect(connect::Error::Unreachable { .. })
            | Error::Unavailable { .. }
            | Error::Timeout { .. } => EXIT_UNAVAILABLE,
            Error::Connect(connect::Error::Tls { .. }) => EXIT_FAILURE,
            Error::Connect(_)
            | Error::Usage(_)
            | Error::Refused { .. }
            | Error::ServerNotTrusted { .. }
            | Error::Rejected { .. } => EXIT_USAGE,
            Error::NoSuchHost { .. }
            | Error::Unimplemented { .. }
            | Error::Rpc { .. }
            | Error::PageLoop(_)
            | Error::Output(_)
            | Error::Write(_) => EXIT_FAILURE,
        }
    }
}

/// Runs a parsed command line: checks it, connects, asks, and writes the answer to `out`.
/// A closed `out` (`wardctl hosts | head`) is not an error.
pub async fn run(cli: &Cli, out: &mut dyn Write) -> Result<(), Error> {
    let global = &cli.global;
    let target = Target::parse(&global.collector)?;
    // Local checks first: no need to reach the collector to refuse a bad argument.
    if let Command::Software(SoftwareArgs {
        below: Some(below), ..
    }) = &cli.command
    {
        check_below(below)?;
    }
    let credentials = CredentialPaths::resolve(
        &global.data_dir,
        global.ca.as_deref(),
        global.cert.as_deref(),
        global.key.as_deref(),
    )
    .load()?;
    let channel = connect::connect(&target, &credentials, global.timeout).await?;
    let mut session = Session {
        client: AdminServiceClient::new(channel),
        target,
        credentials,
        timeout: global.timeout,
    };
    let view = View::now(global.output);
    if let Command::Alerts(AlertsArgs {
        watch: Some(AlertsCommand::Watch(args)),
        ..
    }) = &cli.command
    {
        return session.watch(args, &view, out).await;
    }
    let text = session.execute(&cli.command, &view).await?;
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write(e)),
        _ => Ok(()),
    }
}

/// A connection to the collector and what is needed to word its answers.
pub struct Session {
    pub client: Client,
    pub target: Target,
    pub credentials: Credentials,
    pub timeout: Duration,
}

impl Session {
    /// Runs one command and returns the rendered answer.
    pub async fn execute(&mut self, command: &Command, view: &View) -> Result<String, Error> {
        match command {
            Command::Hosts(args) => {
                let hosts = self.list_hosts(args).await?;
                Ok(output::hosts(view, &hosts)?)
            }
            Command::Host(args) => {
                let host = self.get_host(&args.host).await?;
                Ok(output::host(view, &host)?)
            }
            Command::Software(args) => {
                let matches = self.find_software(args).await?;
                let query = SoftwareQuery {
                    name: &args.name,
                    below: args.below.as_deref(),
                };
                Ok(output::software(view, query, &matches)?)
            }
            Command::Patches(PatchesArgs {
                host: Some(host), ..
            }) => {
                let patches = self.get_host_patches(host).await?;
                Ok(output::host_patches(view, &patches)?)
            }
            Command::Patches(args) => {
                let fleet = self.list_patches(args).await?;
                Ok(output::patches(view, &fleet)?)
            }
            Command::Token(TokenCommand::Create(args)) => {
                // Before the token exists: a CA that cannot be read should not waste one.
                let hint = EnrollHint {
                    collector: self.target.url.clone(),
                    ca_fingerprint: self.credentials.ca_fingerprint()?,
                    loopback: self.target.is_loopback(),
                };
                let token = self.create_token(args).await?;
                Ok(output::token(view, &token, &hint)?)
            }
            Command::Alerts(AlertsArgs { watch: Some(_), .. }) => Err(Error::Usage(
                "`alerts watch` streams; run it with `wardctl alerts watch`".into(),
            )),
            Command::Alerts(args) => {
                let alerts = self.list_alerts(args, view.now).await?;
                Ok(output::alerts::alerts(view, &alerts)?)
            }
            Command::Alert(args) => self.alert(args, view).await,
            Command::Silence(command) => self.silence(command, view).await,
        }
    }

    /// Lists the hosts matching `args`, following pages until the last one or `--limit`.
    pub async fn list_hosts(&mut self, args: &HostsArgs) -> Result<Vec<pb::HostSummary>, Error> {
        let client = self.client.clone();
        let request = pb::ListHostsRequest {
            hostname_glob: args.hostname.clone().unwrap_or_default(),
            os: args.os.clone().unwrap_or_default(),
            seen_within_seconds: args.seen_within.map_or(0, |d| d.as_secs()),
            not_seen_within_seconds: args.offline_for.map_or(0, |d| d.as_secs()),
            ..Default::default()
        };
        self.pages(args.limit, Call::ListHosts, move |page_size, page_token| {
            let mut client = client.clone();
            let request = pb::ListHostsRequest {
                page_size,
                page_token,
                ..request.clone()
            };
            async move {
                let page = client.list_hosts(request).await?.into_inner();
                Ok((page.hosts, page.next_page_token))
            }
        })
        .await
    }

    /// Follows keyset pages until the last one or `limit` items: `fetch(page_size,
    /// page_token)` asks for one page and returns its items and the next token (empty on
    /// the last page).
    pub async fn pages<T, F, Fut>(
        &self,
        limit: Option<u32>,
        call: Call<'_>,
        mut fetch: F,
    ) -> Result<Vec<T>, Error>
    where
        F: FnMut(u32, String) -> Fut,
        Fut: std::future::Future<Output = Result<(Vec<T>, String), Status>>,
    {
        let limit = limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut items = Vec::new();
        let mut page_token = String::new();
        loop {
            let page_size =
                limit.map_or(0, |limit| limit.saturating_sub(items.len()).min(MAX_PAGE));
            let (page, next) = fetch(u32::try_from(page_size).unwrap_or(0), page_token.clone())
                .await
                .map_err(|s| self.error(&s, call))?;
            items.extend(page);
            if let Some(limit) = limit
                && items.len() >= limit
            {
                items.truncate(limit);
                break;
            }
            if next.is_empty() {
                break;
            }
            if next == page_token {
                return Err(Error::PageLoop(page_token));
            }
            page_token = next;
        }
        Ok(items)
    }

    /// Fetches one host by id or exact hostname.
    pub async fn get_host(&mut self, host: &str) -> Result<pb::GetHostResponse, Error> {
        let request = pb::GetHostRequest {
            host: host.to_string(),
        };
        match self.client.get_host(request).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(self.error(&status, Call::GetHost(host))),
        }
    }

    /// Finds the hosts that have the package(s) `args` name.
    pub async fn find_software(
        &mut self,
        args: &SoftwareArgs,
    ) -> Result<Vec<pb::SoftwareMatch>, Error> {
        let request = pb::FindSoftwareRequest {
            name: args.name.clone(),
            below_version: args.below.clone().unwrap_or_default(),
            include_not_installed: args.all_states,
        };
        match self.client.find_software(request).await {
            Ok(response) => Ok(response.into_inner().matches),
            Err(status) => Err(self.error(&status, Call::FindSoftware)),
        }
    }

    /// Asks for the fleet's patch state, riskiest host first.
    pub async fn list_patches(
        &mut self,
        args: &PatchesArgs,
    ) -> Result<pb::ListPatchesResponse, Error> {
        let request = pb::ListPatchesRequest {
            hostname_glob: args.hostname.clone().unwrap_or_default(),
            os: args.os.clone().unwrap_or_default(),
            security_only: args.security,
            security_pending_for_seconds: args.security_for.map_or(0, |d| d.as_secs()),
            reboot_required_only: args.reboot,
            reboot_required_for_seconds: args.reboot_for.map_or(0, |d| d.as_secs()),
            include_up_to_date: args.all,
        };
        match self.client.list_patches(request).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(self.error(&status, Call::ListPatches)),
        }
    }

    /// Fetches one host's patch state by id or exact hostname.
    pub async fn get_host_patches(
        &mut self,
        host: &str,
    ) -> Result<pb::GetHostPatchesResponse, Error> {
        let request = pb::GetHostPatchesRequest {
            host: host.to_string(),
        };
        match self.client.get_host_patches(request).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(self.error(&status, Call::GetHost(host))),
        }
    }

    /// Creates an enrolment token.
    pub async fn create_token(
        &mut self,
        args: &TokenCreateArgs,
    ) -> Result<pb::CreateEnrollmentTokenResponse, Error> {
        let request = pb::CreateEnrollmentTokenRequest {
            uses: args.uses.unwrap_or(0),
            ttl_seconds: args.ttl.map_or(0, |d| d.as_secs()),
            label: args.label.clone().unwrap_or_default(),
        };
        match self.client.create_enrollment_token(request).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(self.error(&status, Call::CreateToken)),
        }
    }

    fn error(&self, status: &Status, call: Call<'_>) -> Error {
        Error::from_status(status, call, &self.target, self.timeout)
    }
}

/// Refuses a `--below` version no supported package format can parse: each host's
/// collector-side comparison would fail on it anyway.
pub fn check_below(below: &str) -> Result<(), Error> {
    let errors: Vec<String> = version::SUPPORTED_FORMATS
        .iter()
        .filter_map(|format| version::validate(format, below).err())
        .map(|e| e.to_string())
        .collect();
    if errors.len() < version::SUPPORTED_FORMATS.len() {
        return Ok(());
    }
    Err(Error::Usage(format!("--below: {}", errors.join("; "))))
}

/// The status message and, for transport failures, the causes tonic keeps as sources.
fn status_message(status: &Status) -> String {
    let text = super::with_causes(
        status.message().to_string(),
        std::error::Error::source(status),
    );
    if text.is_empty() {
        format!("{:?}", status.code())
    } else {
        text
    }
}

mod alerts;

#[cfg(test)]
mod tests;
