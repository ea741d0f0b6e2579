//! Reads an Alpine root: apk's installed database and the indexes `apk update` caches,
//! checked against what apk would report. Debian has no apk-tools, so the files are
//! written here: the installed database is modelled line for line on an Alpine 3.20
//! minirootfs (its 14 packages and versions, field order, file lists with ACLs and
//! checksums, a `linux-lts` kernel added), with checksums made up; the indexes are
//! `APKINDEX.tar.gz` files laid out as apk-tools writes them (a signature gzip stream,
//! then `DESCRIPTION` and `APKINDEX`), named as apk 2 names its cache.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

/// `lib/apk/db/installed`: checksum, package fields, dependencies, then the file list
/// (`F` directories, `R` files, `a`/`M` ACLs, `Z` file checksums), which the agent skips.
const INSTALLED: &str = "\
C:Q1YAmmb6lV/Jt6RK1mpa1rjUSFmMU=
P:alpine-baselayout
V:3.6.5-r0
A:x86_64
S:8515
I:315392
T:Alpine base dir structure and init scripts
U:https://git.alpinelinux.org/cgit/aports/tree/main/alpine-baselayout
L:GPL-2.0-only
o:alpine-baselayout
m:Natanael Copa <ncopa@alpinelinux.org>
t:1714981135
c:66187892e05b03a41d08e9acabd19b7576a1c875
D:alpine-baselayout-data=3.6.5-r0 /bin/sh
q:1000
F:dev
F:dev/pts
F:dev/shm
F:etc
R:motd
Z:Q1SLkS9hBidUbPwwrw+XR0Whv3ww8=
F:etc/crontabs
R:root
a:0:0:600
Z:Q1vfk1apUWI4yLJGhhNRd0kJixfvY=
F:etc/profile.d
R:README
Z:Q135OWsCzzvnB2fmFx62kbqm1Ax1k=
F:proc
M:0:0:555
F:root
M:0:0:700
F:tmp
M:0:0:1777
F:var/empty
M:0:0:555

C:Q1kb3hKDPA8yHbWfGyl5j8IvC2lqQ=
P:alpine-baselayout-data
V:3.6.5-r0
A:x86_64
S:11235
I:77824
T:Alpine base dir structure and init scripts
U:https://git.alpinelinux.org/cgit/aports/tree/main/alpine-baselayout
L:GPL-2.0-only
o:alpine-baselayout
m:Natanael Copa <ncopa@alpinelinux.org>
t:1714981135
c:66187892e05b03a41d08e9acabd19b7576a1c875
r:alpine-baselayout
q:1000
F:etc
R:fstab
Z:Q11Q7hNe8QpDS531guqCdrXBzoA/o=
R:group
Z:Q1zYmqr6PX1pEHbLlNdC3jlm8sIxo=
R:hostname
Z:Q16nVwYVXP/tChvUPdukVD2ifXOmc=
R:os-release
Z:Q1BOWDNCEjrs/0f+1Dpgb3DSEIBbM=

C:Q1yl5qxGYLoTzGb0lxeHqNzl1XmM8=
P:alpine-keys
V:2.4-r1
A:x86_64
S:13421
I:159744
T:Public keys for Alpine Linux packages
U:https://alpinelinux.org
L:MIT
o:alpine-keys
m:Natanael Copa <ncopa@alpinelinux.org>
t:1711616063
c:aab68f8c9ab434a46710de8e12fb3206e2930a59
r:alpine-base
F:etc
F:etc/apk
F:etc/apk/keys
R:alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub
Z:Q1OvCFSO94z97c80mIDCxqGkh2Og4=

C:Q1uACpUfCPeXJVK1kJ0fcv5WTgtyE=
P:apk-tools
V:2.14.4-r0
A:x86_64
S:122059
I:253952
T:Alpine Package Keeper - package manager for alpine
U:https://gitlab.alpinelinux.org/alpine/apk-tools
L:GPL-2.0-only
o:apk-tools
m:Natanael Copa <ncopa@alpinelinux.org>
t:1716209389
c:d2239c8a1cff20db1a1e4cd7bdb6e36e2a9e8d52
D:musl>=1.2.3_git20230424 ca-certificates-bundle so:libc.musl-x86_64.so.1 so:libcrypto.so.3 so:libssl.so.3 so:libz.so.1
p:so:libapk.so.2.14.0=2.14.0 cmd:apk=2.14.4-r0
F:lib
R:libapk.so.2.14.0
a:0:0:755
Z:Q1lSSRVoDN1R9pJOlQgf2jeZ4zfoo=
F:sbin
R:apk
a:0:0:755
Z:Q1lCMxDXKrXh4Nf+FmPRR6ACd2dEU=
F:var/cache/apk

