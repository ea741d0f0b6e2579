//! rpm's Berkeley DB `Packages` file (RHEL/CentOS 7 and 8, older SUSE and Fedora): a
//! hash database whose values are header blobs keyed by header number.
//!
//! Read without libdb, the way rpm's own `bdb_ro` backend (`lib/backend/bdb_ro.c`) reads
//! it: the metadata page gives the page size, the bucket count and the `spares` table
//! that maps buckets to pages; each bucket is a chain of hash pages holding key/value
//! pairs, inline or on chains of overflow pages. Both byte orders are read, as the file
//! is in its writer's. Encrypted databases (never used by rpm) are refused. Every page
//! number, offset and length is checked, and no page is visited twice, so a damaged or
//! hostile file gives an error, never a panic or an endless loop.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Bytes of the generic page header (`PAGE` in libdb's `db_page.h`).
const PAGE_HEADER: usize = 26;
/// Page types (libdb's `P_*`).
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
/// Item types on hash pages (libdb's `H_*`).
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// The hash magic number, in the file's byte order.
const HASH_MAGIC: u32 = 0x0006_1561;
/// Largest value read: rpm refuses headers above 256 MiB.
const MAX_VALUE: u32 = 256 << 20;

/// Where pages are read from: the file, or bytes in memory (tests, fuzzing).
pub trait Source {
    /// Fills `buf` from `offset`; an error when the source ends before.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl Source for File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        FileExt::read_exact_at(self, buf, offset)
    }
}

impl Source for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(io::Error::other)?;
        let bytes = start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

/// Why the file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the file failed (or it ended early).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file is not a Berkeley DB hash database this reader understands, or is damaged.
    #[error("{0}")]
    Format(String),
}

fn format(message: impl Into<String>) -> Error {
    Error::Format(message.into())
}

/// Calls `f(key, value)` for every record of the hash database in `src`, bucket by
/// bucket, as rpm's `bdb_ro` cursor walks it. The key is given as a number (in the
/// file's byte order, as rpm writes header numbers) when it is four bytes long.
pub fn for_each<S: Source + ?Sized>(
    src: &S,
    mut f: impl FnMut(Option<u32>, &[u8]),
) -> Result<(), Error> {
    let db = Db::open(src)?;
    let mut visited = HashSet::new();
    let mut page = vec![0u8; db.page_size];
    let mut key = Vec::new();
    let mut value = Vec::new();
    for bucket in 0..=db.max_bucket {
        let mut pgno = db.bucket_page(bucket)?;
        while pgno != 0 {
            if !visited.insert(pgno) {
                return Err(format(format!("page {pgno} is linked twice")));
            }
            db.read_page(pgno, &mut page)?;
            if !matches!(page[25], P_HASH | P_HASH_UNSORTED | P_HASHMETA) {
                return Err(format(format!(
                    "page {pgno} of bucket {bucket} is not a hash page (type {})",
                    page[25]
                )));
            }
            let entries = usize::from(db.u16(&page, 20));
            for idx in (0..entries.saturating_sub(1)).step_by(2) {
                let (k, v) = db.item_bounds(&page, idx)?;
                let key = db.item(&page, k, &mut key, &mut visited)?;
                let value = db.item(&page, v, &mut value, &mut visited)?;
                let number = (key.len() == 4).then(|| db.u32(key, 0));
                f(number, value);
            }
            pgno = db.u32(&page, 16);
        }
    }
    Ok(())
}

/// Where an item lies on a page: (offset, length).
type Span = (usize, usize);

/// The metadata of an open database.
struct Db<'a, S: ?Sized> {
    src: &'a S,
    swapped: bool,
    page_size: usize,
    last_page: u32,
    max_bucket: u32,
    spares: [u32; 32],
}

