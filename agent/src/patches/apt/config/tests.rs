use super::*;

fn parsed(text: &str) -> Config {
    let mut c = Config::default();
    c.parse("test.conf", text.as_bytes()).unwrap();
    c
}

#[test]
fn scopes_paths_comments_lists_and_quotes() {
    let c = parsed(
        r#"
// a comment
APT { Default-Release "bookworm"; Get::Show-Upgraded "true"; };
APT::Architectures { "amd64"; "i386"; };  # trailing comment
/* a block
   comment */ Dir::Etc "etc/apt"; /* inline */ Foo::Bar "a" "b";
Quoted "value with // and # inside";
apt::default-release
  "trixie";
Unquoted value;
"#,
    );
    assert_eq!(
        c.find("APT::Default-Release"),
        Some("trixie"),
        "last wins, any case"
    );
    assert!(c.find_b("apt::get::show-upgraded", false));
    assert_eq!(c.find_vector("APT::Architectures"), ["amd64", "i386"]);
    assert_eq!(c.find("Foo::Bar"), Some("a b"));
    assert_eq!(c.find("Quoted"), Some("value with // and # inside"));
    assert_eq!(c.find("Unquoted"), Some("value"));
    assert_eq!(c.find("Dir::Etc"), Some("etc/apt"));
    assert_eq!(c.find("Nothing"), None);
    assert_eq!(
        c.dump(),
        "APT\t\nAPT::Default-Release\ttrixie\nAPT::Get\t\nAPT::Get::Show-Upgraded\ttrue\n\
APT::Architectures\t\nAPT::Architectures::\tamd64\nAPT::Architectures::\ti386\n\
Dir\t\nDir::Etc\tetc/apt\nFoo\t\nFoo::Bar\ta b\nQuoted\tvalue with // and # inside\n\
Unquoted\tvalue\n"
    );
}

#[test]
fn clear_and_comma_lists() {
    let c = parsed(
        "APT::Architectures { \"amd64\"; \"i386\"; };\n#clear APT::Architectures;\n\
APT::Architectures:: \"arm64\";\nX \"a,b\";\n",
    );
    assert_eq!(c.find_vector("APT::Architectures"), ["arm64"]);
    assert_eq!(c.find_vector("X"), ["a", "b"]);
}

#[test]
fn a_syntax_error_keeps_what_came_before() {
    let mut c = Config::default();
    let e = c
        .parse("bad.conf", b"A \"1\";\nB \"2\" junk;\nC \"3\";\n")
        .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("bad.conf", 2));
    assert_eq!(c.find("A"), Some("1"));
    assert_eq!(c.find("C"), None);
    for bad in [
        "{ \"x\"; };",
        "A { #clear B; };",
        "#includex \"y\";",
        "A \"1\"",
        "#clear;",
    ] {
        assert!(
            Config::default().parse("x", bad.as_bytes()).is_err(),
            "{bad}"
        );
    }
    assert!(
        Config::default().parse("x", b"#include \"/x\";").is_err(),
        "no files to include"
    );
}

#[test]
fn files_resolve_like_apt() {
    let mut c = Config::with_defaults();
    assert_eq!(
        c.find_file("Dir::Etc::sourcelist", None),
        "/etc/apt/sources.list"
    );
    assert_eq!(c.find_dir("Dir::State::lists", None), "/var/lib/apt/lists/");
    assert_eq!(c.find_dir("Dir::Etc", None), "/etc/apt/");
    assert_eq!(c.find_file("Dir::Etc::machine-id", None), "");
    assert_eq!(c.find_file("Nothing", Some("/dev/null")), "/dev/null");
    c.parse(
        "t",
        b"Dir \"/srv/root/\"; Dir::Etc::preferences \"/elsewhere/prefs\";\n\
Dir::State::lists \"./here\";\n",
    )
    .unwrap();
    assert_eq!(
        c.find_file("Dir::Etc::sourcelist", None),
        "/srv/root/etc/apt/sources.list"
    );
    assert_eq!(
        c.find_file("Dir::Etc::preferences", None),
        "/elsewhere/prefs"
    );
    assert_eq!(c.find_dir("Dir::State::lists", None), "./here/");
    c.parse("t", b"RootDir \"/r\";").unwrap();
    assert_eq!(
        c.find_file("Dir::Etc::sourcelist", None),
        "/r/srv/root/etc/apt/sources.list"
    );
}

