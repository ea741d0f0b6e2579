//! The two views `ward-agent integrity scan` prints: JSON and a text table.

use comfy_table::{Table, presets};
use serde_json::{Value, json};

use super::scan::{Entry, Scan};

/// How many hex characters of a BLAKE3 hash the table shows.
const SHORT_HASH: usize = 16;

/// The scan as JSON: `{"files": [...], "errors": [{"path", "error"}]}`.
///
/// Paths that are not UTF-8 are shown with U+FFFD in place of the bytes that are not.
pub fn to_json(scan: &Scan) -> Value {
    let files: Vec<Value> = scan.files.iter().map(entry_json).collect();
    let errors: Vec<Value> = scan
        .errors
        .iter()
        .map(|e| {
            json!({
                "path": e.path.to_string_lossy(),
                "error": e.error.to_string(),
            })
        })
        .collect();
    json!({ "files": files, "errors": errors })
}

/// Renders the scan as a table (path, kind, size, mode in octal, uid:gid, the first 16
/// hex characters of the hash), then the errors, one a line.
pub fn render_table(scan: &Scan) -> String {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table.set_header(vec!["Path", "Kind", "Size", "Mode", "UID:GID", "BLAKE3"]);
    for e in &scan.files {
        let hash = e
            .blake3
            .as_deref()
            .map_or("-", |h| h.get(..SHORT_HASH).unwrap_or(h));
        let path = match &e.target {
            Some(t) => format!("{} -> {}", e.path.display(), t.display()),
            None => e.path.display().to_string(),
        };
        table.add_row(vec![
            path,
            e.kind.as_str().to_owned(),
            e.size.to_string(),
            format!("{:o}", e.mode),
            format!("{}:{}", e.uid, e.gid),
            hash.to_owned(),
        ]);
    }
    let mut out = format!("{table}\n");
    if !scan.errors.is_empty() {
        out.push_str(&format!("\nErrors ({}):\n", scan.errors.len()));
        for e in &scan.errors {
            out.push_str(&format!("  {}\n", e.error));
        }
    }
    out
}

fn entry_json(e: &Entry) -> Value {
    let mut v = json!({
        "path": e.path.to_string_lossy(),
        "kind": e.kind.as_str(),
        "blake3": e.blake3,
        "size": e.size,
        "mode": e.mode,
        "uid": e.uid,
        "gid": e.gid,
        "mtime": e.mtime,
    });
    if let (Some(target), Some(map)) = (&e.target, v.as_object_mut()) {
        map.insert("target".into(), json!(target.to_string_lossy()));
    }
    v
}
