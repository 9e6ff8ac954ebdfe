//! The inbound follower's storage: the per-chain cursor and lease (`chains`), the wallets a
//! block's deposits are for, and deposits inserted once with their notification.

use crate::db::Db;
use crate::error::DbResult;
use crate::store::SqlStore;
use crate::transactions::{insert_with, INSERT_ONCE};
use crate::{outbox, wallets};
use async_trait::async_trait;
use latchkey_chains::Blockchain;
use latchkey_core::clock::Timestamp;
use latchkey_core::model::WalletRecord;
use latchkey_core::money::{FollowerStore, TransactionRecord};
use latchkey_core::store::StoreResult;
use latchkey_core::webhooks::NotificationDraft;
use sqlx::Row;

#[async_trait]
impl FollowerStore for SqlStore {
    async fn lease_chain(
        &self,
        blockchain: Blockchain,
        token: &str,
        now: Timestamp,
        lease_ms: i64,
    ) -> StoreResult<Option<Option<u64>>> {
        Ok(lease(&self.db, blockchain, token, now, lease_ms).await?)
    }

    async fn advance_chain(
        &self,
        blockchain: Blockchain,
        token: &str,
        next_block: u64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE chains SET next_block = $1, updated_at = $2 \
             WHERE blockchain = $3 AND lease_token = $4",
        )
        .bind(i64::try_from(next_block).unwrap_or(i64::MAX))
        .bind(now.0)
        .bind(blockchain.as_str())
        .bind(token)
        .execute(&self.db.writer)
        .await
        .map_err(crate::error::DbError::from)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn wallets_at(
        &self,
        blockchain: Blockchain,
        addresses: &[String],
    ) -> StoreResult<Vec<WalletRecord>> {
        Ok(wallets::at_addresses(&self.db, blockchain.as_str(), addresses).await?)
    }

    async fn insert_inbound(
        &self,
        tx: &TransactionRecord,
        notification: Option<&NotificationDraft>,
    ) -> StoreResult<bool> {
        Ok(insert_inbound(&self.db, tx, notification).await?)
    }

    async fn wallets_on(&self, blockchain: Blockchain) -> StoreResult<Vec<WalletRecord>> {
        Ok(wallets::on_chain(&self.db, blockchain.as_str()).await?)
    }

    async fn solana_cursor(
        &self,
        blockchain: Blockchain,
        address: &str,
    ) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "SELECT last_signature FROM solana_cursors WHERE blockchain = $1 AND address = $2",
        )
        .bind(blockchain.as_str())
        .bind(address)
        .fetch_optional(&self.db.writer)
        .await
        .map_err(crate::error::DbError::from)?;
        Ok(row
            .map(|r| r.try_get::<String, _>("last_signature"))
            .transpose()
            .map_err(crate::error::DbError::from)?)
    }

    async fn set_solana_cursor(
        &self,
        blockchain: Blockchain,
        address: &str,
        signature: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO solana_cursors (blockchain, address, last_signature, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (blockchain, address) \
             DO UPDATE SET last_signature = $3, updated_at = $4",
        )
        .bind(blockchain.as_str())
        .bind(address)
        .bind(signature)
        .bind(now.0)
        .execute(&self.db.writer)
        .await
        .map_err(crate::error::DbError::from)?;
        Ok(())
    }
}

#[tracing::instrument(skip_all, fields(blockchain = %blockchain))]
async fn lease(
    db: &Db,
    blockchain: Blockchain,
    token: &str,
    now: Timestamp,
    lease_ms: i64,
) -> DbResult<Option<Option<u64>>> {
    let mut tx = db.writer.begin().await?;
    sqlx::query(
        "INSERT INTO chains (blockchain, next_block, updated_at) VALUES ($1, NULL, $2) \
         ON CONFLICT (blockchain) DO NOTHING",
    )
    .bind(blockchain.as_str())
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    let taken = sqlx::query(
        "UPDATE chains SET lease_until = $1 + $2, lease_token = $3 \
         WHERE blockchain = $4 \
           AND (lease_until IS NULL OR lease_until <= $1 OR lease_token = $3)",
    )
    .bind(now.0)
    .bind(lease_ms)
    .bind(token)
    .bind(blockchain.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if taken != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    let row = sqlx::query("SELECT next_block FROM chains WHERE blockchain = $1")
        .bind(blockchain.as_str())
        .fetch_one(&mut *tx)
        .await?;
    let next: Option<i64> = row.try_get("next_block")?;
    tx.commit().await?;
    Ok(Some(next.map(|n| u64::try_from(n).unwrap_or(0))))
}

#[tracing::instrument(skip_all)]
async fn insert_inbound(
    db: &Db,
    t: &TransactionRecord,
    notification: Option<&NotificationDraft>,
) -> DbResult<bool> {
    let mut tx = db.writer.begin().await?;
    let written = insert_with(&mut tx, t, &INSERT_ONCE).await?;
    if let (1, Some(notification)) = (written, notification) {
        outbox::enqueue_in(&mut tx, notification, t.created_at).await?;
    }
    tx.commit().await?;
    Ok(written == 1)
}
