//! The `[rules.<id>]` settings of the collector's config: whether a rule runs, the
//! severity of its alerts, its threshold, and which hosts and subjects it covers.
//!
//! ```toml
//! [rules."posture.listening_port"]      # or [rules.posture.listening_port]
//! severity = "high"
//! ignore = ["udp/*:5353 *"]              # subjects (globs) never raised
//! [rules."patch.security_overdue"]
//! threshold = "3days"
//! hosts = ["web-*", "db-*"]              # hostname globs; default every host
//! exclude_hosts = ["lab-*"]
//! [rules."software.installed"]
//! enabled = true
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::Rule;
use crate::store::alerts::Severity;
use crate::store::glob;

/// One rule's settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    pub enabled: bool,
    pub severity: Severity,
    /// None for rules without a threshold.
    pub threshold: Option<Duration>,
    /// Hostname globs (case-insensitive); empty means every host.
    pub hosts: Vec<String>,
    /// Hostname globs of hosts the rule never covers.
    pub exclude_hosts: Vec<String>,
    /// Subject globs that are never raised.
    pub ignore: Vec<String>,
}

impl RuleSettings {
    /// The defaults of `rule`.
    pub fn default_for(rule: Rule) -> Self {
        Self {
            enabled: rule.enabled_by_default(),
            severity: rule.default_severity(),
            threshold: rule.default_threshold(),
            hosts: Vec::new(),
            exclude_hosts: Vec::new(),
            ignore: Vec::new(),
        }
    }

    /// Whether the rule covers a host with this hostname.
    pub fn covers(&self, hostname: &str) -> bool {
        let name = hostname.to_lowercase();
        let hit = |globs: &[String]| {
            globs
                .iter()
                .any(|g| glob::matches(&g.to_lowercase(), &name))
        };
        self.enabled && (self.hosts.is_empty() || hit(&self.hosts)) && !hit(&self.exclude_hosts)
    }

    /// Whether findings about `subject` are ignored.
    pub fn ignores(&self, subject: &str) -> bool {
        self.ignore.iter().any(|g| glob::matches(g, subject))
    }

    /// The threshold in seconds (0 when the rule has none).
    pub fn threshold_secs(&self) -> u64 {
        self.threshold.map_or(0, |d| d.as_secs())
    }
}

/// The settings of every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    rules: BTreeMap<Rule, RuleSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rules: Rule::ALL
                .into_iter()
                .map(|r| (r, RuleSettings::default_for(r)))
                .collect(),
        }
    }
}

/// One `[rules.<id>]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    /// Whether the rule runs.
    enabled: Option<bool>,
    /// info, low, medium, high or critical.
    severity: Option<String>,
    /// How long a condition must hold (rules with a threshold only).
    #[serde(default, with = "humantime_serde::option")]
    threshold: Option<Duration>,
    /// Hostname globs the rule covers.
    hosts: Option<Vec<String>>,
    /// Hostname globs the rule never covers.
    exclude_hosts: Option<Vec<String>>,
    /// Subject globs never raised.
    ignore: Option<Vec<String>>,
}

impl Settings {
    /// Returns the settings of `rule`.
    pub fn get(&self, rule: Rule) -> &RuleSettings {
        // Every rule has an entry (Default and parse fill them all).
        self.rules.get(&rule).unwrap_or(&FALLBACK)
    }

    /// Replaces the settings of one rule (tests and quickstart).
    pub fn set(&mut self, rule: Rule, settings: RuleSettings) {
        self.rules.insert(rule, settings);
    }

