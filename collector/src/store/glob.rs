//! Shell-style name globs (`*` any run, `?` one character, nothing else special) as SQL
//! `LIKE` patterns with `\` as the escape character, which SQLite and PostgreSQL read alike.

/// The escape character the LIKE patterns use; queries say `ESCAPE '\'`.
pub const LIKE_ESCAPE: char = '\\';

/// Returns true when `glob` holds a wildcard, false when it names one thing exactly.
pub fn has_wildcards(glob: &str) -> bool {
    glob.contains(['*', '?'])
}

/// Returns the LIKE pattern matching what `glob` matches: `*` becomes `%`, `?` becomes `_`,
/// and LIKE's own `%`, `_` and the escape character are escaped.
pub fn to_like(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | LIKE_ESCAPE => {
                out.push(LIKE_ESCAPE);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Returns true when `text` matches `glob`, case-sensitively.
///
/// SQLite's LIKE ignores ASCII case and PostgreSQL's does not; backends use LIKE to narrow
/// rows and this to decide, so both answer the same.
pub fn matches(glob: &str, text: &str) -> bool {
    let pattern: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Iterative wildcard matching with backtracking to the last `*`: linear in practice,
    // O(len(pattern) * len(text)) at worst, with no recursion for hostile patterns.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_detected() {
        assert!(has_wildcards("web-*"));
        assert!(has_wildcards("db?"));
        assert!(!has_wildcards("openssl"));
        assert!(!has_wildcards("lib_foo%"));
    }

    #[test]
    fn like_translation_escapes_like_metacharacters() {
        assert_eq!(to_like("web-*"), "web-%");
        assert_eq!(to_like("db?"), "db_");
        assert_eq!(to_like("lib_a%b\\c*"), "lib\\_a\\%b\\\\c%");
        assert_eq!(to_like("plain"), "plain");
    }

    #[test]
    fn matching_follows_shell_globs() {
        assert!(matches("openssl*", "openssl"));
        assert!(matches("openssl*", "openssl-dev"));
        assert!(matches("*ssl*", "libssl3"));
        assert!(matches("lib?", "libc"));
        assert!(!matches("lib?", "lib"));
        assert!(!matches("lib?", "libcc"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
        assert!(!matches("", "x"));
        assert!(matches("", ""));
    }

    #[test]
    fn matching_is_case_sensitive_and_literal_elsewhere() {
        assert!(!matches("OpenSSL*", "openssl"));
        assert!(matches("lib_%", "lib_%"));
        assert!(!matches("lib_", "libx"));
        assert!(matches("caf?", "café"));
    }
}
