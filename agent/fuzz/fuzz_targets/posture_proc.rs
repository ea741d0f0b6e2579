//! Fuzzes the posture readers' procfs parsers: the socket tables (`/proc/net/tcp`, `tcp6`,
//! `udp`, `udp6`), `socket:[INODE]` fd links, the `Uid:` line of `/proc/PID/status` and
//! the root mount of `/proc/self/mountinfo`. Every input goes to all of them.
//!
//! Checks: at most one listening socket per line, never more than `MAX_SOCKETS`; the
//! protocol is the table's and the address family the table's; every address prints and
//! parses back to itself; a socket link's inode is the number between its brackets; the root
//! mount comes from a line whose mount point is `/`.

#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use ward_agent::posture::disk::parse_mountinfo;
use ward_agent::posture::sockets::{
    MAX_SOCKETS, Table, parse_socket_link, parse_status_uid, parse_table,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    for table in Table::ALL {
        let entries = parse_table(&text, table);
        assert!(entries.len() <= lines.min(MAX_SOCKETS));
        for e in &entries {
            assert_eq!(e.protocol, table.protocol());
            let v6 = matches!(table, Table::Tcp6 | Table::Udp6);
            assert_eq!(e.address.is_ipv6(), v6, "{e:?}");
            let back: IpAddr = e.address.to_string().parse().expect("address prints back");
            assert_eq!(back, e.address);
        }
    }
    for line in text.lines() {
        if let Some(inode) = parse_socket_link(line) {
            let inner = line
                .strip_prefix("socket:[")
                .and_then(|l| l.strip_suffix(']'))
                .expect("only socket:[...] links have an inode");
            assert_eq!(
                inner.trim_start_matches('+').parse::<u64>().ok(),
                Some(inode)
            );
        }
    }
    if let Some(uid) = parse_status_uid(&text) {
        assert!(text.lines().any(|l| l.starts_with("Uid:")), "{uid}");
    }
    if let Some(mount) = parse_mountinfo(&text) {
        assert!(
            !mount.dev.contains(' ') && !mount.fs_type.contains(' '),
            "{mount:?}"
        );
        assert!(text.lines().any(|l| l.contains(" / ") && l.contains(" - ")));
    }
});
