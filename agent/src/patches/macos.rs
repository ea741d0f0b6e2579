//! macOS pending updates: what `softwareupdate --list` offers (macOS 12 to 15 print the
//! same list), judged security or not against the running macOS version read from
//! `SystemVersion.plist`.
//!
//! Everything but [`collect`] is plain parsing, compiled and tested on every platform;
//! [`collect`] runs softwareupdate and exists only on macOS, where this project's CI does
//! not compile (see `docs/platforms.md`).

use ward_proto::v1 as pb;

use crate::inventory::software::macos::{one_line, plist_dict};

/// Where the running macOS version is recorded, relative to the root.
pub const SYSTEM_VERSION: &str = "System/Library/CoreServices/SystemVersion.plist";

/// The line softwareupdate prints before its list.
pub const FOUND: &str = "Software Update found the following new or updated software:";

/// The line softwareupdate prints when nothing is pending.
pub const NONE: &str = "No new software available.";

/// Words in a label or title that mark a security release: the security updates of
/// older macOS releases ("Security Update 2022-004 Catalina"), Rapid Security Responses
/// ("macOS Security Response 13.4.1 (a)") and their successor, Background Security
/// Improvements.
pub const SECURITY_MARKERS: [&str; 4] = [
    "Security Update",
    "Security Response",
    "Rapid Security Response",
    "Background Security Improvement",
];

/// One item softwareupdate offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// `Label`: what `softwareupdate --install` takes ("macOS Sonoma 14.5-23F79").
    pub label: String,
    /// `Title` ("macOS Sonoma 14.5").
    pub title: String,
    /// `Version` ("14.5").
    pub version: String,
    /// `Size` in KiB.
    pub size_kib: Option<u64>,
    /// `Recommended: YES`.
    pub recommended: bool,
    /// `Action` ("restart", "shut down"); empty when none is given.
    pub action: String,
}

/// Errors reading softwareupdate's output.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The output holds neither the list nor the "nothing pending" line.
    #[error("softwareupdate printed neither a list nor \"{NONE}\": {0}")]
    Unrecognised(String),
}

impl Update {
    /// Returns true when installing the update restarts the Mac (`Action: restart`, or
    /// `shut down` for firmware).
    pub fn restarts(&self) -> bool {
        let a = self.action.to_ascii_lowercase();
        a.contains("restart") || a.contains("shut down")
    }

    /// Returns true when the update is a security release by the rule of this module:
    /// its label or title holds one of the [`SECURITY_MARKERS`], or it is a macOS update
    /// within the running major version (`running`, such as "14.4.1"), since Apple ships
    /// the security fixes of a macOS release in its minor and patch updates. An upgrade to
    /// another major version, Safari, the Command Line Tools and other items are not, as
    /// is any macOS update when the running version is unknown.
    pub fn is_security(&self, running: Option<&str>) -> bool {
        let marked = SECURITY_MARKERS
            .iter()
            .any(|m| contains_ignore_case(&self.label, m) || contains_ignore_case(&self.title, m));
        marked || (self.is_macos() && running.is_some_and(|r| major(r) == major(&self.version)))
    }

    /// Returns true for an update of macOS itself (title "macOS ...").
    pub fn is_macos(&self) -> bool {
        self.title.starts_with("macOS ") && !self.version.is_empty()
    }

    /// Returns the name to track the update by: the title without a trailing version
    /// ("macOS Sonoma 14.5" gives "macOS Sonoma"), so that the name stays the same from
    /// one release to the next.
    pub fn name(&self) -> String {
        let name = self
            .title
            .strip_suffix(self.version.as_str())
            .filter(|t| !self.version.is_empty() && t.ends_with(' '))
            .unwrap_or(&self.title)
            .trim();
        if name.is_empty() {
            self.label.clone()
        } else {
            name.to_owned()
        }
    }

    /// Returns the pending update: [`Update::name`], candidate version `Version`, source
    /// "pkg", security by [`Update::is_security`], and for a macOS update within the
    /// running major version that version as the installed one.
    pub fn to_pending(&self, running: Option<&str>) -> pb::PendingUpdate {
        let installed = match running {
            Some(r) if self.is_macos() && major(r) == major(&self.version) => r.to_owned(),
            _ => String::new(),
        };
        pb::PendingUpdate {
            name: self.name(),
            installed_version: installed,
            candidate_version: self.version.clone(),
            source: "pkg".to_owned(),
            security: self.is_security(running),
            ..Default::default()
        }
    }
}

