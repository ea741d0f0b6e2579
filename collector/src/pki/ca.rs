//! The private certificate authority kept in `<data-dir>/pki/`: created on first start,
//! reloaded afterwards. It signs the collector's server certificate, one admin
//! certificate, and a client certificate for every enrolled agent.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::identity::{ADMIN_OU, AGENT_OU, SERVER_OU};

/// Lifetime of the CA certificate.
const CA_LIFETIME: Duration = Duration::days(3650);
/// Lifetime of the collector's server certificate.
const SERVER_LIFETIME: Duration = Duration::days(825);
/// Lifetime of an admin certificate.
const ADMIN_LIFETIME: Duration = Duration::days(365);

/// Errors of the certificate authority.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
    #[error(
        "the CA in {dir} is incomplete ({missing} is missing); restore it from a backup, or move the directory away to create a new CA (every agent must then enrol again)"
    )]
    Incomplete { dir: PathBuf, missing: &'static str },
    #[error("invalid key or certificate in {path}: {source}")]
    Invalid { path: PathBuf, source: rcgen::Error },
    #[error("invalid certificate signing request: {0}; the agent must send a PEM PKCS#10 request")]
    Csr(rcgen::Error),
    #[error("failed to sign a certificate: {0}")]
    Sign(rcgen::Error),
}

/// A certificate the authority issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub certificate_pem: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Expiry, seconds since the Unix epoch.
    pub not_after: i64,
}

/// The loaded certificate authority.
pub struct Authority {
    dir: PathBuf,
    ca_pem: String,
    ca_der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
    client_lifetime: Duration,
}

/// File names inside the pki directory.
pub mod files {
    pub const CA_CERT: &str = "ca.crt";
    pub const CA_KEY: &str = "ca.key";
    pub const SERVER_CERT: &str = "server.crt";
    pub const SERVER_KEY: &str = "server.key";
    pub const ADMIN_CERT: &str = "admin.crt";
    pub const ADMIN_KEY: &str = "admin.key";
}

