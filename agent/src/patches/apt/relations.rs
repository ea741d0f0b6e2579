//! Debian's relationship fields (deb-control(5): `Pre-Depends`, `Depends`, `Recommends`,
//! `Suggests`, `Conflicts`, `Breaks`, `Provides`) as written in a Packages list or dpkg's
//! status, and parsed into or-groups of package atoms.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// The relationship fields of one package version, as written; empty when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    /// `Pre-Depends`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pre_depends: String,
    /// `Depends`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub depends: String,
    /// `Recommends`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recommends: String,
    /// `Suggests`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub suggests: String,
    /// `Conflicts`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub conflicts: String,
    /// `Breaks`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub breaks: String,
    /// `Provides`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provides: String,
}

/// The relationship fields, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relations {
    /// `Pre-Depends`, one entry per or-group.
    pub pre_depends: Vec<Group>,
    /// `Depends`.
    pub depends: Vec<Group>,
    /// `Recommends`.
    pub recommends: Vec<Group>,
    /// `Suggests`.
    pub suggests: Vec<Group>,
    /// `Conflicts`, one atom each (an or-group there means nothing).
    pub conflicts: Vec<Atom>,
    /// `Breaks`.
    pub breaks: Vec<Atom>,
    /// `Provides`: virtual names, with an `(= version)` when the provide is versioned.
    pub provides: Vec<Atom>,
}

/// Alternatives (`a | b`): satisfied when one of them is.
pub type Group = Vec<Atom>;

/// One package in a relationship: `name[:arch] [(op version)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    /// The package (or virtual package) name.
    pub name: String,
    /// The architecture qualifier.
    pub arch: ArchQualifier,
    /// The version constraint, when there is one.
    pub constraint: Option<(Op, debversion::Version)>,
}

/// `name:any`, `name:native`, `name:amd64`, or no qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchQualifier {
    /// No qualifier: the depending package's own architecture (Multi-Arch: foreign
    /// packages and provides answer for any).
    None,
    /// `:any`: any architecture, from a `Multi-Arch: allowed` package.
    Any,
    /// `:native`.
    Native,
    /// `:<arch>`.
    Named(String),
}

/// A version relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<<`.
    Lt,
    /// `<=` (and the obsolete `<`).
    Le,
    /// `=`.
    Eq,
    /// `>=` (and the obsolete `>`).
    Ge,
    /// `>>`.
    Gt,
}

/// A package version's `Multi-Arch` field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MultiArch {
    /// No field (or `no`).
    #[default]
    None,
    /// `same`: co-installable across architectures, one version for all.
    Same,
    /// `foreign`: satisfies dependencies from any architecture.
    Foreign,
    /// `allowed`: satisfies `name:any` dependencies.
    Allowed,
}

impl Fields {
    /// Returns whether no field is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Sets the field named `name` (any case) when it is one of these; returns whether
    /// it was.
    pub fn set(&mut self, name: &[u8], value: &str) -> bool {
        let Some(slot) = self.slot(name) else {
            return false;
        };
        if slot.is_empty() {
            value.clone_into(slot);
        }
        true
    }

    /// Appends a continuation line to the field named `name`.
    pub fn append(&mut self, name: &[u8], value: &str) {
        if let Some(slot) = self.slot(name)
            && !value.is_empty()
        {
            if !slot.is_empty() {
                slot.push(' ');
            }
            slot.push_str(value);
        }
    }

    /// Returns whether a field other than `Provides` names one of `names` (as a package,
    /// whatever its qualifier or version).
    pub fn mentions(&self, names: &HashSet<String>) -> bool {
        [
            &self.pre_depends,
            &self.depends,
            &self.recommends,
            &self.suggests,
            &self.conflicts,
            &self.breaks,
        ]
        .iter()
        .flat_map(|f| f.split([',', '|']))
        .any(|atom| {
            let atom = atom.trim_start();
            let end = atom
                .find(|c: char| c.is_ascii_whitespace() || matches!(c, '(' | ':' | '[' | '<'))
                .unwrap_or(atom.len());
            names.contains(&atom[..end])
        })
    }

    /// Parses `Provides` only.
    pub fn parse_provides(&self) -> Relations {
        Relations {
            provides: parse_groups(&self.provides).into_iter().flatten().collect(),
            ..Default::default()
        }
    }

    /// Parses the fields.
    pub fn parse(&self) -> Relations {
        let flat = |s: &str| parse_groups(s).into_iter().flatten().collect::<Vec<_>>();
        Relations {
            pre_depends: parse_groups(&self.pre_depends),
            depends: parse_groups(&self.depends),
            recommends: parse_groups(&self.recommends),
            suggests: parse_groups(&self.suggests),
            conflicts: flat(&self.conflicts),
            breaks: flat(&self.breaks),
            provides: flat(&self.provides),
        }
    }

    fn slot(&mut self, name: &[u8]) -> Option<&mut String> {
        let slots = [
            (&b"Pre-Depends"[..], &mut self.pre_depends),
            (b"Depends", &mut self.depends),
            (b"Recommends", &mut self.recommends),
            (b"Suggests", &mut self.suggests),
            (b"Conflicts", &mut self.conflicts),
            (b"Breaks", &mut self.breaks),
            (b"Provides", &mut self.provides),
        ];
        slots
            .into_iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, slot)| slot)
    }
}

