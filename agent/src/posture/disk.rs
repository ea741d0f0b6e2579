//! Encryption of the root file system: the device `/` is mounted from
//! (`/proc/self/mountinfo`), then down through device-mapper (`/sys/class/block/NAME/dm`,
//! `slaves/`) to a dm-crypt device, directly or below LVM or RAID.

use ward_proto::v1 as pb;

use super::read_capped;
use crate::inventory::root::Root;

/// Bytes read of mountinfo.
const MAX_MOUNTINFO: u64 = 16 << 20;
/// Devices visited below the root device.
const MAX_DEVICES: usize = 64;
/// Levels followed below the root device.
const MAX_DEPTH: usize = 8;
/// File systems that are not on a block device of this machine (containers).
const NOT_BLOCK: [&str; 8] = [
    "overlay",
    "tmpfs",
    "aufs",
    "fuse-overlayfs",
    "rootfs",
    "ramfs",
    "9p",
    "virtiofs",
];

/// The mount of `/` as mountinfo describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootMount {
    /// `MAJOR:MINOR` of the mounted device.
    pub dev: String,
    /// The file system type.
    pub fs_type: String,
    /// The mount source ("/dev/mapper/root", "/dev/vda1", "overlay").
    pub source: String,
}

/// Returns the mount of `/` in a mountinfo text: the last one (a later mount on `/`
/// hides the earlier ones).
pub fn parse_mountinfo(text: &str) -> Option<RootMount> {
    text.lines().rev().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let left: Vec<&str> = left.split(' ').collect();
        let dev = *left.get(2)?;
        let mount_point = *left.get(4)?;
        if mount_point != "/" {
            return None;
        }
        let mut right = right.split(' ');
        Some(RootMount {
            dev: dev.to_owned(),
            fs_type: right.next()?.to_owned(),
            source: unescape(right.next().unwrap_or("")),
        })
    })
}

/// mountinfo escapes blanks and backslashes as `\ooo`.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(octal) = bytes.get(i + 1..i + 4)
            && let Ok(text) = std::str::from_utf8(octal)
            && let Ok(b) = u8::from_str_radix(text, 8)
        {
            out.push(b);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The scheme of a device-mapper UUID: `CRYPT-LUKS2-...` and `CRYPT-LUKS1-...` are
/// "luks", `CRYPT-PLAIN-...` "plain", other `CRYPT-` targets (BitLocker, TCRYPT) their
/// lower-cased type; `None` for anything that is not dm-crypt (LVM, multipath).
pub fn crypt_scheme(dm_uuid: &str) -> Option<String> {
    let rest = dm_uuid.trim().strip_prefix("CRYPT-")?;
    let kind = rest.split('-').next().unwrap_or("");
    Some(if kind.starts_with("LUKS") {
        "luks".to_owned()
    } else {
        kind.to_ascii_lowercase()
    })
}

/// Reads the root file system's encryption under `root`.
pub(crate) fn read(root: &Root) -> pb::DiskEncryption {
    let unknown = |root_device: String| pb::DiskEncryption {
        root_device,
        known: false,
        ..Default::default()
    };
    let Some(mount) = read_capped(root, "proc/self/mountinfo", MAX_MOUNTINFO)
        .ok()
        .flatten()
        .and_then(|b| parse_mountinfo(&String::from_utf8_lossy(&b)))
    else {
        return unknown(String::new());
    };
    if NOT_BLOCK.contains(&mount.fs_type.as_str()) || root.list_dir("sys/class/block").is_empty() {
        return unknown(mount.source);
    }
    let Some(name) = block_name(root, &mount) else {
        return unknown(mount.source);
    };
    let root_device = match root.read_value(&format!("sys/class/block/{name}/dm/name")) {
        Some(dm_name) => format!("/dev/mapper/{dm_name}"),
        None if mount.source.starts_with("/dev/") => mount.source.clone(),
        None => format!("/dev/{name}"),
    };
    let mut visited = 0;
    let scheme = find_crypt(root, &name, 0, &mut visited);
    pb::DiskEncryption {
        root_device,
        root_encrypted: scheme.is_some(),
        scheme: scheme.unwrap_or_default(),
        known: true,
    }
}

/// The kernel's name of the root's block device ("dm-0", "vda2"): from the device number
/// (`/sys/dev/block/MAJ:MIN`), else from the mount source (btrfs reports an anonymous
/// device number), `/dev/mapper/NAME` through the dm names.
fn block_name(root: &Root, mount: &RootMount) -> Option<String> {
    if let Some(link) = root.read_link(&format!("sys/dev/block/{}", mount.dev)) {
        let name = crate::inventory::root::basename(&link);
        if !name.is_empty() {
            return Some(name);
        }
    }
    let source = mount.source.as_str();
    if let Some(dm_name) = source.strip_prefix("/dev/mapper/") {
        return root
            .list_dir("sys/block")
            .into_iter()
            .filter(|n| n.starts_with("dm-"))
            .find(|n| {
                root.read_value(&format!("sys/block/{n}/dm/name"))
                    .as_deref()
                    == Some(dm_name)
            });
    }
    let name = source.strip_prefix("/dev/")?;
    (!name.contains('/') && root.exists(&format!("sys/class/block/{name}")))
        .then(|| name.to_owned())
}

/// Walks from `name` down its `slaves/` to a dm-crypt device; its scheme when found.
fn find_crypt(root: &Root, name: &str, depth: usize, visited: &mut usize) -> Option<String> {
    *visited += 1;
    if depth > MAX_DEPTH || *visited > MAX_DEVICES || name.contains('/') || name.starts_with('.') {
        return None;
    }
    if let Some(scheme) = root
        .read_value(&format!("sys/class/block/{name}/dm/uuid"))
        .and_then(|u| crypt_scheme(&u))
    {
        return Some(scheme);
    }
    root.list_dir(&format!("sys/class/block/{name}/slaves"))
        .iter()
        .find_map(|slave| find_crypt(root, slave, depth + 1, visited))
}

#[cfg(test)]
mod tests;