C:Q1jsS8qWvO9ywV4iZnYmGUZsjHkYk=
P:busybox
V:1.36.1-r29
A:x86_64
S:507831
I:987136
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1716809453
c:1a8a1f6e9b0b6a5ea8cb9a20e2bdfc5fb0d51b31
D:so:libc.musl-x86_64.so.1
p:cmd:busybox=1.36.1-r29
r:busybox-initscripts
F:bin
R:busybox
a:0:0:755
Z:Q1WUwBY0eOGgzgVxTZxJBZPyQUicI=
F:etc
R:securetty
Z:Q1mB95Hq2NUTZ599RDiSsj9w5FrOU=

C:Q1Oj0ppLP7Te04ZWfUZWr1TtBbPfk=
P:busybox-binsh
V:1.36.1-r29
A:x86_64
S:1487
I:8192
T:busybox ash /bin/sh
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1716809453
c:1a8a1f6e9b0b6a5ea8cb9a20e2bdfc5fb0d51b31
k:100
D:busybox=1.36.1-r29
p:/bin/sh cmd:sh=1.36.1-r29
F:bin
R:sh
a:0:0:777
Z:Q1pcfTfDNEbNKQc2s1tia7da05M8Q=

C:Q1GNXCMTWH0GfX3N9rLgwLPxyqVM0=
P:ca-certificates-bundle
V:20240226-r0
A:x86_64
S:129040
I:233472
T:Pre generated bundle of Mozilla certificates
U:https://www.mozilla.org/en-US/about/governance/policies/security-group/certs/
L:MPL-2.0 AND MIT
o:ca-certificates
m:Natanael Copa <ncopa@alpinelinux.org>
t:1710504535
c:6ff7c5ad26ea7a7ab1b83c7e0e0ddb8c4d7e0d4b
p:ca-certificates-cacert=20240226-r0
F:etc
F:etc/ssl
F:etc/ssl/certs
R:ca-certificates.crt
Z:Q1tZIMo6ROYmgwRvmNkXGfd8LpQ2s=
F:etc/ssl1.1
R:cert.pem
a:0:0:777
Z:Q1Nj6gTBdkZpTFW/obJGdpfvK0ExM=

C:Q1x6T1LjLqh1AhTcfb3ruhX1yQ5oI=
P:libcrypto3
V:3.3.0-r2
A:x86_64
S:1800456
I:4988928
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1715609612
c:f4c3b4a1f24b0b5e3c1b4a3a9a4f0d1c2b3a4f5e
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3
r:libcrypto1.1
F:lib
R:libcrypto.so.3
a:0:0:755
Z:Q1hOQcnhcmHJqCzD8Ed0uwW2jrlq8=

C:Q1R3LUt3XxBQo6qQk8lJLwP3tCQ2Q=
P:libssl3
V:3.3.0-r2
A:x86_64
S:351234
I:782336
T:SSL shared libraries
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1715609612
c:f4c3b4a1f24b0b5e3c1b4a3a9a4f0d1c2b3a4f5e
D:so:libc.musl-x86_64.so.1 so:libcrypto.so.3
p:so:libssl.so.3=3
r:openssl
F:lib
R:libssl.so.3
a:0:0:755
Z:Q1q5nIO1TKuI/0v0ZyKb8QdrwsCac=

C:Q1GDcAT6KvnYsYbf1NlVqMQF8h3lw=
P:linux-lts
V:6.6.31-r0
A:x86_64
S:35816406
I:137125888
T:Linux lts kernel
U:https://www.kernel.org
L:GPL-2.0-only
o:linux-lts
m:Natanael Copa <ncopa@alpinelinux.org>
t:1716391006
c:c2b1c7d3d4e8c0a57c8f8d2c3b4e5f6a7b8c9d0e
D:initramfs-generator linux-firmware-any
F:boot
R:System.map-lts
Z:Q1bNEc3KnC+8lJZ1IfBv2VklIe9eU=
R:vmlinuz-lts
Z:Q1z6IbeK7ZCpPpm6ubLUHt8BHK9ZY=
F:lib/modules/6.6.31-0-lts
R:modules.order
Z:Q1D2FKC0mKp7Vu6aOm+wVm2Xg3lsI=

