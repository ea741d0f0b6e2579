//! Which pending updates `apt-get upgrade` keeps back, by the rules of apt's
//! `pkgAllUpgradeNoNewPackages` (apt-pkg/upgrade.cc) and its keep-only resolver
//! (`pkgProblemResolver::ResolveByKeep`, apt-pkg/algorithms.cc): nothing new is
//! installed and nothing removed.
//!
//! Every installed package whose candidate differs is marked for its candidate, except:
//! dpkg holds (unless `APT::Ignore-Hold`), updates phasing keeps back (see
//! [`super::phasing`]), and a `Multi-Arch: same` candidate whose installed sibling of
//! another architecture has a different downloadable candidate. Then, as apt does,
//! every package whose version to be installed is broken is kept at its installed
//! version, and when that is not enough the packages its broken dependencies name are
//! kept too, until nothing is broken. Broken means: a `Pre-Depends` or `Depends`
//! or-group no version to be installed satisfies (real packages and `Provides`, with
//! Multi-Arch), a `Conflicts` or `Breaks` that a version to be installed matches, or a
//! `Recommends` (with `APT::Install-Recommends`, the default; `Suggests` with
//! `APT::Install-Suggests`) newly unsatisfied where the installed version had all of
//! its satisfied.
//!
//! apt visits broken packages by a score (priority, essential, reverse dependencies);
//! this visits them by name and architecture, which only matters when keeping either
//! of two packages would do.

use std::collections::HashMap;
use std::rc::Rc;

use super::relations::{ArchQualifier, Atom, Group, MultiArch, Relations};

/// One installed package (one name and architecture).
#[derive(Debug, Clone)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Its architecture slot: dpkg's architecture, with `all` as the native one.
    pub arch: String,
    /// The installed version.
    pub installed: Side,
    /// apt's candidate, when there is one (it may be the installed version).
    pub candidate: Option<Side>,
    /// Whether the candidate differs from the installed version.
    pub changes: bool,
    /// The dpkg selection is `hold`.
    pub hold: bool,
    /// Phasing keeps the candidate back on this machine.
    pub phased: bool,
    /// The candidate can be downloaded (it is in a list, not only in dpkg's status).
    pub downloadable: bool,
}

/// One version of a package, as the resolver needs it.
#[derive(Debug, Clone)]
pub struct Side {
    /// The version, parsed.
    pub version: debversion::Version,
    /// The version as written.
    pub text: String,
    /// Its `Multi-Arch`.
    pub multi_arch: MultiArch,
    /// Its relationship fields (shared: most packages have none that matter).
    pub relations: Rc<Relations>,
}

/// How [`simulate`] runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The native architecture.
    pub native: String,
    /// `APT::Install-Recommends` (apt's default: true).
    pub install_recommends: bool,
    /// `APT::Install-Suggests` (apt's default: false).
    pub install_suggests: bool,
    /// `APT::Ignore-Hold` (apt's default: false).
    pub ignore_hold: bool,
}

/// Why an update is kept back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// `apt-mark hold` (dpkg selection `hold`).
    Hold,
    /// Phasing: this machine is not in the rollout yet.
    Phasing,
    /// A `Multi-Arch: same` sibling has another candidate.
    MultiArchSync,
    /// Upgrading it would break a dependency, or need a package not installed.
    Dependencies,
}

/// Which version of each package the state under test installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Installed,
    Candidate,
}

/// The packages and what the state under test installs.
struct State<'a> {
    packages: &'a [Package],
    options: &'a Options,
    upgrade: Vec<bool>,
    by_name: HashMap<&'a str, Vec<usize>>,
    /// Virtual name -> (provider, which of its versions provides it, the provide).
    provides: HashMap<&'a str, Vec<(usize, Which, &'a Atom)>>,
}

