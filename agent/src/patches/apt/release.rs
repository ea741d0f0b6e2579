//! apt's Release files (`var/lib/apt/lists/*_InRelease` or `*_Release`): which archive a
//! list belongs to (origin, label, suite, codename) and whether apt installs from it
//! automatically; plus apt's file naming that ties a Packages list to its Release file.

use std::collections::BTreeSet;

/// What a Release file says about its archive; absent fields are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    /// `Origin`, e.g. "Debian".
    pub origin: String,
    /// `Label`, e.g. "Debian-Security".
    pub label: String,
    /// `Suite`, apt's "archive" (`a=`), e.g. "bookworm-security" or "oldstable".
    pub suite: String,
    /// `Codename` (`n=`), e.g. "bookworm".
    pub codename: String,
    /// `Version` (`v=`), e.g. "12.4".
    pub version: String,
    /// `NotAutomatic: yes`: apt installs from it only when asked (priority 1).
    pub not_automatic: bool,
    /// `ButAutomaticUpgrades: yes`: upgrades installed packages from it (priority 100).
    pub but_automatic_upgrades: bool,
}

/// Where a Packages list sits in its archive, from its file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The Release file name (`..._InRelease` or `..._Release`), when one exists.
    pub release_file: Option<String>,
    /// The component (`c=`), e.g. "main"; empty for flat repositories.
    pub component: String,
    /// The architecture of the list (`b=`), e.g. "amd64"; empty for flat repositories.
    pub arch: String,
    /// The host the list was fetched from (apt's "origin" for `Pin: origin`); empty for
    /// `file:` and `cdrom:` sources.
    pub site: String,
}

/// Parses a Release or InRelease file. The clear-signed armor of an InRelease is stripped
/// and the signature is not checked: apt checked it when it stored the file.
pub fn parse(bytes: &[u8]) -> Release {
    let text = String::from_utf8_lossy(bytes);
    let body = strip_clearsign(&text);
    let mut release = Release::default();
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            // The Release fields are the first stanza; nothing after it is read by apt.
            if release != Release::default() {
                break;
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_owned();
        match name.trim().to_ascii_lowercase().as_str() {
            "origin" => release.origin = value,
            "label" => release.label = value,
            "suite" => release.suite = value,
            "codename" => release.codename = value,
            "version" => release.version = value,
            "notautomatic" => release.not_automatic = yes(&value),
            "butautomaticupgrades" => release.but_automatic_upgrades = yes(&value),
            _ => {}
        }
    }
    release
}

/// Locates the Packages list `list` (its file name without compression suffix) given the
/// names of the files in the lists directory.
///
/// apt names a list after its URI with `/` turned into `_`:
/// `<host>_<path>_dists_<suite>_<component>_binary-<arch>_Packages` belongs to
/// `<host>_<path>_dists_<suite>_InRelease`; a flat repository's `<host>_<path>_Packages` to
/// `<host>_<path>_InRelease`. Components and suites may themselves hold `/` (now `_`), so
/// the longest prefix that has a Release file wins. InRelease is preferred to Release, as
/// apt does.
pub fn locate(list: &str, files: &BTreeSet<String>) -> Location {
    let base = list.strip_suffix("_Packages").unwrap_or(list);
    let (base, arch) = match base.rsplit_once('_') {
        Some((rest, last)) if last.starts_with("binary-") => {
            (rest, last.trim_start_matches("binary-").to_owned())
        }
        _ => (base, String::new()),
    };
    let site = site(base);
    let mut cuts: Vec<usize> = base.match_indices('_').map(|(i, _)| i).collect();
    cuts.push(base.len());
    for &cut in cuts.iter().rev() {
        let prefix = &base[..cut];
        for suffix in ["_InRelease", "_Release"] {
            let candidate = format!("{prefix}{suffix}");
            if files.contains(&candidate) {
                let component = base[cut..].trim_start_matches('_').replace('_', "/");
                return Location {
                    release_file: Some(candidate),
                    component: unescape(&component),
                    arch,
                    site,
                };
            }
        }
    }
    Location {
        release_file: None,
        component: String::new(),
        arch,
        site,
    }
}

