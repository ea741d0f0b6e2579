//! Privileged accounts and administrators: `/etc/passwd` (every account whose user id is
//! 0, not only the one named root) and `/etc/group` (members of sudo, wheel and admin, by
//! the group's member list or as its primary members).

use ward_proto::v1 as pb;

use super::{Error, read_capped};
use crate::inventory::root::Root;

/// The groups whose members can become root.
pub const ADMIN_GROUPS: [&str; 3] = ["sudo", "wheel", "admin"];
/// Bytes read of `/etc/passwd` or `/etc/group`.
const MAX_FILE: u64 = 16 << 20;
/// Entries kept of either file.
const MAX_ENTRIES: usize = 200_000;

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Group id.
    pub gid: u32,
    /// The member list (fourth field).
    pub members: Vec<String>,
}

/// What the accounts reader found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accounts {
    /// Every account of `/etc/passwd`.
    pub users: Vec<User>,
    /// Accounts with user id 0.
    pub privileged: Vec<pb::PrivilegedAccount>,
    /// Members of the administrators' groups.
    pub admins: Vec<pb::AdminMember>,
}

impl Accounts {
    /// Returns the account named `name`.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
}

/// Parses `/etc/passwd`: `name:password:uid:gid:gecos:home:shell`. Lines that are not
/// seven fields with numeric ids (comments, NIS `+`/`-` entries) are skipped, as
/// getpwent skips them.
pub fn parse_passwd(text: &str) -> Vec<User> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.trim_end_matches('\r').split(':').collect();
            let [name, _, uid, gid, _, home, shell] = f.as_slice() else {
                return None;
            };
            if name.is_empty() || name.starts_with(['+', '-', '#']) {
                return None;
            }
            Some(User {
                name: (*name).to_owned(),
                uid: uid.parse().ok()?,
                gid: gid.parse().ok()?,
                home: (*home).to_owned(),
                shell: (*shell).to_owned(),
            })
        })
        .take(MAX_ENTRIES)
        .collect()
}

/// Parses `/etc/group`: `name:password:gid:member,member`.
pub fn parse_group(text: &str) -> Vec<Group> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.trim_end_matches('\r').split(':').collect();
            let [name, _, gid, members] = f.as_slice() else {
                return None;
            };
            if name.is_empty() || name.starts_with(['+', '-', '#']) {
                return None;
            }
            Some(Group {
                name: (*name).to_owned(),
                gid: gid.parse().ok()?,
                members: members
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .take(MAX_ENTRIES)
        .collect()
}

/// Returns the accounts with user id 0, in file order (`toor:x:0:0` next to root is what
/// this is for).
pub fn privileged(users: &[User]) -> Vec<pb::PrivilegedAccount> {
    users
        .iter()
        .filter(|u| u.uid == 0)
        .map(|u| pb::PrivilegedAccount {
            name: u.name.clone(),
            uid: u.uid,
            home: u.home.clone(),
            shell: u.shell.clone(),
        })
        .collect()
}

/// Returns the members of the [`ADMIN_GROUPS`] that exist: the group's member list, and
/// the accounts whose primary group it is.
pub fn admins(users: &[User], groups: &[Group]) -> Vec<pb::AdminMember> {
    let mut out = Vec::new();
    for group in groups
        .iter()
        .filter(|g| ADMIN_GROUPS.contains(&g.name.as_str()))
    {
        let primary = users
            .iter()
            .filter(|u| u.gid == group.gid)
            .map(|u| u.name.as_str());
        for user in group.members.iter().map(String::as_str).chain(primary) {
            out.push(pb::AdminMember {
                group: group.name.clone(),
                user: user.to_owned(),
            });
        }
    }
    out
}

/// Reads `/etc/passwd` (required) and `/etc/group` (optional) under `root`.
pub(crate) fn read(root: &Root) -> Result<Accounts, Error> {
    let passwd = read_capped(root, "etc/passwd", MAX_FILE)?.ok_or_else(|| Error::Missing {
        path: root.join("etc/passwd"),
        root: root.join(""),
    })?;
    let users = parse_passwd(&String::from_utf8_lossy(&passwd));
    let groups = read_capped(root, "etc/group", MAX_FILE)?
        .map(|b| parse_group(&String::from_utf8_lossy(&b)))
        .unwrap_or_default();
    Ok(Accounts {
        privileged: privileged(&users),
        admins: admins(&users, &groups),
        users,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        # a comment\n\
        toor:x:0:0::/root:/bin/sh\r\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
        bob:x:1001:27:Bob:/home/bob:/bin/zsh\n\
        +nis::0:0:::\n\
        broken:x:notanumber:0::/:/bin/sh\n\
        short:x:0:0\n";
    const GROUP: &str = "root:x:0:\n\
        sudo:x:27:alice, carol\n\
        wheel:x:10:\n\
        admin:x:115:dave\n\
        users:x:100:alice,bob\n\
        bad:x:zz:eve\n";

    #[test]
    fn uid_zero_aliases_are_privileged() {
        let users = parse_passwd(PASSWD);
        assert_eq!(users.len(), 5, "{users:?}");
        let p = privileged(&users);
        let names: Vec<&str> = p.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["root", "toor"]);
        assert_eq!(p[1].shell, "/bin/sh");
        assert_eq!(p[1].home, "/root");
    }

    #[test]
    fn admins_by_member_list_and_primary_group() {
        let users = parse_passwd(PASSWD);
        let groups = parse_group(GROUP);
        let got: Vec<(String, String)> = admins(&users, &groups)
            .into_iter()
            .map(|a| (a.group, a.user))
            .collect();
        let want = [
            ("sudo", "alice"),
            ("sudo", "carol"),
            ("sudo", "bob"),
            ("admin", "dave"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(g, u)| ((*g).to_owned(), (*u).to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_missing_passwd_is_an_error_and_group_is_optional() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(&Root::new(dir.path())).unwrap_err().to_string();
        assert!(e.contains("etc/passwd not found"), "{e}");
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/passwd"), PASSWD).unwrap();
        let a = read(&Root::new(dir.path())).unwrap();
        assert_eq!(a.privileged.len(), 2);
        assert!(a.admins.is_empty());
        assert_eq!(a.user("alice").unwrap().home, "/home/alice");
    }
}
