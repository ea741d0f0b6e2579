//! Which repositories dnf, yum and zypper use (their `.repo` files), what their
//! configuration excludes or locks, and where their last refresh left each repository's
//! metadata.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Error;

/// Directories of dnf's and yum's `.repo` files, relative to the root (dnf5 adds
/// `distro.repos.d`; yum also read `yum/repos.d`).
pub const YUM_REPOS_DIRS: &[&str] = &["etc/yum.repos.d", "etc/yum/repos.d", "etc/distro.repos.d"];
/// Directory of zypper's `.repo` files, relative to the root.
pub const ZYPP_REPOS_DIR: &str = "etc/zypp/repos.d";
/// dnf's main configuration (on RHEL 8 and later `/etc/yum.conf` links to it).
pub const DNF_CONF: &str = "etc/dnf/dnf.conf";
/// yum's main configuration (RHEL 7).
pub const YUM_CONF: &str = "etc/yum.conf";
/// dnf 4's versionlock plugin: its configuration and its list.
pub const DNF_VERSIONLOCK: (&str, &str) = (
    "etc/dnf/plugins/versionlock.conf",
    "etc/dnf/plugins/versionlock.list",
);
/// yum's versionlock plugin: its configuration and its list.
pub const YUM_VERSIONLOCK: (&str, &str) = (
    "etc/yum/pluginconf.d/versionlock.conf",
    "etc/yum/pluginconf.d/versionlock.list",
);
/// zypper's package locks.
pub const ZYPP_LOCKS: &str = "etc/zypp/locks";

/// Where dnf 4 (`<id>-<hash>/repodata/`), dnf5 (same) and yum
/// (`<basearch>/<releasever>/<id>/`) cache repository metadata.
const DNF_CACHE: &str = "var/cache/dnf";
const DNF5_CACHE: &str = "var/cache/libdnf5";
const YUM_CACHE: &str = "var/cache/yum";
/// Where zypper caches it (`<alias>/repodata/`).
const ZYPP_CACHE: &str = "var/cache/zypp/raw";

/// The front end whose configuration names a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// dnf or yum (`yum.repos.d`).
    Yum,
    /// zypper (`zypp/repos.d`).
    Zypper,
}

/// An enabled repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The repository id (the `[section]` name; zypper's alias).
    pub id: String,
    /// Which configuration names it.
    pub family: Family,
    /// `priority`: lower wins, 99 when unset (dnf and zypper alike).
    pub priority: i64,
    /// `excludepkgs` (or `exclude`) patterns of this repository.
    pub excludes: Vec<String>,
    /// `includepkgs` patterns: when any, only matching packages are taken from it.
    pub includes: Vec<String>,
    /// `module_hotfixes`: its packages are exempt from dnf's modular filtering.
    pub module_hotfixes: bool,
}

/// What the configuration says about repositories and packages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Enabled repositories, sorted by id.
    pub repos: Vec<Repo>,
    /// `excludepkgs` of dnf's or yum's `[main]`: patterns never taken from any repository.
    pub excludes: Vec<String>,
    /// versionlock entries (`name-epoch:version-release.arch` globs): a package a lock
    /// names can only move to a version a lock matches.
    pub locks: Vec<String>,
    /// versionlock entries written with `!`: versions never taken.
    pub lock_excludes: Vec<String>,
    /// zypper's locked package names (globs): never updated.
    pub frozen: Vec<String>,
    /// dnf's and yum's `obsoletes` (default on): an upgrade replaces a package by one
    /// that obsoletes it.
    pub obsoletes: bool,
}

/// A repository's cached metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// `repomd.xml`.
    pub repomd: PathBuf,
    /// The directory `repomd.xml`'s `location href`s are relative to.
    pub base: PathBuf,
}

