//! Automatic installation of updates: unattended-upgrades on Debian and Ubuntu
//! (`APT::Periodic::Unattended-Upgrade` in apt's configuration), dnf-automatic on Fedora
//! and RHEL 8+ (`apply_updates` in `/etc/dnf/automatic.conf` and its timer enabled), and
//! yum-cron on RHEL 7 (`apply_updates` in `/etc/yum/yum-cron.conf`).

use ward_proto::v1 as pb;

use super::read_capped;
use crate::inventory::root::Root;
use crate::inventory::software::dpkg;
use crate::patches::apt::config::{self, Config};

/// The apt setting that turns unattended-upgrades on (a number of days; 0 is off).
pub const APT_SETTING: &str = "APT::Periodic::Unattended-Upgrade";
/// Bytes read of one configuration file, or of dpkg's status.
const MAX_FILE: u64 = 64 << 20;

/// Reads how the system under `root` installs updates on its own.
pub(crate) fn read(root: &Root) -> pb::AutoUpdates {
    if root.exists("etc/apt") || root.exists(dpkg::STATUS) {
        return unattended_upgrades(root);
    }
    if root.exists("usr/bin/dnf-automatic") || root.exists("etc/dnf/automatic.conf") {
        return dnf_automatic(root);
    }
    if root.exists("usr/sbin/yum-cron") || root.exists("etc/yum/yum-cron.conf") {
        return yum_cron(root);
    }
    none("no unattended-upgrades, dnf-automatic or yum-cron found")
}

fn none(detail: &str) -> pb::AutoUpdates {
    pb::AutoUpdates {
        mechanism: "none".to_owned(),
        enabled: false,
        detail: detail.to_owned(),
    }
}

/// Whether an `APT::Periodic` interval turns its job on: a number of days above 0, or
/// anything apt.systemd.daily accepts as an interval ("always", "1d").
pub fn apt_interval_on(value: &str) -> bool {
    let value = value.trim();
    match value.parse::<u64>() {
        Ok(days) => days > 0,
        Err(_) => !value.is_empty() && config::string_to_bool(value, true),
    }
}

fn unattended_upgrades(root: &Root) -> pb::AutoUpdates {
    let installed = root.exists("usr/bin/unattended-upgrade")
        || read_capped(root, dpkg::STATUS, MAX_FILE)
            .ok()
            .flatten()
            .is_some_and(|b| {
                // A scan first: most machines without it need no full parse.
                const STANZA: &[u8] = b"Package: unattended-upgrades\n";
                b.windows(STANZA.len()).any(|w| w == STANZA)
                    && dpkg::parse_status(&b)
                        .iter()
                        .any(|p| p.name == "unattended-upgrades" && p.state == "installed")
            });
    if !installed {
        return none("apt system without the unattended-upgrades package");
    }
    let apt = Config::read(root.join("").as_path());
    let value = apt.find(APT_SETTING).unwrap_or("").to_owned();
    let file = setting_file(root, APT_SETTING);
    let at = file.map(|f| format!(" in {f}")).unwrap_or_default();
    let mechanism = "unattended-upgrades".to_owned();
    if !apt.find_b("APT::Periodic::Enable", true) {
        return pb::AutoUpdates {
            mechanism,
            enabled: false,
            detail: "APT::Periodic::Enable \"0\" turns apt's periodic jobs off".to_owned(),
        };
    }
    let enabled = apt_interval_on(&value);
    let detail = if value.is_empty() {
        format!("installed, but {APT_SETTING} is not set (off)")
    } else {
        format!("{APT_SETTING} \"{value}\"{at}")
    };
    pb::AutoUpdates {
        mechanism,
        enabled,
        detail,
    }
}

/// Returns the last apt configuration file, in apt's reading order, that sets `name`
/// (for people: the value itself comes from the whole configuration).
fn setting_file(root: &Root, name: &str) -> Option<String> {
    let dir = "/etc/apt/apt.conf.d";
    let mut files: Vec<String> = config::config_files(&root.list_dir(dir))
        .into_iter()
        .map(|f| format!("{dir}/{f}"))
        .collect();
    files.push("/etc/apt/apt.conf".to_owned());
    files.into_iter().rev().find(|file| {
        let Ok(Some(bytes)) = read_capped(root, file, MAX_FILE) else {
            return false;
        };
        let mut c = Config::default();
        // A syntax error keeps what came before it, as apt does.
        let _ = c.parse(file, &bytes);
        c.find(name).is_some()
    })
}

/// Returns `key` of `[section]` in an INI file (dnf's and yum's configuration): keys are
/// case-insensitive, `#` and `;` lines are comments, the last value wins.
pub fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with(['#', ';']) || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_owned();
            continue;
        }
        if let Some((k, v)) = line.split_once(['=', ':'])
            && current.eq_ignore_ascii_case(section)
            && k.trim().eq_ignore_ascii_case(key)
        {
            found = Some(v.trim().to_owned());
        }
    }
    found
}

/// dnf and yum booleans.
fn ini_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "on"))
}

fn dnf_automatic(root: &Root) -> pb::AutoUpdates {
    let conf = "etc/dnf/automatic.conf";
    let apply = read_capped(root, conf, MAX_FILE)
        .ok()
        .flatten()
        .and_then(|b| ini_value(&String::from_utf8_lossy(&b), "commands", "apply_updates"));
    let timers: Vec<String> = root
        .list_dir("etc/systemd/system/timers.target.wants")
        .into_iter()
        .filter(|t| t.starts_with("dnf-automatic") && t.ends_with(".timer"))
        .collect();
    // dnf-automatic-install.timer installs whatever the file says; the others follow it
    // (dnf-automatic-notifyonly and -download never install).
    let installing = timers.iter().any(|t| t == "dnf-automatic-install.timer");
    let following = timers.iter().any(|t| t == "dnf-automatic.timer");
    let applies = ini_true(apply.as_deref());
    let enabled = installing || (following && applies);
    let apply_text = match &apply {
        Some(v) => format!("apply_updates = {v} in /{conf}"),
        None => format!("apply_updates not set in /{conf} (no)"),
    };
    let timer_text = if timers.is_empty() {
        "no dnf-automatic timer enabled".to_owned()
    } else {
        format!("{} enabled", timers.join(", "))
    };
    pb::AutoUpdates {
        mechanism: "dnf-automatic".to_owned(),
        enabled,
        detail: format!("{apply_text}; {timer_text}"),
    }
}

fn yum_cron(root: &Root) -> pb::AutoUpdates {
    let conf = "etc/yum/yum-cron.conf";
    let apply = read_capped(root, conf, MAX_FILE)
        .ok()
        .flatten()
        .and_then(|b| ini_value(&String::from_utf8_lossy(&b), "commands", "apply_updates"));
    let enabled = ini_true(apply.as_deref());
    pb::AutoUpdates {
        mechanism: "yum-cron".to_owned(),
        enabled,
        detail: match apply {
            Some(v) => format!("apply_updates = {v} in /{conf}"),
            None => format!("apply_updates not set in /{conf} (no)"),
        },
    }
}

#[cfg(test)]
mod tests;
