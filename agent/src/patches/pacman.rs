//! Pending Arch Linux updates, found the way `pacman -Qu` finds them: for each installed
//! package, the first sync database in `pacman.conf`'s order that has a package of that
//! name gives the candidate (not the highest version across repositories: that is
//! pacman's rule), and it is pending when it is newer by `vercmp`. Nothing is run and
//! nothing is fetched: the answer is as fresh as the last `pacman -Sy`.
//!
//! Read: `etc/pacman.conf` (`[repo]` sections in order, `IgnorePkg`, `IgnoreGroup`,
//! `Include`), the sync databases `var/lib/pacman/sync/<repo>.db` (tar archives,
//! uncompressed or gzip, zstd or xz compressed, one `<name>-<version>/desc` per package)
//! and the local database. A package that `IgnorePkg` or `IgnoreGroup` names is reported
//! with `held_back`, as `pacman -Qu` lists it with `[ignored]`. Not followed: a `DBPath`
//! other than the default, repository `Usage`, and bzip2-compressed databases (skipped
//! with a warning). The sync databases carry no security information, so `security` is
//! always false.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ward_proto::v1 as pb;

use crate::inventory::root::Root;
use crate::inventory::software::pacman::{self as local_db, Desc};

/// pacman's configuration file, relative to the root.
pub const CONF: &str = "etc/pacman.conf";
/// Directory of the sync databases, relative to the root (pacman's default `DBPath`).
pub const SYNC: &str = "var/lib/pacman/sync";

/// How much a sync database may decompress to; Arch's largest (`extra.db`) is about
/// 10 MiB uncompressed.
const MAX_DB_BYTES: u64 = 512 << 20;
/// How large one `desc` entry may be.
const MAX_DESC_BYTES: u64 = 1 << 20;
/// How deep `Include` may nest; pacman stops at 10 as well.
const MAX_INCLUDE_DEPTH: usize = 10;

/// A package whose sync candidate is newer than the installed version (`source`
/// "pacman").
pub type Pending = pb::PendingUpdate;

/// Errors reading pacman's files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// pacman.conf or a sync database exists but cannot be read or unpacked.
    #[error(
        "failed to read {}: {source}; run `pacman -Sy` if a sync database is damaged, or run \
         the agent as a user that can read it",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
    /// pacman's local database exists but cannot be read.
    #[error(transparent)]
    Local(#[from] local_db::Error),
}

/// What `pacman.conf` says that matters here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Repository sections, in file order (without `[options]`).
    pub repos: Vec<String>,
    /// `IgnorePkg` patterns, in file order.
    pub ignore_pkg: Vec<String>,
    /// `IgnoreGroup` patterns, in file order.
    pub ignore_group: Vec<String>,
}

/// Reads `pacman.conf` under `root`, following its `Include` lines (paths taken under
/// `root`; a glob in the last path component is expanded). A missing file gives an empty
/// configuration; a missing included file is skipped, as pacman warns and goes on.
pub(crate) fn read_conf(root: &Root) -> Result<Config, Error> {
    let mut config = Config::default();
    let mut section = String::new();
    read_conf_file(root, CONF, &mut config, &mut section, 0, true)?;
    Ok(config)
}

/// Parses the text of a `pacman.conf` without following `Include` lines.
pub fn parse_conf(text: &str) -> Config {
    let mut config = Config::default();
    let mut section = String::new();
    parse_conf_into(text, &mut config, &mut section, &mut |_, _, _| {});
    config
}

