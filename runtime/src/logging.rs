//! Tracing set-up shared by Ward's binaries: `WARD_LOG` sets the filter (default given by
//! the caller), `WARD_LOG_FORMAT=json` switches to JSON lines. Logs go to stderr so that
//! stdout stays for command output.
//!
//! `WARD_LOG` is a list of `level` and `target=level` directives (`info`,
//! `warn,ward_agent=debug`): per-module levels, without the span and field filters of
//! `RUST_LOG`-style env filters, whose regex engine would cost the agent service a quarter
//! of a megabyte of resident code (docs/benchmarks.md).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Installs the global subscriber; a second call is a no-op. A `WARD_LOG` that does not
/// parse is reported on stderr and the default used.
pub fn init(default_filter: &str) {
    let fallback = || default_filter.parse::<Targets>().unwrap_or_default();
    let filter = match std::env::var("WARD_LOG") {
        Ok(text) if !text.trim().is_empty() => text.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!("WARD_LOG={text:?} is not a log filter ({e}); using {default_filter:?}");
            fallback()
        }),
        _ => fallback(),
    };
    let json = std::env::var("WARD_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_target(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
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
    fn documented_filters_parse() {
        for text in [
            "info",
            "warn,ward_agent=debug",
            "ward_collector=debug",
            "off",
        ] {
            assert!(text.parse::<Targets>().is_ok(), "{text}");
        }
        assert!("ward_agent=loud".parse::<Targets>().is_err());
    }

    #[test]
    fn embedded_causes_are_not_repeated() {
        let io = std::io::Error::other("disk on fire");
        let e = anyhow::Error::new(io)
            .context("failed to write x: disk on fire")
            .context("saving");
        assert_eq!(describe(&e), "saving: failed to write x: disk on fire");
    }
}
