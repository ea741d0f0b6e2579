//! Alpine versions, ordered as apk-tools orders them (`src/version.c` of apk-tools 3,
//! whose rules apk-tools 2.14 shares but for the two points below).
//!
//! A version is `digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]`: numbers compare as
//! numbers (but a number after a dot that starts with `0` compares as a string, as Gentoo
//! does), one lowercase letter may follow the numbers, the suffixes `_alpha`, `_beta`,
//! `_pre`, `_rc` sort before the plain version and `_cvs`, `_svn`, `_git`, `_hg`, `_p`
//! after it, a `~hash` of lowercase hex digits compares as a string, and `-rN` is the
//! package revision (abuild's `pkgrel`).
//!
//! apk orders every string, valid or not, and so does [`compare`]: both are read token by
//! token up to the first token that is not valid there, and the comparison is decided by
//! the first token that differs, in kind or value. A version that is invalid from a point
//! on sorts below a valid version with the same prefix (`1.0bc` < `1.0.1`), above one that
//! ends there (`1.0bc` > `1.0`), and equal to any other version invalid at the same point
//! (`1.0bc` = `1.0bd`, as apk says). [`validate`] is `apk_version_validate`, which
//! `apk version --check` reports and `abuild` enforces for what Alpine builds.
//!
//! apk-tools 2.14 (Alpine 3.18 to 3.22) differs on two rare inputs: it has no `~hash`
//! (a version with one is invalid there from the `~`) and accepts an empty suffix (`1.0_`).
//! Numbers longer than 20 digits wrap around in 64 bits, in apk and here.

use std::cmp::Ordering;

use crate::{Error, invalid};

/// Compares two apk versions as `apk_version_compare` does. Never fails: see the module
/// documentation for how invalid versions sort.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (mut ta, mut tb) = (Tokens::new(a.as_bytes()), Tokens::new(b.as_bytes()));
    while ta.token.kind == tb.token.kind && ta.token.kind < Kind::End {
        match ta.token.cmp_same_kind(&tb.token) {
            Ordering::Equal => {}
            decided => return decided,
        }
        ta.advance();
        tb.advance();
    }
    let (a, b) = (&ta.token, &tb.token);
    if a.kind == b.kind {
        return Ordering::Equal;
    }
    // The prefixes are equal: the longer version is newer, unless what makes it longer is
    // a pre-release suffix; kinds later in the grammar (and End, and Invalid) sort first.
    if a.kind == Kind::Suffix && a.suffix < Suffix::None {
        return Ordering::Less;
    }
    if b.kind == Kind::Suffix && b.suffix < Suffix::None {
        return Ordering::Greater;
    }
    b.kind.cmp(&a.kind)
}

/// Checks that `version` is a valid apk version (`apk_version_validate`).
pub fn validate(version: &str) -> Result<(), Error> {
    let mut tokens = Tokens::new(version.as_bytes());
    while tokens.token.kind < Kind::End {
        tokens.advance();
    }
    if tokens.token.kind == Kind::End {
        return Ok(());
    }
    let at = tokens.token.start;
    let reason = if version.is_empty() {
        "version string is empty".to_owned()
    } else {
        format!(
            "not an apk version from byte {at} on ({:?}); apk versions are \
             digits{{.digits}}[letter]{{_suffix[N]}}[~hash][-rN]",
            version.get(at..).unwrap_or_default()
        )
    };
    Err(invalid(version, &reason))
}

/// Returns the revision of an apk version, the digits after its `-r` (`4` for `1.2.3-r4`),
/// or `None` when it has none.
pub fn revision(version: &str) -> Option<&str> {
    let (_, rev) = version.rsplit_once("-r")?;
    (!rev.is_empty() && rev.bytes().all(|b| b.is_ascii_digit())).then_some(rev)
}

/// The kinds of token, in the order the grammar allows them; the order is also the one
/// `compare` uses when two versions differ in kind at the same place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffixes in apk's order: pre-releases, then the plain version, then post-releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Suffix {
    Invalid,
    Alpha,
    Beta,
    Pre,
    Rc,
    None,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

/// One token: its kind, where it starts, its text and, for numbers, its value.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    start: usize,
    suffix: Suffix,
    number: u64,
    value: &'a [u8],
}

/// A version being read token by token; `token` is the current one.
struct Tokens<'a> {
    text: &'a [u8],
    pos: usize,
    token: Token<'a>,
}