#[test]
fn paths_stay_under_the_root() {
    let root = Path::new("/root-dir");
    assert_eq!(
        under(root, "/etc/apt/../machine-id"),
        Path::new("/root-dir/etc/machine-id")
    );
    assert_eq!(under(root, "/../../etc/x"), Path::new("/root-dir/etc/x"));
    assert_eq!(under(root, "rel/./x"), Path::new("/root-dir/rel/x"));
}

#[test]
fn directory_file_names_follow_apt() {
    let names: Vec<String> = [
        "70debconf",
        "50unattended-upgrades",
        "01autoremove.conf",
        "99x.disabled",
        "20a.dpkg-old",
        "10b.bak",
        "30c~",
        ".hidden",
        "40d.",
        "60e.f.conf",
        "80f:g",
        "90 space",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        config_files(&names),
        [
            "01autoremove.conf",
            "50unattended-upgrades",
            "60e.f.conf",
            "70debconf",
            "80f:g"
        ]
    );
}

#[test]
fn booleans_like_apt() {
    for yes in ["1", "yes", "TRUE", "with", "on", "enable", "0x1", " 1"] {
        assert!(string_to_bool(yes, false), "{yes}");
    }
    for no in ["0", "no", "False", "without", "off", "disable", "-0"] {
        assert!(!string_to_bool(no, true), "{no}");
    }
    for other in ["2", "maybe", "08", ""] {
        assert!(
            string_to_bool(other, true) && !string_to_bool(other, false),
            "{other}"
        );
    }
}

#[test]
fn reads_parts_then_main_with_includes_under_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let etc = root.join("etc/apt");
    std::fs::create_dir_all(etc.join("apt.conf.d")).unwrap();
    std::fs::create_dir_all(root.join("srv/inc")).unwrap();
    std::fs::write(
        etc.join("apt.conf.d/10a"),
        "APT::Default-Release \"a\";\n#include \"/srv/inc/\";\n",
    )
    .unwrap();
    std::fs::write(
        etc.join("apt.conf.d/20b.disabled"),
        "APT::Default-Release \"x\";\n",
    )
    .unwrap();
    std::fs::write(root.join("srv/inc/1.conf"), "Included \"yes\";\n").unwrap();
    std::fs::write(
        root.join("srv/inc/2"),
        "#include \"../../srv/inc/1.conf\";\nDeep \"1\";\n",
    )
    .unwrap();
    std::fs::write(etc.join("apt.conf"), "APT::Default-Release \"main\";\n").unwrap();
    let c = Config::read(root);
    assert_eq!(c.find("APT::Default-Release"), Some("main"));
    assert!(c.find_b("Included", false));
    assert_eq!(c.find("Deep"), Some("1"));
}

#[test]
fn includes_that_loop_end() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("etc/apt")).unwrap();
    std::fs::write(
        root.join("etc/apt/apt.conf"),
        "A \"1\";\n#include \"/etc/apt/apt.conf\";\nB \"2\";\n",
    )
    .unwrap();
    let c = Config::read(root);
    assert_eq!(c.find("A"), Some("1"));
    assert_eq!(
        c.find("B"),
        None,
        "the include chain failed, ending the file"
    );
}

#[test]
fn lookups_split_like_apt() {
    let mut c = Config::default();
    c.set("a:::b", "x");
    assert_eq!(
        c.dump(),
        "a\t\na:::b\tx\n",
        "the byte after :: never starts another"
    );
    c.set("l::", "1");
    c.set("l::", "2");
    assert_eq!(c.find_vector("l"), ["1", "2"]);
    assert_eq!(c.find("l::"), None);
}
