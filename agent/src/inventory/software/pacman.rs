//! pacman's local database (`/var/lib/pacman/local`): which Arch Linux packages are
//! installed, at which version.
//!
//! Each installed package has a directory `<name>-<pkgver>-<pkgrel>` (with the epoch,
//! if any, before the pkgver) holding a `desc` file: sections headed `%NAME%`,
//! `%VERSION%`, `%BASE%`, `%ARCH%`, `%SIZE%`, `%GROUPS%`, `%INSTALLDATE%`, `%REASON%`,
//! `%VALIDATION%` and more, each followed by one value per line and a blank line. The
//! sync databases' entries use the same `desc` format, so [`parse_desc`] reads both.

use std::io;
use std::path::PathBuf;

use ward_proto::v1 as pb;

use crate::inventory::root::Root;

/// Location of the local database, relative to the root (pacman's default `DBPath`).
pub const LOCAL: &str = "var/lib/pacman/local";

/// Errors reading pacman's local database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database directory or a package's `desc` exists but cannot be read.
    #[error(
        "failed to read pacman's local database at {}: {source}; pacman keeps it readable \
         by all users (files 0644, directories 0755), so restore that or run the agent as \
         a user that can read it",
        path.display()
    )]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
}

/// The fields of a `desc` entry that Ward uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desc {
    /// `%NAME%`.
    pub name: String,
    /// `%VERSION%`: `[epoch:]pkgver-pkgrel`.
    pub version: String,
    /// `%BASE%`: the PKGBUILD the package was built from, empty when not given.
    pub base: String,
    /// `%ARCH%` (`x86_64`, `any`).
    pub arch: String,
    /// `%SIZE%` in a local entry and `%ISIZE%` in a sync entry: installed bytes, 0 when
    /// not given.
    pub installed_size: u64,
    /// `%GROUPS%`.
    pub groups: Vec<String>,
    /// `%INSTALLDATE%` (Unix seconds) in a local entry, 0 when not given.
    pub install_date: i64,
    /// `%PACKAGER%`, empty when not given.
    pub packager: String,
}

/// Reads the packages of pacman's local database under `root`; `None` when there is no
/// pacman database.
pub(crate) fn read(root: &Root) -> Result<Option<Vec<pb::Package>>, Error> {
    Ok(read_local(root)?.map(|descs| descs.iter().map(Desc::to_package).collect()))
}

/// Reads every entry of pacman's local database under `root`, in directory-name order;
/// `None` when there is no pacman database.
///
/// A package directory without a `desc` (pacman writes `desc` while installing) is
/// skipped with a warning, as is a `desc` without a name or version.
pub(crate) fn read_local(root: &Root) -> Result<Option<Vec<Desc>>, Error> {
    let dir = root.join(LOCAL);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Read { path: dir, source }),
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Read {
            path: dir.clone(),
            source,
        })?;
        // ALPM_DB_VERSION and stray files sit beside the package directories.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    let mut descs = Vec::with_capacity(dirs.len());
    for pkg_dir in dirs {
        let path = pkg_dir.join("desc");
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(path = %pkg_dir.display(), "pacman package directory without desc skipped");
                continue;
            }
            Err(source) => return Err(Error::Read { path, source }),
        };
        match parse_desc(&bytes) {
            Some(desc) => descs.push(desc),
            None => {
                tracing::warn!(path = %path.display(), "pacman desc without %NAME% or %VERSION% skipped");
            }
        }
    }
    Ok(Some(descs))
}

/// Parses a `desc` file; `None` when it has no `%NAME%` or no `%VERSION%`.
///
/// A section is a `%KEY%` line followed by value lines, up to a blank line or the next
/// `%KEY%` line (no value pacman writes has that shape). A section given twice keeps its
/// first values; single-valued sections keep their first line. Bytes that are not UTF-8
/// are replaced. Never panics.
pub fn parse_desc(bytes: &[u8]) -> Option<Desc> {
    let text = String::from_utf8_lossy(bytes);
    let mut desc = Desc::default();
    let mut seen: Vec<&str> = Vec::new();
    // The section being read, or None between sections and in a repeated one.
    let mut section: Option<&str> = None;
    let mut single_read = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(key) = line
            .strip_prefix('%')
            .and_then(|l| l.strip_suffix('%'))
            .filter(|k| !k.is_empty())
        {
            section = (!seen.contains(&key)).then_some(key);
            seen.push(key);
            single_read = false;
            continue;
        }
        if line.is_empty() {
            section = None;
            continue;
        }
        let Some(key) = section else {
            continue;
        };
        let value = line.trim_ascii();
        if key == "GROUPS" {
            desc.groups.push(value.to_owned());
            continue;
        }
        if single_read {
            continue;
        }
        single_read = true;
        match key {
            "NAME" => desc.name = value.to_owned(),
            "VERSION" => desc.version = value.to_owned(),
            "BASE" => desc.base = value.to_owned(),
            "ARCH" => desc.arch = value.to_owned(),
            "SIZE" | "ISIZE" => desc.installed_size = value.parse().unwrap_or(0),
            "INSTALLDATE" => desc.install_date = value.parse().unwrap_or(0),
            "PACKAGER" => desc.packager = value.to_owned(),
            _ => single_read = false,
        }
    }
    (!desc.name.is_empty() && !desc.version.is_empty()).then_some(desc)
}

