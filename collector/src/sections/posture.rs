//! The posture section: bounds. It has no rows of its own: the rules read it whole, and
//! `wardctl host` shows it from the section.

use ward_proto::section::{NoDelta, Posture};
use ward_proto::v1 as pb;

use super::check::{self, MAX_FIELD, MAX_LIST, MAX_TEXT, count, text};
use super::{Change, Section};
use crate::store::{self, Tx};

#[async_trait::async_trait]
impl Section for Posture {
    fn check_body(p: &pb::Posture) -> Result<(), check::Error> {
        count("posture.listening", p.listening.len(), MAX_LIST)?;
        for s in &p.listening {
            text("posture.listening.protocol", &s.protocol, MAX_FIELD, true)?;
            text("posture.listening.address", &s.address, MAX_FIELD, true)?;
            text("posture.listening.process", &s.process, MAX_FIELD, true)?;
            // Paths are free text (any byte but NUL is legal); outputs escape them.
            text(
                "posture.listening.executable",
                &s.executable,
                MAX_TEXT,
                false,
            )?;
        }
        count(
            "posture.privileged_accounts",
            p.privileged_accounts.len(),
            MAX_LIST,
        )?;
        for a in &p.privileged_accounts {
            text("posture.privileged_accounts.name", &a.name, MAX_FIELD, true)?;
            text("posture.privileged_accounts.home", &a.home, MAX_TEXT, false)?;
            text(
                "posture.privileged_accounts.shell",
                &a.shell,
                MAX_TEXT,
                false,
            )?;
        }
        count("posture.admins", p.admins.len(), MAX_LIST)?;
        for a in &p.admins {
            text("posture.admins.group", &a.group, MAX_FIELD, true)?;
            text("posture.admins.user", &a.user, MAX_FIELD, true)?;
        }
        count("posture.authorized_keys", p.authorized_keys.len(), MAX_LIST)?;
        for k in &p.authorized_keys {
            text("posture.authorized_keys.user", &k.user, MAX_FIELD, true)?;
            text("posture.authorized_keys.file", &k.file, MAX_TEXT, false)?;
            text(
                "posture.authorized_keys.key_type",
                &k.key_type,
                MAX_FIELD,
                true,
            )?;
            text(
                "posture.authorized_keys.fingerprint",
                &k.fingerprint,
                MAX_FIELD,
                true,
            )?;
            text(
                "posture.authorized_keys.comment",
                &k.comment,
                MAX_TEXT,
                false,
            )?;
            text(
                "posture.authorized_keys.options",
                &k.options,
                MAX_TEXT,
                false,
            )?;
        }
        if let Some(s) = &p.sshd {
            for (field, v) in [
                ("posture.sshd.permit_root_login", &s.permit_root_login),
                (
                    "posture.sshd.password_authentication",
                    &s.password_authentication,
                ),
                (
                    "posture.sshd.permit_empty_passwords",
                    &s.permit_empty_passwords,
                ),
                (
                    "posture.sshd.kbd_interactive_authentication",
                    &s.kbd_interactive_authentication,
                ),
            ] {
                text(field, v, MAX_FIELD, true)?;
            }
            count(
                "posture.sshd.match_overrides",
                s.match_overrides.len(),
                MAX_LIST,
            )?;
            count("posture.sshd.files", s.files.len(), MAX_LIST)?;
            for v in s.match_overrides.iter().chain(&s.files) {
                text("posture.sshd (a match or file)", v, MAX_TEXT, false)?;
            }
        }
        if let Some(f) = &p.firewall {
            text("posture.firewall.backend", &f.backend, MAX_FIELD, true)?;
            text(
                "posture.firewall.input_policy",
                &f.input_policy,
                MAX_FIELD,
                true,
            )?;
            text("posture.firewall.source", &f.source, MAX_TEXT, false)?;
        }
        if let Some(d) = &p.disk_encryption {
            text(
                "posture.disk_encryption.root_device",
                &d.root_device,
                MAX_TEXT,
                false,
            )?;
            text("posture.disk_encryption.scheme", &d.scheme, MAX_FIELD, true)?;
        }
        if let Some(u) = &p.auto_updates {
            text(
                "posture.auto_updates.mechanism",
                &u.mechanism,
                MAX_FIELD,
                true,
            )?;
            text("posture.auto_updates.detail", &u.detail, MAX_TEXT, false)?;
        }
        if let Some(k) = &p.kernel {
            text(
                "posture.kernel.secure_boot",
                &k.secure_boot,
                MAX_FIELD,
                true,
            )?;
            text("posture.kernel.lockdown", &k.lockdown, MAX_FIELD, true)?;
            count("posture.kernel.sysctls", k.sysctls.len(), MAX_LIST)?;
            for v in &k.sysctls {
                text("posture.kernel.sysctls", v, MAX_FIELD, true)?;
            }
        }
        count("posture.errors", p.errors.len(), MAX_LIST)?;
        for v in &p.errors {
            text("posture.errors", v, MAX_TEXT, false)?;
        }
        Ok(())
    }

    fn check_delta(d: &NoDelta) -> Result<(), check::Error> {
        super::no_delta(d)
    }

    async fn project(
        _tx: &mut dyn Tx,
        _host_id: &str,
        _change: &Change<pb::Posture>,
        _now: i64,
    ) -> Result<(), store::Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_identifiers_are_refused_by_name() {
        let p = pb::Posture {
            admins: vec![pb::AdminMember {
                group: "sudo".into(),
                user: "eve\u{1b}[2J".into(),
            }],
            ..Default::default()
        };
        let e = Posture::check_body(&p).unwrap_err().to_string();
        assert_eq!(e, "posture.admins.user: control characters are not allowed");
        let many = pb::Posture {
            listening: vec![pb::ListeningSocket::default(); MAX_LIST + 1],
            ..Default::default()
        };
        assert!(Posture::check_body(&many).is_err());
        assert!(Posture::check_body(&pb::Posture::default()).is_ok());
    }
}
