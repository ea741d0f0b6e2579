//! apt's candidate selection (apt-pkg/policy.cc): default priorities per package file,
//! pins from `etc/apt/preferences` and `etc/apt/preferences.d/*`, and the version apt
//! would install for each package.

use std::cmp::Ordering;

use super::release::Release;

/// Priority of a package file apt installs from automatically.
pub const DEFAULT_PRIORITY: i32 = 500;
/// Priority of a `NotAutomatic: yes` archive (experimental, backports).
pub const NOT_AUTOMATIC_PRIORITY: i32 = 1;
/// Priority of a `ButAutomaticUpgrades: yes` archive, and of dpkg's status file.
pub const AUTOMATIC_UPGRADES_PRIORITY: i32 = 100;
/// Priority of the target release (`APT::Default-Release`).
pub const DEFAULT_RELEASE_PRIORITY: i32 = 990;

/// A source of package versions: one Packages list, or dpkg's status file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageFile {
    /// The list's file name (without compression suffix), or the status file's path.
    pub name: String,
    /// The archive it belongs to; for the status file only `suite` is set, to "now".
    pub release: Release,
    /// Component (`c=`).
    pub component: String,
    /// Architecture of the list (`b=`).
    pub arch: String,
    /// Host it was fetched from (`Pin: origin`).
    pub site: String,
    /// True for dpkg's status file, which apt never installs from.
    pub is_status: bool,
}

/// One available version of a package (one name and architecture slot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Parsed, for dpkg ordering.
    pub parsed: debversion::Version,
    /// As written in the list.
    pub text: String,
    /// Architecture of this version (`all` or the slot's).
    pub arch: String,
    /// Its source package name (for `src:` pins).
    pub source: String,
    /// Indices of the package files offering it.
    pub files: Vec<usize>,
}

/// A record of the preferences files.
#[derive(Debug, Clone)]
pub struct Pin {
    /// `Package: *` (a default pin for package files) or the packages named.
    pub packages: Option<Vec<PackageSpec>>,
    /// What versions or files it selects.
    pub target: Target,
    /// `Pin-Priority`.
    pub priority: i32,
}

/// One package of a `Package:` line: a name, glob or `/regex/`, with an optional `:arch`;
/// with a `src:` prefix, the binaries built from that source.
#[derive(Debug, Clone)]
pub struct PackageSpec {
    name: Name,
    arch: Option<String>,
    source: bool,
}

/// What a `Pin:` line selects.
#[derive(Debug, Clone)]
pub enum Target {
    /// `Pin: version 1.2*`.
    Version {
        /// The version or pattern, without a trailing `*`.
        text: String,
        /// A trailing `*` made it a prefix.
        prefix: bool,
    },
    /// `Pin: release a=..,n=..,o=..,l=..,c=..,b=..,v=..` or `Pin: release <suite|version>`.
    Release(ReleaseSpec),
    /// `Pin: origin host`.
    Origin(String),
}

/// The fields of a release pin; `None` means not constrained.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSpec {
    version: Option<String>,
    version_prefix: bool,
    origin: Option<String>,
    archive: Option<String>,
    codename: Option<String>,
    /// A bare word: the archive or the codename.
    release: Option<String>,
    label: Option<String>,
    component: Option<String>,
    arch: Option<String>,
}

/// apt's policy over a set of package files.
#[derive(Debug)]
pub struct Policy {
    files: Vec<PackageFile>,
    file_priority: Vec<i32>,
    package_pins: Vec<Pin>,
    native_arch: String,
}

#[derive(Debug, Clone)]
enum Name {
    Exact(String),
    Pattern(Expr),
}

/// apt's `ExpressionMatches`: `/regex/` (extended, case-insensitive, unanchored) or an
/// fnmatch glob (case-insensitive).
#[derive(Debug, Clone)]
enum Expr {
    Glob(Vec<char>),
    Regex(Option<regex::Regex>),
}

impl Expr {
    fn new(pattern: &str) -> Self {
        if pattern.len() >= 2 && pattern.starts_with('/') && pattern.ends_with('/') {
            let inner = &pattern[1..pattern.len() - 1];
            let re = regex::RegexBuilder::new(inner)
                .case_insensitive(true)
                .build();
            if let Err(e) = &re {
                tracing::warn!(regex = inner, error = %e, "invalid regular expression in apt preferences");
            }
            Expr::Regex(re.ok())
        } else {
            Expr::Glob(pattern.to_lowercase().chars().collect())
        }
    }

