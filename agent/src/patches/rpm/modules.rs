//! dnf's modular filtering (RHEL 8 and 9 AppStream and their rebuilds): which module
//! streams are active here, and so which RPMs of the repositories dnf may offer at all.
//!
//! As libdnf decides it (`ModulePackageContainer::resolveActiveModulePackages`,
//! `moduleSolve` and `setModuleExcludes` in `dnf-sack.cpp`):
//!
//! - A module's state comes from `/etc/dnf/modules.d/<name>.module` (dnf 4; `state` of
//!   `enabled`, `1` or `true` is enabled with its `stream`, `disabled`, `0` or `false`
//!   disabled, anything else no state; a file missing `stream`, `profiles` or `state` is
//!   ignored as libdnf ignores it) and, for dnf5, `/usr/lib/sysimage/libdnf5/modules.toml`.
//! - The streams asked for: the enabled stream of an enabled module, the default stream
//!   (`modulemd-defaults` of the repositories, overridden by
//!   `/etc/dnf/modules.defaults.d/*.yaml`) of a module without state, none of a disabled
//!   one.
//! - For each stream asked for, dnf's solver takes the build of the highest `version`
//!   among those of a compatible architecture whose dependencies hold (the platform
//!   stream of `module_platform_id` or os-release's `PLATFORM_ID`, and the streams asked
//!   for of the modules they name); on a tie, one context (here the first by name, the
//!   order libsolv sorts candidates of one version in). Every build with that build's
//!   name, stream and context is then active, whatever its version, as libdnf activates
//!   all solvables named `name:stream:context`.
//! - RPMs listed by an active build are offered; RPMs listed by any other build are not;
//!   and no other RPM whose name, or a name it provides, is the name of an RPM of an
//!   active build is offered ("modular filtering hides non-modular RPMs of the same
//!   name"). Repositories with `module_hotfixes=1` are exempt, as is the rpm database.
//!
//! One approximation: a build requiring a module that has no stream asked for is taken
//! as installable, where dnf would enable the required stream too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use super::Error;
use super::modulemd::{Defaults, Metadata, Module};
use super::repodata::Offer;
use super::repos::{self, read_optional};

/// dnf 4's module state files, relative to the root.
pub const DNF_MODULES_D: &str = "etc/dnf/modules.d";
/// dnf5's module state, relative to the root.
pub const DNF5_MODULES: &str = "usr/lib/sysimage/libdnf5/modules.toml";
/// Local default streams, which win over the repositories'.
pub const DEFAULTS_D: &str = "etc/dnf/modules.defaults.d";
/// Where os-release is, relative to the root, in the order read.
const OS_RELEASE: &[&str] = &["etc/os-release", "usr/lib/os-release"];

/// A module's state as dnf keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Enabled, with this stream.
    Enabled(String),
    /// Disabled: no stream of it is offered.
    Disabled,
}

/// What modular filtering hides: built from the modules of all enabled repositories.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// NEVRAs (`name-epoch:version-release.arch`) of the RPMs of active builds.
    include: HashSet<String>,
    /// NEVRAs of the RPMs of every other build.
    exclude: HashSet<String>,
    /// Names of the RPMs of active builds.
    names: HashSet<String>,
}

impl Filter {
    /// Returns whether modular filtering hides `offer` (from a repository without
    /// `module_hotfixes`).
    pub fn hides(&self, offer: &Offer) -> bool {
        if self.include.is_empty() && self.exclude.is_empty() {
            return false;
        }
        let key = nevra(
            &offer.name,
            &offer.epoch,
            &offer.version,
            &offer.release,
            &offer.arch,
        );
        if self.include.contains(&key) {
            return false;
        }
        self.exclude.contains(&key)
            || self.names.contains(&offer.name)
            || offer.provides.iter().any(|p| self.names.contains(p))
    }

