//! apt's sources (`etc/apt/sources.list`, `etc/apt/sources.list.d/*.list` one-line and
//! `*.sources` deb822): which downloaded lists apt reads. Lists of sources removed since
//! the last `apt update` stay on disk, and apt ignores them; so are lists of an
//! architecture no longer configured (`APT::Architectures`, dpkg's foreign
//! architectures, a source's `arch=` or `Architectures:`).

use super::config::string_to_bool;

/// One `deb` source: a URI and a suite, with its components (none for a flat repository).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The archive URI, e.g. `http://deb.debian.org/debian`.
    pub uri: String,
    /// The suite (`bookworm`), or a path ending in `/` for a flat repository (`./`).
    pub suite: String,
    /// Components (`main contrib`).
    pub components: Vec<String>,
    /// The architectures whose lists apt fetches for it (`all` always included).
    pub archs: Vec<String>,
}

/// A source's architecture options: `arch=`/`Architectures:` replaces the configured
/// set, `arch+=`/`Architectures-Add:` adds, `arch-=`/`Architectures-Remove:` removes.
#[derive(Debug, Clone, Default)]
struct ArchOptions {
    set: Option<Vec<String>>,
    add: Vec<String>,
    remove: Vec<String>,
}

/// Which lists the sources make apt read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Configured {
    /// Only the lists these sources name.
    Sources(Vec<Source>),
    /// Every list: a source could not be mapped to file names (a `cdrom:` source or a
    /// `$(ARCH)` variable), so nothing is left out rather than something wrongly.
    Unknown,
}

impl Configured {
    /// Returns whether apt reads the Packages list `list` (its file name without
    /// compression suffix).
    pub fn includes(&self, list: &str) -> bool {
        let Configured::Sources(sources) = self else {
            return true;
        };
        sources.iter().any(|s| s.names(list))
    }
}

impl Source {
    /// Returns whether `list` is one of this source's Packages lists.
    fn names(&self, list: &str) -> bool {
        let base = if self.uri.ends_with('/') {
            self.uri.clone()
        } else {
            format!("{}/", self.uri)
        };
        if self.suite.ends_with('/') {
            // Flat: <uri>/<suite>Packages, e.g. host_path_._Packages for "./".
            let prefix = uri_to_file_name(&format!("{base}{}", self.suite));
            return list == format!("{prefix}Packages");
        }
        let prefix = uri_to_file_name(&format!("{base}dists/{}/", self.suite));
        let Some(rest) = list.strip_prefix(&prefix) else {
            return false;
        };
        self.components.iter().any(|c| {
            let c = uri_to_file_name(c);
            rest.strip_prefix(&c)
                .and_then(|r| r.strip_prefix("_binary-"))
                .and_then(|r| r.strip_suffix("_Packages"))
                .is_some_and(|arch| arch == "all" || self.archs.iter().any(|a| a == arch))
        })
    }
}

impl ArchOptions {
    /// The architectures of a source with these options, given the configured ones.
    fn resolve(&self, configured: &[String]) -> Vec<String> {
        let mut archs = self.set.clone().unwrap_or_else(|| configured.to_vec());
        for a in &self.add {
            if !archs.contains(a) {
                archs.push(a.clone());
            }
        }
        archs.retain(|a| !self.remove.contains(a));
        archs
    }
}

/// Parses the sources under `files`, each `(file name, bytes)` in apt's reading order;
/// `archs` are the configured architectures (native first).
pub fn parse(files: &[(String, Vec<u8>)], archs: &[String]) -> Configured {
    let mut sources = Vec::new();
    for (name, bytes) in files {
        let text = String::from_utf8_lossy(bytes);
        if name.ends_with(".sources") {
            parse_deb822(&text, archs, &mut sources);
        } else {
            parse_one_line(&text, archs, &mut sources);
        }
    }
    let unmappable = sources.iter().any(|s| {
        s.uri.starts_with("cdrom:")
            || s.uri.contains("$(")
            || s.suite.contains("$(")
            || s.components.iter().any(|c| c.contains("$("))
    });
    if unmappable {
        Configured::Unknown
    } else {
        Configured::Sources(sources)
    }
}

