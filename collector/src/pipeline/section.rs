//! The one generic path every section kind takes through a report: check what is held,
//! decide what the update does, store the new section and project it for queries.
//!
//! - `Unchanged(h)`: keep the held section when its hash is `h`; otherwise the collector
//!   holds nothing or something else, so ask for the full section.
//! - `Full(x)`: canonicalize, hash, hold it (no write when the hash is already held).
//! - `Delta(d)`: apply to the held section; when nothing is held or the delta's base or
//!   result hash does not match, ask for the full section and keep what is held.
//!
//! "Held" means a stored hash whose stored body decodes: a section whose body does not is
//! treated as not held, so that a corrupt section heals on the next report even when the
//! agent's hash equals the stored one.

use std::collections::HashMap;

use prost::Message;
use tracing::warn;
use ward_proto::digest::Hash;
use ward_proto::section::{self, Update};
use ward_proto::v1 as pb;

use crate::sections::{Change, Section};
use crate::store::{self, SECTIONS, SectionAck, Tx, section_from_i64};

/// The hashes of the sections a host holds.
#[derive(Debug, Default, Clone)]
pub struct Held {
    hashes: HashMap<pb::Section, Hash>,
}

impl Held {
    /// Reads the hashes a host holds. A hash of the wrong length counts as not held, like
    /// a body that does not decode: the agent is asked for the section and its full
    /// report replaces the row.
    pub async fn load(tx: &mut dyn Tx, host_id: &str) -> Result<Self, store::Error> {
        let mut held = Held::default();
        for (section, hash) in tx.section_hashes(host_id).await? {
            let Some(section) = section_from_i64(section) else {
                continue;
            };
            match Hash::try_from(hash.as_slice()) {
                Ok(h) => {
                    held.hashes.insert(section, h);
                }
                Err(_) => warn!(
                    host = %host_id,
                    section = section.as_str_name(),
                    len = hash.len(),
                    "stored section hash has the wrong length; asking the agent for the section in full"
                ),
            }
        }
        Ok(held)
    }

    /// The hash held for a section.
    pub fn get(&self, section: pb::Section) -> Option<Hash> {
        self.hashes.get(&section).copied()
    }

    /// Returns one ack per known section, with the hash now held.
    pub fn acks(&self, send_full: &[pb::Section]) -> Vec<SectionAck> {
        SECTIONS
            .into_iter()
            .map(|section| SectionAck {
                section,
                hash: self.get(section),
                send_full: send_full.contains(&section),
            })
            .collect()
    }

    /// The (section, hash) pairs held, in ack order.
    pub fn pairs(&self) -> Vec<(pb::Section, Hash)> {
        SECTIONS
            .into_iter()
            .filter_map(|s| self.get(s).map(|h| (s, h)))
            .collect()
    }
}

/// What one section of a report did.
#[derive(Debug)]
pub enum Applied<B> {
    /// The held section stays (confirmed, or the report did not carry it).
    Kept,
    /// The update could not be applied; the agent must send the section in full.
    SendFull,
    /// The section replaced the one held.
    Replaced(Change<B>),
}

impl<B> Applied<B> {
    /// The change, when the section was replaced.
    pub fn change(&self) -> Option<&Change<B>> {
        match self {
            Applied::Replaced(c) => Some(c),
            _ => None,
        }
    }
}

/// Applies one section's update inside the report's transaction.
pub async fn apply<S: Section>(
    tx: &mut dyn Tx,
    host_id: &str,
    held: &mut Held,
    update: Option<Update<S>>,
    now: i64,
) -> Result<Applied<S::Body>, store::Error> {
    let Some(update) = update else {
        return Ok(Applied::Kept);
    };
    let mut hash = held.get(S::SECTION);
    let base = held_body::<S>(tx, host_id, &mut hash).await?;
    if hash.is_none() {
        held.hashes.remove(&S::SECTION);
    }
    let (new, new_hash, by_delta) = match update {
        Update::Unchanged(h) if hash == Some(h) => {
            S::kept(tx, host_id, now).await?;
            return Ok(Applied::Kept);
        }
        Update::Unchanged(_) => return Ok(Applied::SendFull),
        Update::Full(body) => {
            let (body, h) = section::canonical::<S>(body);
            (body, h, false)
        }
        Update::Delta(d) => {
            // A base without a held hash cannot be what the agent acknowledged.
            let (Some(_), Some(base)) = (hash, base.as_ref()) else {
                return Ok(Applied::SendFull);
            };
            match S::apply(base, &d) {
                Ok(next) => {
                    let h = S::hash(&next);
                    (next, h, true)
                }
                Err(_) => return Ok(Applied::SendFull),
            }
        }
    };
    if hash == Some(new_hash) {
        S::kept(tx, host_id, now).await?;
        return Ok(Applied::Kept);
    }
    tx.put_section(host_id, S::SECTION, &new_hash, &new.encode_to_vec(), now)
        .await?;
    let change = Change {
        old: base,
        new,
        by_delta,
    };
    S::project(tx, host_id, &change, now).await?;
    held.hashes.insert(S::SECTION, new_hash);
    Ok(Applied::Replaced(change))
}

/// Returns the decoded body of the section held under `hash`. A body that does not decode
/// clears `hash`: the section then counts as not held, so `Unchanged` asks for it in full
/// and a full section replaces it even when its hash equals the stored one. Without this
/// a host whose inventory never changes would keep a corrupt body forever.
async fn held_body<S: Section>(
    tx: &mut dyn Tx,
    host_id: &str,
    hash: &mut Option<Hash>,
) -> Result<Option<S::Body>, store::Error> {
    if hash.is_none() {
        return Ok(None);
    }
    let body = tx.section_body(host_id, S::SECTION).await?;
    let decoded = body.and_then(|b| store::decode_body::<S::Body>(host_id, S::SECTION, &b));
    if decoded.is_none() {
        *hash = None;
    }
    Ok(decoded)
}
