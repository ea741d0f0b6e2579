//! Pending updates on RPM systems (RHEL and its rebuilds, Fedora, SUSE), computed from
//! the repository metadata dnf, yum or zypper cached at their last refresh, the way
//! their solvers pick an upgrade: the highest version (rpm ordering) of the same name
//! and a compatible architecture, from the repositories of best priority, minus what the
//! configuration excludes or locks and what dnf's modular filtering hides; failing that,
//! for dnf and yum, a package that obsoletes the installed one; advisories from the
//! repositories' `updateinfo`. Nothing is run and nothing is fetched: the answer is as
//! fresh as the last `dnf makecache` / `zypper refresh`.

pub mod cache;
pub mod modulemd;
pub mod modules;
pub mod repodata;
pub mod repos;
pub mod updateinfo;
mod xml;
pub mod zchunk;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

use ward_proto::v1 as pb;
use ward_version::rpm::{Evr, rpmvercmp};

use crate::inventory::software::rpm as rpmdb;
use cache::Content;
use repodata::{Dep, Offer, Repomd};
use repos::{Config, Family, Repo};
use updateinfo::Update;

/// A package whose candidate is newer than the installed version (`source` "rpm").
pub type Pending = pb::PendingUpdate;

/// How [`pending_for`] reads the metadata.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Directory of the metadata cache (see [`cache`]); `None` reads every file.
    pub cache_dir: Option<&'a Path>,
}

/// Errors reading the rpm database, the configuration or the cached metadata.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration or metadata file exists but cannot be read.
    #[error(
        "failed to read {}: {source}; run the agent as a user that can read it, or refresh \
         the metadata (`dnf makecache`, `yum makecache` or `zypper refresh`) if it is damaged",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
    /// A metadata file is not the XML (or SQLite) it should be.
    #[error(
        "failed to parse repository metadata {}: {reason}; refresh it with `dnf makecache`, \
         `yum makecache` or `zypper refresh`",
        path.display()
    )]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The rpm database exists but cannot be read.
    #[error(transparent)]
    Rpmdb(#[from] rpmdb::Error),
}

/// Returns the front ends present under `root` (`dnf`, `yum`, `zypper`), by their
/// programs or, failing that, their caches; `["rpm"]` when none is found.
pub fn managers(root: &Path) -> Vec<String> {
    let has = |rel: &str| root.join(rel).exists();
    let mut out = Vec::new();
    // On RHEL 8 and later `yum` is dnf under another name.
    if [
        "usr/bin/dnf",
        "usr/bin/dnf5",
        "usr/bin/dnf-3",
        "var/cache/dnf",
        "var/cache/libdnf5",
    ]
    .iter()
    .any(|p| has(p))
    {
        out.push("dnf");
    } else if has("usr/bin/yum") || has("var/cache/yum") {
        out.push("yum");
    }
    if has("usr/bin/zypper") || has("var/cache/zypp") {
        out.push("zypper");
    }
    if out.is_empty() {
        out.push("rpm");
    }
    out.into_iter().map(str::to_owned).collect()
}

