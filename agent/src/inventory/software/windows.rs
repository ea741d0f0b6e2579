//! Windows installed software: the registry's Uninstall keys (what Programs and Features
//! lists), read from a `reg export` file or from PowerShell's JSON of `Get-ItemProperty`,
//! and the installed updates that `Get-HotFix` lists.
//!
//! Everything here but [`read`] and [`powershell`] is plain parsing, compiled and tested on
//! every platform. Those two run PowerShell and exist only on Windows; they are not
//! compiled by this project's CI, which has no Windows target (see `docs/platforms.md`).

pub mod reg;

use serde_json::Value as Json;
use ward_proto::v1 as pb;

/// The Uninstall keys the agent reads: 64-bit (native) programs, 32-bit programs on 64-bit
/// Windows, and each loaded user profile's own installs.
pub const UNINSTALL_KEYS: [&str; 3] = [
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
    r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
    r"HKEY_USERS\<SID>\Software\Microsoft\Windows\CurrentVersion\Uninstall",
];

/// The PowerShell script whose output [`parse_uninstall_json`] reads: every subkey of the
/// [`UNINSTALL_KEYS`] (all loaded user hives through the `HKEY_USERS\*` wildcard), with
/// the values used and the key path (`PSPath`), as one JSON array in UTF-8.
pub const UNINSTALL_SCRIPT: &str = r#"$ErrorActionPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$paths = @(
  'Registry::HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
  'Registry::HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*',
  'Registry::HKEY_USERS\*\Software\Microsoft\Windows\CurrentVersion\Uninstall\*'
)
$entries = @(Get-ItemProperty -Path $paths | Select-Object PSPath, DisplayName,
  DisplayVersion, Publisher, InstallDate, EstimatedSize, SystemComponent, ParentKeyName,
  ReleaseType, WindowsInstaller)
ConvertTo-Json -InputObject $entries -Compress
"#;

/// The PowerShell script whose output [`parse_hotfix_json`] reads: `Get-HotFix` (the
/// Win32_QuickFixEngineering class) with the install day as `yyyy-MM-dd`, in UTF-8.
pub const HOTFIX_SCRIPT: &str = r#"$ErrorActionPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$fixes = @(Get-HotFix | Select-Object HotFixID, Description,
  @{ Name = 'InstalledOn'; Expression = { if ($_.InstalledOn) { $_.InstalledOn.ToString('yyyy-MM-dd', [Globalization.CultureInfo]::InvariantCulture) } } })
ConvertTo-Json -InputObject $fixes -Compress
"#;

/// Errors reading PowerShell's JSON.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The output is not JSON.
    #[error("{what} is not valid json: {source}")]
    Json {
        /// Whose output it was.
        what: &'static str,
        /// Why it did not parse.
        source: serde_json::Error,
    },
}

/// Which registry view an Uninstall key belongs to, which tells the program's
/// architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `HKLM\SOFTWARE\...`: programs of the machine's own architecture.
    Native,
    /// `HKLM\SOFTWARE\WOW6432Node\...`: 32-bit x86 programs on 64-bit Windows.
    Wow64,
    /// `HKEY_USERS\<SID>\...` (or `HKCU`): a per-user install, whose architecture the
    /// registry does not tell.
    User,
    /// A path that names none of these, or no path at all.
    Unknown,
}

/// One subkey of an Uninstall key, with the values Programs and Features uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UninstallEntry {
    /// The key's full path, empty when the source did not give it.
    pub key: String,
    /// `DisplayName`: without one, Programs and Features does not list the entry.
    pub display_name: String,
    /// `DisplayVersion`.
    pub display_version: String,
    /// `Publisher`.
    pub publisher: String,
    /// `InstallDate` (`yyyymmdd`) as `yyyy-mm-dd`; `None` when absent or in another form.
    pub install_date: Option<String>,
    /// `EstimatedSize`, in KiB.
    pub estimated_size_kib: Option<u64>,
    /// `SystemComponent` = 1: hidden from Programs and Features.
    pub system_component: bool,
    /// `ParentKeyName`: an update of another entry, listed under Installed Updates.
    pub parent_key_name: String,
    /// `ReleaseType` ("Security Update", "Update Rollup", "Hotfix" mark updates).
    pub release_type: String,
    /// `WindowsInstaller` = 1: installed by Windows Installer (an MSI product).
    pub windows_installer: bool,
}

