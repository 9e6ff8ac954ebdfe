//! The outbound engine's queue: leasing due transactions, their signed attempts, and the
//! conditional writes of each step (only the lease holder writes, the notification in the same
//! transaction). The pattern is the webhook outbox's (`outbox.rs`).

use crate::db::{Db, Dialect};
use crate::error::DbResult;
use crate::outbox;
use crate::row::Columns;
use crate::store::SqlStore;
use crate::transactions::{from_row, SELECT};
use async_trait::async_trait;
use latchkey_chains::Blockchain;
use latchkey_core::clock::Timestamp;
use latchkey_core::money::{
    AttemptKind, AttemptRecord, AttemptStatus, EngineStore, TransactionRecord, TxProgress, TxState,
};
use latchkey_core::store::StoreResult;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

const ATTEMPTS: &str = "tx_attempts";

/// The states the engine still has work in.
const LIVE: &str = "('INITIATED', 'QUEUED', 'SENT', 'STUCK', 'CONFIRMED')";

#[async_trait]
impl EngineStore for SqlStore {
    async fn claim_due_transactions(
        &self,
        blockchain: Blockchain,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<TransactionRecord>> {
        Ok(claim(&self.db, blockchain, now, lease_ms, limit).await?)
    }

    async fn attempts(&self, transaction_id: &str) -> StoreResult<Vec<AttemptRecord>> {
        Ok(attempts(&self.db, transaction_id).await?)
    }

    async fn lower_nonce_waiting(&self, wallet_id: &str, nonce: i64) -> StoreResult<bool> {
        Ok(lower_nonce_waiting(&self.db, wallet_id, nonce).await?)
    }

    async fn pending_outbound(&self, wallet_id: &str) -> StoreResult<u64> {
        Ok(pending_outbound(&self.db, wallet_id).await?)
    }

    async fn save_progress(&self, progress: &TxProgress) -> StoreResult<bool> {
        Ok(save(&self.db, progress).await?)
    }

    async fn add_bundle_attempt(
        &self,
        attempt: &AttemptRecord,
        lease_token: &str,
        station: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        Ok(add_bundle(&self.db, attempt, lease_token, station, now).await?)
    }
}

/// A stored fee (wei, decimal text) back as a number.
fn wei(c: &Columns<'_>, column: &'static str) -> DbResult<Option<u128>> {
    match c.get::<Option<String>>(column)? {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| c.corrupt(column, "not a decimal integer")),
    }
}

fn attempt_from_row(r: &AnyRow) -> DbResult<AttemptRecord> {
    let c = Columns::new(r, ATTEMPTS);
    let gas_limit: String = c.get("gas_limit")?;
    let nonce: i64 = c.get("nonce")?;
    Ok(AttemptRecord {
        id: c.get("id")?,
        transaction_id: c.get("transaction_id")?,
        kind: c.parsed("kind", AttemptKind::parse)?,
        challenge_id: c.get("challenge_id")?,
        nonce: u64::try_from(nonce).map_err(|_| c.corrupt("nonce", "negative"))?,
        raw: c.get("raw")?,
        tx_hash: c.get("tx_hash")?,
        gas_limit: gas_limit
            .parse()
            .map_err(|_| c.corrupt("gas_limit", "not a decimal integer"))?,
        max_fee: wei(&c, "max_fee")?,
        priority_fee: wei(&c, "priority_fee")?,
        gas_price: wei(&c, "gas_price")?,
        status: c.parsed("status", AttemptStatus::parse)?,
        last_error: c.get("last_error")?,
        broadcasts: c.get("broadcasts")?,
        last_broadcast_at: c.opt_time("last_broadcast_at")?,
        created_at: c.time("created_at")?,
        recent_blockhash: c.get("recent_blockhash")?,
        last_valid_block_height: c
            .get::<Option<i64>>("last_valid_block_height")?
            .map(|h| u64::try_from(h).map_err(|_| c.corrupt("last_valid_block_height", "negative")))
            .transpose()?,
    })
}

