//! The dpkg status database (`/var/lib/dpkg/status`): which Debian packages are installed,
//! at which version, and in which state.

use std::io;
use std::path::PathBuf;

use ward_proto::v1 as pb;

use crate::inventory::root::Root;

/// Location of the status database, relative to the root.
pub const STATUS: &str = "var/lib/dpkg/status";

/// Directory of dpkg's journal, relative to the root.
pub const UPDATES: &str = "var/lib/dpkg/updates";

/// Errors reading the dpkg status database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The status file or a journal file exists but cannot be read.
    #[error(
        "failed to read dpkg status at {}: {source}; dpkg keeps its database readable by all \
         users (files 0644, directories 0755), so restore that or run the agent as a user \
         that can read it",
        path.display()
    )]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
}

/// Reads the packages of the dpkg database under `root`; `None` when there is no dpkg.
///
/// While dpkg runs (or after it was interrupted) the newest records sit in its journal,
/// `updates/NNNN`, one record per file, until dpkg folds them into `status`. dpkg-query
/// reads both, and so does this. A journal file that vanishes between listing and
/// reading was just folded in; a status read before that fold can then miss its record
/// until the next collection.
pub(crate) fn read(root: &Root) -> Result<Option<Vec<pb::Package>>, Error> {
    Ok(read_records(root, false)?.map(|r| r.into_iter().filter_map(|r| r.package).collect()))
}

/// The fields [`read_extras`] keeps: what apt's resolver needs beyond [`pb::Package`].
pub const EXTRA_FIELDS: [&str; 8] = [
    "Multi-Arch",
    "Pre-Depends",
    "Depends",
    "Recommends",
    "Suggests",
    "Conflicts",
    "Breaks",
    "Provides",
];

/// An installed package's selection and [`EXTRA_FIELDS`], for apt's resolver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// Package name.
    pub name: String,
    /// Architecture.
    pub arch: String,
    /// Version.
    pub version: String,
    /// The selection, Status's first word: `install`, `hold` (`apt-mark hold`),
    /// `deinstall` or `purge`.
    pub want: String,
    /// The values of [`EXTRA_FIELDS`], in that order, as written; empty when absent.
    pub fields: Vec<String>,
}

/// Reads the selection and [`EXTRA_FIELDS`] of each package [`read`] returns, journal
/// included; `None` when there is no dpkg.
pub(crate) fn read_extras(root: &Root) -> Result<Option<Vec<Extras>>, Error> {
    Ok(read_records(root, true)?.map(|r| {
        r.into_iter()
            .filter(|r| r.package.is_some())
            .filter_map(|r| r.extras)
            .collect()
    }))
}

/// The installed packages and, for the same packages, their [`Extras`].
pub(crate) type WithExtras = (Vec<pb::Package>, Vec<Extras>);

/// [`read`] and [`read_extras`] in one pass over dpkg's files; `None` when there is no
/// dpkg.
pub(crate) fn read_with_extras(root: &Root) -> Result<Option<WithExtras>, Error> {
    Ok(read_records(root, true)?.map(|records| {
        let mut packages = Vec::with_capacity(records.len());
        let mut extras = Vec::with_capacity(records.len());
        for r in records {
            if let Some(p) = r.package {
                packages.push(p);
                extras.extend(r.extras);
            }
        }
        (packages, extras)
    }))
}

fn read_records(root: &Root, extras: bool) -> Result<Option<Vec<Record>>, Error> {
    let Some(status) = read_file(root.join(STATUS))? else {
        return Ok(None);
    };
    let mut records = parse_records(&status, extras);
    for path in journal(root)? {
        if let Some(bytes) = read_file(path)? {
            apply(&mut records, parse_records(&bytes, extras));
        }
    }
    Ok(Some(records))
}

/// Parses the bytes of a dpkg status file into packages (`source` "deb").
///
/// The file is deb822: stanzas separated by blank lines, `Name: value` fields with
/// case-insensitive names, continuation lines starting with a space or tab. Bytes that
/// are not UTF-8 are replaced per field. Packages dpkg records as `not-installed` are left
/// out; stanzas without a Package or a readable Status are skipped and counted in a
/// warning. Never panics, whatever the input.
pub fn parse_status(bytes: &[u8]) -> Vec<pb::Package> {
    parse_records(bytes, false)
        .into_iter()
        .filter_map(|r| r.package)
        .collect()
}

fn read_file(path: PathBuf) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read { path, source }),
    }
}

/// Returns dpkg's journal files in the order dpkg applies them: all-digit names, by
/// number (dpkg ignores anything else there, such as its `tmp.i`).
fn journal(root: &Root) -> Result<Vec<PathBuf>, Error> {
    let dir = root.join(UPDATES);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Read { path: dir, source }),
    };
    let mut numbered: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((name.parse().ok()?, e.path()))
        })
        .collect();
    numbered.sort();
    Ok(numbered.into_iter().map(|(_, p)| p).collect())
}

/// Applies journal records over the database: a record replaces the entry of the same
/// package on the same architecture, or on any architecture unless both are
/// `Multi-Arch: same` (the only packages dpkg installs once per architecture).
fn apply(records: &mut Vec<Record>, updates: Vec<Record>) {
    for update in updates {
        records.retain(|r| {
            let same_slot = r.name == update.name
                && (r.arch == update.arch || !(r.multi_arch_same && update.multi_arch_same));
            !same_slot
        });
        records.push(update);
    }
}