/// Returns the body of a PGP clear-signed message, or the text itself when unsigned.
fn strip_clearsign(text: &str) -> String {
    if !text
        .trim_start()
        .starts_with("-----BEGIN PGP SIGNED MESSAGE-----")
    {
        return text.to_owned();
    }
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN PGP"));
    lines.next();
    // Armor headers ("Hash: SHA256") end at the first blank line.
    let mut lines = lines.skip_while(|l| !l.trim().is_empty());
    lines.next();
    let mut body = String::with_capacity(text.len());
    for line in lines {
        if line.starts_with("-----BEGIN PGP SIGNATURE-----") {
            break;
        }
        // RFC 4880 dash-escaping.
        body.push_str(line.strip_prefix("- ").unwrap_or(line));
        body.push('\n');
    }
    body
}

fn yes(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "yes" | "true" | "with" | "on" | "enable"
    )
}

/// The host part of a list name: `deb.debian.org_debian_dists_...` gives `deb.debian.org`;
/// a `file:` list (`_srv_repo_...`) has none.
fn site(base: &str) -> String {
    let host = base.split('_').next().unwrap_or_default();
    let host = unescape(host);
    // apt keeps a user name in the file name as "user@host"; the site is the host.
    let host = host.rsplit('@').next().unwrap_or_default();
    host.to_owned()
}

/// Undoes apt's `%xx` quoting of file name characters.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INRELEASE: &str = "-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Origin: Debian
Label: Debian-Security
Suite: oldstable-security
Version: 12
Codename: bookworm-security
Date: Sun, 22 Nov 2026 02:09:05 UTC
Components: updates/main
SHA256:
 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855        0 main/Contents-all
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCgAdFiEE
-----END PGP SIGNATURE-----
";

    #[test]
    fn parses_a_clear_signed_inrelease() {
        let r = parse(INRELEASE.as_bytes());
        assert_eq!(r.origin, "Debian");
        assert_eq!(r.label, "Debian-Security");
        assert_eq!(r.suite, "oldstable-security");
        assert_eq!(r.codename, "bookworm-security");
        assert_eq!(r.version, "12");
        assert!(!r.not_automatic && !r.but_automatic_upgrades);
    }

    #[test]
    fn parses_flags_of_a_plain_release() {
        let r = parse(b"Origin: Debian Backports\nSuite: bookworm-backports\nNotAutomatic: yes\nButAutomaticUpgrades: yes\n");
        assert_eq!(r.origin, "Debian Backports");
        assert!(r.not_automatic && r.but_automatic_upgrades);
    }

    #[test]
    fn locates_release_files_by_apt_naming() {
        let files: BTreeSet<String> = [
            "deb.debian.org_debian-security_dists_bookworm-security_InRelease",
            "deb.debian.org_debian_dists_bookworm_InRelease",
            "deb.debian.org_debian_dists_bookworm_Release",
            "repo.example_flat_Release",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let l = locate(
            "deb.debian.org_debian-security_dists_bookworm-security_updates_main_binary-amd64_Packages",
            &files,
        );
        assert_eq!(
            l.release_file.as_deref(),
            Some("deb.debian.org_debian-security_dists_bookworm-security_InRelease")
        );
        assert_eq!(l.component, "updates/main");
        assert_eq!(l.arch, "amd64");
        assert_eq!(l.site, "deb.debian.org");
        let l = locate(
            "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
            &files,
        );
        assert_eq!(
            l.release_file.as_deref(),
            Some("deb.debian.org_debian_dists_bookworm_InRelease")
        );
        let l = locate("repo.example_flat_Packages", &files);
        assert_eq!(l.release_file.as_deref(), Some("repo.example_flat_Release"));
        assert_eq!(l.component, "");
        let l = locate("_srv_repo_Packages", &files);
        assert_eq!(l.release_file, None);
        assert_eq!(l.site, "");
    }
}