/// Returns the names in `sources.list.d` apt reads, in its order: `.list` and `.sources`
/// files whose names are letters, digits, `_`, `-`, `:` and `.`.
pub fn source_files(names: &[String]) -> Vec<String> {
    let mut keep: Vec<String> = names
        .iter()
        .filter(|n| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))
                && (n.ends_with(".list") || n.ends_with(".sources"))
        })
        .cloned()
        .collect();
    keep.sort();
    keep
}

fn parse_one_line(text: &str, configured: &[String], out: &mut Vec<Source>) {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some(rest) = line.strip_prefix("deb") else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue; // deb-src and other types
        }
        let mut rest = rest.trim_start();
        let mut archs = ArchOptions::default();
        if let Some(options) = rest.strip_prefix('[') {
            let Some(end) = options.find(']') else {
                continue;
            };
            for option in options[..end].split_ascii_whitespace() {
                let Some((key, value)) = option.split_once('=') else {
                    continue;
                };
                let values = split_list(value);
                match key {
                    "arch" => archs.set = Some(values),
                    "arch+" => archs.add.extend(values),
                    "arch-" => archs.remove.extend(values),
                    _ => {}
                }
            }
            rest = options[end + 1..].trim_start();
        }
        let mut words = rest.split_ascii_whitespace();
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
            continue;
        };
        out.push(Source {
            uri: uri.to_owned(),
            suite: suite.to_owned(),
            components: words.map(str::to_owned).collect(),
            archs: archs.resolve(configured),
        });
    }
}

