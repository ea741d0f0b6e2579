//! Windows pending updates and reboot state: the Windows Update Agent's search for
//! updates neither installed nor hidden, and the registry keys Windows keeps while a
//! reboot is pending, read by one PowerShell script ([`SCRIPT`]) whose JSON is parsed here.
//!
//! Everything but [`collect`] is plain parsing, compiled and tested on every platform;
//! [`collect`] runs the script and exists only on Windows, where this project's CI does
//! not compile (see `docs/platforms.md`).

use serde_json::Value as Json;
use ward_proto::v1 as pb;

use crate::inventory::software::windows::{
    Error, json_day, json_items, json_text, normalize_key, one_line,
};

/// The update classification "Security Updates" (language-independent id; the names the
/// agent receives are localised).
pub const SECURITY_UPDATES: &str = "0fa1201d-4330-4fa8-8ae9-b877473b6441";

/// Update classifications by id, with the English names Microsoft gives them.
pub const CLASSIFICATIONS: [(&str, &str); 10] = [
    (SECURITY_UPDATES, "Security Updates"),
    ("e6cf1350-c01b-414d-a61f-263d14d133b4", "Critical Updates"),
    ("e0789628-ce08-4437-be74-2495b842f43b", "Definition Updates"),
    ("cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83", "Updates"),
    ("28bc880e-0592-4cbf-8f95-c79b17911d5f", "Update Rollups"),
    ("b54e7d24-7add-428f-8b75-90a396fa584f", "Feature Packs"),
    ("68c5b0a3-d1a6-4553-ae49-01d3a7827828", "Service Packs"),
    ("b4832bd8-e735-4761-8daf-37f882276dab", "Tools"),
    ("ebfc1fc5-71a4-4f7b-9aca-3b9a503104a0", "Drivers"),
    ("3689bdc8-b205-4af4-8d4a-a63924c5e9d5", "Upgrades"),
];

/// Registry keys whose presence means Windows waits for a reboot to finish installing:
/// Windows Update's flag, and Component Based Servicing's (packages and features staged
/// by any servicing tool, DISM included). `PendingFileRenameOperations` is left out:
/// installers and security software set it for reasons unrelated to patching.
pub const REBOOT_KEYS: [&str; 2] = [
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired",
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending",
];

/// The PowerShell script whose output [`parse`] reads. It lists the [`REBOOT_KEYS`] that
/// exist, then asks the Windows Update Agent for the updates not installed and not hidden
/// (`IsInstalled=0 and IsHidden=0`), offline: from the catalogue Windows' own scheduled
/// scan last fetched (from Windows Update or the WSUS server the machine is pointed at),
/// so that the agent adds no network traffic and no minutes-long online scan, as the apt
/// path reads the lists apt last fetched. A failed search is reported in `SearchError`.
pub const SCRIPT: &str = r#"$ErrorActionPreference = 'Stop'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$inv = [Globalization.CultureInfo]::InvariantCulture
$out = [ordered]@{ Updates = @(); RebootPendingKeys = @(); SearchError = $null }
$out.RebootPendingKeys = @(@(
  'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired',
  'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
) | Where-Object { Test-Path -LiteralPath $_ })
try {
  $searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
  $searcher.Online = $false
  $result = $searcher.Search('IsInstalled=0 and IsHidden=0')
  $out.Updates = @(foreach ($u in $result.Updates) {
    [ordered]@{
      Title = $u.Title
      KBArticleIDs = @($u.KBArticleIDs)
      MsrcSeverity = $u.MsrcSeverity
      Categories = @(foreach ($c in $u.Categories) {
        [ordered]@{ Name = $c.Name; CategoryID = $c.CategoryID; Type = $c.Type }
      })
      CveIDs = @($u.CveIDs)
      LastDeploymentChangeTime = $u.LastDeploymentChangeTime.ToString('yyyy-MM-dd', $inv)
      RebootRequired = [bool]$u.RebootRequired
      RebootBehavior = [int]$u.InstallationBehavior.RebootBehavior
    }
  })
} catch {
  $out.SearchError = '{0} (0x{1:X8})' -f $_.Exception.Message, $_.Exception.HResult
}
ConvertTo-Json -InputObject $out -Depth 5 -Compress
"#;

/// What the script reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// The updates found.
    pub updates: Vec<Update>,
    /// The [`REBOOT_KEYS`] that exist, as the script wrote them.
    pub reboot_pending_keys: Vec<String>,
    /// Why the search failed; `None` when it ran (then `updates` is complete).
    pub search_error: Option<String>,
}

