//! Enrolment tokens: 32 random bytes shown once to the admin; the collector keeps only
//! their SHA-256, so a copy of the database cannot enrol anything.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Prefix that makes a Ward enrolment token recognisable (and greppable in leaks).
pub const PREFIX: &str = "ward_et_";

/// A freshly generated token.
pub struct Generated {
    /// The secret to hand to the agent.
    pub token: String,
    /// Its hash, as stored.
    pub hash: [u8; 32],
    /// A short public id for listings and audit.
    pub id: String,
}

/// Generates a new random token.
pub fn generate() -> Generated {
    let secret = rand::random::<[u8; 32]>();
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let hash = hash(&token);
    Generated {
        id: hex::encode(&hash[..6]),
        token,
        hash,
    }
}

/// Returns the stored form of a token. Surrounding whitespace (a trailing newline in a
/// token file) is not part of the token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let a = generate();
        let b = generate();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with(PREFIX));
        assert_eq!(hash(&a.token), a.hash);
        assert_eq!(hash(&format!("{}\n", a.token)), a.hash);
    }
}
