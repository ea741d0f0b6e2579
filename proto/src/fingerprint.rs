//! The CA fingerprint agents pin: `SHA256:` followed by the lowercase hex of the SHA-256 of
//! a certificate's DER. One definition for what the collector prints, admins copy and
//! agents check.

use sha2::{Digest, Sha256};

/// Returns the SHA-256 of a DER certificate.
pub fn digest(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Returns the fingerprint of a DER certificate, `SHA256:<hex>`.
pub fn of_der(der: &[u8]) -> String {
    format!("SHA256:{}", hex::encode(digest(der)))
}

/// Parses `SHA256:<hex>` (also `sha256:`, and colons between hex pairs as other tools
/// print them) into the digest; None when it is not one.
pub fn parse(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    let hex_part = s
        .strip_prefix("SHA256:")
        .or_else(|| s.strip_prefix("sha256:"))?;
    let cleaned: String = hex_part.chars().filter(|c| *c != ':').collect();
    hex::decode(cleaned).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_variants() {
        let fp = of_der(b"certificate");
        assert!(fp.starts_with("SHA256:") && fp.len() == 7 + 64);
        assert_eq!(parse(&fp), Some(digest(b"certificate")));
        let hex64 = "ab".repeat(32);
        assert_eq!(parse(&format!("sha256:{hex64}")), Some([0xab; 32]));
        assert_eq!(
            parse(&format!("SHA256:{}", vec!["ab"; 32].join(":"))),
            Some([0xab; 32])
        );
        assert_eq!(parse(&hex64), None);
        assert_eq!(parse("SHA256:abcd"), None);
        assert_eq!(parse("SHA256:zz"), None);
    }
}
