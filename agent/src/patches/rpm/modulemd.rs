//! A repository's module metadata (`modules.yaml`, repomd type `modules`), as RHEL 8 and
//! 9 AppStream and their rebuilds publish it: a stream of YAML documents, of which two
//! kinds matter to what dnf offers: `modulemd` version 2 (one build of a module stream:
//! name, stream, version, context, arch, its module dependencies and the RPMs it ships)
//! and `modulemd-defaults` version 1 (the stream used while the module has no state).
//! Everything else (`modulemd-obsoletes`, which dnf applies only with
//! `module_obsoletes=True`, translations, packager documents) is skipped.
//!
//! Read as a stream of parser events: aliases are never expanded (they read as empty),
//! nesting is bounded, and only the few fields above are kept, so a crafted file costs
//! at most its own size.

use std::collections::BTreeMap;
use std::io::{self, BufRead};

use saphyr_parser::{Event, Parser};
use serde::{Deserialize, Serialize};

use super::xml::MAX_FIELD;

/// Deepest nesting of collections followed; modulemd uses five levels.
const MAX_DEPTH: usize = 64;
/// Most entries kept per list (artifacts, dependency blocks): a real build lists a few
/// thousand RPMs at most.
const MAX_ENTRIES: usize = 100_000;

/// One build of a module stream (`document: modulemd`, version 2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    /// `data.name` (`nodejs`).
    pub name: String,
    /// `data.stream` (`18`), as written (YAML's `5.30` stays `5.30`).
    pub stream: String,
    /// `data.version`: builds of one stream are ordered by it.
    pub version: u64,
    /// `data.context`: builds of one version against different dependencies.
    pub context: String,
    /// `data.arch`.
    pub arch: String,
    /// `data.dependencies[].requires`: alternatives (any one suffices), each mapping a
    /// module name to the streams it accepts (empty: any; `-s`: any but `s`).
    pub requires: Vec<BTreeMap<String, Vec<String>>>,
    /// `data.artifacts.rpms`: the RPMs of this build, as `name-epoch:version-release.arch`.
    pub artifacts: Vec<String>,
}

/// A module's default stream (`document: modulemd-defaults`, version 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defaults {
    /// `data.module`.
    pub module: String,
    /// `data.stream`; `None` when the module has no default stream.
    pub stream: Option<String>,
}

/// What one `modules.yaml` holds, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The module builds.
    pub modules: Vec<Module>,
    /// The defaults.
    pub defaults: Vec<Defaults>,
}

/// Errors reading `modules.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The decompressor or the file failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The bytes are not YAML.
    #[error("{0}")]
    Yaml(String),
}

/// A YAML node, as far as this reader keeps it: scalars as text, mappings with scalar
/// keys only (others are dropped), aliases as empty scalars.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// A collection being built, and the key awaiting its value when it is a mapping.
enum Open {
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>, Option<Option<String>>),
}

/// Reads `modules.yaml` from `reader` (UTF-8; invalid bytes read as U+FFFD).
pub fn read_modules<R: BufRead>(reader: R) -> Result<Metadata, Error> {
    let mut chars = Chars::new(reader);
    let mut out = Metadata::default();
    let result = {
        let mut parser = Parser::new_from_iter(chars.by_ref());
        read_events(&mut parser, &mut out)
    };
    // An I/O error ends the character stream early: report it rather than the syntax
    // error the truncation caused.
    if let Some(e) = chars.error.take() {
        return Err(Error::Io(e));
    }
    result?;
    Ok(out)
}

fn read_events<'a, I>(parser: &mut Parser<'a, I>, out: &mut Metadata) -> Result<(), Error>
where
    I: saphyr_parser::Input,
{
    let mut stack: Vec<Open> = Vec::new();
    // Depth of collections opened past MAX_DEPTH, skipped whole.
    let mut skipping = 0usize;
    while let Some(event) = parser.next_event() {
        let (event, _) = event.map_err(|e| Error::Yaml(e.to_string()))?;
        let node = match event {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                stack.clear();
                skipping = 0;
                continue;
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if skipping > 0 => {
                skipping += 1;
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd if skipping > 0 => {
                skipping -= 1;
                if skipping == 0 {
                    Node::Scalar(String::new())
                } else {
                    continue;
                }
            }
            _ if skipping > 0 => continue,
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                skipping = 1;
                continue;
            }
            Event::SequenceStart(..) => {
                stack.push(Open::Seq(Vec::new()));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Open::Map(Vec::new(), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(items)) => Node::Seq(items),
                Some(Open::Map(entries, _)) => Node::Map(entries),
                None => continue,
            },
            Event::Scalar(value, ..) => Node::Scalar(capped(&value)),
            Event::Alias(_) => Node::Scalar(String::new()),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => continue,
        };
        match stack.last_mut() {
            None => document(node, out),
            Some(Open::Seq(items)) => {
                if items.len() < MAX_ENTRIES {
                    items.push(node);
                }
            }
            Some(Open::Map(entries, key)) => match key.take() {
                // A value: kept under its key unless the key was not a scalar.
                Some(Some(k)) => {
                    if entries.len() < MAX_ENTRIES {
                        entries.push((k, node));
                    }
                }
                Some(None) => {}
                // A key.
                None => {
                    *key = Some(match node {
                        Node::Scalar(s) => Some(s),
                        _ => None,
                    });
                }
            },
        }
    }
    Ok(())
}

