//! Canonical section hashes: BLAKE3 of the protobuf encoding of a section in canonical
//! order. prost encodes fields in tag order and repeated fields in element order, and the
//! section messages hold no maps, so equal canonical sections encode to equal bytes.

use prost::Message;

use crate::v1 as pb;

/// Length of a section hash in bytes.
pub const HASH_LEN: usize = 32;

/// A section's content hash.
pub type Hash = [u8; HASH_LEN];

/// Returns the hash of any message already in canonical order.
pub fn of_message<M: Message>(msg: &M) -> Hash {
    *blake3::hash(&msg.encode_to_vec()).as_bytes()
}

/// Returns the hash of an os section.
pub fn os(os: &pb::OsInfo) -> Hash {
    of_message(os)
}

/// Sorts the lists of a hardware section into canonical order.
pub fn canonicalize_hardware(hw: &mut pb::Hardware) {
    hw.filesystems
        .sort_by(|a, b| (&a.mount_point, &a.device).cmp(&(&b.mount_point, &b.device)));
    hw.block_devices.sort_by(|a, b| a.name.cmp(&b.name));
    hw.interfaces.sort_by(|a, b| a.name.cmp(&b.name));
    for iface in &mut hw.interfaces {
        iface.addresses.sort();
    }
    hw.gpus.sort_by(|a, b| a.card.cmp(&b.card));
}

/// Returns the hash of a hardware section (which must be canonical).
pub fn hardware(hw: &pb::Hardware) -> Hash {
    of_message(hw)
}

/// Returns the key that orders and identifies a package in a software section.
pub fn package_key(p: &pb::Package) -> pb::PackageKey {
    pb::PackageKey {
        name: p.name.clone(),
        arch: p.arch.clone(),
        version: p.version.clone(),
        source: p.source.clone(),
    }
}

/// A package's identity inside a software section, borrowed: (name, arch, version, source).
pub type KeyRef<'a> = (&'a str, &'a str, &'a str, &'a str);

/// Returns the borrowed identity that orders and identifies a package.
pub fn key_ref(p: &pb::Package) -> KeyRef<'_> {
    (&p.name, &p.arch, &p.version, &p.source)
}

/// Sorts packages into canonical order and drops exact duplicate keys (keeping the last).
pub fn canonicalize_software(sw: &mut pb::Software) {
    sw.packages.sort_by(|a, b| key_ref(a).cmp(&key_ref(b)));
    // Keep the last of equal keys so that an upsert placed after the original wins.
    let mut out: Vec<pb::Package> = Vec::with_capacity(sw.packages.len());
    for p in sw.packages.drain(..) {
        match out.last_mut() {
            Some(last) if key_ref(last) == key_ref(&p) => *last = p,
            _ => out.push(p),
        }
    }
    sw.packages = out;
}

/// Returns the hash of a software section (which must be canonical).
pub fn software(sw: &pb::Software) -> Hash {
    of_message(sw)
}

/// A pending update's identity inside a patches section, borrowed: (name, arch, source).
pub type PendingKeyRef<'a> = (&'a str, &'a str, &'a str);

/// Returns the borrowed identity that orders and identifies a pending update.
pub fn pending_key_ref(p: &pb::PendingUpdate) -> PendingKeyRef<'_> {
    (&p.name, &p.arch, &p.source)
}

/// Returns the key that identifies a pending update in a patches delta.
pub fn pending_key(p: &pb::PendingUpdate) -> pb::PendingKey {
    pb::PendingKey {
        name: p.name.clone(),
        arch: p.arch.clone(),
        source: p.source.clone(),
    }
}

/// Sorts the lists of a patches section into canonical order: pending updates by key
/// (exact duplicate keys dropped, keeping the last), their suites, advisories and CVEs,
/// the restart list by unit with sorted pids and files, and the package and manager lists.
pub fn canonicalize_patches(p: &mut pb::Patches) {
    p.pending
        .sort_by(|a, b| pending_key_ref(a).cmp(&pending_key_ref(b)));
    let mut pending: Vec<pb::PendingUpdate> = Vec::with_capacity(p.pending.len());
    for u in p.pending.drain(..) {
        match pending.last_mut() {
            Some(last) if pending_key_ref(last) == pending_key_ref(&u) => *last = u,
            _ => pending.push(u),
        }
    }
    for u in &mut pending {
        u.suites.sort();
        u.suites.dedup();
        for a in &mut u.advisories {
            a.cves.sort();
            a.cves.dedup();
        }
        u.advisories.sort_by(|a, b| a.id.cmp(&b.id));
    }
    p.pending = pending;
    p.reboot_required_packages.sort();
    p.reboot_required_packages.dedup();
    for r in &mut p.restart_needed {
        r.pids.sort_unstable();
        r.pids.dedup();
        r.files.sort();
        r.files.dedup();
    }
    p.restart_needed.sort_by(|a, b| a.unit.cmp(&b.unit));
    p.managers.sort();
    p.managers.dedup();
}

