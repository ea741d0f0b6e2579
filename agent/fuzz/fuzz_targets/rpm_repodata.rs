//! Fuzzes the RPM repository metadata readers: `repomd.xml`
//! (`patches::rpm::repodata::parse_repomd`), `primary.xml` (`read_primary`),
//! `updateinfo.xml` (`updateinfo::read_updateinfo`), zchunk files (`zchunk::Reader`,
//! Fedora's metadata compression), dnf's `modules.yaml` (`modulemd::read_modules`, then
//! `modules::filter` over what it read) and the configuration helpers
//! (`repos::parse_ini`, `repos::glob_match`).
//!
//! The first byte (mod 7) picks the reader; the rest is the file. The installed set is
//! every run of name characters in the input, a superset of the names the readers can
//! see. Checks beyond "no panic": every offer has a non-empty name that is trimmed and a
//! non-empty version, is not a source package, is installed or obsoletes an installed
//! package other than itself, provides only plain names other than its own (and only when
//! installed), and no field is longer than the readers' cap; asking for half the names
//! gives the full result filtered to them (the obsoletes read are those naming an asked
//! name), and for none gives nothing; every advisory has a trimmed non-empty id, sorted
//! unique CVE ids, only installed packages and never the severity `None`. Globs: `*`
//! matches everything, and a pattern without `*`, `?` or `[` matches exactly itself.
//! zchunk: decoding twice gives the same bytes (or the same error kind), and what
//! decodes is then read as primary.xml. modules.yaml: reading twice gives the same
//! result; every build and default has a non-empty name (and stream); the filter built
//! from them with every module disabled hides no package that no build lists, and it is
//! built without panicking from the defaults read and with each build's stream enabled.

#![no_main]

use std::collections::HashSet;
use std::io::Read;

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

use ward_agent::patches::rpm::modulemd::read_modules;
use ward_agent::patches::rpm::modules::{self, State};
use ward_agent::patches::rpm::repodata::{Offer, parse_repomd, read_primary};
use ward_agent::patches::rpm::repos::{glob_match, parse_ini};
use ward_agent::patches::rpm::updateinfo::read_updateinfo;
use ward_agent::patches::rpm::zchunk;

/// The readers' cap on one field (`xml::MAX_FIELD`).
const MAX_FIELD: usize = 4096;
/// Decompressed bytes beyond this are not compared (a small input can inflate a lot).
const LIMIT: u64 = 16 << 20;

fn unzck(bytes: &[u8]) -> Result<Vec<u8>, std::io::ErrorKind> {
    let mut out = Vec::new();
    zchunk::Reader::new(bytes)
        .and_then(|r| r.take(LIMIT).read_to_end(&mut out))
        .map_err(|e| e.kind())?;
    Ok(out)
}

/// Every run of characters a package name can hold.
fn tokens(text: &str) -> HashSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || "._+-&;#".contains(c)))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn check_offer(o: &Offer, wanted: &HashSet<String>) {
    assert!(!o.name.is_empty(), "{o:?}");
    assert!(wanted.contains(&o.name) || !o.obsoletes.is_empty(), "{o:?}");
    for d in &o.obsoletes {
        assert!(wanted.contains(&d.name) && d.name != o.name, "{o:?}");
    }
    assert!(o.provides.is_empty() || wanted.contains(&o.name), "{o:?}");
    for p in &o.provides {
        assert!(
            *p != o.name && !p.is_empty() && !p.contains(['(', '/', ' ']),
            "{o:?}"
        );
        assert!(p.len() <= MAX_FIELD, "{o:?}");
    }
    assert_eq!(o.name, o.name.trim(), "{o:?}");
    assert!(!matches!(o.arch.as_str(), "src" | "nosrc"), "{o:?}");
    for field in [&o.name, &o.arch, &o.epoch, &o.version, &o.release] {
        assert!(field.len() <= MAX_FIELD, "{o:?}");
    }
}