/// Reads the packages of a sync database: every `*/desc` entry of the archive, in archive
/// order. The compression is told by the first bytes, as libalpm (libarchive) does.
pub fn read_sync_db(path: &Path) -> io::Result<Vec<Desc>> {
    let mut file = std::fs::File::open(path)?;
    let mut magic = [0u8; 6];
    let n = read_up_to(&mut file, &mut magic)?;
    let head = io::Cursor::new(magic[..n].to_vec());
    let raw = head.chain(file);
    let reader: Box<dyn Read> = match &magic[..n] {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(raw))),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Box::new(zstd::stream::read::Decoder::new(raw)?),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00] => {
            let stream = liblzma::stream::Stream::new_stream_decoder(
                128 << 20,
                liblzma::stream::CONCATENATED,
            )?;
            Box::new(liblzma::read::XzDecoder::new_stream(
                io::BufReader::new(raw),
                stream,
            ))
        }
        [b'B', b'Z', b'h', ..] => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "bzip2-compressed sync databases are not supported",
            ));
        }
        _ => Box::new(raw),
    };
    parse_sync_db(reader.take(MAX_DB_BYTES))
}

/// Reads the `*/desc` entries of an uncompressed sync database archive.
pub fn parse_sync_db<R: Read>(reader: R) -> io::Result<Vec<Desc>> {
    let mut archive = tar::Archive::new(reader);
    let mut descs = Vec::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let is_desc =
            entry.path_bytes().ends_with(b"/desc") && entry.header().entry_type().is_file();
        if !is_desc {
            continue;
        }
        let mut bytes = Vec::new();
        entry.take(MAX_DESC_BYTES).read_to_end(&mut bytes)?;
        if let Some(desc) = local_db::parse_desc(&bytes) {
            descs.push(desc);
        }
    }
    Ok(descs)
}

/// Returns which of `local` (pacman's local database under `root`) have a newer
/// candidate in the sync databases, as `pacman -Qu` lists them.
pub(crate) fn pending_for(root: &Root, local: &[Desc]) -> Result<Vec<Pending>, Error> {
    let config = read_conf(root)?;
    let ignore = Ignore::new(&config);
    let mut repos: Vec<(String, HashMap<String, Desc>)> = Vec::new();
    for repo in &config.repos {
        let path = root.join(&format!("{SYNC}/{repo}.db"));
        let descs = match read_sync_db(&path) {
            Ok(descs) => descs,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(
                    repo,
                    "pacman sync database missing (run `pacman -Sy`); repository skipped"
                );
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                tracing::warn!(repo, error = %e, "pacman sync database skipped");
                continue;
            }
            Err(source) => return Err(Error::Read { path, source }),
        };
        let mut by_name = HashMap::with_capacity(descs.len());
        for desc in descs {
            by_name.entry(desc.name.clone()).or_insert(desc);
        }
        repos.push((repo.clone(), by_name));
    }

    let mut pending = Vec::new();
    for installed in local {
        let Some((repo, candidate)) = repos
            .iter()
            .find_map(|(repo, by_name)| by_name.get(&installed.name).map(|d| (repo, d)))
        else {
            continue;
        };
        if ward_version::pacman::compare(&candidate.version, &installed.version).is_le() {
            continue;
        }
        let mut suites: Vec<String> = repos
            .iter()
            .filter(|(_, by_name)| {
                by_name
                    .get(&installed.name)
                    .is_some_and(|d| d.version == candidate.version)
            })
            .map(|(repo, _)| repo.clone())
            .collect();
        suites.sort();
        suites.dedup();
        pending.push(Pending {
            name: installed.name.clone(),
            arch: installed.arch.clone(),
            installed_version: installed.version.clone(),
            candidate_version: candidate.version.clone(),
            source: "pacman".to_owned(),
            security: false,
            origin: repo.clone(),
            suite: repo.clone(),
            suites,
            held_back: ignore.ignores(installed),
            ..Default::default()
        });
    }
    pending.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    Ok(pending)
}

