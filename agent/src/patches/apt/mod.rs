//! Pending Debian/Ubuntu updates, computed from apt's own files the way apt computes its
//! candidates: dpkg's status, the downloaded lists and their Release files, and the
//! preferences. Nothing is run and nothing is fetched: the answer is as fresh as the
//! last `apt update`.

pub mod cache;
pub mod lists;
pub mod policy;
pub mod release;
pub mod sources;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use crate::inventory::software::dpkg;
use policy::{PackageFile, Policy, Version};

/// Directory of the downloaded lists, relative to the root.
pub const LISTS: &str = "var/lib/apt/lists";
/// The preferences file, relative to the root.
pub const PREFERENCES: &str = "etc/apt/preferences";
/// The preferences directory, relative to the root.
pub const PREFERENCES_D: &str = "etc/apt/preferences.d";
/// The sources file, relative to the root.
pub const SOURCES: &str = "etc/apt/sources.list";
/// The sources directory, relative to the root.
pub const SOURCES_D: &str = "etc/apt/sources.list.d";

/// A package whose candidate differs from the installed version (`source` "deb").
pub type Pending = ward_proto::v1::PendingUpdate;

/// How [`pending_for`] reads the lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Directory of the lists' cache (see [`cache`]); `None` reads every list.
    pub cache_dir: Option<&'a Path>,
}

/// Errors reading apt's or dpkg's files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file exists but cannot be read or decompressed.
    #[error(
        "failed to read {}: {source}; run `apt update` if the list is damaged, or run the \
         agent as a user that can read it",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
    /// dpkg's database exists but cannot be read.
    #[error(transparent)]
    Dpkg(#[from] dpkg::Error),
}

/// Returns the packages installed under `root` whose apt candidate differs from the
/// installed version, reading dpkg's database (journal included) for what is installed.
/// See [`pending_for`].
pub fn pending(root: &Path) -> Result<Vec<Pending>, Error> {
    let packages = dpkg::read(&crate::inventory::root::Root::new(root))?.unwrap_or_default();
    pending_for(root, &packages, &Options::default())
}

