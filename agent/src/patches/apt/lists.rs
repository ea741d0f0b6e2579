//! apt's package lists (`var/lib/apt/lists/*_Packages[.gz|.xz|.lz4|.zst]`): which versions
//! of the installed packages the configured archives offer, read stanza by stanza.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::phasing;
use super::relations::Fields;

/// Which stanzas of a list are kept, and which of them keep their relationship fields.
pub trait Wanted {
    /// Returns whether stanzas of package `name` are kept.
    fn wants(&self, name: &str) -> bool;
    /// Returns whether the relationship fields of `name` at `version` are kept.
    fn wants_relations(&self, name: &str, version: &str) -> bool;
}

/// The installed packages, by name, with their installed versions: a list is read for
/// them, and the relationship fields of an installed version are left out (dpkg's status
/// has them), which keeps the cache small.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    versions: BTreeMap<String, Vec<String>>,
}

/// Compressed suffixes apt writes lists with (`Acquire::CompressionTypes`), and none.
pub const SUFFIXES: &[&str] = &["", ".gz", ".xz", ".lz4", ".zst"];

/// One version of a package offered by a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Package name.
    pub name: String,
    /// Version string, as the list writes it.
    pub version: String,
    /// Architecture (`amd64`, `all`, ...).
    pub arch: String,
    /// Source package name (the package's own name when the list gives none).
    pub source: String,
    /// Source version, from `Source: name (version)`; empty when it is the version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_version: String,
    /// `Phased-Update-Percentage` (Ubuntu), read as apt reads it; `None` when not phased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phased: Option<u8>,
    /// `Multi-Arch`, as written; empty when absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub multi_arch: String,
    /// The relationship fields (`Depends`, `Breaks`, ...), as written.
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub relations: Fields,
}

/// Returns the list name without its compression suffix when `file_name` is a `_Packages`
/// list apt reads, else `None`.
pub fn packages_list_name(file_name: &str) -> Option<&str> {
    SUFFIXES.iter().find_map(|suffix| {
        let base = file_name.strip_suffix(suffix)?;
        base.ends_with("_Packages").then_some(base)
    })
}

/// Most memory the .xz decoder may use; apt's lists use xz's default 8 MiB dictionary.
const XZ_MEMORY_LIMIT: u64 = 128 << 20;

/// Opens the list at `path`, decompressing by its suffix, as a buffered reader.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let file = File::open(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let inner: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else if name.ends_with(".xz") {
        // The .xz format only (not the legacy .lzma one the auto decoder also takes),
        // concatenated streams as xz(1) writes them, and a memory limit: a crafted header
        // must not make the agent allocate gigabytes (found by the apt_lists fuzz target).
        let stream = liblzma::stream::Stream::new_stream_decoder(
            XZ_MEMORY_LIMIT,
            liblzma::stream::CONCATENATED,
        )
        .map_err(io::Error::other)?;
        Box::new(liblzma::read::XzDecoder::new_stream(
            BufReader::new(file),
            stream,
        ))
    } else if name.ends_with(".lz4") {
        // apt writes lz4 in the frame format (magic 04 22 4d 18), not the block format.
        Box::new(lz4_flex::frame::FrameDecoder::new(BufReader::new(file)))
    } else if name.ends_with(".zst") {
        Box::new(zstd::stream::read::Decoder::new(file)?)
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::with_capacity(64 * 1024, inner)))
}