impl Desc {
    /// Returns the entry as an installed package (`source` "pacman").
    ///
    /// `version` is the full `[epoch:]pkgver-pkgrel`; `epoch` and `release` (pkgrel) are
    /// split out as libalpm splits them, empty when absent; `source_package` is `%BASE%`
    /// when it differs from the name.
    pub fn to_package(&self) -> pb::Package {
        let evr = ward_version::pacman::split(&self.version);
        pb::Package {
            name: self.name.clone(),
            version: self.version.clone(),
            arch: self.arch.clone(),
            source: "pacman".to_owned(),
            source_package: if self.base == self.name {
                String::new()
            } else {
                self.base.clone()
            },
            installed_size: self.installed_size,
            state: "installed".to_owned(),
            epoch: evr.epoch.unwrap_or_default().to_owned(),
            release: evr.release.unwrap_or_default().to_owned(),
            install_time: self.install_date,
            vendor: self.packager.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A local `desc` as pacman 6 writes it (a split package with an epoch).
    const DESC: &str = "\
%NAME%
libcurl-compat

%VERSION%
1:8.8.0-1

%BASE%
curl

%DESC%
command line tool and library for transferring data with URLs (no versioned symbols)

%URL%
https://curl.se

%ARCH%
x86_64

%BUILDDATE%
1716962093

%INSTALLDATE%
1717404215

%PACKAGER%
Christian Hesse <eworm@archlinux.org>

%SIZE%
1148133

%GROUPS%
base-devel
extra-tools

%REASON%
1

%LICENSE%
MIT

%VALIDATION%
pgp

%DEPENDS%
curl
openssl

";

    #[test]
    fn reads_the_fields_and_splits_the_version() {
        let desc = parse_desc(DESC.as_bytes()).unwrap();
        assert_eq!(
            desc,
            Desc {
                name: "libcurl-compat".into(),
                version: "1:8.8.0-1".into(),
                base: "curl".into(),
                arch: "x86_64".into(),
                installed_size: 1_148_133,
                groups: vec!["base-devel".into(), "extra-tools".into()],
                install_date: 1_717_404_215,
                packager: "Christian Hesse <eworm@archlinux.org>".into(),
            }
        );
        let p = desc.to_package();
        assert_eq!(
            (
                &*p.source,
                &*p.source_package,
                &*p.epoch,
                &*p.release,
                &*p.state
            ),
            ("pacman", "curl", "1", "1", "installed")
        );
    }

    #[test]
    fn base_equal_to_name_is_left_out_and_no_epoch_is_empty() {
        let p = parse_desc(b"%NAME%\nbash\n\n%VERSION%\n5.2.026-2\n\n%BASE%\nbash\n")
            .unwrap()
            .to_package();
        assert_eq!((&*p.source_package, &*p.epoch, &*p.release), ("", "", "2"));
    }

    #[test]
    fn needs_name_and_version_and_ignores_repeats_and_stray_lines() {
        assert_eq!(parse_desc(b"%NAME%\nbash\n"), None);
        assert_eq!(parse_desc(b"%VERSION%\n1-1\n"), None);
        assert_eq!(parse_desc(b""), None);
        let desc = parse_desc(
            b"stray\n%NAME%\r\nbash\r\nksh\r\n\r\n%NAME%\nzsh\n\n%VERSION%\n1-1\n%SIZE%\nbig\n",
        )
        .unwrap();
        assert_eq!((&*desc.name, desc.installed_size), ("bash", 0));
    }

    #[test]
    fn local_database_directories_without_desc_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        assert!(read(&root).unwrap().is_none());
        let local = dir.path().join(LOCAL);
        std::fs::create_dir_all(local.join("bash-5.2.026-2")).unwrap();
        std::fs::create_dir_all(local.join("half-1-1")).unwrap();
        std::fs::write(local.join("ALPM_DB_VERSION"), "9\n").unwrap();
        std::fs::write(
            local.join("bash-5.2.026-2/desc"),
            "%NAME%\nbash\n\n%VERSION%\n5.2.026-2\n\n%ARCH%\nx86_64\n",
        )
        .unwrap();
        let pkgs = read(&root).unwrap().unwrap();
        assert_eq!(pkgs.len(), 1);
        assert_eq!((&*pkgs[0].name, &*pkgs[0].arch), ("bash", "x86_64"));
    }
}