/// One installed update as `Get-HotFix` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HotFix {
    /// `HotFixID` ("KB5034441").
    pub id: String,
    /// `Description` ("Security Update", "Update", "Hotfix").
    pub description: String,
    /// `InstalledOn` as `yyyy-mm-dd`, `None` when Windows does not know it.
    pub installed_on: Option<String>,
}

impl UninstallEntry {
    /// Returns true when Programs and Features lists the entry as a program: it has a
    /// display name and is neither a system component nor an update of another entry.
    pub fn is_listed(&self) -> bool {
        !self.display_name.is_empty()
            && !self.system_component
            && self.parent_key_name.is_empty()
            && !["Security Update", "Update Rollup", "Hotfix"]
                .iter()
                .any(|t| self.release_type.eq_ignore_ascii_case(t))
    }

    /// Returns the registry view the entry's key is in.
    pub fn view(&self) -> View {
        view_of(&self.key)
    }

    /// Returns the entry as a package: source "msi" for Windows Installer products and
    /// "exe" for programs whose own installer registered them; arch `native_arch` in the
    /// native view, "x86" under WOW6432Node and empty for per-user installs; vendor the
    /// publisher; install time the start (UTC) of the install day, which is all Windows
    /// records.
    pub fn to_package(&self, native_arch: &str) -> pb::Package {
        let arch = match self.view() {
            View::Native => native_arch,
            View::Wow64 => "x86",
            View::User | View::Unknown => "",
        };
        pb::Package {
            name: self.display_name.clone(),
            version: self.display_version.clone(),
            arch: arch.to_owned(),
            source: if self.windows_installer { "msi" } else { "exe" }.to_owned(),
            installed_size: self
                .estimated_size_kib
                .map_or(0, |k| k.saturating_mul(1024)),
            state: "installed".to_owned(),
            install_time: self
                .install_date
                .as_deref()
                .and_then(day_start)
                .unwrap_or(0),
            vendor: self.publisher.clone(),
            ..Default::default()
        }
    }
}

impl HotFix {
    /// Returns the update as a package: name the KB id, source "msu", no version, the
    /// start (UTC) of the install day as its install time.
    pub fn to_package(&self) -> pb::Package {
        pb::Package {
            name: self.id.clone(),
            source: "msu".to_owned(),
            state: "installed".to_owned(),
            install_time: self
                .installed_on
                .as_deref()
                .and_then(day_start)
                .unwrap_or(0),
            ..Default::default()
        }
    }
}

/// Returns the view of a key path, written as `reg` (`HKEY_LOCAL_MACHINE\...`, `HKLM\...`)
/// or as PowerShell's `PSPath` (`Microsoft.PowerShell.Core\Registry::HKEY_...`, `HKLM:\...`).
pub fn view_of(key: &str) -> View {
    let key = normalize_key(key);
    if key.starts_with(r"HKEY_USERS\") || key.starts_with(r"HKEY_CURRENT_USER\") {
        View::User
    } else if key.starts_with(r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432NODE\") {
        View::Wow64
    } else if key.starts_with(r"HKEY_LOCAL_MACHINE\SOFTWARE\") {
        View::Native
    } else {
        View::Unknown
    }
}