C:Q1eZTqv0Qdt4FA7fNIb0dOaVSkRCw=
P:musl
V:1.2.5-r0
A:x86_64
S:410933
I:654608
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1712328815
c:a6c2b5d3d6b7fe43a45d28b3dc5e4c23dd9dc8bc
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1yRiGsrm2tLm3frxtBpT+bzQBZBg=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1TSxb4YRg/8vXk3Fb8rYV/MiL8Y0=
P:musl-utils
V:1.2.5-r0
A:x86_64
S:36959
I:126976
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT AND BSD-2-Clause AND GPL-2.0-or-later
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1712328815
c:a6c2b5d3d6b7fe43a45d28b3dc5e4c23dd9dc8bc
D:scanelf so:libc.musl-x86_64.so.1
p:cmd:getconf=1.2.5-r0 cmd:getent=1.2.5-r0 cmd:iconv=1.2.5-r0 cmd:ldconfig=1.2.5-r0 cmd:ldd=1.2.5-r0
r:libiconv
F:sbin
R:ldconfig
a:0:0:755
Z:Q1Kja2+POZKxEkUOZqwSjC6kmaED4=
F:usr/bin
R:getconf
a:0:0:755
Z:Q1Ftk5X5Ixzq8bw9DPmxJ5Yp0rAO0=

C:Q1jLEBK8WMTU0iYrDW5v/BhzLWTc8=
P:scanelf
V:1.3.7-r2
A:x86_64
S:36745
I:94208
T:Scan ELF binaries for stuff
U:https://wiki.gentoo.org/wiki/Hardened/PaX_Utilities
L:GPL-2.0-only
o:pax-utils
m:Natanael Copa <ncopa@alpinelinux.org>
t:1712686385
c:b1cd1c8eb5a2ee2eb6ad5a8b3c4a5d7f9e0c1a2b
D:so:libc.musl-x86_64.so.1
p:cmd:scanelf=1.3.7-r2
r:pax-utils
F:usr/bin
R:scanelf
a:0:0:755
Z:Q1Gcqe+ND8DFOlhM3R0o5KyZjR2oE=

C:Q1PJw5+Q3PmXv1wQfgXUHaqk3C1OM=
P:ssl_client
V:1.36.1-r29
A:x86_64
S:4666
I:14336
T:EXternal ssl_client for busybox wget
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1716809453
c:1a8a1f6e9b0b6a5ea8cb9a20e2bdfc5fb0d51b31
D:so:libc.musl-x86_64.so.1 so:libcrypto.so.3 so:libssl.so.3
i:busybox=1.36.1-r29 libssl3
F:usr/bin
R:ssl_client
a:0:0:755
Z:Q1Kdl0bFH5GqSsLHW5Mk5WEJ0PI7M=

C:Q1eMNVdXvEzyUpFUe5TXZb5PaVqkU=
P:zlib
V:1.3.1-r1
A:x86_64
S:53915
I:110592
T:A compression/decompression Library
U:https://zlib.net/
L:Zlib
o:zlib
m:Natanael Copa <ncopa@alpinelinux.org>
t:1714650785
c:4d58fdb9f5e0c8c2e9a7b6c5d4e3f2a1b0c9d8e7
D:so:libc.musl-x86_64.so.1
p:so:libz.so.1=1.3.1
F:lib
R:libz.so.1
a:0:0:777
Z:Q1Ikm5lMNaYF/LhCbQDpELL3FW0w0=
R:libz.so.1.3.1
a:0:0:755
Z:Q1kULYDvOzxkEF+rYY48u+UHQ7pL0=

";

const MAIN: &str = "https://dl-cdn.alpinelinux.org/alpine/v3.20/main";
const COMMUNITY: &str = "https://dl-cdn.alpinelinux.org/alpine/v3.20/community";