    fn matches(&self, s: &str) -> bool {
        match self {
            Expr::Regex(re) => re.as_ref().is_some_and(|re| re.is_match(s)),
            Expr::Glob(p) => {
                let s: Vec<char> = s.to_lowercase().chars().collect();
                fnmatch(p, &s)
            }
        }
    }
}

impl Policy {
    /// Builds the policy: each file's default priority, then the `Package: *` pins in
    /// order (the first matching one fixes a file's priority), the target release first.
    pub fn new(
        files: Vec<PackageFile>,
        pins: Vec<Pin>,
        default_release: Option<&str>,
        native_arch: &str,
    ) -> Self {
        let mut file_priority: Vec<i32> = files
            .iter()
            .map(|f| {
                // apt flags its status file NotSource, and tests that flag first.
                if f.is_status || f.release.but_automatic_upgrades {
                    AUTOMATIC_UPGRADES_PRIORITY
                } else if f.release.not_automatic {
                    NOT_AUTOMATIC_PRIORITY
                } else {
                    DEFAULT_PRIORITY
                }
            })
            .collect();
        let mut defaults = Vec::new();
        if let Some(rel) = default_release.filter(|r| !r.is_empty()) {
            defaults.push(Pin {
                packages: None,
                target: Target::Release(ReleaseSpec::parse(rel)),
                priority: DEFAULT_RELEASE_PRIORITY,
            });
        }
        let (file_pins, package_pins): (Vec<Pin>, Vec<Pin>) =
            pins.into_iter().partition(|p| p.packages.is_none());
        defaults.extend(file_pins);
        let mut fixed = vec![false; files.len()];
        for pin in &defaults {
            for (i, file) in files.iter().enumerate() {
                if (!fixed[i] || pin.priority == -32768)
                    && file_priority[i] != -32768
                    && pin.target.matches_file(file)
                {
                    file_priority[i] = pin.priority;
                    fixed[i] = true;
                }
            }
        }
        Self {
            files,
            file_priority,
            package_pins,
            native_arch: native_arch.to_owned(),
        }
    }

    /// Returns the package files the policy was built over.
    pub fn files(&self) -> &[PackageFile] {
        &self.files
    }

    /// Returns the priority of a package file.
    pub fn file_priority(&self, file: usize) -> i32 {
        self.file_priority.get(file).copied().unwrap_or(0)
    }

    /// Returns the priority of `version` of package `name` in architecture slot `arch`:
    /// the first package pin that selects it, else the highest of its files.
    pub fn priority(&self, name: &str, arch: &str, version: &Version) -> i32 {
        for pin in &self.package_pins {
            let Some(specs) = &pin.packages else { continue };
            if specs
                .iter()
                .any(|s| s.matches(name, &version.source, arch, &self.native_arch))
                && pin.target.matches_version(version, &self.files)
            {
                return pin.priority;
            }
        }
        version
            .files
            .iter()
            .map(|&f| self.file_priority(f))
            .max()
            .unwrap_or(0)
    }

    /// Returns the index in `versions` of apt's candidate for package `name` in slot
    /// `arch`, where `current` is the index of the installed version.
    ///
    /// Versions are visited from the highest down; the first one with a strictly higher
    /// priority than the best so far wins, so equal priorities go to the higher version.
    /// Priority 0 or below is never a candidate, and below 1000 no version older than
    /// the installed one is.
    pub fn candidate(
        &self,
        name: &str,
        arch: &str,
        versions: &[Version],
        current: Option<usize>,
    ) -> Option<usize> {
        self.candidate_capped(name, arch, versions, current, &|_| false)
    }

    /// Returns the candidate like [`Policy::candidate`], with the priority of each
    /// version for which `capped` holds lowered to at most 1, as apt lowers versions
    /// phasing excludes under `APT::Get::Phase-Policy`.
    pub fn candidate_capped(
        &self,
        name: &str,
        arch: &str,
        versions: &[Version],
        current: Option<usize>,
        capped: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let mut order: Vec<usize> = (0..versions.len()).collect();
        order.sort_by(|&a, &b| versions[b].parsed.cmp(&versions[a].parsed));
        let current = current.and_then(|c| versions.get(c));
        let mut best: Option<(usize, i32)> = None;
        for i in order {
            let mut priority = self.priority(name, arch, &versions[i]);
            if capped(i) {
                priority = priority.min(1);
            }
            if priority <= 0 || best.is_some_and(|(_, p)| priority <= p) {
                continue;
            }
            if let Some(cur) = current
                && priority < 1000
                && versions[i].parsed.cmp(&cur.parsed) == Ordering::Less
            {
                continue;
            }
            best = Some((i, priority));
        }
        best.map(|(i, _)| i)
    }
}

