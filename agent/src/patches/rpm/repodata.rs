//! A repository's metadata as dnf, yum and zypper cache it: `repomd.xml` (where the other
//! files are) and `primary.xml` (every package the repository offers), read as a stream
//! keeping only the packages installed here and those that obsolete one. yum (RHEL 7)
//! may hold `primary` only as its SQLite form (`primary_db`), which is read too.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

use super::xml::{attr, push, push_ref};

/// Where `repomd.xml` says a repository's files are (`location href`, relative to the
/// repository's base), by data type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repomd {
    /// `primary`: every package, as XML.
    pub primary: Option<String>,
    /// `primary_db`: the same as SQLite (yum).
    pub primary_db: Option<String>,
    /// `primary_zck`: the same in zchunk (Fedora's dnf downloads only this one).
    pub primary_zck: Option<String>,
    /// `updateinfo`: the advisories.
    pub updateinfo: Option<String>,
    /// `updateinfo_zck`.
    pub updateinfo_zck: Option<String>,
    /// `modules`: dnf's module metadata (`modules.yaml`).
    pub modules: Option<String>,
}

/// One package a repository offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Package name.
    pub name: String,
    /// Architecture (`x86_64`, `noarch`, ...).
    pub arch: String,
    /// Epoch; `0` when the package has none (createrepo writes `0`).
    pub epoch: String,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Its `Obsoletes` that name an installed package other than itself (primary.xml
    /// only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obsoletes: Vec<Dep>,
    /// The names it provides that are plain package names other than its own (no
    /// `(...)`, no path), which modular filtering looks at; read for installed names only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
}

/// A versioned dependency (`<rpm:entry>`): a name and, when `flags` is set, a range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dep {
    /// The name.
    pub name: String,
    /// `EQ`, `LT`, `LE`, `GT`, `GE`; empty for any version.
    pub flags: String,
    /// Epoch, version and release of the range's bound; each may be empty.
    pub epoch: String,
    /// Version of the bound.
    pub version: String,
    /// Release of the bound.
    pub release: String,
}