/// An index stanza as `apk index` writes it.
fn stanza(name: &str, version: &str, origin: &str) -> String {
    format!(
        "C:Q1abcdefghijklmnopqrstuvwxyz0=\nP:{name}\nV:{version}\nA:x86_64\nS:1000\nI:4096\n\
         T:{name}\nU:https://alpinelinux.org\nL:MIT\no:{origin}\nm:Natanael Copa <ncopa@alpinelinux.org>\n\
         t:1720000000\nc:0123456789abcdef0123456789abcdef01234567\nD:so:libc.musl-x86_64.so.1\n\n"
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip in memory");
    enc.finish().expect("gzip in memory")
}

fn tar_member(builder: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(1_720_000_000);
    header.set_size(data.len() as u64);
    builder
        .append_data(&mut header, name, data)
        .expect("append a tar member");
}

/// `APKINDEX.tar.gz`: the signature's tar cut before its end marker in one gzip stream,
/// then `DESCRIPTION` and `APKINDEX` in a second.
fn apkindex(description: &str, index: &str) -> Vec<u8> {
    let mut sig = tar::Builder::new(Vec::new());
    tar_member(
        &mut sig,
        ".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
        &[0x5a; 512],
    );
    let sig = sig.into_inner().expect("finish the signature tar");
    let mut body = tar::Builder::new(Vec::new());
    tar_member(&mut body, "DESCRIPTION", description.as_bytes());
    tar_member(&mut body, "APKINDEX", index.as_bytes());
    let mut out = gzip(&sig[..sig.len() - 1024]);
    out.extend(gzip(&body.into_inner().expect("finish the index tar")));
    out
}

/// SHA-1 of `url`, first four bytes in hex, as `sha1sum` computes it (a second opinion
/// on the agent's own `cache_name`).
fn sha1_prefix(url: &str) -> String {
    let out = std::process::Command::new("sh")
        .args(["-c", "printf %s \"$1\" | sha1sum", "sh", url])
        .output()
        .expect("run sha1sum");
    String::from_utf8_lossy(&out.stdout)[..8].to_owned()
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("fixture paths have a parent"))
        .expect("create a fixture directory");
    std::fs::write(path, bytes).expect("write a fixture file");
}

fn alpine_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let root = dir.path();
    write(root, "lib/apk/db/installed", INSTALLED.as_bytes());
    write(
        root,
        "etc/apk/repositories",
        format!("{MAIN}\n{COMMUNITY}\n").as_bytes(),
    );
    write(root, "etc/apk/world", b"alpine-base\nlinux-lts\n");
    write(root, "etc/apk/arch", b"x86_64\n");
    std::fs::create_dir_all(root.join("lib/modules/6.6.31-0-lts"))
        .expect("create the modules directory");
    // main as of 3.20.3: newer musl, openssl, ca-certificates, apk-tools, kernel.
    let main = [
        ("alpine-baselayout", "3.6.5-r0", "alpine-baselayout"),
        ("alpine-baselayout-data", "3.6.5-r0", "alpine-baselayout"),
        ("alpine-keys", "2.4-r1", "alpine-keys"),
        ("apk-tools", "2.14.4-r1", "apk-tools"),
        ("busybox", "1.36.1-r29", "busybox"),
        ("busybox-binsh", "1.36.1-r29", "busybox"),
        ("ca-certificates-bundle", "20240705-r0", "ca-certificates"),
        ("libcrypto3", "3.3.2-r0", "openssl"),
        ("libssl3", "3.3.2-r0", "openssl"),
        ("linux-lts", "6.6.54-r0", "linux-lts"),
        ("musl", "1.2.5-r0", "musl"),
        ("musl-utils", "1.2.5-r0", "musl"),
        ("scanelf", "1.3.7-r2", "pax-utils"),
        ("ssl_client", "1.36.1-r29", "busybox"),
        ("zlib", "1.3.1-r1", "zlib"),
        ("curl", "8.10.1-r0", "curl"),
    ];
    let main: String = main.iter().map(|(n, v, o)| stanza(n, v, o)).collect();
    let community = stanza("zlib", "1.3.1-r1", "zlib") + &stanza("go", "1.22.8-r0", "go");
    let cache = |url: &str| format!("var/cache/apk/APKINDEX.{}.tar.gz", sha1_prefix(url));
    write(
        root,
        &cache(MAIN),
        &apkindex("v3.20.3-138-g7b8c5a0d37f", &main),
    );
    write(
        root,
        &cache(COMMUNITY),
        &apkindex("v3.20.3-137-g2d1b7e4cb09", &community),
    );
    dir
}