impl<'a, S: Source + ?Sized> Db<'a, S> {
    fn open(src: &'a S) -> Result<Self, Error> {
        let mut meta = [0u8; 512];
        src.read_exact_at(&mut meta, 0)?;
        let magic = [meta[12], meta[13], meta[14], meta[15]];
        let swapped = if u32::from_le_bytes(magic) == HASH_MAGIC {
            false
        } else if u32::from_be_bytes(magic) == HASH_MAGIC {
            true
        } else {
            return Err(format("not a Berkeley DB hash database (bad magic number)"));
        };
        let mut db = Self {
            src,
            swapped,
            page_size: 0,
            last_page: 0,
            max_bucket: 0,
            spares: [0; 32],
        };
        let version = db.u32(&meta, 16);
        if !(8..=10).contains(&version) {
            return Err(format(format!("unsupported hash version {version}")));
        }
        if meta[24] != 0 {
            return Err(format("the database is encrypted"));
        }
        let page_size = db.u32(&meta, 20);
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(format(format!("invalid page size {page_size}")));
        }
        db.page_size = page_size as usize;
        db.last_page = db.u32(&meta, 32);
        db.max_bucket = db.u32(&meta, 72);
        for (i, spare) in db.spares.iter_mut().enumerate() {
            *spare = if swapped {
                u32::from_be_bytes(word(&meta, 96 + 4 * i))
            } else {
                u32::from_le_bytes(word(&meta, 96 + 4 * i))
            };
        }
        Ok(db)
    }

    /// The first page of `bucket`: the bucket number plus the spare count of its split
    /// point (libdb's `BUCKET_TO_PAGE`).
    fn bucket_page(&self, bucket: u32) -> Result<u32, Error> {
        let split = (u32::BITS - bucket.leading_zeros()) as usize;
        self.spares
            .get(split)
            .and_then(|spare| bucket.checked_add(*spare))
            .ok_or_else(|| format(format!("bucket {bucket} has no page")))
    }

    fn read_page(&self, pgno: u32, page: &mut [u8]) -> Result<(), Error> {
        if pgno == 0 || pgno > self.last_page {
            return Err(format(format!(
                "page {pgno} is outside the database (last page {})",
                self.last_page
            )));
        }
        self.src
            .read_exact_at(page, u64::from(pgno) * self.page_size as u64)?;
        if self.u32(page, 8) != pgno {
            return Err(format(format!(
                "page {pgno} says it is page {}",
                self.u32(page, 8)
            )));
        }
        Ok(())
    }

    /// The (offset, length) of the key and of the value of the pair starting at entry
    /// `idx`. Items are packed from the end of the page down, so an item ends where the
    /// one before it starts.
    fn item_bounds(&self, page: &[u8], idx: usize) -> Result<(Span, Span), Error> {
        let index = |i: usize| -> Result<usize, Error> {
            let at = PAGE_HEADER + 2 * i;
            if at + 2 > self.page_size {
                return Err(format("hash page index runs past the page"));
            }
            Ok(usize::from(self.u16(page, at)))
        };
        let koff = index(idx)?;
        let voff = index(idx + 1)?;
        let kend = if idx == 0 {
            self.page_size
        } else {
            index(idx - 1)?
        };
        if koff >= self.page_size || voff >= self.page_size || voff >= koff || koff >= kend {
            return Err(format("hash page items overlap or run past the page"));
        }
        Ok(((koff, kend - koff), (voff, koff - voff)))
    }

    /// Returns the bytes of the item at `(off, len)`: inline, or gathered from its
    /// overflow pages into `buf`.
    fn item<'b>(
        &self,
        page: &'b [u8],
        (off, len): Span,
        buf: &'b mut Vec<u8>,
        visited: &mut HashSet<u32>,
    ) -> Result<&'b [u8], Error> {
        match page[off] {
            H_KEYDATA => Ok(&page[off + 1..off + len]),
            H_OFFPAGE if len == 12 => {
                let pgno = self.u32(page, off + 4);
                let total = self.u32(page, off + 8);
                self.overflow(pgno, total, buf, visited)?;
                Ok(buf.as_slice())
            }
            other => Err(format(format!("unsupported hash item type {other}"))),
        }
    }

    /// Gathers an item of `total` bytes from the overflow chain starting at `pgno`. A page
    /// belongs to one chain only, so an item is never longer than the file.
    fn overflow(
        &self,
        mut pgno: u32,
        total: u32,
        buf: &mut Vec<u8>,
        visited: &mut HashSet<u32>,
    ) -> Result<(), Error> {
        let pages = u64::from(self.last_page) * self.page_size as u64;
        if total == 0 || total > MAX_VALUE || u64::from(total) > pages {
            return Err(format(format!("overflow item of {total} bytes")));
        }
        buf.clear();
        let mut page = vec![0u8; self.page_size];
        let mut left = total as usize;
        while left > 0 {
            if !visited.insert(pgno) {
                return Err(format(format!("page {pgno} is linked twice")));
            }
            self.read_page(pgno, &mut page)?;
            if page[25] != P_OVERFLOW {
                return Err(format(format!("page {pgno} is not an overflow page")));
            }
            // On overflow pages the "high free offset" field holds the bytes used.
            let used = usize::from(self.u16(&page, 22));
            if used == 0 || used > left || PAGE_HEADER + used > self.page_size {
                return Err(format(format!("overflow page {pgno} holds {used} bytes")));
            }
            buf.extend_from_slice(&page[PAGE_HEADER..PAGE_HEADER + used]);
            left -= used;
            pgno = self.u32(&page, 16);
        }
        Ok(())
    }

    fn u32(&self, bytes: &[u8], at: usize) -> u32 {
        let w = word(bytes, at);
        if self.swapped {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    fn u16(&self, bytes: &[u8], at: usize) -> u16 {
        let w = [
            bytes.get(at).copied().unwrap_or_default(),
            bytes.get(at + 1).copied().unwrap_or_default(),
        ];
        if self.swapped {
            u16::from_be_bytes(w)
        } else {
            u16::from_le_bytes(w)
        }
    }
}

/// The four bytes at `at`, zeros past the end.
fn word(bytes: &[u8], at: usize) -> [u8; 4] {
    let mut w = [0u8; 4];
    for (i, b) in w.iter_mut().enumerate() {
        *b = bytes.get(at + i).copied().unwrap_or_default();
    }
    w
}
