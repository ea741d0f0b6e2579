//! RPM header blobs, as the rpm database stores one per installed package (rpm's
//! `lib/header.c`): a count of index entries, the length of the data store, the index
//! entries (tag, type, offset, count; all big-endian `u32`), then the data store.
//!
//! Only what the inventory needs is read, and every offset is checked: the blob comes
//! from a file the agent does not control, so any byte sequence gives a header or an
//! error, never a panic or an out-of-bounds read.

use std::borrow::Cow;

/// Tags read from a header (rpm's `rpmtag.h`).
pub mod tag {
    /// Package name (`STRING`).
    pub const NAME: u32 = 1000;
    /// Version (`STRING`).
    pub const VERSION: u32 = 1001;
    /// Release (`STRING`).
    pub const RELEASE: u32 = 1002;
    /// Epoch (`INT32`), absent for most packages.
    pub const EPOCH: u32 = 1003;
    /// When the package was installed (`INT32`, Unix seconds).
    pub const INSTALLTIME: u32 = 1008;
    /// Installed size in bytes (`INT32`); see [`LONGSIZE`].
    pub const SIZE: u32 = 1009;
    /// Vendor (`STRING`).
    pub const VENDOR: u32 = 1011;
    /// Architecture (`STRING`); absent for `gpg-pubkey` entries.
    pub const ARCH: u32 = 1022;
    /// Source package file name (`STRING`), `name-version-release.src.rpm`.
    pub const SOURCERPM: u32 = 1044;
    /// Installed size in bytes (`INT64`), for packages of 4 GiB or more.
    pub const LONGSIZE: u32 = 5009;
}

/// Most index entries rpm accepts in a header (`hdrchkTags`).
const MAX_ENTRIES: u32 = 0xffff;
/// Most data-store bytes rpm accepts in a header (`hdrchkData`).
const MAX_DATA: u32 = 0x00ff_ffff;
/// Bytes of one index entry.
const ENTRY: usize = 16;

/// Data types of header entries (rpm's `rpmTagType`).
mod kind {
    pub const INT8: u32 = 2;
    pub const INT16: u32 = 3;
    pub const INT32: u32 = 4;
    pub const INT64: u32 = 5;
    pub const STRING: u32 = 6;
    pub const STRING_ARRAY: u32 = 8;
    pub const I18NSTRING: u32 = 9;
}

/// Why a blob is not a usable header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Shorter than the 8 bytes of counts.
    #[error("header blob of {len} bytes is too short")]
    Short {
        /// Bytes in the blob.
        len: usize,
    },
    /// The counts exceed rpm's limits or the blob.
    #[error("header declares {entries} entries and {data} data bytes, {len} bytes given")]
    Size {
        /// Index entries declared.
        entries: u32,
        /// Data-store bytes declared.
        data: u32,
        /// Bytes in the blob.
        len: usize,
    },
    /// A tag every package has is missing or unreadable.
    #[error("header has no readable {0} tag")]
    Missing(&'static str),
}

/// The fields of a header the inventory reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// `NAME`.
    pub name: String,
    /// `EPOCH`, when present.
    pub epoch: Option<u64>,
    /// `VERSION`.
    pub version: String,
    /// `RELEASE`.
    pub release: String,
    /// `ARCH`, empty when absent (rpm prints `(none)`).
    pub arch: String,
    /// `LONGSIZE`, else `SIZE`, else 0.
    pub size: u64,
    /// `INSTALLTIME`, when present.
    pub install_time: Option<u64>,
    /// `VENDOR`, empty when absent.
    pub vendor: String,
    /// `SOURCERPM`, empty when absent (source packages and `gpg-pubkey` have none).
    pub source_rpm: String,
}

/// A header blob whose index and data store are within bounds.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    index: &'a [u8],
    data: &'a [u8],
}

/// One index entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

impl<'a> Header<'a> {
    /// Checks the counts of `blob` against rpm's limits and the blob's length. Bytes past
    /// the data store are ignored.
    pub fn parse(blob: &'a [u8]) -> Result<Self, Error> {
        let (Some(entries), Some(data)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err(Error::Short { len: blob.len() });
        };
        let size = Error::Size {
            entries,
            data,
            len: blob.len(),
        };
        if entries == 0 || entries > MAX_ENTRIES || data > MAX_DATA {
            return Err(size);
        }
        // Both are bounded above, so this cannot overflow.
        let index_end = 8 + entries as usize * ENTRY;
        let data_end = index_end + data as usize;
        if blob.len() < data_end {
            return Err(size);
        }
        Ok(Self {
            index: &blob[8..index_end],
            data: &blob[index_end..data_end],
        })
    }

