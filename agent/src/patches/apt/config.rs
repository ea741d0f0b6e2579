//! apt's configuration (apt.conf(5) syntax, apt-pkg/contrib/configuration.cc): the files
//! apt reads at start (`etc/apt/apt.conf.d/*`, then `etc/apt/apt.conf`), parsed into apt's
//! tree of case-insensitive `::` scopes, with apt's lookups (`Find`, `FindB`,
//! `FindVector`, `FindFile`, `FindDir`).
//!
//! The parser follows `ReadConfigFile` line by line: `//`, `#` and `/* */` comments
//! (not inside quotes; `#clear`, `#include` and `#x-apt-configure-index` are directives),
//! `{ ... };` scopes, `a::b` paths, values quoted or not (`"a" "b"` concatenates), list
//! items (`"value";` inside a scope), `#clear` and `#include` (of a file, or of a
//! directory when the name ends in `/`). A syntax error ends the file where apt ends it:
//! what was set before stays set, as in apt, and a warning names the file and line.
//! Paths in the configuration (`Dir`, `#include`) are read under the root given, never
//! outside it.

use std::path::{Component, Path, PathBuf};

/// apt's defaults for the keys read here (apt-pkg/init.cc `pkgInitConfig`), set before
/// any file is read, as apt's `CndSet` does.
const DEFAULTS: &[(&str, &str)] = &[
    ("Dir", "/"),
    ("Dir::State", "var/lib/apt"),
    ("Dir::State::lists", "lists/"),
    ("Dir::Cache", "var/cache/apt"),
    ("Dir::Etc", "etc/apt"),
    ("Dir::Etc::sourcelist", "sources.list"),
    ("Dir::Etc::sourceparts", "sources.list.d"),
    ("Dir::Etc::main", "apt.conf"),
    ("Dir::Etc::parts", "apt.conf.d"),
    ("Dir::Etc::preferences", "preferences"),
    ("Dir::Etc::preferencesparts", "preferences.d"),
];

/// How deep `#include` may nest, as in apt.
const MAX_INCLUDE_DEPTH: u32 = 10;
/// Most files one [`Config::read`] reads: includes of directories that include each other
/// would otherwise multiply (apt has no such bound and reads them all).
const MAX_FILES: usize = 512;
/// Largest configuration file read; apt's own are a few kilobytes.
const MAX_FILE_SIZE: u64 = 4 << 20;

/// apt's configuration tree.
#[derive(Debug, Clone)]
pub struct Config {
    /// Items; index 0 is the root, which has no tag and no value.
    items: Vec<Item>,
}

/// Where a file of configuration failed to parse; what came before it stays set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in apt configuration {file}:{line}: {message}")]
pub struct SyntaxError {
    /// The file, as apt names it (under the root).
    pub file: String,
    /// The line (1-based).
    pub line: usize,
    /// What apt says about it.
    pub message: String,
}

#[derive(Debug, Clone)]
struct Item {
    tag: String,
    value: String,
    parent: usize,
    children: Vec<usize>,
}

/// Reads files for [`Config::parse_file`]: a file name as the configuration writes it,
/// resolved somewhere.
trait Source {
    /// Returns the bytes of the file `name`, or `None` when it cannot be read.
    fn file(&mut self, name: &str) -> Option<Vec<u8>>;
    /// Returns the files apt reads from the directory `name`, sorted, as full names.
    fn dir(&mut self, name: &str) -> Vec<String>;
}

/// Files under a root directory.
struct UnderRoot<'a> {
    root: &'a Path,
    files_read: usize,
}

/// No files at all: `#include` of anything fails.
struct NoFiles;

impl Default for Config {
    fn default() -> Self {
        Self {
            items: vec![Item {
                tag: String::new(),
                value: String::new(),
                parent: 0,
                children: Vec::new(),
            }],
        }
    }
}

impl Config {
    /// Returns a configuration holding apt's defaults for the directories (`Dir`,
    /// `Dir::State::lists`, `Dir::Etc::sourcelist`, ...) and nothing else.
    pub fn with_defaults() -> Self {
        let mut config = Self::default();
        for (key, value) in DEFAULTS {
            config.cnd_set(key, value);
        }
        config
    }

