//! SSH public keys that let someone in as root or as an administrator: the
//! `authorized_keys` files (sshd's `AuthorizedKeysFile`, by default
//! `.ssh/authorized_keys` and `.ssh/authorized_keys2` in the home directory) of every
//! account with user id 0 and every member of an administrators' group.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest, Sha256};
use ward_proto::v1 as pb;

use super::accounts::Accounts;
use super::{Error, capped, read_capped};
use crate::inventory::root::Root;

/// Longest comment kept, in bytes.
pub const MAX_COMMENT: usize = 256;
/// Longest options text kept, in bytes.
pub const MAX_OPTIONS: usize = 1024;
/// Bytes read of one `authorized_keys` file.
const MAX_FILE: u64 = 4 << 20;
/// Keys kept of one file.
const MAX_KEYS: usize = 10_000;

/// A key line of an `authorized_keys` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The options before the key, as written (capped at [`MAX_OPTIONS`]).
    pub options: String,
    /// The key type ("ssh-ed25519").
    pub key_type: String,
    /// `SHA256:` and unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -l`.
    pub fingerprint: String,
    /// The comment after the key (capped at [`MAX_COMMENT`]).
    pub comment: String,
}

/// What [`read`] found: the keys, and the files that could not be read.
#[derive(Debug, Default)]
pub struct Read {
    /// Keys of every file read.
    pub keys: Vec<pb::AuthorizedKey>,
    /// Files that exist but could not be read.
    pub errors: Vec<Error>,
}

/// Parses an `authorized_keys` file as sshd does: blank and `#` lines are skipped, an
/// optional options field (commas and spaces allowed inside double quotes) comes before
/// the key type, then the base64 key blob, then a free comment. Lines whose blob is not
/// base64 of a key of the named type are skipped, as sshd skips them.
pub fn parse(text: &str) -> Vec<Key> {
    text.lines().filter_map(parse_line).take(MAX_KEYS).collect()
}

/// Parses one line of an `authorized_keys` file.
pub fn parse_line(line: &str) -> Option<Key> {
    let line = line.trim_matches([' ', '\t', '\r']);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    // sshd first tries the line as a key; when that fails, it skips the options.
    if let Some(key) = parse_key(line, "") {
        return Some(key);
    }
    let (options, rest) = split_options(line)?;
    parse_key(rest, options)
}

/// Returns the options field and what follows it.
fn split_options(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => {
                return Some((&line[..i], line[i..].trim_start_matches([' ', '\t'])));
            }
            _ => {}
        }
    }
    None
}

/// Parses `TYPE BLOB [COMMENT]`.
fn parse_key(text: &str, options: &str) -> Option<Key> {
    let (key_type, rest) = text.split_once([' ', '\t'])?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let (blob, comment) = match rest.split_once([' ', '\t']) {
        Some((blob, comment)) => (blob, comment.trim_matches([' ', '\t'])),
        None => (rest, ""),
    };
    let bytes = STANDARD.decode(blob).ok()?;
    // The blob starts with its own type, length-prefixed; it must be the one named.
    let len = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    if bytes.get(4..4usize.checked_add(len)?)? != key_type.as_bytes() {
        return None;
    }
    Some(Key {
        options: capped(options, MAX_OPTIONS),
        key_type: key_type.to_owned(),
        fingerprint: fingerprint(&bytes),
        comment: capped(comment, MAX_COMMENT),
    })
}

/// Returns the fingerprint of a key blob as `ssh-keygen -l` prints it.
pub fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

/// Expands an `AuthorizedKeysFile` pattern for a user: `%h` (home), `%u` (user name),
/// `%%`; a relative path is relative to the home directory. `None` for patterns with
/// other tokens (`%U`, `%i`, ...), which this reader does not follow.
pub fn expand(pattern: &str, user: &str, home: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'h' => out.push_str(home),
            'u' => out.push_str(user),
            '%' => out.push('%'),
            _ => return None,
        }
    }
    if out.starts_with('/') {
        Some(out)
    } else {
        Some(format!("{}/{out}", home.trim_end_matches('/')))
    }
}

/// Reads the keys of every account with user id 0 and every administrator, from the
/// files `AuthorizedKeysFile` names (`patterns`).
pub(crate) fn read(root: &Root, accounts: &Accounts, patterns: &[String]) -> Read {
    let users: BTreeSet<&str> = accounts
        .privileged
        .iter()
        .map(|a| a.name.as_str())
        .chain(accounts.admins.iter().map(|a| a.user.as_str()))
        .collect();
    let mut out = Read::default();
    let mut files_seen = BTreeSet::new();
    for name in users {
        let Some(user) = accounts.user(name) else {
            continue; // a group member without an account
        };
        for pattern in patterns {
            let Some(file) = expand(pattern, &user.name, &user.home) else {
                continue;
            };
            // Several uid-0 accounts often share /root.
            if !files_seen.insert((user.name.clone(), file.clone())) {
                continue;
            }
            match read_capped(root, &file, MAX_FILE) {
                Ok(None) => {}
                Ok(Some(bytes)) => {
                    for key in parse(&String::from_utf8_lossy(&bytes)) {
                        out.keys.push(pb::AuthorizedKey {
                            user: user.name.clone(),
                            file: file.clone(),
                            key_type: key.key_type,
                            fingerprint: key.fingerprint,
                            comment: key.comment,
                            options: key.options,
                        });
                    }
                }
                Err(e) => out.errors.push(e),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