/// Keeps what a top-level document says, when it is one of the kinds read.
fn document(node: Node, out: &mut Metadata) {
    let kind = scalar(get(&node, "document"));
    let version = scalar(get(&node, "version"));
    let Some(data) = get(&node, "data") else {
        return;
    };
    match (kind, version) {
        ("modulemd", "2") => {
            let name = scalar(get(data, "name"));
            let stream = scalar(get(data, "stream"));
            if name.is_empty() || stream.is_empty() {
                return;
            }
            let requires = list(get(data, "dependencies"))
                .iter()
                .map(|block| {
                    entries(get(block, "requires"))
                        .iter()
                        .map(|(module, streams)| {
                            let streams = match streams {
                                Node::Scalar(s) if !s.is_empty() => vec![s.clone()],
                                other => list(Some(other))
                                    .iter()
                                    .map(|s| scalar(Some(s)).to_owned())
                                    .filter(|s| !s.is_empty())
                                    .collect(),
                            };
                            (module.clone(), streams)
                        })
                        .collect()
                })
                .collect();
            let artifacts = list(get(get(data, "artifacts"), "rpms"))
                .iter()
                .map(|a| scalar(Some(a)).trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect();
            out.modules.push(Module {
                name: name.to_owned(),
                stream: stream.to_owned(),
                version: scalar(get(data, "version")).trim().parse().unwrap_or(0),
                context: scalar(get(data, "context")).to_owned(),
                arch: scalar(get(data, "arch")).to_owned(),
                requires,
                artifacts,
            });
        }
        ("modulemd-defaults", "1") => {
            let module = scalar(get(data, "module"));
            if module.is_empty() {
                return;
            }
            let stream = scalar(get(data, "stream"));
            out.defaults.push(Defaults {
                module: module.to_owned(),
                stream: (!stream.is_empty()).then(|| stream.to_owned()),
            });
        }
        _ => {}
    }
}

/// The value of `key` in a mapping (the last one, as YAML loaders keep it).
fn get<'n>(node: impl Into<Option<&'n Node>>, key: &str) -> Option<&'n Node> {
    match node.into()? {
        Node::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// A scalar's text; empty for anything else.
fn scalar(node: Option<&Node>) -> &str {
    match node {
        Some(Node::Scalar(s)) => s.as_str(),
        _ => "",
    }
}

/// A sequence's items; none for anything else.
fn list(node: Option<&Node>) -> &[Node] {
    match node {
        Some(Node::Seq(items)) => items,
        _ => &[],
    }
}

/// A mapping's entries; none for anything else.
fn entries(node: Option<&Node>) -> &[(String, Node)] {
    match node {
        Some(Node::Map(entries)) => entries,
        _ => &[],
    }
}

fn capped(s: &str) -> String {
    let mut out = String::new();
    super::xml::push(&mut out, s);
    debug_assert!(out.len() <= MAX_FIELD);
    out
}

/// The characters of a UTF-8 stream, decoded as they are read; invalid sequences read
/// as U+FFFD. An I/O error ends the stream and is kept in `error`.
struct Chars<R> {
    reader: R,
    /// Decoded characters not yet handed out, in reverse order.
    pending: Vec<char>,
    /// Bytes of a sequence cut by the end of the last read.
    partial: Vec<u8>,
    error: Option<io::Error>,
    done: bool,
}

impl<R: BufRead> Chars<R> {
    fn new(reader: R) -> Self {
        Self {
            reader,
            pending: Vec::new(),
            partial: Vec::new(),
            error: None,
            done: false,
        }
    }

    /// Decodes the next buffer of input into `pending`; false at the end.
    fn refill(&mut self) -> bool {
        loop {
            if self.done {
                return false;
            }
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.error = Some(e);
                    self.done = true;
                    return false;
                }
            };
            if buf.is_empty() {
                self.done = true;
                if self.partial.is_empty() {
                    return false;
                }
                self.pending.push(char::REPLACEMENT_CHARACTER);
                self.partial.clear();
                return true;
            }
            let mut bytes = std::mem::take(&mut self.partial);
            bytes.extend_from_slice(buf);
            let consumed = buf.len();
            self.reader.consume(consumed);
            let mut decoded = String::new();
            let mut rest = bytes.as_slice();
            loop {
                match std::str::from_utf8(rest) {
                    Ok(s) => {
                        decoded.push_str(s);
                        break;
                    }
                    Err(e) => {
                        let (good, after) = rest.split_at(e.valid_up_to());
                        decoded.push_str(&String::from_utf8_lossy(good));
                        match e.error_len() {
                            Some(n) => {
                                decoded.push(char::REPLACEMENT_CHARACTER);
                                rest = &after[n..];
                            }
                            // A sequence cut by the end of the buffer: kept for the next.
                            None => {
                                self.partial = after.to_vec();
                                break;
                            }
                        }
                    }
                }
            }
            self.pending.extend(decoded.chars().rev());
            if !self.pending.is_empty() {
                return true;
            }
        }
    }
}

impl<R: BufRead> Iterator for Chars<R> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if self.pending.is_empty() && !self.refill() {
            return None;
        }
        self.pending.pop()
    }
}
