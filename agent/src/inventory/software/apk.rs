//! apk's database of installed packages (`/lib/apk/db/installed`): which Alpine packages
//! are installed, at which version.
//!
//! The file is apk's text package format, the one APKINDEX files also use: one package
//! per stanza, stanzas separated by blank lines, each line one letter, a colon and a
//! value. `P` is the name, `V` the version (`1.2.3-r4`), `A` the architecture, `I` the
//! installed size in bytes, `o` the origin (the source package), `t` the build time.
//! The file lists (`F`, `R`, `a`, `M`, `Z`), checksums (`C`), dependencies (`D`, `p`,
//! `r`, `i`) and the rest are skipped.

use std::io;
use std::path::PathBuf;

use ward_proto::v1 as pb;

use crate::inventory::root::Root;

/// Location of the installed database, relative to the root.
pub const INSTALLED: &str = "lib/apk/db/installed";

/// Errors reading apk's installed database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The installed database exists but cannot be read.
    #[error(
        "failed to read apk's installed database at {}: {source}; apk keeps it readable by \
         all users (0644 under 0755 directories), so restore that or run the agent as a \
         user that can read it",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
}

/// Reads the packages of apk's installed database under `root`; `None` when there is no
/// apk database.
pub(crate) fn read(root: &Root) -> Result<Option<Vec<pb::Package>>, Error> {
    let path = root.join(INSTALLED);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(parse_database(&bytes))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read { path, source }),
    }
}

/// Parses apk's text package format (the installed database, or an APKINDEX) into
/// packages (`source` "apk", `state` "installed").
///
/// `version` is the full version as apk prints it (`1.2.3-r4`), `release` the revision's
/// number (`4`, abuild's `pkgrel`; empty without `-rN`), `epoch` always empty: apk has
/// none. `source_package` is the origin when it differs from the name. Bytes that are
/// not UTF-8 are replaced per field; the first of repeated fields wins. Stanzas without
/// a name or a version are skipped and counted in a warning. Never panics.
pub fn parse_database(bytes: &[u8]) -> Vec<pb::Package> {
    let mut packages = Vec::new();
    let mut skipped = 0usize;
    let mut stanza = Stanza::default();
    for line in bytes.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            stanza.finish(&mut packages, &mut skipped);
            continue;
        }
        // apk reads a line as a field letter, a colon and the value; anything else is
        // not a field.
        let [key, b':', value @ ..] = line else {
            continue;
        };
        stanza.set(*key, value);
    }
    stanza.finish(&mut packages, &mut skipped);
    if skipped > 0 {
        tracing::warn!(
            skipped,
            "skipped apk database entries without a name or version"
        );
    }
    packages
}

/// The fields of one stanza that matter, borrowed from the file's bytes.
#[derive(Debug, Default)]
struct Stanza<'a> {
    seen_field: bool,
    name: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    arch: Option<&'a [u8]>,
    installed_size: Option<&'a [u8]>,
    origin: Option<&'a [u8]>,
}

impl<'a> Stanza<'a> {
    /// Records a field; the first of repeated fields wins.
    fn set(&mut self, key: u8, value: &'a [u8]) {
        self.seen_field = true;
        let slot = match key {
            b'P' => &mut self.name,
            b'V' => &mut self.version,
            b'A' => &mut self.arch,
            b'I' => &mut self.installed_size,
            b'o' => &mut self.origin,
            _ => return,
        };
        slot.get_or_insert(value);
    }

    /// Turns the stanza into a package (if it is one) and starts a new stanza.
    fn finish(&mut self, out: &mut Vec<pb::Package>, skipped: &mut usize) {
        let stanza = std::mem::take(self);
        if !stanza.seen_field {
            return;
        }
        let name = text(stanza.name);
        let version = text(stanza.version);
        if name.is_empty() || version.is_empty() {
            *skipped += 1;
            return;
        }
        let origin = text(stanza.origin);
        out.push(pb::Package {
            release: ward_version::apk::revision(&version)
                .unwrap_or_default()
                .to_owned(),
            arch: text(stanza.arch),
            source: "apk".to_owned(),
            source_package: if origin == name {
                String::new()
            } else {
                origin
            },
            installed_size: text(stanza.installed_size).parse().unwrap_or(0),
            state: "installed".to_owned(),
            epoch: String::new(),
            // apk records no install time (`t:` is the build time) and no vendor.
            install_time: 0,
            vendor: String::new(),
            name,
            version,
        });
    }
}

/// Returns a field's value as text, trimmed of ASCII whitespace (apk writes none).
fn text(value: Option<&[u8]>) -> String {
    value
        .map(|v| String::from_utf8_lossy(v.trim_ascii()).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two stanzas in the layout of an Alpine 3.20 `installed` file: checksum first,
    /// then the package fields, then the file list with per-file ACLs and checksums.
    const TWO: &str = "\
C:Q1l/+2PaQN0N/Y5NQ66JyXJo6clLQ=
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

C:Q1PJw5+Q3PmXv1wQfgXUHaqk3C1OM=
P:ssl_client
V:1.36.1-r29
A:x86_64
S:4666
I:14336
T:EXternal ssl_client for busybox wget
o:busybox
t:1716809453
D:so:libc.musl-x86_64.so.1 so:libcrypto.so.3 so:libssl.so.3
i:busybox=1.36.1-r29 libssl3
F:usr/bin
R:ssl_client
a:0:0:755
Z:Q1Kdl0bFH5GqSsLHW5Mk5WEJ0PI7M=
";

    #[test]
    fn reads_name_version_arch_size_origin() {
        let pkgs = parse_database(TWO.as_bytes());
        assert_eq!(
            pkgs,
            vec![
                pb::Package {
                    name: "musl".into(),
                    version: "1.2.5-r0".into(),
                    arch: "x86_64".into(),
                    source: "apk".into(),
                    source_package: String::new(),
                    installed_size: 654_608,
                    state: "installed".into(),
                    epoch: String::new(),
                    release: "0".into(),
                    ..Default::default()
                },
                pb::Package {
                    name: "ssl_client".into(),
                    version: "1.36.1-r29".into(),
                    arch: "x86_64".into(),
                    source: "apk".into(),
                    source_package: "busybox".into(),
                    installed_size: 14_336,
                    state: "installed".into(),
                    epoch: String::new(),
                    release: "29".into(),
                    ..Default::default()
                },
            ]
        );
    }

    #[test]
    fn crlf_extra_blank_lines_and_nameless_stanzas() {
        let text = "\r\n\r\nP:a\r\nV:1-r1\r\n\r\n\n\nV:2\n\nP:b\nV:2.0\nI:x\n";
        let pkgs = parse_database(text.as_bytes());
        let names: Vec<_> = pkgs.iter().map(|p| (&*p.name, &*p.version)).collect();
        assert_eq!(names, [("a", "1-r1"), ("b", "2.0")]);
        assert_eq!(pkgs[1].installed_size, 0);
        assert_eq!(pkgs[1].release, "");
    }

    #[test]
    fn missing_database_is_absent_and_unreadable_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&Root::new(dir.path())).unwrap().is_none());
        // A directory where the file should be cannot be read as one.
        std::fs::create_dir_all(dir.path().join(INSTALLED)).unwrap();
        let err = read(&Root::new(dir.path())).unwrap_err().to_string();
        assert!(
            err.starts_with("failed to read apk's installed database at ")
                && err.contains("lib/apk/db/installed"),
            "{err}"
        );
    }
}
