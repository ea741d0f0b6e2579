//! Fuzzes the `authorized_keys` parser (options with quoted commas and spaces, key type,
//! base64 blob, comment) and `AuthorizedKeysFile` expansion.
//!
//! Checks: at most one key per line; the fingerprint is `SHA256:` and 43 characters of
//! unpadded base64; the key type is one word; comment and options respect their caps and
//! hold no line break; a key found on a line is found again when the line is prefixed by
//! blanks; an expanded `AuthorizedKeysFile` is absolute.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::posture::keys::{MAX_COMMENT, MAX_OPTIONS, expand, parse, parse_line};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let keys = parse(&text);
    assert!(keys.len() <= text.lines().count());
    for k in &keys {
        let b64 = k
            .fingerprint
            .strip_prefix("SHA256:")
            .expect("SHA256: prefix");
        assert_eq!(b64.len(), 43, "{k:?}");
        assert!(
            b64.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        );
        assert!(
            !k.key_type.is_empty() && !k.key_type.contains(char::is_whitespace),
            "{k:?}"
        );
        assert!(k.comment.len() <= MAX_COMMENT && k.options.len() <= MAX_OPTIONS);
        assert!(!k.comment.contains('\n') && !k.options.contains('\n'));
    }
    for line in text.lines() {
        if let Some(k) = parse_line(line) {
            assert_eq!(parse_line(&format!(" \t{line}")), Some(k));
        }
        if let Some(path) = expand(line, "user", "/home/user") {
            assert!(path.starts_with('/'), "{path:?}");
        }
    }
});