    /// Reads the configuration apt reads under `root`: its defaults, then the files of
    /// `Dir::Etc::parts` (`etc/apt/apt.conf.d`) in apt's order, then `Dir::Etc::main`
    /// (`etc/apt/apt.conf`), so that apt.conf has the last word. Syntax errors are
    /// logged as warnings; `APT_CONFIG` and `-o` options (apt's invocation, not the
    /// machine's configuration) are not read.
    pub fn read(root: &Path) -> Self {
        let mut config = Self::with_defaults();
        let mut source = UnderRoot {
            root,
            files_read: 0,
        };
        let parts = config.find_dir("Dir::Etc::parts", Some("/dev/null"));
        if !parts.ends_with("/dev/null") && under(root, &parts).is_dir() {
            for file in source.dir(&parts) {
                if let Err(e) = config.parse_file(&file, &mut source, 0) {
                    tracing::warn!(error = %e, "apt configuration partly read, as apt reads it");
                }
            }
        }
        let main = config.find_file("Dir::Etc::main", Some("/dev/null"));
        if !main.starts_with("/dev/null")
            && under(root, &main).is_file()
            && let Err(e) = config.parse_file(&main, &mut source, 0)
        {
            tracing::warn!(error = %e, "apt configuration partly read, as apt reads it");
        }
        config
    }

    /// Parses `bytes` as a configuration file named `file` into this configuration, as
    /// apt's `ReadConfigFile`; `#include` is refused (an error), since no files are
    /// reachable. On a syntax error what came before it stays set.
    pub fn parse(&mut self, file: &str, bytes: &[u8]) -> Result<(), SyntaxError> {
        self.parse_bytes(file, bytes, &mut NoFiles, 0)
    }

    /// Returns the value of `name`, `None` when it is unset or empty (apt's `Find`).
    pub fn find(&self, name: &str) -> Option<&str> {
        let item = self.lookup(name)?;
        let value = &self.items[item].value;
        (!value.is_empty()).then_some(value.as_str())
    }

    /// Returns `name` as a boolean (apt's `FindB`): `1`, `yes`, `true`, `with`, `on`,
    /// `enable` and `0`, `no`, `false`, `without`, `off`, `disable` (any case); `default`
    /// when unset, empty or anything else.
    pub fn find_b(&self, name: &str, default: bool) -> bool {
        self.find(name)
            .map_or(default, |v| string_to_bool(v, default))
    }

    /// Returns `name` as a list (apt's `FindVector`): its value split at commas when it
    /// has one, else the values of its children, in order.
    pub fn find_vector(&self, name: &str) -> Vec<String> {
        let Some(item) = self.lookup(name) else {
            return Vec::new();
        };
        let item = &self.items[item];
        if !item.value.is_empty() {
            return item.value.split(',').map(str::to_owned).collect();
        }
        item.children
            .iter()
            .map(|&c| self.items[c].value.clone())
            .collect()
    }

    /// Returns the file named by `name` as apt's `FindFile` resolves it: a relative value
    /// is relative to its parent's (`Dir::Etc::sourcelist` "sources.list" under
    /// `Dir::Etc` "etc/apt" under `Dir` "/"), an absolute one stands alone; `RootDir`
    /// prefixes everything. `default` is used when the value is unset or empty; the
    /// result is empty when there is neither.
    pub fn find_file(&self, name: &str, default: Option<&str>) -> String {
        let mut result = self.find("RootDir").unwrap_or_default().to_owned();
        if !result.is_empty() && !result.ends_with('/') {
            result.push('/');
        }
        match self
            .lookup(name)
            .filter(|&i| !self.items[i].value.is_empty())
        {
            None => {
                if let Some(d) = default {
                    result.push_str(d);
                }
            }
            Some(mut item) => {
                let mut value = self.items[item].value.clone();
                while item != 0 {
                    let parent = self.items[item].parent;
                    let parent_value = &self.items[parent].value;
                    if parent_value.is_empty() {
                        item = parent;
                        continue;
                    }
                    if value.starts_with('/') {
                        if value.starts_with("/dev/null") {
                            value.truncate("/dev/null".len());
                        }
                        break;
                    }
                    if value.starts_with("~/")
                        || value.starts_with("./")
                        || value.starts_with("../")
                    {
                        break;
                    }
                    if !parent_value.ends_with('/') {
                        value.insert(0, '/');
                    }
                    value.insert_str(0, parent_value);
                    item = parent;
                }
                result.push_str(&value);
            }
        }
        normalize(result)
    }

