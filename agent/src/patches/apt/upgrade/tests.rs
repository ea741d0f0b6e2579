use super::*;
use crate::patches::apt::relations::Fields;

fn side(version: &str, fields: &[(&str, &str)], multi_arch: MultiArch) -> Side {
    let mut f = Fields::default();
    for (name, value) in fields {
        assert!(f.set(name.as_bytes(), value), "{name}");
    }
    Side {
        version: version.parse().unwrap(),
        text: version.into(),
        multi_arch,
        relations: Rc::new(f.parse()),
    }
}

/// An installed package at `installed`, with `candidate` (fields of each side).
fn pkg(
    name: &str,
    installed: (&str, &[(&str, &str)]),
    candidate: Option<(&str, &[(&str, &str)])>,
) -> Package {
    let installed = side(installed.0, installed.1, MultiArch::None);
    let (candidate, changes) = match candidate {
        Some((v, f)) => (Some(side(v, f, MultiArch::None)), true),
        None => (Some(installed.clone()), false),
    };
    Package {
        name: name.into(),
        arch: "amd64".into(),
        installed,
        candidate,
        changes,
        hold: false,
        phased: false,
        downloadable: true,
    }
}

fn options() -> Options {
    Options {
        native: "amd64".into(),
        install_recommends: true,
        install_suggests: false,
        ignore_hold: false,
    }
}

fn kept(packages: &[Package]) -> Vec<(String, Option<Kept>)> {
    simulate(packages, &options())
        .into_iter()
        .zip(packages)
        .filter(|(_, p)| p.changes)
        .map(|(k, p)| (p.name.clone(), k))
        .collect()
}

#[test]
fn a_new_dependency_keeps_back_and_so_do_its_dependents() {
    let pkgs = [
        pkg(
            "meta",
            ("1", &[("Depends", "img-1")]),
            Some(("2", &[("Depends", "img-2")])),
        ),
        pkg("img-1", ("1", &[]), None),
        pkg(
            "tool",
            ("1", &[("Depends", "meta (= 1)")]),
            Some(("2", &[("Depends", "meta (= 2)")])),
        ),
        pkg("libc", ("1", &[]), Some(("2", &[]))),
    ];
    assert_eq!(
        kept(&pkgs),
        [
            ("meta".into(), Some(Kept::Dependencies)),
            ("tool".into(), Some(Kept::Dependencies)),
            ("libc".into(), None),
        ]
    );
}

#[test]
fn a_hold_keeps_back_the_package_and_its_exact_siblings() {
    let mut pkgs = [
        pkg("lib", ("1", &[]), Some(("2", &[]))),
        pkg(
            "lib-dev",
            ("1", &[("Depends", "lib (= 1)")]),
            Some(("2", &[("Depends", "lib (= 2)")])),
        ),
    ];
    pkgs[1].hold = true;
    assert_eq!(
        kept(&pkgs),
        [
            ("lib".into(), Some(Kept::Dependencies)),
            ("lib-dev".into(), Some(Kept::Hold)),
        ]
    );
    let ignoring = simulate(
        &pkgs,
        &Options {
            ignore_hold: true,
            ..options()
        },
    );
    assert_eq!(ignoring, [None, None]);
}

#[test]
fn breaks_and_conflicts_against_what_stays() {
    let pkgs = [
        pkg("a", ("1", &[]), Some(("2", &[("Breaks", "b (<< 2)")]))),
        pkg("b", ("1", &[]), None),
        pkg("c", ("1", &[]), Some(("2", &[("Conflicts", "virt")]))),
        pkg("d", ("1", &[("Provides", "virt")]), None),
        pkg("e", ("1", &[("Breaks", "f (>= 2)")]), None),
        pkg("f", ("1", &[]), Some(("2", &[]))),
    ];
    assert_eq!(
        kept(&pkgs),
        [
            ("a".into(), Some(Kept::Dependencies)),
            ("c".into(), Some(Kept::Dependencies)),
            ("f".into(), Some(Kept::Dependencies)),
        ]
    );
}

#[test]
fn new_recommends_keep_back_unless_already_missing() {
    let pkgs = [
        pkg("a", ("1", &[]), Some(("2", &[("Recommends", "new")]))),
        pkg(
            "b",
            ("1", &[("Recommends", "gone")]),
            Some(("2", &[("Recommends", "new")])),
        ),
        pkg("c", ("1", &[]), Some(("2", &[("Suggests", "new")]))),
    ];
    assert_eq!(
        kept(&pkgs),
        [
            ("a".into(), Some(Kept::Dependencies)),
            ("b".into(), None),
            ("c".into(), None),
        ]
    );
    let without = simulate(
        &pkgs,
        &Options {
            install_recommends: false,
            ..options()
        },
    );
    assert_eq!(without, [None, None, None]);
}

#[test]
fn provides_and_alternatives_satisfy() {
    let pkgs = [
        pkg(
            "a",
            ("1", &[]),
            Some(("2", &[("Depends", "missing | virt (>= 1.5)")])),
        ),
        pkg(
            "p",
            ("1", &[("Provides", "virt (= 1)")]),
            Some(("2", &[("Provides", "virt (= 2)")])),
        ),
        pkg(
            "b",
            ("1", &[]),
            Some(("2", &[("Pre-Depends", "virt (>= 3)")])),
        ),
    ];
    assert_eq!(
        kept(&pkgs),
        [
            ("a".into(), None),
            ("p".into(), None),
            ("b".into(), Some(Kept::Dependencies)),
        ]
    );
}

#[test]
fn multi_arch_same_siblings_move_together() {
    let mut amd64 = pkg("libx", ("1", &[]), Some(("2", &[])));
    let mut i386 = pkg("libx", ("1", &[]), None);
    i386.arch = "i386".into();
    for p in [&mut amd64, &mut i386] {
        p.installed.multi_arch = MultiArch::Same;
        if let Some(c) = p.candidate.as_mut() {
            c.multi_arch = MultiArch::Same;
        }
    }
    let pkgs = [amd64.clone(), i386.clone()];
    assert_eq!(kept(&pkgs), [("libx".into(), Some(Kept::MultiArchSync))]);
    i386.downloadable = false;
    assert_eq!(kept(&[amd64, i386]), [("libx".into(), None)]);
}

#[test]
fn foreign_and_any_dependencies_cross_architectures() {
    let mut tool = pkg("tool", ("1", &[]), None);
    tool.arch = "i386".into();
    tool.installed.multi_arch = MultiArch::Foreign;
    tool.candidate = Some(tool.installed.clone());
    let mut py = pkg("py", ("1", &[]), None);
    py.arch = "i386".into();
    py.installed.multi_arch = MultiArch::Allowed;
    py.candidate = Some(py.installed.clone());
    let pkgs = [
        pkg("a", ("1", &[]), Some(("2", &[("Depends", "tool, py:any")]))),
        pkg("b", ("1", &[]), Some(("2", &[("Depends", "py")]))),
        tool,
        py,
    ];
    assert_eq!(
        kept(&pkgs),
        [("a".into(), None), ("b".into(), Some(Kept::Dependencies)),]
    );
}
