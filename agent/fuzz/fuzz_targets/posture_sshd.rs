//! Fuzzes the sshd_config parser (`Include` finds nothing here), its line splitting and
//! the Match-override logic.
//!
//! Checks: the four settings are never empty and lower-case; overrides are sorted, unique
//! and each names a Match block; the file list is the main file only; every split line
//! has a keyword without blanks or `=`; appending a comment line changes nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::posture::sshd::{CONFIG, parse, split_line};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sshd = parse(&text);
    let s = &sshd.settings;
    assert!(s.present);
    for v in [
        &s.permit_root_login,
        &s.password_authentication,
        &s.permit_empty_passwords,
        &s.kbd_interactive_authentication,
    ] {
        assert!(!v.is_empty() || text.contains('"'), "{s:?}");
        assert_eq!(v.to_ascii_lowercase(), **v);
    }
    assert!(s.match_overrides.windows(2).all(|w| w[0] < w[1]), "{s:?}");
    assert!(s.match_overrides.iter().all(|o| o.starts_with("Match ")));
    assert_eq!(s.files, [CONFIG]);
    for line in text.lines() {
        if let Some((keyword, _)) = split_line(line) {
            assert!(!keyword.is_empty());
            assert!(
                !keyword.contains([' ', '\t', '\r', '\n', '=']),
                "{keyword:?}"
            );
        }
    }
    let commented = format!("{text}\n# a comment\n");
    assert_eq!(parse(&commented), sshd);
});