    /// Returns the directory named by `name` (apt's `FindDir`): [`Config::find_file`]
    /// ending in `/`, except for `/dev/null`.
    pub fn find_dir(&self, name: &str, default: Option<&str>) -> String {
        let mut dir = self.find_file(name, default);
        if !dir.ends_with('/') && !dir.ends_with("/dev/null") {
            dir.push('/');
        }
        dir
    }

    /// Returns the whole tree as `apt-config dump` prints it with the format
    /// `%f%N%v%n`: one `Full::Tag<TAB>value` line per item, in tree order; list items
    /// end in `::`.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        let mut stack: Vec<usize> = self.items[0].children.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            out.push_str(&self.full_tag(i));
            out.push('\t');
            out.push_str(&self.items[i].value);
            out.push('\n');
            stack.extend(self.items[i].children.iter().rev());
        }
        out
    }

    /// apt's `Item::FullTag`: the tags from the top down, joined by `::`.
    fn full_tag(&self, mut item: usize) -> String {
        let mut tags = vec![self.items[item].tag.as_str()];
        while self.items[item].parent != 0 {
            item = self.items[item].parent;
            tags.push(&self.items[item].tag);
        }
        tags.reverse();
        tags.join("::")
    }

    /// apt's `Lookup(Name, Create)` walk: `::` separates tags (matched without regard
    /// to ASCII case); an empty tag matches nothing and, when creating, makes a new
    /// anonymous item (a list entry).
    fn walk(&mut self, name: &str, create: bool) -> Option<usize> {
        let bytes = name.as_bytes();
        let end = bytes.len();
        let mut start = 0;
        let mut tag_end = 0;
        let mut item = 0;
        // The byte after a `::` is never the start of the next one, as in apt's loop.
        while tag_end + 2 <= end {
            if bytes[tag_end] == b':' && bytes[tag_end + 1] == b':' {
                item = self.child(item, &name[start..tag_end], create)?;
                start = tag_end + 2;
                tag_end = start;
            }
            tag_end += 1;
        }
        if start == end && !create {
            return None;
        }
        self.child(item, &name[start..], create)
    }

    /// Looks `name` up without creating anything.
    fn lookup(&self, name: &str) -> Option<usize> {
        let bytes = name.as_bytes();
        let end = bytes.len();
        let (mut start, mut tag_end, mut item) = (0, 0, 0);
        while tag_end + 2 <= end {
            if bytes[tag_end] == b':' && bytes[tag_end + 1] == b':' {
                item = self.find_child(item, &name[start..tag_end])?;
                start = tag_end + 2;
                tag_end = start;
            }
            tag_end += 1;
        }
        self.find_child(item, &name[start..])
    }

    fn find_child(&self, parent: usize, tag: &str) -> Option<usize> {
        if tag.is_empty() {
            return None;
        }
        self.items[parent]
            .children
            .iter()
            .copied()
            .find(|&c| self.items[c].tag.eq_ignore_ascii_case(tag))
    }

    fn child(&mut self, parent: usize, tag: &str, create: bool) -> Option<usize> {
        if let Some(found) = self.find_child(parent, tag) {
            return Some(found);
        }
        if !create {
            return None;
        }
        let index = self.items.len();
        self.items.push(Item {
            tag: tag.to_owned(),
            value: String::new(),
            parent,
            children: Vec::new(),
        });
        self.items[parent].children.push(index);
        Some(index)
    }

    /// apt's `Set`.
    fn set(&mut self, name: &str, value: &str) {
        if let Some(item) = self.walk(name, true) {
            self.items[item].value = value.to_owned();
        }
    }

    /// apt's `CndSet`: sets the value only when it is empty.
    fn cnd_set(&mut self, name: &str, value: &str) {
        if let Some(item) = self.walk(name, true)
            && self.items[item].value.is_empty()
        {
            self.items[item].value = value.to_owned();
        }
    }

    /// apt's `Clear(Name)`: empties the value and drops the subtree.
    fn clear(&mut self, name: &str) {
        if let Some(item) = self.lookup(name) {
            self.items[item].value.clear();
            self.items[item].children.clear();
        }
    }

    /// Reads the file `file` (a name as apt writes it) through `source`.
    fn parse_file(
        &mut self,
        file: &str,
        source: &mut dyn Source,
        depth: u32,
    ) -> Result<(), SyntaxError> {
        let Some(bytes) = source.file(file) else {
            return Err(SyntaxError {
                file: file.to_owned(),
                line: 0,
                message: "unable to read the file".to_owned(),
            });
        };
        self.parse_bytes(file, &bytes, source, depth)
    }

    /// apt's `ReadConfigFile` over the bytes of `file`.
    fn parse_bytes(
        &mut self,
        file: &str,
        bytes: &[u8],
        source: &mut dyn Source,
        depth: u32,
    ) -> Result<(), SyntaxError> {
        let text = String::from_utf8_lossy(bytes);
        let mut line_buffer = String::new();
        let mut stack: Vec<String> = Vec::new();
        let mut parent_tag = String::new();
        let mut in_comment = false;
        let error = |line: usize, message: &str| SyntaxError {
            file: file.to_owned(),
            line,
            message: message.to_owned(),
        };
        for (index, raw) in text.split('\n').enumerate() {
            let line_no = index + 1;
            let raw = raw.trim_end_matches(['\r', '\n']);
            let expanded = raw.replace('\t', "        ");
            let input = expanded.trim_matches(is_space);
            let Some(fragment) = strip_comments(input, &mut in_comment) else {
                continue;
            };
            if fragment.is_empty() {
                continue;
            }

            let chars: Vec<char> = fragment.chars().collect();
            let mut start = 0;
            let mut in_quote = false;
            for i in 0..chars.len() {
                if chars[i] == '"' {
                    in_quote = !in_quote;
                }
                if in_quote || !matches!(chars[i], '{' | ';' | '}') {
                    continue;
                }
                let piece: String = chars[start..i].iter().collect();
                let piece = piece.trim_matches(is_space);
                if !line_buffer.is_empty() && !piece.is_empty() {
                    line_buffer.push(' ');
                }
                line_buffer.push_str(piece);
                let term = chars[i];
                start = i + 1;

                if term == '{' && line_buffer.is_empty() {
                    return Err(error(line_no, "block starts with no name"));
                }
                if line_buffer.is_empty() {
                    if term == '}' {
                        parent_tag = stack.pop().unwrap_or_default();
                    }
                    continue;
                }

                let mut pos = line_buffer.as_str();
                let Some(mut tag) = parse_quote_word(&mut pos) else {
                    return Err(error(line_no, "malformed tag"));
                };
                let mut no_word = false;
                let word = match parse_c_word(&mut pos).or_else(|| parse_quote_word(&mut pos)) {
                    Some(w) => w,
                    None if term != '{' => std::mem::take(&mut tag),
                    None => {
                        no_word = true;
                        String::new()
                    }
                };
                if !pos.is_empty() {
                    return Err(error(line_no, "extra junk after value"));
                }

                if term == '{' {
                    stack.push(parent_tag.clone());
                    if parent_tag.is_empty() {
                        parent_tag = std::mem::take(&mut tag);
                    } else {
                        parent_tag = format!("{parent_tag}::{tag}");
                        tag.clear();
                    }
                }
                let item = if parent_tag.is_empty() {
                    tag.clone()
                } else if term != '{' || !tag.is_empty() {
                    format!("{parent_tag}::{tag}")
                } else {
                    parent_tag.clone()
                };

                if let Some(directive) = tag.strip_prefix('#') {
                    if !parent_tag.is_empty() {
                        return Err(error(
                            line_no,
                            "directives can only be done at the top level",
                        ));
                    }
                    match directive {
                        "clear" => self.clear(&word),
                        "include" => {
                            if depth > MAX_INCLUDE_DEPTH {
                                return Err(error(line_no, "too many nested includes"));
                            }
                            let included = if word.len() > 2 && word.ends_with('/') {
                                source
                                    .dir(&word)
                                    .into_iter()
                                    .map(|f| self.parse_file(&f, source, depth + 1))
                                    .fold(Ok(()), Result::and)
                            } else {
                                self.parse_file(&word, source, depth + 1)
                            };
                            if let Err(e) = included {
                                tracing::warn!(error = %e, "apt configuration include failed");
                                return Err(error(line_no, "included from here"));
                            }
                        }
                        // apt loads its index of known options; nothing to configure.
                        "x-apt-configure-index" => {}
                        _ => return Err(error(line_no, "unsupported directive")),
                    }
                } else if tag.is_empty() && !no_word && word == "#clear" {
                    return Err(error(
                        line_no,
                        "clear directive requires an option tree as argument",
                    ));
                } else if !no_word {
                    self.set(&item, &word);
                }

                line_buffer.clear();
                if term == '}' {
                    parent_tag = stack.pop().unwrap_or_default();
                }
            }

            let rest: String = chars[start..].iter().collect();
            let rest = rest.trim_matches(is_space);
            if !rest.is_empty() && !line_buffer.is_empty() {
                line_buffer.push(' ');
            }
            line_buffer.push_str(rest);
        }
        if !line_buffer.is_empty() {
            let lines = text.split('\n').count();
            return Err(error(lines, "extra junk at end of file"));
        }
        Ok(())
    }
}