/// Inserts a signed attempt inside the caller's transaction (the outbound commit).
pub(crate) async fn insert_attempt_in(conn: &mut AnyConnection, a: &AttemptRecord) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO tx_attempts (id, transaction_id, kind, challenge_id, nonce, raw, tx_hash, \
         gas_limit, max_fee, priority_fee, gas_price, status, last_error, broadcasts, \
         last_broadcast_at, created_at, recent_blockhash, last_valid_block_height) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18)",
    )
    .bind(&a.id)
    .bind(&a.transaction_id)
    .bind(a.kind.as_str())
    .bind(&a.challenge_id)
    .bind(i64::try_from(a.nonce).unwrap_or(i64::MAX))
    .bind(a.raw.clone())
    .bind(&a.tx_hash)
    .bind(a.gas_limit.to_string())
    .bind(a.max_fee.map(|w| w.to_string()))
    .bind(a.priority_fee.map(|w| w.to_string()))
    .bind(a.gas_price.map(|w| w.to_string()))
    .bind(a.status.as_str())
    .bind(&a.last_error)
    .bind(a.broadcasts)
    .bind(a.last_broadcast_at.map(|t| t.0))
    .bind(a.created_at.0)
    .bind(&a.recent_blockhash)
    .bind(
        a.last_valid_block_height
            .map(|h| i64::try_from(h).unwrap_or(i64::MAX)),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(blockchain = %blockchain))]
async fn claim(
    db: &Db,
    blockchain: Blockchain,
    now: Timestamp,
    lease_ms: i64,
    limit: u32,
) -> DbResult<Vec<TransactionRecord>> {
    let token = uuid::Uuid::new_v4().to_string();
    let lock = match db.dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    // $1 now, $2 lease length, $3 token, $4 chain, $5 limit.
    let sql = format!(
        "UPDATE transactions SET lease_until = $1 + $2, lease_token = $3 \
         WHERE id IN (SELECT id FROM transactions \
           WHERE blockchain = $4 AND state IN {LIVE} \
             AND (tx_type = 'OUTBOUND' OR state = 'CONFIRMED') \
             AND next_check_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
           ORDER BY next_check_at LIMIT $5 {lock})"
    );
    let claimed = sqlx::query(&sql)
        .bind(now.0)
        .bind(lease_ms)
        .bind(&token)
        .bind(blockchain.as_str())
        .bind(i64::from(limit))
        .execute(&db.writer)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(Vec::new());
    }
    // Lowest nonce first, so that a wallet's transactions reach the node in order.
    let sql = format!(
        "{} WHERE t.lease_token = $1 ORDER BY t.wallet_id, t.nonce",
        *SELECT
    );
    let rows = sqlx::query(&sql).bind(&token).fetch_all(&db.writer).await?;
    rows.iter().map(from_row).collect()
}

#[tracing::instrument(skip_all)]
async fn attempts(db: &Db, transaction_id: &str) -> DbResult<Vec<AttemptRecord>> {
    let rows = sqlx::query(
        "SELECT id, transaction_id, kind, challenge_id, nonce, raw, tx_hash, gas_limit, max_fee, \
         priority_fee, gas_price, status, last_error, broadcasts, last_broadcast_at, created_at, \
         recent_blockhash, last_valid_block_height \
         FROM tx_attempts WHERE transaction_id = $1 ORDER BY created_at, id",
    )
    .bind(transaction_id)
    .fetch_all(&db.writer)
    .await?;
    rows.iter().map(attempt_from_row).collect()
}

#[tracing::instrument(skip_all)]
async fn lower_nonce_waiting(db: &Db, wallet_id: &str, nonce: i64) -> DbResult<bool> {
    let row = sqlx::query(
        "SELECT id FROM transactions WHERE wallet_id = $1 AND tx_type = 'OUTBOUND' \
         AND nonce < $2 AND state IN ('INITIATED', 'QUEUED') LIMIT 1",
    )
    .bind(wallet_id)
    .bind(nonce)
    .fetch_optional(&db.writer)
    .await?;
    Ok(row.is_some())
}

const PENDING_OUTBOUND: &str = "SELECT COUNT(*) FROM transactions WHERE wallet_id = $1 \
    AND tx_type = 'OUTBOUND' AND state IN ('INITIATED', 'QUEUED', 'SENT', 'STUCK')";

