//! rpm's ndb package file (`Packages.db`, SUSE's default backend): slot pages naming where
//! each header blob lies, then the blobs, each framed by a head and a tail.
//!
//! Read as rpm's `lib/backend/ndb/rpmpkg.c` reads it (all integers little-endian): a
//! 32-byte header (`RpmP`, version 0, generation, slot page count, next package index),
//! 16-byte slots (`Slot`, package index, block offset, block count; offset 0 is a free
//! slot) filling the slot pages, and blobs at block offsets (blocks of 16 bytes) as
//! `BlbS`, package index, time, length, the header blob, padding, then a tail with
//! the Adler-32 sum, the length again and `BlbE`. Blobs are returned in file order, as
//! `rpm -qa` lists them. Like rpm when it reads a blob, the checksum is not verified;
//! every length and offset is, so any bytes give an error or blobs within the file.

use std::io;

use super::bdb::Source;

const MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_HEAD: u32 = u32::from_le_bytes(*b"BlbS");
const BLOB_TAIL: u32 = u32::from_le_bytes(*b"BlbE");
const HEADER_SIZE: u64 = 32;
const SLOT_SIZE: u64 = 16;
const BLOCK: u64 = 16;
const PAGE: u64 = 4096;
const HEAD_SIZE: u64 = 16;
const TAIL_SIZE: u64 = 12;
/// Largest blob read: rpm refuses headers above 256 MiB.
const MAX_BLOB: u64 = 256 << 20;

/// Why the file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the file failed (or it ended early).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file is not an ndb package file, or is damaged.
    #[error("{0}")]
    Format(String),
}

fn format(message: impl Into<String>) -> Error {
    Error::Format(message.into())
}

/// One used slot.
#[derive(Debug, Clone, Copy)]
struct Slot {
    index: u32,
    offset: u64,
    blocks: u64,
}

/// Calls `f(package index, blob)` for every package in the ndb file `src` of `len` bytes,
/// in the order of the blobs in the file.
pub fn for_each<S: Source + ?Sized>(
    src: &S,
    len: u64,
    mut f: impl FnMut(u32, &[u8]),
) -> Result<(), Error> {
    let mut header = [0u8; HEADER_SIZE as usize];
    src.read_exact_at(&mut header, 0)?;
    if le(&header, 0) != MAGIC {
        return Err(format("not an rpm ndb package file (bad magic number)"));
    }
    if le(&header, 4) != 0 {
        return Err(format(format!(
            "unsupported ndb version {}",
            le(&header, 4)
        )));
    }
    let pages = u64::from(le(&header, 12));
    if !len.is_multiple_of(BLOCK) {
        return Err(format("file size is not a whole number of blocks"));
    }
    let blocks = len / BLOCK;
    if pages == 0 || pages * PAGE > len {
        return Err(format(format!("{pages} slot pages do not fit the file")));
    }
    let first_blob = pages * (PAGE / BLOCK);

    let mut slots = Vec::new();
    let mut page = vec![0u8; PAGE as usize];
    for p in 0..pages {
        src.read_exact_at(&mut page, p * PAGE)?;
        let start = if p == 0 { HEADER_SIZE } else { 0 };
        for at in (start..PAGE).step_by(SLOT_SIZE as usize) {
            let at = at as usize;
            if le(&page, at) != SLOT_MAGIC {
                return Err(format(format!(
                    "slot at {} is damaged",
                    p * PAGE + at as u64
                )));
            }
            let offset = u64::from(le(&page, at + 8));
            if offset == 0 {
                continue;
            }
            let slot = Slot {
                index: le(&page, at + 4),
                offset,
                blocks: u64::from(le(&page, at + 12)),
            };
            if slot.index == 0
                || slot.blocks == 0
                || slot.offset < first_blob
                || slot.offset + slot.blocks > blocks
            {
                return Err(format(format!(
                    "slot of package {} points outside the blobs",
                    slot.index
                )));
            }
            slots.push(slot);
        }
    }
    slots.sort_by_key(|s| s.offset);

    let mut blob = Vec::new();
    for slot in slots {
        let base = slot.offset * BLOCK;
        let mut head = [0u8; HEAD_SIZE as usize];
        src.read_exact_at(&mut head, base)?;
        let length = u64::from(le(&head, 12));
        if le(&head, 0) != BLOB_HEAD
            || le(&head, 4) != slot.index
            || length > MAX_BLOB
            || slot.blocks != (HEAD_SIZE + length + TAIL_SIZE).div_ceil(BLOCK)
        {
            return Err(format(format!("blob of package {} is damaged", slot.index)));
        }
        let mut tail = [0u8; TAIL_SIZE as usize];
        src.read_exact_at(&mut tail, base + slot.blocks * BLOCK - TAIL_SIZE)?;
        if u64::from(le(&tail, 4)) != length || le(&tail, 8) != BLOB_TAIL {
            return Err(format(format!("blob of package {} is damaged", slot.index)));
        }
        // Bounded above by the slot, which lies within the file.
        blob.resize(length as usize, 0);
        src.read_exact_at(&mut blob, base + HEAD_SIZE)?;
        f(slot.index, &blob);
    }
    Ok(())
}

/// Reads a little-endian `u32` at `at` (0 past the end).
fn le(bytes: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    for (i, b) in w.iter_mut().enumerate() {
        *b = bytes.get(at + i).copied().unwrap_or_default();
    }
    u32::from_le_bytes(w)
}
