//! A section of a host's state as one notion: its wire update, its canonical form and
//! hash, and (for the sections that have them) its deltas. The agent builds updates and
//! the collector decides what to do with them through this one generic path, so a new
//! section is a new [`Kind`] here and its own module on each side.

use prost::Message;

use crate::delta;
use crate::digest::{self, Hash};
use crate::v1 as pb;

/// What a report says about one section.
#[derive(Debug, Clone, PartialEq)]
pub enum Update<K: Kind> {
    /// Unchanged since the collector acknowledged this hash.
    Unchanged(Hash),
    /// The whole section.
    Full(K::Body),
    /// The difference from the section acknowledged as the delta's base (only kinds with
    /// [`Kind::HAS_DELTA`]).
    Delta(K::Delta),
}

/// Why a wire update was refused at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{section}: the update names no kind (unchanged, full or delta)")]
    Empty { section: &'static str },
    #[error(
        "{section}: unchanged hash must be {} bytes, got {got}",
        digest::HASH_LEN
    )]
    HashLength { section: &'static str, got: usize },
}

/// A section kind: the message that carries it, how it is made canonical and hashed, and
/// how it travels on the wire.
pub trait Kind: Sized + 'static {
    /// The section's number in [`pb::Section`].
    const SECTION: pb::Section;
    /// Whether the section travels as deltas.
    const HAS_DELTA: bool;
    /// The section's message.
    type Body: Message + Default + Clone + PartialEq + Send + Sync + 'static;
    /// The delta message ([`NoDelta`] for kinds without deltas).
    type Delta: Message + Default + Clone + PartialEq + Send + Sync + 'static;
    /// The wire message of an update (`pb::OsUpdate`, ...).
    type Wire: Message + Default + Clone + Send + 'static;

    /// Sorts the section's lists into canonical order.
    fn canonicalize(body: &mut Self::Body);

    /// Returns the hash of a canonical body.
    fn hash(body: &Self::Body) -> Hash {
        digest::of_message(body)
    }

    /// Returns the delta from `old` to `new` (both canonical); None for kinds without
    /// deltas.
    fn delta(old: &Self::Body, new: &Self::Body) -> Option<Self::Delta>;

    /// Applies a delta to `base`, checking the base and result hashes it carries.
    fn apply(base: &Self::Body, delta: &Self::Delta) -> Result<Self::Body, delta::Error>;

    /// Takes this section's update out of a report.
    fn take(report: &mut pb::ReportRequest) -> Option<Self::Wire>;

    /// Puts this section's update into a report.
    fn put(report: &mut pb::ReportRequest, wire: Self::Wire);

    /// Converts the wire update into an [`Update`].
    fn from_wire(wire: Self::Wire) -> Result<Update<Self>, Error>;

    /// Converts an [`Update`] into the wire message.
    fn to_wire(update: Update<Self>) -> Self::Wire;

    /// The section's name in messages and logs ("software").
    fn name() -> &'static str {
        match Self::SECTION {
            pb::Section::Os => "os",
            pb::Section::Hardware => "hardware",
            pb::Section::Software => "software",
            pb::Section::Patches => "patches",
            pb::Section::Posture => "posture",
            pb::Section::Integrity => "integrity",
            pb::Section::Unspecified => "unspecified",
        }
    }
}

/// The delta of a section kind that has none: an empty message that is never sent.
#[derive(Clone, Copy, PartialEq, Eq, Message)]
pub struct NoDelta {}

/// The os section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Os;
/// The hardware section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardware;
/// The software section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Software;
/// The patches section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patches;
/// The posture section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posture;

/// Reads an `unchanged` hash.
fn hash_of<K: Kind>(bytes: &[u8]) -> Result<Hash, Error> {
    Hash::try_from(bytes).map_err(|_| Error::HashLength {
        section: K::name(),
        got: bytes.len(),
    })
}