    /// Returns true when nothing is filtered (no repository has module metadata).
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// Reads the module states under `root`: dnf 4's files, then dnf5's, which win for the
/// modules they name.
pub fn read_states(root: &Path) -> Result<HashMap<String, State>, Error> {
    let mut out = HashMap::new();
    let dir = root.join(DNF_MODULES_D);
    for path in files_with_suffix(&dir, ".module")? {
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".module"))
            .map(str::to_owned)
        else {
            continue;
        };
        let Some(text) = read_optional(&path)? else {
            continue;
        };
        if let Some(state) = state_of(&text, &name) {
            out.insert(name, state);
        }
    }
    let path = root.join(DNF5_MODULES);
    if let Some(text) = read_optional(&path)? {
        let parsed: toml::Table = toml::from_str(&text).map_err(|e| Error::Parse {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if let Some(modules) = parsed.get("modules").and_then(|m| m.as_table()) {
            for (name, m) in modules {
                let field = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                match field("state") {
                    "Enabled" => {
                        out.insert(name.clone(), State::Enabled(field("enabled_stream").into()));
                    }
                    "Disabled" => {
                        out.insert(name.clone(), State::Disabled);
                    }
                    _ => {
                        out.remove(name);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The state one `<name>.module` file gives, as libdnf's `ModulePersistor` reads it.
fn state_of(text: &str, name: &str) -> Option<State> {
    let sections = repos::parse_ini(text);
    let keys = sections
        .iter()
        .rev()
        .find(|(section, _)| section == name)
        .map(|(_, keys)| keys)?;
    let value = |k: &str| {
        keys.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let stream = value("stream")?;
    value("profiles")?;
    let state = value("state").or_else(|| value("enabled"))?;
    match state.trim() {
        "1" | "true" | "enabled" => Some(State::Enabled(stream.trim().to_owned())),
        "0" | "false" | "disabled" => Some(State::Disabled),
        _ => None,
    }
}

/// Reads the local default streams (`modules.defaults.d/*.yaml`), which win over the
/// repositories'. A damaged file is skipped, as dnf skips it, with a warning.
pub fn read_local_defaults(root: &Path) -> Result<Vec<Defaults>, Error> {
    let mut out = Vec::new();
    for path in files_with_suffix(&root.join(DEFAULTS_D), ".yaml")? {
        let Some(text) = read_optional(&path)? else {
            continue;
        };
        match super::modulemd::read_modules(text.as_bytes()) {
            Ok(md) => out.extend(md.defaults),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "module defaults file skipped");
            }
        }
    }
    Ok(out)
}

/// Returns the platform stream dnf takes (`el9` of `platform:el9`): dnf.conf's
/// `module_platform_id`, else os-release's `PLATFORM_ID`; `None` when neither says.
pub fn platform(root: &Path) -> Result<Option<String>, Error> {
    if let Some(text) = read_optional(&root.join(repos::DNF_CONF))? {
        for (section, keys) in repos::parse_ini(&text) {
            if section != "main" {
                continue;
            }
            if let Some((_, v)) = keys.iter().rev().find(|(k, _)| k == "module_platform_id")
                && let Some(stream) = platform_stream(v)
            {
                return Ok(Some(stream));
            }
        }
    }
    for rel in OS_RELEASE {
        let Some(text) = read_optional(&root.join(rel))? else {
            continue;
        };
        let id = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("PLATFORM_ID="));
        return Ok(id.and_then(platform_stream));
    }
    Ok(None)
}

fn platform_stream(value: &str) -> Option<String> {
    let value = value.trim().trim_matches(['"', '\'']);
    let (_, stream) = value.split_once(':')?;
    (!stream.is_empty()).then(|| stream.to_owned())
}

/// Decides which builds are active and returns what that filters.
///
/// `metadata` is every enabled repository's `modules.yaml`; `local` the local defaults;
/// `native` the machine's architecture (empty when unknown); `platform` its platform
/// stream.
pub fn filter(
    metadata: &[Metadata],
    local: &[Defaults],
    states: &HashMap<String, State>,
    native: &str,
    platform: Option<&str>,
) -> Filter {
    let modules: Vec<&Module> = metadata.iter().flat_map(|m| &m.modules).collect();
    if modules.is_empty() {
        return Filter::default();
    }
    let defaults = default_streams(metadata, local);

    // The stream asked for of each module that has builds.
    let mut asked: BTreeMap<&str, &str> = BTreeMap::new();
    for m in &modules {
        let stream = match states.get(&m.name) {
            Some(State::Disabled) => continue,
            Some(State::Enabled(stream)) => stream.as_str(),
            None => match defaults.get(m.name.as_str()) {
                Some(stream) => stream.as_str(),
                None => continue,
            },
        };
        asked.insert(&m.name, stream);
    }

    let holds = |m: &Module| {
        m.requires.is_empty()
            || m.requires.iter().any(|block| {
                block.iter().all(|(module, streams)| {
                    if module == "platform" {
                        return platform.is_none_or(|p| stream_matches(p, streams));
                    }
                    match (states.get(module), asked.get(module.as_str())) {
                        (Some(State::Disabled), _) => false,
                        (_, Some(stream)) => stream_matches(stream, streams),
                        (_, None) => true,
                    }
                })
            })
    };

    // The chosen build of each stream asked for: its name, stream and context.
    let mut active: HashSet<(&str, &str, &str)> = HashSet::new();
    for (&name, &stream) in &asked {
        let best = modules
            .iter()
            .filter(|m| m.name == name && m.stream == stream)
            .filter(|m| arch_ok(&m.arch, native))
            .filter(|m| holds(m))
            .max_by(|a, b| {
                a.version
                    .cmp(&b.version)
                    .then_with(|| b.context.cmp(&a.context))
            });
        if let Some(best) = best {
            active.insert((name, stream, best.context.as_str()));
        }
    }

    let mut out = Filter::default();
    for m in &modules {
        let is_active = active.contains(&(m.name.as_str(), m.stream.as_str(), m.context.as_str()));
        for artifact in &m.artifacts {
            let Some((name, key)) = parse_nevra(artifact) else {
                continue;
            };
            if is_active {
                out.names.insert(name.to_owned());
                out.include.insert(key);
            } else {
                out.exclude.insert(key);
            }
        }
    }
    out
}

/// The default stream of each module: the local defaults' when they name one, else the
/// repositories' when they agree (libmodulemd drops a default that repositories of the
/// same priority disagree on).
fn default_streams<'m>(
    metadata: &'m [Metadata],
    local: &'m [Defaults],
) -> HashMap<&'m str, String> {
    let mut from_repos: HashMap<&str, Option<&str>> = HashMap::new();
    for d in metadata.iter().flat_map(|m| &m.defaults) {
        let Some(stream) = d.stream.as_deref() else {
            continue;
        };
        from_repos
            .entry(&d.module)
            .and_modify(|seen| {
                if *seen != Some(stream) {
                    *seen = None;
                }
            })
            .or_insert(Some(stream));
    }
    let mut out: HashMap<&str, String> = from_repos
        .into_iter()
        .filter_map(|(m, s)| Some((m, s?.to_owned())))
        .collect();
    for d in local {
        if let Some(stream) = &d.stream {
            out.insert(&d.module, stream.clone());
        }
    }
    out
}

/// Whether `stream` satisfies a modulemd stream list: any stream when empty, never one
/// of its `-stream` entries, and one of its other entries when it has any.
fn stream_matches(stream: &str, list: &[String]) -> bool {
    if list.iter().any(|s| s.strip_prefix('-') == Some(stream)) {
        return false;
    }
    let mut positive = list.iter().filter(|s| !s.starts_with('-')).peekable();
    positive.peek().is_none() || positive.any(|s| s == stream)
}

/// Whether a build for `arch` runs on a `native` machine (libsolv's arch policy, for
/// the architectures RHEL ships).
fn arch_ok(arch: &str, native: &str) -> bool {
    arch.is_empty()
        || native.is_empty()
        || arch == native
        || arch == "noarch"
        || (native == "x86_64" && matches!(arch, "i686" | "i586" | "i486" | "i386"))
}

/// Splits a modulemd artifact `name-[epoch:]version-release.arch` into its name and the
/// normalized NEVRA (epoch `0` when absent) [`nevra`] builds.
fn parse_nevra(artifact: &str) -> Option<(&str, String)> {
    let (rest, arch) = artifact.rsplit_once('.')?;
    let (rest, release) = rest.rsplit_once('-')?;
    let (name, ev) = rest.rsplit_once('-')?;
    let (epoch, version) = match ev.split_once(':') {
        Some((e, v)) => (e, v),
        None => ("", ev),
    };
    if name.is_empty() || version.is_empty() || release.is_empty() || arch.is_empty() {
        return None;
    }
    Some((name, nevra(name, epoch, version, release, arch)))
}

/// `name-epoch:version-release.arch`, the epoch `0` when empty.
fn nevra(name: &str, epoch: &str, version: &str, release: &str, arch: &str) -> String {
    let epoch = if epoch.is_empty() { "0" } else { epoch };
    format!("{name}-{epoch}:{version}-{release}.{arch}")
}

/// The files of `dir` whose name ends with `suffix`, sorted; none when it is missing.
fn files_with_suffix(dir: &Path, suffix: &str) -> Result<Vec<std::path::PathBuf>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new());
        }
        Err(source) => {
            return Err(Error::Read {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut out: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(suffix) && n.len() > suffix.len())
        })
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_and_stream_lists() {
        assert_eq!(
            parse_nevra("nodejs-1:18.19.0-1.module+el8.10.0+21000+aaaa.x86_64"),
            Some((
                "nodejs",
                "nodejs-1:18.19.0-1.module+el8.10.0+21000+aaaa.x86_64".to_owned()
            ))
        );
        assert_eq!(
            parse_nevra("perl-DBI-1.641-4.module_el8.noarch").map(|(_, k)| k),
            Some("perl-DBI-0:1.641-4.module_el8.noarch".to_owned())
        );
        assert_eq!(parse_nevra("garbage"), None);
        let l = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(stream_matches("el8", &l(&[])));
        assert!(stream_matches("el8", &l(&["el8"])));
        assert!(!stream_matches("el9", &l(&["el8"])));
        assert!(!stream_matches("el8", &l(&["-el8"])));
        assert!(stream_matches("el9", &l(&["-el8"])));
    }

    #[test]
    fn module_files_are_read_as_libdnf_reads_them() {
        assert_eq!(
            state_of(
                "[nodejs]\nname=nodejs\nstream=18\nprofiles=\nstate=enabled\n",
                "nodejs"
            ),
            Some(State::Enabled("18".into()))
        );
        assert_eq!(
            state_of(
                "[php]\nname=php\nstream=\nprofiles=\nstate=disabled\n",
                "php"
            ),
            Some(State::Disabled)
        );
        // The old `enabled=` form.
        assert_eq!(
            state_of("[php]\nstream=7.4\nprofiles=\nenabled=1\n", "php"),
            Some(State::Enabled("7.4".into()))
        );
        // No `profiles`: libdnf ignores the file. `installed` is no state it knows.
        assert_eq!(state_of("[php]\nstream=7.4\nstate=enabled\n", "php"), None);
        assert_eq!(
            state_of("[php]\nstream=7.4\nprofiles=\nstate=installed\n", "php"),
            None
        );
        // Another module's section.
        assert_eq!(
            state_of("[perl]\nstream=5.30\nprofiles=\nstate=enabled\n", "php"),
            None
        );
        assert_eq!(platform_stream("\"platform:el9\""), Some("el9".into()));
        assert_eq!(platform_stream("platform"), None);
    }
}
