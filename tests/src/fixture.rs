//! Fixture roots: small file trees that look like a Debian machine to `--root` (hostname,
//! machine-id, os-release, dpkg status), so several distinct hosts run on one machine.

use std::fmt::Write;
use std::path::{Path, PathBuf};

/// A package line of a fixture's dpkg status.
#[derive(Debug, Clone)]
pub struct Pkg {
    pub name: String,
    pub version: String,
    pub arch: String,
    /// dpkg Status, e.g. "install ok installed".
    pub status: String,
}

impl Pkg {
    /// A fully installed amd64 package.
    pub fn installed(name: &str, version: &str) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            status: "install ok installed".into(),
        }
    }
}

/// A fixture root directory.
pub struct Root {
    pub path: PathBuf,
}

impl Root {
    /// Creates the tree under `path` for a Debian 12 host.
    pub fn create(path: &Path, hostname: &str, machine_id: &str) -> anyhow::Result<Self> {
        for d in ["etc", "var/lib/dpkg", "proc/sys/kernel"] {
            std::fs::create_dir_all(path.join(d))?;
        }
        std::fs::write(path.join("etc/hostname"), format!("{hostname}\n"))?;
        std::fs::write(
            path.join("proc/sys/kernel/hostname"),
            format!("{hostname}\n"),
        )?;
        std::fs::write(path.join("etc/machine-id"), format!("{machine_id}\n"))?;
        std::fs::write(
            path.join("etc/os-release"),
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        )?;
        std::fs::write(
            path.join("proc/meminfo"),
            "MemTotal:        4026532 kB\nMemFree:         1000000 kB\nSwapTotal:             0 kB\n",
        )?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// Writes the dpkg status file with these packages (replacing the previous one).
    pub fn write_packages(&self, pkgs: &[Pkg]) -> anyhow::Result<()> {
        let mut s = String::new();
        for p in pkgs {
            let _ = write!(
                s,
                "Package: {}\nStatus: {}\nPriority: optional\nSection: misc\nInstalled-Size: 120\nMaintainer: Ward Tests <tests@example.org>\nArchitecture: {}\nVersion: {}\nDescription: fixture package {}\n a second description line\n .\n and a third\n\n",
                p.name, p.status, p.arch, p.version, p.name
            );
        }
        std::fs::write(self.path.join("var/lib/dpkg/status"), s)?;
        Ok(())
    }
}

impl Root {
    /// Writes apt's sources and lists for a Debian 12 host: the main archive and the
    /// security archive, offering `updates` as (package, version, from security). Writing
    /// again replaces them, as `apt update` would.
    pub fn write_apt_lists(&self, updates: &[(&str, &str, bool)]) -> anyhow::Result<()> {
        let lists = self.path.join("var/lib/apt/lists");
        std::fs::create_dir_all(&lists)?;
        std::fs::create_dir_all(self.path.join("etc/apt"))?;
        std::fs::write(
            self.path.join("etc/apt/sources.list"),
            "deb http://deb.debian.org/debian bookworm main\n\
             deb http://security.debian.org/debian-security bookworm-security main\n",
        )?;
        for (site, suite, label, security) in [
            ("deb.debian.org_debian", "bookworm", "Debian", false),
            (
                "security.debian.org_debian-security",
                "bookworm-security",
                "Debian-Security",
                true,
            ),
        ] {
            std::fs::write(
                lists.join(format!("{site}_dists_{suite}_InRelease")),
                format!(
                    "Origin: Debian\nLabel: {label}\nSuite: {suite}\nCodename: {suite}\nComponents: main\n"
                ),
            )?;
            let mut packages = String::new();
            for (name, version, _) in updates.iter().filter(|u| u.2 == security) {
                let _ = write!(
                    packages,
                    "Package: {name}\nVersion: {version}\nArchitecture: amd64\nFilename: pool/{name}.deb\n\n"
                );
            }
            std::fs::write(
                lists.join(format!("{site}_dists_{suite}_main_binary-amd64_Packages")),
                packages,
            )?;
        }
        Ok(())
    }
}

/// A realistic package list of `n` packages plus the named ones.
pub fn packages(n: usize, extra: &[Pkg]) -> Vec<Pkg> {
    let mut v: Vec<Pkg> = (0..n)
        .map(|i| Pkg::installed(&format!("lib-fixture{i:04}"), &format!("1.{i}.0-1+deb12u1")))
        .collect();
    v.extend_from_slice(extra);
    v
}
