//! Inventory collection: os, hardware and software, read from a root directory.
//!
//! PLACEHOLDER: being written (helper). Public API contract:
//! - `pub struct Inventory { pub os: pb::OsInfo, pub hardware: pb::Hardware, pub software: pb::Software }`
//! - `pub fn collect(root: &Path) -> Result<Inventory, Error>`
//! - `pub fn render_table(inv: &Inventory) -> String`

use std::path::Path;

use ward_proto::v1 as pb;

/// A machine's inventory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub os: pb::OsInfo,
    pub hardware: pb::Hardware,
    pub software: pb::Software,
}

/// Errors while collecting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read {path}: {source}")]
    Read { path: std::path::PathBuf, source: std::io::Error },
}

/// Collects the inventory of the system under `root`.
pub fn collect(_root: &Path) -> Result<Inventory, Error> {
    Ok(Inventory::default())
}
