use std::path::Path;

use super::*;

fn settings(text: &str) -> pb::SshdSettings {
    parse(text).settings
}

#[test]
fn openssh_defaults_when_nothing_is_set() {
    let s = settings("# only comments\n\n");
    assert!(s.present);
    assert_eq!(s.permit_root_login, "prohibit-password");
    assert_eq!(s.password_authentication, "yes");
    assert_eq!(s.permit_empty_passwords, "no");
    assert_eq!(s.kbd_interactive_authentication, "yes");
    assert!(s.match_overrides.is_empty());
    assert_eq!(s.files, [CONFIG]);
}

#[test]
fn first_value_wins_in_every_spelling() {
    let s = settings(
        "  permitrootlogin=\"yes\"  # a trailing comment\r\n\
         PermitRootLogin no\n\
         \tPASSWORDAUTHENTICATION\t=\tNo\n\
         PasswordAuthentication yes\n\
         PermitEmptyPasswords = yes\n\
         ChallengeResponseAuthentication no\n\
         KbdInteractiveAuthentication yes\n",
    );
    assert_eq!(s.permit_root_login, "yes");
    assert_eq!(s.password_authentication, "no");
    assert_eq!(s.permit_empty_passwords, "yes");
    // The old name sets the new setting, and came first.
    assert_eq!(s.kbd_interactive_authentication, "no");
}

#[test]
fn without_password_is_prohibit_password() {
    assert_eq!(
        settings("PermitRootLogin without-password\n").permit_root_login,
        "prohibit-password"
    );
}

#[test]
fn match_blocks_do_not_set_globals_but_opening_ones_are_listed() {
    let s = settings(
        "PasswordAuthentication no\n\
         Match User backup Address 10.0.0.0/8\n\
         \tPasswordAuthentication yes\n\
         \tPermitRootLogin yes\n\
         \tPermitRootLogin no\n\
         \tPermitEmptyPasswords no\n\
         Match Group admins\n\
         \tPasswordAuthentication no\n\
         \tKbdInteractiveAuthentication yes\n\
         Match all\n\
         \tChallengeResponseAuthentication yes\n\
         PermitRootLogin no\n",
    );
    // The last PermitRootLogin is inside `Match all`: the global stays the default.
    assert_eq!(s.permit_root_login, "prohibit-password");
    assert_eq!(s.password_authentication, "no");
    assert_eq!(
        s.match_overrides,
        [
            "Match User backup Address 10.0.0.0/8: PasswordAuthentication yes",
            "Match User backup Address 10.0.0.0/8: PermitRootLogin yes",
        ]
    );
    // KbdInteractiveAuthentication yes is the global default already: no override.
}

#[test]
fn line_splitting() {
    let split = |l: &str| split_line(l).map(|(k, a)| (k, a.join("|")));
    assert_eq!(split("Key value"), Some(("Key".into(), "value".into())));
    assert_eq!(split("Key=value"), Some(("Key".into(), "value".into())));
    assert_eq!(
        split("Key = \"a b\" c # d"),
        Some(("Key".into(), "a b|c".into()))
    );
    assert_eq!(split("Key \"a\\\"b\""), Some(("Key".into(), "a\"b".into())));
    assert_eq!(split("  # comment"), None);
    assert_eq!(split("=value"), None);
    assert_eq!(split("\t\r"), None);
    assert_eq!(split("Key"), Some(("Key".into(), String::new())));
}

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

