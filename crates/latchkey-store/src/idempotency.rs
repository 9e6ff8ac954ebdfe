//! Idempotency keys: claimed in the same transaction as what they create, so a concurrent
//! duplicate waits for the first and then sees its result.

use crate::db::Db;
use crate::error::DbResult;
use crate::row::Columns;
use latchkey_core::clock::Timestamp;
use latchkey_core::store::IdempotencyClaim;
use sqlx::AnyConnection;

/// Claims `claim` for `result_id` inside the caller's transaction; `false` when the key was
/// claimed before (the caller rolls back and reads the record).
pub(crate) async fn claim(
    conn: &mut AnyConnection,
    entity_id: &str,
    claim: &IdempotencyClaim,
    result_id: &str,
    now: Timestamp,
) -> DbResult<bool> {
    let n = sqlx::query(
        "INSERT INTO idempotency (entity_id, key, request_hash, result_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(entity_id)
    .bind(&claim.key)
    .bind(&claim.request_hash)
    .bind(result_id)
    .bind(now.0)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The request hash and result id recorded under `key`.
#[tracing::instrument(skip_all)]
pub(crate) async fn record(
    db: &Db,
    entity_id: &str,
    key: &str,
) -> DbResult<Option<(Vec<u8>, String)>> {
    let row = sqlx::query(
        "SELECT request_hash, result_id FROM idempotency WHERE entity_id = $1 AND key = $2",
    )
    .bind(entity_id)
    .bind(key)
    .fetch_optional(&db.reader)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let c = Columns::new(&r, "idempotency");
    Ok(Some((c.get("request_hash")?, c.get("result_id")?)))
}

/// Deletes records created before `before`; how many.
#[tracing::instrument(skip_all)]
pub(crate) async fn purge(db: &Db, before: Timestamp) -> DbResult<u64> {
    let n = sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
        .bind(before.0)
        .execute(&db.writer)
        .await?
        .rows_affected();
    Ok(n)
}
