//! Pending Alpine updates, found from apk's own files: the installed database, the
//! repositories configured in `etc/apk/repositories` (and `repositories.d/*.list`), and
//! the indexes `apk update` cached for them. Nothing is run and nothing is fetched: the
//! answer is as fresh as the last `apk update`.
//!
//! apk caches a remote repository's index as `var/cache/apk/APKINDEX.<hash>.tar.gz`
//! (or under the `etc/apk/cache` link when there is one), where the hash is the first
//! four bytes of the SHA-1 of the repository URL as written. A local repository (a path)
//! is read in place, `<path>/<arch>/APKINDEX.tar.gz`. When no configured repository has
//! a cached index under that name (an apk that names its cache differently), every
//! cached `APKINDEX.*.tar.gz` is read instead and named by its `DESCRIPTION`.
//!
//! The candidate is the highest version (apk's ordering) of a package of the same name
//! in the indexes apk may install it from: untagged repositories, plus a tagged one
//! (`@edge https://...`) when `etc/apk/world` pins the package to that tag
//! (`name@edge`). A pin inherited through dependencies is not followed. An index covers
//! one architecture, so the name is the match. A candidate that a version constraint in
//! the world file (`name=1.2-r0`, `name<2`, `name~1.2`) does not allow is reported
//! with `held_back`, as `apk upgrade` keeps it. The indexes carry no security
//! information (Alpine's secdb is not read), so `security` is always false.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ward_proto::v1 as pb;

use crate::inventory::root::Root;
use crate::inventory::software::apk as installed_db;

/// The repositories file, relative to the root.
pub const REPOSITORIES: &str = "etc/apk/repositories";
/// The directory of further repository lists (apk-tools 3), relative to the root.
pub const REPOSITORIES_D: &str = "etc/apk/repositories.d";
/// The cache link apk prefers when it exists, relative to the root.
pub const CACHE_LINK: &str = "etc/apk/cache";
/// The default cache directory, relative to the root.
pub const CACHE: &str = "var/cache/apk";
/// The world file (what was asked for, with pins and constraints), relative to the root.
pub const WORLD: &str = "etc/apk/world";
/// The architecture file, relative to the root.
pub const ARCH: &str = "etc/apk/arch";

/// How much an index may decompress to; Alpine's largest (community) is about 10 MiB.
const MAX_INDEX_BYTES: u64 = 512 << 20;

/// A package whose candidate is newer than the installed version (`source` "apk").
pub type Pending = pb::PendingUpdate;

/// Errors reading apk's files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file or an index exists but cannot be read or unpacked.
    #[error(
        "failed to read {}: {source}; run `apk update` if the index is damaged, or run the \
         agent as a user that can read it",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
    /// apk's installed database exists but cannot be read.
    #[error(transparent)]
    Installed(#[from] installed_db::Error),
}

/// A line of the repositories file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The tag of a tagged repository (`@edge url`), without the `@`.
    pub tag: Option<String>,
    /// The URL or local path, as written.
    pub url: String,
}

/// A cached index: its description and packages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Index {
    /// The `DESCRIPTION` member (Alpine writes the release, `v3.20.3-119-g...`).
    pub description: String,
    /// The packages of the `APKINDEX` member.
    pub packages: Vec<pb::Package>,
}

/// A line of the world file: a name, its pinned tag and its version constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldEntry {
    /// The package name.
    pub name: String,
    /// The tag the package is pinned to (`name@edge`).
    pub tag: Option<String>,
    /// The constraint's operator (`=`, `<`, `<=`, `>`, `>=`, `~`) and version.
    pub constraint: Option<(String, String)>,
}

/// Parses a repositories file: one repository a line, `#` comments, an optional
/// `@tag` before the URL.
pub fn parse_repositories(text: &str) -> Vec<Repository> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let mut words = line.split_ascii_whitespace();
            let first = words.next()?;
            match first.strip_prefix('@') {
                Some(tag) => Some(Repository {
                    tag: Some(tag.to_owned()),
                    url: words.next()?.to_owned(),
                }),
                None => Some(Repository {
                    tag: None,
                    url: first.to_owned(),
                }),
            }
        })
        .collect()
}

/// Parses a world file: whitespace-separated dependencies, `name[@tag][op version]`.
/// Conflicts (`!name`) are left out.
pub fn parse_world(text: &str) -> Vec<WorldEntry> {
    text.split_ascii_whitespace()
        .filter(|word| !word.starts_with('!'))
        .map(|word| {
            let op_at = word.find(['<', '>', '=', '~']);
            let (head, constraint) = match op_at {
                Some(at) => {
                    let rest = &word[at..];
                    let op_len = rest
                        .bytes()
                        .take_while(|b| matches!(b, b'<' | b'>' | b'=' | b'~'))
                        .count();
                    (
                        &word[..at],
                        Some((rest[..op_len].to_owned(), rest[op_len..].to_owned())),
                    )
                }
                None => (word, None),
            };
            let (name, tag) = match head.split_once('@') {
                Some((name, tag)) => (name, Some(tag.to_owned())),
                None => (head, None),
            };
            WorldEntry {
                name: name.to_owned(),
                tag,
                constraint,
            }
        })
        .collect()
}