impl PackageSpec {
    fn parse(word: &str) -> Option<Self> {
        let (word, source) = match word.strip_prefix("src:") {
            Some(rest) => (rest, true),
            None => (word, false),
        };
        let (name, arch) = match word.rfind(':') {
            Some(i) => (&word[..i], Some(word[i + 1..].to_owned())),
            None => (word, None),
        };
        let is_regex = name.len() >= 2 && name.starts_with('/') && name.ends_with('/');
        let name = if is_regex || name.contains(['*', '[', '?']) {
            Name::Pattern(Expr::new(name))
        } else {
            Name::Exact(name.to_owned())
        };
        Some(Self { name, arch, source })
    }

    fn matches(&self, name: &str, source: &str, arch: &str, native: &str) -> bool {
        let name = if self.source { source } else { name };
        let name_ok = match &self.name {
            Name::Exact(n) => n == name,
            Name::Pattern(e) => e.matches(name),
        };
        // Without a qualifier a pin applies to the native architecture (with `all`).
        let arch_ok = match self.arch.as_deref() {
            None => arch == native || arch == "all",
            Some("any") => true,
            Some(a) => a == arch || (arch == "all" && a == native),
        };
        name_ok && arch_ok
    }
}

impl ReleaseSpec {
    fn parse(data: &str) -> Self {
        let mut spec = Self::default();
        if !data.contains('=') {
            if data.starts_with(|c: char| c.is_ascii_digit()) {
                spec.version = Some(data.to_owned());
            } else {
                spec.release = Some(data.to_owned());
            }
        } else {
            for fragment in data.split(',') {
                let fragment = fragment.trim();
                if fragment.len() < 3 || fragment.as_bytes()[1] != b'=' {
                    continue;
                }
                let value = Some(fragment[2..].to_owned());
                match fragment.as_bytes()[0].to_ascii_lowercase() {
                    b'v' => spec.version = value,
                    b'o' => spec.origin = value,
                    b'a' => spec.archive = value,
                    b'n' => spec.codename = value,
                    b'l' => spec.label = value,
                    b'c' => spec.component = value,
                    b'b' => spec.arch = value,
                    _ => {}
                }
            }
        }
        if let Some(v) = spec.version.as_mut()
            && let Some(stripped) = v.strip_suffix('*')
        {
            *v = stripped.to_owned();
            spec.version_prefix = true;
        }
        spec
    }

    fn matches(&self, file: &PackageFile) -> bool {
        let r = &file.release;
        let constraints = [
            &self.version,
            &self.origin,
            &self.archive,
            &self.codename,
            &self.release,
            &self.label,
            &self.component,
            &self.arch,
        ];
        if constraints.iter().all(|c| c.is_none()) {
            return false;
        }
        let field = |want: &Option<String>, have: &str| match want {
            None => true,
            Some(w) => !have.is_empty() && Expr::new(w).matches(have),
        };
        if let Some(v) = &self.version
            && (r.version.is_empty()
                || !(match_version(&r.version, v, self.version_prefix)
                    || Expr::new(v).matches(&r.version)))
        {
            return false;
        }
        if let Some(rel) = &self.release {
            let e = Expr::new(rel);
            let archive = !r.suite.is_empty() && e.matches(&r.suite);
            let codename = !r.codename.is_empty() && e.matches(&r.codename);
            if !archive && !codename {
                return false;
            }
        }
        field(&self.origin, &r.origin)
            && field(&self.archive, &r.suite)
            && field(&self.codename, &r.codename)
            && field(&self.label, &r.label)
            && field(&self.component, &file.component)
            && field(&self.arch, &file.arch)
    }
}

impl Target {
    fn parse(pin: &str, has_packages: bool) -> Option<Self> {
        let pin = pin.trim();
        let (kind, data) = pin
            .split_once(|c: char| c.is_ascii_whitespace())
            .map_or((pin, ""), |(k, d)| (k, d.trim_start()));
        match kind.to_ascii_lowercase().as_str() {
            "version" if has_packages => {
                let (text, prefix) = match data.strip_suffix('*') {
                    Some(t) => (t.to_owned(), true),
                    None => (data.to_owned(), false),
                };
                Some(Target::Version { text, prefix })
            }
            "release" => Some(Target::Release(ReleaseSpec::parse(data))),
            "origin" => {
                let site = data
                    .strip_prefix('"')
                    .and_then(|d| d.strip_suffix('"'))
                    .unwrap_or(data);
                Some(Target::Origin(site.to_owned()))
            }
            _ => None,
        }
    }