/// Splits an option's value at commas and white space.
fn split_list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_deb822(text: &str, configured: &[String], out: &mut Vec<Source>) {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(Some).chain(std::iter::once(None)) {
        let blank = line.is_none_or(|l| l.trim().is_empty());
        if blank {
            stanza(&fields, configured, out);
            fields.clear();
            continue;
        }
        let line = line.unwrap_or_default();
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
}

fn stanza(fields: &[(String, String)], configured: &[String], out: &mut Vec<Source>) {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    if !get("types").split_ascii_whitespace().any(|t| t == "deb") {
        return;
    }
    let enabled = get("enabled");
    if !enabled.is_empty() && !string_to_bool(enabled, true) {
        return;
    }
    let has = |k: &str| fields.iter().any(|(n, _)| n == k);
    let archs = ArchOptions {
        set: has("architectures").then(|| split_list(get("architectures"))),
        add: split_list(get("architectures-add")),
        remove: split_list(get("architectures-remove")),
    }
    .resolve(configured);
    let components: Vec<String> = get("components")
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    for uri in get("uris").split_ascii_whitespace() {
        for suite in get("suites").split_ascii_whitespace() {
            out.push(Source {
                uri: uri.to_owned(),
                suite: suite.to_owned(),
                components: components.clone(),
                archs: archs.clone(),
            });
        }
    }
}

/// apt's `URItoFileName`: the URI without scheme, user and password, with unsafe
/// characters (and `_`) quoted as `%xx`, then `/` turned into `_`.
pub fn uri_to_file_name(uri: &str) -> String {
    // Strip "scheme:" and "//user:pass@"; keep host[:port] and path.
    let rest = match uri.split_once(':') {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            rest
        }
        _ => uri,
    };
    let rest = match rest.strip_prefix("//") {
        Some(authority_path) => {
            let (authority, path) = match authority_path.find('/') {
                Some(i) => authority_path.split_at(i),
                None => (authority_path, ""),
            };
            let host = authority.rsplit('@').next().unwrap_or_default();
            format!("{host}{path}")
        }
        None => rest.to_owned(),
    };
    let mut out = String::with_capacity(rest.len());
    for b in rest.bytes() {
        if b"\\|{}[]<>\"^~_=!@#$%^&*".contains(&b) || b <= 0x20 || b >= 0x7f {
            out.push_str(&format!("%{b:02x}"));
        } else if b == b'/' {
            out.push('_');
        } else {
            out.push(char::from(b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_like_apt() {
        assert_eq!(
            uri_to_file_name("http://deb.debian.org/debian/dists/bookworm/"),
            "deb.debian.org_debian_dists_bookworm_"
        );
        assert_eq!(
            uri_to_file_name("https://user:pw@host:8080/a_b/~x/"),
            "host:8080_a%5fb_%7ex_"
        );
        assert_eq!(uri_to_file_name("file:/srv/repo/./"), "_srv_repo_._");
    }

    #[test]
    fn one_line_and_deb822_sources_select_lists() {
        let files = vec![
            (
                "sources.list".to_owned(),
                b"# comment\ndeb [ arch=amd64 trusted=yes ] http://deb.debian.org/debian bookworm main contrib # x\n\
deb-src http://deb.debian.org/debian bookworm main\ndeb file:/srv/repo ./\n"
                    .to_vec(),
            ),
            (
                "debian.sources".to_owned(),
                b"Types: deb\n# snapshot\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n\n\
Types: deb\nEnabled: no\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n"
                    .to_vec(),
            ),
        ];
        let c = parse(&files, &["amd64".to_owned(), "i386".to_owned()]);
        for yes in [
            "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
            "deb.debian.org_debian_dists_bookworm_contrib_binary-amd64_Packages",
            "deb.debian.org_debian-security_dists_bookworm-security_main_binary-i386_Packages",
            "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages",
            "_srv_repo_._Packages",
        ] {
            assert!(c.includes(yes), "{yes}");
        }
        for no in [
            // arch=amd64 on that source.
            "deb.debian.org_debian_dists_bookworm_contrib_binary-i386_Packages",
            "deb.debian.org_debian_dists_bookworm_non-free_binary-amd64_Packages",
            "deb.debian.org_debian_dists_bookworm-updates_main_binary-amd64_Packages",
            "deb.nodesource.com_node%5f20.x_dists_nodistro_main_binary-amd64_Packages",
        ] {
            assert!(!c.includes(no), "{no}");
        }
    }

    #[test]
    fn unmappable_sources_include_everything() {
        let c = parse(
            &[(
                "sources.list".to_owned(),
                b"deb cdrom:[Debian GNU/Linux 12]/ bookworm main\n".to_vec(),
            )],
            &[],
        );
        assert_eq!(c, Configured::Unknown);
        assert!(c.includes("anything_Packages"));
    }

    #[test]
    fn lists_of_architectures_not_configured_are_left_out() {
        let files = vec![
            (
                "sources.list".to_owned(),
                b"deb http://h/d a main\ndeb [arch=arm64 arch+=i386,s390x arch-=s390x] http://h/d b main\n"
                    .to_vec(),
            ),
            (
                "x.sources".to_owned(),
                b"Types: deb\nURIs: http://h/d\nSuites: c\nComponents: main\nArchitectures-Add: armhf\nEnabled: yes\n\n\
Types: deb\nURIs: http://h/d\nSuites: d\nComponents: main\nEnabled: 0\n"
                    .to_vec(),
            ),
        ];
        let c = parse(&files, &["amd64".to_owned()]);
        let list =
            |suite: &str, arch: &str| format!("h_d_dists_{suite}_main_binary-{arch}_Packages");
        assert!(c.includes(&list("a", "amd64")));
        assert!(c.includes(&list("a", "all")));
        assert!(!c.includes(&list("a", "i386")));
        assert!(c.includes(&list("b", "arm64")) && c.includes(&list("b", "i386")));
        assert!(!c.includes(&list("b", "amd64")) && !c.includes(&list("b", "s390x")));
        assert!(c.includes(&list("c", "amd64")) && c.includes(&list("c", "armhf")));
        assert!(!c.includes(&list("d", "amd64")), "disabled");
    }

    #[test]
    fn source_file_names_follow_apt() {
        let names: Vec<String> = ["b.sources", "a.list", "c.list.disabled-by-farm", "d"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(source_files(&names), ["a.list", "b.sources"]);
    }
}
