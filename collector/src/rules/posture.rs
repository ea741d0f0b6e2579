//! Posture rules, on the old and new posture section of a report. Rules about things that
//! appear (a listening port, a privileged account, an authorized key) take the first
//! posture a host reports as its baseline and raise only what is new after it; they
//! resolve when the thing is gone. Rules about settings raise when the setting turns bad
//! and resolve when it is good again.

use std::collections::BTreeMap;

use ward_proto::v1 as pb;

use super::{Finding, Rule, Verdict};
use crate::sections::Change;

/// Returns the verdicts of every posture rule on a changed posture section.
pub fn evaluate(host_id: &str, hostname: &str, change: &Change<pb::Posture>) -> Vec<Verdict> {
    let old = change.old.as_ref();
    let new = &change.new;
    vec![
        appeared(
            Rule::ListeningPort,
            host_id,
            old.map(sockets),
            sockets(new),
            "no longer listening",
            |subject, what| Finding {
                subject: subject.to_owned(),
                summary: format!("new listening socket on {hostname}: {subject}"),
                detail: what.to_owned(),
                repeat: true,
            },
        ),
        appeared(
            Rule::PrivilegedAccount,
            host_id,
            old.map(privileged),
            privileged(new),
            "no longer privileged",
            |subject, what| Finding {
                subject: subject.to_owned(),
                summary: format!("new privileged account on {hostname}: {what}"),
                detail: what.to_owned(),
                repeat: true,
            },
        ),
        appeared(
            Rule::AuthorizedKey,
            host_id,
            old.map(keys),
            keys(new),
            "key removed",
            |subject, what| Finding {
                subject: subject.to_owned(),
                summary: format!("new SSH key authorized on {hostname}: {what}"),
                detail: what.to_owned(),
                repeat: true,
            },
        ),
        sshd(
            host_id,
            hostname,
            old.and_then(|p| p.sshd.as_ref()),
            new.sshd.as_ref(),
        ),
        firewall(
            host_id,
            hostname,
            old.and_then(|p| p.firewall.as_ref()),
            new.firewall.as_ref(),
        ),
        condition(
            Rule::DiskEncryption,
            host_id,
            old.map(unencrypted),
            unencrypted(new),
            || {
                let d = new.disk_encryption.clone().unwrap_or_default();
                Finding {
                    subject: String::new(),
                    summary: format!("root file system of {hostname} is not encrypted"),
                    detail: format!("root device {}", d.root_device),
                    repeat: true,
                }
            },
            "root file system encrypted",
        ),
        condition(
            Rule::AutoUpdates,
            host_id,
            old.map(no_auto_updates),
            no_auto_updates(new),
            || {
                let u = new.auto_updates.clone().unwrap_or_default();
                Finding {
                    subject: String::new(),
                    summary: format!("automatic security updates are disabled on {hostname}"),
                    detail: if u.detail.is_empty() {
                        format!("mechanism: {}", u.mechanism)
                    } else {
                        u.detail
                    },
                    repeat: true,
                }
            },
            "automatic updates enabled",
        ),
    ]
}

/// Subject → description of each listening socket.
fn sockets(p: &pb::Posture) -> BTreeMap<String, String> {
    p.listening
        .iter()
        .map(|s| {
            let addr = if s.address.contains(':') {
                format!("[{}]", s.address)
            } else {
                s.address.clone()
            };
            let program = if !s.executable.is_empty() {
                s.executable.as_str()
            } else if !s.process.is_empty() {
                s.process.as_str()
            } else {
                "unknown program"
            };
            let subject = format!("{}/{addr}:{} {program}", s.protocol, s.port);
            let uid = if s.uid >= 0 {
                format!(", uid {}", s.uid)
            } else {
                String::new()
            };
            let what = format!(
                "{} {addr} port {} by {} ({}{uid})",
                s.protocol, s.port, program, s.process
            );
            (subject, what)
        })
        .collect()
}

