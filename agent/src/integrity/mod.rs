//! File integrity: for now the scanner; baseline, watcher and attribution come next.
//!
//! [`scan::scan`] hashes what is under a set of paths, and [`to_json`] and
//! [`render_table`] give the two views `ward-agent integrity scan` prints.

mod render;
pub mod scan;

pub use render::{render_table, to_json};
pub use scan::{Entry, Error, Kind, Scan, ScanError, scan};
