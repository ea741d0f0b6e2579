//! Arch Linux (pacman) versions, ordered as libalpm's `alpm_pkg_vercmp` orders them
//! (`lib/libalpm/version.c`), which is what `vercmp` and `pacman -Qu` use.
//!
//! A version is `[epoch:]pkgver[-pkgrel]`. Epochs, then pkgvers, then pkgrels (only when
//! both versions have one) are compared with pacman's copy of rpmvercmp: runs of digits
//! and runs of ASCII letters are compared in turn, numbers as numbers and letters as
//! strings, a number beats letters, and a version that still has letters when the other
//! has ended is older (`1.0rc1` < `1.0`). pacman differs from RPM in that a longer run of
//! separators between two segments makes a version newer (`1..0` > `1.0`), `~` and `^` are
//! plain separators, and a missing epoch is `0` on both sides.
//!
//! Any string can be compared, as `vercmp` compares any string; a NUL byte ends the
//! string, as it does for libalpm. [`validate`] applies makepkg's checks to the parts.

use std::cmp::Ordering;

use crate::{Error, invalid};

/// The parts of a pacman version, split as libalpm's `parseEVR` splits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evr<'a> {
    /// The digits before `:`, `None` without a colon after leading digits.
    pub epoch: Option<&'a str>,
    /// The package version (`pkgver`).
    pub version: &'a str,
    /// What follows the last `-` after the epoch (`pkgrel`), `None` without one.
    pub release: Option<&'a str>,
}

/// Compares two pacman versions as `alpm_pkg_vercmp` (and the `vercmp` tool) does.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (until_nul(a), until_nul(b));
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (split(a), split(b));
    rpmvercmp(epoch_or_zero(&a).as_bytes(), epoch_or_zero(&b).as_bytes())
        .then_with(|| rpmvercmp(a.version.as_bytes(), b.version.as_bytes()))
        .then_with(|| match (a.release, b.release) {
            (Some(ra), Some(rb)) => rpmvercmp(ra.as_bytes(), rb.as_bytes()),
            _ => Ordering::Equal,
        })
}

/// Splits a version into epoch, pkgver and pkgrel as libalpm's `parseEVR` does: the epoch
/// is the leading digits when a `:` follows them, the release what follows the last `-`
/// after them.
pub fn split(version: &str) -> Evr<'_> {
    let digits = version.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = match version[digits..].strip_prefix(':') {
        Some(rest) => (Some(&version[..digits]), rest),
        None => (None, version),
    };
    // The last hyphen after the epoch's digits; with an epoch that is inside `rest`.
    let (pkgver, release) = match version[digits..].rfind('-') {
        Some(at) => {
            let at = digits + at;
            let start = version.len() - rest.len();
            (&version[start..at], Some(&version[at + 1..]))
        }
        None => (rest, None),
    };
    Evr {
        epoch,
        version: pkgver,
        release,
    }
}

/// Checks that `version` is a version makepkg would build: `[epoch:]pkgver[-pkgrel]` with
/// a numeric epoch, a pkgver of printable ASCII without `:`, `/`, `-` or whitespace, and
/// a pkgrel of the form `N` or `N.N`.
pub fn validate(version: &str) -> Result<(), Error> {
    if version.is_empty() {
        return Err(invalid(version, "version string is empty"));
    }
    let (epoch, rest) = match version.split_once(':') {
        Some((epoch, rest)) => (Some(epoch), rest),
        None => (None, version),
    };
    if let Some(epoch) = epoch
        && (epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid(version, "epoch is not a number"));
    }
    let (pkgver, pkgrel) = match rest.rsplit_once('-') {
        Some((pkgver, pkgrel)) => (pkgver, Some(pkgrel)),
        None => (rest, None),
    };
    if pkgver.is_empty() {
        return Err(invalid(version, "pkgver is empty"));
    }
    if pkgver
        .bytes()
        .any(|b| matches!(b, b':' | b'/' | b'-') || b.is_ascii_whitespace())
    {
        return Err(invalid(
            version,
            "pkgver may not contain colons, slashes, hyphens or whitespace",
        ));
    }
    if !pkgver.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(version, "pkgver may only contain printable ASCII"));
    }
    if let Some(pkgrel) = pkgrel {
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let ok = match pkgrel.split_once('.') {
            Some((major, minor)) => numeric(major) && numeric(minor),
            None => numeric(pkgrel),
        };
        if !ok {
            return Err(invalid(
                version,
                "pkgrel must be a number, or two numbers joined by a dot",
            ));
        }
    }
    Ok(())
}

/// Returns the epoch to compare: a missing or empty one is `0`, as in `parseEVR`.
fn epoch_or_zero<'a>(evr: &Evr<'a>) -> &'a str {
    match evr.epoch {
        Some("") | None => "0",
        Some(epoch) => epoch,
    }
}

/// Returns `s` up to its first NUL byte, where a C string would end.
fn until_nul(s: &str) -> &str {
    s.split('\0').next().unwrap_or_default()
}

/// pacman's rpmvercmp (`lib/libalpm/version.c`), on bytes.
fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    use Ordering::{Equal, Greater, Less};

    if a == b {
        return Equal;
    }
    // `one`/`two` start the current segment, `end1`/`end2` end the previous one, so
    // `one - end1` is the length of the separator run before the segment.
    let (mut one, mut two, mut end1, mut end2) = (0, 0, 0, 0);
    while one < a.len() && two < b.len() {
        while one < a.len() && !a[one].is_ascii_alphanumeric() {
            one += 1;
        }
        while two < b.len() && !b[two].is_ascii_alphanumeric() {
            two += 1;
        }
        if one == a.len() || two == b.len() {
            break;
        }
        if one - end1 != two - end2 {
            return (one - end1).cmp(&(two - end2));
        }
        let numeric = a[one].is_ascii_digit();
        let class = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        end1 = one + a[one..].iter().take_while(|c| class(c)).count();
        end2 = two + b[two..].iter().take_while(|c| class(c)).count();
        if two == end2 {
            // Segments of different types: a number is newer than letters.
            return if numeric { Greater } else { Less };
        }
        let (mut seg1, mut seg2) = (&a[one..end1], &b[two..end2]);
        if numeric {
            seg1 = trim_zeros(seg1);
            seg2 = trim_zeros(seg2);
            match seg1.len().cmp(&seg2.len()) {
                Equal => {}
                longer_wins => return longer_wins,
            }
        }
        match seg1.cmp(seg2) {
            Equal => {}
            decided => return decided,
        }
        one = end1;
        two = end2;
    }
    if one == a.len() && two == b.len() {
        return Equal;
    }
    // What is left decides: letters left on `a` make it older; an ended `a` is older than
    // a `b` that goes on with anything but letters; otherwise `a` is newer.
    let a_alpha = a.get(one).is_some_and(u8::is_ascii_alphabetic);
    let b_alpha = b.get(two).is_some_and(u8::is_ascii_alphabetic);
    if (one == a.len() && !b_alpha) || a_alpha {
        Less
    } else {
        Greater
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|d| **d == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests;