/// Returns a key path in one spelling, for comparisons: upper case, the hive's long name,
/// no PowerShell provider prefix, no trailing `\`.
pub fn normalize_key(key: &str) -> String {
    let key = key.trim();
    let key = key
        .split_once("::")
        .filter(|(provider, _)| provider.ends_with("Registry"))
        .map_or(key, |(_, k)| k);
    let upper = key.to_uppercase();
    let upper = upper
        .trim_start()
        .trim_end_matches(|c: char| c == '\\' || c.is_whitespace());
    for (short, long) in [
        ("HKLM", "HKEY_LOCAL_MACHINE"),
        ("HKU", "HKEY_USERS"),
        ("HKCU", "HKEY_CURRENT_USER"),
    ] {
        for sep in [":\\", "\\"] {
            if let Some(rest) = upper.strip_prefix(&format!("{short}{sep}")) {
                return format!("{long}\\{rest}");
            }
        }
        if upper == short || upper == format!("{short}:") {
            return long.to_owned();
        }
    }
    upper.to_owned()
}

/// Parses a `reg export` of Uninstall keys (any of [`UNINSTALL_KEYS`], or a parent of
/// them) into its entries: the keys directly below a `...\CurrentVersion\Uninstall` key.
/// Never panics, whatever the input.
pub fn parse_reg_export(bytes: &[u8]) -> Vec<UninstallEntry> {
    reg::parse(bytes)
        .into_iter()
        .filter(|k| !k.deleted && is_uninstall_entry(&k.path))
        .map(|k| {
            let text = |name| {
                k.get(name)
                    .and_then(reg::Value::as_text)
                    .map(|s| one_line(&s))
            };
            let number = |name| k.get(name).and_then(reg::Value::as_u64);
            UninstallEntry {
                display_name: text("DisplayName").unwrap_or_default(),
                display_version: text("DisplayVersion").unwrap_or_default(),
                publisher: text("Publisher").unwrap_or_default(),
                install_date: text("InstallDate").and_then(|d| yyyymmdd(&d)),
                estimated_size_kib: number("EstimatedSize"),
                system_component: number("SystemComponent") == Some(1),
                parent_key_name: text("ParentKeyName").unwrap_or_default(),
                release_type: text("ReleaseType").unwrap_or_default(),
                windows_installer: number("WindowsInstaller") == Some(1),
                key: k.path,
            }
        })
        .collect()
}

/// Parses the JSON of `Get-ItemProperty <Uninstall key>\* | ConvertTo-Json` (as
/// [`UNINSTALL_SCRIPT`] writes it, or unfiltered): an array of objects, or a single
/// object when there was one entry; UTF-8 or UTF-16 with a byte order mark. The key path
/// comes from `PSPath`. Empty output is no entries. Never panics, whatever the input.
pub fn parse_uninstall_json(bytes: &[u8]) -> Result<Vec<UninstallEntry>, Error> {
    let items = json_items(bytes, "Get-ItemProperty output")?;
    Ok(items
        .iter()
        .filter_map(Json::as_object)
        .map(|o| {
            let text = |name| o.get(name).and_then(json_text).map(|s| one_line(&s));
            let number = |name| o.get(name).and_then(json_u64);
            UninstallEntry {
                key: text("PSPath").unwrap_or_default(),
                display_name: text("DisplayName").unwrap_or_default(),
                display_version: text("DisplayVersion").unwrap_or_default(),
                publisher: text("Publisher").unwrap_or_default(),
                install_date: text("InstallDate").and_then(|d| yyyymmdd(&d)),
                estimated_size_kib: number("EstimatedSize"),
                system_component: number("SystemComponent") == Some(1),
                parent_key_name: text("ParentKeyName").unwrap_or_default(),
                release_type: text("ReleaseType").unwrap_or_default(),
                windows_installer: number("WindowsInstaller") == Some(1),
            }
        })
        .collect())
}