    /// Returns the entry of `tag`; the last one when it repeats, as entries added after
    /// install ("dribbles") replace those of the package's immutable region in rpm.
    fn entry(&self, tag: u32) -> Option<Entry> {
        self.index
            .chunks_exact(ENTRY)
            .rev()
            .map(|e| Entry {
                tag: be32(e, 0).unwrap_or_default(),
                kind: be32(e, 4).unwrap_or_default(),
                offset: be32(e, 8).unwrap_or_default(),
                count: be32(e, 12).unwrap_or_default(),
            })
            .find(|e| e.tag == tag)
    }

    /// Returns the string of `tag` (the first of an array or of translations), invalid
    /// UTF-8 replaced; `None` when absent, not a string or out of bounds.
    pub fn string(&self, tag: u32) -> Option<Cow<'a, str>> {
        let e = self.entry(tag)?;
        if !matches!(e.kind, kind::STRING | kind::STRING_ARRAY | kind::I18NSTRING) || e.count == 0 {
            return None;
        }
        let start = usize::try_from(e.offset).ok()?;
        let rest = self.data.get(start..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]))
    }

    /// Returns the first integer of `tag`; `None` when absent, not an integer or out of
    /// bounds.
    pub fn int(&self, tag: u32) -> Option<u64> {
        let e = self.entry(tag)?;
        let width = match e.kind {
            kind::INT8 => 1,
            kind::INT16 => 2,
            kind::INT32 => 4,
            kind::INT64 => 8,
            _ => return None,
        };
        if e.count == 0 {
            return None;
        }
        let start = usize::try_from(e.offset).ok()?;
        let bytes = self.data.get(start..start.checked_add(width)?)?;
        Some(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
    }

    /// Reads the fields the inventory uses; NAME, VERSION and RELEASE are required and
    /// must not be empty (rpmbuild refuses empty ones; the fuzzer made one).
    pub fn fields(&self) -> Result<Fields, Error> {
        let required = |tag: u32, name: &'static str| {
            self.string(tag)
                .filter(|s| !s.is_empty())
                .map(Cow::into_owned)
                .ok_or(Error::Missing(name))
        };
        let optional = |tag: u32| self.string(tag).map(Cow::into_owned).unwrap_or_default();
        Ok(Fields {
            name: required(tag::NAME, "NAME")?,
            epoch: self.int(tag::EPOCH),
            version: required(tag::VERSION, "VERSION")?,
            release: required(tag::RELEASE, "RELEASE")?,
            arch: optional(tag::ARCH),
            size: self
                .int(tag::LONGSIZE)
                .or_else(|| self.int(tag::SIZE))
                .unwrap_or_default(),
            install_time: self.int(tag::INSTALLTIME),
            vendor: optional(tag::VENDOR),
            source_rpm: optional(tag::SOURCERPM),
        })
    }
}

impl Fields {
    /// Returns the EVR as rpm's `%{EVR}` prints it: `[E:]V-R`, the epoch whenever the
    /// header has one (`0:` included).
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }

    /// Returns the source package's name from `SOURCERPM` (`glibc-2.34-83.el9.src.rpm`
    /// gives `glibc`), or an empty string when there is none or it cannot be split.
    pub fn source_name(&self) -> &str {
        let s = self.source_rpm.as_str();
        let s = s
            .strip_suffix(".src.rpm")
            .or_else(|| s.strip_suffix(".nosrc.rpm"))
            .unwrap_or(s);
        // name-version-release: the name is what precedes the last two hyphens.
        s.rsplitn(3, '-').nth(2).unwrap_or_default()
    }
}

