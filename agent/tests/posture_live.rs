//! The posture readers on this machine's live `/proc`, and `ward-agent posture` through
//! the helper: a socket this test binds is listed with this test's executable, and the
//! helper's protobuf and JSON equal collecting in process.
#![allow(clippy::unwrap_used)]

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;

use ward_agent::collect::Child;
use ward_agent::posture;

const AGENT: &str = env!("CARGO_BIN_EXE_ward-agent");
const HELPER: &str = env!("CARGO_BIN_EXE_ward-agent-collect");

/// This process's real uid, as the posture reader reads it.
fn my_uid() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    posture::sockets::parse_status_uid(&status).unwrap()
}

#[test]
fn posture_lists_sockets_this_test_binds_with_this_executable() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    // IPv6 may be off on the machine; then only the IPv4 sockets are checked.
    let tcp6 = TcpListener::bind("[::1]:0").ok();
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap();

    let p = posture::collect(Path::new("/"));
    let find = |proto: &str, addr: &str, port: u16| {
        p.listening
            .iter()
            .find(|s| s.protocol == proto && s.address == addr && s.port == u32::from(port))
            .unwrap_or_else(|| panic!("{proto} {addr}:{port} not in {:#?}", p.listening))
    };
    let mut ours = vec![
        find("tcp", "127.0.0.1", tcp.local_addr().unwrap().port()),
        find("udp", "127.0.0.1", udp.local_addr().unwrap().port()),
    ];
    if let Some(l) = &tcp6 {
        ours.push(find("tcp", "::1", l.local_addr().unwrap().port()));
    }
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
    for s in ours {
        assert_eq!(s.executable, exe, "{s:?}");
        assert_eq!(s.process, comm.trim_end(), "{s:?}");
        assert_eq!(s.uid, my_uid(), "{s:?}");
    }

    // Closed, it is gone.
    let port = tcp.local_addr().unwrap().port();
    drop(tcp);
    let p = posture::collect(Path::new("/"));
    assert!(
        !p.listening
            .iter()
            .any(|s| s.protocol == "tcp" && s.address == "127.0.0.1" && s.port == u32::from(port)),
        "{port} still listed"
    );
}

#[test]
fn posture_of_the_live_machine_has_no_reader_errors() {
    let p = posture::collect(Path::new("/"));
    // Every reader answers on this machine: it has /etc/passwd, /proc and /sys.
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert!(p.privileged_accounts.iter().any(|a| a.name == "root"));
    let kernel = p.kernel.unwrap();
    assert!((0..=2).contains(&kernel.aslr), "{kernel:?}");
    assert!(!kernel.sysctls.is_empty());
    let disk = p.disk_encryption.unwrap();
    if disk.known {
        assert!(disk.root_device.starts_with("/dev/"), "{disk:?}");
    }
    let fw = p.firewall.unwrap();
    assert!(!fw.backend.is_empty() && !fw.source.is_empty(), "{fw:?}");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A fixture root with accounts, sshd and a listening socket.
fn root() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let write = |rel: &str, data: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    write(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n",
    );
    write("etc/group", "sudo:x:27:root\n");
    write(
        "etc/ssh/sshd_config",
        "PasswordAuthentication no\nMatch User backup\n  PasswordAuthentication yes\n",
    );
    write(
        "proc/net/tcp",
        "  sl  local_address rem_address   st\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1\n",
    );
    (dir, root)
}

#[test]
fn the_helper_prints_the_posture_as_protobuf_and_json() {
    let (_dir, root) = root();
    let in_process = posture::collect(&root);
    let from_child = block_on(Child::new(PathBuf::from(HELPER)).posture(&root)).unwrap();
    assert_eq!(from_child, in_process);
    assert_eq!(
        from_child.sshd.unwrap().match_overrides,
        ["Match User backup: PasswordAuthentication yes"]
    );

    let json = Command::new(AGENT)
        .args(["posture", "--json", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(json.status.success(), "{json:?}");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value, posture::to_json(&in_process));
    assert_eq!(value["privileged_accounts"][1]["name"], "toor");

    let table = Command::new(AGENT)
        .args(["posture", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(table.status.success(), "{table:?}");
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("Listening sockets") && text.contains("toor"),
        "{text}"
    );

    // A root that is not a directory is an error naming it, not a section of errors.
    let missing = root.join("no-such-dir");
    let e = block_on(Child::new(PathBuf::from(HELPER)).posture(&missing)).unwrap_err();
    assert!(
        e.contains("no-such-dir") && e.contains("not a readable directory"),
        "{e}"
    );
}
