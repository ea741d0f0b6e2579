//! Fuzzes the dpkg status parser: any bytes must parse without panicking, and every
//! package it returns must be a deb with a name and a state.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::inventory::software::dpkg::parse_status;

fuzz_target!(|data: &[u8]| {
    for p in parse_status(data) {
        assert!(!p.name.is_empty());
        assert!(!p.state.is_empty() && p.state != "not-installed");
        assert_eq!(p.source, "deb");
    }
});
