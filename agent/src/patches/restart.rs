//! Processes that still run replaced code (`proc/<pid>/maps` entries marked `(deleted)`),
//! grouped by the systemd unit of `proc/<pid>/cgroup`: what needs a restart after updates.

use std::collections::BTreeMap;
use std::path::Path;

/// A unit (or a lone process) that maps files deleted since it started.
pub type Restart = ward_proto::v1::Restart;

/// Scans `root/proc` and returns the units whose processes map deleted libraries or
/// executables, sorted by unit. Processes that vanish or cannot be read are skipped.
pub fn scan(root: &Path) -> Vec<Restart> {
    let proc = root.join("proc");
    let Ok(entries) = std::fs::read_dir(&proc) else {
        return Vec::new();
    };
    let mut units: BTreeMap<String, Restart> = BTreeMap::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        let Ok(maps) = std::fs::read(dir.join("maps")) else {
            continue;
        };
        let files = deleted_files(&maps);
        if files.is_empty() {
            continue;
        }
        let cgroup = std::fs::read(dir.join("cgroup")).unwrap_or_default();
        let unit = unit_of(&cgroup).unwrap_or_else(|| {
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            format!("pid {pid} ({})", comm.trim())
        });
        let r = units.entry(unit.clone()).or_insert_with(|| Restart {
            unit,
            pids: Vec::new(),
            files: Vec::new(),
        });
        r.pids.push(pid);
        for f in files {
            if !r.files.contains(&f) {
                r.files.push(f);
            }
        }
    }
    units
        .into_values()
        .map(|mut r| {
            r.pids.sort_unstable();
            r.files.sort();
            r
        })
        .collect()
}

/// Returns the deleted files a maps file references that are code from packages:
/// shared objects and programs under the system directories, not shared memory, memfd
/// or temporary files.
pub fn deleted_files(maps: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(maps);
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        // address perms offset dev inode pathname; the path is the 6th field onwards.
        let Some(path) = line.splitn(6, char::is_whitespace).nth(5).map(str::trim) else {
            continue;
        };
        let Some(path) = path.strip_suffix(" (deleted)") else {
            continue;
        };
        let packaged = ["/usr/", "/lib", "/bin/", "/sbin/", "/opt/"]
            .iter()
            .any(|p| path.starts_with(p));
        if packaged && !out.iter().any(|f| f == path) {
            out.push(path.to_owned());
        }
    }
    out
}

/// Returns the systemd unit of a `/proc/<pid>/cgroup` (v2 `0::/system.slice/x.service`,
/// or v1's `name=systemd` line): the innermost `.service` or `.scope`, else none.
pub fn unit_of(cgroup: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(cgroup);
    let line = text
        .lines()
        .find(|l| l.starts_with("0::"))
        .or_else(|| text.lines().find(|l| l.contains(":name=systemd:")))?;
    let path = line.splitn(3, ':').nth(2)?;
    path.split('/')
        .rev()
        .find(|c| c.ends_with(".service") || c.ends_with(".scope"))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &[u8] = b"55d0c0a00000-55d0c0a22000 r--p 00000000 fe:01 1234 /usr/sbin/sshd\n\
7f00aa000000-7f00aa022000 r-xp 00000000 fe:01 5678 /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)\n\
7f00ab000000-7f00ab022000 r-xp 00000000 fe:01 5678 /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)\n\
7f00ac000000-7f00ac001000 rw-s 00000000 00:01 99 /dev/shm/x (deleted)\n\
7f00ad000000-7f00ad001000 rw-s 00000000 00:01 98 /memfd:wayland (deleted)\n\
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n";

    #[test]
    fn finds_deleted_packaged_code_only() {
        assert_eq!(
            deleted_files(MAPS),
            vec!["/usr/lib/x86_64-linux-gnu/libssl.so.3".to_string()]
        );
    }

    #[test]
    fn units_from_cgroup_v2_and_v1() {
        assert_eq!(
            unit_of(b"0::/system.slice/ssh.service\n").as_deref(),
            Some("ssh.service")
        );
        assert_eq!(
            unit_of(b"12:pids:/\n1:name=systemd:/user.slice/user-0.slice/session-3.scope\n")
                .as_deref(),
            Some("session-3.scope")
        );
        assert_eq!(unit_of(b"0::/\n"), None);
    }

    #[test]
    fn scans_a_fake_proc() {
        let dir = tempfile::tempdir().unwrap();
        for (pid, unit) in [("10", "ssh.service"), ("11", "ssh.service"), ("12", "")] {
            let p = dir.path().join("proc").join(pid);
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("maps"), MAPS).unwrap();
            std::fs::write(p.join("cgroup"), format!("0::/system.slice/{unit}\n")).unwrap();
            std::fs::write(p.join("comm"), "worker\n").unwrap();
        }
        let p = dir.path().join("proc/13");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("maps"), b"0-1 r--p 0 0:0 0 /usr/bin/x\n").unwrap();
        let got = scan(dir.path());
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].unit, "pid 12 (worker)");
        assert_eq!(got[1].unit, "ssh.service");
        assert_eq!(got[1].pids, vec![10, 11]);
    }
}
