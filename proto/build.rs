//! Generates the ward.v1 Rust code with protox (pure Rust): no `protoc` is needed.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/ward/v1/inventory.proto",
        "proto/ward/v1/patches.proto",
        "proto/ward/v1/posture.proto",
        "proto/ward/v1/alerts.proto",
        "proto/ward/v1/agent.proto",
        "proto/ward/v1/admin.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("ward_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // The inventory messages double as the agent's JSON model (`ward-agent inventory
        // --json`), so they serialize with serde under their proto field names.
        .type_attribute(
            ".ward.v1",
            "#[derive(serde::Serialize, serde::Deserialize)]",
        )
        .compile_fds(fds)?;
    Ok(())
}