/// Parses the JSON of `Get-HotFix` (as [`HOTFIX_SCRIPT`] writes it, or unfiltered:
/// `InstalledOn` may be a day, a `/Date(ms)/` string or Windows PowerShell 5.1's
/// `{"value": "/Date(ms)/", "DateTime": ..}`). Only ids of the form `KB<digits>` are
/// kept: old systems also list placeholders such as "File 1". Never panics.
pub fn parse_hotfix_json(bytes: &[u8]) -> Result<Vec<HotFix>, Error> {
    let items = json_items(bytes, "Get-HotFix output")?;
    Ok(items
        .iter()
        .filter_map(Json::as_object)
        .filter_map(|o| {
            let id = o.get("HotFixID").and_then(json_text)?.trim().to_uppercase();
            let digits = id.strip_prefix("KB")?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(HotFix {
                description: o
                    .get("Description")
                    .and_then(json_text)
                    .map(|s| one_line(&s))
                    .unwrap_or_default(),
                installed_on: o.get("InstalledOn").and_then(json_day),
                id,
            })
        })
        .collect())
}

/// Returns the packages of the entries that Programs and Features lists (see
/// [`UninstallEntry::to_package`]), without duplicates.
pub fn packages(entries: &[UninstallEntry], native_arch: &str) -> Vec<pb::Package> {
    let mut out: Vec<pb::Package> = entries
        .iter()
        .filter(|e| e.is_listed())
        .map(|e| e.to_package(native_arch))
        .collect();
    dedup(&mut out);
    out
}

/// Returns the packages of installed updates, without duplicates.
pub fn hotfix_packages(fixes: &[HotFix]) -> Vec<pb::Package> {
    let mut out: Vec<pb::Package> = fixes.iter().map(HotFix::to_package).collect();
    dedup(&mut out);
    out
}

/// Returns Windows' name for the architecture of a Rust target (`x86_64` is "x64").
pub fn windows_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Returns the arguments that run `script` in Windows PowerShell without a profile and
/// without quoting trouble: `-EncodedCommand` takes the script as base64 of UTF-16LE.
pub fn powershell_args(script: &str) -> Vec<String> {
    use base64::Engine;
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    [
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-EncodedCommand",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([base64::engine::general_purpose::STANDARD.encode(utf16)])
    .collect()
}

/// Reads this machine's installed programs and updates; nothing for another root (the
/// registry of a mounted image is not read). Failures are logged and give nothing.
#[cfg(target_os = "windows")]
pub(crate) fn read(root: &crate::inventory::root::Root) -> Vec<pb::Package> {
    let mut out = Vec::new();
    if !root.is_live() {
        return out;
    }
    let arch = windows_arch(std::env::consts::ARCH);
    if let Some(json) = powershell(UNINSTALL_SCRIPT, "uninstall keys") {
        match parse_uninstall_json(&json) {
            Ok(entries) => out.extend(packages(&entries, arch)),
            Err(e) => tracing::warn!(error = %e, "installed programs not read"),
        }
    }
    if let Some(json) = powershell(HOTFIX_SCRIPT, "hotfixes") {
        match parse_hotfix_json(&json) {
            Ok(fixes) => out.extend(hotfix_packages(&fixes)),
            Err(e) => tracing::warn!(error = %e, "installed updates not read"),
        }
    }
    out
}

/// Runs `script` in Windows PowerShell (from `%SystemRoot%`, not `PATH`) and returns its
/// standard output, or `None` after logging why it failed.
#[cfg(target_os = "windows")]
pub(crate) fn powershell(script: &str, what: &str) -> Option<Vec<u8>> {
    let root = std::env::var_os("SystemRoot").unwrap_or_else(|| r"C:\Windows".into());
    let exe = std::path::Path::new(&root).join(r"System32\WindowsPowerShell\v1.0\powershell.exe");
    match std::process::Command::new(&exe)
        .args(powershell_args(script))
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Some(out.stdout),
        Ok(out) => {
            tracing::warn!(what, status = %out.status, stderr = %String::from_utf8_lossy(&out.stderr).trim(), "powershell failed");
            None
        }
        Err(e) => {
            tracing::warn!(what, exe = %exe.display(), error = %e, "powershell did not start");
            None
        }
    }
}

