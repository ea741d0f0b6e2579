//! A repository's advisories (`updateinfo.xml`, as RHEL, its rebuilds, Fedora and SUSE
//! publish them): which package versions fix what, and which CVEs. Read as a stream,
//! keeping only advisories that name an installed package.

use std::collections::HashSet;
use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

use super::repodata::Offer;
use super::xml::{attr, push, push_ref};

/// Most package entries (and CVE ids) kept per advisory: a real one lists at most a few
/// thousand (kernel advisories list every subpackage for every architecture).
const MAX_PACKAGES: usize = 100_000;

/// One `<update>`: an advisory and the package versions that carry its fix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// `<id>` (`RHSA-2024:1234`, `FEDORA-2024-abc`, `SUSE-SU-2024:1234-1`).
    pub id: String,
    /// The `type` attribute (`security`, `bugfix`, `enhancement`, `recommended`, ...).
    pub kind: String,
    /// `<severity>`, empty when absent or `None` (Fedora writes `None`).
    pub severity: String,
    /// Ids of `<reference type="cve">`, sorted, without duplicates.
    pub cves: Vec<String>,
    /// The `<package>` entries of its `<pkglist>` whose name was asked for.
    pub packages: Vec<Offer>,
}

impl Update {
    /// Returns true for a security advisory: its type is `security`, or it has no type
    /// but a severity (some third-party repositories write only that).
    pub fn is_security(&self) -> bool {
        is_security(&self.kind, &self.severity)
    }
}

/// Returns true for an advisory of type `kind` with `severity` that is a security
/// advisory: its type is `security`, or it has no type but a severity.
pub fn is_security(kind: &str, severity: &str) -> bool {
    kind.eq_ignore_ascii_case("security") || (kind.is_empty() && !severity.is_empty())
}

/// Reads `updateinfo.xml` from `reader` and returns the updates that list a package
/// whose name is in `wanted` (only those package entries are kept), in file order.
pub fn read_updateinfo<R: BufRead>(
    reader: R,
    wanted: &HashSet<String>,
) -> Result<Vec<Update>, quick_xml::Error> {
    let mut out = Vec::new();
    let mut reader = Reader::from_reader(reader);
    let mut buf = Vec::new();
    // 1 is <updates>, 2 an <update>, 3 its fields.
    let mut depth = 0usize;
    let mut current: Option<Update> = None;
    let mut field: Option<Field> = None;
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => {
                depth += 1;
                match (depth, e.name().as_ref()) {
                    (2, "update") => {
                        current = Some(Update {
                            kind: attr(&e, "type").unwrap_or_default(),
                            ..Default::default()
                        });
                    }
                    (3, "id") if current.is_some() => field = Some(Field::Id),
                    (3, "severity") if current.is_some() => field = Some(Field::Severity),
                    _ => element(current.as_mut(), &e, wanted),
                }
            }
            Event::Empty(e) => element(current.as_mut(), &e, wanted),
            Event::Text(t) => {
                if let (Some(f), Some(u)) = (field, current.as_mut()) {
                    push(f.of(u), &t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let (Some(f), Some(u)) = (field, current.as_mut()) {
                    push(f.of(u), &t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let (Some(f), Some(u)) = (field, current.as_mut()) {
                    push_ref(f.of(u), &r);
                }
            }
            Event::End(_) => {
                if depth == 3 {
                    field = None;
                }
                if depth == 2
                    && let Some(u) = current.take()
                    && let Some(u) = finish(u)
                {
                    out.push(u);
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

/// Records a `<reference>` or `<package>` met anywhere inside an update.
fn element(update: Option<&mut Update>, e: &BytesStart<'_>, wanted: &HashSet<String>) {
    let Some(u) = update else {
        return;
    };
    match e.name().as_ref() {
        "reference" if u.cves.len() < MAX_PACKAGES => {
            if attr(e, "type").is_some_and(|t| t.eq_ignore_ascii_case("cve"))
                && let Some(id) = attr(e, "id")
            {
                let id = id.trim();
                if !id.is_empty() {
                    u.cves.push(id.to_owned());
                }
            }
        }
        "package" if u.packages.len() < MAX_PACKAGES => {
            let Some(name) = attr(e, "name").filter(|n| wanted.contains(n)) else {
                return;
            };
            u.packages.push(Offer {
                name,
                arch: attr(e, "arch").unwrap_or_default(),
                epoch: attr(e, "epoch").unwrap_or_default(),
                version: attr(e, "version").unwrap_or_default(),
                release: attr(e, "release").unwrap_or_default(),
                ..Offer::default()
            });
        }
        _ => {}
    }
}

/// Tidies a finished update; `None` when it names no wanted package or has no id.
fn finish(mut u: Update) -> Option<Update> {
    u.id = u.id.trim().to_owned();
    u.kind = u.kind.trim().to_owned();
    u.severity = u.severity.trim().to_owned();
    if u.severity.eq_ignore_ascii_case("none") {
        u.severity.clear();
    }
    u.cves.sort();
    u.cves.dedup();
    (!u.id.is_empty() && !u.packages.is_empty()).then_some(u)
}

/// Which text field of an [`Update`] is being read.
#[derive(Debug, Clone, Copy)]
enum Field {
    Id,
    Severity,
}

impl Field {
    fn of(self, u: &mut Update) -> &mut String {
        match self {
            Self::Id => &mut u.id,
            Self::Severity => &mut u.severity,
        }
    }
}