/// One update the Windows Update Agent offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// `Title`.
    pub title: String,
    /// `KBArticleIDs`, each as "KB<digits>".
    pub kb_ids: Vec<String>,
    /// `MsrcSeverity` ("Critical", "Important", "Moderate", "Low"); empty when the update
    /// has none, as every non-security update.
    pub msrc_severity: String,
    /// `Categories`: the classification and the products.
    pub categories: Vec<Category>,
    /// `CveIDs`, sorted.
    pub cves: Vec<String>,
    /// `LastDeploymentChangeTime` (when it was published or last revised) as
    /// `yyyy-mm-dd`.
    pub last_deployment_change: Option<String>,
    /// `RebootRequired`: the update is installed but waits for a reboot.
    pub reboot_required: bool,
    /// `InstallationBehavior.RebootBehavior`: 0 never reboots, 1 always requires a
    /// reboot, 2 can request one.
    pub reboot_behavior: Option<u64>,
}

/// An update category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Category {
    /// The localised name.
    pub name: String,
    /// `CategoryID`, lower case.
    pub id: String,
    /// `Type`: "UpdateClassification", "Product", "ProductFamily", "Company".
    pub kind: String,
}

impl Update {
    /// Returns true when the update fixes a security issue: its classification is
    /// Security Updates, or the Microsoft Security Response Center rated it. Critical
    /// Updates are not: Microsoft uses that classification for non-security fixes, and
    /// Definition Updates (antivirus signatures) fix no vulnerability either.
    pub fn is_security(&self) -> bool {
        !self.msrc_severity.is_empty()
            || self.categories.iter().any(|c| {
                c.id == SECURITY_UPDATES
                    || (c.id.is_empty() && c.name.eq_ignore_ascii_case("Security Updates"))
            })
    }

    /// Returns the English name of the update's classification ("Critical Updates"), or
    /// its localised name when the id is not a known one; `None` without one.
    pub fn classification(&self) -> Option<&str> {
        self.categories.iter().find_map(|c| {
            let known = CLASSIFICATIONS
                .iter()
                .find(|(id, name)| *id == c.id || (c.id.is_empty() && name == &c.name))
                .map(|(_, name)| *name);
            known.or_else(|| (c.kind == "UpdateClassification").then_some(c.name.as_str()))
        })
    }

    /// Returns the pending update: name the first KB id (the title when there is none),
    /// source "msu", candidate version the KB id, arch from the title ("for x64-based
    /// Systems"), and an advisory named by the KB id whose kind is "security" for a
    /// security update and otherwise the classification's English name.
    pub fn to_pending(&self) -> pb::PendingUpdate {
        let kb = self.kb_ids.first().cloned().unwrap_or_default();
        let security = self.is_security();
        let advisories = if kb.is_empty() {
            Vec::new()
        } else {
            vec![pb::Advisory {
                id: kb.clone(),
                kind: if security {
                    "security".to_owned()
                } else {
                    self.classification().unwrap_or_default().to_owned()
                },
                severity: self.msrc_severity.clone(),
                cves: self.cves.clone(),
            }]
        };
        pb::PendingUpdate {
            name: if kb.is_empty() {
                self.title.clone()
            } else {
                kb.clone()
            },
            arch: arch_in_title(&self.title).to_owned(),
            candidate_version: kb,
            source: "msu".to_owned(),
            security,
            advisories,
            ..Default::default()
        }
    }
}

/// Parses the script's JSON (UTF-8 or UTF-16 with a byte order mark). Also accepted: a
/// bare array of updates, or a single update object, as piping the search result's
/// updates to `ConvertTo-Json` gives. Never panics, whatever the input.
pub fn parse(bytes: &[u8]) -> Result<Scan, Error> {
    let items = json_items(bytes, "windows update search output")?;
    let mut scan = Scan::default();
    let mut updates: Vec<&Json> = Vec::new();
    for item in &items {
        match item.get("Updates") {
            Some(list) => {
                updates.extend(as_list(list));
                scan.reboot_pending_keys.extend(
                    item.get("RebootPendingKeys")
                        .map(as_list)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(json_text),
                );
                scan.search_error = item
                    .get("SearchError")
                    .and_then(json_text)
                    .filter(|e| !e.trim().is_empty());
            }
            None if item.get("Title").is_some() => updates.push(item),
            None => {}
        }
    }
    scan.updates = updates.into_iter().filter_map(update).collect();
    Ok(scan)
}

