//! Pending updates on RPM systems (RHEL and its rebuilds, Fedora, SUSE), computed from
//! the repository metadata dnf, yum or zypper cached at their last refresh, the way
//! their solvers pick an upgrade: the highest version (rpm ordering) of the same name
//! and a compatible architecture, from the repositories of best priority, minus what the
//! configuration excludes or locks; advisories from the repositories' `updateinfo`.
//! Nothing is run and nothing is fetched: the answer is as fresh as the last
//! `dnf makecache` / `zypper refresh`.

pub mod repodata;
pub mod repos;
pub mod updateinfo;
mod xml;
pub mod zchunk;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

use ward_proto::v1 as pb;
use ward_version::rpm::Evr;

use crate::inventory::software::rpm as rpmdb;
use repodata::Offer;
use repos::{Cache, Config, Repo};
use updateinfo::Update;

/// A package whose candidate is newer than the installed version (`source` "rpm").
pub type Pending = pb::PendingUpdate;

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
/// count as their highest. `gpg-pubkey` entries are not packages and are skipped.
pub fn pending_for(root: &Path, packages: &[pb::Package]) -> Result<Vec<Pending>, Error> {
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

    let mut offers: Vec<(usize, Offer)> = Vec::new();
    let mut updates: BTreeMap<String, Update> = BTreeMap::new();
    for (index, repo) in config.repos.iter().enumerate() {
        let Some(cache) = repos::cache(root, repo) else {
            tracing::debug!(repo = %repo.id, "no cached metadata for enabled repository");
            continue;
        };
        let (found, advisories) = read_repo(&cache, repo, &names)?;
        offers.extend(found.into_iter().map(|o| (index, o)));
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

    let by_name = allowed_offers(offers, &config, &installed);
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

    let mut out = Vec::new();
    for ((name, arch), current) in &installed {
        let Some(candidates) = by_name.get(name.as_str()) else {
            continue;
        };
        let compatible: Vec<&(usize, Offer, Evr)> = candidates
            .iter()
            .filter(|(_, o, _)| arch_compatible(arch, &o.arch, &native))
            .collect();
        // The highest version; on a tie, the installed architecture.
        let Some(best) = compatible.iter().max_by(|a, b| {
            a.2.cmp(&b.2)
                .then_with(|| (a.1.arch == *arch).cmp(&(b.1.arch == *arch)))
        }) else {
            continue;
        };
        if best.2 <= *current {
            continue;
        }
        let suites: Vec<String> = compatible
            .iter()
            .filter(|(_, o, evr)| *evr == best.2 && o.arch == best.1.arch)
            .map(|(index, _, _)| config.repos[*index].id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let advisories = applicable(
            advisories_by_name
                .get(name.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default(),
            name,
            arch,
            &best.1.arch,
            current,
            &best.2,
        );
        let origin = suites.first().cloned().unwrap_or_default();
        out.push(Pending {
            name: name.clone(),
            arch: arch.clone(),
            installed_version: current.to_string(),
            candidate_version: evr_text(&best.1),
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

/// Reads one repository's offers and advisories for the installed `names`.
fn read_repo(
    cache: &Cache,
    repo: &Repo,
    names: &HashSet<String>,
) -> Result<(Vec<Offer>, Vec<Update>), Error> {
    let bytes = std::fs::read(&cache.repomd).map_err(|source| Error::Read {
        path: cache.repomd.clone(),
        source,
    })?;
    let md = repodata::parse_repomd(&bytes);
    // Fedora's dnf downloads only the zchunk form when the repository offers one.
    let locate = |href: &Option<String>| href.as_deref().and_then(|h| repos::locate(cache, h));

    let primary = locate(&md.primary).or_else(|| locate(&md.primary_zck));
    // yum keeps its SQLite form decompressed under `gen/`.
    let primary_db = md
        .primary_db
        .as_ref()
        .map(|_| cache.base.join("gen/primary_db.sqlite"))
        .filter(|p| p.is_file());
    let offers = match (primary, primary_db) {
        (Some(path), _) => {
            let reader = open(&path)?;
            repodata::read_primary(reader, names).map_err(|e| parse_error(&path, e))?
        }
        (None, Some(path)) => {
            repodata::read_primary_db(&path, names).map_err(|e| Error::Parse {
                path: path.clone(),
                reason: e.to_string(),
            })?
        }
        (None, None) => {
            tracing::debug!(repo = %repo.id, path = %cache.repomd.display(), "no cached primary metadata");
            return Ok((Vec::new(), Vec::new()));
        }
    };

    let updates = match locate(&md.updateinfo).or_else(|| locate(&md.updateinfo_zck)) {
        Some(path) => {
            let reader = open(&path)?;
            updateinfo::read_updateinfo(reader, names).map_err(|e| parse_error(&path, e))?
        }
        None => Vec::new(),
    };
    Ok((offers, updates))
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
        .map(|u| pb::Advisory {
            id: u.id.clone(),
            kind: u.kind.clone(),
            severity: u.severity.clone(),
            cves: u.cves.clone(),
        })
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