/// Returns the newest installed kernel among `packages` (the rpm database), in
/// `uname -r` form: `kernel-core` (RHEL 8+, Fedora) or `kernel` (RHEL 7) as
/// `version-release.arch` (`5.14.0-362.8.1.el9_3.x86_64`), `kernel-default` (SUSE) as
/// `version-release-default` without the release's last number
/// (`5.14.21-150500.55.39-default`).
pub fn newest_kernel(packages: &[pb::Package]) -> Option<String> {
    packages
        .iter()
        .filter(|p| p.source == "rpm" && p.state == "installed")
        .filter(|p| matches!(p.name.as_str(), "kernel" | "kernel-core" | "kernel-default"))
        .filter_map(|p| Some((ward_version::rpm::parse(&p.version).ok()?, p)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(evr, p)| {
            let release = evr.release.unwrap_or_default();
            if p.name == "kernel-default" {
                let release = release
                    .rsplit_once('.')
                    .map_or(release.as_str(), |(r, _)| r);
                format!("{}-{release}-default", evr.version)
            } else {
                format!("{}-{release}.{}", evr.version, p.arch)
            }
        })
}

/// Returns which of `packages` (the rpm database under `root`) have a newer candidate in
/// the enabled repositories' cached metadata, sorted by name and architecture.
///
/// Installed versions of one name and architecture (kernels are installed side by side)
/// count as their highest. `gpg-pubkey` entries are not packages and are skipped. With
/// a cache directory in `options`, what unchanged metadata files yielded is taken from
/// the cache there (see [`cache`]).
///
/// A package with no newer version of its own name that another package obsoletes (dnf
/// and yum, `obsoletes=1`, the default) is reported with that package's version as the
/// candidate: `dnf upgrade` replaces it, and `dnf check-update` lists it under
/// "Obsoleting Packages"; `replaced_by` names it.
pub fn pending_for(
    root: &Path,
    packages: &[pb::Package],
    options: &Options<'_>,
) -> Result<Vec<Pending>, Error> {
    let mut installed: BTreeMap<(String, String), Evr> = BTreeMap::new();
    for p in packages {
        if p.source != "rpm" || p.name == "gpg-pubkey" || p.state != "installed" {
            continue;
        }
        let Ok(evr) = ward_version::rpm::parse(&p.version) else {
            continue;
        };
        let slot = installed
            .entry((p.name.clone(), p.arch.clone()))
            .or_insert_with(|| evr.clone());
        if evr > *slot {
            *slot = evr;
        }
    }
    if installed.is_empty() {
        return Ok(Vec::new());
    }
    let names: HashSet<String> = installed.keys().map(|(n, _)| n.clone()).collect();
    let native = native_arch(packages);
    let config = repos::read(root)?;
    let mut cache = options.cache_dir.map(cache::Cache::load);
    let names_hash = cache::names_hash(&names);

    // Each repository's primary and module metadata first: the advisories wanted are
    // those of the installed names and of the packages that obsolete one.
    let mut found: Vec<(usize, repos::Cache, Repomd)> = Vec::new();
    let mut offers: Vec<(usize, Offer)> = Vec::new();
    let mut module_metadata: Vec<modulemd::Metadata> = Vec::new();
    for (index, repo) in config.repos.iter().enumerate() {
        let Some(dir) = repos::cache(root, repo) else {
            tracing::debug!(repo = %repo.id, "no cached metadata for enabled repository");
            continue;
        };
        let bytes = std::fs::read(&dir.repomd).map_err(|source| Error::Read {
            path: dir.repomd.clone(),
            source,
        })?;
        let md = repodata::parse_repomd(&bytes);
        let primary = read_primary(&dir, repo, &md, &names, names_hash, cache.as_mut())?;
        offers.extend(primary.into_iter().map(|o| (index, o)));
        if repo.family == Family::Yum
            && let Some(path) = locate(&dir, &md.modules)
        {
            let read = || {
                modulemd::read_modules(open(&path)?).map_err(|e| match e {
                    modulemd::Error::Io(source) => Error::Read {
                        path: path.clone(),
                        source,
                    },
                    modulemd::Error::Yaml(reason) => Error::Parse {
                        path: path.clone(),
                        reason,
                    },
                })
            };
            match cached(cache.as_mut(), &path, 0, || read().map(Content::Modules))? {
                Content::Modules(m) => module_metadata.push(m),
                _ => module_metadata.push(read()?),
            }
        }
        found.push((index, dir, md));
    }

    let mut advisory_names = names.clone();
    advisory_names.extend(offers.iter().map(|(_, o)| o.name.clone()));
    let advisory_hash = cache::names_hash(&advisory_names);
    let mut updates: BTreeMap<String, Update> = BTreeMap::new();
    for (_, dir, md) in &found {
        let Some(path) = locate(dir, &md.updateinfo).or_else(|| locate(dir, &md.updateinfo_zck))
        else {
            continue;
        };
        let read = || {
            let reader = open(&path)?;
            updateinfo::read_updateinfo(reader, &advisory_names).map_err(|e| parse_error(&path, e))
        };
        let advisories = match cached(cache.as_mut(), &path, advisory_hash, || {
            read().map(Content::Updates)
        })? {
            Content::Updates(u) => u,
            _ => read()?,
        };
        for u in advisories {
            // The same advisory can come from several repositories (or mirrors of one):
            // keep one, with all of their package entries.
            match updates.get_mut(&u.id) {
                Some(seen) => seen.packages.extend(u.packages),
                None => {
                    updates.insert(u.id.clone(), u);
                }
            }
        }
    }
    if let Some(cache) = cache {
        cache.save();
    }

    let filter = if module_metadata.iter().any(|m| !m.modules.is_empty()) {
        let states = modules::read_states(root)?;
        let local = modules::read_local_defaults(root)?;
        let platform = modules::platform(root)?;
        modules::filter(
            &module_metadata,
            &local,
            &states,
            &native,
            platform.as_deref(),
        )
    } else {
        modules::Filter::default()
    };
    let by_name = allowed_offers(offers, &config, &installed, &filter);
    let mut advisories_by_name: HashMap<&str, Vec<&Update>> = HashMap::new();
    for u in updates.values() {
        let mut named: BTreeSet<&str> = BTreeSet::new();
        for p in &u.packages {
            named.insert(&p.name);
        }
        for n in named {
            advisories_by_name.entry(n).or_default().push(u);
        }
    }
    let advisories_of = |name: &str| {
        advisories_by_name
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    // The offers that obsolete each installed name, as (offer name, index in its list).
    let mut obsoleters: HashMap<&str, Vec<(&str, usize)>> = HashMap::new();
    if config.obsoletes {
        for (name, list) in &by_name {
            for (i, (index, o, _)) in list.iter().enumerate() {
                if config.repos[*index].family != Family::Yum {
                    continue;
                }
                for d in &o.obsoletes {
                    obsoleters.entry(&d.name).or_default().push((name, i));
                }
            }
        }
    }

    let mut out = Vec::new();
    for ((name, arch), current) in &installed {
        let same_name: Vec<&(usize, Offer, Evr)> = by_name
            .get(name.as_str())
            .into_iter()
            .flatten()
            .filter(|(_, o, _)| arch_compatible(arch, &o.arch, &native))
            .collect();
        let best = best_of(&same_name, arch).filter(|best| best.2 > *current);
        let (candidates, best, advisories) = match best {
            Some(best) => {
                let advisories = applicable(
                    advisories_of(name),
                    name,
                    arch,
                    &best.1.arch,
                    current,
                    &best.2,
                );
                (same_name, best, advisories)
            }
            None => {
                // No update of its own: a package that obsoletes it, of the first name
                // (libsolv's order) that has one for this installed version and arch.
                let mut by_obsoleter: BTreeMap<&str, Vec<&(usize, Offer, Evr)>> = BTreeMap::new();
                for (oname, i) in obsoleters.get(name.as_str()).into_iter().flatten() {
                    let Some(c) = by_name.get(*oname).and_then(|l| l.get(*i)) else {
                        continue;
                    };
                    let replaces =
                        c.1.obsoletes
                            .iter()
                            .any(|d| d.name == *name && obsoletes_match(d, current));
                    let already = installed
                        .get(&((*oname).to_owned(), c.1.arch.clone()))
                        .is_some_and(|have| *have >= c.2);
                    if replaces && !already && arch_compatible(arch, &c.1.arch, &native) {
                        by_obsoleter.entry(oname).or_default().push(c);
                    }
                }
                let Some((oname, list)) = by_obsoleter.into_iter().next() else {
                    continue;
                };
                let Some(best) = best_of(&list, arch) else {
                    continue;
                };
                let advisories = shipping(advisories_of(oname), oname, &best.1.arch, &best.2);
                (list, best, advisories)
            }
        };
        let suites: Vec<String> = candidates
            .iter()
            .filter(|(_, o, evr)| *evr == best.2 && o.arch == best.1.arch && o.name == best.1.name)
            .map(|(index, _, _)| config.repos[*index].id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let origin = suites.first().cloned().unwrap_or_default();
        out.push(Pending {
            name: name.clone(),
            arch: arch.clone(),
            installed_version: current.to_string(),
            candidate_version: evr_text(&best.1),
            replaced_by: if best.1.name == *name {
                String::new()
            } else {
                best.1.name.clone()
            },
            source: "rpm".to_owned(),
            security: advisories
                .iter()
                .any(|a| updateinfo::is_security(&a.kind, &a.severity)),
            origin: origin.clone(),
            suite: origin,
            suites,
            advisories,
            ..Default::default()
        });
    }
    Ok(out)
}

/// The highest version among `candidates`; on a tie, the installed architecture.
fn best_of<'c>(
    candidates: &[&'c (usize, Offer, Evr)],
    arch: &str,
) -> Option<&'c (usize, Offer, Evr)> {
    candidates.iter().copied().max_by(|a, b| {
        a.2.cmp(&b.2)
            .then_with(|| (a.1.arch == arch).cmp(&(b.1.arch == arch)))
    })
}

/// Whether an `Obsoletes` entry covers the installed version `installed`, comparing as
/// rpm compares a dependency range: a missing epoch is 0, and the release counts only
/// when the entry gives one.
fn obsoletes_match(dep: &Dep, installed: &Evr) -> bool {
    if dep.flags.is_empty() {
        return true;
    }
    let epoch = if dep.epoch.is_empty() {
        "0"
    } else {
        &dep.epoch
    };
    let order = rpmvercmp(installed.epoch_or_zero(), epoch)
        .then_with(|| rpmvercmp(&installed.version, &dep.version))
        .then_with(|| match &installed.release {
            Some(r) if !dep.release.is_empty() => rpmvercmp(r, &dep.release),
            _ => Ordering::Equal,
        });
    match dep.flags.as_str() {
        "EQ" => order == Ordering::Equal,
        "LT" => order == Ordering::Less,
        "LE" => order != Ordering::Greater,
        "GT" => order == Ordering::Greater,
        "GE" => order != Ordering::Less,
        _ => false,
    }
}

/// Returns the file `href` names in `dir`, when there is one.
fn locate(dir: &repos::Cache, href: &Option<String>) -> Option<PathBuf> {
    href.as_deref().and_then(|h| repos::locate(dir, h))
}

/// Reads one repository's offers for the installed `names` (and the packages that
/// obsolete one), through `cache` when given.
fn read_primary(
    dir: &repos::Cache,
    repo: &Repo,
    md: &Repomd,
    names: &HashSet<String>,
    names_hash: u64,
    cache: Option<&mut cache::Cache>,
) -> Result<Vec<Offer>, Error> {
    // Fedora's dnf downloads only the zchunk form when the repository offers one.
    let primary = locate(dir, &md.primary).or_else(|| locate(dir, &md.primary_zck));
    // yum keeps its SQLite form decompressed under `gen/`.
    let primary_db = md
        .primary_db
        .as_ref()
        .map(|_| dir.base.join("gen/primary_db.sqlite"))
        .filter(|p| p.is_file());
    let (path, sqlite) = match (primary, primary_db) {
        (Some(path), _) => (path, false),
        (None, Some(path)) => (path, true),
        (None, None) => {
            tracing::debug!(repo = %repo.id, path = %dir.repomd.display(), "no cached primary metadata");
            return Ok(Vec::new());
        }
    };
    let read = || {
        if sqlite {
            repodata::read_primary_db(&path, names).map_err(|e| Error::Parse {
                path: path.clone(),
                reason: e.to_string(),
            })
        } else {
            let reader = open(&path)?;
            repodata::read_primary(reader, names).map_err(|e| parse_error(&path, e))
        }
    };
    match cached(cache, &path, names_hash, || read().map(Content::Offers))? {
        Content::Offers(offers) => Ok(offers),
        _ => read(),
    }
}

/// What the metadata file at `path` yields: from `cache` when it holds the file as it
/// is now, else from `read`, then recorded in `cache` (unless the file changed while it
/// was read).
fn cached(
    cache: Option<&mut cache::Cache>,
    path: &Path,
    names_hash: u64,
    read: impl FnOnce() -> Result<Content, Error>,
) -> Result<Content, Error> {
    let Some(cache) = cache else {
        return read();
    };
    let Ok(before) = cache::Identity::of(path) else {
        return read();
    };
    if let Some(content) = cache.get(path, before, names_hash) {
        return Ok(content);
    }
    let content = read()?;
    if cache::Identity::of(path).is_ok_and(|after| after == before) {
        cache.put(path, before, names_hash, &content);
    }
    Ok(content)
}

/// Opens a metadata file, decompressing by its suffix: `.zck` (zchunk), or `.gz`, `.xz`,
/// `.zst` and none with the same decoders (and `.xz` memory limit) as apt's lists.
fn open(path: &Path) -> Result<Box<dyn BufRead>, Error> {
    let read = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    if path.extension().is_some_and(|e| e == "zck") {
        let file = std::fs::File::open(path).map_err(read)?;
        let reader = zchunk::Reader::new(io::BufReader::new(file)).map_err(read)?;
        return Ok(Box::new(io::BufReader::with_capacity(64 * 1024, reader)));
    }
    crate::patches::apt::lists::open(path).map_err(read)
}

/// A streaming parse error: the decompressor's I/O error, or bad XML.
fn parse_error(path: &Path, e: quick_xml::Error) -> Error {
    match e {
        quick_xml::Error::Io(source) => Error::Read {
            path: path.to_owned(),
            source: io::Error::new(source.kind(), source.to_string()),
        },
        other => Error::Parse {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    }
}

/// The offers a package may move to, by name: without excluded or lock-forbidden
/// versions, and only from the repositories of best priority that offer the name.
fn allowed_offers(
    offers: Vec<(usize, Offer)>,
    config: &Config,
    installed: &BTreeMap<(String, String), Evr>,
    filter: &modules::Filter,
) -> HashMap<String, Vec<(usize, Offer, Evr)>> {
    let mut by_name: HashMap<String, Vec<(usize, Offer, Evr)>> = HashMap::new();
    for (index, o) in offers {
        let repo = &config.repos[index];
        let forms = forms(&o);
        let matches = |patterns: &[String]| {
            patterns
                .iter()
                .any(|p| forms.iter().any(|f| repos::glob_match(p, f)))
        };
        if matches(&config.excludes)
            || matches(&repo.excludes)
            || (!repo.includes.is_empty() && !matches(&repo.includes))
            || matches(&config.lock_excludes)
            || config.frozen.iter().any(|p| repos::glob_match(p, &o.name))
            || (!repo.module_hotfixes && filter.hides(&o))
        {
            continue;
        }
        let evr = Evr::from_parts(&o.epoch, &o.version, &o.release);
        by_name
            .entry(o.name.clone())
            .or_default()
            .push((index, o, evr));
    }

    for (name, list) in &mut by_name {
        // versionlock: a name some lock matches (in its installed or offered form) can
        // only move to versions a lock matches.
        if !config.locks.is_empty() {
            let installed_forms: Vec<String> = installed
                .iter()
                .filter(|((n, _), _)| n == name)
                .flat_map(|((n, a), evr)| {
                    forms(&Offer {
                        name: n.clone(),
                        arch: a.clone(),
                        epoch: evr.epoch_or_zero().to_owned(),
                        version: evr.version.clone(),
                        release: evr.release.clone().unwrap_or_default(),
                        ..Offer::default()
                    })
                })
                .collect();
            let offered: Vec<Vec<String>> = list.iter().map(|(_, o, _)| forms(o)).collect();
            let locked = config.locks.iter().any(|p| {
                installed_forms.iter().any(|f| repos::glob_match(p, f))
                    || offered.iter().flatten().any(|f| repos::glob_match(p, f))
            });
            if locked {
                let mut keep = offered.iter().map(|fs| {
                    config
                        .locks
                        .iter()
                        .any(|p| fs.iter().any(|f| repos::glob_match(p, f)))
                });
                list.retain(|_| keep.next().unwrap_or(false));
            }
        }
        // Priorities: only the repositories of the best (lowest) priority offering the
        // name count, even if another offers a higher version.
        if let Some(best) = list.iter().map(|(i, _, _)| config.repos[*i].priority).min() {
            list.retain(|(i, _, _)| config.repos[*i].priority == best);
        }
    }
    by_name
}

/// The spellings dnf matches a package spec against: `name`, `name.arch`,
/// `name-version`, `name-version-release`, `name-epoch:version-release`, and the last
/// two with `.arch`.
fn forms(o: &Offer) -> Vec<String> {
    let epoch = if o.epoch.is_empty() { "0" } else { &o.epoch };
    let (n, v, r, a) = (&o.name, &o.version, &o.release, &o.arch);
    vec![
        n.clone(),
        format!("{n}.{a}"),
        format!("{n}-{v}"),
        format!("{n}-{v}-{r}"),
        format!("{n}-{epoch}:{v}-{r}"),
        format!("{n}-{v}-{r}.{a}"),
        format!("{n}-{epoch}:{v}-{r}.{a}"),
    ]
}

/// Whether a package installed as `installed` may be upgraded to one built for
/// `offered`: the same architecture, or a move between `noarch` and the installed or
/// the machine's native architecture (libsolv allows both ways); an x86_64 machine thus
/// takes i686 packages only for what is installed as i686.
fn arch_compatible(installed: &str, offered: &str, native: &str) -> bool {
    installed == offered
        || (offered == "noarch" && !installed.is_empty())
        || (installed == "noarch" && offered == native)
}

/// The machine's architecture as rpm names it: that of the installed `rpm` package,
/// else the most common non-`noarch` architecture in the database.
fn native_arch(packages: &[pb::Package]) -> String {
    if let Some(p) = packages
        .iter()
        .find(|p| p.name == "rpm" && !p.arch.is_empty())
    {
        return p.arch.clone();
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in packages {
        if !p.arch.is_empty() && p.arch != "noarch" {
            *counts.entry(&p.arch).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}

/// The advisories among `updates` that ship `name` (built for `arch`) at exactly
/// `candidate`, for a package that replaces an installed one of another name, sorted by
/// id.
fn shipping(updates: &[&Update], name: &str, arch: &str, candidate: &Evr) -> Vec<pb::Advisory> {
    let mut out: Vec<pb::Advisory> = updates
        .iter()
        .filter(|u| {
            u.packages.iter().any(|p| {
                p.name == name
                    && (p.arch == arch || p.arch == "noarch")
                    && Evr::from_parts(&p.epoch, &p.version, &p.release) == *candidate
            })
        })
        .map(|u| advisory(u))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    out
}

fn advisory(u: &Update) -> pb::Advisory {
    pb::Advisory {
        id: u.id.clone(),
        kind: u.kind.clone(),
        severity: u.severity.clone(),
        cves: u.cves.clone(),
    }
}

/// The advisories among `updates` fixed by moving `name` from `current` to `candidate`:
/// those listing the package (in the installed or candidate architecture, or noarch) at
/// a version above the installed one and no higher than the candidate, sorted by id.
fn applicable(
    updates: &[&Update],
    name: &str,
    arch: &str,
    candidate_arch: &str,
    current: &Evr,
    candidate: &Evr,
) -> Vec<pb::Advisory> {
    let mut out: Vec<pb::Advisory> = updates
        .iter()
        .filter(|u| {
            u.packages.iter().any(|p| {
                p.name == name
                    && (p.arch == arch || p.arch == candidate_arch || p.arch == "noarch")
                    && {
                        let evr = Evr::from_parts(&p.epoch, &p.version, &p.release);
                        evr > *current && evr <= *candidate
                    }
            })
        })
        .map(|u| advisory(u))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    out
}

/// A candidate's EVR as rpm will print it once installed; the `0` epoch that
/// repository metadata writes for "none" is left out.
fn evr_text(o: &Offer) -> String {
    let epoch = if o.epoch == "0" { "" } else { o.epoch.as_str() };
    Evr::from_parts(epoch, &o.version, &o.release).to_string()
}

#[cfg(test)]
mod tests;
