//! RPM versions, ordered exactly as rpm 4.18 orders them: `rpmvercmp`
//! (`rpmio/rpmvercmp.c`, with `~` sorting before everything and `^` after the end of a
//! version but before anything else) applied to `[epoch:]version[-release]` as
//! `rpmverCmp` (`rpmio/rpmver.c`) does.
//!
//! The EVR is split as rpm's `parseEVR` splits it: leading digits followed by `:` are the
//! epoch (an empty one reads as `0`), and the release is what follows the last `-`. A
//! missing epoch compares as `0`; a missing release sorts before any release, as in
//! `rpmverCmp` (so `1.0` < `1.0-1`: not a wildcard, and the order stays total).

use std::cmp::Ordering;
use std::fmt;

use crate::{Error, invalid};

/// An RPM `[epoch:]version[-release]`, ordered as rpm orders it.
///
/// Equality is rpm's: `1.0-1`, `0:1.0-1` and `1.00-1` are equal although they are
/// written differently, so the type implements no `Hash`.
#[derive(Debug, Clone)]
pub struct Evr {
    /// The epoch as written (digits only), `None` when absent.
    pub epoch: Option<String>,
    /// The version.
    pub version: String,
    /// The release, `None` when absent.
    pub release: Option<String>,
}

impl Evr {
    /// Builds an EVR from its parts, as a package header or repository metadata gives
    /// them; an empty epoch or release counts as absent.
    pub fn from_parts(epoch: &str, version: &str, release: &str) -> Self {
        let part = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Self {
            epoch: part(epoch),
            version: version.to_owned(),
            release: part(release),
        }
    }

    /// Returns the epoch, `0` when absent.
    pub fn epoch_or_zero(&self) -> &str {
        self.epoch.as_deref().unwrap_or("0")
    }
}

/// Formats as rpm's `%{EVR}`: `[E:]V[-R]`, the epoch only when present.
impl fmt::Display for Evr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(epoch) = &self.epoch {
            write!(f, "{epoch}:")?;
        }
        f.write_str(&self.version)?;
        if let Some(release) = &self.release {
            write!(f, "-{release}")?;
        }
        Ok(())
    }
}

impl Ord for Evr {
    fn cmp(&self, other: &Self) -> Ordering {
        rpmvercmp(self.epoch_or_zero(), other.epoch_or_zero())
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

impl PartialOrd for Evr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Evr {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Evr {}

/// Parses `[epoch:]version[-release]` as rpm's `parseEVR` does.
///
/// rpm refuses only the empty string (`rpmverParse`). Two more refusals here, because no
/// package can carry such a version (rpmbuild allows only letters, digits and `._+%{}~^`
/// in Version and Release) and a query holding one is a typing mistake: ASCII whitespace
/// and control characters. Anything else is accepted and ordered as rpm orders it.
pub fn parse(text: &str) -> Result<Evr, Error> {
    if text.is_empty() {
        return Err(invalid(text, "version string is empty"));
    }
    if text.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(invalid(text, "version string has whitespace"));
    }
    if text.contains(char::is_control) {
        return Err(invalid(text, "version string has a control character"));
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = match text[digits..].strip_prefix(':') {
        Some(rest) => {
            let epoch = &text[..digits];
            (Some(if epoch.is_empty() { "0" } else { epoch }), rest)
        }
        None => (None, text),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((version, release)) => (version, Some(release)),
        None => (rest, None),
    };
    Ok(Evr {
        epoch: epoch.map(str::to_owned),
        version: version.to_owned(),
        release: release.map(str::to_owned),
    })
}

/// Compares two version (or release) strings segment by segment, exactly as rpm's
/// `rpmvercmp`: runs of ASCII digits compare numerically (leading zeros ignored), runs
/// of ASCII letters compare bytewise, a number is newer than letters, everything else
/// separates segments; `~` sorts before anything (even the end), `^` after the end but
/// before anything else; when all segments are equal, the side with segments left wins.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return Ordering::Equal;
    }
    let is_sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut one, mut two) = (a, b);
    while !one.is_empty() || !two.is_empty() {
        while one.first().is_some_and(|&c| is_sep(c)) {
            one = &one[1..];
        }
        while two.first().is_some_and(|&c| is_sep(c)) {
            two = &two[1..];
        }
        let (c1, c2) = (one.first().copied(), two.first().copied());

        // Tilde sorts before everything else, the end of the string included.
        if c1 == Some(b'~') || c2 == Some(b'~') {
            if c1 != Some(b'~') {
                return Ordering::Greater;
            }
            if c2 != Some(b'~') {
                return Ordering::Less;
            }
            one = &one[1..];
            two = &two[1..];
            continue;
        }
        // Caret is like tilde, except that the end of the string sorts before it.
        if c1 == Some(b'^') || c2 == Some(b'^') {
            if c1.is_none() {
                return Ordering::Less;
            }
            if c2.is_none() {
                return Ordering::Greater;
            }
            if c1 != Some(b'^') {
                return Ordering::Greater;
            }
            if c2 != Some(b'^') {
                return Ordering::Less;
            }
            one = &one[1..];
            two = &two[1..];
            continue;
        }
        let (Some(c1), Some(_)) = (c1, c2) else {
            break;
        };

        // The first string's segment type decides what the second one's segment is.
        let numeric = c1.is_ascii_digit();
        let class = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let len1 = one.iter().take_while(|c| class(c)).count();
        let len2 = two.iter().take_while(|c| class(c)).count();
        let (seg1, seg2) = (&one[..len1], &two[..len2]);
        // A numeric segment is newer than an alphabetic one.
        if seg2.is_empty() {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let ordering = if numeric {
            let n1 = trim_zeros(seg1);
            let n2 = trim_zeros(seg2);
            n1.len().cmp(&n2.len()).then_with(|| n1.cmp(n2))
        } else {
            seg1.cmp(seg2)
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
        one = &one[len1..];
        two = &two[len2..];
    }
    // All segments equal; separators may have differed.
    match (one.is_empty(), two.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests;
