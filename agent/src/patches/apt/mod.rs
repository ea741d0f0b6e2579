//! Pending Debian/Ubuntu updates, computed from apt's own files the way apt computes its
//! candidates: apt's configuration, dpkg's status, the downloaded lists and their Release
//! files, and the preferences. Nothing is run and nothing is fetched: the answer is as
//! fresh as the last `apt update`.
//!
//! Each pending update also says whether `apt-get upgrade` would keep it back (see
//! [`upgrade`]) and whether Ubuntu's phasing leaves this machine out (see [`phasing`]).

pub mod cache;
pub mod config;
pub mod lists;
pub mod phasing;
pub mod policy;
pub mod relations;
pub mod release;
pub mod sources;
pub mod upgrade;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::inventory::software::dpkg;
use config::Config;
use policy::{PackageFile, Policy, Version};
use relations::{Fields, MultiArch, Relations};

/// Directory of the downloaded lists, relative to the root (apt's default
/// `Dir::State::lists`).
pub const LISTS: &str = "var/lib/apt/lists";
/// The preferences file, relative to the root (default `Dir::Etc::preferences`).
pub const PREFERENCES: &str = "etc/apt/preferences";
/// The preferences directory, relative to the root (default `Dir::Etc::preferencesparts`).
pub const PREFERENCES_D: &str = "etc/apt/preferences.d";
/// The sources file, relative to the root (default `Dir::Etc::sourcelist`).
pub const SOURCES: &str = "etc/apt/sources.list";
/// The sources directory, relative to the root (default `Dir::Etc::sourceparts`).
pub const SOURCES_D: &str = "etc/apt/sources.list.d";
/// dpkg's list of architectures (native and foreign), relative to the root.
pub const DPKG_ARCH: &str = "var/lib/dpkg/arch";

/// A package whose candidate differs from the installed version (`source` "deb").
///
/// `held_back` has `apt-get upgrade` semantics: the update is not installed by
/// `apt-get upgrade` (nothing new installed, nothing removed) because of a dpkg hold,
/// phasing, a `Multi-Arch: same` sibling out of step, or dependencies (see [`upgrade`]).
/// `phased_percentage` is the candidate's `Phased-Update-Percentage` when below 100;
/// `phased_excluded` is apt's decision to keep it back for phasing on this machine
/// (see [`phasing`]).
pub type Pending = ward_proto::v1::PendingUpdate;

/// How [`pending_for`] reads the lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Directory of the lists' cache (see [`cache`]); `None` reads every list.
    pub cache_dir: Option<&'a Path>,
    /// dpkg's selections and relations of the installed packages, when the caller read
    /// them with the packages; `None` reads them again when an update is pending.
    pub extras: Option<&'a [dpkg::Extras]>,
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

/// What a list says about one version beyond its name, version and architecture.
#[derive(Debug, Clone, Default)]
struct Info {
    /// Source version (empty: the version itself).
    source_version: String,
    /// `Phased-Update-Percentage`, below 100.
    phased: Option<u8>,
    multi_arch: String,
    relations: Fields,
}

/// The versions known for one package name and architecture slot.
#[derive(Debug, Clone, Default)]
struct Slot {
    versions: Vec<Version>,
    /// Parallel to `versions`.
    info: Vec<Info>,
}

/// Returns the packages installed under `root` whose apt candidate differs from the
/// installed version, reading dpkg's database (journal included) for what is installed.
/// See [`pending_for`].
pub fn pending(root: &Path) -> Result<Vec<Pending>, Error> {
    let (packages, extras) =
        dpkg::read_with_extras(&crate::inventory::root::Root::new(root))?.unwrap_or_default();
    pending_for(
        root,
        &packages,
        &Options {
            extras: Some(&extras),
            ..Options::default()
        },
    )
}