impl Source for UnderRoot<'_> {
    fn file(&mut self, name: &str) -> Option<Vec<u8>> {
        if self.files_read >= MAX_FILES {
            tracing::warn!(
                file = name,
                "too many apt configuration files included; the rest is not read"
            );
            return None;
        }
        self.files_read += 1;
        let path = under(self.root, name);
        let file = std::fs::File::open(&path).ok()?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_FILE_SIZE), &mut bytes)
            .ok()?;
        Some(bytes)
    }

    fn dir(&mut self, name: &str) -> Vec<String> {
        let path = under(self.root, name);
        let Ok(entries) = std::fs::read_dir(&path) else {
            return Vec::new();
        };
        let names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| path.join(e.file_name()).is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let base = if name.ends_with('/') {
            name.to_owned()
        } else {
            format!("{name}/")
        };
        let mut files: Vec<String> = config_files(&names)
            .into_iter()
            .map(|n| format!("{base}{n}"))
            .collect();
        files.sort();
        files
    }
}

impl Source for NoFiles {
    fn file(&mut self, _name: &str) -> Option<Vec<u8>> {
        None
    }

    fn dir(&mut self, _name: &str) -> Vec<String> {
        Vec::new()
    }
}

/// Returns the names in a configuration directory listing that apt reads
/// (`GetListOfFilesInDir(dir, "conf", sorted, no extension allowed)`), sorted: not
/// hidden, letters, digits, `_`, `-`, `:` and `.` only, without an extension or ending
/// in `.conf`, and not ending in a period. `.disabled`, `.dpkg-old`, `.bak`, `~`
/// backups are left out by these rules.
pub fn config_files(names: &[String]) -> Vec<String> {
    let mut keep: Vec<String> = names
        .iter()
        .filter(|n| {
            !n.is_empty()
                && !n.starts_with('.')
                && !n.ends_with('.')
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'))
                && n.rsplit_once('.').is_none_or(|(_, ext)| ext == "conf")
        })
        .cloned()
        .collect();
    keep.sort();
    keep
}