/// Returns, for each of `packages`, why `apt-get upgrade` would keep its update back, or
/// `None` when it would install the candidate (or there is nothing to install).
pub fn simulate(packages: &[Package], options: &Options) -> Vec<Option<Kept>> {
    let n = packages.len();
    let mut kept: Vec<Option<Kept>> = vec![None; n];
    let mut protected = vec![false; n];
    let mut state = State::new(packages, options);

    for (i, p) in packages.iter().enumerate() {
        if !p.changes || p.candidate.is_none() {
            continue;
        }
        if p.hold && !options.ignore_hold {
            kept[i] = Some(Kept::Hold);
        } else if p.phased {
            kept[i] = Some(Kept::Phasing);
            protected[i] = true;
        } else if !state.multi_arch_synced(i) {
            kept[i] = Some(Kept::MultiArchSync);
        } else {
            state.upgrade[i] = true;
        }
    }

    // Packages whose installed version already misses an important dependency are not
    // held to their recommendations (apt's NowPolicyBroken).
    let now_policy_broken: Vec<bool> = (0..n)
        .map(|i| state.broken(i, Which::Installed, true, true))
        .collect();

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (&packages[a].name, &packages[a].arch).cmp(&(&packages[b].name, &packages[b].arch))
    });
    let is_broken = |state: &State<'_>, i: usize| {
        let which = state.which(i);
        state.broken(i, which, false, false)
            || (!now_policy_broken[i] && state.broken(i, which, true, false))
    };
    let mut k = 0;
    let mut last_stop = None;
    while k < order.len() {
        let i = order[k];
        if !is_broken(&state, i) {
            k += 1;
            continue;
        }
        if !protected[i] && state.upgrade[i] {
            state.upgrade[i] = false;
            kept[i] = Some(Kept::Dependencies);
            if !is_broken(&state, i) {
                k = 0;
                continue;
            }
        }
        // Keep what the broken critical dependencies of the version to be installed
        // name, alternative by alternative, until it is not broken.
        let which = state.which(i);
        let side = state.side(i, which);
        let negative = side
            .relations
            .conflicts
            .iter()
            .chain(&side.relations.breaks)
            .map(|a| (std::slice::from_ref(a), true));
        let positive = side
            .relations
            .pre_depends
            .iter()
            .chain(&side.relations.depends)
            .map(|g| (g.as_slice(), false));
        'groups: for (group, is_negative) in positive.chain(negative) {
            let ok = if is_negative {
                !state.conflicts(i, &group[0], None)
            } else {
                state.satisfied(i, group, None)
            };
            if ok {
                continue;
            }
            for atom in group {
                for j in state.targets(i, atom, is_negative) {
                    if !protected[j] && state.upgrade[j] {
                        state.upgrade[j] = false;
                        kept[j] = Some(Kept::Dependencies);
                    }
                    if !is_broken(&state, i) {
                        break 'groups;
                    }
                }
            }
        }
        if is_broken(&state, i) {
            k += 1;
            continue;
        }
        if last_stop == Some(k) {
            tracing::warn!(
                package = %packages[i].name,
                "apt upgrade simulation is looping; stopping, as apt would"
            );
            break;
        }
        last_stop = Some(k);
        k = 0;
    }
    kept
}

