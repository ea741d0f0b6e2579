use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;

const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:107E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6040 1 0000000049b666f4 100 0 0 10 0\n\
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1 0000000049b666f4 100 0 0 10 0\n\
   2: 0100007F:9C40 0100007F:107E 01 00000000:00000000 00:00000000 00000000  1000        0 7002 1 0000000049b666f4 100 0 0 10 0\n";

const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5408 1 00000000c0e1f3d4 100 0 0 10 0\n\
   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5409 1 00000000c0e1f3d4 100 0 0 10 0\n\
   2: 000080FE000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5410 1 00000000c0e1f3d4 100 0 0 10 0\n\
   3: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5411 1 00000000c0e1f3d4 100 0 0 10 0\n";

const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
  101: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 8001 2 0000000000000000 0\n\
  102: 0100007F:A000 0200007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 8002 2 0000000000000000 0\n\
  103: 0100007F:A001 00000000:0000 01 00000000:00000000 00:00000000 00000000     0        0 8003 2 0000000000000000 0\n";

fn addrs(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| format!("{} {} {} {}", e.protocol, e.address, e.port, e.inode))
        .collect()
}

#[test]
fn tcp_listen_lines_only() {
    let got = addrs(&parse_table(TCP, Table::Tcp));
    assert_eq!(got, ["tcp 127.0.0.1 4222 6040", "tcp 0.0.0.0 22 7001"]);
}

#[test]
fn tcp6_addresses_are_four_host_order_words() {
    if cfg!(target_endian = "big") {
        return; // the fixture was captured on a little-endian machine
    }
    let got = addrs(&parse_table(TCP6, Table::Tcp6));
    assert_eq!(
        got,
        [
            "tcp ::1 6379 5408",
            "tcp :: 80 5409",
            "tcp fe80::1 8080 5410",
            "tcp ::ffff:127.0.0.1 8081 5411"
        ]
    );
}

#[test]
fn udp_unconnected_only() {
    let got = addrs(&parse_table(UDP, Table::Udp));
    assert_eq!(got, ["udp 0.0.0.0 68 8001"]);
}

#[test]
fn malformed_lines_are_skipped() {
    for line in [
        "",
        "0: 0100007F:107E",
        "0: 0100007F:107E 00000000:0000 0A a b c d e notanumber",
        "0: 0100007:107E 00000000:0000 0A 0 0 0 0 0 1",
        "0: +100007F:107E 00000000:0000 0A 0 0 0 0 0 1",
        "0: 0100007F:+07E 00000000:0000 0A 0 0 0 0 0 1",
        "0: 0100007F:10000 00000000:0000 0A 0 0 0 0 0 1",
        "0: 0100007F107E 00000000:0000 0A 0 0 0 0 0 1",
    ] {
        assert_eq!(parse_line(line, Table::Tcp), None, "{line:?}");
    }
    assert_eq!(parse_socket_link("socket:[123]"), Some(123));
    assert_eq!(parse_socket_link("pipe:[123]"), None);
    assert_eq!(parse_socket_link("socket:[x]"), None);
    assert_eq!(
        parse_status_uid("Name:\tsshd\nUid:\t106\t106\t106\t106\n"),
        Some(106)
    );
    assert_eq!(parse_status_uid("Name:\tsshd\n"), None);
}

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn process(root: &Path, pid: u32, comm: &str, exe: &str, uid: u32, sockets: &[u64]) {
    write(root, &format!("proc/{pid}/comm"), &format!("{comm}\n"));
    write(
        root,
        &format!("proc/{pid}/status"),
        &format!("Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
    );
    symlink(exe, root.join(format!("proc/{pid}/exe"))).unwrap();
    std::fs::create_dir_all(root.join(format!("proc/{pid}/fd"))).unwrap();
    symlink("/dev/null", root.join(format!("proc/{pid}/fd/0"))).unwrap();
    for (fd, inode) in sockets.iter().enumerate() {
        symlink(
            format!("socket:[{inode}]"),
            root.join(format!("proc/{pid}/fd/{}", fd + 3)),
        )
        .unwrap();
    }
}

#[test]
fn owners_from_fd_links_with_the_lowest_pid_of_a_prefork_server() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "proc/net/tcp", TCP);
    write(r, "proc/net/udp", UDP);
    // Worker 1000 lists before master 250 in a directory listing; 250 must win.
    process(r, 1000, "nginx", "/usr/sbin/nginx", 33, &[7001]);
    process(r, 250, "nginx", "/usr/sbin/nginx", 0, &[7001]);
    process(r, 300, "dhclient", "/usr/sbin/dhclient", 0, &[8001, 999]);
    write(r, "proc/self/comm", "not a pid\n");
    let got = read(&Root::new(r)).unwrap();
    let row = |port: u32| got.iter().find(|s| s.port == port).unwrap();
    assert_eq!(got.len(), 3, "{got:?}");
    let ssh = row(22);
    assert_eq!(
        (ssh.process.as_str(), ssh.executable.as_str(), ssh.uid),
        ("nginx", "/usr/sbin/nginx", 0)
    );
    let dhcp = row(68);
    assert_eq!(
        (dhcp.protocol.as_str(), dhcp.process.as_str()),
        ("udp", "dhclient")
    );
    // No process holds 6040: known socket, unknown owner.
    let orphan = row(4222);
    assert_eq!((orphan.process.as_str(), orphan.uid), ("", -1));
}

#[test]
fn a_root_without_proc_has_no_sockets() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read(&Root::new(dir.path())).unwrap().is_empty());
}