impl<'a> Tokens<'a> {
    /// Starts reading `text`: the first token is the leading number.
    fn new(text: &'a [u8]) -> Self {
        let mut tokens = Self {
            text,
            pos: 0,
            token: Token {
                kind: Kind::InitialDigit,
                start: 0,
                suffix: Suffix::None,
                number: 0,
                value: &[],
            },
        };
        tokens.digits();
        tokens
    }

    /// Reads the next token, checking that the grammar allows it after the current one.
    fn advance(&mut self) {
        let Some(&first) = self.text.get(self.pos) else {
            self.token.kind = Kind::End;
            return;
        };
        self.token.start = self.pos;
        let previous = self.token.kind;
        match first {
            b'a'..=b'z' if previous <= Kind::Digit => {
                self.token.value = &self.text[self.pos..=self.pos];
                self.token.kind = Kind::Letter;
                self.pos += 1;
            }
            b'.' | b'0'..=b'9' => {
                if first == b'.' {
                    if previous > Kind::Digit {
                        return self.invalid();
                    }
                    self.pos += 1;
                }
                self.token.kind = match previous {
                    Kind::InitialDigit | Kind::Digit => Kind::Digit,
                    Kind::Suffix => Kind::SuffixNo,
                    _ => return self.invalid(),
                };
                self.digits();
            }
            b'_' if previous <= Kind::SuffixNo => {
                self.pos += 1;
                let value = self.span(|b| b.is_ascii_lowercase());
                self.token.suffix = suffix_value(value);
                if self.token.suffix == Suffix::Invalid {
                    return self.invalid();
                }
                self.token.value = value;
                self.token.kind = Kind::Suffix;
            }
            b'~' if previous < Kind::CommitHash => {
                self.pos += 1;
                let value = self.span(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if value.is_empty() {
                    return self.invalid();
                }
                self.token.value = value;
                self.token.kind = Kind::CommitHash;
            }
            b'-' if previous < Kind::RevisionNo && self.text.get(self.pos + 1) == Some(&b'r') => {
                self.pos += 2;
                self.token.kind = Kind::RevisionNo;
                self.digits();
            }
            _ => self.invalid(),
        }
    }

    /// Reads a run of digits as the current token's value; none makes the token invalid.
    /// The number wraps around past `u64::MAX`, as apk's `apk_blob_pull_uint` does.
    fn digits(&mut self) {
        let value = self.span(|b| b.is_ascii_digit());
        if value.is_empty() {
            return self.invalid();
        }
        self.token.value = value;
        self.token.number = value.iter().fold(0u64, |n, d| {
            n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
        });
    }

    /// Consumes the longest run of bytes matching `pred` and returns it.
    fn span(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let text = self.text;
        let start = self.pos;
        let len = text[start..].iter().take_while(|b| pred(**b)).count();
        self.pos += len;
        &text[start..start + len]
    }

    fn invalid(&mut self) {
        self.token.kind = Kind::Invalid;
    }
}

impl Token<'_> {
    /// Compares two tokens of the same kind (`token_cmp`).
    fn cmp_same_kind(&self, other: &Self) -> Ordering {
        match self.kind {
            // A number after a dot with a leading zero compares as a string (Gentoo's
            // rule), so 1.01 < 1.1 and 8.2.0 < 8.2.001.
            Kind::Digit
                if self.value.first() == Some(&b'0') || other.value.first() == Some(&b'0') =>
            {
                self.value.cmp(other.value)
            }
            Kind::InitialDigit | Kind::Digit | Kind::SuffixNo | Kind::RevisionNo => {
                self.number.cmp(&other.number)
            }
            Kind::Letter => self.value.first().cmp(&other.value.first()),
            Kind::Suffix => self.suffix.cmp(&other.suffix),
            Kind::CommitHash | Kind::End | Kind::Invalid => self.value.cmp(other.value),
        }
    }
}

/// Returns which suffix `name` (the letters after `_`) is, or `Invalid`.
fn suffix_value(name: &[u8]) -> Suffix {
    match name {
        b"alpha" => Suffix::Alpha,
        b"beta" => Suffix::Beta,
        b"pre" => Suffix::Pre,
        b"rc" => Suffix::Rc,
        b"cvs" => Suffix::Cvs,
        b"svn" => Suffix::Svn,
        b"git" => Suffix::Git,
        b"hg" => Suffix::Hg,
        b"p" => Suffix::P,
        _ => Suffix::Invalid,
    }
}

#[cfg(test)]
mod tests;
