//! Collects the inventory of a small fixture tree and checks that exactly its files are
//! read, and that the /proc and /sys it lacks are absent rather than errors.

use std::path::Path;

use ward_agent::inventory;

const STATUS: &str = "\
Package: curl
Status: install ok installed
Priority: optional
Section: web
Installed-Size: 502
Maintainer: Alessandro Ghedini <ghedo@debian.org>
Architecture: amd64
Version: 7.88.1-10+deb12u8
Depends: libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u8), zlib1g (>= 1:1.1.4)
Description: command line tool for transferring data with URL syntax
 curl is a command line tool for transferring data with URL syntax, supporting
 DICT, FILE, FTP, FTPS, GOPHER, GOPHERS, HTTP, HTTPS, IMAP, IMAPS, LDAP, LDAPS,
 MQTT, POP3, POP3S, RTMP, RTMPS, RTSP, SCP, SFTP, SMB, SMBS, SMTP, SMTPS, TELNET, TFTP.
Homepage: https://curl.se/

Package: apache2
Status: deinstall ok config-files
Priority: optional
Section: httpd
Installed-Size: 561
Maintainer: Debian Apache Maintainers <debian-apache@lists.debian.org>
Architecture: amd64
Version: 2.4.62-1~deb12u2
Conffiles:
 /etc/apache2/apache2.conf 354c9e6d2b88a0a3e0548f853840674c
 /etc/apache2/ports.conf a961f23471d985c2b819b652b7f64321
Description: Apache HTTP Server

Package: libcurl4
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 1151
Maintainer: Alessandro Ghedini <ghedo@debian.org>
Architecture: amd64
Multi-Arch: same
Source: curl
Version: 7.88.1-10+deb12u8
Description: easy-to-use client-side URL transfer library (OpenSSL flavour)
";

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    let dir = path.parent().expect("fixture paths have a parent");
    std::fs::create_dir_all(dir).expect("create fixture directory");
    std::fs::write(&path, content).expect("write fixture file");
}

#[test]
fn reads_exactly_the_fixture_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "etc/os-release",
        "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n\
         VERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n",
    );
    write(root, "etc/machine-id", "5f0c1b6a0e8b4f3a9d2c7e1f00aa11bb\n");
    write(root, "etc/hostname", "fixture-host\n");
    write(root, "var/lib/dpkg/status", STATUS);

    let inv = inventory::collect(root).unwrap();

    let os = &inv.os;
    assert_eq!(os.hostname, "fixture-host");
    assert_eq!(os.machine_id, "5f0c1b6a0e8b4f3a9d2c7e1f00aa11bb");
    assert_eq!(
        (
            os.os_id.as_str(),
            os.os_version_id.as_str(),
            os.os_codename.as_str()
        ),
        ("ubuntu", "24.04", "noble")
    );
    assert_eq!(os.os_pretty_name, "Ubuntu 24.04.1 LTS");
    assert_eq!(os.os_id_like, "debian");
    // Nothing from the machine running the test leaks into a non-live root.
    assert_eq!(os.kernel_release, "");
    assert_eq!(os.architecture, "");
    assert_eq!(os.boot_time, 0);
    assert_eq!(os.virtualization, "");
    assert_eq!(os.container, "");

    let hw = &inv.hardware;
    assert_eq!(hw.cpu.as_ref().unwrap().logical_cores, 0);
    assert_eq!(hw.memory.as_ref().unwrap().total_bytes, 0);
    assert!(hw.filesystems.is_empty() && hw.block_devices.is_empty());
    assert!(hw.interfaces.is_empty() && hw.gpus.is_empty());
    assert!(hw.dmi.is_none());

    let pkgs: Vec<(&str, &str, &str, &str, &str, u64)> = inv
        .software
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.arch.as_str(),
                p.state.as_str(),
                p.source_package.as_str(),
                p.installed_size,
            )
        })
        .collect();
    // Canonical order: by name.
    assert_eq!(
        pkgs,
        [
            (
                "apache2",
                "2.4.62-1~deb12u2",
                "amd64",
                "config-files",
                "",
                561 * 1024
            ),
            (
                "curl",
                "7.88.1-10+deb12u8",
                "amd64",
                "installed",
                "",
                502 * 1024
            ),
            (
                "libcurl4",
                "7.88.1-10+deb12u8",
                "amd64",
                "installed",
                "curl",
                1151 * 1024
            ),
        ]
    );

    let table = inventory::render_table(&inv);
    assert!(
        table.contains("fixture-host") && table.contains("config-files"),
        "{table}"
    );
}

#[test]
fn a_root_without_dpkg_has_no_software_and_no_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/hostname", "bare\n");
    let inv = inventory::collect(dir.path()).unwrap();
    assert_eq!(inv.os.hostname, "bare");
    assert!(inv.software.packages.is_empty());
    assert!(
        inventory::to_json(&inv)["software"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