/// Reads a Packages list from `reader` and returns the entries whose Package is in
/// `installed` (names, or [`Installed`]), in list order.
///
/// Lists are tens of megabytes uncompressed, so only one line is held at a time and only
/// the wanted stanzas are kept. Stanzas without a Package or Version are skipped.
pub fn read_packages<R: BufRead, W: Wanted + ?Sized>(
    mut reader: R,
    installed: &W,
) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut line = Vec::with_capacity(256);
    let mut stanza = Stanza::default();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            stanza.finish(installed, &mut out);
            return Ok(out);
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(|b| matches!(b, b' ' | b'\t')) {
            stanza.finish(installed, &mut out);
            continue;
        }
        // The stanza of a package not installed: nothing more is read until it ends.
        if stanza.unwanted {
            continue;
        }
        // Continuation lines belong to multi-line fields (Description); of the fields
        // read here only a relationship field may be folded over lines.
        if matches!(text[0], b' ' | b'\t') {
            if let Some(field) = stanza.continued {
                let value = String::from_utf8_lossy(text.trim_ascii());
                stanza.relations.append(field.as_bytes(), &value);
            }
            continue;
        }
        stanza.continued = None;
        let Some(colon) = text.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (text[..colon].trim_ascii(), text[colon + 1..].trim_ascii());
        let slot = if name.eq_ignore_ascii_case(b"Package") {
            &mut stanza.package
        } else if name.eq_ignore_ascii_case(b"Version") {
            &mut stanza.version
        } else if name.eq_ignore_ascii_case(b"Architecture") {
            &mut stanza.arch
        } else if name.eq_ignore_ascii_case(b"Source") {
            &mut stanza.source
        } else if name.eq_ignore_ascii_case(b"Multi-Arch") {
            &mut stanza.multi_arch
        } else if name.eq_ignore_ascii_case(b"Phased-Update-Percentage") {
            &mut stanza.phased
        } else {
            let value = String::from_utf8_lossy(value);
            if stanza.relations.set(name, &value) {
                stanza.continued = RELATION_FIELDS
                    .iter()
                    .find(|f| f.as_bytes().eq_ignore_ascii_case(name))
                    .copied();
            }
            continue;
        };
        if slot.is_none() {
            *slot = Some(String::from_utf8_lossy(value).into_owned());
            if let Some(package) = &stanza.package
                && name.eq_ignore_ascii_case(b"Package")
                && !installed.wants(package)
            {
                stanza.unwanted = true;
            }
        }
    }
}

impl Wanted for HashSet<String> {
    fn wants(&self, name: &str) -> bool {
        self.contains(name)
    }

    fn wants_relations(&self, _name: &str, _version: &str) -> bool {
        true
    }
}

impl Wanted for Installed {
    fn wants(&self, name: &str) -> bool {
        self.versions.contains_key(name)
    }

    fn wants_relations(&self, name: &str, version: &str) -> bool {
        self.versions
            .get(name)
            .is_none_or(|installed| !installed.iter().any(|v| v == version))
    }
}

impl Installed {
    /// Adds an installed package.
    pub fn insert(&mut self, name: &str, version: &str) {
        let versions = self.versions.entry(name.to_owned()).or_default();
        if !versions.iter().any(|v| v == version) {
            versions.push(version.to_owned());
            versions.sort();
        }
    }