/// Subject → description of UID 0 accounts and administrators.
fn privileged(p: &pb::Posture) -> BTreeMap<String, String> {
    let uid0 = p.privileged_accounts.iter().map(|a| {
        (
            format!("uid0:{}", a.name),
            format!(
                "{} has uid {} (home {}, shell {})",
                a.name, a.uid, a.home, a.shell
            ),
        )
    });
    let admins = p.admins.iter().map(|a| {
        (
            format!("admin:{}:{}", a.group, a.user),
            format!("{} is a member of {}", a.user, a.group),
        )
    });
    uid0.chain(admins).collect()
}

/// Subject → description of authorized keys.
fn keys(p: &pb::Posture) -> BTreeMap<String, String> {
    p.authorized_keys
        .iter()
        .map(|k| {
            (
                format!("{} {}", k.user, k.fingerprint),
                format!(
                    "{} key {} for {} in {}{}",
                    k.key_type,
                    k.fingerprint,
                    k.user,
                    k.file,
                    if k.comment.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", k.comment)
                    }
                ),
            )
        })
        .collect()
}

fn unencrypted(p: &pb::Posture) -> bool {
    p.disk_encryption
        .as_ref()
        .is_some_and(|d| d.known && !d.root_encrypted)
}

fn no_auto_updates(p: &pb::Posture) -> bool {
    p.auto_updates.as_ref().is_some_and(|u| !u.enabled)
}

/// A rule about things that appear: with a baseline (`old`), raise what is new, resolve
/// what is gone.
fn appeared(
    rule: Rule,
    host_id: &str,
    old: Option<BTreeMap<String, String>>,
    new: BTreeMap<String, String>,
    gone: &str,
    finding: impl Fn(&str, &str) -> Finding,
) -> Verdict {
    let mut v = Verdict::new(rule, host_id);
    let Some(old) = old else {
        // The first posture of a host is its baseline.
        return v;
    };
    v.raise = new
        .iter()
        .filter(|(k, _)| !old.contains_key(*k))
        .map(|(k, what)| finding(k, what))
        .collect();
    v.clear = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .map(|k| (k.clone(), gone.to_owned()))
        .collect();
    v
}

/// A rule about a condition: raise when it turns true (or is true at the first report),
/// resolve when it is false.
fn condition(
    rule: Rule,
    host_id: &str,
    old: Option<bool>,
    new: bool,
    finding: impl FnOnce() -> Finding,
    cleared: &str,
) -> Verdict {
    let mut v = Verdict::new(rule, host_id);
    if new {
        if old != Some(true) {
            v.raise.push(finding());
        }
    } else {
        v.clear_others = Some(cleared.to_owned());
    }
    v
}

/// sshd: root login (`PermitRootLogin yes`) and empty passwords are raised whenever they
/// are on; password login is raised when it is turned on (it is OpenSSH's default, so a
/// host that always had it is not news).
fn sshd(
    host_id: &str,
    hostname: &str,
    old: Option<&pb::SshdSettings>,
    new: Option<&pb::SshdSettings>,
) -> Verdict {
    let mut v = Verdict::new(Rule::SshdSetting, host_id);
    let Some(new) = new.filter(|s| s.present) else {
        v.clear_others = Some("sshd is not configured".into());
        return v;
    };
    let old = old.filter(|s| s.present);
    type Get = fn(&pb::SshdSettings) -> &str;
    let settings: [(&str, Get, bool); 3] = [
        ("PermitRootLogin", |s| &s.permit_root_login, true),
        ("PermitEmptyPasswords", |s| &s.permit_empty_passwords, true),
        (
            "PasswordAuthentication",
            |s| &s.password_authentication,
            false,
        ),
    ];
    for (name, get, at_baseline) in settings {
        let on = |s: &pb::SshdSettings| get(s).eq_ignore_ascii_case("yes");
        if on(new) {
            let turned_on = match old {
                Some(o) => !on(o),
                None => at_baseline,
            };
            if turned_on {
                v.raise.push(Finding {
                    subject: name.to_owned(),
                    summary: format!("sshd on {hostname} allows {}", allows(name)),
                    detail: format!(
                        "{name} yes (read from {})",
                        if new.files.is_empty() {
                            "sshd_config".to_owned()
                        } else {
                            new.files.join(", ")
                        }
                    ),
                    repeat: true,
                });
            }
        } else {
            v.clear
                .push((name.to_owned(), format!("{name} {}", get(new))));
        }
    }
    v
}

