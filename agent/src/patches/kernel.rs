//! Kernels: the one running (`proc/sys/kernel/osrelease`) and the newest installed
//! `linux-image-*` package in dpkg's status.

use ward_proto::v1 as pb;

/// Returns the newest installed kernel among `packages` (dpkg's status), by dpkg version
/// ordering: its kernel release string (`6.1.0-18-amd64`) when the package name carries
/// one, else the package version. Meta packages (`linux-image-amd64`) and debug symbols
/// only count when nothing else names a release.
pub fn newest(packages: &[pb::Package]) -> Option<String> {
    let mut best: Option<(bool, debversion::Version, String)> = None;
    for p in packages {
        if p.state != "installed" {
            continue;
        }
        let Some(suffix) = p.name.strip_prefix("linux-image-") else {
            continue;
        };
        if suffix.ends_with("-dbg") || suffix.ends_with("-dbgsym") {
            continue;
        }
        let Ok(version) = ward_version::deb::parse(&p.version) else {
            continue;
        };
        let release = release_of(suffix);
        let named = release.is_some();
        let shown = release.unwrap_or_else(|| p.version.clone());
        let better = match &best {
            None => true,
            Some((b_named, b_version, _)) => (named, &version) > (*b_named, b_version),
        };
        if better {
            best = Some((named, version, shown));
        }
    }
    best.map(|(_, _, shown)| shown)
}

/// The kernel release in a `linux-image-` package name suffix: `6.1.0-18-amd64`,
/// `unsigned-5.15.0-91-generic` and `6.1.0-18-amd64-unsigned` name one; `amd64` does not.
fn release_of(suffix: &str) -> Option<String> {
    let s = suffix.strip_prefix("unsigned-").unwrap_or(suffix);
    let s = s.strip_suffix("-unsigned").unwrap_or(s);
    s.starts_with(|c: char| c.is_ascii_digit())
        .then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str) -> pb::Package {
        pb::Package {
            name: name.into(),
            version: version.into(),
            state: "installed".into(),
            ..Default::default()
        }
    }

    #[test]
    fn newest_by_dpkg_order_named_by_release() {
        let pkgs = vec![
            pkg("linux-image-amd64", "6.1.158-1"),
            pkg("linux-image-6.1.0-9-amd64", "6.1.27-1"),
            pkg("linux-image-6.1.0-40-amd64", "6.1.153-1"),
            pkg("linux-image-6.1.0-10-amd64", "6.1.38-1"),
            pkg("linux-image-6.1.0-40-amd64-dbg", "6.1.160-1"),
            pkg("bash", "9"),
        ];
        assert_eq!(newest(&pkgs).as_deref(), Some("6.1.0-40-amd64"));
    }

    #[test]
    fn falls_back_to_the_version_and_to_none() {
        assert_eq!(
            newest(&[pkg("linux-image-cloud-amd64", "6.1.158-1")]).as_deref(),
            Some("6.1.158-1")
        );
        assert_eq!(newest(&[pkg("bash", "1")]), None);
        assert_eq!(
            newest(&[pkg(
                "linux-image-unsigned-5.15.0-91-generic",
                "5.15.0-91.101"
            )])
            .as_deref(),
            Some("5.15.0-91-generic")
        );
    }
}
