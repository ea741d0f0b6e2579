//! apt's configuration as the agent reads it equals what apt itself reads: `apt-config
//! dump` on a root with nested scopes, lists, comments, `#clear`, `#include`, ignored
//! file names and `Dir` paths; and the pending updates follow that configuration as
//! `apt list --upgradable` does when apt reads the same files.

mod apt_support;

use apt_support::{bootstrap, copy_tree, fixture, have, ours, write};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use ward_agent::patches::apt::config::Config;

/// Runs apt-config with `APT_CONFIG=bootstrap` in `cwd` and returns `(key, value)` lines.
fn apt_config_dump(bootstrap: &Path, cwd: &Path) -> Vec<(String, String)> {
    let out = Command::new("apt-config")
        .env("APT_CONFIG", bootstrap)
        .env("LC_ALL", "C")
        .current_dir(cwd)
        .args(["-o", "APT::Config::Dump::Format=%f%N%v%n", "dump"])
        .output()
        .expect("run apt-config");
    assert!(out.status.success(), "{out:?}");
    pairs(&String::from_utf8_lossy(&out.stdout))
}

fn pairs(dump: &str) -> Vec<(String, String)> {
    dump.lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap_or((l, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// Key -> values in order (list items share their `X::` key).
fn by_key(pairs: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k.clone()).or_default().push(v.clone());
    }
    map
}

/// A root whose configuration uses the whole syntax.
fn config_root(root: &Path) {
    write(
        root,
        "etc/apt/apt.conf.d/10nested",
        r#"// Nested scopes, lists and every kind of comment.
APT
{
  Default-Release "bookworm";   # a hash comment
  Architectures { "amd64"; "i386"; "arm64"; };
  Get { Show-Upgraded "true"; Never-Include-Phased-Updates "false"; };
};
/* a comment
   over lines */ Acquire::Retries "3"; Foo::Bar "a" "b"; /* inline */ Baz "c";
Quoted::Value "with // and # inside";
Unquoted word;
Update-Manager::Always-Include-Phased-Updates "yes";
"#,
    );
    write(
        root,
        "etc/apt/apt.conf.d/20paths.conf",
        "Dir::State::lists \"lists-alt/\";\nDir::Etc { sourceparts \"sources-alt.d\"; };\n",
    );
    write(
        root,
        "etc/apt/apt.conf.d/30clear",
        "#clear APT::Architectures;\nAPT::Architectures:: \"amd64\";\nAPT::Architectures:: \"i386\";\n",
    );
    write(
        root,
        "etc/apt/apt.conf.d/40include",
        "#include \"srv/extra/\";\n",
    );
    write(root, "srv/extra/1.conf", "Extra::One \"1\";\n");
    write(
        root,
        "srv/extra/2",
        "extra::two \"2\"; APT::Machine-ID \"0123abcd\";\n",
    );
    write(root, "srv/extra/3.bak", "Extra::Ignored \"x\";\n");
    for ignored in [
        "50x.disabled",
        "60y.dpkg-old",
        "70z~",
        ".hidden",
        "80w.list",
    ] {
        write(
            root,
            &format!("etc/apt/apt.conf.d/{ignored}"),
            "APT::Default-Release \"ignored\";\n",
        );
    }
    write(
        root,
        "etc/apt/apt.conf",
        "apt::default-release \"experimental\";\n",
    );
}

#[test]
fn the_tree_equals_apt_config_dump() {
    if !have("apt-config") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    config_root(&root);
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();

    let ours = Config::read(&root);
    let ours_pairs = pairs(&ours.dump());
    let ours_map = by_key(&ours_pairs);
    let boot = bootstrap(dir.path(), &root, "");
    let apt_map = by_key(&apt_config_dump(&boot, &root));
    let empty_dir = tempfile::tempdir().unwrap();
    let base_boot = bootstrap(empty_dir.path(), &empty, "");
    let base_map = by_key(&apt_config_dump(&base_boot, &empty));

    // Everything read here is what apt has; `Dir` is the root apt was pointed at.
    for (key, values) in &ours_map {
        if key == "Dir" {
            continue;
        }
        assert_eq!(apt_map.get(key), Some(values), "{key}");
    }
    // Everything the root's files changed in apt's tree is read here.
    let root_s = root.to_str().unwrap();
    for (key, values) in &apt_map {
        // apt derives some paths from `Dir` (Dir::State::status): they name the root.
        let derived = values.iter().any(|v| v.contains(root_s));
        if key == "Dir" || derived || base_map.get(key) == Some(values) {
            continue;
        }
        assert!(ours_map.contains_key(key), "{key} = {values:?} missing");
    }
    assert_eq!(ours.find("APT::Default-Release"), Some("experimental"));
    assert_eq!(ours.find_vector("APT::Architectures"), ["amd64", "i386"]);
    assert_eq!(ours.find("Foo::Bar"), Some("a b"));
    assert_eq!(ours.find("Extra::Two"), Some("2"));
    assert_eq!(ours.find("Extra::Ignored"), None);
    assert_eq!(ours.find("APT::Machine-ID"), Some("0123abcd"));

    // Paths resolve as apt's FindFile/FindDir resolve them (apt adds the root).
    let out = Command::new("apt-config")
        .env("APT_CONFIG", &boot)
        .current_dir(&root)
        .args([
            "shell",
            "LISTS",
            "Dir::State::lists/d",
            "PARTS",
            "Dir::Etc::sourceparts/d",
            "LIST",
            "Dir::Etc::sourcelist/f",
            "PREFS",
            "Dir::Etc::preferencesparts/d",
            "ETC",
            "Dir::Etc/d",
        ])
        .output()
        .expect("run apt-config shell");
    assert!(out.status.success(), "{out:?}");
    let shell = String::from_utf8_lossy(&out.stdout);
    for (var, key, dir) in [
        ("LISTS", "Dir::State::lists", true),
        ("PARTS", "Dir::Etc::sourceparts", true),
        ("LIST", "Dir::Etc::sourcelist", false),
        ("PREFS", "Dir::Etc::preferencesparts", true),
        ("ETC", "Dir::Etc", true),
    ] {
        let ours = if dir {
            ours.find_dir(key, None)
        } else {
            ours.find_file(key, None)
        };
        let want = format!("{var}='{root_s}{ours}'");
        assert!(shell.lines().any(|l| l == want), "{want} not in\n{shell}");
    }
}

/// Runs `apt list --upgradable` reading the root's own configuration.
fn apt_list_upgradable(boot: &Path, cwd: &Path) -> BTreeSet<String> {
    let output = Command::new("apt")
        .env("APT_CONFIG", boot)
        .env("LC_ALL", "C")
        .current_dir(cwd)
        .args(["list", "--upgradable"])
        .output()
        .expect("run apt");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with("Listing") && !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let name = w[0].split('/').next().unwrap_or_default();
            let name = name.split(':').next().unwrap_or_default();
            format!("{name} {} {}", w[1], w[2])
        })
        .collect()
}

