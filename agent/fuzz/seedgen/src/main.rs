//! Writes the seed corpus of the `software_delta` fuzz target: real packages parsed from
//! the dpkg seed of `dpkg_status`, turned into a base section and deltas by the agent's
//! own `delta::software`, in the target's input format (big-endian `u16` length, encoded
//! `pb::Software`, encoded `pb::SoftwareDelta`).
//!
//! Run from agent/fuzz: `cargo run --manifest-path seedgen/Cargo.toml`.

use std::path::Path;

use prost::Message;
use ward_agent::inventory::software::dpkg::parse_status;
use ward_proto::v1 as pb;
use ward_proto::{delta, digest};

const DPKG_SEED: &str = "corpus/dpkg_status/seed-var-lib-dpkg-status-7-stanzas";
const OUT: &str = "corpus/software_delta";

fn section(packages: Vec<pb::Package>) -> pb::Software {
    let mut sw = pb::Software { packages };
    digest::canonicalize_software(&mut sw);
    sw
}

fn write(name: &str, base: &pb::Software, delta: &pb::SoftwareDelta) -> anyhow::Result<()> {
    let base = base.encode_to_vec();
    let mut bytes = u16::try_from(base.len())?.to_be_bytes().to_vec();
    bytes.extend(base);
    bytes.extend(delta.encode_to_vec());
    std::fs::write(Path::new(OUT).join(name), bytes)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let packages = parse_status(&std::fs::read(DPKG_SEED)?);
    anyhow::ensure!(packages.len() >= 4, "too few packages in {DPKG_SEED}");
    let base = section(packages.clone());

    // An upgrade, a removal, a state change and a new architecture: what apt does.
    let mut changed = packages.clone();
    changed[0].version.push_str("+deb12u1");
    changed.remove(1);
    changed[1].state = "config-files".to_owned();
    let mut foreign = changed[2].clone();
    foreign.arch = "i386".to_owned();
    changed.push(foreign);
    let new = section(changed);
    let upgrade = delta::software(&base, &new);
    write("seed-upgrade-real-hashes", &base, &upgrade)?;

    // The same delta with its hashes left out: the target fills them in, so this one
    // reaches the apply path even after the fuzzer mutates the packages.
    let unhashed = pb::SoftwareDelta {
        base_hash: Vec::new(),
        result_hash: Vec::new(),
        ..upgrade.clone()
    };
    write("seed-upgrade-no-hashes", &base, &unhashed)?;

    // First report after enrolment: an empty base, every package upserted.
    let empty = pb::Software::default();
    write("seed-from-empty", &empty, &delta::software(&empty, &base))?;

    // Everything removed, and an upsert of a key that is also removed (the upsert wins).
    let mut wipe = delta::software(&base, &empty);
    wipe.upsert.push(packages[3].clone());
    wipe.result_hash = Vec::new();
    write("seed-remove-all-upsert-one", &base, &wipe)?;
    Ok(())
}