impl<'a> State<'a> {
    fn new(packages: &'a [Package], options: &'a Options) -> Self {
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut provides: HashMap<&str, Vec<(usize, Which, &Atom)>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            by_name.entry(p.name.as_str()).or_default().push(i);
            for atom in &p.installed.relations.provides {
                provides
                    .entry(atom.name.as_str())
                    .or_default()
                    .push((i, Which::Installed, atom));
            }
            if let Some(c) = &p.candidate {
                for atom in &c.relations.provides {
                    provides.entry(atom.name.as_str()).or_default().push((
                        i,
                        Which::Candidate,
                        atom,
                    ));
                }
            }
        }
        Self {
            packages,
            options,
            upgrade: vec![false; packages.len()],
            by_name,
            provides,
        }
    }

    /// Which version of package `i` is to be installed.
    fn which(&self, i: usize) -> Which {
        if self.upgrade[i] {
            Which::Candidate
        } else {
            Which::Installed
        }
    }

    fn side(&self, i: usize, which: Which) -> &'a Side {
        let p = &self.packages[i];
        match which {
            Which::Candidate => p.candidate.as_ref().unwrap_or(&p.installed),
            Which::Installed => &p.installed,
        }
    }

    /// apt's `IsInstallOkMultiArchSameVersionSynced` for package `i`'s candidate.
    fn multi_arch_synced(&self, i: usize) -> bool {
        let p = &self.packages[i];
        let Some(cand) = &p.candidate else {
            return true;
        };
        if cand.multi_arch != MultiArch::Same {
            return true;
        }
        self.by_name[p.name.as_str()].iter().all(|&j| {
            let q = &self.packages[j];
            let Some(other) = &q.candidate else {
                return true;
            };
            j == i
                || other.text == cand.text
                || other.multi_arch != MultiArch::Same
                || !q.downloadable
        })
    }

    /// Returns whether version `which` of package `i` is broken: a critical dependency
    /// fails or, with `policy`, an important one (Recommends, Suggests per the options).
    /// `now` judges against the installed versions instead of the ones to be installed.
    fn broken(&self, i: usize, which: Which, policy: bool, now: bool) -> bool {
        let r = &self.side(i, which).relations;
        let against = now.then_some(Which::Installed);
        let groups_fail = |groups: &[Group]| groups.iter().any(|g| !self.satisfied(i, g, against));
        groups_fail(&r.pre_depends)
            || groups_fail(&r.depends)
            || r.conflicts
                .iter()
                .chain(&r.breaks)
                .any(|a| self.conflicts(i, a, against))
            || (policy && self.options.install_recommends && groups_fail(&r.recommends))
            || (policy && self.options.install_suggests && groups_fail(&r.suggests))
    }

    /// Returns whether an or-group of package `i` is satisfied by the versions to be
    /// installed (or, with `against`, by those versions of every package).
    fn satisfied(&self, i: usize, group: &[Atom], against: Option<Which>) -> bool {
        let at = |j: usize| against.unwrap_or_else(|| self.which(j));
        group.iter().any(|atom| {
            let real = self.by_name.get(atom.name.as_str()).is_some_and(|js| {
                js.iter().any(|&j| {
                    let side = self.side(j, at(j));
                    self.arch_ok(i, atom, j, side.multi_arch) && atom.accepts(&side.version)
                })
            });
            real || self.provides.get(atom.name.as_str()).is_some_and(|ps| {
                ps.iter().any(|&(j, which, provide)| {
                    which == at(j) && self.provided(i, atom, j, which, provide)
                })
            })
        })
    }

    /// Returns whether a `Conflicts` or `Breaks` atom of package `i` matches a version
    /// to be installed of another package.
    fn conflicts(&self, i: usize, atom: &Atom, against: Option<Which>) -> bool {
        let at = |j: usize| against.unwrap_or_else(|| self.which(j));
        let name = &self.packages[i].name;
        let real = self.by_name.get(atom.name.as_str()).is_some_and(|js| {
            js.iter().any(|&j| {
                let side = self.side(j, at(j));
                &self.packages[j].name != name
                    && self.negative_arch_ok(atom, j)
                    && atom.accepts(&side.version)
            })
        });
        real || self.provides.get(atom.name.as_str()).is_some_and(|ps| {
            ps.iter().any(|&(j, which, provide)| {
                which == at(j) && &self.packages[j].name != name && provide_meets(atom, provide)
            })
        })
    }

    /// apt's `AllTargets` of an atom of package `i`, by package: the installed packages
    /// with a version (installed or candidate) it names.
    fn targets(&self, i: usize, atom: &Atom, negative: bool) -> Vec<usize> {
        let mut out = Vec::new();
        let name = &self.packages[i].name;
        let sides = [Which::Installed, Which::Candidate];
        if let Some(js) = self.by_name.get(atom.name.as_str()) {
            for &j in js {
                let hit = sides.iter().any(|&w| {
                    let side = self.side(j, w);
                    let arch = if negative {
                        &self.packages[j].name != name && self.negative_arch_ok(atom, j)
                    } else {
                        self.arch_ok(i, atom, j, side.multi_arch)
                    };
                    arch && atom.accepts(&side.version)
                });
                if hit {
                    out.push(j);
                }
            }
        }
        if let Some(ps) = self.provides.get(atom.name.as_str()) {
            for &(j, which, provide) in ps {
                let hit = if negative {
                    &self.packages[j].name != name && provide_meets(atom, provide)
                } else {
                    self.provided(i, atom, j, which, provide)
                };
                if hit && !out.contains(&j) {
                    out.push(j);
                }
            }
        }
        out
    }

    /// Whether package `j` (of the given Multi-Arch) answers a dependency of package
    /// `i` on `atom` by its architecture.
    fn arch_ok(&self, i: usize, atom: &Atom, j: usize, multi_arch: MultiArch) -> bool {
        let from = self.packages[i].arch.as_str();
        let to = self.packages[j].arch.as_str();
        match &atom.arch {
            ArchQualifier::None => to == from || multi_arch == MultiArch::Foreign,
            ArchQualifier::Any => multi_arch == MultiArch::Allowed,
            ArchQualifier::Native => to == self.options.native,
            ArchQualifier::Named(a) => to == a,
        }
    }

    /// Conflicts and Breaks without a qualifier apply to every architecture.
    fn negative_arch_ok(&self, atom: &Atom, j: usize) -> bool {
        let to = self.packages[j].arch.as_str();
        match &atom.arch {
            ArchQualifier::None | ArchQualifier::Any => true,
            ArchQualifier::Native => to == self.options.native,
            ArchQualifier::Named(a) => to == a,
        }
    }

    /// Whether `provide` (of version `which` of package `j`) satisfies `atom` of
    /// package `i`.
    fn provided(&self, i: usize, atom: &Atom, j: usize, which: Which, provide: &Atom) -> bool {
        let multi_arch = self.side(j, which).multi_arch;
        let from = self.packages[i].arch.as_str();
        let to = self.packages[j].arch.as_str();
        let arch = match &atom.arch {
            ArchQualifier::None => to == from || multi_arch == MultiArch::Foreign,
            ArchQualifier::Any => {
                multi_arch == MultiArch::Allowed || multi_arch == MultiArch::Foreign
            }
            ArchQualifier::Native => to == self.options.native,
            ArchQualifier::Named(a) => to == a || multi_arch == MultiArch::Foreign,
        };
        arch && provide_meets(atom, provide)
    }
}

/// A provide satisfies an unversioned atom, and a versioned one only with its own
/// `(= version)` that meets the constraint.
fn provide_meets(atom: &Atom, provide: &Atom) -> bool {
    match (&atom.constraint, &provide.constraint) {
        (None, _) => true,
        (Some(_), Some((_, provided))) => atom.accepts(provided),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests;
