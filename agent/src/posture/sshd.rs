//! sshd's configuration (`/etc/ssh/sshd_config`, sshd_config(5)): the settings that decide
//! who can log in how, after `Include`, with sshd's rules: keywords are case-insensitive,
//! `Keyword value` and `Keyword=value` are the same, the first value of a keyword wins,
//! and settings after a `Match` line belong to that Match block until the next one or
//! the end of the file (an `Include` inside a Match applies inside it). Match blocks
//! depend on the connection, so they never set the global value; one that opens access
//! further than the global value is listed in `match_overrides`.

use std::collections::{HashMap, HashSet};

use ward_proto::v1 as pb;

use super::{Error, read_capped, read_path_capped};
use crate::inventory::root::Root;

/// The main configuration file, as sshd names it.
pub const CONFIG: &str = "/etc/ssh/sshd_config";
/// The directory relative `Include` patterns are relative to.
const CONFIG_DIR: &str = "/etc/ssh";
/// Include depth sshd allows (`SERVCONF_MAX_DEPTH`).
pub const MAX_DEPTH: usize = 16;
/// Files read in all, however they are included.
pub const MAX_FILES: usize = 256;
/// Bytes read of one file.
const MAX_FILE: u64 = 1 << 20;

/// The settings the posture section reports, by sshd's lower-case keyword, with
/// OpenSSH's default and the spelling the section shows.
const SETTINGS: [(&str, &str, &str); 4] = [
    ("permitrootlogin", "PermitRootLogin", "prohibit-password"),
    ("passwordauthentication", "PasswordAuthentication", "yes"),
    ("permitemptypasswords", "PermitEmptyPasswords", "no"),
    (
        "kbdinteractiveauthentication",
        "KbdInteractiveAuthentication",
        "yes",
    ),
];

/// What the configuration says.
#[derive(Debug, Clone, PartialEq)]
pub struct Sshd {
    /// The section's view of it.
    pub settings: pb::SshdSettings,
    /// `AuthorizedKeysFile` (global), as written: `%h`/`%u` patterns, relative to the
    /// home directory unless absolute.
    pub authorized_keys_files: Vec<String>,
}

/// Where `Include` finds files.
pub trait Includes {
    /// Returns the files an absolute pattern (glob) names, in sshd's order (sorted), each
    /// with its bytes or why they could not be read; none when nothing matches (sshd
    /// skips such an Include).
    fn expand(&mut self, pattern: &str) -> Vec<(String, Result<Vec<u8>, Error>)>;
}

/// No files: every `Include` matches nothing (for parsing one file on its own).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIncludes;

impl Includes for NoIncludes {
    fn expand(&mut self, _pattern: &str) -> Vec<(String, Result<Vec<u8>, Error>)> {
        Vec::new()
    }
}

/// The default `AuthorizedKeysFile`.
pub fn default_authorized_keys_files() -> Vec<String> {
    vec![
        ".ssh/authorized_keys".to_owned(),
        ".ssh/authorized_keys2".to_owned(),
    ]
}

/// Parses one configuration text (`Include` finds nothing).
pub fn parse(text: &str) -> Sshd {
    parse_with(CONFIG, text.as_bytes(), &mut NoIncludes).0
}

/// Parses the configuration file `file` holding `bytes`, following `Include` through
/// `includes`; returns the result and the included files that could not be read.
pub fn parse_with(file: &str, bytes: &[u8], includes: &mut dyn Includes) -> (Sshd, Vec<Error>) {
    let mut p = Parser {
        includes,
        global: HashMap::new(),
        matched: Vec::new(),
        block_keys: HashSet::new(),
        blocks: 0,
        current: None,
        keys_files: None,
        files: Vec::new(),
        errors: Vec::new(),
    };
    p.files.push(file.to_owned());
    p.feed(&String::from_utf8_lossy(bytes), 0);
    p.finish()
}

/// Reads sshd's configuration under `root`; `present: false` when there is none.
pub(crate) fn read(root: &Root) -> Result<Sshd, Error> {
    let Some(bytes) = read_capped(root, CONFIG, MAX_FILE)? else {
        return Ok(Sshd {
            settings: pb::SshdSettings::default(),
            authorized_keys_files: default_authorized_keys_files(),
        });
    };
    let (sshd, errors) = parse_with(CONFIG, &bytes, &mut UnderRoot { root });
    // The main file was read; an unreadable included one (which sshd itself would refuse)
    // is the reader's error.
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(sshd),
    }
}