/// The fixture moved to the places its configuration names (lists, sources, preferences)
/// with a nested Default-Release and architecture list: apt reading the same files
/// lists the same updates.
#[test]
fn pending_updates_follow_the_configuration_like_apt() {
    if !have("apt-config") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    copy_tree(&fixture(), &root);
    std::fs::rename(
        root.join("var/lib/apt/lists"),
        root.join("var/lib/apt/lists-moved"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("var/lib/apt/lists-moved/partial")).unwrap();
    std::fs::create_dir_all(root.join("var/cache/apt/archives/partial")).unwrap();
    std::fs::rename(
        root.join("etc/apt/sources.list"),
        root.join("etc/apt/main.list"),
    )
    .unwrap();
    std::fs::rename(
        root.join("etc/apt/preferences.d"),
        root.join("etc/apt/pins.d"),
    )
    .unwrap();
    write(
        &root,
        "etc/apt/apt.conf.d/50ward",
        "Dir { State { lists \"lists-moved/\"; }; Etc { sourcelist \"main.list\"; \
preferencesparts \"pins.d\"; }; };\n\
APT { Default-Release \"experimental\"; Architectures { \"amd64\"; }; };\n",
    );
    let want = ours(&root);
    assert!(want.contains("exponly 5.0-1 amd64"), "{want:?}");
    assert!(
        !want.iter().any(|w| w.starts_with("libfoo")),
        "i386 is not configured: {want:?}"
    );
    // pins.d still holds back holdpkg: the moved preferences directory is read.
    assert!(!want.iter().any(|w| w.starts_with("holdpkg")), "{want:?}");
    let boot = bootstrap(dir.path(), &root, "");
    assert_eq!(want, apt_list_upgradable(&boot, &root));
}
