//! macOS installed software: application bundles as System Information lists them
//! (`system_profiler SPApplicationsDataType -json`, source "app") and the receipts of
//! installer packages (`pkgutil --pkgs`, then `pkgutil --pkg-info-plist <id>`, source
//! "pkg").
//!
//! Everything here but [`read`] and [`run`] is plain parsing, compiled and tested on every
//! platform. Those two run the tools and exist only on macOS; they are not compiled by
//! this project's CI, which has no macOS target (see `docs/platforms.md`).

use serde_json::Value as Json;
use ward_proto::v1 as pb;

/// Errors reading a tool's output.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// system_profiler's output is not JSON.
    #[error("system_profiler output is not valid json: {0}")]
    Json(#[from] serde_json::Error),
    /// system_profiler's JSON has no `SPApplicationsDataType` list.
    #[error("system_profiler output has no SPApplicationsDataType list")]
    NoApplications,
    /// A property list did not parse.
    #[error("{what} is not a valid property list: {source}")]
    Plist {
        /// Whose output it was.
        what: &'static str,
        /// Why it did not parse.
        source: plist::Error,
    },
    /// A property list is not the dictionary expected.
    #[error("{what} is not a dictionary with {key}")]
    Shape {
        /// Whose output it was.
        what: &'static str,
        /// The key that is missing.
        key: &'static str,
    },
}

/// One application as `system_profiler SPApplicationsDataType -json` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct App {
    /// `_name`: the bundle's display name.
    pub name: String,
    /// `version` (CFBundleShortVersionString); empty when the bundle has none.
    pub version: String,
    /// `path` of the `.app` bundle.
    pub path: String,
    /// `obtained_from`: "apple", "mac_app_store", "identified_developer", "unknown".
    pub obtained_from: String,
    /// `arch_kind`: "arch_arm_i64" (Universal), "arch_arm", "arch_i64", "arch_ios", ...
    pub arch_kind: String,
    /// `lastModified` (ISO 8601, UTC).
    pub last_modified: String,
    /// `info` (CFBundleGetInfoString), often a copyright line.
    pub info: String,
    /// `signed_by`: the code signature's certificate chain, leaf first.
    pub signed_by: Vec<String>,
}

/// One installer package receipt, as `pkgutil --pkg-info-plist` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// `pkgid` ("com.apple.pkg.CLTools_Executables").
    pub id: String,
    /// `pkg-version`.
    pub version: String,
    /// `volume` the package was installed on ("/").
    pub volume: String,
    /// `install-location`, relative to the volume.
    pub location: String,
    /// `install-time`, Unix seconds.
    pub install_time: Option<i64>,
}

impl App {
    /// Returns true for an application on the system volume. System Information lists
    /// every bundle Spotlight indexed, including those on other volumes (`/Volumes/...`:
    /// external disks, mounted installer images, backups) and in the Trash, which are not
    /// installed on this machine.
    pub fn is_installed(&self) -> bool {
        !self.path.starts_with("/Volumes/") && !self.path.contains("/.Trash/")
    }

    /// Returns the architecture of the bundle's code: "universal" (Apple silicon and
    /// Intel), "arm64", "x86_64", "i386", "ppc", "ios" (an iPhone or iPad app); empty when
    /// System Information does not know ("arch_other", web apps).
    pub fn arch(&self) -> &'static str {
        match self.arch_kind.as_str() {
            "arch_arm_i64" => "universal",
            "arch_arm" => "arm64",
            // Intel only; with a 32-bit slice too, the 64-bit one is what can run.
            "arch_i64" | "arch_i32_i64" => "x86_64",
            "arch_i32" => "i386",
            "arch_ppc" => "ppc",
            "arch_ios" => "ios",
            _ => "",
        }
    }

    /// Returns who signed the application: the developer named by a Developer ID
    /// certificate ("Developer ID Application: Google LLC (EQHXZ8M8AV)" gives "Google
    /// LLC"), "Apple Inc." for Apple's own signature ("Software Signing"); empty otherwise
    /// (the App Store's signature does not name the developer, unsigned apps none).
    pub fn vendor(&self) -> String {
        let Some(leaf) = self.signed_by.first() else {
            return String::new();
        };
        if let Some(rest) = leaf.strip_prefix("Developer ID Application:") {
            // The team id in parentheses ends the name.
            let name = match rest.rsplit_once(" (") {
                Some((name, team)) if team.ends_with(')') => name,
                _ => rest,
            };
            return name.trim().to_owned();
        }
        if leaf == "Software Signing" {
            return "Apple Inc.".to_owned();
        }
        String::new()
    }

    /// Returns the application as a package of source "app", vendor [`App::vendor`]. No
    /// install time: `lastModified` is when the bundle last changed, which an update or a
    /// copy also changes.
    pub fn to_package(&self) -> pb::Package {
        pb::Package {
            name: self.name.clone(),
            version: self.version.clone(),
            arch: self.arch().to_owned(),
            source: "app".to_owned(),
            state: "installed".to_owned(),
            vendor: self.vendor(),
            ..Default::default()
        }
    }
}

impl Receipt {
    /// Returns the receipt as a package of source "pkg", named by its package id, with
    /// its install time. Receipts record no architecture, size or vendor.
    pub fn to_package(&self) -> pb::Package {
        pb::Package {
            name: self.id.clone(),
            version: self.version.clone(),
            source: "pkg".to_owned(),
            state: "installed".to_owned(),
            install_time: self.install_time.unwrap_or(0),
            ..Default::default()
        }
    }
}

