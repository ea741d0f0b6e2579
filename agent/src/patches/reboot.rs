//! Whether the system asks for a reboot: Debian and Ubuntu's `reboot-required` flag file
//! and the packages listed in `reboot-required.pkgs` beside it.

use std::path::Path;

/// Where the flag lives, relative to the root: `/run` and its legacy `/var/run` alias
/// (a real directory in fixture roots and images that are not booted).
const DIRS: [&str; 2] = ["run", "var/run"];

/// Returns whether `root` has a `reboot-required` flag, and the package names listed in
/// `reboot-required.pkgs` (sorted, without duplicates; unreadable or absent lists give
/// none).
pub fn read(root: &Path) -> (bool, Vec<String>) {
    let mut required = false;
    let mut packages: Vec<String> = Vec::new();
    for dir in DIRS {
        let dir = root.join(dir);
        if dir.join("reboot-required").exists() {
            required = true;
        }
        if let Ok(bytes) = std::fs::read(dir.join("reboot-required.pkgs")) {
            packages.extend(
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    packages.sort();
    packages.dedup();
    (required, packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_and_packages_are_read_and_deduplicated() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), (false, vec![]));
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        std::fs::create_dir_all(dir.path().join("var/run")).unwrap();
        std::fs::write(
            dir.path().join("run/reboot-required"),
            "*** System restart required ***\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("run/reboot-required.pkgs"),
            "linux-image-6.1.0-40-amd64\nlibc6\n\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("var/run/reboot-required.pkgs"),
            b"libc6\r\n\xff\n",
        )
        .unwrap();
        let (required, pkgs) = read(dir.path());
        assert!(required);
        assert_eq!(
            pkgs,
            vec!["libc6", "linux-image-6.1.0-40-amd64", "\u{fffd}"]
        );
    }
}