/// Parses the output of `softwareupdate --list` (standard output and error together:
/// the list goes to one, "No new software available." to the other). Returns no updates
/// for that line, the updates for a list, and an error for anything else (a network
/// error message, an unknown format), so that a failure does not read as nothing
/// pending. Never panics, whatever the input.
pub fn parse_list(bytes: &[u8]) -> Result<Vec<Update>, ListError> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = false;
    let mut none = false;
    let mut updates: Vec<Update> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed == FOUND {
            found = true;
        } else if trimmed == NONE {
            none = true;
        } else if let Some(label) = trimmed.strip_prefix("* Label:") {
            found = true;
            updates.push(Update {
                label: one_line(label),
                ..Default::default()
            });
        } else if let Some(update) = updates.last_mut()
            && trimmed.starts_with("Title:")
        {
            fill(update, trimmed);
        }
    }
    // A "* Label:" line with nothing after it names nothing.
    updates.retain(|u| !u.label.is_empty() || !u.title.is_empty());
    if found || none {
        Ok(updates)
    } else {
        let first = text.lines().map(str::trim).find(|l| {
            !l.is_empty() && *l != "Software Update Tool" && *l != "Finding available software"
        });
        Err(ListError::Unrecognised(one_line(
            first.unwrap_or("no output"),
        )))
    }
}

/// Returns the pending updates, one per name: when several versions of one item are
/// offered (Command Line Tools for two Xcode releases), the highest.
pub fn pending(updates: &[Update], running: Option<&str>) -> Vec<pb::PendingUpdate> {
    let mut out: Vec<pb::PendingUpdate> = Vec::new();
    for u in updates {
        let p = u.to_pending(running);
        match out.iter_mut().find(|o| o.name == p.name) {
            Some(o) if compare_versions(&p.candidate_version, &o.candidate_version).is_gt() => {
                *o = p;
            }
            Some(_) => {}
            None => out.push(p),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Returns `ProductVersion` from `SystemVersion.plist` ("14.4.1"), or `None`.
pub fn parse_system_version(bytes: &[u8]) -> Option<String> {
    let dict = plist_dict(bytes, "SystemVersion.plist").ok()?;
    let version = one_line(dict.get("ProductVersion")?.as_string()?);
    (!version.is_empty()).then_some(version)
}

/// Adds this machine's pending updates to `out`; nothing for another root. Failures are
/// logged, and leave "softwareupdate" out of `managers`.
///
/// `--no-scan` lists what the last scan found (macOS scans on its own schedule), so that
/// the agent adds no network traffic and does not wait on Apple's servers, as the apt
/// path reads the lists apt last fetched.
#[cfg(target_os = "macos")]
pub(crate) fn collect(root: &crate::inventory::root::Root, out: &mut pb::Patches) {
    if !root.is_live() {
        return;
    }
    let running = root
        .read(SYSTEM_VERSION)
        .and_then(|b| parse_system_version(&b));
    let Some(o) = crate::inventory::software::macos::run(
        "/usr/sbin/softwareupdate",
        &["--list", "--no-scan"],
    ) else {
        return;
    };
    let mut both = o.stdout;
    both.push(b'\n');
    both.extend_from_slice(&o.stderr);
    match parse_list(&both) {
        Ok(updates) => {
            out.pending.extend(pending(&updates, running.as_deref()));
            out.managers.push("softwareupdate".to_owned());
        }
        Err(e) => tracing::warn!(error = %e, "pending macOS updates not read"),
    }
}

/// Fills an update from its `Title: .., Version: .., Size: ..K, Recommended: YES,
/// Action: restart,` line. Fields are split at ", " followed by a `Word:`, so that a
/// title with a comma in it stays whole.
fn fill(update: &mut Update, line: &str) {
    let mut fields: Vec<(String, String)> = Vec::new();
    for part in line.split(", ") {
        let field = part.split_once(':').filter(|(k, _)| {
            !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
                && k.starts_with(|c: char| c.is_ascii_uppercase())
        });
        match (field, fields.last_mut()) {
            (Some((k, v)), _) => fields.push((k.to_owned(), v.to_owned())),
            (None, Some((_, v))) => {
                v.push_str(", ");
                v.push_str(part);
            }
            (None, None) => {}
        }
    }
    for (k, v) in fields {
        let v = one_line(v.trim_end_matches(','));
        match k.as_str() {
            "Title" => update.title = v,
            "Version" => update.version = v,
            "Size" => update.size_kib = size_kib(&v),
            "Recommended" => update.recommended = v.eq_ignore_ascii_case("YES"),
            "Action" => update.action = v,
            _ => {}
        }
    }
}

/// Parses a size as softwareupdate writes it ("6654733K", "711802KiB"; other units
/// scaled) into KiB.
fn size_kib(s: &str) -> Option<u64> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = s[digits.len()..].trim().to_ascii_uppercase();
    match unit.as_str() {
        "K" | "KB" | "KIB" => Some(n),
        "M" | "MB" | "MIB" => n.checked_mul(1024),
        "G" | "GB" | "GIB" => n.checked_mul(1024 * 1024),
        "" | "B" => Some(n / 1024),
        _ => None,
    }
}

/// Returns the major version ("14" of "14.4.1"); the whole string when it has no dot.
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version).trim()
}

/// Orders versions by their dot-separated parts, numerically where both are numbers.
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let mut a = a.split('.');
    let mut b = b.split('.');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if ord.is_ne() {
                    return ord;
                }
            }
        }
    }
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