/// Returns the path of `name` (a path as apt resolves it, absolute or not) under `root`:
/// `..` never climbs above the root.
pub fn under(root: &Path, name: &str) -> PathBuf {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(p) => parts.push(p),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let mut path = root.to_owned();
    path.extend(parts);
    path
}

/// apt's `flNormalize`: `/./` and `//` collapse; anything under `/dev/null` is
/// `/dev/null`.
fn normalize(mut path: String) -> String {
    while let Some(i) = path.find("/./") {
        path.replace_range(i..i + 3, "/");
    }
    while let Some(i) = path.find("//") {
        path.replace_range(i..i + 2, "/");
    }
    if path.starts_with("/dev/null") {
        path.truncate("/dev/null".len());
    }
    path
}

/// C's `isspace` in the C locale.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// apt's `StringToBool`.
pub fn string_to_bool(text: &str, default: bool) -> bool {
    if let Some(n @ (0 | 1)) = strtol_whole(text) {
        return n == 1;
    }
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "no" | "false" | "without" | "off" | "disable" => false,
        "yes" | "true" | "with" | "on" | "enable" => true,
        _ => default,
    }
}

/// `strtol(text, &end, 0)` when it consumes the whole text: leading white space, a sign,
/// and a decimal, `0x` hexadecimal or `0` octal number.
fn strtol_whole(text: &str) -> Option<i64> {
    let s = text.trim_start_matches(is_space);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, hex)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -n } else { n })
}

