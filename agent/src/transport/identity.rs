//! The agent's state directory: its private key (mode 0600, never sent anywhere), the
//! certificate the collector issued, the pinned CA, and where the collector is.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Files inside the state directory.
pub mod files {
    pub const KEY: &str = "agent.key";
    pub const CERT: &str = "agent.crt";
    pub const CA: &str = "ca.crt";
    pub const IDENTITY: &str = "identity.json";
}

/// Errors of the state directory.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{dir} holds no enrolled identity ({missing} is missing); run `ward-agent enroll --state-dir {dir} ...` first"
    )]
    NotEnrolled { dir: PathBuf, missing: &'static str },
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is corrupt ({message}); enrol again with `ward-agent enroll --force`")]
    Corrupt { path: PathBuf, message: String },
}

/// Who this agent is and where it reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub host_id: String,
    pub collector: String,
    pub ca_fingerprint: String,
    pub enrolled_at: i64,
}

/// PEM material for the mutually authenticated channel.
#[derive(Clone)]
pub struct Credentials {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

impl Credentials {
    /// Returns when the agent's certificate expires (seconds since the Unix epoch), or
    /// None when it cannot be read.
    pub fn certificate_not_after(&self) -> Option<i64> {
        use x509_parser::pem::parse_x509_pem;
        let (_, pem) = parse_x509_pem(self.cert_pem.as_bytes()).ok()?;
        let cert = pem.parse_x509().ok()?;
        Some(cert.validity().not_after.timestamp())
    }
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    path: PathBuf,
}

impl StateDir {
    /// Refers to a state directory (nothing is read yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Returns the directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the path of a file in the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Creates the directory, owner-only.
    pub fn create(&self) -> Result<(), Error> {
        let err = |source| Error::Write {
            path: self.path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.path).map_err(err)?;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o700)).map_err(err)
    }

    /// Returns true when an identity has been written.
    pub fn is_enrolled(&self) -> bool {
        self.file(files::IDENTITY).exists()
    }

    /// Loads the enrolled identity and credentials.
    pub fn load(&self) -> Result<(Identity, Credentials), Error> {
        let identity_text = self.read_required(files::IDENTITY)?;
        let identity: Identity =
            serde_json::from_str(&identity_text).map_err(|e| Error::Corrupt {
                path: self.file(files::IDENTITY),
                message: e.to_string(),
            })?;
        let creds = Credentials {
            ca_pem: self.read_required(files::CA)?,
            cert_pem: self.read_required(files::CERT)?,
            key_pem: self.read_required(files::KEY)?,
        };
        Ok((identity, creds))
    }

    /// Stores a new identity; the key is written owner-only.
    pub fn store(&self, identity: &Identity, creds: &Credentials) -> Result<(), Error> {
        self.create()?;
        self.write(files::KEY, creds.key_pem.as_bytes(), 0o600)?;
        self.write(files::CERT, creds.cert_pem.as_bytes(), 0o644)?;
        self.write(files::CA, creds.ca_pem.as_bytes(), 0o644)?;
        let json = serde_json::to_vec_pretty(identity).map_err(|e| Error::Corrupt {
            path: self.file(files::IDENTITY),
            message: e.to_string(),
        })?;
        // Written last: its presence marks a complete enrolment.
        self.write(files::IDENTITY, &json, 0o644)
    }

    fn read_required(&self, name: &'static str) -> Result<String, Error> {
        let path = self.file(name);
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotEnrolled {
                dir: self.path.clone(),
                missing: name,
            }),
            Err(source) => Err(Error::Read { path, source }),
        }
    }

    /// Writes a file atomically (temporary file, fsync, rename) with `mode` from creation.
    pub fn write(&self, name: &str, contents: &[u8], mode: u32) -> Result<(), Error> {
        let path = self.file(name);
        let tmp = self.file(&format!(".{name}.tmp"));
        let err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(err)?;
        f.write_all(contents).map_err(err)?;
        f.sync_all().map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_expiry_is_read() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.not_after = rcgen::date_time_ymd(2031, 5, 6);
        let cert = params.self_signed(&key).unwrap();
        let creds = Credentials {
            ca_pem: String::new(),
            cert_pem: cert.pem(),
            key_pem: String::new(),
        };
        // 2031-05-06T00:00:00Z
        assert_eq!(creds.certificate_not_after(), Some(1_935_792_000));
        let junk = Credentials {
            cert_pem: "junk".into(),
            ..creds
        };
        assert_eq!(junk.certificate_not_after(), None);
    }

    #[test]
    fn round_trip_and_key_mode() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path().join("state"));
        assert!(matches!(sd.load(), Err(Error::NotEnrolled { .. })));
        let id = Identity {
            host_id: "h".into(),
            collector: "https://127.0.0.1:1".into(),
            ca_fingerprint: "SHA256:00".into(),
            enrolled_at: 1,
        };
        let creds = Credentials {
            ca_pem: "ca".into(),
            cert_pem: "cert".into(),
            key_pem: "key".into(),
        };
        sd.store(&id, &creds).unwrap();
        let (id2, creds2) = sd.load().unwrap();
        assert_eq!(id, id2);
        assert_eq!(creds2.key_pem, "key");
        let mode = std::fs::metadata(sd.file(files::KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
