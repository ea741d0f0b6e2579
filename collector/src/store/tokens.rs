//! Enrolment tokens and the registration of a host they allow.

use super::{Error, NewHost, NewToken};

/// Enrolment tokens. Each method is one transaction.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Records a new enrolment token (only its SHA-256 hash is stored).
    async fn create_token(&self, token: NewToken) -> Result<(), Error>;
    /// Checks, without consuming it, that the token with this hash could enrol a host at
    /// `now` (so that nothing is signed for a bad token). `enroll` checks again.
    async fn check_token(&self, token_hash: &[u8; 32], now: i64) -> Result<(), Error>;
    /// Consumes one use of the token with this hash and registers the host, atomically.
    /// The token is checked against `host.enrolled_at`.
    async fn enroll(&self, token_hash: &[u8; 32], host: NewHost) -> Result<(), Error>;
}

/// Returns the id of a token row that may enrol a host at `now`, or why not. Backends
/// read the row (id, uses left, expiry) and ask this.
pub fn usable(token: Option<(String, i64, i64)>, now: i64) -> Result<String, Error> {
    let Some((token_id, uses_left, expires_at)) = token else {
        return Err(Error::TokenUnknown);
    };
    if now >= expires_at {
        return Err(Error::TokenExpired { at: expires_at });
    }
    if uses_left <= 0 {
        return Err(Error::TokenUsedUp);
    }
    Ok(token_id)
}