fn half(names: impl Iterator<Item = String>) -> HashSet<String> {
    let mut all: Vec<String> = names.collect();
    all.sort();
    all.dedup();
    all.into_iter().step_by(2).collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let wanted = tokens(&text);
    match mode % 7 {
        0 => {
            let md = parse_repomd(rest);
            for href in [&md.primary, &md.primary_db, &md.primary_zck, &md.updateinfo]
                .into_iter()
                .flatten()
            {
                assert!(href.len() <= MAX_FIELD);
            }
        }
        1 => {
            let Ok(offers) = read_primary(rest, &wanted) else {
                return;
            };
            for o in &offers {
                check_offer(o, &wanted);
                assert!(!o.version.is_empty(), "{o:?}");
            }
            let some = half(offers.iter().flat_map(|o| {
                std::iter::once(o.name.clone()).chain(o.obsoletes.iter().map(|d| d.name.clone()))
            }));
            let filtered: Vec<Offer> = offers
                .iter()
                .cloned()
                .filter_map(|mut o| {
                    o.obsoletes.retain(|d| some.contains(&d.name));
                    if !some.contains(&o.name) {
                        o.provides.clear();
                    }
                    (some.contains(&o.name) || !o.obsoletes.is_empty()).then_some(o)
                })
                .collect();
            assert_eq!(read_primary(rest, &some).ok(), Some(filtered));
            assert_eq!(read_primary(rest, &HashSet::new()).ok(), Some(Vec::new()));
        }
        2 => {
            let Ok(updates) = read_updateinfo(rest, &wanted) else {
                return;
            };
            for u in &updates {
                assert!(!u.id.is_empty() && u.id == u.id.trim(), "{u:?}");
                assert!(!u.severity.eq_ignore_ascii_case("none"), "{u:?}");
                assert!(u.cves.windows(2).all(|w| w[0] < w[1]), "{u:?}");
                assert!(!u.packages.is_empty(), "{u:?}");
                for p in &u.packages {
                    assert!(wanted.contains(&p.name), "{u:?}");
                }
            }
            assert_eq!(
                read_updateinfo(rest, &HashSet::new()).ok(),
                Some(Vec::new())
            );
        }
        3 => {
            for (section, keys) in parse_ini(&text) {
                assert!(!section.contains('\n'));
                for (k, _) in keys {
                    assert_eq!(k, k.to_ascii_lowercase());
                }
            }
        }
        6 => {
            let first = read_modules(rest).map_err(|e| e.to_string());
            assert_eq!(first, read_modules(rest).map_err(|e| e.to_string()));
            let Ok(md) = first else {
                return;
            };
            for m in &md.modules {
                assert!(!m.name.is_empty() && !m.stream.is_empty(), "{m:?}");
            }
            for d in &md.defaults {
                assert!(!d.module.is_empty(), "{d:?}");
            }
            let all = std::slice::from_ref(&md);
            // Every module disabled: nothing is active, so only listed NEVRAs are hidden.
            let disabled: HashMap<String, State> = md
                .modules
                .iter()
                .map(|m| (m.name.clone(), State::Disabled))
                .collect();
            let filter = modules::filter(all, &[], &disabled, "x86_64", Some("el8"));
            let stranger = Offer {
                name: "\u{1}not-listed".into(),
                arch: "x86_64".into(),
                epoch: "0".into(),
                version: "1".into(),
                release: "1".into(),
                ..Offer::default()
            };
            let listed = md
                .modules
                .iter()
                .any(|m| m.artifacts.iter().any(|a| a.starts_with('\u{1}')));
            assert!(listed || !filter.hides(&stranger));
            // Defaults as they are, and each build's stream enabled in turn.
            let _ = modules::filter(all, &md.defaults, &HashMap::new(), "", None);
            for m in md.modules.iter().take(8) {
                let states = HashMap::from([(m.name.clone(), State::Enabled(m.stream.clone()))]);
                let filter = modules::filter(all, &[], &states, "", None);
                let _ = filter.is_empty();
            }
        }
        5 => {
            let first = unzck(rest);
            assert_eq!(first, unzck(rest));
            if let Ok(plain) = first {
                let wanted = tokens(&String::from_utf8_lossy(&plain));
                if let Ok(offers) = read_primary(plain.as_slice(), &wanted) {
                    for o in &offers {
                        check_offer(o, &wanted);
                    }
                }
            }
        }
        _ => {
            let (pattern, subject) = text.split_once('\n').unwrap_or((&text, ""));
            assert!(glob_match("*", subject));
            if !pattern.contains(['*', '?', '[']) {
                assert_eq!(glob_match(pattern, subject), pattern == subject);
                assert!(glob_match(pattern, pattern));
            }
            let _ = glob_match(subject, pattern);
        }
    }
});