/// Returns which of `packages` (dpkg's view of the system under `root`) have an apt
/// candidate other than the installed version, sorted by name and architecture.
///
/// Multi-arch is followed as apt does: a package is one name in one architecture,
/// `all` counting as the native one. `APT::Default-Release` is read only from a
/// one-line `APT::Default-Release "...";` in `etc/apt/apt.conf` or `apt.conf.d`; phased
/// updates (Ubuntu's `Phased-Update-Percentage`) are not applied. Lists are read
/// only for the `deb` sources configured (see [`sources`]). With a cache directory in
/// `options`, lists unchanged since the last run are not read again.
pub fn pending_for(
    root: &Path,
    packages: &[ward_proto::v1::Package],
    options: &Options<'_>,
) -> Result<Vec<Pending>, Error> {
    // apt treats every package dpkg holds files for as installed, whatever its state.
    let installed: Vec<_> = packages
        .iter()
        .filter(|p| p.state != "config-files" && !p.version.is_empty())
        .cloned()
        .collect();
    let names: HashSet<String> = installed.iter().map(|p| p.name.clone()).collect();
    let lists_dir = root.join(LISTS);
    let dir_names: BTreeSet<String> = list_dir(&lists_dir)?.into_iter().collect();
    let native = native_arch(&installed, &dir_names);
    let configured = read_sources(root)?;
    let mut cache = options.cache_dir.map(|dir| cache::Cache::load(dir, &names));

    let mut files = vec![PackageFile {
        name: dpkg::STATUS.to_owned(),
        release: release::Release {
            suite: "now".to_owned(),
            ..Default::default()
        },
        is_status: true,
        ..Default::default()
    }];
    let mut releases: HashMap<String, release::Release> = HashMap::new();
    let mut slots: HashMap<(String, String), Vec<Version>> = HashMap::new();
    for file_name in &dir_names {
        let Some(list) = lists::packages_list_name(file_name) else {
            continue;
        };
        if !configured.includes(list) {
            tracing::debug!(
                list,
                "apt list of no configured source ignored, as apt does"
            );
            continue;
        }
        let location = release::locate(list, &dir_names);
        let rel = match &location.release_file {
            Some(name) => match releases.get(name) {
                Some(r) => r.clone(),
                None => {
                    let bytes = read_optional(&lists_dir.join(name))?.unwrap_or_default();
                    let r = release::parse(&bytes);
                    releases.insert(name.clone(), r.clone());
                    r
                }
            },
            None => release::Release::default(),
        };
        let path = lists_dir.join(file_name);
        let entries = read_list(&path, &names, cache.as_mut())?;
        let index = files.len();
        files.push(PackageFile {
            name: list.to_owned(),
            release: rel,
            component: location.component,
            arch: location.arch,
            site: location.site,
            is_status: false,
        });
        for entry in entries {
            let Ok(parsed) = entry.version.parse::<debversion::Version>() else {
                tracing::debug!(package = %entry.name, version = %entry.version, "unparsable version in apt list skipped");
                continue;
            };
            let slot = slot_arch(&entry.arch, &native);
            add_version(
                slots.entry((entry.name, slot)).or_default(),
                parsed,
                (entry.version, entry.arch, entry.source),
                index,
            );
        }
    }

    if let Some(cache) = cache {
        cache.save();
    }

    let pins = read_pins(root)?;
    let default_release = default_release(root);
    let policy = Policy::new(files, pins, default_release.as_deref(), &native);

    let mut out = Vec::new();
    for pkg in &installed {
        let Ok(parsed) = pkg.version.parse::<debversion::Version>() else {
            continue;
        };
        let slot = slot_arch(&pkg.arch, &native);
        let mut versions = slots
            .get(&(pkg.name.clone(), slot.clone()))
            .cloned()
            .unwrap_or_default();
        let source = if pkg.source_package.is_empty() {
            pkg.name.clone()
        } else {
            pkg.source_package.clone()
        };
        let current = add_version(
            &mut versions,
            parsed.clone(),
            (pkg.version.clone(), pkg.arch.clone(), source),
            0,
        );
        let Some(cand) = policy.candidate(&pkg.name, &slot, &versions, Some(current)) else {
            continue;
        };
        if cand == current {
            continue;
        }
        let cand = &versions[cand];
        let mut list_files: Vec<(usize, &PackageFile)> = cand
            .files
            .iter()
            .filter_map(|&f| Some((f, policy.files().get(f)?)))
            .filter(|(_, f)| !f.is_status)
            .collect();
        // The archive named is the one apt prefers: highest priority, security first.
        list_files.sort_by_key(|&(i, f)| {
            (
                std::cmp::Reverse(policy.file_priority(i)),
                !is_security(&f.release),
                i,
            )
        });
        let list_files: Vec<&PackageFile> = list_files.into_iter().map(|(_, f)| f).collect();
        let security = list_files.iter().any(|f| is_security(&f.release));
        let first = list_files.first();
        let mut suites: Vec<String> = Vec::new();
        for f in &list_files {
            if !suites.contains(&f.release.suite) {
                suites.push(f.release.suite.clone());
            }
        }
        suites.sort();
        out.push(Pending {
            name: pkg.name.clone(),
            arch: pkg.arch.clone(),
            installed_version: pkg.version.clone(),
            candidate_version: cand.text.clone(),
            security,
            origin: first.map(|f| f.release.origin.clone()).unwrap_or_default(),
            suite: first.map(|f| f.release.suite.clone()).unwrap_or_default(),
            suites,
            downgrade: cand.parsed < parsed,
            source: "deb".to_owned(),
            ..Default::default()
        });
    }
    out.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    Ok(out)
}

/// Reads the entries of the installed `names` from the list at `path`, from `cache` when
/// it holds them for the list as it is now.
fn read_list(
    path: &Path,
    names: &HashSet<String>,
    cache: Option<&mut cache::Cache>,
) -> Result<Vec<lists::Entry>, Error> {
    let read = || {
        lists::open(path)
            .and_then(|r| lists::read_packages(r, names))
            .map_err(|source| Error::Read {
                path: path.to_owned(),
                source,
            })
    };
    let Some(cache) = cache else {
        return read();
    };
    let Ok(before) = cache::Identity::of(path) else {
        return read();
    };
    if let Some(entries) = cache.get(path, before) {
        return Ok(entries);
    }
    let entries = read()?;
    // A list rewritten in place while it was read is not cached under either identity.
    if cache::Identity::of(path).is_ok_and(|after| after == before) {
        cache.put(path, before, &entries);
    }
    Ok(entries)
}