/// Reads the repository configuration of dnf/yum and zypper under `root`.
pub fn read(root: &Path) -> Result<Config, Error> {
    let mut config = Config {
        obsoletes: true,
        ..Config::default()
    };
    for (dirs, family) in [
        (YUM_REPOS_DIRS, Family::Yum),
        (&[ZYPP_REPOS_DIR][..], Family::Zypper),
    ] {
        for dir in dirs {
            for path in repo_files(&root.join(dir))? {
                let Some(text) = read_optional(&path)? else {
                    continue;
                };
                config.repos.extend(repos_of(&text, family));
            }
        }
    }
    config.repos.sort_by(|a, b| a.id.cmp(&b.id));
    config
        .repos
        .dedup_by(|a, b| a.id == b.id && a.family == b.family);

    let main = match read_optional(&root.join(DNF_CONF))? {
        Some(text) => Some(text),
        None => read_optional(&root.join(YUM_CONF))?,
    };
    if let Some(text) = main {
        for (section, keys) in parse_ini(&text) {
            if section == "main" {
                config.excludes = list(&keys, &["excludepkgs", "exclude"]);
                if let Some(v) = value(&keys, "obsoletes") {
                    config.obsoletes = truthy(&v);
                }
            }
        }
    }

    for (conf, list_path) in [DNF_VERSIONLOCK, YUM_VERSIONLOCK] {
        let enabled = match read_optional(&root.join(conf))? {
            Some(text) => parse_ini(&text)
                .iter()
                .filter(|(s, _)| s == "main")
                .flat_map(|(_, keys)| value(keys, "enabled"))
                .next_back()
                .is_none_or(|v| truthy(&v)),
            None => true,
        };
        if !enabled {
            continue;
        }
        if let Some(text) = read_optional(&root.join(list_path))? {
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                match line.strip_prefix('!') {
                    Some(pattern) => config.lock_excludes.push(pattern.trim().to_owned()),
                    None => config.locks.push(line.to_owned()),
                }
            }
        }
    }

    if let Some(text) = read_optional(&root.join(ZYPP_LOCKS))? {
        config.frozen = zypp_locks(&text);
    }
    Ok(config)
}

/// Returns the cache of repository `repo` under `root`: of the places the front ends
/// keep one, the one refreshed last (by `repomd.xml`'s time), as a machine that moved
/// from yum to dnf, or whose repository URL changed (dnf names its directory after a
/// hash of it), can hold several; `None` when no refresh left one.
pub fn cache(root: &Path, repo: &Repo) -> Option<Cache> {
    let mut found: Vec<Cache> = Vec::new();
    match repo.family {
        Family::Yum => {
            for base in [DNF_CACHE, DNF5_CACHE] {
                for name in dir_names(&root.join(base)) {
                    let Some(hash) = name
                        .strip_prefix(repo.id.as_str())
                        .and_then(|rest| rest.strip_prefix('-'))
                    else {
                        continue;
                    };
                    if hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                        let dir = root.join(base).join(&name);
                        found.push(Cache {
                            repomd: dir.join("repodata/repomd.xml"),
                            base: dir,
                        });
                    }
                }
            }
            for arch in dir_names(&root.join(YUM_CACHE)) {
                for release in dir_names(&root.join(YUM_CACHE).join(&arch)) {
                    let dir = root
                        .join(YUM_CACHE)
                        .join(&arch)
                        .join(release)
                        .join(&repo.id);
                    found.push(Cache {
                        repomd: dir.join("repomd.xml"),
                        base: dir,
                    });
                }
            }
        }
        Family::Zypper => {
            let dir = root.join(ZYPP_CACHE).join(&repo.id);
            found.push(Cache {
                repomd: dir.join("repodata/repomd.xml"),
                base: dir,
            });
        }
    }
    found
        .into_iter()
        .filter_map(|c| {
            let time = std::fs::metadata(&c.repomd)
                .ok()?
                .modified()
                .unwrap_or(SystemTime::UNIX_EPOCH);
            Some((time, c))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.repomd.cmp(&a.1.repomd)))
        .map(|(_, c)| c)
}

/// Returns the file a `location href` of `repomd.xml` names in `cache`: under the base
/// (dnf, zypper), else by its file name beside `repomd.xml` (yum keeps them flat).
pub fn locate(cache: &Cache, href: &str) -> Option<PathBuf> {
    let href = href.trim_start_matches('/');
    if href.split('/').any(|c| c == "..") {
        return None;
    }
    let nested = cache.base.join(href);
    if nested.is_file() {
        return Some(nested);
    }
    let flat = cache.base.join(href.rsplit('/').next()?);
    flat.is_file().then_some(flat)
}