    /// Parses the `rules` table of the collector's config. Rule ids contain a dot, so
    /// both `[rules."posture.firewall"]` and `[rules.posture.firewall]` name a rule.
    /// Errors name the key and what was expected.
    pub fn parse(table: &toml::Table) -> Result<Self, (String, String)> {
        let mut settings = Settings::default();
        let mut seen = std::collections::BTreeSet::new();
        for (key, value) in table {
            let entries: Vec<(String, &toml::Value)> = if key.contains('.') {
                vec![(key.clone(), value)]
            } else {
                // [rules.posture.firewall]: a group table whose keys are rule names.
                let group = value
                    .as_table()
                    .ok_or_else(|| (format!("rules.{key}"), unknown_rule(key)))?;
                group
                    .iter()
                    .map(|(name, v)| (format!("{key}.{name}"), v))
                    .collect()
            };
            for (id, value) in entries {
                let path = format!("rules.{id}");
                let rule = Rule::from_id(&id).ok_or_else(|| (path.clone(), unknown_rule(&id)))?;
                if !seen.insert(rule) {
                    return Err((path, "is set twice".into()));
                }
                let raw: Raw = value
                    .clone()
                    .try_into()
                    .map_err(|e: toml::de::Error| (path.clone(), e.message().to_owned()))?;
                let mut s = RuleSettings::default_for(rule);
                if let Some(enabled) = raw.enabled {
                    s.enabled = enabled;
                }
                if let Some(severity) = raw.severity {
                    s.severity = severity
                        .parse()
                        .map_err(|m: String| (format!("{path}.severity"), m))?;
                }
                if let Some(threshold) = raw.threshold {
                    if rule.default_threshold().is_none() {
                        return Err((
                            format!("{path}.threshold"),
                            "is not a setting of this rule (it has no threshold)".into(),
                        ));
                    }
                    s.threshold = Some(threshold);
                }
                for (name, globs, slot) in [
                    ("hosts", raw.hosts, &mut s.hosts),
                    ("exclude_hosts", raw.exclude_hosts, &mut s.exclude_hosts),
                    ("ignore", raw.ignore, &mut s.ignore),
                ] {
                    if let Some(globs) = globs {
                        if globs.iter().any(|g| g.trim().is_empty()) {
                            return Err((format!("{path}.{name}"), "holds an empty glob".into()));
                        }
                        *slot = globs;
                    }
                }
                settings.rules.insert(rule, s);
            }
        }
        Ok(settings)
    }
}

static FALLBACK: RuleSettings = RuleSettings {
    enabled: false,
    severity: Severity::Info,
    threshold: None,
    hosts: Vec::new(),
    exclude_hosts: Vec::new(),
    ignore: Vec::new(),
};

fn unknown_rule(id: &str) -> String {
    let ids: Vec<&str> = Rule::ALL.into_iter().map(Rule::id).collect();
    format!("names no rule {id:?}; the rules are {}", ids.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, (String, String)> {
        let t: toml::Table = toml::from_str(text).unwrap();
        Settings::parse(t.get("rules").and_then(|v| v.as_table()).unwrap())
    }

    #[test]
    fn quoted_and_nested_ids_both_work() {
        let s = parse(
            "[rules.\"posture.listening_port\"]\nseverity = \"critical\"\n\
             [rules.patch.security_overdue]\nthreshold = \"3days\"\nhosts = [\"WEB-*\"]\n\
             [rules.\"software.installed\"]\nenabled = true\n",
        )
        .unwrap();
        assert_eq!(s.get(Rule::ListeningPort).severity, Severity::Critical);
        let p = s.get(Rule::SecurityOverdue);
        assert_eq!(p.threshold, Some(Duration::from_secs(3 * 86400)));
        assert!(p.covers("web-1") && !p.covers("db-1"));
        assert!(s.get(Rule::SoftwareInstalled).enabled);
        // Untouched rules keep their defaults.
        assert_eq!(
            *s.get(Rule::Firewall),
            RuleSettings::default_for(Rule::Firewall)
        );
        assert!(!s.get(Rule::DiskEncryption).enabled);
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("[rules.\"posture.nope\"]\nenabled = true\n").unwrap_err();
        assert_eq!(e.0, "rules.posture.nope");
        assert!(e.1.contains("posture.listening_port"), "{e:?}");
        let e = parse("[rules.\"host.offline\"]\nseverity = \"urgent\"\n").unwrap_err();
        assert_eq!(e.0, "rules.host.offline.severity");
        let e = parse("[rules.\"host.offline\"]\nthreshhold = \"1m\"\n").unwrap_err();
        assert!(e.1.contains("threshhold"), "{e:?}");
        let e = parse("[rules.\"posture.firewall\"]\nthreshold = \"1m\"\n").unwrap_err();
        assert_eq!(e.0, "rules.posture.firewall.threshold");
        let e = parse("[rules.\"host.offline\"]\nhosts = [\"\"]\n").unwrap_err();
        assert_eq!(e.0, "rules.host.offline.hosts");
    }

    #[test]
    fn excluded_and_ignored() {
        let s = parse(
            "[rules.\"posture.listening_port\"]\nexclude_hosts = [\"lab-*\"]\nignore = [\"udp/*\"]\n",
        )
        .unwrap();
        let r = s.get(Rule::ListeningPort);
        assert!(!r.covers("LAB-3") && r.covers("web"));
        assert!(r.ignores("udp/0.0.0.0:5353 avahi") && !r.ignores("tcp/0.0.0.0:22 sshd"));
    }
}
