//! Fuzzes the `/etc/passwd` and `/etc/group` parsers and what the posture section takes
//! from them (accounts with user id 0, administrators' group members). Every input goes
//! to both parsers.
//!
//! Checks: at most one account or group per line; names are non-empty and hold no `:`
//! or line break; every privileged account has user id 0 and is an account of the file;
//! every administrator belongs to sudo, wheel or admin and is either on that group's
//! member list or has it as primary group.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_agent::posture::accounts::{ADMIN_GROUPS, admins, parse_group, parse_passwd, privileged};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    let users = parse_passwd(&text);
    let groups = parse_group(&text);
    assert!(users.len() <= lines && groups.len() <= lines);
    for u in &users {
        assert!(!u.name.is_empty() && !u.name.contains([':', '\n']), "{u:?}");
        assert!(!u.shell.contains(['\n', ':']), "{u:?}");
    }
    for g in &groups {
        assert!(!g.name.is_empty() && !g.name.contains([':', '\n']), "{g:?}");
        assert!(
            g.members.iter().all(|m| !m.is_empty() && !m.contains(',')),
            "{g:?}"
        );
    }
    for p in privileged(&users) {
        assert_eq!(p.uid, 0);
        assert!(users.iter().any(|u| u.name == p.name && u.uid == 0));
    }
    for a in admins(&users, &groups) {
        assert!(ADMIN_GROUPS.contains(&a.group.as_str()), "{a:?}");
        let by_list = groups
            .iter()
            .any(|g| g.name == a.group && g.members.contains(&a.user));
        let by_primary = groups
            .iter()
            .any(|g| g.name == a.group && users.iter().any(|u| u.name == a.user && u.gid == g.gid));
        assert!(by_list || by_primary, "{a:?}");
    }
});