impl Op {
    /// Returns whether `have` stands in this relation to `want`.
    pub fn holds(self, have: &debversion::Version, want: &debversion::Version) -> bool {
        let order = have.cmp(want);
        match self {
            Op::Lt => order.is_lt(),
            Op::Le => order.is_le(),
            Op::Eq => order.is_eq(),
            Op::Ge => order.is_ge(),
            Op::Gt => order.is_gt(),
        }
    }
}

impl MultiArch {
    /// Parses a `Multi-Arch` value.
    pub fn parse(value: &str) -> Self {
        match value.trim().to_ascii_lowercase().as_str() {
            "same" => MultiArch::Same,
            "foreign" => MultiArch::Foreign,
            "allowed" => MultiArch::Allowed,
            _ => MultiArch::None,
        }
    }
}

impl Atom {
    /// Returns whether `version` meets the constraint (always, without one).
    pub fn accepts(&self, version: &debversion::Version) -> bool {
        self.constraint
            .as_ref()
            .is_none_or(|(op, want)| op.holds(version, want))
    }
}

/// Parses a relationship field into or-groups. Atoms that cannot be read (no name, a
/// version that does not parse) are left out, and a group left empty with them; build
/// profiles (`<...>`) and architecture restrictions (`[...]`) are ignored.
pub fn parse_groups(field: &str) -> Vec<Group> {
    field
        .split(',')
        .filter_map(|group| {
            let atoms: Group = group.split('|').filter_map(parse_atom).collect();
            (!atoms.is_empty()).then_some(atoms)
        })
        .collect()
}

fn parse_atom(text: &str) -> Option<Atom> {
    // name[:arch] [(op version)] [restrictions]: restrictions (`[...]`, `<...>`) only
    // appear in source stanzas, and are ignored.
    let head_end = text.find(['(', '[', '<']).unwrap_or(text.len());
    let (head, constraint) = match text[head_end..].strip_prefix('(') {
        Some(rest) => {
            let head = &text[..head_end];
            let inner = rest.split(')').next().unwrap_or_default().trim();
            let op_len = inner
                .find(|c: char| !matches!(c, '<' | '>' | '='))
                .unwrap_or(inner.len());
            let (op, version) = inner.split_at(op_len);
            let op = match op {
                "<<" => Op::Lt,
                "<=" | "<" => Op::Le,
                "=" => Op::Eq,
                ">=" | ">" => Op::Ge,
                ">>" => Op::Gt,
                _ => return None,
            };
            let version = ward_version::deb::parse(version).ok()?;
            (head, Some((op, version)))
        }
        None => (&text[..head_end], None),
    };
    let head = head.trim();
    if head.is_empty() || head.contains(char::is_whitespace) {
        return None;
    }
    let (name, arch) = match head.split_once(':') {
        Some((name, "any")) => (name, ArchQualifier::Any),
        Some((name, "native")) => (name, ArchQualifier::Native),
        Some((name, arch)) => (name, ArchQualifier::Named(arch.to_owned())),
        None => (head, ArchQualifier::None),
    };
    if name.is_empty() {
        return None;
    }
    Some(Atom {
        name: name.to_owned(),
        arch,
        constraint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> debversion::Version {
        s.parse().unwrap()
    }

    #[test]
    fn parses_groups_qualifiers_and_constraints() {
        let groups =
            parse_groups("libc6 (>= 2.36), python3:any | python3-minimal (<< 3.12~), foo:i386");
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0][0].name, "libc6");
        assert_eq!(groups[0][0].constraint, Some((Op::Ge, v("2.36"))));
        assert_eq!(groups[1][0].arch, ArchQualifier::Any);
        assert_eq!(groups[1][1].constraint, Some((Op::Lt, v("3.12~"))));
        assert_eq!(groups[2][0].arch, ArchQualifier::Named("i386".into()));
        assert!(groups[0][0].accepts(&v("2.36-9")));
        assert!(!groups[0][0].accepts(&v("2.31")));
    }

    #[test]
    fn obsolete_operators_and_garbage() {
        let g = parse_groups("a (< 2), b (> 1), (= 1), c (~ 1), , d ( = 1:2.0-1 )");
        let names: Vec<&str> = g.iter().map(|g| g[0].name.as_str()).collect();
        assert_eq!(names, ["a", "b", "d"]);
        assert_eq!(g[0][0].constraint.as_ref().map(|c| c.0), Some(Op::Le));
        assert_eq!(g[1][0].constraint.as_ref().map(|c| c.0), Some(Op::Ge));
        assert_eq!(g[2][0].constraint, Some((Op::Eq, v("1:2.0-1"))));
    }

    #[test]
    fn fields_by_name() {
        let mut f = Fields::default();
        assert!(f.set(b"depends", "a,"));
        assert!(f.set(b"Depends", "b"), "a known field, though not replaced");
        assert!(!f.set(b"Description", "x"));
        f.append(b"Depends", "c");
        assert_eq!(f.depends, "a, c");
        assert_eq!(f.parse().depends.len(), 2);
        assert!(!f.is_empty());
        f.set(b"Breaks", "x:any (<< 2) | y");
        f.set(b"Provides", "z");
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<HashSet<_>>();
        assert!(f.mentions(&names(&["x"])) && f.mentions(&names(&["y"])));
        assert!(f.mentions(&names(&["c"])) && !f.mentions(&names(&["z", "b"])));
        assert_eq!(f.parse_provides().provides[0].name, "z");
    }
}
