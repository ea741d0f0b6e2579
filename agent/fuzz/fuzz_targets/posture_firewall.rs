//! Fuzzes the firewall parsers: `nft -j list ruleset` JSON, `iptables-save` output and
//! `/proc/net/ip_tables_names`, and the INI lookup of dnf-automatic and yum-cron. The
//! first byte (mod 3) picks nft, iptables-save or the INI lookup; the table-names parser
//! gets every input.
//!
//! Checks: nft JSON gives a result only for JSON with an `nftables` array, with backend
//! `nftables` or `none` and no rules, policy or enforcement without tables; iptables-save
//! counts at most one rule per line, reports `iptables` only with a `*table` line and
//! an input policy only from a `:INPUT` line; an INI value is one trimmed line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::posture::firewall::{from_table_names, parse_iptables_save, parse_nft_json};
use ward_agent::posture::updates::ini_value;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match mode % 3 {
        0 => {
            if let Some(fw) = parse_nft_json(rest) {
                assert!(serde_json::from_slice::<serde_json::Value>(rest).is_ok());
                assert!(fw.backend == "nftables" || fw.backend == "none", "{fw:?}");
                assert_eq!(fw.source, "nft");
            }
        }
        1 => {
            let fw = parse_iptables_save(rest);
            assert!(fw.rules as usize <= text.lines().count(), "{fw:?}");
            if fw.backend == "iptables" {
                assert!(text.lines().any(|l| l.trim().starts_with('*')));
            } else {
                assert_eq!(fw.backend, "none");
            }
            if !fw.input_policy.is_empty() {
                assert!(text.contains(":INPUT"), "{fw:?}");
            }
        }
        _ => {
            for (section, key) in [("commands", "apply_updates"), ("main", "x")] {
                if let Some(v) = ini_value(&text, section, key) {
                    assert!(!v.contains('\n') && v.trim() == v, "{v:?}");
                }
            }
        }
    }
    let fw = from_table_names(Some(&text));
    assert!(fw.backend == "iptables" || fw.backend == "unknown");
    assert!(!fw.enforcing);
});