/// Returns which of `packages` (dpkg's view of the system under `root`) have an apt
/// candidate other than the installed version, sorted by name and architecture.
///
/// apt's configuration is read as apt reads it (see [`config`]): `APT::Default-Release`,
/// `APT::Architecture(s)` with dpkg's foreign architectures, the `Dir` paths (lists,
/// sources, preferences), the phasing options and `APT::Machine-ID`, `APT::Ignore-Hold`,
/// `APT::Install-Recommends` and `APT::Install-Suggests`. Multi-arch is followed as apt
/// does: a package is one name in one architecture, `all` counting as the native one,
/// and lists of architectures not configured are not read. Lists are read only for the
/// `deb` sources configured (see [`sources`]). With a cache directory in `options`,
/// lists unchanged since the last run are not read again.
pub fn pending_for(
    root: &Path,
    packages: &[ward_proto::v1::Package],
    options: &Options<'_>,
) -> Result<Vec<Pending>, Error> {
    let config = Config::read(root);
    // apt treats every package dpkg holds files for as installed, whatever its state.
    let installed: Vec<_> = packages
        .iter()
        .filter(|p| p.state != "config-files" && !p.version.is_empty())
        .cloned()
        .collect();
    let mut names = lists::Installed::default();
    for p in &installed {
        names.insert(&p.name, &p.version);
    }
    let lists_dir = config::under(root, &config.find_dir("Dir::State::lists", None));
    let dir_names: BTreeSet<String> = list_dir(&lists_dir)?.into_iter().collect();
    let native = config
        .find("APT::Architecture")
        .map(str::to_owned)
        .unwrap_or_else(|| native_arch(&installed, &dir_names));
    let archs = architectures(&config, root, &native);
    let configured = read_sources(root, &config, &archs)?;
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
    let mut slots: HashMap<(String, String), Slot> = HashMap::new();
    for file_name in &dir_names {
        let Some(list) = lists::packages_list_name(file_name) else {
            continue;
        };
        if !configured.includes(list) {
            tracing::debug!(
                list,
                "apt list of no configured source or architecture ignored, as apt does"
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
            let Ok(parsed) = ward_version::deb::parse(&entry.version) else {
                tracing::debug!(package = %entry.name, version = %entry.version, "unparsable version in apt list skipped");
                continue;
            };
            let slot_key = slot_arch(&entry.arch, &native);
            let slot = slots.entry((entry.name, slot_key)).or_default();
            let i = add_version(
                &mut slot.versions,
                parsed,
                (entry.version, entry.arch, entry.source),
                index,
            );
            if i == slot.info.len() {
                // apt keeps what the first list said of a version, except that any list
                // saying it is phased makes it phased.
                slot.info.push(Info {
                    source_version: entry.source_version,
                    phased: entry.phased,
                    multi_arch: entry.multi_arch,
                    relations: entry.relations,
                });
            } else if entry.phased.is_some() {
                slot.info[i].phased = entry.phased;
            }
        }
    }

    if let Some(cache) = cache {
        cache.save();
    }

    let pins = read_pins(root, &config)?;
    let policy = Policy::new(files, pins, config.find("APT::Default-Release"), &native);
    let phasing = phasing::Phasing::from_config(&config, root);

    let mut out = Vec::new();
    // Every installed package as the upgrade simulation sees it; relations are filled in
    // once the pending updates are known (see `fill_relations`).
    let mut simulated: Vec<upgrade::Package> = Vec::with_capacity(installed.len());
    let mut unparsed: Vec<Unparsed> = Vec::with_capacity(installed.len());
    let no_relations = Rc::new(Relations::default());
    // For each pending update, the index of its package in `simulated`.
    let mut pending_index: Vec<usize> = Vec::new();
    for pkg in &installed {
        let Ok(parsed) = ward_version::deb::parse(&pkg.version) else {
            continue;
        };
        let slot_key = slot_arch(&pkg.arch, &native);
        // dpkg records one package per name and architecture: each slot is used once.
        let mut slot = slots
            .remove(&(pkg.name.clone(), slot_key.clone()))
            .unwrap_or_default();
        let source = if pkg.source_package.is_empty() {
            pkg.name.clone()
        } else {
            pkg.source_package.clone()
        };
        let current = add_version(
            &mut slot.versions,
            parsed.clone(),
            (pkg.version.clone(), pkg.arch.clone(), source),
            0,
        );
        if current == slot.info.len() {
            slot.info.push(Info::default());
        }
        let versions = &slot.versions;
        let phase_capped = |i: usize| {
            phasing.policy
                && slot.info[i].phased.is_some_and(|pct| {
                    let v = &versions[i];
                    phasing.excludes(&v.source, source_version(v, &slot.info[i]), pct)
                })
        };
        let cand =
            policy.candidate_capped(&pkg.name, &slot_key, versions, Some(current), &phase_capped);

        let installed_side = upgrade::Side {
            version: versions[current].parsed.clone(),
            text: versions[current].text.clone(),
            multi_arch: MultiArch::parse(&slot.info[current].multi_arch),
            relations: Rc::clone(&no_relations),
        };
        let mut entry = upgrade::Package {
            name: pkg.name.clone(),
            arch: slot_key.clone(),
            installed: installed_side.clone(),
            candidate: None,
            changes: false,
            hold: false,
            phased: false,
            downloadable: false,
        };
        let list_fields = std::mem::take(&mut slot.info[current].relations);
        unparsed.push(Unparsed {
            dpkg_arch: pkg.arch.clone(),
            installed: (!list_fields.is_empty()).then(|| Box::new(list_fields)),
            candidate: None,
        });
        let Some(cand) = cand else {
            simulated.push(entry);
            continue;
        };
        entry.downloadable = versions[cand]
            .files
            .iter()
            .any(|&f| policy.files().get(f).is_some_and(|f| !f.is_status));
        if cand == current {
            // Only a Multi-Arch: same sibling looks at a candidate that does not change
            // (and only when it can be downloaded, that is when a list has it).
            if entry.installed.multi_arch == MultiArch::Same {
                entry.candidate = Some(installed_side);
            }
            simulated.push(entry);
            continue;
        }
        let cand_info = &slot.info[cand];
        let cand_version = &versions[cand];
        entry.candidate = Some(upgrade::Side {
            version: cand_version.parsed.clone(),
            text: cand_version.text.clone(),
            multi_arch: MultiArch::parse(&cand_info.multi_arch),
            relations: Rc::clone(&no_relations),
        });
        if let Some(u) = unparsed.last_mut() {
            u.candidate = Some(Box::new(cand_info.relations.clone()));
        }
        entry.changes = true;
        let phased_excluded = cand_info.phased.is_some_and(|pct| {
            phasing.keeps_back(
                &cand_version.source,
                source_version(cand_version, cand_info),
                pct,
                security_between(versions, cand, current, policy.files()),
            )
        });
        entry.phased = phased_excluded;

        let mut list_files: Vec<(usize, &PackageFile)> = cand_version
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
            candidate_version: cand_version.text.clone(),
            security,
            origin: first.map(|f| f.release.origin.clone()).unwrap_or_default(),
            suite: first.map(|f| f.release.suite.clone()).unwrap_or_default(),
            suites,
            downgrade: cand_version.parsed < parsed,
            source: "deb".to_owned(),
            phased_percentage: cand_info.phased.map(u32::from),
            phased_excluded,
            ..Default::default()
        });
        pending_index.push(simulated.len());
        simulated.push(entry);
    }

    if out.is_empty() {
        return Ok(out);
    }
    let read;
    let extras = match options.extras {
        Some(extras) => extras,
        None => {
            read = dpkg::read_extras(&crate::inventory::root::Root::new(root))?.unwrap_or_default();
            &read
        }
    };
    fill_relations(&mut simulated, unparsed, extras);
    let kept = upgrade::simulate(
        &simulated,
        &upgrade::Options {
            native: native.clone(),
            install_recommends: config.find_b("APT::Install-Recommends", true),
            install_suggests: config.find_b("APT::Install-Suggests", false),
            ignore_hold: config.find_b("APT::Ignore-Hold", false),
        },
    );
    for (p, &i) in out.iter_mut().zip(&pending_index) {
        p.held_back = kept.get(i).copied().flatten().is_some();
        if let Some(reason) = kept.get(i).copied().flatten() {
            tracing::debug!(package = %p.name, arch = %p.arch, ?reason, "apt-get upgrade keeps this update back");
        }
    }
    out.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    Ok(out)
}