#[test]
fn installed_packages_are_the_databases_stanzas() {
    let dir = alpine_root();
    let inventory = ward_agent::inventory::collect(dir.path()).unwrap();
    let got: Vec<(&str, &str, &str, &str, u64, &str)> = inventory
        .software
        .packages
        .iter()
        .map(|p| {
            assert_eq!((&*p.source, &*p.state, &*p.epoch), ("apk", "installed", ""));
            assert_eq!(p.arch, "x86_64");
            (
                &*p.name,
                &*p.version,
                &*p.release,
                &*p.source_package,
                p.installed_size,
                &*p.arch,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("alpine-baselayout", "3.6.5-r0", "0", "", 315_392, "x86_64"),
            (
                "alpine-baselayout-data",
                "3.6.5-r0",
                "0",
                "alpine-baselayout",
                77_824,
                "x86_64"
            ),
            ("alpine-keys", "2.4-r1", "1", "", 159_744, "x86_64"),
            ("apk-tools", "2.14.4-r0", "0", "", 253_952, "x86_64"),
            ("busybox", "1.36.1-r29", "29", "", 987_136, "x86_64"),
            (
                "busybox-binsh",
                "1.36.1-r29",
                "29",
                "busybox",
                8_192,
                "x86_64"
            ),
            (
                "ca-certificates-bundle",
                "20240226-r0",
                "0",
                "ca-certificates",
                233_472,
                "x86_64"
            ),
            (
                "libcrypto3",
                "3.3.0-r2",
                "2",
                "openssl",
                4_988_928,
                "x86_64"
            ),
            ("libssl3", "3.3.0-r2", "2", "openssl", 782_336, "x86_64"),
            ("linux-lts", "6.6.31-r0", "0", "", 137_125_888, "x86_64"),
            ("musl", "1.2.5-r0", "0", "", 654_608, "x86_64"),
            ("musl-utils", "1.2.5-r0", "0", "musl", 126_976, "x86_64"),
            ("scanelf", "1.3.7-r2", "2", "pax-utils", 94_208, "x86_64"),
            (
                "ssl_client",
                "1.36.1-r29",
                "29",
                "busybox",
                14_336,
                "x86_64"
            ),
            ("zlib", "1.3.1-r1", "1", "", 110_592, "x86_64"),
        ]
    );
}

#[test]
fn pending_updates_come_from_the_cached_indexes() {
    let dir = alpine_root();
    // The cache names the agent computes are the ones sha1sum gives.
    assert_eq!(
        ward_agent::patches::apk::cache_name(MAIN),
        format!("APKINDEX.{}.tar.gz", sha1_prefix(MAIN))
    );
    let patches = ward_agent::patches::collect(dir.path()).unwrap();
    let got: BTreeSet<(&str, &str, &str, &str, &str)> = patches
        .pending
        .iter()
        .map(|p| {
            assert_eq!((&*p.source, p.security, p.held_back), ("apk", false, false));
            (
                &*p.name,
                &*p.installed_version,
                &*p.candidate_version,
                &*p.origin,
                &*p.suite,
            )
        })
        .collect();
    let expected: BTreeSet<(&str, &str, &str, &str, &str)> = [
        ("apk-tools", "2.14.4-r0", "2.14.4-r1"),
        ("ca-certificates-bundle", "20240226-r0", "20240705-r0"),
        ("libcrypto3", "3.3.0-r2", "3.3.2-r0"),
        ("libssl3", "3.3.0-r2", "3.3.2-r0"),
        ("linux-lts", "6.6.31-r0", "6.6.54-r0"),
    ]
    .into_iter()
    .map(|(n, i, c)| (n, i, c, MAIN, "v3.20/main"))
    .collect();
    assert_eq!(got, expected);
    assert_eq!(patches.managers, ["apk"]);
    assert_eq!(patches.newest_kernel, "6.6.31-0-lts");
}