    fn matches_file(&self, file: &PackageFile) -> bool {
        match self {
            Target::Version { .. } => false,
            Target::Release(spec) => spec.matches(file),
            Target::Origin(site) => {
                // `origin ""` means local (file:) repositories, never the status file.
                if site.is_empty() && file.is_status {
                    return false;
                }
                Expr::new(site).matches(&file.site)
            }
        }
    }

    fn matches_version(&self, version: &Version, files: &[PackageFile]) -> bool {
        match self {
            Target::Version { text, prefix } => {
                match_version(&version.text, text, *prefix)
                    || Expr::new(text).matches(&version.text)
            }
            _ => version
                .files
                .iter()
                .filter_map(|&f| files.get(f))
                .any(|f| self.matches_file(f)),
        }
    }
}

/// Parses the bytes of an apt preferences file into pins, in file order.
///
/// Records without a Package, a Pin apt understands or a non-zero Pin-Priority are
/// skipped with a warning, as apt skips (or refuses) them.
pub fn parse_preferences(bytes: &[u8]) -> Vec<Pin> {
    let text = String::from_utf8_lossy(bytes);
    let mut pins = Vec::new();
    let mut record: Vec<(String, String)> = Vec::new();
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r')).peekable();
    loop {
        let line = lines.next();
        let blank = line.is_none_or(|l| l.trim().is_empty());
        if blank {
            if !record.is_empty() {
                if let Some(pin) = pin_of(&record) {
                    pins.push(pin);
                }
                record.clear();
            }
            if line.is_none() {
                return pins;
            }
            continue;
        }
        let line = line.unwrap_or_default();
        if line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = record.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            record.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
}

/// Returns the names in a `preferences.d` listing that apt reads, in apt's order: names
/// of letters, digits, `_`, `-`, `:` and `.`, ending in `.pref` or without a dot.
pub fn preference_files(names: &[String]) -> Vec<String> {
    let mut keep: Vec<String> = names
        .iter()
        .filter(|n| {
            !n.is_empty()
                && !n.ends_with('.')
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))
                && (!n.contains('.') || n.ends_with(".pref"))
        })
        .cloned()
        .collect();
    keep.sort();
    keep
}

fn pin_of(record: &[(String, String)]) -> Option<Pin> {
    let get = |key: &str| {
        record
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let Some(package) = get("package").filter(|p| !p.is_empty()) else {
        tracing::warn!("apt preferences record without a Package field skipped");
        return None;
    };
    let packages = (package != "*").then(|| {
        package
            .split_ascii_whitespace()
            .filter_map(PackageSpec::parse)
            .collect::<Vec<_>>()
    });
    let target = Target::parse(get("pin")?, packages.is_some());
    let Some(target) = target else {
        tracing::warn!(package, "apt preferences pin type not understood; skipped");
        return None;
    };
    let priority = get("pin-priority").map_or(0, atoi);
    if priority == 0 {
        tracing::warn!(package, "apt preferences record without a priority skipped");
        return None;
    }
    Some(Pin {
        packages,
        target,
        priority: priority.clamp(-32768, 32767),
    })
}

/// C's `atoi`: optional sign and leading digits, anything else ends the number.
fn atoi(s: &str) -> i32 {
    let s = s.trim_start();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1i64, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut n: i64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(10) else { break };
        n = (n * 10 + i64::from(d)).min(i64::from(i32::MAX) + 1);
    }
    (sign * n).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// apt's `MatchVer`: equal, or (with `prefix`) starting with `want`, case-insensitively.
fn match_version(have: &str, want: &str, prefix: bool) -> bool {
    if prefix {
        have.len() >= want.len()
            && have.is_char_boundary(want.len())
            && have[..want.len()].eq_ignore_ascii_case(want)
    } else {
        have.eq_ignore_ascii_case(want)
    }
}

/// fnmatch(3) without flags but case folding: `*`, `?`, `[...]` (with `!`/`^` and ranges)
/// and `\` escapes.
fn fnmatch(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(p, pi, s[si]) {
                        if matched {
                            pi = next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == '[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == s[si] {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[si] {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Matches `c` against the bracket expression at `p[start]`; returns whether it matched
/// and the index after the expression, or `None` when the bracket is not closed.
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        let lo = p[i];
        if lo == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if lo <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests;