struct Parser<'a> {
    includes: &'a mut dyn Includes,
    /// Global values, first wins.
    global: HashMap<&'static str, String>,
    /// (criteria, keyword, value) set in Match blocks, first per block wins.
    matched: Vec<(String, &'static str, String)>,
    block_keys: HashSet<(usize, &'static str)>,
    blocks: usize,
    /// The Match block lines belong to: its number and criteria.
    current: Option<(usize, String)>,
    keys_files: Option<Vec<String>>,
    files: Vec<String>,
    errors: Vec<Error>,
}

impl Parser<'_> {
    fn feed(&mut self, text: &str, depth: usize) {
        for line in text.lines() {
            let Some((keyword, args)) = split_line(line) else {
                continue;
            };
            let keyword = keyword.to_ascii_lowercase();
            match keyword.as_str() {
                "match" => {
                    self.blocks += 1;
                    self.current = Some((self.blocks, args.join(" ")));
                }
                "include" => {
                    for pattern in &args {
                        self.include(pattern, depth);
                    }
                }
                "authorizedkeysfile" => {
                    if self.current.is_none() && self.keys_files.is_none() {
                        self.keys_files = Some(
                            args.into_iter()
                                .filter(|a| !a.eq_ignore_ascii_case("none"))
                                .collect(),
                        );
                    }
                }
                _ => {
                    let Some(name) = setting(&keyword) else {
                        continue;
                    };
                    let Some(value) = args.into_iter().next() else {
                        continue;
                    };
                    let value = normalise(&value);
                    match &self.current {
                        None => {
                            self.global.entry(name).or_insert(value);
                        }
                        Some((block, criteria)) => {
                            if self.block_keys.insert((*block, name)) {
                                self.matched.push((criteria.clone(), name, value));
                            }
                        }
                    }
                }
            }
        }
    }

    fn include(&mut self, pattern: &str, depth: usize) {
        let pattern = if pattern.starts_with('/') {
            pattern.to_owned()
        } else {
            format!("{CONFIG_DIR}/{pattern}")
        };
        if depth + 1 > MAX_DEPTH {
            tracing::warn!(pattern, "sshd Include nested too deeply; not followed");
            return;
        }
        for (file, bytes) in self.includes.expand(&pattern) {
            if self.files.len() >= MAX_FILES {
                tracing::warn!(
                    max = MAX_FILES,
                    "too many sshd configuration files; the rest are left out"
                );
                return;
            }
            match bytes {
                Ok(bytes) => {
                    self.files.push(file);
                    // sshd restores the Match state after an included file.
                    let saved = self.current.clone();
                    self.feed(&String::from_utf8_lossy(&bytes), depth + 1);
                    self.current = saved;
                }
                Err(e) => self.errors.push(e),
            }
        }
    }

    fn finish(self) -> (Sshd, Vec<Error>) {
        let effective = |name: &str| -> String {
            self.global.get(name).cloned().unwrap_or_else(|| {
                SETTINGS
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, _, d)| (*d).to_owned())
                    .unwrap_or_default()
            })
        };
        let mut match_overrides: Vec<String> = self
            .matched
            .iter()
            .filter(|(_, name, value)| openness(name, value) > openness(name, &effective(name)))
            .map(|(criteria, name, value)| {
                let shown = SETTINGS
                    .iter()
                    .find(|(n, _, _)| n == name)
                    .map(|(_, s, _)| *s)
                    .unwrap_or(name);
                format!("Match {criteria}: {shown} {value}")
            })
            .collect();
        match_overrides.sort();
        match_overrides.dedup();
        let settings = pb::SshdSettings {
            present: true,
            permit_root_login: effective("permitrootlogin"),
            password_authentication: effective("passwordauthentication"),
            permit_empty_passwords: effective("permitemptypasswords"),
            kbd_interactive_authentication: effective("kbdinteractiveauthentication"),
            match_overrides,
            files: self.files,
        };
        (
            Sshd {
                settings,
                authorized_keys_files: self
                    .keys_files
                    .unwrap_or_else(default_authorized_keys_files),
            },
            self.errors,
        )
    }
}

/// Returns the setting a lower-case keyword sets (`challengeresponseauthentication` is
/// the old name of `kbdinteractiveauthentication`).
fn setting(keyword: &str) -> Option<&'static str> {
    let keyword = match keyword {
        "challengeresponseauthentication" => "kbdinteractiveauthentication",
        k => k,
    };
    SETTINGS.iter().map(|(n, _, _)| *n).find(|n| *n == keyword)
}