/// Implements the wire half of a kind whose update is `oneof { unchanged, full }`.
macro_rules! wire_without_delta {
    ($field:ident, $wire:ty, $kind:ident) => {
        fn take(report: &mut pb::ReportRequest) -> Option<Self::Wire> {
            report.$field.take()
        }

        fn put(report: &mut pb::ReportRequest, wire: Self::Wire) {
            report.$field = Some(wire);
        }

        fn from_wire(wire: Self::Wire) -> Result<Update<Self>, Error> {
            use pb::$kind::Kind as W;
            match wire.kind {
                Some(W::Unchanged(h)) => Ok(Update::Unchanged(hash_of::<Self>(&h)?)),
                Some(W::Full(b)) => Ok(Update::Full(b)),
                None => Err(Error::Empty {
                    section: Self::name(),
                }),
            }
        }

        fn to_wire(update: Update<Self>) -> Self::Wire {
            use pb::$kind::Kind as W;
            let kind = match update {
                Update::Unchanged(h) => W::Unchanged(h.to_vec()),
                Update::Full(b) => W::Full(b),
                // Kinds without deltas never build one (delta() is None).
                Update::Delta(NoDelta {}) => W::Unchanged(Vec::new()),
            };
            <$wire>::default_with(kind)
        }

        fn delta(_: &Self::Body, _: &Self::Body) -> Option<Self::Delta> {
            None
        }

        fn apply(_: &Self::Body, _: &Self::Delta) -> Result<Self::Body, delta::Error> {
            Err(delta::Error::BaseMismatch)
        }
    };
}

/// Implements the wire half of a kind whose update is `oneof { unchanged, full, delta }`.
macro_rules! wire_with_delta {
    ($field:ident, $wire:ty, $kind:ident) => {
        fn take(report: &mut pb::ReportRequest) -> Option<Self::Wire> {
            report.$field.take()
        }

        fn put(report: &mut pb::ReportRequest, wire: Self::Wire) {
            report.$field = Some(wire);
        }

        fn from_wire(wire: Self::Wire) -> Result<Update<Self>, Error> {
            use pb::$kind::Kind as W;
            match wire.kind {
                Some(W::Unchanged(h)) => Ok(Update::Unchanged(hash_of::<Self>(&h)?)),
                Some(W::Full(b)) => Ok(Update::Full(b)),
                Some(W::Delta(d)) => Ok(Update::Delta(d)),
                None => Err(Error::Empty {
                    section: Self::name(),
                }),
            }
        }

        fn to_wire(update: Update<Self>) -> Self::Wire {
            use pb::$kind::Kind as W;
            let kind = match update {
                Update::Unchanged(h) => W::Unchanged(h.to_vec()),
                Update::Full(b) => W::Full(b),
                Update::Delta(d) => W::Delta(d),
            };
            <$wire>::default_with(kind)
        }
    };
}

/// Builds a wire update from its oneof.
trait WithKind<K> {
    fn default_with(kind: K) -> Self;
}

macro_rules! with_kind {
    ($wire:ty, $kind:ident) => {
        impl WithKind<pb::$kind::Kind> for $wire {
            fn default_with(kind: pb::$kind::Kind) -> Self {
                Self { kind: Some(kind) }
            }
        }
    };
}
with_kind!(pb::OsUpdate, os_update);
with_kind!(pb::HardwareUpdate, hardware_update);
with_kind!(pb::SoftwareUpdate, software_update);
with_kind!(pb::PatchesUpdate, patches_update);
with_kind!(pb::PostureUpdate, posture_update);

impl Kind for Os {
    const SECTION: pb::Section = pb::Section::Os;
    const HAS_DELTA: bool = false;
    type Body = pb::OsInfo;
    type Delta = NoDelta;
    type Wire = pb::OsUpdate;

    // OsInfo holds no lists, so its encoding is already canonical.
    fn canonicalize(_: &mut pb::OsInfo) {}

    wire_without_delta!(os, pb::OsUpdate, os_update);
}

impl Kind for Hardware {
    const SECTION: pb::Section = pb::Section::Hardware;
    const HAS_DELTA: bool = false;
    type Body = pb::Hardware;
    type Delta = NoDelta;
    type Wire = pb::HardwareUpdate;

    fn canonicalize(body: &mut pb::Hardware) {
        digest::canonicalize_hardware(body);
    }