/// Parses a status file into records, keeping `not-installed` ones (as `package: None`)
/// so that a journal record can remove a package; with `extras`, each installed one
/// carries its [`Extras`].
fn parse_records(bytes: &[u8], extras: bool) -> Vec<Record> {
    let mut records = Vec::new();
    let mut skipped = Skipped::default();
    let mut stanza = Stanza::default();
    for line in bytes.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|b| matches!(b, b' ' | b'\t')) {
            stanza.finish(&mut records, &mut skipped, extras);
            continue;
        }
        // Continuation lines extend multi-line fields (Description, Conffiles); every
        // field read here is single-line, so they carry nothing needed. Skipping them is
        // also what keeps a description line such as " Version: 9" from being a field.
        if matches!(line[0], b' ' | b'\t') {
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
        stanza.set(name, value);
    }
    stanza.finish(&mut records, &mut skipped, extras);
    if skipped.without_package > 0 || skipped.without_status > 0 {
        tracing::warn!(
            without_package = skipped.without_package,
            without_status = skipped.without_status,
            "skipped malformed dpkg status entries"
        );
    }
    records
}

/// One package's entry in the database.
#[derive(Debug)]
struct Record {
    name: String,
    arch: String,
    multi_arch_same: bool,
    /// `None` for `not-installed`: dpkg remembers the name, nothing is installed.
    package: Option<pb::Package>,
    /// Kept only when asked for.
    extras: Option<Extras>,
}

/// Counts of stanzas that could not become packages.
#[derive(Debug, Default)]
struct Skipped {
    without_package: usize,
    without_status: usize,
}

/// The fields of one stanza that matter, borrowed from the file's bytes.
#[derive(Debug, Default)]
struct Stanza<'a> {
    seen_field: bool,
    package: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    architecture: Option<&'a [u8]>,
    multi_arch: Option<&'a [u8]>,
    source: Option<&'a [u8]>,
    installed_size: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    extras: [Option<&'a [u8]>; EXTRA_FIELDS.len()],
}

impl<'a> Stanza<'a> {
    /// Records a field; the first of duplicate fields wins, as nothing valid repeats one.
    fn set(&mut self, name: &[u8], value: &'a [u8]) {
        self.seen_field = true;
        let slot = [
            (&b"Package"[..], &mut self.package),
            (b"Version", &mut self.version),
            (b"Architecture", &mut self.architecture),
            (b"Multi-Arch", &mut self.multi_arch),
            (b"Source", &mut self.source),
            (b"Installed-Size", &mut self.installed_size),
            (b"Status", &mut self.status),
        ]
        .into_iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, slot)| slot);
        if let Some(slot) = slot {
            slot.get_or_insert(value);
        }
        // Multi-Arch is both.
        if let Some(i) = EXTRA_FIELDS
            .iter()
            .position(|f| f.as_bytes().eq_ignore_ascii_case(name))
        {
            self.extras[i].get_or_insert(value);
        }
    }

    /// Turns the stanza into a package (if it is one) and starts a new stanza.
    fn finish(&mut self, out: &mut Vec<Record>, skipped: &mut Skipped, extras: bool) {
        let stanza = std::mem::take(self);
        if !stanza.seen_field {
            return;
        }
        let name = text(stanza.package);
        if name.is_empty() {
            skipped.without_package += 1;
            return;
        }
        // Status is "want flag state", e.g. "install ok installed",
        // "deinstall ok config-files", "install reinstreq half-installed".
        let status = text(stanza.status);
        let Some(state) = status.split_ascii_whitespace().nth(2) else {
            skipped.without_status += 1;
            return;
        };
        let mut record = Record {
            name: name.clone(),
            arch: text(stanza.architecture),
            multi_arch_same: stanza
                .multi_arch
                .is_some_and(|m| m.eq_ignore_ascii_case(b"same")),
            package: None,
            extras: None,
        };
        if state == "not-installed" {
            out.push(record);
            return;
        }
        // "Source: name (version)" names a source whose version differs from the binary's.
        let source = text(stanza.source);
        let source_package = source
            .split(|c: char| c.is_ascii_whitespace() || c == '(')
            .next()
            .filter(|s| *s != name)
            .unwrap_or_default()
            .to_owned();
        if extras {
            record.extras = Some(Extras {
                name: name.clone(),
                arch: record.arch.clone(),
                version: text(stanza.version),
                want: status
                    .split_ascii_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                fields: stanza.extras.iter().map(|v| text(*v)).collect(),
            });
        }
        record.package = Some(pb::Package {
            version: text(stanza.version),
            arch: record.arch.clone(),
            source: "deb".to_owned(),
            source_package,
            // Installed-Size is in KiB.
            installed_size: text(stanza.installed_size)
                .parse::<u64>()
                .map_or(0, |k| k.saturating_mul(1024)),
            state: state.to_owned(),
            epoch: String::new(),
            release: String::new(),
            // dpkg's status records neither.
            install_time: 0,
            vendor: String::new(),
            name,
        });
        out.push(record);
    }
}

fn text(value: Option<&[u8]>) -> String {
    value
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