#[test]
fn includes_are_globbed_sorted_relative_and_first_value_wins() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "etc/ssh/sshd_config",
        "Include sshd_config.d/*.conf /etc/ssh/missing.conf\n\
         PermitRootLogin yes\n\
         Match User deploy\n\
         \tInclude match.d/*\n\
         AuthorizedKeysFile /never/%u\n",
    );
    // Listed out of order on purpose: 10 comes before 20.
    write(
        r,
        "etc/ssh/sshd_config.d/20-late.conf",
        "PasswordAuthentication yes\nPermitEmptyPasswords yes\n",
    );
    write(
        r,
        "etc/ssh/sshd_config.d/10-cloud.conf",
        "PasswordAuthentication no\n\
         Match Address 192.0.2.1\n\
         \tPermitEmptyPasswords yes\n",
    );
    write(
        r,
        "etc/ssh/sshd_config.d/.hidden.conf",
        "PermitRootLogin forced-commands-only\n",
    );
    write(r, "etc/ssh/sshd_config.d/notes.txt", "PermitRootLogin no\n");
    write(
        r,
        "etc/ssh/match.d/a",
        "PasswordAuthentication yes\nAuthorizedKeysFile /x/%u\n",
    );
    let sshd = read(&Root::new(r)).unwrap();
    let s = &sshd.settings;
    assert_eq!(
        s.files,
        [
            "/etc/ssh/sshd_config",
            "/etc/ssh/sshd_config.d/10-cloud.conf",
            "/etc/ssh/sshd_config.d/20-late.conf",
            "/etc/ssh/match.d/a",
        ]
    );
    assert_eq!(s.password_authentication, "no");
    // The Match inside 10-cloud.conf ends with that file: 20-late.conf is global again.
    assert_eq!(s.permit_empty_passwords, "yes");
    assert_eq!(s.permit_root_login, "yes");
    assert_eq!(
        s.match_overrides,
        ["Match User deploy: PasswordAuthentication yes"]
    );
    // AuthorizedKeysFile only counts outside Match blocks.
    assert_eq!(sshd.authorized_keys_files, default_authorized_keys_files());
}

#[test]
fn include_loops_are_bounded_and_a_missing_config_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let absent = read(&Root::new(r)).unwrap();
    assert!(!absent.settings.present);
    assert!(absent.settings.permit_root_login.is_empty());

    write(
        r,
        "etc/ssh/sshd_config",
        "Include sshd_config\nPermitRootLogin no\n",
    );
    let s = read(&Root::new(r)).unwrap().settings;
    assert_eq!(s.files.len(), MAX_DEPTH + 1);
    assert_eq!(s.permit_root_login, "no");

    // `..` never climbs above the root: the file beside the root is not read.
    let inner = r.join("root");
    write(
        &inner,
        "etc/ssh/sshd_config",
        "Include ../../../../../../*/outside.conf\n",
    );
    write(r, "etc/outside.conf", "PermitRootLogin yes\n");
    let s = read(&Root::new(&inner)).unwrap().settings;
    assert_eq!(s.files, ["/etc/ssh/sshd_config"]);
    assert_eq!(s.permit_root_login, "prohibit-password");
}

#[test]
fn authorized_keys_file_is_read_from_the_global_part() {
    let sshd = parse(
        "AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u\nAuthorizedKeysFile other\n",
    );
    assert_eq!(
        sshd.authorized_keys_files,
        [".ssh/authorized_keys", "/etc/ssh/keys/%u"]
    );
    assert!(
        parse("AuthorizedKeysFile none\n")
            .authorized_keys_files
            .is_empty()
    );
}

#[test]
fn trailing_whitespace_is_stripped_like_sshd_does() {
    // A last line ending in a bare CR inside an unterminated quote (found by the
    // posture_sshd fuzz target): the CR is no part of the value, with or without a
    // newline after it.
    let bare = parse("AuthorizedKeysFile \"/etc/keys/%u \r");
    let newline = parse("AuthorizedKeysFile \"/etc/keys/%u \r\n# a comment\n");
    assert_eq!(bare, newline);
    assert_eq!(bare.authorized_keys_files, ["/etc/keys/%u"]);
    assert_eq!(
        split_line("PasswordAuthentication no \t\x0c\r"),
        Some(("PasswordAuthentication".to_owned(), vec!["no".to_owned()]))
    );
}