/// Strips apt's comments from a trimmed line; `None` when the whole line is inside a
/// `/* */` comment. `in_comment` carries an open `/*` to the next line.
fn strip_comments(input: &str, in_comment: &mut bool) -> Option<String> {
    let mut line = input;
    if *in_comment {
        let end = line.find("*/")?;
        line = &line[end + 2..];
        *in_comment = false;
    }
    let quotes_before = |s: &str, at: usize| !s[..at].matches('"').count().is_multiple_of(2);

    let mut start = 0;
    while let Some(found) = line[start..].find("//").map(|i| i + start) {
        if quotes_before(line, found) {
            start = found + 1;
            continue;
        }
        line = &line[..found];
        break;
    }
    let mut start = 0;
    while let Some(found) = line[start..].find('#').map(|i| i + start) {
        let after = &line[found + 1..];
        let magic = ["clear", "include", "x-apt-configure-index"]
            .iter()
            .any(|m| after.starts_with(m));
        if quotes_before(line, found) || magic {
            start = found + 1;
            continue;
        }
        line = &line[..found];
        break;
    }

    let mut fragment = String::with_capacity(line.len());
    let mut start = 0;
    while let Some(found) = line[start..].find("/*").map(|i| i + start) {
        if quotes_before(line, found) {
            start = found + 2;
            continue;
        }
        fragment.push_str(&line[..found]);
        match line[found + 2..].find("*/") {
            None => {
                line = "";
                *in_comment = true;
                break;
            }
            Some(end) => line = &line[found + 2 + end + 2..],
        }
        start = 0;
    }
    fragment.push_str(line);
    Some(fragment)
}

/// apt's `ParseQuoteWord`: one word, where `"..."` and `[...]` may hold spaces; the
/// quotes are dropped and `%xx` escapes decoded. Advances `pos` past the word and the
/// white space after it.
fn parse_quote_word(pos: &mut &str) -> Option<String> {
    let s = *pos;
    let bytes = s.as_bytes();
    let mut c = 0;
    while c < bytes.len() && bytes[c] == b' ' {
        c += 1;
    }
    if c == bytes.len() {
        return None;
    }
    while c < bytes.len() && !is_space(char::from(bytes[c])) {
        if bytes[c] == b'"' {
            c = c + 1 + s[c + 1..].find('"')?;
        }
        if bytes[c] == b'[' {
            c = c + 1 + s[c + 1..].find(']')?;
        }
        c += 1;
    }
    // apt copies from the start of the input, leading blanks included.
    let word = &bytes[..c];
    let mut out = Vec::with_capacity(word.len());
    let mut i = 0;
    while i < word.len() {
        if word[i] == b'%'
            && i + 2 < word.len()
            && word[i + 1].is_ascii_hexdigit()
            && word[i + 2].is_ascii_hexdigit()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        if word[i] != b'"' {
            out.push(word[i]);
        }
        i += 1;
    }
    while c < bytes.len() && is_space(char::from(bytes[c])) {
        c += 1;
    }
    *pos = &s[c..];
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// apt's `ParseCWord`: a sequence of `"..."` strings separated by white space,
/// concatenated with one space between them; `None` (and `pos` unchanged) when anything
/// else is there.
fn parse_c_word(pos: &mut &str) -> Option<String> {
    let s = *pos;
    let chars: Vec<char> = s.chars().collect();
    let mut c = 0;
    while c < chars.len() && chars[c] == ' ' {
        c += 1;
    }
    if c == chars.len() {
        return None;
    }
    let mut out = String::new();
    while c < chars.len() {
        if chars[c] == '"' {
            c += 1;
            while c < chars.len() && chars[c] != '"' {
                out.push(chars[c]);
                c += 1;
            }
            if c == chars.len() {
                return None;
            }
            c += 1;
            continue;
        }
        if c != 0 && is_space(chars[c]) && is_space(chars[c - 1]) {
            c += 1;
            continue;
        }
        if !is_space(chars[c]) {
            return None;
        }
        out.push(' ');
        c += 1;
    }
    *pos = "";
    Some(out)
}

#[cfg(test)]
mod tests;