/// Parses `repomd.xml`: the `location href` of each data type the readers use. Never
/// panics; unreadable XML gives what was found before it.
pub fn parse_repomd(bytes: &[u8]) -> Repomd {
    let mut out = Repomd::default();
    let mut reader = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut kind: Option<String> = None;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "data" => {
                kind = attr(&e, "type");
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == "data" => kind = None,
            Ok(Event::Empty(e) | Event::Start(e)) if e.local_name().as_ref() == "location" => {
                let Some(href) = attr(&e, "href") else {
                    continue;
                };
                let slot = match kind.as_deref() {
                    Some("primary") => &mut out.primary,
                    Some("primary_db") => &mut out.primary_db,
                    Some("primary_zck") => &mut out.primary_zck,
                    Some("updateinfo") => &mut out.updateinfo,
                    Some("updateinfo_zck") => &mut out.updateinfo_zck,
                    Some("modules") => &mut out.modules,
                    _ => continue,
                };
                slot.get_or_insert(href);
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
        buf.clear();
    }
    out
}

/// Reads `primary.xml` from `reader` and returns the binary packages whose name is in
/// `wanted`, and those whose `Obsoletes` name one (another name than their own), in
/// file order.
///
/// Read are `<name>`, `<arch>` and `<version epoch ver rel>` directly inside a
/// `<package>`, the `<rpm:obsoletes>` entries of every package and the
/// `<rpm:provides>` entries of wanted ones; everything else in `<format>` (requires,
/// files) is skipped. Source packages (`src`, `nosrc`) are left out. A package without
/// a name or version is skipped.
pub fn read_primary<R: BufRead>(
    reader: R,
    wanted: &HashSet<String>,
) -> Result<Vec<Offer>, quick_xml::Error> {
    let mut out = Vec::new();
    let mut reader = Reader::from_reader(reader);
    let mut buf = Vec::new();
    // Depth of the open element: 1 is <metadata>, 2 a <package>, 3 its fields, 4 the
    // dependency lists in <format>.
    let mut depth = 0usize;
    let mut current: Option<Offer> = None;
    // The field whose text is being read, at depth 3.
    let mut field: Option<Field> = None;
    // The dependency list being read, at depth 4.
    let mut list: Option<List> = None;
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => {
                depth += 1;
                match (depth, e.name().as_ref()) {
                    (2, "package") => current = Some(Offer::default()),
                    (3, "name") if current.is_some() => field = Some(Field::Name),
                    (3, "arch") if current.is_some() => field = Some(Field::Arch),
                    (3, "version") => set_version(current.as_mut(), &e),
                    (4, _) if current.is_some() => {
                        list = match e.local_name().as_ref() {
                            "obsoletes" => Some(List::Obsoletes),
                            "provides" => Some(List::Provides),
                            _ => None,
                        };
                    }
                    (5, _) => dependency(current.as_mut(), list, &e, wanted),
                    _ => {}
                }
            }
            Event::Empty(e) => match depth {
                2 if e.name().as_ref() == "version" => set_version(current.as_mut(), &e),
                4 => dependency(current.as_mut(), list, &e, wanted),
                _ => {}
            },
            Event::Text(t) => {
                if let (Some(f), Some(o)) = (field, current.as_mut()) {
                    push(f.of(o), &t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let (Some(f), Some(o)) = (field, current.as_mut()) {
                    push(f.of(o), &t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let (Some(f), Some(o)) = (field, current.as_mut()) {
                    push_ref(f.of(o), &r);
                }
            }
            Event::End(_) => {
                if depth == 3 {
                    field = None;
                    // The name is known before <format> in every primary.xml written;
                    // trimmed here so that the dependency filters compare it right.
                    if let Some(o) = current.as_mut() {
                        trim(&mut o.name);
                    }
                }
                if depth == 4 {
                    list = None;
                }
                if depth == 2
                    && let Some(mut o) = current.take()
                {
                    trim(&mut o.name);
                    trim(&mut o.arch);
                    let name = o.name.clone();
                    o.obsoletes.retain(|d| d.name != name);
                    if !wanted.contains(&o.name) {
                        o.provides.clear();
                    } else {
                        o.provides.retain(|p| *p != name);
                        o.provides.sort();
                        o.provides.dedup();
                    }
                    if !o.name.is_empty()
                        && !o.version.is_empty()
                        && !matches!(o.arch.as_str(), "src" | "nosrc")
                        && (wanted.contains(&o.name) || !o.obsoletes.is_empty())
                    {
                        out.push(o);
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// Records one `<rpm:entry>` of the dependency list being read: an obsoleted installed
/// name, or a plain name provided by a wanted package.
fn dependency(
    offer: Option<&mut Offer>,
    list: Option<List>,
    e: &BytesStart<'_>,
    wanted: &HashSet<String>,
) {
    let (Some(o), Some(list)) = (offer, list) else {
        return;
    };
    if e.local_name().as_ref() != "entry" {
        return;
    }
    match list {
        List::Obsoletes => {
            let Some(name) = attr(e, "name").filter(|n| wanted.contains(n)) else {
                return;
            };
            if o.obsoletes.len() < MAX_DEPS {
                o.obsoletes.push(Dep {
                    name,
                    flags: attr(e, "flags").unwrap_or_default(),
                    epoch: attr(e, "epoch").unwrap_or_default(),
                    version: attr(e, "ver").unwrap_or_default(),
                    release: attr(e, "rel").unwrap_or_default(),
                });
            }
        }
        List::Provides => {
            if !wanted.contains(&o.name) || o.provides.len() >= MAX_DEPS {
                return;
            }
            if let Some(name) = attr(e, "name")
                && !name.is_empty()
                && !name.contains(['(', '/', ' '])
            {
                o.provides.push(name);
            }
        }
    }
}

fn trim(s: &mut String) {
    let t = s.trim();
    if t.len() != s.len() {
        *s = t.to_owned();
    }
}

/// Reads the `packages` (and `obsoletes`) tables of a yum `primary_db` SQLite file: the
/// same offers as [`read_primary`], for the names in `wanted` (provides are not read:
/// yum's repositories have no module metadata).
pub fn read_primary_db(path: &Path, wanted: &HashSet<String>) -> rusqlite::Result<Vec<Offer>> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let text = |row: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<String> {
        Ok(row.get::<_, Option<String>>(i)?.unwrap_or_default())
    };
    // Obsoletes naming a wanted package, by package key; a database without the table
    // (none is written so) has none.
    let mut obsoletes: std::collections::HashMap<i64, Vec<Dep>> = Default::default();
    if let Ok(mut stmt) =
        conn.prepare("SELECT pkgKey, name, flags, epoch, version, release FROM obsoletes")
    {
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let name = text(row, 1)?;
            if !wanted.contains(&name) {
                continue;
            }
            let list = obsoletes.entry(row.get(0)?).or_default();
            if list.len() < MAX_DEPS {
                list.push(Dep {
                    name,
                    flags: text(row, 2)?,
                    epoch: text(row, 3)?,
                    version: text(row, 4)?,
                    release: text(row, 5)?,
                });
            }
        }
    }
    let mut stmt =
        conn.prepare("SELECT pkgKey, name, arch, epoch, version, release FROM packages")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let key: Option<i64> = row.get(0)?;
        let name = text(row, 1)?;
        let mut deps = key
            .and_then(|k| obsoletes.get(&k))
            .cloned()
            .unwrap_or_default();
        deps.retain(|d| d.name != name);
        if !wanted.contains(&name) && deps.is_empty() {
            continue;
        }
        let o = Offer {
            name,
            arch: text(row, 2)?,
            epoch: text(row, 3)?,
            version: text(row, 4)?,
            release: text(row, 5)?,
            obsoletes: deps,
            provides: Vec::new(),
        };
        if !o.version.is_empty() && !matches!(o.arch.as_str(), "src" | "nosrc") {
            out.push(o);
        }
    }
    Ok(out)
}

/// Most dependency entries kept per package: real packages provide a few hundred names.
const MAX_DEPS: usize = 10_000;

/// Which dependency list of a package's `<format>` is being read.
#[derive(Debug, Clone, Copy)]
enum List {
    Obsoletes,
    Provides,
}

/// Which text field of an [`Offer`] is being read.
#[derive(Debug, Clone, Copy)]
enum Field {
    Name,
    Arch,
}

impl Field {
    fn of(self, o: &mut Offer) -> &mut String {
        match self {
            Self::Name => &mut o.name,
            Self::Arch => &mut o.arch,
        }
    }
}

fn set_version(o: Option<&mut Offer>, e: &BytesStart<'_>) {
    if let Some(o) = o {
        o.epoch = attr(e, "epoch").unwrap_or_default();
        o.version = attr(e, "ver").unwrap_or_default();
        o.release = attr(e, "rel").unwrap_or_default();
    }
}