/// Returns the newest installed kernel among `local`, by pacman version ordering, named
/// as `uname -r` names it.
///
/// A kernel package is one whose file list (the local database's `files`) holds
/// `usr/lib/modules/<release>/vmlinuz`, which gives the release exactly (`linux`
/// 6.6.1.arch1-1 installs `6.6.1-arch1-1`, `linux-lts` 6.6.36-1 installs `6.6.36-1-lts`).
/// When the file list cannot be read, the release is derived from the version the same
/// way for `linux` and `linux-<flavour>` packages.
pub(crate) fn newest_kernel(root: &Root, local: &[Desc]) -> Option<String> {
    let mut best: Option<(&Desc, String)> = None;
    for desc in local {
        if desc.name != "linux" && !desc.name.starts_with("linux-") {
            continue;
        }
        let files = root.read_string(&format!(
            "{}/{}-{}/files",
            local_db::LOCAL,
            desc.name,
            desc.version
        ));
        let release = match files {
            Some(files) => match release_in_files(&files) {
                Some(release) => release,
                None => continue,
            },
            None => match release_from_version(&desc.name, &desc.version) {
                Some(release) => release,
                None => continue,
            },
        };
        let newer = best
            .as_ref()
            .is_none_or(|(b, _)| ward_version::pacman::compare(&desc.version, &b.version).is_gt());
        if newer {
            best = Some((desc, release));
        }
    }
    best.map(|(_, release)| release)
}

/// The release of the first `usr/lib/modules/<release>/vmlinuz` in a `files` entry.
fn release_in_files(files: &str) -> Option<String> {
    files.lines().find_map(|line| {
        let release = line
            .trim_end()
            .strip_prefix("usr/lib/modules/")?
            .strip_suffix("/vmlinuz")?;
        (!release.is_empty() && !release.contains('/')).then(|| release.to_owned())
    })
}

/// The `uname -r` of an Arch kernel package from its version: the dot before the
/// flavour tag in the pkgver becomes a hyphen, the pkgrel follows, and kernels other than
/// `linux` end with their flavour (`linux-zen` 6.9.7.zen1-1 is `6.9.7-zen1-1-zen`).
/// `None` for packages such as `linux-headers` or `linux-firmware`.
fn release_from_version(name: &str, version: &str) -> Option<String> {
    let flavour = match name.strip_prefix("linux-") {
        None if name == "linux" => None,
        Some(f) if ["lts", "zen", "hardened", "rt", "rt-lts"].contains(&f) => Some(f),
        _ => return None,
    };
    let evr = ward_version::pacman::split(version);
    let pkgrel = evr.release?;
    let pkgver = match evr.version.rsplit_once('.') {
        Some((base, tag)) if tag.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            format!("{base}-{tag}")
        }
        _ => evr.version.to_owned(),
    };
    Some(match flavour {
        Some(flavour) => format!("{pkgver}-{pkgrel}-{flavour}"),
        None => format!("{pkgver}-{pkgrel}"),
    })
}

/// `IgnorePkg` and `IgnoreGroup`, matched as libalpm's `_alpm_fnmatch_patterns` does:
/// the last matching pattern decides, and a pattern starting with `!` un-ignores.
struct Ignore {
    pkg: Vec<(bool, globset::GlobMatcher)>,
    group: Vec<(bool, globset::GlobMatcher)>,
}

impl Ignore {
    fn new(config: &Config) -> Self {
        Self {
            pkg: compile(&config.ignore_pkg),
            group: compile(&config.ignore_group),
        }
    }

    /// Returns whether pacman ignores upgrades of `desc` (`alpm_pkg_should_ignore`).
    fn ignores(&self, desc: &Desc) -> bool {
        matches(&self.pkg, &desc.name) == Some(true)
            || desc
                .groups
                .iter()
                .any(|g| matches(&self.group, g) == Some(true))
    }
}