/// The enabled repositories of one `.repo` file.
fn repos_of(text: &str, family: Family) -> Vec<Repo> {
    parse_ini(text)
        .into_iter()
        .filter(|(section, _)| section != "main" && !section.is_empty())
        .filter(|(_, keys)| value(keys, "enabled").is_none_or(|v| truthy(&v)))
        .map(|(id, keys)| Repo {
            priority: value(&keys, "priority")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(99),
            excludes: list(&keys, &["excludepkgs", "exclude"]),
            includes: list(&keys, &["includepkgs"]),
            module_hotfixes: value(&keys, "module_hotfixes").is_some_and(|v| truthy(&v)),
            id,
            family,
        })
        .collect()
}

/// One `[section]` and its `key=value` pairs, in file order.
type Section = (String, Vec<(String, String)>);

/// Parses an INI file as dnf, yum and zypper write them: `[section]` headers, `key=value`
/// (or `key: value`) lines, `#` and `;` comments, and continuation lines starting with
/// whitespace that extend the previous value (as Python's configparser reads them).
pub fn parse_ini(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut().and_then(|(_, keys)| keys.last_mut()) {
                v.push(' ');
                v.push_str(trimmed);
            }
            continue;
        }
        if let Some(name) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            out.push((name.trim().to_owned(), Vec::new()));
            continue;
        }
        let Some(at) = trimmed.find(['=', ':']) else {
            continue;
        };
        let (key, value) = (trimmed[..at].trim(), trimmed[at + 1..].trim());
        if let Some((_, keys)) = out.last_mut() {
            keys.push((key.to_ascii_lowercase(), value.to_owned()));
        }
    }
    out
}

/// The last value of `key` (the one the front ends use).
fn value(keys: &[(String, String)], key: &str) -> Option<String> {
    keys.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// The patterns of list options `keys` (comma- or space-separated, repeated keys add up).
fn list(keys: &[(String, String)], names: &[&str]) -> Vec<String> {
    keys.iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .flat_map(|(_, v)| v.split([',', ' ', '\t']))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "yes" | "true" | "on"
    )
}

/// The `solvable_name` of each `type: package` (or untyped) entry of zypper's locks file:
/// entries are blocks of `key: value` lines separated by blank lines.
fn zypp_locks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut kind = None;
        let mut names = Vec::new();
        for line in block.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim() {
                "type" => kind = Some(v.trim().to_owned()),
                "solvable_name" => names.push(v.trim().to_owned()),
                _ => {}
            }
        }
        if kind.as_deref().is_none_or(|k| k == "package") {
            out.extend(names.into_iter().filter(|n| !n.is_empty()));
        }
    }
    out
}

/// Returns true when the shell-style pattern (`*`, `?`, `[...]` with `!` or `^`
/// negation and ranges), as dnf matches package specs with fnmatch, matches all of
/// `text`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, text index).
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match p.get(pi) {
            Some(b'*') => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(b'?') => Some(pi + 1),
            Some(b'[') => class(p, pi, t[ti]),
            Some(&c) => (c == t[ti]).then_some(pi + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                pi = next;
                ti += 1;
            }
            (None, Some((after, from))) => {
                pi = after;
                ti = from + 1;
                star = Some((after, from + 1));
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the bracket expression at `p[start]`; returns the pattern index
/// after it on a match. An unterminated `[` matches itself literally.
fn class(p: &[u8], start: usize, c: u8) -> Option<usize> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() && (first || p[i] != b']') {
        first = false;
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|&e| e != b']') {
            matched |= (p[i]..=p[i + 2]).contains(&c);
            i += 3;
        } else {
            matched |= p[i] == c;
            i += 1;
        }
    }
    if i >= p.len() {
        return (c == b'[').then_some(start + 1);
    }
    (matched != negate).then_some(i + 1)
}

fn repo_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Read {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "repo"))
        .collect();
    files.sort();
    Ok(files)
}

fn dir_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Reads a file as text (invalid UTF-8 replaced); `None` when it does not exist.
pub(super) fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(Error::Read {
            path: path.to_owned(),
            source,
        }),
    }
}