/// The source version of a version: the list's `Source: name (version)`, else itself.
fn source_version<'a>(version: &'a Version, info: &'a Info) -> &'a str {
    if info.source_version.is_empty() {
        &version.text
    } else {
        &info.source_version
    }
}

/// apt's `PhasedUpgrader::IsSecurityUpdate`: whether a version between the installed one
/// (`current`) and the candidate, both excluded, comes from a `-security` suite.
fn security_between(
    versions: &[Version],
    cand: usize,
    current: usize,
    files: &[PackageFile],
) -> bool {
    let (low, high) = (&versions[current].parsed, &versions[cand].parsed);
    versions.iter().any(|v| {
        &v.parsed > low
            && &v.parsed < high
            && v.files.iter().any(|&f| {
                files
                    .get(f)
                    .is_some_and(|f| !f.is_status && f.release.suite.ends_with("-security"))
            })
    })
}

/// The relationship fields of one installed package, before parsing.
struct Unparsed {
    /// dpkg's architecture (`all` included), to find its dpkg record.
    dpkg_arch: String,
    /// The list's fields of the installed version (used when dpkg has no record).
    installed: Option<Box<Fields>>,
    /// The candidate's fields, when the candidate differs.
    candidate: Option<Box<Fields>>,
}

/// Fills in the holds, Multi-Arch and relations of `simulated` from dpkg's records
/// (`extras`) and the lists' fields (`unparsed`, in the same order).
///
/// Only what can change is parsed in full: the packages with an update, and those whose
/// relations name one of them (or a virtual package one of them provides). Any other
/// package installs what is installed now and depends on nothing that changes, so it
/// can neither break nor be kept; only its `Provides` are needed, by the others.
fn fill_relations(
    simulated: &mut [upgrade::Package],
    unparsed: Vec<Unparsed>,
    extras: &[dpkg::Extras],
) {
    let extras: HashMap<(&str, &str), &dpkg::Extras> = extras
        .iter()
        .map(|e| ((e.name.as_str(), e.arch.as_str()), e))
        .collect();
    let mut records: Vec<(bool, MultiArch, Fields, Fields)> = Vec::with_capacity(simulated.len());
    for (p, u) in simulated.iter().zip(unparsed) {
        let (hold, multi_arch, installed) =
            match extras.get(&(p.name.as_str(), u.dpkg_arch.as_str())) {
                Some(e) => {
                    let mut fields = e.fields.iter().cloned();
                    let mut next = || fields.next().unwrap_or_default();
                    // In dpkg::EXTRA_FIELDS order.
                    let multi_arch = MultiArch::parse(&next());
                    let installed = Fields {
                        pre_depends: next(),
                        depends: next(),
                        recommends: next(),
                        suggests: next(),
                        conflicts: next(),
                        breaks: next(),
                        provides: next(),
                    };
                    (e.want == "hold", multi_arch, installed)
                }
                None => (
                    false,
                    p.installed.multi_arch,
                    u.installed.map(|f| *f).unwrap_or_default(),
                ),
            };
        records.push((
            hold,
            multi_arch,
            installed,
            u.candidate.map(|f| *f).unwrap_or_default(),
        ));
    }
    let mut hot: HashSet<String> = HashSet::new();
    for (p, (_, _, installed, candidate)) in simulated.iter().zip(&records) {
        if p.changes {
            hot.insert(p.name.clone());
            for f in [installed, candidate] {
                hot.extend(f.parse_provides().provides.into_iter().map(|a| a.name));
            }
        }
    }
    for (p, (hold, multi_arch, installed, candidate)) in simulated.iter_mut().zip(records) {
        p.hold = hold;
        p.installed.multi_arch = multi_arch;
        if p.changes || installed.mentions(&hot) {
            p.installed.relations = Rc::new(installed.parse());
        } else if !installed.provides.is_empty() {
            p.installed.relations = Rc::new(installed.parse_provides());
        }
        if let Some(c) = p.candidate.as_mut() {
            if p.changes {
                c.relations = Rc::new(candidate.parse());
            } else {
                c.multi_arch = multi_arch;
            }
        }
    }
}