impl Authority {
    /// Loads the CA from `dir`, creating the CA, the server certificate (for `server_names`
    /// plus localhost) and the admin certificate when they do not exist yet.
    /// Returns the authority and whether the CA was created now.
    pub fn load_or_create(
        dir: &Path,
        server_names: &[String],
        client_lifetime: std::time::Duration,
    ) -> Result<(Self, bool), Error> {
        fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.into(),
            source,
        })?;
        // The directory holds private keys: owner only.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|source| {
            Error::Write {
                path: dir.into(),
                source,
            }
        })?;
        let cert_path = dir.join(files::CA_CERT);
        let key_path = dir.join(files::CA_KEY);
        let created = match (cert_path.exists(), key_path.exists()) {
            (true, true) => false,
            (false, false) => {
                create_ca(dir)?;
                true
            }
            (true, false) => {
                return Err(Error::Incomplete {
                    dir: dir.into(),
                    missing: files::CA_KEY,
                });
            }
            (false, true) => {
                return Err(Error::Incomplete {
                    dir: dir.into(),
                    missing: files::CA_CERT,
                });
            }
        };
        let ca_pem = read(&cert_path)?;
        let key = KeyPair::from_pem(&read(&key_path)?).map_err(|source| Error::Invalid {
            path: key_path.clone(),
            source,
        })?;
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, key).map_err(|source| Error::Invalid {
            path: cert_path.clone(),
            source,
        })?;
        let ca_der = pem_to_der(&ca_pem).ok_or(Error::Invalid {
            path: cert_path,
            source: rcgen::Error::CouldNotParseCertificate,
        })?;
        let client_lifetime =
            Duration::seconds(i64::try_from(client_lifetime.as_secs()).unwrap_or(i64::MAX / 2));
        let authority = Self {
            dir: dir.into(),
            ca_pem,
            ca_der,
            issuer,
            client_lifetime,
        };
        authority.ensure_server_cert(server_names)?;
        authority.ensure_admin_cert()?;
        Ok((authority, created))
    }

    /// Returns the CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Returns the CA fingerprint as agents pin it: `SHA256:` and lowercase hex of the
    /// SHA-256 of the CA certificate's DER.
    pub fn fingerprint(&self) -> String {
        ward_proto::fingerprint::of_der(&self.ca_der)
    }

    /// Returns the path of a file in the pki directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Issues an agent's client certificate for `host_id` from its CSR. Only the CSR's
    /// public key is used: subject, names and usages are set here.
    pub fn issue_agent(&self, csr_pem: &str, host_id: &str) -> Result<Issued, Error> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(Error::Csr)?;
        let params = leaf_params(host_id, AGENT_OU, self.client_lifetime, Vec::new())?;
        let cert = params
            .signed_by(&csr.public_key, &self.issuer)
            .map_err(Error::Sign)?;
        issued(&cert, &params)
    }

    fn ensure_server_cert(&self, server_names: &[String]) -> Result<(), Error> {
        let cert_path = self.dir.join(files::SERVER_CERT);
        let key_path = self.dir.join(files::SERVER_KEY);
        let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        if let Ok(h) = fs::read_to_string("/proc/sys/kernel/hostname") {
            let h = h.trim();
            if !h.is_empty() {
                names.push(h.to_string());
            }
        }
        names.extend(server_names.iter().cloned());
        names.sort();
        names.dedup();
        if cert_path.exists() && key_path.exists() {
            let pem = read(&cert_path)?;
            if covers_names(&pem, &names) {
                return Ok(());
            }
            tracing::info!(path = %cert_path.display(), "server names changed; issuing a new server certificate");
        }
        let sans = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => n.clone().try_into().map(SanType::DnsName),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::Sign)?;
        let mut params = leaf_params("ward-collector", SERVER_OU, SERVER_LIFETIME, sans)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().map_err(Error::Sign)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(Error::Sign)?;
        write_private(&key_path, &key.serialize_pem())?;
        // The chain lets agents see the CA during the enrolment handshake and pin it.
        write_public(&cert_path, &format!("{}{}", cert.pem(), self.ca_pem))?;
        Ok(())
    }

    fn ensure_admin_cert(&self) -> Result<(), Error> {
        let cert_path = self.dir.join(files::ADMIN_CERT);
        let key_path = self.dir.join(files::ADMIN_KEY);
        if cert_path.exists() && key_path.exists() {
            if expires_in_more_than_30_days(&read(&cert_path)?) {
                return Ok(());
            }
            tracing::info!(path = %cert_path.display(), "admin certificate expires within 30 days; issuing a new one");
        }
        let params = leaf_params("admin", ADMIN_OU, ADMIN_LIFETIME, Vec::new())?;
        let key = KeyPair::generate().map_err(Error::Sign)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(Error::Sign)?;
        write_private(&key_path, &key.serialize_pem())?;
        write_public(&cert_path, &cert.pem())?;
        Ok(())
    }
}

/// Returns the DER of the first certificate in a PEM text.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")?;
    let body_start = start + "-----BEGIN CERTIFICATE-----".len();
    let end = pem[body_start..].find("-----END CERTIFICATE-----")? + body_start;
    let b64: String = pem[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

fn create_ca(dir: &Path) -> Result<(), Error> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    let suffix = hex::encode(rand::random::<[u8; 4]>());
    dn.push(DnType::OrganizationName, "Ward");
    dn.push(DnType::CommonName, format!("Ward collector CA {suffix}"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + CA_LIFETIME;
    params.serial_number = Some(random_serial());
    let key = KeyPair::generate().map_err(Error::Sign)?;
    let cert = params.self_signed(&key).map_err(Error::Sign)?;
    write_private(&dir.join(files::CA_KEY), &key.serialize_pem())?;
    write_public(&dir.join(files::CA_CERT), &cert.pem())?;
    tracing::info!(dir = %dir.display(), "created a new collector CA");
    Ok(())
}

fn leaf_params(
    common_name: &str,
    unit: &str,
    lifetime: Duration,
    sans: Vec<SanType>,
) -> Result<CertificateParams, Error> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Ward");
    dn.push(DnType::OrganizationalUnitName, unit);
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    // Tolerate modest clock skew between collector and agents.
    params.not_before = now - Duration::hours(1);
    params.not_after = now + lifetime;
    params.serial_number = Some(random_serial());
    Ok(params)
}

/// Returns a random positive 16-byte serial whose first byte is not zero: DER drops a
/// leading zero byte, and the serial must read back exactly as it was chosen.
fn random_serial() -> SerialNumber {
    let mut bytes = rand::random::<[u8; 16]>();
    bytes[0] = (bytes[0] & 0x7f).max(1);
    SerialNumber::from_slice(&bytes)
}

/// Describes an issued certificate. The serial is read back from the certificate itself,
/// exactly as `identity::identify` will read it from a peer.
fn issued(certificate: &rcgen::Certificate, params: &CertificateParams) -> Result<Issued, Error> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.der())
        .map_err(|_| Error::Sign(rcgen::Error::CouldNotParseCertificate))?;
    Ok(Issued {
        certificate_pem: certificate.pem(),
        serial: hex::encode(parsed.raw_serial()),
        not_after: params.not_after.unix_timestamp(),
    })
}