/// Values are case-insensitive; `without-password` is the old `prohibit-password`.
fn normalise(value: &str) -> String {
    match value.to_ascii_lowercase().as_str() {
        "without-password" => "prohibit-password".to_owned(),
        v => v.to_owned(),
    }
}

/// How far a value opens access: higher is more open. A value sshd does not know counts
/// as closed (sshd refuses to start with it).
fn openness(name: &str, value: &str) -> u8 {
    match (name, value) {
        ("permitrootlogin", "yes") => 3,
        ("permitrootlogin", "prohibit-password") => 2,
        ("permitrootlogin", "forced-commands-only") => 1,
        ("permitrootlogin", _) => 0,
        (_, "yes") => 1,
        _ => 0,
    }
}

/// Splits a configuration line into its keyword and arguments as sshd does: leading
/// blanks skipped, `#` lines are comments, the keyword ends at a blank or `=`, one `=`
/// may separate it from the arguments, arguments may be double-quoted (`\"` and `\\`
/// escaped inside), and an unquoted argument starting with `#` ends the line.
pub fn split_line(line: &str) -> Option<(String, Vec<String>)> {
    // sshd strips trailing whitespace (and a form feed) from every line before parsing
    // it, so a bare `\r` at the end of the file's last line is no part of an unterminated
    // quoted value (found by the posture_sshd fuzz target).
    let line = line
        .trim_start_matches([' ', '\t', '\r', '\n'])
        .trim_end_matches([' ', '\t', '\r', '\n', '\x0c']);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find([' ', '\t', '\r', '\n', '='])
        .unwrap_or(line.len());
    let keyword = &line[..end];
    if keyword.is_empty() {
        return None;
    }
    let mut rest = line[end..].trim_start_matches([' ', '\t', '\r', '\n']);
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start_matches([' ', '\t', '\r', '\n']);
    }
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars
            .next_if(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            .is_some()
        {}
        let Some(&first) = chars.peek() else {
            break;
        };
        if first == '#' {
            break;
        }
        let mut arg = String::new();
        if first == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next_if(|c| matches!(c, '"' | '\\')) {
                        Some(escaped) => arg.push(escaped),
                        None => arg.push('\\'),
                    },
                    '"' => break,
                    c => arg.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !matches!(c, ' ' | '\t' | '\r' | '\n')) {
                arg.push(c);
            }
        }
        args.push(arg);
    }
    Some((keyword.to_owned(), args))
}

/// `Include` over the files under a root: glob patterns, component by component, `..`
/// never above the root.
struct UnderRoot<'a> {
    root: &'a Root<'a>,
}

impl Includes for UnderRoot<'_> {
    fn expand(&mut self, pattern: &str) -> Vec<(String, Result<Vec<u8>, Error>)> {
        glob(self.root, pattern)
            .into_iter()
            .take(MAX_FILES)
            .filter_map(|file| {
                let path = self.root.join(&file);
                if !path.is_file() {
                    return None;
                }
                match read_path_capped(&path, MAX_FILE) {
                    Ok(Some(bytes)) => Some((file, Ok(bytes))),
                    Ok(None) => None,
                    Err(e) => Some((file, Err(e))),
                }
            })
            .collect()
    }
}

/// Returns the paths under `root` an absolute glob pattern names (`*`, `?`, `[...]` in
/// any component; a leading `.` is matched only by a pattern that starts with one), sorted.
fn glob(root: &Root, pattern: &str) -> Vec<String> {
    let mut paths = vec![String::new()];
    for component in pattern.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if component == ".." {
            for p in &mut paths {
                if let Some(i) = p.rfind('/') {
                    p.truncate(i);
                }
            }
            continue;
        }
        if !component.contains(['*', '?', '[']) {
            for p in &mut paths {
                p.push('/');
                p.push_str(component);
            }
            continue;
        }
        let Ok(glob) = globset::GlobBuilder::new(component)
            .literal_separator(true)
            .build()
        else {
            return Vec::new();
        };
        let matcher = glob.compile_matcher();
        let mut next = Vec::new();
        for p in &paths {
            for name in root.list_dir(p) {
                if name.starts_with('.') && !component.starts_with('.') {
                    continue;
                }
                if matcher.is_match(&name) && next.len() < MAX_FILES {
                    next.push(format!("{p}/{name}"));
                }
            }
        }
        paths = next;
    }
    paths.retain(|p| !p.is_empty());
    paths
}

#[cfg(test)]
mod tests;
