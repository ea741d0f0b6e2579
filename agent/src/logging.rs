//! Tracing set-up shared by Ward's binaries: `WARD_LOG` sets the filter (default given by
//! the caller), `WARD_LOG_FORMAT=json` switches to JSON lines. Logs go to stderr so that
//! stdout stays for command output.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call is a no-op.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_env("WARD_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("WARD_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.with_target(false).try_init()
    };
}
