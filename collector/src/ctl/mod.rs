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
