//! `wardctl`: asks a Ward collector about the fleet. See `ward_collector::ctl`.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use ward_collector::ctl::{self, Cli, commands};

fn main() -> ExitCode {
    // One crypto provider for rustls, chosen before any TLS object exists.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(commands::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS // --help, --version
            };
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("wardctl: failed to start the async runtime: {e}");
            return ExitCode::from(commands::EXIT_FAILURE);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match runtime.block_on(ctl::run(&cli, &mut stdout)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wardctl: {}", chain(&e));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Logs go to stderr and are off unless `WARD_LOG` asks for them (`WARD_LOG=debug`);
/// `WARD_LOG_FORMAT=json` switches to JSON lines.
fn init_tracing() {
    let filter = match std::env::var("WARD_LOG") {
        Ok(spec) => EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            eprintln!("wardctl: ignoring WARD_LOG={spec:?}: {e}");
            EnvFilter::new("off")
        }),
        Err(_) => EnvFilter::new("off"),
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if std::env::var("WARD_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The error and its causes, each once: most messages already include their cause.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