fn allows(setting: &str) -> &'static str {
    match setting {
        "PermitRootLogin" => "root login with a password",
        "PermitEmptyPasswords" => "empty passwords",
        _ => "password login",
    }
}

/// The firewall: raised when a host that filtered incoming traffic stops (turned off, or
/// the ruleset is gone); resolved when it filters again. A ruleset that could not be read
/// changes nothing.
fn firewall(
    host_id: &str,
    hostname: &str,
    old: Option<&pb::Firewall>,
    new: Option<&pb::Firewall>,
) -> Verdict {
    let mut v = Verdict::new(Rule::Firewall, host_id);
    let Some(new) = new.filter(|f| f.backend != "unknown") else {
        return v;
    };
    if new.enforcing {
        v.clear_others = Some(format!("{} enforcing again", new.backend));
        return v;
    }
    let was_enforcing = old.is_some_and(|o| o.enforcing);
    if was_enforcing {
        let old_backend = old.map_or("", |o| o.backend.as_str());
        v.raise.push(Finding {
            subject: String::new(),
            summary: if new.backend == "none" {
                format!("the {old_backend} firewall of {hostname} is gone")
            } else {
                format!(
                    "the {} firewall of {hostname} is no longer filtering",
                    new.backend
                )
            },
            detail: format!(
                "backend {}, {} rules, input policy {:?} (read with {})",
                new.backend, new.rules, new.input_policy, new.source
            ),
            repeat: true,
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(port: u32, exe: &str) -> pb::ListeningSocket {
        pb::ListeningSocket {
            protocol: "tcp".into(),
            address: "0.0.0.0".into(),
            port,
            process: "p".into(),
            executable: exe.into(),
            uid: 0,
        }
    }

    fn posture(ports: &[u32]) -> pb::Posture {
        pb::Posture {
            listening: ports.iter().map(|p| socket(*p, "/usr/sbin/d")).collect(),
            ..Default::default()
        }
    }

    fn verdict(vs: &[Verdict], rule: Rule) -> &Verdict {
        vs.iter().find(|v| v.rule == rule).unwrap()
    }

    #[test]
    fn first_posture_is_the_baseline_then_new_ports_raise_and_closed_ones_clear() {
        let first = Change {
            old: None,
            new: posture(&[22]),
            by_delta: false,
        };
        assert!(verdict(&evaluate("h", "web", &first), Rule::ListeningPort).is_empty());
        let next = Change {
            old: Some(posture(&[22])),
            new: posture(&[22, 8080]),
            by_delta: false,
        };
        let vs = evaluate("h", "web", &next);
        let v = verdict(&vs, Rule::ListeningPort);
        assert_eq!(v.raise.len(), 1);
        assert_eq!(v.raise[0].subject, "tcp/0.0.0.0:8080 /usr/sbin/d");
        assert_eq!(
            v.raise[0].summary,
            "new listening socket on web: tcp/0.0.0.0:8080 /usr/sbin/d"
        );
        let closed = Change {
            old: Some(posture(&[22, 8080])),
            new: posture(&[22]),
            by_delta: false,
        };
        let vs = evaluate("h", "web", &closed);
        assert_eq!(
            verdict(&vs, Rule::ListeningPort).clear,
            vec![(
                "tcp/0.0.0.0:8080 /usr/sbin/d".to_owned(),
                "no longer listening".to_owned()
            )]
        );
    }

    #[test]
    fn ipv6_sockets_are_bracketed() {
        let mut p = posture(&[]);
        p.listening.push(pb::ListeningSocket {
            address: "::".into(),
            ..socket(22, "")
        });
        let subjects: Vec<String> = sockets(&p).into_keys().collect();
        assert_eq!(subjects, ["tcp/[::]:22 p"]);
    }

    #[test]
    fn a_second_uid0_account_raises() {
        let root = pb::PrivilegedAccount {
            name: "root".into(),
            uid: 0,
            home: "/root".into(),
            shell: "/bin/bash".into(),
        };
        let old = pb::Posture {
            privileged_accounts: vec![root.clone()],
            ..Default::default()
        };
        let mut new = old.clone();
        new.privileged_accounts.push(pb::PrivilegedAccount {
            name: "toor".into(),
            ..root
        });
        let vs = evaluate(
            "h",
            "web",
            &Change {
                old: Some(old),
                new,
                by_delta: false,
            },
        );
        let v = verdict(&vs, Rule::PrivilegedAccount);
        assert_eq!(v.raise.len(), 1);
        assert_eq!(v.raise[0].subject, "uid0:toor");
    }

    #[test]
    fn sshd_root_login_raises_at_baseline_password_login_only_when_turned_on() {
        let sshd = |root: &str, password: &str| pb::Posture {
            sshd: Some(pb::SshdSettings {
                present: true,
                permit_root_login: root.into(),
                password_authentication: password.into(),
                permit_empty_passwords: "no".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let first = evaluate(
            "h",
            "web",
            &Change {
                old: None,
                new: sshd("yes", "yes"),
                by_delta: false,
            },
        );
        let subjects: Vec<&str> = verdict(&first, Rule::SshdSetting)
            .raise
            .iter()
            .map(|f| f.subject.as_str())
            .collect();
        assert_eq!(subjects, ["PermitRootLogin"]);
        let turned_on = evaluate(
            "h",
            "web",
            &Change {
                old: Some(sshd("prohibit-password", "no")),
                new: sshd("prohibit-password", "yes"),
                by_delta: false,
            },
        );
        let v = verdict(&turned_on, Rule::SshdSetting);
        assert_eq!(v.raise[0].subject, "PasswordAuthentication");
        assert!(v.clear.iter().any(|(s, _)| s == "PermitRootLogin"));
    }

    #[test]
    fn firewall_turned_off_raises_and_unreadable_changes_nothing() {
        let fw = |backend: &str, enforcing: bool| pb::Posture {
            firewall: Some(pb::Firewall {
                backend: backend.into(),
                enforcing,
                ..Default::default()
            }),
            ..Default::default()
        };
        let ch = |o: pb::Posture, n: pb::Posture| Change {
            old: Some(o),
            new: n,
            by_delta: false,
        };
        let off = evaluate("h", "web", &ch(fw("nftables", true), fw("nftables", false)));
        assert_eq!(verdict(&off, Rule::Firewall).raise.len(), 1);
        let gone = evaluate("h", "web", &ch(fw("nftables", true), fw("none", false)));
        assert!(
            verdict(&gone, Rule::Firewall).raise[0]
                .summary
                .contains("gone")
        );
        let unknown = evaluate("h", "web", &ch(fw("nftables", true), fw("unknown", false)));
        assert!(verdict(&unknown, Rule::Firewall).is_empty());
        let back = evaluate("h", "web", &ch(fw("nftables", false), fw("nftables", true)));
        assert!(verdict(&back, Rule::Firewall).clear_others.is_some());
        // Never enforcing: not news.
        let never = evaluate("h", "web", &ch(fw("none", false), fw("none", false)));
        assert!(verdict(&never, Rule::Firewall).raise.is_empty());
    }
}
