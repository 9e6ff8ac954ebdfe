//! `wallet_tokens`: which tokens each wallet has touched, so that its balances read their
//! `balanceOf`. Written when a wallet first receives a token; a second sighting changes
//! nothing.

use crate::db::Db;
use crate::error::DbResult;
use crate::row::Columns;
use crate::store::SqlStore;
use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::money::WalletTokenStore;
use latchkey_core::store::StoreResult;

async fn token_ids(db: &Db, wallet_id: &str, limit: u32) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT token_id FROM wallet_tokens WHERE wallet_id = $1 \
         ORDER BY first_seen, token_id LIMIT $2",
    )
    .bind(wallet_id)
    .bind(i64::from(limit))
    .fetch_all(&db.reader)
    .await?;
    rows.iter()
        .map(|r| Columns::new(r, "wallet_tokens").get("token_id"))
        .collect()
}

async fn add(db: &Db, wallet_id: &str, token_id: &str, first_seen: Timestamp) -> DbResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO wallet_tokens (wallet_id, token_id, first_seen) VALUES ($1, $2, $3) \
         ON CONFLICT (wallet_id, token_id) DO NOTHING",
    )
    .bind(wallet_id)
    .bind(token_id)
    .bind(first_seen.0)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

#[async_trait]
impl WalletTokenStore for SqlStore {
    async fn wallet_token_ids(&self, wallet_id: &str, limit: u32) -> StoreResult<Vec<String>> {
        Ok(token_ids(&self.db, wallet_id, limit).await?)
    }

    async fn add_wallet_token(
        &self,
        wallet_id: &str,
        token_id: &str,
        first_seen: Timestamp,
    ) -> StoreResult<bool> {
        Ok(add(&self.db, wallet_id, token_id, first_seen).await?)
    }
}