#[tracing::instrument(skip_all)]
async fn pending_outbound(db: &Db, wallet_id: &str) -> DbResult<u64> {
    let n: i64 = sqlx::query_scalar(PENDING_OUTBOUND)
        .bind(wallet_id)
        .fetch_one(&db.reader)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// [`pending_outbound`] inside the caller's transaction (the challenge commit).
pub(crate) async fn pending_outbound_in(
    conn: &mut AnyConnection,
    wallet_id: &str,
) -> DbResult<u64> {
    let n: i64 = sqlx::query_scalar(PENDING_OUTBOUND)
        .bind(wallet_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[tracing::instrument(skip_all, fields(transaction = %a.transaction_id))]
async fn add_bundle(
    db: &Db,
    a: &AttemptRecord,
    lease_token: &str,
    station: &str,
    now: Timestamp,
) -> DbResult<bool> {
    let mut tx = db.writer.begin().await?;
    // The lease is checked by touching the row under it: no other instance holds it while
    // this transaction runs (PostgreSQL's row lock; SQLite's single writer).
    let held = sqlx::query(
        "UPDATE transactions SET updated_at = updated_at WHERE id = $1 AND lease_token = $2",
    )
    .bind(&a.transaction_id)
    .bind(lease_token)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let used = sqlx::query(
        "UPDATE station_nonce_claims SET state = 'USED', transaction_id = holder_id, \
         holder_id = NULL, updated_at = $4 \
         WHERE station = $1 AND nonce = $2 AND holder_id = $3 AND state = 'RESERVED'",
    )
    .bind(station)
    .bind(i64::try_from(a.nonce).unwrap_or(i64::MAX))
    .bind(&a.transaction_id)
    .bind(now.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if held != 1 || used != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_attempt_in(&mut tx, a).await?;
    tx.commit().await?;
    Ok(true)
}

#[tracing::instrument(skip_all, fields(transaction = %p.transaction.id))]
async fn save(db: &Db, p: &TxProgress) -> DbResult<bool> {
    let t = &p.transaction;
    let mut tx = db.writer.begin().await?;
    let n = sqlx::query(
        "UPDATE transactions SET state = $1, tx_hash = $2, block_hash = $3, block_height = $4, \
         first_confirm_date = $5, network_fee = $6, error_reason = $7, error_details = $8, \
         sent_at = $9, next_check_at = $10, updated_at = $11, lease_until = NULL, \
         lease_token = NULL \
         WHERE id = $12 AND lease_token = $13",
    )
    .bind(t.state.as_str())
    .bind(&t.tx_hash)
    .bind(&t.block_hash)
    .bind(t.block_height)
    .bind(t.first_confirm_date.map(|d| d.0))
    .bind(&t.network_fee)
    .bind(&t.error_reason)
    .bind(&t.error_details)
    .bind(t.sent_at.map(|d| d.0))
    .bind(t.next_check_at.0)
    .bind(t.updated_at.0)
    .bind(&t.id)
    .bind(&t.lease_token)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    for a in &p.attempts {
        let sent = a.sent_at.map(|d| d.0);
        sqlx::query(
            "UPDATE tx_attempts SET status = $1, last_error = COALESCE($2, last_error), \
             broadcasts = broadcasts + $3, last_broadcast_at = COALESCE($4, last_broadcast_at) \
             WHERE id = $5 AND transaction_id = $6",
        )
        .bind(a.status.as_str())
        .bind(&a.last_error)
        .bind(i64::from(sent.is_some()))
        .bind(sent)
        .bind(&a.id)
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
    }
    if p.release_nonce && t.user_op_hash.is_some() {
        // An SCA transaction's nonce is the EntryPoint's; what goes back is the station's.
        sqlx::query(
            "UPDATE station_nonce_claims SET state = 'RELEASED', holder_id = NULL, \
             transaction_id = NULL, updated_at = $2 \
             WHERE transaction_id = $1 AND state = 'USED'",
        )
        .bind(&t.id)
        .bind(t.updated_at.0)
        .execute(&mut *tx)
        .await?;
    } else if p.release_nonce {
        if let Some(nonce) = t.nonce {
            sqlx::query(
                "UPDATE nonce_claims SET state = 'RELEASED', challenge_id = NULL, \
                 transaction_id = NULL, updated_at = $3 \
                 WHERE wallet_id = $1 AND nonce = $2 AND state = 'USED' AND transaction_id = $4",
            )
            .bind(&t.wallet_id)
            .bind(nonce)
            .bind(t.updated_at.0)
            .bind(&t.id)
            .execute(&mut *tx)
            .await?;
        }
    }
    if t.user_op_hash.is_some() && matches!(t.state, TxState::Complete | TxState::Cancelled) {
        // The account's first COMPLETE operation deployed it (initCode), or the no-op of its
        // cancel did: signatures from it need no ERC-6492 wrapping from now on.
        sqlx::query("UPDATE wallets SET deployed_at = $2 WHERE id = $1 AND deployed_at IS NULL")
            .bind(&t.wallet_id)
            .bind(t.updated_at.0)
            .execute(&mut *tx)
            .await?;
    }
    for n in &p.notifications {
        outbox::enqueue_in(&mut tx, n, t.updated_at).await?;
    }
    tx.commit().await?;
    Ok(true)
}