/// Returns the name apk gives the cached index of the repository at `url`:
/// `APKINDEX.` and the first four bytes of the URL's SHA-1 in hex, `.tar.gz`.
pub fn cache_name(url: &str) -> String {
    let digest = sha1_smol::Sha1::from(url.as_bytes()).digest().bytes();
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("APKINDEX.{hex}.tar.gz")
}

/// Reads a cached index (`APKINDEX.tar.gz`): gzip streams holding a tar archive with
/// the signature, `DESCRIPTION` and `APKINDEX`.
pub fn read_index(path: &Path) -> io::Result<Index> {
    let file = std::fs::File::open(path)?;
    let gz = flate2::read::MultiGzDecoder::new(io::BufReader::new(file));
    parse_index(gz.take(MAX_INDEX_BYTES))
}

/// Reads an index from its uncompressed tar bytes.
pub fn parse_index<R: Read>(reader: R) -> io::Result<Index> {
    let mut archive = tar::Archive::new(reader);
    // The signature is its own gzip stream holding a tar without an end marker; be
    // lenient with one that has it.
    archive.set_ignore_zeros(true);
    let mut index = Index::default();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path_bytes().into_owned();
        match &path[..] {
            b"APKINDEX" => {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes)?;
                index.packages = installed_db::parse_database(&bytes);
            }
            b"DESCRIPTION" => {
                let mut bytes = Vec::new();
                (&mut entry).take(4096).read_to_end(&mut bytes)?;
                index.description = String::from_utf8_lossy(&bytes).trim().to_owned();
            }
            _ => {}
        }
    }
    Ok(index)
}

/// Returns which of `installed` (apk's installed database under `root`) have a newer
/// candidate in the cached indexes.
pub(crate) fn pending_for(root: &Root, installed: &[pb::Package]) -> Result<Vec<Pending>, Error> {
    let sources = read_sources(root)?;
    let world = match read_text(root, WORLD)? {
        Some(text) => parse_world(&text),
        None => Vec::new(),
    };
    let world: HashMap<&str, &WorldEntry> = world.iter().map(|w| (w.name.as_str(), w)).collect();

    let mut pending = Vec::new();
    for package in installed {
        let entry = world.get(package.name.as_str());
        let pinned_tag = entry.and_then(|e| e.tag.as_deref());
        let allowed: Vec<&Source> = sources
            .iter()
            .filter(|s| s.tag.is_none() || s.tag.as_deref() == pinned_tag)
            .collect();
        let Some(best) = allowed
            .iter()
            .filter_map(|s| s.versions.get(&package.name))
            .max_by(|a, b| ward_version::apk::compare(a, b))
        else {
            continue;
        };
        if ward_version::apk::compare(best, &package.version).is_le() {
            continue;
        }
        let offering: Vec<&&Source> = allowed
            .iter()
            .filter(|s| {
                s.versions
                    .get(&package.name)
                    .is_some_and(|v| ward_version::apk::compare(v, best).is_eq())
            })
            .collect();
        let mut suites: Vec<String> = offering.iter().map(|s| s.suite.clone()).collect();
        suites.sort();
        suites.dedup();
        let first = offering.first();
        pending.push(Pending {
            name: package.name.clone(),
            arch: package.arch.clone(),
            installed_version: package.version.clone(),
            candidate_version: best.clone(),
            source: "apk".to_owned(),
            security: false,
            origin: first.map(|s| s.origin.clone()).unwrap_or_default(),
            suite: first.map(|s| s.suite.clone()).unwrap_or_default(),
            suites,
            held_back: entry
                .and_then(|e| e.constraint.as_ref())
                .is_some_and(|(op, version)| !allows(op, version, best)),
            ..Default::default()
        });
    }
    pending.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    Ok(pending)
}

/// Returns the newest installed kernel among `installed`, by apk version ordering, named
/// as `uname -r` names it.
///
/// Alpine's kernel packages are `linux-<flavour>` and build their release as
/// `<pkgver>-<pkgrel>-<flavour>` (`linux-lts` 6.6.31-r0 is `6.6.31-0-lts`); a package
/// counts as a kernel when `lib/modules/<that release>` exists under the root, which
/// tells kernels from `linux-firmware`, `linux-headers` or `linux-pam`.
pub(crate) fn newest_kernel(root: &Root, installed: &[pb::Package]) -> Option<String> {
    installed
        .iter()
        .filter_map(|p| {
            let release = kernel_release(&p.name, &p.version)?;
            root.exists(&format!("lib/modules/{release}"))
                .then_some((p, release))
        })
        .max_by(|(a, _), (b, _)| ward_version::apk::compare(&a.version, &b.version))
        .map(|(_, release)| release)
}

