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

/// Renders an error and its causes on one line, skipping a cause whose text the message
/// already carries (many messages embed their source).
pub fn describe(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_causes_are_not_repeated() {
        let io = std::io::Error::other("disk on fire");
        let e = anyhow::Error::new(io)
            .context("failed to write x: disk on fire")
            .context("saving");
        assert_eq!(describe(&e), "saving: failed to write x: disk on fire");
    }
}
