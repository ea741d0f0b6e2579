//! Fuzzes the collector's side of patches deltas, which arrive from the network.
//!
//! The input is a big-endian `u16` length, that many bytes of an encoded `pb::Patches`
//! (the collector's stored section, canonicalized as the collector stores it), and the
//! rest an encoded `pb::PatchesDelta`. Applying must never panic, and:
//!
//! - a delta whose base hash differs from the base's is refused with `BaseMismatch`;
//! - on `Ok` the section is canonical, its hash is the delta's result hash, its pending
//!   list is what a map-based model of "remove, then upsert" gives, and every other
//!   field is the delta's `rest` (its own pending list ignored);
//! - the agent's diff of base and result, applied to the base, gives the result again.
//!
//! An empty `base_hash` is replaced by the base's hash and an empty `result_hash` by the
//! model's, so that the fuzzer reaches the success path.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use prost::Message;
use ward_proto::delta::{self, Error};
use ward_proto::digest;
use ward_proto::v1 as pb;

type Key = (String, String, String);

fn key(p: &pb::PendingUpdate) -> Key {
    (p.name.clone(), p.arch.clone(), p.source.clone())
}

/// What applying `delta` to `base` means, without `apply_patches`.
fn model(base: &pb::Patches, delta: &pb::PatchesDelta) -> pb::Patches {
    let mut by_key: BTreeMap<Key, pb::PendingUpdate> =
        base.pending.iter().map(|p| (key(p), p.clone())).collect();
    for k in &delta.remove {
        by_key.remove(&(k.name.clone(), k.arch.clone(), k.source.clone()));
    }
    for p in &delta.upsert {
        by_key.insert(key(p), p.clone());
    }
    let mut out = pb::Patches {
        pending: by_key.into_values().collect(),
        ..delta.rest.clone().unwrap_or_default()
    };
    // The inner lists (suites, advisories, restart units) are sorted as the collector
    // stores them; the pending order is already the model's.
    digest::canonicalize_patches(&mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (base, delta) = rest.split_at(len);
    let (Ok(mut base), Ok(mut delta)) =
        (pb::Patches::decode(base), pb::PatchesDelta::decode(delta))
    else {
        return;
    };
    digest::canonicalize_patches(&mut base);

    let base_hash = digest::patches(&base);
    if delta.base_hash.is_empty() {
        delta.base_hash = base_hash.to_vec();
    }
    let expected = model(&base, &delta);
    let expected_hash = digest::patches(&expected);
    if delta.result_hash.is_empty() {
        delta.result_hash = expected_hash.to_vec();
    }

    let result = delta::apply_patches(&base, &delta);

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
        assert_ne!(delta.result_hash, expected_hash);
        return;
    };
    let mut again = out.clone();
    digest::canonicalize_patches(&mut again);
    assert_eq!(again, out, "applied section is not canonical");
    assert_eq!(
        digest::patches(&out).as_slice(),
        delta.result_hash.as_slice()
    );

    let diff = delta::patches(&base, &out);
    assert_eq!(delta::apply_patches(&base, &diff).ok(), Some(out));
});
