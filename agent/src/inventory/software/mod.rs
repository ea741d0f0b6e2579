//! Installed software: asks each package manager present under the root for its
//! packages. dpkg today; rpm, apk and pacman take their place beside it.

pub mod apk;
pub mod dpkg;
pub mod macos;
pub mod pacman;
pub mod rpm;
pub mod windows;

use ward_proto::v1 as pb;

use super::root::Root;

/// Errors reading a package database that exists but cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The dpkg database could not be read.
    #[error(transparent)]
    Dpkg(#[from] dpkg::Error),
    /// The rpm database could not be read.
    #[error(transparent)]
    Rpm(#[from] rpm::Error),
    /// apk's installed database could not be read.
    #[error(transparent)]
    Apk(#[from] apk::Error),
    /// pacman's local database could not be read.
    #[error(transparent)]
    Pacman(#[from] pacman::Error),
}

/// Collects the packages of every package manager found under `root`, in no particular
/// order. A package manager that is absent contributes nothing.
pub(crate) fn collect(root: &Root) -> Result<pb::Software, Error> {
    let mut packages = Vec::new();
    if let Some(found) = dpkg::read(root)? {
        packages.extend(found);
    }
    if let Some(found) = rpm::read(root)? {
        packages.extend(found);
    }
    if let Some(found) = apk::read(root)? {
        packages.extend(found);
    }
    if let Some(found) = pacman::read(root)? {
        packages.extend(found);
    }
    // Windows and macOS: read through the OS's own tools, only for the live system.
    #[cfg(target_os = "windows")]
    packages.extend(windows::read(root));
    #[cfg(target_os = "macos")]
    packages.extend(macos::read(root));
    Ok(pb::Software { packages })
}
