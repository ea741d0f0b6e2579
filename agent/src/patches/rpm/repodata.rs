//! A repository's metadata as dnf, yum and zypper cache it: `repomd.xml` (where the other
//! files are) and `primary.xml` (every package the repository offers), read as a stream
//! keeping only the packages installed here. yum (RHEL 7) may hold `primary` only as
//! its SQLite form (`primary_db`), which is read too.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

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
}

/// One package a repository offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
/// `wanted`, in file order.
///
/// Only `<name>`, `<arch>` and `<version epoch ver rel>` directly inside a `<package>`
/// are read; everything in `<format>` (dependencies, files) is skipped. Source packages
/// (`src`, `nosrc`) are left out. A package without a name or version is skipped.
pub fn read_primary<R: BufRead>(
    reader: R,
    wanted: &HashSet<String>,
) -> Result<Vec<Offer>, quick_xml::Error> {
    let mut out = Vec::new();
    let mut reader = Reader::from_reader(reader);
    let mut buf = Vec::new();
    // Depth of the open element: 1 is <metadata>, 2 a <package>, 3 its fields.
    let mut depth = 0usize;
    let mut current: Option<Offer> = None;
    // The field whose text is being read, at depth 3.
    let mut field: Option<Field> = None;
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => {
                depth += 1;
                match (depth, e.name().as_ref()) {
                    (2, "package") => current = Some(Offer::default()),
                    (3, "name") if current.is_some() => field = Some(Field::Name),
                    (3, "arch") if current.is_some() => field = Some(Field::Arch),
                    (3, "version") => set_version(current.as_mut(), &e),
                    _ => {}
                }
            }
            Event::Empty(e) if depth == 2 && e.name().as_ref() == "version" => {
                set_version(current.as_mut(), &e);
            }
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
                }
                if depth == 2
                    && let Some(mut o) = current.take()
                {
                    o.name = o.name.trim().to_owned();
                    o.arch = o.arch.trim().to_owned();
                    if !o.name.is_empty()
                        && !o.version.is_empty()
                        && !matches!(o.arch.as_str(), "src" | "nosrc")
                        && wanted.contains(&o.name)
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

/// Reads the `packages` table of a yum `primary_db` SQLite file: the same offers as
/// [`read_primary`], for the names in `wanted`.
pub fn read_primary_db(path: &Path, wanted: &HashSet<String>) -> rusqlite::Result<Vec<Offer>> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut stmt = conn.prepare("SELECT name, arch, epoch, version, release FROM packages")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let text = |i: usize| -> rusqlite::Result<String> {
            Ok(row.get::<_, Option<String>>(i)?.unwrap_or_default())
        };
        let name = text(0)?;
        if !wanted.contains(&name) {
            continue;
        }
        let o = Offer {
            name,
            arch: text(1)?,
            epoch: text(2)?,
            version: text(3)?,
            release: text(4)?,
        };
        if !o.version.is_empty() && !matches!(o.arch.as_str(), "src" | "nosrc") {
            out.push(o);
        }
    }
    Ok(out)
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

fn set_version(o: Option<&mut Offer>, e: &quick_xml::events::BytesStart<'_>) {
    if let Some(o) = o {
        o.epoch = attr(e, "epoch").unwrap_or_default();
        o.version = attr(e, "ver").unwrap_or_default();
        o.release = attr(e, "rel").unwrap_or_default();
    }
}
