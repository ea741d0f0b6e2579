//! Fuzzes the os-release parser: any text must parse without panicking; keys must be
//! non-empty, trimmed and free of `=`; and writing the parsed variables back out in
//! double quotes must parse to the same variables (the unquoting round-trips).

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::os::parse_os_release;

/// Writes `vars` as os-release text, every value double-quoted with `$ " \ `` escaped,
/// as os-release(5) asks of writers.
fn render(vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (key, value) in vars {
        out.push_str(key);
        out.push_str("=\"");
        for c in value.chars() {
            if matches!(c, '$' | '"' | '\\' | '`') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("\"\n");
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // The agent reads the file the same way: invalid UTF-8 replaced, never rejected.
    let text = String::from_utf8_lossy(data);
    let vars = parse_os_release(&text);
    for (key, value) in &vars {
        assert!(!key.is_empty(), "empty key");
        assert_eq!(key.trim(), key, "untrimmed key {key:?}");
        assert!(
            !key.contains(['=', '\n']) && !key.starts_with('#'),
            "{key:?}"
        );
        assert!(
            !value.contains('\n'),
            "value spans lines: {key:?}={value:?}"
        );
        // Unquoting only removes characters, except `\x` in double quotes, kept as two.
        assert!(value.len() <= text.len(), "{key:?}={value:?}");
    }
    assert_eq!(
        parse_os_release(&render(&vars)),
        vars,
        "quoting does not round-trip"
    );
});
