//! Package version ordering, in each package format's own rules. The agent uses it to
//! pick candidate versions; the collector to answer "which hosts have S below version V",
//! each host's packages in their own format's order; wardctl to check a version early.
//!
//! | format   | rules                                              | module        |
//! |----------|----------------------------------------------------|---------------|
//! | `deb`    | dpkg (`lib/dpkg/version.c`)                        | [`deb`]       |
//! | `rpm`    | rpm 4.18 (`rpmio/rpmvercmp.c`, `rpmio/rpmver.c`)   | [`rpm`]       |
//! | `apk`    | apk-tools 3 (`src/version.c`)                      | [`apk`]       |
//! | `pacman` | libalpm `alpm_pkg_vercmp` (`lib/libalpm/version.c`) | [`pacman`]    |

pub mod apk;
pub mod deb;
pub mod pacman;
pub mod rpm;

use std::cmp::Ordering;

/// Package formats (`Package::source`) whose version ordering is implemented.
pub const SUPPORTED_FORMATS: &[&str] = &["deb", "rpm", "apk", "pacman"];

/// Why two versions could not be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The package format has no ordering implemented.
    #[error(
        "cannot order {format:?} package versions: only {} ordering is implemented",
        SUPPORTED_FORMATS.join(", ")
    )]
    UnsupportedFormat { format: String },
    /// A version does not parse in its format.
    #[error("invalid version {version:?}: {reason}")]
    Invalid { version: String, reason: String },
}

/// Compares two versions of packages in format `source` ("deb", ...) in that format's
/// ordering.
pub fn compare(source: &str, a: &str, b: &str) -> Result<Ordering, Error> {
    match source {
        "deb" => Ok(deb::parse(a)?.cmp(&deb::parse(b)?)),
        "rpm" => Ok(rpm::parse(a)?.cmp(&rpm::parse(b)?)),
        // apk and pacman order any string, as their tools do (see the modules).
        "apk" => Ok(apk::compare(a, b)),
        "pacman" => Ok(pacman::compare(a, b)),
        other => Err(unsupported(other)),
    }
}

/// Returns whether `version` sorts strictly below `bound` in format `source`.
pub fn is_below(source: &str, version: &str, bound: &str) -> Result<bool, Error> {
    compare(source, version, bound).map(Ordering::is_lt)
}

/// Checks that `version` is a valid version in format `source`.
pub fn validate(source: &str, version: &str) -> Result<(), Error> {
    match source {
        "deb" => deb::parse(version).map(drop),
        "rpm" => rpm::parse(version).map(drop),
        "apk" => apk::validate(version),
        "pacman" => pacman::validate(version),
        other => Err(unsupported(other)),
    }
}

fn unsupported(format: &str) -> Error {
    Error::UnsupportedFormat {
        format: format.to_string(),
    }
}

/// Builds the error for a version that does not parse.
pub(crate) fn invalid(version: &str, reason: &str) -> Error {
    Error::Invalid {
        version: version.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_formats_are_refused_by_name() {
        for format in ["msi", ""] {
            let err = compare(format, "1", "2").unwrap_err();
            assert_eq!(
                err,
                Error::UnsupportedFormat {
                    format: format.into()
                }
            );
            assert!(err.to_string().contains(&format!("{format:?}")), "{err}");
            assert!(validate(format, "1").is_err());
        }
    }
}