/// Reads a big-endian `u32` at `at`.
fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a header blob from (tag, type, count, data) entries, data laid out in order.
    fn blob(entries: &[(u32, u32, u32, &[u8])]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, kind, count, bytes) in entries {
            for v in [*tag, *kind, data.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    #[test]
    fn reads_the_fields_and_prints_the_evr() {
        let b = blob(&[
            (tag::NAME, kind::STRING, 1, b"bash\0"),
            (tag::VERSION, kind::STRING, 1, b"5.1.8\0"),
            (tag::RELEASE, kind::STRING, 1, b"6.el9_1\0"),
            (tag::EPOCH, kind::INT32, 1, &0u32.to_be_bytes()),
            (tag::ARCH, kind::STRING, 1, b"x86_64\0"),
            (tag::SIZE, kind::INT32, 1, &7_738_634u32.to_be_bytes()),
            (
                tag::SOURCERPM,
                kind::STRING,
                1,
                b"bash-5.1.8-6.el9_1.src.rpm\0",
            ),
            (
                tag::VENDOR,
                kind::STRING,
                1,
                b"Rocky Enterprise Software Foundation\0",
            ),
            (
                tag::INSTALLTIME,
                kind::INT32,
                1,
                &1_700_000_000u32.to_be_bytes(),
            ),
        ]);
        let f = Header::parse(&b).unwrap().fields().unwrap();
        assert_eq!(f.evr(), "0:5.1.8-6.el9_1");
        assert_eq!(f.size, 7_738_634);
        assert_eq!(f.source_name(), "bash");
        assert_eq!(f.install_time, Some(1_700_000_000));
        assert_eq!(f.vendor, "Rocky Enterprise Software Foundation");
    }

    #[test]
    fn longsize_wins_and_later_entries_replace_earlier_ones() {
        let b = blob(&[
            (tag::NAME, kind::STRING, 1, b"old\0"),
            (tag::VERSION, kind::STRING, 1, b"1\0"),
            (tag::RELEASE, kind::STRING, 1, b"1\0"),
            (tag::SIZE, kind::INT32, 1, &1u32.to_be_bytes()),
            (tag::LONGSIZE, kind::INT64, 1, &(5u64 << 32).to_be_bytes()),
            (tag::NAME, kind::STRING, 1, b"new\0"),
        ]);
        let f = Header::parse(&b).unwrap().fields().unwrap();
        assert_eq!(f.name, "new");
        assert_eq!(f.size, 5 << 32);
        assert_eq!(f.evr(), "1-1");
        assert_eq!(f.arch, "");
    }

    #[test]
    fn broken_blobs_are_errors() {
        assert_eq!(
            Header::parse(&[0, 0, 0]).unwrap_err(),
            Error::Short { len: 3 }
        );
        // One entry declared, none given.
        let b = [0, 0, 0, 1, 0, 0, 0, 0];
        assert!(matches!(Header::parse(&b), Err(Error::Size { .. })));
        // An unterminated name, an offset past the end, a wrong type.
        let b = blob(&[
            (tag::VERSION, kind::STRING, 1, b"1\0"),
            (tag::RELEASE, kind::INT32, 1, b"\0\0\0\x01"),
            (tag::NAME, kind::STRING, 1, b"bash"),
        ]);
        let h = Header::parse(&b).unwrap();
        assert_eq!(h.fields().unwrap_err(), Error::Missing("NAME"));
        // Present but empty (found by the rpm_header fuzz target).
        let empty = blob(&[
            (tag::NAME, kind::STRING, 1, b"\0"),
            (tag::VERSION, kind::STRING, 1, b"1\0"),
            (tag::RELEASE, kind::STRING, 1, b"1\0"),
        ]);
        let e = Header::parse(&empty).unwrap();
        assert_eq!(e.fields().unwrap_err(), Error::Missing("NAME"));
        assert_eq!(h.string(tag::RELEASE), None);
        assert_eq!(h.int(tag::RELEASE), Some(1));
        assert_eq!(h.int(tag::EPOCH), None);
    }

    #[test]
    fn source_names() {
        let f = |s: &str| Fields {
            source_rpm: s.into(),
            ..Default::default()
        };
        assert_eq!(f("glibc-2.34-83.el9.src.rpm").source_name(), "glibc");
        assert_eq!(
            f("python-foo-bar-1.0-1.nosrc.rpm").source_name(),
            "python-foo-bar"
        );
        assert_eq!(f("").source_name(), "");
        assert_eq!(f("odd.src.rpm").source_name(), "");
    }
}