/// The `uname -r` a `linux-<flavour>` package would install, from its version.
fn kernel_release(name: &str, version: &str) -> Option<String> {
    let flavour = name.strip_prefix("linux-")?;
    let (pkgver, _) = version.rsplit_once("-r")?;
    let pkgrel = ward_version::apk::revision(version)?;
    (!flavour.is_empty() && !pkgver.is_empty()).then(|| format!("{pkgver}-{pkgrel}-{flavour}"))
}

/// Returns whether the world constraint `op version` allows `candidate`.
fn allows(op: &str, version: &str, candidate: &str) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};

    if op.contains('~') {
        // Fuzzy: the candidate starts with the version's tokens (1.2 allows 1.2.5-r0).
        return candidate == version
            || candidate
                .strip_prefix(version)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()));
    }
    let ordering = ward_version::apk::compare(candidate, version);
    (op.contains('<') && ordering == Less)
        || (op.contains('>') && ordering == Greater)
        || (op.contains('=') && ordering == Equal)
}

/// One index that candidates may come from.
#[derive(Debug)]
struct Source {
    tag: Option<String>,
    origin: String,
    suite: String,
    /// The highest version of each package name in the index.
    versions: HashMap<String, String>,
}

/// Reads the indexes of the configured repositories (see the module documentation).
fn read_sources(root: &Root) -> Result<Vec<Source>, Error> {
    let mut repositories = match read_text(root, REPOSITORIES)? {
        Some(text) => parse_repositories(&text),
        None => Vec::new(),
    };
    for name in root.list_dir(REPOSITORIES_D) {
        if name.ends_with(".list")
            && let Some(text) = read_text(root, &format!("{REPOSITORIES_D}/{name}"))?
        {
            repositories.extend(parse_repositories(&text));
        }
    }
    let cache = cache_dir(root);
    let arch = root.read_value(ARCH);
    let mut sources = Vec::new();
    let mut remote_configured = false;
    for repo in &repositories {
        let path = if repo.url.starts_with('/') {
            let Some(arch) = &arch else {
                tracing::debug!(
                    url = repo.url,
                    "local apk repository skipped: no etc/apk/arch"
                );
                continue;
            };
            root.join(&format!("{}/{arch}/APKINDEX.tar.gz", repo.url))
        } else {
            remote_configured = true;
            cache.join(cache_name(&repo.url))
        };
        let Some(index) = read_index_at(&path)? else {
            tracing::debug!(url = repo.url, path = %path.display(), "no cached apk index for repository (run `apk update`)");
            continue;
        };
        sources.push(Source::new(
            repo.tag.clone(),
            repo.url.clone(),
            suite_of(&repo.url),
            index,
        ));
    }
    if sources.is_empty() && remote_configured {
        for name in list_names(&cache) {
            if !(name.starts_with("APKINDEX.") && name.ends_with(".tar.gz")) {
                continue;
            }
            let path = cache.join(&name);
            if let Some(index) = read_index_at(&path)? {
                tracing::debug!(path = %path.display(), "apk index read without its repository (cache name not apk 2's)");
                let suite = if index.description.is_empty() {
                    name.clone()
                } else {
                    index.description.clone()
                };
                sources.push(Source::new(None, name, suite, index));
            }
        }
    }
    Ok(sources)
}

impl Source {
    fn new(tag: Option<String>, origin: String, suite: String, index: Index) -> Self {
        let mut versions: HashMap<String, String> = HashMap::new();
        for p in index.packages {
            match versions.get_mut(&p.name) {
                Some(v) if ward_version::apk::compare(&p.version, v).is_gt() => *v = p.version,
                Some(_) => {}
                None => {
                    versions.insert(p.name, p.version);
                }
            }
        }
        Self {
            tag,
            origin,
            suite,
            versions,
        }
    }
}

/// The last two path segments of a repository URL (`v3.20/main`, `edge/community`).
fn suite_of(url: &str) -> String {
    let segments: Vec<&str> = url
        .split('/')
        .filter(|s| !s.is_empty() && !s.contains(':'))
        .collect();
    let n = segments.len();
    segments[n.saturating_sub(2)..].join("/")
}

/// The directory apk caches indexes in: where the `etc/apk/cache` link points (taken
/// under the root when it is absolute), else `var/cache/apk`.
fn cache_dir(root: &Root) -> PathBuf {
    match root.read_link(CACHE_LINK) {
        Some(target) if target.is_absolute() => root.join(&target.to_string_lossy()),
        Some(target) => root.join(&format!("etc/apk/{}", target.to_string_lossy())),
        None => root.join(CACHE),
    }
}

fn read_index_at(path: &Path) -> Result<Option<Index>, Error> {
    match read_index(path) {
        Ok(index) => Ok(Some(index)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn read_text(root: &Root, rel: &str) -> Result<Option<String>, Error> {
    let path = root.join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read { path, source }),
    }
}

fn list_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(test)]
mod tests;
