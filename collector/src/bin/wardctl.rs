//! `wardctl`: asks a Ward collector about the fleet. See `ward_collector::ctl`.

use std::process::ExitCode;

use clap::Parser;
use ward_collector::ctl::{self, Cli, commands};

/// wardctl's output is its answer: logs stay off the terminal unless `WARD_LOG` asks for
/// more, apart from warnings.
const DEFAULT_LOG_FILTER: &str = "warn";

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
    ward_runtime::logging::init(DEFAULT_LOG_FILTER);
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
            eprintln!("wardctl: {}", ctl::describe(&e));
            ExitCode::from(e.exit_code())
        }
    }
}