/// Returns the pending updates of a scan, one per (name, arch): an update listed twice
/// (one KB for two products) is security when either listing is.
pub fn pending(scan: &Scan) -> Vec<pb::PendingUpdate> {
    let mut out: Vec<pb::PendingUpdate> = scan.updates.iter().map(Update::to_pending).collect();
    out.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    out.dedup_by(|later, kept| {
        let same = later.name == kept.name && later.arch == kept.arch;
        if same {
            kept.security |= later.security;
        }
        same
    });
    out
}

/// Returns true when any of `keys` (in `reg` or PowerShell spelling) is one of the
/// [`REBOOT_KEYS`]; feed it the keys of a `reg export` or the script's
/// `RebootPendingKeys`.
pub fn reboot_required<'a>(keys: impl IntoIterator<Item = &'a str>) -> bool {
    let wanted: Vec<String> = REBOOT_KEYS.iter().map(|k| normalize_key(k)).collect();
    keys.into_iter().any(|k| wanted.contains(&normalize_key(k)))
}

/// Adds this machine's pending Windows updates and reboot state to `out`; nothing for
/// another root. Failures are logged; a failed search leaves "windows-update" out of
/// `managers`, so that no pending updates does not read as none pending.
#[cfg(target_os = "windows")]
pub(crate) fn collect(root: &crate::inventory::root::Root, out: &mut pb::Patches) {
    if !root.is_live() {
        return;
    }
    let Some(json) = crate::inventory::software::windows::powershell(SCRIPT, "update search")
    else {
        return;
    };
    match parse(&json) {
        Ok(scan) => {
            out.reboot_required |=
                reboot_required(scan.reboot_pending_keys.iter().map(String::as_str));
            match &scan.search_error {
                Some(e) => tracing::warn!(error = %e, "windows update search failed"),
                None => {
                    out.pending.extend(pending(&scan));
                    out.managers.push("windows-update".to_owned());
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "windows update search not read"),
    }
}

fn update(v: &Json) -> Option<Update> {
    let o = v.as_object()?;
    let text = |name| {
        o.get(name)
            .and_then(json_text)
            .map(|s| one_line(&s))
            .unwrap_or_default()
    };
    let mut kb_ids: Vec<String> = Vec::new();
    let found = o
        .get("KBArticleIDs")
        .map(as_list)
        .unwrap_or_default()
        .into_iter()
        .filter_map(json_text)
        .filter_map(|id| {
            let id = id.trim();
            let digits = id
                .strip_prefix("KB")
                .or_else(|| id.strip_prefix("kb"))
                .unwrap_or(id);
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| format!("KB{digits}"))
        });
    for id in found {
        if !kb_ids.contains(&id) {
            kb_ids.push(id);
        }
    }
    let mut cves: Vec<String> = o
        .get("CveIDs")
        .map(as_list)
        .unwrap_or_default()
        .into_iter()
        .filter_map(json_text)
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty() && !c.contains(char::is_whitespace))
        .collect();
    cves.sort();
    cves.dedup();
    let categories = o
        .get("Categories")
        .map(as_list)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| match c {
            Json::String(name) => Some(Category {
                name: one_line(name),
                ..Default::default()
            }),
            Json::Object(c) => {
                let text = |name| {
                    c.get(name)
                        .and_then(json_text)
                        .map(|s| one_line(&s))
                        .unwrap_or_default()
                };
                Some(Category {
                    name: text("Name"),
                    id: text("CategoryID").to_ascii_lowercase(),
                    kind: text("Type"),
                })
            }
            _ => None,
        })
        .collect();
    let title = text("Title");
    if title.is_empty() && kb_ids.is_empty() {
        return None; // nothing to name it by
    }
    Some(Update {
        title,
        kb_ids,
        msrc_severity: text("MsrcSeverity"),
        categories,
        cves,
        last_deployment_change: o.get("LastDeploymentChangeTime").and_then(json_day),
        reboot_required: o
            .get("RebootRequired")
            .and_then(Json::as_bool)
            .unwrap_or(false),
        reboot_behavior: o.get("RebootBehavior").and_then(Json::as_u64),
    })
}

/// Returns an array's elements, or a lone value as a list of one (PowerShell writes a
/// one-element collection as its element); nothing for `null`.
fn as_list(v: &Json) -> Vec<&Json> {
    match v {
        Json::Array(items) => items.iter().collect(),
        Json::Null => Vec::new(),
        other => vec![other],
    }
}

/// Returns the architecture a title names ("... for x64-based Systems (KB..)",
/// "Windows Malicious Software Removal Tool x64"); empty when it names none.
fn arch_in_title(title: &str) -> &'static str {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|word| {
            ["x64", "x86", "arm64"]
                .into_iter()
                .find(|a| word.eq_ignore_ascii_case(a))
        })
        .unwrap_or("")
}

#[cfg(test)]
mod tests;