/// Parses `system_profiler SPApplicationsDataType -json` into its applications; entries
/// without a name are skipped. Never panics, whatever the input.
pub fn parse_applications(bytes: &[u8]) -> Result<Vec<App>, Error> {
    let json: Json = serde_json::from_slice(bytes)?;
    let list = json
        .get("SPApplicationsDataType")
        .and_then(Json::as_array)
        .ok_or(Error::NoApplications)?;
    Ok(list
        .iter()
        .filter_map(Json::as_object)
        .filter_map(|o| {
            let text = |key| {
                o.get(key)
                    .and_then(Json::as_str)
                    .map(one_line)
                    .unwrap_or_default()
            };
            let name = text("_name");
            (!name.is_empty()).then(|| App {
                name,
                version: text("version"),
                path: text("path"),
                obtained_from: text("obtained_from"),
                arch_kind: text("arch_kind"),
                last_modified: text("lastModified"),
                info: text("info"),
                signed_by: o
                    .get("signed_by")
                    .and_then(Json::as_array)
                    .map(|chain| {
                        chain
                            .iter()
                            .filter_map(Json::as_str)
                            .map(one_line)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// Returns the packages of the installed applications (see [`App::is_installed`]), one
/// per (name, arch, version): the same version of an app in two places is listed once.
pub fn app_packages(apps: &[App]) -> Vec<pb::Package> {
    let mut out: Vec<pb::Package> = apps
        .iter()
        .filter(|a| a.is_installed())
        .map(App::to_package)
        .collect();
    out.sort_by(|a, b| (&a.name, &a.arch, &a.version).cmp(&(&b.name, &b.arch, &b.version)));
    out.dedup_by(|a, b| (&a.name, &a.arch, &a.version) == (&b.name, &b.arch, &b.version));
    out
}

/// Parses `pkgutil --pkgs` (one package id a line) into the ids. Lines starting with `-`
/// are dropped, so that no id is ever read as an option when passed back to pkgutil.
pub fn parse_pkg_ids(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|id| !id.is_empty() && !id.starts_with('-') && !id.contains(char::is_control))
        .map(str::to_owned)
        .collect()
}

/// Parses `pkgutil --pkg-info-plist <id>` (an XML property list; binary ones are read
/// too) into a receipt. Never panics, whatever the input.
pub fn parse_pkg_info(bytes: &[u8]) -> Result<Receipt, Error> {
    const WHAT: &str = "pkgutil --pkg-info-plist output";
    let dict = plist_dict(bytes, WHAT)?;
    let text = |key| {
        dict.get(key)
            .and_then(plist::Value::as_string)
            .map(one_line)
            .unwrap_or_default()
    };
    let id = text("pkgid");
    if id.is_empty() {
        return Err(Error::Shape {
            what: WHAT,
            key: "pkgid",
        });
    }
    let install_time = dict.get("install-time").and_then(|v| {
        v.as_signed_integer()
            .or_else(|| v.as_unsigned_integer().and_then(|u| i64::try_from(u).ok()))
    });
    Ok(Receipt {
        id,
        version: text("pkg-version"),
        volume: text("volume"),
        location: text("install-location"),
        install_time,
    })
}

/// Parses a property list whose top level must be a dictionary.
pub(crate) fn plist_dict(bytes: &[u8], what: &'static str) -> Result<plist::Dictionary, Error> {
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|source| Error::Plist { what, source })?;
    value.into_dictionary().ok_or(Error::Shape {
        what,
        key: "a dictionary",
    })
}

/// Reads this machine's applications and package receipts; nothing for another root
/// (the tools only describe the running system). Failures are logged and give nothing.
#[cfg(target_os = "macos")]
pub(crate) fn read(root: &crate::inventory::root::Root) -> Vec<pb::Package> {
    let mut out = Vec::new();
    if !root.is_live() {
        return out;
    }
    if let Some(o) = run(
        "/usr/sbin/system_profiler",
        &["SPApplicationsDataType", "-json"],
    ) {
        match parse_applications(&o.stdout) {
            Ok(apps) => out.extend(app_packages(&apps)),
            Err(e) => tracing::warn!(error = %e, "applications not read"),
        }
    }
    if let Some(o) = run("/usr/sbin/pkgutil", &["--pkgs"]) {
        for id in parse_pkg_ids(&o.stdout) {
            let Some(info) = run("/usr/sbin/pkgutil", &["--pkg-info-plist", &id]) else {
                continue;
            };
            match parse_pkg_info(&info.stdout) {
                Ok(receipt) => out.push(receipt.to_package()),
                Err(e) => tracing::warn!(pkg = %id, error = %e, "package receipt not read"),
            }
        }
    }
    out
}

/// Runs `program` and returns its output when it exits with success, or `None` after
/// logging why not.
#[cfg(target_os = "macos")]
pub(crate) fn run(program: &str, args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Some(out),
        Ok(out) => {
            tracing::warn!(program, status = %out.status, stderr = %String::from_utf8_lossy(&out.stderr).trim(), "command failed");
            None
        }
        Err(e) => {
            tracing::warn!(program, error = %e, "command did not start");
            None
        }
    }
}

/// Trims and turns control characters into spaces, so that every value prints on one
/// line.
pub(crate) fn one_line(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests;
