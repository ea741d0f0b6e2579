//! Fuzzes the collector's side of software deltas, which arrive from the network.
//!
//! The input is a big-endian `u16` length, that many bytes of an encoded `pb::Software`
//! (the collector's stored section, canonicalized as the collector stores it), and the
//! rest an encoded `pb::SoftwareDelta`. Applying must never panic, and:
//!
//! - a delta whose base hash differs from the base's is refused with `BaseMismatch`;
//! - on `Ok` the section is canonical (canonicalizing it again changes nothing), its hash
//!   is the delta's result hash, and it equals what a plain map-based model of "remove,
//!   then upsert" gives;
//! - the agent's diff of base and result, applied to the base, gives the result again.
//!
//! Random bytes almost never carry a right BLAKE3 hash, so an empty `base_hash` is
//! replaced by the base's hash and an empty `result_hash` by the model's; the fuzzer
//! reaches those by leaving the fields out, and then `apply_software` must succeed.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use prost::Message;
use ward_proto::delta::{self, Error};
use ward_proto::digest;
use ward_proto::v1 as pb;

type Key = (String, String, String, String);

fn key(p: &pb::Package) -> Key {
    (
        p.name.clone(),
        p.arch.clone(),
        p.version.clone(),
        p.source.clone(),
    )
}

/// Returns what applying `delta` to `base` means, computed without `apply_software`:
/// the base keyed by package, removals taken out, upserts put in (a later one wins).
fn model(base: &pb::Software, delta: &pb::SoftwareDelta) -> pb::Software {
    let mut by_key: BTreeMap<Key, pb::Package> =
        base.packages.iter().map(|p| (key(p), p.clone())).collect();
    for k in &delta.remove {
        by_key.remove(&(
            k.name.clone(),
            k.arch.clone(),
            k.version.clone(),
            k.source.clone(),
        ));
    }
    for p in &delta.upsert {
        by_key.insert(key(p), p.clone());
    }
    // Tuples of Strings order like tuples of &str, the canonical order.
    pb::Software {
        packages: by_key.into_values().collect(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (base, delta) = rest.split_at(len);
    let (Ok(mut base), Ok(mut delta)) =
        (pb::Software::decode(base), pb::SoftwareDelta::decode(delta))
    else {
        return;
    };
    digest::canonicalize_software(&mut base);

    let base_hash = digest::software(&base);
    if delta.base_hash.is_empty() {
        delta.base_hash = base_hash.to_vec();
    }
    let expected = model(&base, &delta);
    let expected_hash = digest::software(&expected);
    if delta.result_hash.is_empty() {
        delta.result_hash = expected_hash.to_vec();
    }

    let result = delta::apply_software(&base, &delta);

    if delta.base_hash != base_hash {
        assert!(matches!(result, Err(Error::BaseMismatch)), "{result:?}");
        return;
    }
    if delta.result_hash == expected_hash {
        assert_eq!(
            result.as_ref().ok(),
            Some(&expected),
            "apply differs from the model"
        );
    }
    let Ok(out) = result else {
        // Only a result hash the model does not produce may be refused.
        assert_ne!(delta.result_hash, expected_hash);
        return;
    };
    let mut again = out.clone();
    digest::canonicalize_software(&mut again);
    assert_eq!(again, out, "applied section is not canonical");
    assert_eq!(
        digest::software(&out).as_slice(),
        delta.result_hash.as_slice()
    );

    // The agent computes deltas with delta::software; its delta from this base to this
    // result must apply back to the same result.
    let diff = delta::software(&base, &out);
    assert_eq!(delta::apply_software(&base, &diff).ok(), Some(out));
});
