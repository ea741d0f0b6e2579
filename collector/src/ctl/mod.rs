//! `wardctl`, the admin client, as a library: the binary in `bin/wardctl.rs` only parses
//! the command line and maps the result to an exit code.
//!
//! - [`cli`]: the command line (global flags, one subcommand per question).
//! - [`connect`]: admin credentials and the mutual-TLS channel to the collector.
//! - [`commands`]: each subcommand's requests, and collector answers worded as errors.
//! - [`output`]: tables for people, JSON and CSV for scripts.

pub mod cli;
pub mod commands;
pub mod connect;
pub mod output;

pub use cli::Cli;
pub use commands::{Error, run};

/// Renders an error and its causes on one line, skipping a cause whose text is already
/// there: most messages embed their source, while tonic's transport errors say little on
/// their own ("transport error") and keep the useful part (connection refused, certificate
/// unknown) deeper down. The same rule as `ward_runtime::logging::describe`, for errors that
/// are not `anyhow`.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    with_causes(error.to_string(), error.source())
}

/// Appends `cause` and its sources to `text`, each unless `text` already says it.
fn with_causes(mut text: String, mut cause: Option<&(dyn std::error::Error + 'static)>) -> String {
    while let Some(error) = cause {
        let cause_text = error.to_string();
        if !text.contains(&cause_text) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause_text);
        }
        cause = error.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Layer {
        text: &'static str,
        source: Option<Box<Layer>>,
    }

    fn layers(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |source, &text| {
                Some(Layer {
                    text,
                    source: source.map(Box::new),
                })
            })
            .unwrap()
    }

    #[test]
    fn causes_are_joined_each_once() {
        let error = layers(&["transport error", "connection refused"]);
        assert_eq!(describe(&error), "transport error: connection refused");
        let error = layers(&["failed to read x: disk on fire", "disk on fire", ""]);
        assert_eq!(describe(&error), "failed to read x: disk on fire");
        assert_eq!(with_causes(String::new(), Some(&error)), error.text);
    }
}