    /// Returns the names and versions, sorted by name (versions sorted too).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.versions
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

/// The relationship fields kept, as [`Fields`] names them.
const RELATION_FIELDS: [&str; 7] = [
    "Pre-Depends",
    "Depends",
    "Recommends",
    "Suggests",
    "Conflicts",
    "Breaks",
    "Provides",
];

/// Parses the bytes of an uncompressed Packages list; see [`read_packages`].
pub fn parse_packages<W: Wanted + ?Sized>(bytes: &[u8], installed: &W) -> Vec<Entry> {
    // Reading from a slice cannot fail.
    read_packages(bytes, installed).unwrap_or_default()
}

/// The fields of the stanza being read.
#[derive(Debug, Default)]
struct Stanza {
    package: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    source: Option<String>,
    multi_arch: Option<String>,
    phased: Option<String>,
    relations: Fields,
    /// The relationship field a continuation line would extend.
    continued: Option<&'static str>,
    /// The Package read is not wanted: the rest of the stanza is skipped.
    unwanted: bool,
}

impl Stanza {
    fn finish<W: Wanted + ?Sized>(&mut self, installed: &W, out: &mut Vec<Entry>) {
        let stanza = std::mem::take(self);
        let (Some(name), Some(version)) = (stanza.package, stanza.version) else {
            return;
        };
        if name.is_empty() || version.is_empty() || !installed.wants(&name) {
            return;
        }
        let relations = if installed.wants_relations(&name, &version) {
            stanza.relations
        } else {
            Fields::default()
        };
        // "Source: name (version)" when the source version differs from the binary's;
        // apt takes the name up to the first space and the version between the
        // parentheses after it, as written.
        let source = stanza
            .source
            .as_deref()
            .and_then(|s| s.split_ascii_whitespace().next())
            .map_or_else(|| name.clone(), str::to_owned);
        let source_version = stanza
            .source
            .as_deref()
            .and_then(|s| s.split_once(' '))
            .and_then(|(_, rest)| rest.split_once('('))
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(v, _)| v.to_owned())
            .filter(|v| *v != version)
            .unwrap_or_default();
        out.push(Entry {
            name,
            version,
            arch: stanza.arch.unwrap_or_default(),
            source,
            source_version,
            phased: stanza.phased.as_deref().and_then(phasing::parse_percentage),
            multi_arch: stanza.multi_arch.unwrap_or_default(),
            relations,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const LIST: &[u8] =
        b"Package: bash\nVersion: 5.2-1\nArchitecture: amd64\nSource: bash-src (5.2-0)\n\
Multi-Arch: foreign\nDepends: base-files (>= 2.1.12),\n debianutils (>= 5.6-0.1)\n\
Description: shell\n Version: 9\n\nPackage: other\nVersion: 1\nArchitecture: all\n\n\r\n\
Package: tzdata\r\nArchitecture: all\r\nVersion: 2025b-0\r\nPhased-Update-Percentage: 10\r\n";

    fn installed() -> HashSet<String> {
        ["bash", "tzdata"].into_iter().map(String::from).collect()
    }

    fn expected() -> Vec<Entry> {
        vec![
            Entry {
                name: "bash".into(),
                version: "5.2-1".into(),
                arch: "amd64".into(),
                source: "bash-src".into(),
                source_version: "5.2-0".into(),
                multi_arch: "foreign".into(),
                relations: Fields {
                    depends: "base-files (>= 2.1.12), debianutils (>= 5.6-0.1)".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
            Entry {
                name: "tzdata".into(),
                version: "2025b-0".into(),
                arch: "all".into(),
                source: "tzdata".into(),
                phased: Some(10),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn keeps_installed_stanzas_only_and_ignores_continuations() {
        assert_eq!(parse_packages(LIST, &installed()), expected());
    }

    #[test]
    fn installed_versions_keep_no_relations() {
        let mut installed = Installed::default();
        installed.insert("bash", "5.2-1");
        installed.insert("tzdata", "2024a-1");
        let got = parse_packages(LIST, &installed);
        assert_eq!(got.len(), 2);
        assert!(
            got[0].relations.is_empty(),
            "bash 5.2-1 is the installed version"
        );
        assert_eq!(got[0].multi_arch, "foreign");
        installed.insert("bash", "5.1-1");
        assert!(parse_packages(LIST, &installed)[0].relations.is_empty());
        let mut other = Installed::default();
        other.insert("bash", "5.1-1");
        assert!(!parse_packages(LIST, &other)[0].relations.is_empty());
    }

    #[test]
    fn list_names_by_suffix() {
        assert_eq!(
            packages_list_name("h_debian_dists_x_main_binary-amd64_Packages.lz4"),
            Some("h_debian_dists_x_main_binary-amd64_Packages")
        );
        assert_eq!(packages_list_name("h_x_Packages"), Some("h_x_Packages"));
        assert_eq!(packages_list_name("h_x_Packages.bz3"), None);
        assert_eq!(packages_list_name("h_x_InRelease"), None);
        assert_eq!(packages_list_name("h_x_Translation-en.lz4"), None);
    }

    #[test]
    fn reads_every_compression_apt_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let plain = dir.path().join("a_Packages");
        std::fs::write(&plain, LIST).unwrap();
        files.push(plain);

        let gz = dir.path().join("a_Packages.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(LIST).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        files.push(gz);

        let xz = dir.path().join("a_Packages.xz");
        let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
        enc.write_all(LIST).unwrap();
        std::fs::write(&xz, enc.finish().unwrap()).unwrap();
        files.push(xz);

        let lz4 = dir.path().join("a_Packages.lz4");
        let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::new());
        enc.write_all(LIST).unwrap();
        std::fs::write(&lz4, enc.finish().unwrap()).unwrap();
        files.push(lz4);

        let zst = dir.path().join("a_Packages.zst");
        std::fs::write(&zst, zstd::encode_all(LIST, 3).unwrap()).unwrap();
        files.push(zst);

        for file in files {
            let got = read_packages(open(&file).unwrap(), &installed()).unwrap();
            assert_eq!(got, expected(), "{}", file.display());
        }
    }

    #[test]
    fn a_corrupt_compressed_list_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let lz4 = dir.path().join("a_Packages.lz4");
        std::fs::write(&lz4, b"not lz4 at all").unwrap();
        assert!(read_packages(open(&lz4).unwrap(), &installed()).is_err());
    }
}
