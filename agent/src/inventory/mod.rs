//! Inventory collection: what a machine is (os, hardware) and what is on it (software),
//! read from a root directory so that a mounted image or fixture tree reads like `/`.

pub mod hardware;
pub mod os;
pub(crate) mod render;
pub(crate) mod root;
pub mod software;

use std::path::Path;

use serde::Serialize;
use ward_proto::digest;
use ward_proto::v1 as pb;

pub use render::render_table;

/// A machine's inventory, with hardware and software in canonical order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// Operating system facts.
    pub os: pb::OsInfo,
    /// CPU, memory, storage, network, DMI and GPUs.
    pub hardware: pb::Hardware,
    /// Installed packages.
    pub software: pb::Software,
}

/// Errors while collecting an inventory.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The root to read from is not a directory.
    #[error(transparent)]
    Root(#[from] crate::inventory::root::NotADirectory),
    /// A package database exists but cannot be read.
    #[error(transparent)]
    Software(#[from] software::Error),
}

/// Collects the inventory of the system under `root` (`/` for this machine).
///
/// Sources that are absent (no DMI, no GPU, no dpkg) leave their part empty; only a
/// package database that exists but cannot be read is an error.
pub fn collect(root: &Path) -> Result<Inventory, Error> {
    let root = root::Root::open(root)?;
    let os = os::collect(&root);
    let mut hardware = hardware::collect(&root);
    digest::canonicalize_hardware(&mut hardware);
    let mut software = software::collect(&root)?;
    digest::canonicalize_software(&mut software);
    Ok(Inventory {
        os,
        hardware,
        software,
    })
}

/// Returns the JSON form of an inventory: `{"os": {..}, "hardware": {..}, "software": [..]}`
/// with protobuf field names, `software` being the array of packages.
pub fn to_json(inv: &Inventory) -> serde_json::Value {
    #[derive(Serialize)]
    struct Json<'a> {
        os: &'a pb::OsInfo,
        hardware: &'a pb::Hardware,
        software: &'a [pb::Package],
    }
    let json = Json {
        os: &inv.os,
        hardware: &inv.hardware,
        software: &inv.software.packages,
    };
    // Plain structs of strings, numbers, lists and options always serialize.
    serde_json::to_value(json).unwrap_or_else(|e| {
        tracing::error!(error = %e, "inventory did not serialize to json");
        serde_json::Value::Null
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_contract() {
        let inv = Inventory {
            os: pb::OsInfo {
                hostname: "h".into(),
                machine_id: "m".into(),
                ..Default::default()
            },
            hardware: pb::Hardware {
                cpu: Some(pb::Cpu {
                    logical_cores: 4,
                    ..Default::default()
                }),
                memory: Some(pb::Memory {
                    total_bytes: 1 << 30,
                    swap_total_bytes: 0,
                }),
                interfaces: vec![pb::NetworkInterface {
                    name: "lo".into(),
                    r#virtual: true,
                    ..Default::default()
                }],
                ..Default::default()
            },
            software: pb::Software {
                packages: vec![pb::Package {
                    name: "bash".into(),
                    version: "5.2".into(),
                    arch: "amd64".into(),
                    source: "deb".into(),
                    state: "installed".into(),
                    installed_size: 1024,
                    ..Default::default()
                }],
            },
        };
        let v = to_json(&inv);
        assert_eq!(v["os"]["hostname"], "h");
        assert_eq!(v["os"]["machine_id"], "m");
        assert_eq!(v["hardware"]["memory"]["total_bytes"], 1u64 << 30);
        assert_eq!(v["hardware"]["cpu"]["logical_cores"], 4);
        assert_eq!(v["hardware"]["interfaces"][0]["virtual"], true);
        assert!(v["hardware"]["dmi"].is_null());
        let pkg = &v["software"][0];
        for field in [
            "name",
            "version",
            "arch",
            "source",
            "source_package",
            "installed_size",
            "state",
        ] {
            assert!(!pkg[field].is_null(), "{field} missing from {pkg}");
        }
        assert_eq!(pkg["source"], "deb");
        assert_eq!(v["software"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_missing_root_is_an_error_naming_it() {
        let err = collect(Path::new("/nonexistent/ward-root")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("root /nonexistent/ward-root is not a readable directory")
                && msg.contains("or / for this machine"),
            "{msg}"
        );
    }

    #[test]
    fn an_unreadable_dpkg_status_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: unreadable as a file even for root.
        std::fs::create_dir_all(dir.path().join("var/lib/dpkg/status")).unwrap();
        let err = collect(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("failed to read dpkg status at "), "{msg}");
        assert!(msg.contains("var/lib/dpkg/status"), "{msg}");
    }
}