/// Reads the entries of the installed `names` from the list at `path`, from `cache` when
/// it holds them for the list as it is now.
fn read_list(
    path: &Path,
    names: &lists::Installed,
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

/// apt's `getArchitectures`: `APT::Architectures`, else the native architecture and
/// dpkg's foreign ones (`var/lib/dpkg/arch`, what `dpkg --print-foreign-architectures`
/// reads); the native one first, no duplicates, without `APT::BarbarianArchitectures`.
fn architectures(config: &Config, root: &Path, native: &str) -> Vec<String> {
    let mut archs: Vec<String> = config
        .find_vector("APT::Architectures")
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
    if archs.is_empty() {
        archs.push(native.to_owned());
        if let Ok(text) = std::fs::read_to_string(root.join(DPKG_ARCH)) {
            archs.extend(text.split_ascii_whitespace().map(str::to_owned));
        }
    }
    if !archs.iter().any(|a| a == native) {
        archs.insert(0, native.to_owned());
    }
    let mut seen = HashSet::new();
    archs.retain(|a| seen.insert(a.clone()));
    let barbarian = config.find_vector("APT::BarbarianArchitectures");
    archs.retain(|a| !barbarian.contains(a));
    archs
}

fn read_sources(
    root: &Path,
    config: &Config,
    archs: &[String],
) -> Result<sources::Configured, Error> {
    let mut files = Vec::new();
    let main = config::under(root, &config.find_file("Dir::Etc::sourcelist", None));
    if main.is_file()
        && let Some(bytes) = read_optional(&main)?
    {
        let name = main
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, bytes));
    }
    let dir = config::under(root, &config.find_dir("Dir::Etc::sourceparts", None));
    for name in sources::source_files(&list_dir(&dir)?) {
        let path = dir.join(&name);
        if !path.is_file() {
            continue;
        }
        if let Some(bytes) = read_optional(&path)? {
            files.push((name, bytes));
        }
    }
    // A source without `arch=` fetches the configured architectures and the barbarian
    // ones (apt's `parsePlusMinusArchOptions`).
    let mut source_archs = archs.to_vec();
    source_archs.extend(config.find_vector("APT::BarbarianArchitectures"));
    Ok(sources::parse(&files, &source_archs))
}

fn read_pins(root: &Path, config: &Config) -> Result<Vec<policy::Pin>, Error> {
    let mut pins = Vec::new();
    let main = config::under(root, &config.find_file("Dir::Etc::preferences", None));
    if main.is_file()
        && let Some(bytes) = read_optional(&main)?
    {
        pins.extend(policy::parse_preferences(&bytes));
    }
    let dir = config::under(root, &config.find_dir("Dir::Etc::preferencesparts", None));
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
