//! Listening sockets: the kernel's socket tables (`/proc/net/tcp`, `tcp6`, `udp`,
//! `udp6`) and the processes that hold them, found through the `socket:[INODE]` links in
//! `/proc/PID/fd`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ward_proto::v1 as pb;

use super::{Error, read_capped};
use crate::inventory::root::Root;

/// Listening sockets kept per table; a machine with more is reported with this many.
pub const MAX_SOCKETS: usize = 16_384;
/// Bytes read of one socket table (a busy server's tcp table, with every connection, is
/// tens of MiB; only its listening lines are kept).
const MAX_TABLE_BYTES: u64 = 256 << 20;
/// Processes whose descriptors are walked.
const MAX_PROCESSES: usize = 65_536;
/// Descriptors looked at in one process, and in all of them.
const MAX_FDS_PER_PROCESS: usize = 65_536;
const MAX_FDS: usize = 1 << 21;

/// A socket table of `/proc/net`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `/proc/net/tcp`.
    Tcp,
    /// `/proc/net/tcp6`.
    Tcp6,
    /// `/proc/net/udp`.
    Udp,
    /// `/proc/net/udp6`.
    Udp6,
}

impl Table {
    /// Every table, in the order they are read.
    pub const ALL: [Table; 4] = [Table::Tcp, Table::Tcp6, Table::Udp, Table::Udp6];

    /// Returns the table's file, relative to the root.
    pub fn file(self) -> &'static str {
        match self {
            Table::Tcp => "proc/net/tcp",
            Table::Tcp6 => "proc/net/tcp6",
            Table::Udp => "proc/net/udp",
            Table::Udp6 => "proc/net/udp6",
        }
    }

    /// Returns the protocol as the posture section names it ("tcp" or "udp").
    pub fn protocol(self) -> &'static str {
        match self {
            Table::Tcp | Table::Tcp6 => "tcp",
            Table::Udp | Table::Udp6 => "udp",
        }
    }

    fn ipv6(self) -> bool {
        matches!(self, Table::Tcp6 | Table::Udp6)
    }
}

/// A listening socket as one table line describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// "tcp" or "udp".
    pub protocol: &'static str,
    /// The bound address.
    pub address: IpAddr,
    /// The bound port.
    pub port: u16,
    /// The socket's inode, which names it in `/proc/PID/fd` links.
    pub inode: u64,
}

/// The process holding a socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    /// The lowest pid holding it.
    pub pid: u32,
    /// `/proc/PID/comm`.
    pub comm: String,
    /// The target of `/proc/PID/exe`.
    pub exe: String,
    /// The real user id from `/proc/PID/status`; -1 when not known.
    pub uid: i64,
}

/// Parses one line of a socket table; `Some` only for a socket that listens: TCP in state
/// `0A` (LISTEN), UDP in state `07` (unconnected) with no remote address.
pub fn parse_line(line: &str, table: Table) -> Option<Entry> {
    let mut fields = line.split_ascii_whitespace();
    let slot = fields.next()?;
    if !slot.ends_with(':') {
        return None; // the header line
    }
    let local = fields.next()?;
    let remote = fields.next()?;
    let state = fields.next()?;
    // tx:rx queues, timer, retransmits, uid, timeout, then the inode.
    let inode = fields.nth(5)?.parse::<u64>().ok()?;
    let listening = match table.protocol() {
        "tcp" => state == "0A",
        _ => {
            state == "07"
                && parse_address(remote, table.ipv6())
                    .is_some_and(|(a, p)| a.is_unspecified() && p == 0)
        }
    };
    if !listening {
        return None;
    }
    let (address, port) = parse_address(local, table.ipv6())?;
    Some(Entry {
        protocol: table.protocol(),
        address,
        port,
        inode,
    })
}

/// Parses a whole socket table, keeping at most [`MAX_SOCKETS`] listening entries.
pub fn parse_table(text: &str, table: Table) -> Vec<Entry> {
    text.lines()
        .filter_map(|l| parse_line(l, table))
        .take(MAX_SOCKETS)
        .collect()
}

/// Parses `ADDR:PORT` in the kernel's hex: IPv4 is one 32-bit word, IPv6 four, each
/// printed as the host sees the word in memory (network-order bytes read as a
/// native-endian integer: little-endian on the machines Ward runs on).
pub fn parse_address(text: &str, ipv6: bool) -> Option<(IpAddr, u16)> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    if !port_is_hex(text) {
        return None;
    }
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = addr.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let address = if ipv6 {
        if addr.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for i in 0..4 {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
        }
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        if addr.len() != 8 {
            return None;
        }
        IpAddr::V4(Ipv4Addr::from(word(0)?))
    };
    Some((address, port))
}

