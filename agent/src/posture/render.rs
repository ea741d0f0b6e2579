//! The human view `ward-agent posture` prints: one small table per topic.

use std::fmt::Write;

// The one-shot commands print alike: the table helpers are inventory's.
use crate::inventory::render::{key_values, note, or_dash, section, section_or, table, yes_no};
use ward_proto::v1 as pb;

/// Renders a posture section as titled text tables.
pub fn render_table(p: &pb::Posture) -> String {
    let mut out = String::new();

    let mut sockets = table(&["Proto", "Address", "Port", "Process", "Executable", "UID"]);
    for s in &p.listening {
        sockets.add_row(vec![
            s.protocol.clone(),
            s.address.clone(),
            s.port.to_string(),
            or_dash(&s.process),
            or_dash(&s.executable),
            if s.uid < 0 {
                "-".to_owned()
            } else {
                s.uid.to_string()
            },
        ]);
    }
    section_or(&mut out, "Listening sockets", &sockets, "none");

    let mut accounts = table(&["Account", "UID", "Home", "Shell"]);
    for a in &p.privileged_accounts {
        accounts.add_row(vec![
            a.name.clone(),
            a.uid.to_string(),
            or_dash(&a.home),
            or_dash(&a.shell),
        ]);
    }
    section_or(&mut out, "Privileged accounts (uid 0)", &accounts, "none");

    let mut admins = table(&["Group", "User"]);
    for a in &p.admins {
        admins.add_row(vec![a.group.clone(), a.user.clone()]);
    }
    section_or(&mut out, "Administrators", &admins, "none");

    let mut keys = table(&["User", "File", "Type", "Fingerprint", "Comment", "Options"]);
    for k in &p.authorized_keys {
        keys.add_row(vec![
            k.user.clone(),
            k.file.clone(),
            k.key_type.clone(),
            k.fingerprint.clone(),
            or_dash(&k.comment),
            or_dash(&k.options),
        ]);
    }
    section_or(&mut out, "Authorized SSH keys", &keys, "none");

    match &p.sshd {
        Some(s) if s.present => {
            let mut rows = vec![
                ("PermitRootLogin", s.permit_root_login.clone()),
                ("PasswordAuthentication", s.password_authentication.clone()),
                ("PermitEmptyPasswords", s.permit_empty_passwords.clone()),
                (
                    "KbdInteractiveAuthentication",
                    s.kbd_interactive_authentication.clone(),
                ),
                ("Files", s.files.join("\n")),
            ];
            if !s.match_overrides.is_empty() {
                rows.push(("Match overrides", s.match_overrides.join("\n")));
            }
            section(&mut out, "sshd", &key_values(&rows));
        }
        _ => note(&mut out, "sshd", "no configuration found"),
    }

    let fw = p.firewall.clone().unwrap_or_default();
    let firewall = [
        ("Backend", or_dash(&fw.backend)),
        ("Enforcing", yes_no(fw.enforcing).to_owned()),
        ("Rules", fw.rules.to_string()),
        ("Input policy", or_dash(&fw.input_policy)),
        ("Source", or_dash(&fw.source)),
    ];
    section(&mut out, "Firewall", &key_values(&firewall));

    let d = p.disk_encryption.clone().unwrap_or_default();
    let encrypted = if !d.known {
        "unknown".to_owned()
    } else if d.root_encrypted {
        format!("yes ({})", d.scheme)
    } else {
        "no".to_owned()
    };
    let disk = [
        ("Root device", or_dash(&d.root_device)),
        ("Encrypted", encrypted),
    ];
    section(&mut out, "Disk encryption", &key_values(&disk));

    let u = p.auto_updates.clone().unwrap_or_default();
    let updates = [
        ("Mechanism", or_dash(&u.mechanism)),
        ("Enabled", yes_no(u.enabled).to_owned()),
        ("Detail", or_dash(&u.detail)),
    ];
    section(&mut out, "Automatic updates", &key_values(&updates));

    let k = p.kernel.clone().unwrap_or_default();
    let aslr = match k.aslr {
        0 => "0 (off)".to_owned(),
        1 => "1 (partial)".to_owned(),
        2 => "2 (full)".to_owned(),
        n if n < 0 => "-".to_owned(),
        n => n.to_string(),
    };
    let kernel = [
        ("ASLR", aslr),
        ("Secure Boot", or_dash(&k.secure_boot)),
        ("Lockdown", or_dash(&k.lockdown)),
        ("Sysctls", or_dash(&k.sysctls.join("\n"))),
    ];
    section(&mut out, "Kernel", &key_values(&kernel));

    if !p.errors.is_empty() {
        let _ = writeln!(out, "Errors\n{}\n", p.errors.join("\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_is_shown() {
        let p = pb::Posture {
            listening: vec![pb::ListeningSocket {
                protocol: "tcp".into(),
                address: "0.0.0.0".into(),
                port: 22,
                process: "sshd".into(),
                executable: "/usr/sbin/sshd".into(),
                uid: 0,
            }],
            privileged_accounts: vec![pb::PrivilegedAccount {
                name: "toor".into(),
                ..Default::default()
            }],
            errors: vec!["keys: failed".into()],
            ..Default::default()
        };
        let text = render_table(&p);
        for want in [
            "Listening sockets",
            "/usr/sbin/sshd",
            "toor",
            "Administrators: none",
            "sshd: no configuration found",
            "Firewall",
            "Disk encryption",
            "Automatic updates",
            "Kernel",
            "keys: failed",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
    }
}
