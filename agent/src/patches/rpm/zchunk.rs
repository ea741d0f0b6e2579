//! zchunk files (`*.xml.zck`), the form Fedora's dnf downloads repository metadata in:
//! a header listing chunks, then the chunks, each compressed on its own with zstd (and
//! an optional dictionary, itself the first chunk). Read chunk by chunk as a stream;
//! only the format's version 1 as libzck 1.x writes it (`zchunk_format.txt`), without
//! signatures or streams, which no repository uses.
//!
//! Checksums are not verified: the file is dnf's own cache, which dnf verified when it
//! downloaded it, and a damaged chunk still fails to decompress.

use std::io::{self, Read};

/// The file's first bytes.
const MAGIC: &[u8; 5] = b"\0ZCK1";
/// Largest header read: Fedora's biggest (filelists) are about 1 MiB.
const MAX_HEADER: u64 = 64 << 20;
/// Largest decompressed chunk or dictionary: chunks are cut at tens of KiB.
const MAX_CHUNK: u64 = 16 << 20;

/// One chunk of the data: its compressed and decompressed lengths.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    compressed: u64,
    length: u64,
}

/// Decompresses a zchunk file read from `inner`, as a stream of its content.
pub struct Reader<R> {
    inner: R,
    /// The zstd decoder (with the dictionary loaded); `None` when chunks are stored.
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    /// The data chunks still to read, in order, reversed (next one last).
    chunks: Vec<Chunk>,
    /// The current chunk's content, and how much of it was served.
    out: Vec<u8>,
    pos: usize,
}

impl<R: Read> Reader<R> {
    /// Reads the header (and the dictionary) from `inner`; an `InvalidData` error when
    /// it is not a zchunk file this reader understands.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut magic = [0u8; 5];
        inner.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(invalid("not a zchunk file"));
        }
        let hash = digest_size(read_int(&mut inner)?)?;
        let header_len = read_int(&mut inner)?;
        if header_len > MAX_HEADER {
            return Err(invalid("zchunk header too large"));
        }
        skip(&mut inner, hash)?;
        let mut header = Vec::new();
        (&mut inner).take(header_len).read_to_end(&mut header)?;
        if header.len() as u64 != header_len {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }

        let mut h = header.as_slice();
        advance(&mut h, hash)?; // the data digest
        let flags = int(&mut h)?;
        if flags & !0b110 != 0 {
            return Err(invalid("zchunk file uses streams or unknown flags"));
        }
        let zstd = match int(&mut h)? {
            0 => None,
            2 => Some(zstd::bulk::Decompressor::new()?),
            _ => return Err(invalid("unknown zchunk compression")),
        };
        if flags & 0b10 != 0 {
            // Optional elements: (id, size, data), none of which matters here.
            for _ in 0..int(&mut h)? {
                int(&mut h)?;
                let size = int(&mut h)?;
                advance(&mut h, size)?;
            }
        }
        let index_len = int(&mut h)?;
        let index_len =
            usize::try_from(index_len).map_err(|_| invalid("zchunk index too large"))?;
        if index_len > h.len() {
            return Err(invalid("zchunk index runs past the header"));
        }
        let (mut index, mut rest) = h.split_at(index_len);
        if int(&mut rest)? != 0 {
            return Err(invalid("signed zchunk files are not supported"));
        }

        let chunk_digest = digest_size(int(&mut index)?)?;
        let count = int(&mut index)?;
        let mut chunks = Vec::new();
        while !index.is_empty() {
            advance(&mut index, chunk_digest)?;
            if flags & 0b100 != 0 {
                advance(&mut index, chunk_digest)?; // the uncompressed digest
            }
            let compressed = int(&mut index)?;
            let length = int(&mut index)?;
            if length > MAX_CHUNK || compressed > MAX_CHUNK {
                return Err(invalid("zchunk chunk too large"));
            }
            chunks.push(Chunk { compressed, length });
        }
        if chunks.len() as u64 != count || chunks.is_empty() {
            return Err(invalid("zchunk index does not match its chunk count"));
        }
        // The first entry is the dictionary (of length 0 when there is none).
        let dict_chunk = chunks.remove(0);
        chunks.reverse();
        let mut reader = Self {
            inner,
            zstd,
            chunks,
            out: Vec::new(),
            pos: 0,
        };
        // The dictionary is compressed without one; every other chunk with it.
        if dict_chunk.compressed > 0 {
            let dict = reader.decompress(dict_chunk)?;
            if reader.zstd.is_some() {
                reader.zstd = Some(zstd::bulk::Decompressor::with_dictionary(&dict)?);
            }
        }
        Ok(reader)
    }

    /// Reads one chunk from the stream and decompresses it, checking its length against
    /// the index.
    fn decompress(&mut self, chunk: Chunk) -> io::Result<Vec<u8>> {
        let mut data = Vec::new();
        (&mut self.inner)
            .take(chunk.compressed)
            .read_to_end(&mut data)?;
        if data.len() as u64 != chunk.compressed {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        let out = match &mut self.zstd {
            None => data,
            Some(d) => {
                // The index gives the size, bounded above; decompressing more is an error.
                let capacity = usize::try_from(chunk.length).map_err(io::Error::other)?;
                d.decompress(&data, capacity)?
            }
        };
        if out.len() as u64 != chunk.length {
            return Err(invalid("zchunk chunk length differs from its index"));
        }
        Ok(out)
    }
}

impl<R: Read> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            let Some(chunk) = self.chunks.pop() else {
                return Ok(0);
            };
            self.out = self.decompress(chunk)?;
            self.pos = 0;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Bytes of a digest of checksum type `kind` (libzck: SHA-1, SHA-256, SHA-512,
/// SHA-512/128).
fn digest_size(kind: u64) -> io::Result<u64> {
    match kind {
        0 => Ok(20),
        1 => Ok(32),
        2 => Ok(64),
        3 => Ok(16),
        _ => Err(invalid("unknown zchunk checksum type")),
    }
}

/// Reads a zchunk integer: 7 bits a byte, least significant first, the last byte
/// marked by its top bit.
fn read_int<R: Read>(r: &mut R) -> io::Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        value |= u64::from(b[0] & 0x7f)
            .checked_shl(shift)
            .filter(|v| v >> shift == u64::from(b[0] & 0x7f))
            .ok_or_else(|| invalid("zchunk integer overflows"))?;
        if b[0] & 0x80 != 0 {
            return Ok(value);
        }
    }
    Err(invalid("zchunk integer too long"))
}

/// [`read_int`] on a slice, advancing it.
fn int(s: &mut &[u8]) -> io::Result<u64> {
    read_int(s)
}

fn advance(s: &mut &[u8], n: u64) -> io::Result<()> {
    let n = usize::try_from(n).map_err(|_| invalid("zchunk header truncated"))?;
    if n > s.len() {
        return Err(invalid("zchunk header truncated"));
    }
    *s = &s[n..];
    Ok(())
}

fn skip<R: Read>(r: &mut R, n: u64) -> io::Result<()> {
    let copied = io::copy(&mut r.take(n), &mut io::sink())?;
    if copied != n {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    Ok(())
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}
