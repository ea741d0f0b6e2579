//! Fuzzes apt's Packages list reader: the slice parser (`lists::parse_packages`) and the
//! file path (`lists::open` + `lists::read_packages`) through each decompressor apt lists
//! are written with.
//!
//! The first byte picks the path: 0 plain slice, 1 plain file, 2 `.gz`, 3 `.xz`, 4 `.lz4`,
//! 5 `.zst` (modulo 6); the rest is the list (plain) or the file's bytes (compressed, fed
//! to the decoder as they are). `open` only chooses a decoder by the file name, so the
//! file paths write the bytes to a per-process scratch file under `/dev/shm` (or the temp
//! directory) named `x_Packages<suffix>`.
//!
//! The installed set is taken from the input: the value of every line (after its first
//! `:`, trimmed), which includes every Package the parser can see. Checks: every entry has
//! a non-empty, installed name and a non-empty version; name, version, arch and source are
//! one trimmed line; the source is one word or the name; asking for a subset of the names gives the
//! same entries filtered to that subset; and a stream that decompresses cleanly gives
//! exactly what `parse_packages` gives for the decompressed bytes (an error in the
//! decoder is an error from `read_packages`, never a panic or a partial result).

#![no_main]

use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ward_agent::patches::apt::lists::{Entry, open, parse_packages, read_packages};

/// Decompressed bytes beyond this are not compared (a small input can inflate a lot).
const LIMIT: u64 = 16 << 20;

const SUFFIXES: [&str; 5] = ["", ".gz", ".xz", ".lz4", ".zst"];

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("ward-fuzz-apt-lists-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

/// Every line's value after its first `:`, trimmed: a superset of the Package names.
fn values(bytes: &[u8]) -> HashSet<String> {
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            let value = line[colon + 1..].trim_ascii();
            let value = value.strip_suffix(b"\r").unwrap_or(value).trim_ascii();
            Some(String::from_utf8_lossy(value).into_owned())
        })
        .collect()
}

/// No line feed and no ASCII whitespace at either end. A lone CR inside a line stays in
/// the value (apt splits lines on LF only), so it is not refused here.
fn is_one_trimmed_line(s: &str) -> bool {
    !s.contains('\n')
        && !s.starts_with(|c: char| c.is_ascii_whitespace())
        && !s.ends_with(|c: char| c.is_ascii_whitespace())
}

fn check(entries: &[Entry], installed: &HashSet<String>) {
    for e in entries {
        assert!(!e.name.is_empty() && !e.version.is_empty(), "{e:?}");
        assert!(installed.contains(&e.name), "not asked for: {e:?}");
        assert!(is_one_trimmed_line(&e.name), "{e:?}");
        assert!(is_one_trimmed_line(&e.version), "{e:?}");
        assert!(is_one_trimmed_line(&e.arch), "{e:?}");
        assert!(!e.source.is_empty(), "{e:?}");
        // The first word of Source, or the package's own name when there is none (the
        // name is not checked for whitespace, so only the first case is one word).
        assert!(
            e.source == e.name || !e.source.contains(|c: char| c.is_ascii_whitespace()),
            "{e:?}"
        );
    }
}

/// The slice parser with a subset of the names gives the full result filtered.
fn check_subset(list: &[u8], all: &[Entry]) {
    let half: HashSet<String> = all.iter().step_by(2).map(|e| e.name.clone()).collect();
    let want: Vec<Entry> = all
        .iter()
        .filter(|e| half.contains(&e.name))
        .cloned()
        .collect();
    assert_eq!(parse_packages(list, &half), want);
    assert!(parse_packages(list, &HashSet::new()).is_empty());
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mode = usize::from(mode) % 6;
    if mode == 0 {
        let installed = values(rest);
        let entries = parse_packages(rest, &installed);
        check(&entries, &installed);
        check_subset(rest, &entries);
        return;
    }
    let path = scratch().join(format!("x_Packages{}", SUFFIXES[mode - 1]));
    std::fs::write(&path, rest).expect("write scratch list");

    // Decompress once to learn the plain bytes (and the installed set from them).
    let mut plain = Vec::new();
    let decoded = open(&path)
        .expect("open scratch list")
        .take(LIMIT)
        .read_to_end(&mut plain);
    let installed = values(&plain);
    let streamed = read_packages(open(&path).expect("open scratch list"), &installed);
    match (decoded, streamed) {
        (Ok(_), Ok(entries)) => {
            check(&entries, &installed);
            if (plain.len() as u64) < LIMIT {
                assert_eq!(entries, parse_packages(&plain, &installed));
                check_subset(&plain, &entries);
            }
            if mode == 1 {
                assert_eq!(plain, rest);
            }
        }
        (Err(_), Err(_)) => {}
        // read_packages stops at the first error, as read_to_end does; past LIMIT only
        // read_packages sees the rest of the stream.
        (Ok(_), Err(_)) if plain.len() as u64 >= LIMIT => {}
        (decoded, streamed) => panic!(
            "decoding and reading disagree: read_to_end {:?}, read_packages {:?}",
            decoded.map_err(|e| e.to_string()),
            streamed.map(|e| e.len()).map_err(|e| e.to_string())
        ),
    }
});