/// `from_str_radix` accepts a leading `+`; the kernel never prints one.
fn port_is_hex(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

/// Returns the inode of a `socket:[INODE]` descriptor link target.
pub fn parse_socket_link(target: &str) -> Option<u64> {
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Returns the real user id of a `/proc/PID/status` text (its `Uid:` line's first value).
pub fn parse_status_uid(text: &str) -> Option<i64> {
    text.lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Reads the listening sockets under `root`, each with the process that holds it (the
/// lowest pid, when several do: a prefork server's workers share one socket).
pub(crate) fn read(root: &Root) -> Result<Vec<pb::ListeningSocket>, Error> {
    let mut entries = Vec::new();
    for table in Table::ALL {
        entries.extend(read_table(root, table)?);
    }
    let inodes: HashSet<u64> = entries
        .iter()
        .map(|e| e.inode)
        .filter(|i| *i != 0)
        .collect();
    let owners = owners(root, &inodes);
    let mut seen = HashSet::new();
    Ok(entries
        .into_iter()
        // One entry per socket (the same inode appears once per table anyway).
        .filter(|e| e.inode == 0 || seen.insert(e.inode))
        .map(|e| {
            let owner = owners.get(&e.inode).cloned().unwrap_or(Owner {
                uid: -1,
                ..Owner::default()
            });
            pb::ListeningSocket {
                protocol: e.protocol.to_owned(),
                address: e.address.to_string(),
                port: u32::from(e.port),
                process: owner.comm,
                executable: owner.exe,
                uid: owner.uid,
            }
        })
        .collect())
}

/// Streams one table, keeping its listening lines; a missing table (no IPv6, or a root
/// without `/proc`) has none.
fn read_table(root: &Root, table: Table) -> Result<Vec<Entry>, Error> {
    let path = root.join(table.file());
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Read { path, source }),
    };
    let mut entries = Vec::new();
    let mut reader = BufReader::new(file.take(MAX_TABLE_BYTES));
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(source) => return Err(Error::Read { path, source }),
        }
        if let Some(entry) = parse_line(&line, table) {
            if entries.len() == MAX_SOCKETS {
                tracing::warn!(path = %path.display(), max = MAX_SOCKETS, "too many listening sockets; the rest are left out");
                break;
            }
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// Finds the owner of each socket in `inodes`: processes are walked in ascending pid
/// order, so the first holder found is the lowest pid, and the walk stops once every
/// socket has one.
fn owners(root: &Root, inodes: &HashSet<u64>) -> HashMap<u64, Owner> {
    let mut owners = HashMap::new();
    if inodes.is_empty() {
        return owners;
    }
    let Ok(dir) = std::fs::read_dir(root.join("proc")) else {
        return owners;
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .take(MAX_PROCESSES * 2)
        .collect();
    pids.sort_unstable();
    pids.truncate(MAX_PROCESSES);
    let mut fds_seen = 0usize;
    for pid in pids {
        if owners.len() == inodes.len() || fds_seen >= MAX_FDS {
            break;
        }
        let Ok(fds) = std::fs::read_dir(root.join(&format!("proc/{pid}/fd"))) else {
            continue; // gone, or another user's process
        };
        let mut found = Vec::new();
        for fd in fds.filter_map(|e| e.ok()).take(MAX_FDS_PER_PROCESS) {
            fds_seen += 1;
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            if let Some(inode) = target.to_str().and_then(parse_socket_link)
                && inodes.contains(&inode)
                && !owners.contains_key(&inode)
            {
                found.push(inode);
            }
        }
        if found.is_empty() {
            continue;
        }
        let owner = owner(root, pid);
        for inode in found {
            owners.insert(inode, owner.clone());
        }
    }
    owners
}

/// Reads what the posture section says of process `pid`.
fn owner(root: &Root, pid: u32) -> Owner {
    let comm = read_capped(root, &format!("proc/{pid}/comm"), 4096)
        .ok()
        .flatten()
        .map(|b| {
            String::from_utf8_lossy(&b)
                .trim_end_matches('\n')
                .to_owned()
        })
        .unwrap_or_default();
    let exe = root
        .read_link(&format!("proc/{pid}/exe"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let uid = read_capped(root, &format!("proc/{pid}/status"), 64 << 10)
        .ok()
        .flatten()
        .and_then(|b| parse_status_uid(&String::from_utf8_lossy(&b)))
        .unwrap_or(-1);
    Owner {
        pid,
        comm,
        exe,
        uid,
    }
}

#[cfg(test)]
mod tests;