fn covers_names(pem: &str, names: &[String]) -> bool {
    let Some(der) = pem_to_der(pem) else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else {
        return false;
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    let present: Vec<String> = san
        .value
        .general_names
        .iter()
        .filter_map(|g| match g {
            x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_string()),
            x509_parser::extensions::GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::IpAddr::from(a).to_string()),
                16 => <[u8; 16]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::IpAddr::from(a).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let fresh = expires_in_more_than_30_days(pem);
    fresh && names.iter().all(|n| present.contains(n))
}

/// Returns whether the first certificate of `pem` is valid for more than 30 more days.
fn expires_in_more_than_30_days(pem: &str) -> bool {
    let Some(der) = pem_to_der(pem) else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else {
        return false;
    };
    cert.validity()
        .time_to_expiration()
        .is_some_and(|left| left.whole_days() > 30)
}

fn read(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.into(),
        source,
    })
}

fn write_private(path: &Path, contents: &str) -> Result<(), Error> {
    write_file(path, contents, 0o600)
}

fn write_public(path: &Path, contents: &str) -> Result<(), Error> {
    write_file(path, contents, 0o644)
}

/// Writes atomically (temp file + rename) with the given mode from the start, so a
/// private key is never readable by others even for a moment.
fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), Error> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let err = |source| Error::Write {
        path: path.into(),
        source,
    };
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(contents.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    fs::rename(&tmp, path).map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reloads_the_same_ca() {
        let dir = tempfile::tempdir().unwrap();
        let life = std::time::Duration::from_secs(86400);
        let (a, created) = Authority::load_or_create(dir.path(), &[], life).unwrap();
        assert!(created);
        let (b, created) = Authority::load_or_create(dir.path(), &[], life).unwrap();
        assert!(!created);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert!(a.fingerprint().starts_with("SHA256:"));
        assert_eq!(a.fingerprint().len(), 7 + 64);
        let mode = fs::metadata(dir.path().join(files::CA_KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn missing_key_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let life = std::time::Duration::from_secs(86400);
        Authority::load_or_create(dir.path(), &[], life).unwrap();
        fs::remove_file(dir.path().join(files::CA_KEY)).unwrap();
        let err = Authority::load_or_create(dir.path(), &[], life)
            .err()
            .unwrap();
        assert!(err.to_string().contains("ca.key is missing"), "{err}");
    }

    #[test]
    fn new_server_name_reissues_server_cert() {
        let dir = tempfile::tempdir().unwrap();
        let life = std::time::Duration::from_secs(86400);
        Authority::load_or_create(dir.path(), &[], life).unwrap();
        let before = fs::read_to_string(dir.path().join(files::SERVER_CERT)).unwrap();
        Authority::load_or_create(dir.path(), &["ward.example.org".into()], life).unwrap();
        let after = fs::read_to_string(dir.path().join(files::SERVER_CERT)).unwrap();
        assert_ne!(before, after);
        assert!(covers_names(
            &after,
            &["ward.example.org".into(), "127.0.0.1".into()]
        ));
    }

    #[test]
    fn serials_read_back_as_stored() {
        let dir = tempfile::tempdir().unwrap();
        let life = std::time::Duration::from_secs(86400);
        let (a, _) = Authority::load_or_create(dir.path(), &[], life).unwrap();
        let key = KeyPair::generate().unwrap();
        let csr = CertificateParams::default()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap();
        // Enough issues that a leading zero byte (1 in 256) would show up.
        for _ in 0..600 {
            let issued = a.issue_agent(&csr, "h").unwrap();
            let der = pem_to_der(&issued.certificate_pem).unwrap();
            let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
            assert_eq!(hex::encode(cert.raw_serial()), issued.serial);
            assert_eq!(issued.serial.len(), 32);
        }
    }

    #[test]
    fn garbage_csr_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let life = std::time::Duration::from_secs(86400);
        let (a, _) = Authority::load_or_create(dir.path(), &[], life).unwrap();
        assert!(matches!(
            a.issue_agent("not a csr", "h1"),
            Err(Error::Csr(_))
        ));
    }
}
