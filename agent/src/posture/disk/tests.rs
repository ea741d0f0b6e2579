use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    symlink(target, p).unwrap();
}

/// A block device in sysfs: /sys/class/block/NAME (and /sys/block/NAME for whole
/// devices), its dm name and uuid, and the devices below it.
fn device(root: &Path, name: &str, dm: Option<(&str, &str)>, slaves: &[&str]) {
    let dir = format!("sys/devices/virtual/block/{name}");
    std::fs::create_dir_all(root.join(&dir)).unwrap();
    if let Some((dm_name, uuid)) = dm {
        write(root, &format!("{dir}/dm/name"), &format!("{dm_name}\n"));
        write(root, &format!("{dir}/dm/uuid"), &format!("{uuid}\n"));
    }
    std::fs::create_dir_all(root.join(format!("{dir}/slaves"))).unwrap();
    for s in slaves {
        link(root, &format!("{dir}/slaves/{s}"), &format!("../../{s}"));
    }
    let target = format!("../../devices/virtual/block/{name}");
    link(root, &format!("sys/class/block/{name}"), &target);
    link(
        root,
        &format!("sys/block/{name}"),
        &format!("../devices/virtual/block/{name}"),
    );
}

/// Root on LVM (dm-1, `vg-root`) on LUKS2 (dm-0) on vda3.
fn luks_under_lvm(root: &Path, mountinfo: &str) {
    write(root, "proc/self/mountinfo", mountinfo);
    device(root, "vda3", None, &[]);
    device(
        root,
        "dm-0",
        Some((
            "luks-7f3a",
            "CRYPT-LUKS2-7f3a0c1e2b3d4e5f60718293a4b5c6d7-luks-7f3a",
        )),
        &["vda3"],
    );
    device(
        root,
        "dm-1",
        Some((
            "vg-root",
            "LVM-Xb3kq0Jd2Vb8yE1mH9fQ6cYkA0sT5uWzR4nL7pDgI2oC1eV6xM8jN3hK0tB9",
        )),
        &["dm-0"],
    );
    link(
        root,
        "sys/dev/block/254:1",
        "../../devices/virtual/block/dm-1",
    );
}

const MOUNTINFO_LVM: &str = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
    27 1 254:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vg-root rw,errors=remount-ro\n\
    30 27 8:1 / /boot rw,relatime - ext4 /dev/vda2 rw\n";

#[test]
fn luks_below_lvm_is_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    luks_under_lvm(dir.path(), MOUNTINFO_LVM);
    let d = read(&Root::new(dir.path()));
    assert_eq!(d.root_device, "/dev/mapper/vg-root");
    assert!(d.known && d.root_encrypted, "{d:?}");
    assert_eq!(d.scheme, "luks");
}

#[test]
fn btrfs_anonymous_device_numbers_resolve_by_mapper_name() {
    let dir = tempfile::tempdir().unwrap();
    luks_under_lvm(
        dir.path(),
        "27 1 0:31 /@ / rw,relatime - btrfs /dev/mapper/vg-root rw,subvol=/@\n",
    );
    let d = read(&Root::new(dir.path()));
    assert!(d.known && d.root_encrypted, "{d:?}");
}

#[test]
fn a_plain_partition_is_not_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "proc/self/mountinfo",
        "27 1 254:0 / / rw - ext4 /dev/vda rw\n",
    );
    device(r, "vda", None, &[]);
    let d = read(&Root::new(r));
    assert_eq!(d.root_device, "/dev/vda");
    assert!(d.known && !d.root_encrypted, "{d:?}");
    assert_eq!(d.scheme, "");
}

#[test]
fn containers_and_missing_sys_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "proc/self/mountinfo",
        "500 400 0:52 / / rw - overlay overlay rw,lowerdir=/var/lib/docker/a\n",
    );
    device(r, "vda", None, &[]);
    let d = read(&Root::new(r));
    assert_eq!((d.known, d.root_device.as_str()), (false, "overlay"));

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "proc/self/mountinfo", MOUNTINFO_LVM);
    assert!(!read(&Root::new(dir.path())).known);
    assert!(!read(&Root::new(Path::new("/nonexistent"))).known);
}

#[test]
fn mountinfo_parsing() {
    let m = parse_mountinfo(
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\
         2 1 8:2 / / rw shared:1 master:2 - xfs /dev/with\\040space rw\n\
         garbage\n\
         3 1 8:3 / /home rw - ext4 /dev/sda3 rw\n",
    )
    .unwrap();
    assert_eq!(m.dev, "8:2");
    assert_eq!(m.fs_type, "xfs");
    assert_eq!(m.source, "/dev/with space");
    assert_eq!(
        parse_mountinfo("3 1 8:3 / /home rw - ext4 /dev/sda3 rw\n"),
        None
    );
}

#[test]
fn crypt_schemes() {
    assert_eq!(
        crypt_scheme("CRYPT-LUKS1-abc-name").as_deref(),
        Some("luks")
    );
    assert_eq!(crypt_scheme("CRYPT-PLAIN-name").as_deref(), Some("plain"));
    assert_eq!(crypt_scheme("CRYPT-BITLK-x").as_deref(), Some("bitlk"));
    assert_eq!(crypt_scheme("LVM-abc"), None);
    assert_eq!(crypt_scheme("mpath-3600"), None);
}