/// Compiles fnmatch patterns; `{` and `}` are literal in fnmatch, so they are escaped
/// for globset. A pattern that does not compile is logged and left out.
fn compile(patterns: &[String]) -> Vec<(bool, globset::GlobMatcher)> {
    patterns
        .iter()
        .filter_map(|pattern| {
            let (inverted, body) = match pattern.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, pattern.strip_prefix('\\').unwrap_or(pattern)),
            };
            let escaped = body.replace('{', "[{]").replace('}', "[}]");
            match globset::Glob::new(&escaped) {
                Ok(glob) => Some((inverted, glob.compile_matcher())),
                Err(e) => {
                    tracing::warn!(pattern, error = %e, "pacman.conf pattern not understood; ignored");
                    None
                }
            }
        })
        .collect()
}

/// `Some(true)` when the last matching pattern ignores `name`, `Some(false)` when it is
/// an inverted one, `None` when none matches.
fn matches(patterns: &[(bool, globset::GlobMatcher)], name: &str) -> Option<bool> {
    patterns
        .iter()
        .rev()
        .find(|(_, glob)| glob.is_match(name))
        .map(|(inverted, _)| !inverted)
}

/// Reads one configuration file into `config`, following its `Include` lines where they
/// stand; `top` says whether it is pacman.conf itself, whose absence is not worth a
/// warning.
fn read_conf_file(
    root: &Root,
    rel: &str,
    config: &mut Config,
    section: &mut String,
    depth: usize,
    top: bool,
) -> Result<(), Error> {
    let path = root.join(rel);
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if !top {
                tracing::warn!(path = %path.display(), "file included by pacman.conf missing; skipped");
            }
            return Ok(());
        }
        Err(source) => return Err(Error::Read { path, source }),
    };
    let mut failed = None;
    parse_conf_into(&text, config, section, &mut |value, config, section| {
        if failed.is_some() {
            return;
        }
        if depth + 1 >= MAX_INCLUDE_DEPTH {
            tracing::warn!(
                include = value,
                "pacman.conf includes nest too deep; skipped"
            );
            return;
        }
        for rel in expand_include(root, value) {
            if let Err(e) = read_conf_file(root, &rel, config, section, depth + 1, false) {
                failed = Some(e);
                return;
            }
        }
    });
    failed.map_or(Ok(()), Err)
}

/// Returns the files an `Include` value names: the path itself, or when its last
/// component holds a glob (`*`, `?`, `[`), the matching names in that directory, sorted
/// as glob(3) sorts them.
fn expand_include(root: &Root, value: &str) -> Vec<String> {
    let (dir, name) = value.rsplit_once('/').unwrap_or(("", value));
    if !name.contains(['*', '?', '[']) {
        return vec![value.to_owned()];
    }
    let Ok(glob) = globset::Glob::new(name) else {
        return Vec::new();
    };
    let glob = glob.compile_matcher();
    root.list_dir(dir)
        .into_iter()
        .filter(|entry| glob.is_match(entry))
        .map(|entry| format!("{dir}/{entry}"))
        .collect()
}

/// Parses configuration text into `config`, calling `include` for each `Include` line
/// with its value, the configuration and the current section (which headers update).
fn parse_conf_into(
    text: &str,
    config: &mut Config,
    section: &mut String,
    include: &mut dyn FnMut(&str, &mut Config, &mut String),
) {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            *section = name.to_owned();
            if name != "options" && !name.is_empty() && !config.repos.iter().any(|r| r == name) {
                config.repos.push(name.to_owned());
            }
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((key, value)) => (key.trim(), value.trim()),
            None => (line, ""),
        };
        if key == "Include" {
            include(value, config, section);
            continue;
        }
        if section != "options" {
            continue;
        }
        match key {
            "IgnorePkg" => config
                .ignore_pkg
                .extend(value.split_ascii_whitespace().map(str::to_owned)),
            "IgnoreGroup" => config
                .ignore_group
                .extend(value.split_ascii_whitespace().map(str::to_owned)),
            _ => {}
        }
    }
}

/// Fills `buf` as far as the reader allows; returns how many bytes were read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(read) => n += read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests;