/// Returns the hash of a patches section (which must be canonical).
pub fn patches(p: &pb::Patches) -> Hash {
    of_message(p)
}

/// Sorts the lists of a posture section into canonical order and drops exact duplicates:
/// sockets by (protocol, address, port, executable, process, uid), accounts by (name, uid),
/// admins by (group, user), keys by (user, file, fingerprint, options), and the string
/// lists.
pub fn canonicalize_posture(p: &mut pb::Posture) {
    p.listening.sort_by(|a, b| {
        (
            &a.protocol,
            &a.address,
            a.port,
            &a.executable,
            &a.process,
            a.uid,
        )
            .cmp(&(
                &b.protocol,
                &b.address,
                b.port,
                &b.executable,
                &b.process,
                b.uid,
            ))
    });
    p.listening.dedup();
    p.privileged_accounts.sort_by(|a, b| {
        (&a.name, a.uid, &a.home, &a.shell).cmp(&(&b.name, b.uid, &b.home, &b.shell))
    });
    p.privileged_accounts.dedup();
    p.admins
        .sort_by(|a, b| (&a.group, &a.user).cmp(&(&b.group, &b.user)));
    p.admins.dedup();
    p.authorized_keys.sort_by(|a, b| {
        (
            &a.user,
            &a.file,
            &a.fingerprint,
            &a.options,
            &a.key_type,
            &a.comment,
        )
            .cmp(&(
                &b.user,
                &b.file,
                &b.fingerprint,
                &b.options,
                &b.key_type,
                &b.comment,
            ))
    });
    p.authorized_keys.dedup();
    if let Some(sshd) = p.sshd.as_mut() {
        sshd.match_overrides.sort();
        sshd.match_overrides.dedup();
        // `files` keeps the order sshd reads them in: it is part of the facts.
    }
    if let Some(k) = p.kernel.as_mut() {
        k.sysctls.sort();
        k.sysctls.dedup();
    }
    p.errors.sort();
    p.errors.dedup();
}

/// Returns the hash of a posture section (which must be canonical).
pub fn posture(p: &pb::Posture) -> Hash {
    of_message(p)
}

/// Formats a hash as lowercase hex, for logs and JSON.
pub fn to_hex(hash: &[u8]) -> String {
    use std::fmt::Write;
    hash.iter()
        .fold(String::with_capacity(hash.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(name: &str, candidate: &str) -> pb::PendingUpdate {
        pb::PendingUpdate {
            name: name.into(),
            arch: "amd64".into(),
            source: "deb".into(),
            installed_version: "1".into(),
            candidate_version: candidate.into(),
            suites: vec!["b".into(), "a".into(), "a".into()],
            ..Default::default()
        }
    }

    #[test]
    fn patches_hash_ignores_list_order() {
        let mut a = pb::Patches {
            pending: vec![pending("z", "2"), pending("a", "2")],
            managers: vec!["apt".into()],
            restart_needed: vec![pb::Restart {
                unit: "b".into(),
                pids: vec![3, 1],
                files: vec![],
            }],
            ..Default::default()
        };
        let mut b = a.clone();
        b.pending.reverse();
        b.restart_needed[0].pids.reverse();
        canonicalize_patches(&mut a);
        canonicalize_patches(&mut b);
        assert_eq!(patches(&a), patches(&b));
        assert_eq!(a.pending[0].name, "a");
        assert_eq!(a.pending[0].suites, vec!["a", "b"]);
        let mut c = a.clone();
        c.pending[1].candidate_version = "3".into();
        assert_ne!(patches(&a), patches(&c));
    }

    fn pkg(name: &str, version: &str) -> pb::Package {
        pb::Package {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            source: "deb".into(),
            state: "installed".into(),
            ..Default::default()
        }
    }

    #[test]
    fn software_hash_ignores_input_order() {
        let mut a = pb::Software {
            packages: vec![pkg("b", "1"), pkg("a", "2")],
        };
        let mut b = pb::Software {
            packages: vec![pkg("a", "2"), pkg("b", "1")],
        };
        canonicalize_software(&mut a);
        canonicalize_software(&mut b);
        assert_eq!(software(&a), software(&b));
        assert_eq!(a.packages[0].name, "a");
    }

    #[test]
    fn software_hash_sees_a_version_change() {
        let a = pb::Software {
            packages: vec![pkg("a", "1")],
        };
        let b = pb::Software {
            packages: vec![pkg("a", "2")],
        };
        assert_ne!(software(&a), software(&b));
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        let mut first = pkg("a", "1");
        first.state = "config-files".into();
        let mut sw = pb::Software {
            packages: vec![first, pkg("a", "1")],
        };
        canonicalize_software(&mut sw);
        assert_eq!(sw.packages.len(), 1);
        assert_eq!(sw.packages[0].state, "installed");
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(to_hex(&[0xab, 0x01]), "ab01");
    }
}