/// Returns whether a release is a security archive: Debian's `bookworm-security`
/// (label `Debian-Security`), Ubuntu's `jammy-security`.
pub fn is_security(r: &release::Release) -> bool {
    [&r.suite, &r.codename, &r.label]
        .iter()
        .any(|s| s.to_ascii_lowercase().ends_with("-security"))
}

/// Adds a version (text, architecture, source package) from package file `file` to a
/// slot's versions, merging equal versions; returns its index.
fn add_version(
    versions: &mut Vec<Version>,
    parsed: debversion::Version,
    (text, arch, source): (String, String, String),
    file: usize,
) -> usize {
    // apt merges versions that compare equal ("1.0" and "1.0-0"), not equal strings.
    if let Some(i) = versions
        .iter()
        .position(|v| v.parsed.cmp(&parsed) == std::cmp::Ordering::Equal)
    {
        if !versions[i].files.contains(&file) {
            versions[i].files.push(file);
        }
        return i;
    }
    versions.push(Version {
        parsed,
        text,
        arch,
        source,
        files: vec![file],
    });
    versions.len() - 1
}

/// apt files `all` packages under the native architecture.
fn slot_arch(arch: &str, native: &str) -> String {
    if arch == "all" || arch.is_empty() {
        native.to_owned()
    } else {
        arch.to_owned()
    }
}

/// The native architecture: dpkg's own (the `dpkg` package is always native), else the
/// first list's, else the one this agent was built for.
fn native_arch(installed: &[ward_proto::v1::Package], lists: &BTreeSet<String>) -> String {
    if let Some(p) = installed
        .iter()
        .find(|p| p.name == "dpkg" && p.arch != "all")
    {
        return p.arch.clone();
    }
    for name in lists {
        if let Some(list) = lists::packages_list_name(name)
            && let Some(i) = list.find("_binary-")
        {
            let rest = &list[i + "_binary-".len()..];
            if let Some(arch) = rest.strip_suffix("_Packages") {
                return arch.to_owned();
            }
        }
    }
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "i386",
        "powerpc64" => "ppc64el",
        other => other,
    }
    .to_owned()
}

fn read_sources(root: &Path) -> Result<sources::Configured, Error> {
    let mut files = Vec::new();
    if let Some(bytes) = read_optional(&root.join(SOURCES))? {
        files.push(("sources.list".to_owned(), bytes));
    }
    let dir = root.join(SOURCES_D);
    for name in sources::source_files(&list_dir(&dir)?) {
        let path = dir.join(&name);
        if !path.is_file() {
            continue;
        }
        if let Some(bytes) = read_optional(&path)? {
            files.push((name, bytes));
        }
    }
    Ok(sources::parse(&files))
}

fn read_pins(root: &Path) -> Result<Vec<policy::Pin>, Error> {
    let mut pins = Vec::new();
    if let Some(bytes) = read_optional(&root.join(PREFERENCES))? {
        pins.extend(policy::parse_preferences(&bytes));
    }
    let dir = root.join(PREFERENCES_D);
    for name in policy::preference_files(&list_dir(&dir)?) {
        let path = dir.join(&name);
        if !path.is_file() {
            continue;
        }
        if let Some(bytes) = read_optional(&path)? {
            pins.extend(policy::parse_preferences(&bytes));
        }
    }
    Ok(pins)
}

/// Reads `APT::Default-Release "x";` from apt.conf and apt.conf.d, the last one winning as
/// in apt's configuration.
fn default_release(root: &Path) -> Option<String> {
    let re = regex::Regex::new(r#"(?m)^\s*APT::Default-Release\s+"([^"]*)"\s*;"#).ok()?;
    let mut paths = vec![root.join("etc/apt/apt.conf")];
    let dir = root.join("etc/apt/apt.conf.d");
    let mut names = list_dir(&dir).unwrap_or_default();
    names.sort();
    paths.extend(
        names
            .into_iter()
            .filter(|n| !n.contains('.') || n.ends_with(".conf"))
            .map(|n| dir.join(n)),
    );
    let mut found = None;
    for path in paths {
        if let Ok(text) = std::fs::read_to_string(&path) {
            for cap in re.captures_iter(&text) {
                found = Some(cap[1].to_owned());
            }
        }
    }
    found
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn list_dir(dir: &Path) -> Result<Vec<String>, Error> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(Error::Read {
            path: dir.to_owned(),
            source,
        }),
    }
}
