//! Per-wallet nonce claims (`wallet_nonces`, `nonce_claims`): the reservation an execution
//! makes before it signs, and the sweeper that gives back the claims of abandoned ones.
//!
//! Two instances cannot hand out one nonce: on PostgreSQL the reservation locks the wallet's
//! `wallet_nonces` row (`FOR UPDATE`) for its whole transaction, on SQLite the single writer
//! serialises it, and in both the claim's primary key `(wallet_id, nonce)` and the checked
//! state flips refuse a second holder.

use crate::db::Db;
use crate::error::DbResult;
use crate::store::SqlStore;
use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::money::{ChainNonces, OutboundStore};
use latchkey_core::store::StoreResult;
use sqlx::{AnyConnection, Row};

#[async_trait]
impl OutboundStore for SqlStore {
    async fn reserve_nonce(
        &self,
        wallet_id: &str,
        challenge_id: &str,
        chain: ChainNonces,
        now: Timestamp,
    ) -> StoreResult<u64> {
        Ok(reserve(&self.db, &WALLETS, wallet_id, challenge_id, chain, now).await?)
    }

    async fn reserve_station_nonce(
        &self,
        station: &str,
        transaction_id: &str,
        chain: ChainNonces,
        now: Timestamp,
    ) -> StoreResult<u64> {
        Ok(reserve(&self.db, &STATIONS, station, transaction_id, chain, now).await?)
    }

    async fn release_abandoned_nonces(&self, now: Timestamp) -> StoreResult<u64> {
        Ok(release_abandoned(&self.db, now).await?)
    }
}

/// A nonce as stored (nonces are far below `i64::MAX`; a chain answer above it is clamped,
/// which no real account reaches).
fn to_db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn from_db(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A table pair handing out nonces: the per-key counter and the claims. Wallets
/// (`wallet_nonces`, `nonce_claims`, held by a challenge) and gas stations (`station_nonces`,
/// `station_nonce_claims`, held by the transaction being bundled) follow the same rules.
struct Book {
    counters: &'static str,
    claims: &'static str,
    /// The key column (the wallet, or `BLOCKCHAIN:0xaddress` of a station).
    key: &'static str,
    /// The column naming who holds a RESERVED claim.
    holder: &'static str,
}

const WALLETS: Book = Book {
    counters: "wallet_nonces",
    claims: "nonce_claims",
    key: "wallet_id",
    holder: "challenge_id",
};

const STATIONS: Book = Book {
    counters: "station_nonces",
    claims: "station_nonce_claims",
    key: "station",
    holder: "holder_id",
};

#[tracing::instrument(skip_all, fields(book = book.claims))]
async fn reserve(
    db: &Db,
    book: &Book,
    key: &str,
    holder: &str,
    chain: ChainNonces,
    now: Timestamp,
) -> DbResult<u64> {
    let Book {
        counters,
        claims,
        key: key_col,
        holder: holder_col,
    } = *book;
    let mut tx = db.writer.begin().await?;
    let next = lock_counter(&mut tx, db, book, key).await?;
    let held = sqlx::query(&format!(
        "SELECT nonce FROM {claims} WHERE {holder_col} = $1 AND state = 'RESERVED'"
    ))
    .bind(holder)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = held {
        let nonce: i64 = row.try_get("nonce")?;
        tx.commit().await?;
        return Ok(from_db(nonce));
    }
    // Released nonces the chain already used elsewhere (a transaction the developer signed
    // with SIGN_TRANSACTION and broadcast) can never be signed again.
    sqlx::query(&format!(
        "UPDATE {claims} SET state = 'DEAD', updated_at = $3 \
         WHERE {key_col} = $1 AND state = 'RELEASED' AND nonce < $2"
    ))
    .bind(key)
    .bind(to_db(chain.latest))
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    let released = sqlx::query(&format!(
        "SELECT nonce FROM {claims} WHERE {key_col} = $1 AND state = 'RELEASED' \
         ORDER BY nonce LIMIT 1"
    ))
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = released {
        let nonce: i64 = row.try_get("nonce")?;
        let taken = sqlx::query(&format!(
            "UPDATE {claims} SET state = 'RESERVED', {holder_col} = $3, \
             transaction_id = NULL, updated_at = $4 \
             WHERE {key_col} = $1 AND nonce = $2 AND state = 'RELEASED'"
        ))
        .bind(key)
        .bind(nonce)
        .bind(holder)
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 1 {
            tx.commit().await?;
            return Ok(from_db(nonce));
        }
    }
    let nonce = next.max(to_db(chain.pending));
    sqlx::query(&format!(
        "UPDATE {counters} SET next_nonce = $2 WHERE {key_col} = $1"
    ))
    .bind(key)
    .bind(nonce.saturating_add(1))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {claims} ({key_col}, nonce, state, {holder_col}, updated_at) \
         VALUES ($1, $2, 'RESERVED', $3, $4)"
    ))
    .bind(key)
    .bind(nonce)
    .bind(holder)
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(from_db(nonce))
}

/// The key's `next_nonce`, its row created at 0 on first use and locked until the
/// transaction ends (PostgreSQL; SQLite's single writer needs no lock).
async fn lock_counter(conn: &mut AnyConnection, db: &Db, book: &Book, key: &str) -> DbResult<i64> {
    let Book {
        counters,
        key: key_col,
        ..
    } = *book;
    // A concurrent first use blocks on the other's uncommitted row, then does nothing.
    sqlx::query(&format!(
        "INSERT INTO {counters} ({key_col}, next_nonce) VALUES ($1, 0) \
         ON CONFLICT ({key_col}) DO NOTHING"
    ))
    .bind(key)
    .execute(&mut *conn)
    .await?;
    let sql = format!(
        "SELECT next_nonce FROM {counters} WHERE {key_col} = $1 {}",
        db.dialect.row_lock()
    );
    let row = sqlx::query(&sql).bind(key).fetch_one(&mut *conn).await?;
    Ok(row.try_get("next_nonce")?)
}

#[tracing::instrument(skip_all)]
async fn release_abandoned(db: &Db, now: Timestamp) -> DbResult<u64> {
    // A RESERVED claim is abandoned once its challenge can no longer commit: ended, or past
    // its expiry (the commit refuses an expired challenge).
    let n = sqlx::query(
        "UPDATE nonce_claims SET state = 'RELEASED', challenge_id = NULL, updated_at = $1 \
         WHERE state = 'RESERVED' AND challenge_id IN (SELECT id FROM challenges \
           WHERE status IN ('COMPLETE', 'FAILED', 'EXPIRED') OR expires_at <= $1)",
    )
    .bind(now.0)
    .execute(&db.writer)
    .await?
    .rows_affected();
    // A station claim is abandoned once its transaction ended without storing its bundle
    // (the bundle's write marks the claim USED in the same transaction).
    let stations = sqlx::query(
        "UPDATE station_nonce_claims SET state = 'RELEASED', holder_id = NULL, updated_at = $1 \
         WHERE state = 'RESERVED' AND holder_id IN (SELECT id FROM transactions \
           WHERE state IN ('COMPLETE', 'FAILED', 'CANCELLED', 'DENIED'))",
    )
    .bind(now.0)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(n + stations)
}
