//! Enrolment tokens on SQLite.

use super::SqliteStore;
use crate::store::tokens::usable;
use crate::store::{Error, NewHost, NewToken, TokenStore};

#[async_trait::async_trait]
impl TokenStore for SqliteStore {
    async fn create_token(&self, token: NewToken) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO enrollment_tokens (id, hash, uses_total, uses_left, expires_at, label, created_at) \
             VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(&token.id)
        .bind(&token.hash[..])
        .bind(i64::from(token.uses))
        .bind(token.expires_at)
        .bind(&token.label)
        .bind(token.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn check_token(&self, token_hash: &[u8; 32], now: i64) -> Result<(), Error> {
        let token: Option<(String, i64, i64)> = sqlx::query_as(
            "SELECT id, uses_left, expires_at FROM enrollment_tokens WHERE hash = $1",
        )
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await?;
        usable(token, now).map(drop)
    }

    async fn enroll(&self, token_hash: &[u8; 32], host: NewHost) -> Result<(), Error> {
        let mut tx = self.begin_write().await?;
        let token: Option<(String, i64, i64)> = sqlx::query_as(
            "SELECT id, uses_left, expires_at FROM enrollment_tokens WHERE hash = $1",
        )
        .bind(&token_hash[..])
        .fetch_optional(&mut *tx)
        .await?;
        let token_id = usable(token, host.enrolled_at)?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM hosts WHERE id = $1")
            .bind(&host.id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(Error::HostExists(host.id));
        }
        sqlx::query(
            "INSERT INTO hosts (id, hostname, agent_version, cert_serial, cert_not_after, enrolled_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&host.id)
        .bind(&host.hostname)
        .bind(&host.agent_version)
        .bind(&host.cert_serial)
        .bind(host.cert_not_after)
        .bind(host.enrolled_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE enrollment_tokens SET uses_left = uses_left - 1 WHERE id = $1")
            .bind(&token_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