/// Returns true for a key directly below a `...\CurrentVersion\Uninstall` key.
fn is_uninstall_entry(path: &str) -> bool {
    let parts: Vec<&str> = path.split('\\').collect();
    parts.windows(2).enumerate().any(|(i, w)| {
        w[0].eq_ignore_ascii_case("CurrentVersion")
            && w[1].eq_ignore_ascii_case("Uninstall")
            && i + 3 == parts.len()
            && !parts[i + 2].is_empty()
    })
}

/// Decodes PowerShell's JSON output into its items: an array's elements, a single value
/// as itself, nothing for empty output or `null`.
pub(crate) fn json_items(bytes: &[u8], what: &'static str) -> Result<Vec<Json>, Error> {
    let text = reg::decode_text(bytes);
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_str(text) {
        Ok(Json::Array(items)) => Ok(items),
        Ok(Json::Null) => Ok(Vec::new()),
        Ok(other) => Ok(vec![other]),
        Err(source) => Err(Error::Json { what, source }),
    }
}

/// Returns a JSON string or number as text.
pub(crate) fn json_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Returns a JSON number, or a string holding a decimal number, as `u64`.
fn json_u64(v: &Json) -> Option<u64> {
    match v {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Returns the day of a date as PowerShell writes it to JSON: `yyyy-mm-dd...` (ISO 8601,
/// or the `ToString('yyyy-MM-dd')` of the scripts), `/Date(ms)/` (Windows PowerShell 5.1),
/// or an object whose `value` is one of those (5.1's wrapped DateTime).
pub(crate) fn json_day(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => day(s),
        Json::Object(o) => o.get("value").and_then(json_day),
        _ => None,
    }
}

fn day(s: &str) -> Option<String> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // "/Date(1715644800000)/", or with an offset: "/Date(1715644800000+0200)/". The
        // milliseconds are UTC either way; a date before 1970 ("-...") is none Windows
        // gives for these fields.
        let digits: String = inner.chars().take_while(char::is_ascii_digit).collect();
        let secs = digits.parse::<u64>().ok()? / 1000;
        if secs > 253_402_300_799 {
            return None; // past 9999-12-31, which RFC 3339 cannot write
        }
        let t = std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))?;
        return humantime::format_rfc3339_seconds(t)
            .to_string()
            .get(..10)
            .map(str::to_owned);
    }
    let b = s.as_bytes();
    let is_day = b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    is_day.then(|| s[..10].to_owned())
}

/// Returns the Unix time at which the day `yyyy-mm-dd` starts in UTC; `None` for
/// anything else, or a day the month does not have.
pub fn day_start(day: &str) -> Option<i64> {
    let b = day.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| {
        let part = day.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse::<i64>().ok())?
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&d) {
        return None;
    }
    // Days since 1970-01-01 in the proleptic Gregorian calendar, counting years from
    // March so that the leap day ends one (H. Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// Returns `yyyymmdd` as `yyyy-mm-dd`, `None` for anything else.
fn yyyymmdd(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit());
    let (month, dom) = (s.get(4..6)?, s.get(6..8)?);
    let valid = ok && ("01"..="12").contains(&month) && ("01"..="31").contains(&dom);
    valid.then(|| format!("{}-{month}-{dom}", &s[..4]))
}

/// Trims a registry string and turns control characters (a stray line break in a
/// DisplayName) into spaces, so that every name prints on one line.
pub(crate) fn one_line(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Sorts packages by their identity and drops repeats (a program installed for two
/// users is listed once).
fn dedup(packages: &mut Vec<pb::Package>) {
    fn key(p: &pb::Package) -> (&str, &str, &str, &str) {
        (&p.name, &p.arch, &p.version, &p.source)
    }
    packages.sort_by(|a, b| key(a).cmp(&key(b)));
    packages.dedup_by(|a, b| key(a) == key(b));
}

#[cfg(test)]
mod tests;