    wire_without_delta!(hardware, pb::HardwareUpdate, hardware_update);
}

impl Kind for Software {
    const SECTION: pb::Section = pb::Section::Software;
    const HAS_DELTA: bool = true;
    type Body = pb::Software;
    type Delta = pb::SoftwareDelta;
    type Wire = pb::SoftwareUpdate;

    fn canonicalize(body: &mut pb::Software) {
        digest::canonicalize_software(body);
    }

    fn delta(old: &pb::Software, new: &pb::Software) -> Option<pb::SoftwareDelta> {
        Some(delta::software(old, new))
    }

    fn apply(base: &pb::Software, d: &pb::SoftwareDelta) -> Result<pb::Software, delta::Error> {
        delta::apply_software(base, d)
    }

    wire_with_delta!(software, pb::SoftwareUpdate, software_update);
}

impl Kind for Patches {
    const SECTION: pb::Section = pb::Section::Patches;
    const HAS_DELTA: bool = true;
    type Body = pb::Patches;
    type Delta = pb::PatchesDelta;
    type Wire = pb::PatchesUpdate;

    fn canonicalize(body: &mut pb::Patches) {
        digest::canonicalize_patches(body);
    }

    fn delta(old: &pb::Patches, new: &pb::Patches) -> Option<pb::PatchesDelta> {
        Some(delta::patches(old, new))
    }

    fn apply(base: &pb::Patches, d: &pb::PatchesDelta) -> Result<pb::Patches, delta::Error> {
        delta::apply_patches(base, d)
    }

    wire_with_delta!(patches, pb::PatchesUpdate, patches_update);
}

impl Kind for Posture {
    const SECTION: pb::Section = pb::Section::Posture;
    const HAS_DELTA: bool = false;
    type Body = pb::Posture;
    type Delta = NoDelta;
    type Wire = pb::PostureUpdate;

    fn canonicalize(body: &mut pb::Posture) {
        digest::canonicalize_posture(body);
    }

    wire_without_delta!(posture, pb::PostureUpdate, posture_update);
}

/// Returns the canonical form of `body` and its hash.
pub fn canonical<K: Kind>(mut body: K::Body) -> (K::Body, Hash) {
    K::canonicalize(&mut body);
    let hash = K::hash(&body);
    (body, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trips_each_kind() {
        let os = pb::OsInfo {
            hostname: "a".into(),
            ..Default::default()
        };
        let w = Os::to_wire(Update::Full(os.clone()));
        assert_eq!(Os::from_wire(w), Ok(Update::Full(os)));
        let h = [7u8; digest::HASH_LEN];
        let w = Posture::to_wire(Update::Unchanged(h));
        assert_eq!(Posture::from_wire(w), Ok(Update::Unchanged(h)));
        let d = pb::SoftwareDelta::default();
        let w = Software::to_wire(Update::Delta(d.clone()));
        assert_eq!(Software::from_wire(w), Ok(Update::Delta(d)));
    }

    #[test]
    fn bad_wire_updates_are_refused() {
        assert_eq!(
            Patches::from_wire(pb::PatchesUpdate { kind: None }),
            Err(Error::Empty { section: "patches" })
        );
        let short = pb::HardwareUpdate {
            kind: Some(pb::hardware_update::Kind::Unchanged(vec![1, 2])),
        };
        assert_eq!(
            Hardware::from_wire(short),
            Err(Error::HashLength {
                section: "hardware",
                got: 2
            })
        );
    }

    #[test]
    fn take_and_put_use_the_kind_s_field() {
        let mut r = pb::ReportRequest::default();
        Posture::put(
            &mut r,
            Posture::to_wire(Update::Full(pb::Posture::default())),
        );
        assert!(r.posture.is_some());
        assert!(Posture::take(&mut r).is_some());
        assert!(r.posture.is_none());
    }

    #[test]
    fn kinds_without_deltas_build_none() {
        assert!(Os::delta(&pb::OsInfo::default(), &pb::OsInfo::default()).is_none());
        assert!(Software::delta(&pb::Software::default(), &pb::Software::default()).is_some());
    }
}
