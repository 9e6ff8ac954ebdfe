//! Challenges: creation under an idempotency key, reads, and the state changes that do not
//! commit a result (in progress, expired, failed). Completion is in `commit`.

use crate::db::Db;
use crate::error::{DbError, DbResult};
use crate::row::{to_json, Columns};
use crate::{audit, idempotency, outbox};
use latchkey_core::challenge::ChallengePayload;
use latchkey_core::clock::Timestamp;
use latchkey_core::model::{ChallengeRecord, ChallengeStatus, ChallengeType};
use latchkey_core::store::{ChallengeFailure, IdempotencyClaim, Idempotent};
use sqlx::any::AnyRow;
use std::sync::LazyLock;

/// Columns of `challenges`, as [`challenge_from_row`] reads them.
const CHALLENGE_COLUMNS: &str = "id, entity_id, user_internal_id, kind, status, \
    correlation_ids, error_code, error_message, payload, created_at, expires_at, updated_at";

static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO challenges ({CHALLENGE_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )
});
static BY_ID: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {CHALLENGE_COLUMNS} FROM challenges \
         WHERE entity_id = $1 AND user_internal_id = $2 AND id = $3"
    )
});

/// The stored text of a challenge's payload.
pub(crate) fn encode_payload(record: &ChallengeRecord) -> DbResult<String> {
    record
        .payload
        .encode()
        .map_err(|e| DbError::corrupt("challenges", "payload", e))
}

/// A challenge's payload read back from its stored text.
pub(crate) fn decode_payload(kind: ChallengeType, text: &str) -> DbResult<ChallengePayload> {
    ChallengePayload::decode(kind, text).map_err(|e| DbError::corrupt("challenges", "payload", e))
}

fn challenge_from_row(r: &AnyRow) -> DbResult<ChallengeRecord> {
    let c = Columns::new(r, "challenges");
    let kind = c.parsed("kind", ChallengeType::parse)?;
    Ok(ChallengeRecord {
        id: c.get("id")?,
        entity_id: c.get("entity_id")?,
        user_internal_id: c.get("user_internal_id")?,
        kind,
        status: c.parsed("status", ChallengeStatus::parse)?,
        correlation_ids: c.json("correlation_ids")?,
        error_code: c.get("error_code")?,
        error_message: c.get("error_message")?,
        payload: decode_payload(kind, &c.get::<String>("payload")?)?,
        created_at: c.time("created_at")?,
        expires_at: c.time("expires_at")?,
        updated_at: c.time("updated_at")?,
    })
}

/// Creates `c` under `claim`, in one transaction with the claim.
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    db: &Db,
    c: &ChallengeRecord,
    claim: &IdempotencyClaim,
) -> DbResult<Idempotent<String>> {
    let mut tx = db.writer.begin().await?;
    if !idempotency::claim(&mut tx, &c.entity_id, claim, &c.id, c.created_at).await? {
        tx.rollback().await?;
        return Ok(
            match idempotency::record(db, &c.entity_id, &claim.key).await? {
                Some((hash, id)) if hash == claim.request_hash => Idempotent::Replayed(id),
                _ => Idempotent::Mismatch,
            },
        );
    }
    sqlx::query(&INSERT)
        .bind(&c.id)
        .bind(&c.entity_id)
        .bind(&c.user_internal_id)
        .bind(c.kind.as_str())
        .bind(c.status.as_str())
        .bind(to_json(
            "challenges",
            "correlation_ids",
            &c.correlation_ids,
        )?)
        .bind(c.error_code)
        .bind(&c.error_message)
        .bind(encode_payload(c)?)
        .bind(c.created_at.0)
        .bind(c.expires_at.0)
        .bind(c.updated_at.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Idempotent::Created(c.id.clone()))
}

/// One of the user's challenges (a hot path: the hosted page polls it).
#[tracing::instrument(skip_all)]
pub(crate) async fn by_id(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    challenge_id: &str,
) -> DbResult<Option<ChallengeRecord>> {
    let row = sqlx::query(&BY_ID)
        .bind(entity_id)
        .bind(user_internal_id)
        .bind(challenge_id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(challenge_from_row).transpose()
}

/// The user's challenges, newest first, optionally only those with `status` at `now`.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    status: Option<ChallengeStatus>,
    now: Timestamp,
) -> DbResult<Vec<ChallengeRecord>> {
    // $1 entity, $2 user, then the condition's own parameters.
    let (condition, binds_now) = match status {
        None => ("", false),
        Some(ChallengeStatus::Pending | ChallengeStatus::InProgress) => {
            ("AND status = $3 AND expires_at > $4", true)
        }
        Some(ChallengeStatus::Expired) => (
            "AND (status = $3 OR (status IN ('PENDING', 'IN_PROGRESS') AND expires_at <= $4))",
            true,
        ),
        Some(_) => ("AND status = $3", false),
    };
    let sql = format!(
        "SELECT {CHALLENGE_COLUMNS} FROM challenges \
         WHERE entity_id = $1 AND user_internal_id = $2 {condition} \
         ORDER BY created_at DESC, id LIMIT 1000"
    );
    let mut query = sqlx::query(&sql).bind(entity_id).bind(user_internal_id);
    if let Some(s) = status {
        query = query.bind(s.as_str());
    }
    if binds_now {
        query = query.bind(now.0);
    }
    let rows = query.fetch_all(&db.reader).await?;
    rows.iter().map(challenge_from_row).collect()
}

/// PENDING → IN_PROGRESS (no-op otherwise).
#[tracing::instrument(skip_all)]
pub(crate) async fn mark_in_progress(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    challenge_id: &str,
    now: Timestamp,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE challenges SET status = 'IN_PROGRESS', updated_at = $1 \
         WHERE entity_id = $2 AND user_internal_id = $3 AND id = $4 \
           AND status = 'PENDING' AND expires_at > $1",
    )
    .bind(now.0)
    .bind(entity_id)
    .bind(user_internal_id)
    .bind(challenge_id)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// A non-terminal challenge past its expiry becomes EXPIRED.
#[tracing::instrument(skip_all)]
pub(crate) async fn expire(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    challenge_id: &str,
    now: Timestamp,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE challenges SET status = 'EXPIRED', updated_at = $1 \
         WHERE entity_id = $2 AND user_internal_id = $3 AND id = $4 \
           AND status IN ('PENDING', 'IN_PROGRESS') AND expires_at <= $1",
    )
    .bind(now.0)
    .bind(entity_id)
    .bind(user_internal_id)
    .bind(challenge_id)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Fails an open challenge with its audit events; only the change that fails it queues its
/// notification, never a later refusal.
#[tracing::instrument(skip_all)]
pub(crate) async fn fail(db: &Db, f: &ChallengeFailure) -> DbResult<()> {
    let mut tx = db.writer.begin().await?;
    let failed_now = sqlx::query(
        "UPDATE challenges SET status = 'FAILED', error_code = $1, error_message = $2, \
         updated_at = $3 WHERE entity_id = $4 AND user_internal_id = $5 AND id = $6 \
           AND status IN ('PENDING', 'IN_PROGRESS')",
    )
    .bind(f.error_code)
    .bind(&f.error_message)
    .bind(f.now.0)
    .bind(&f.entity_id)
    .bind(&f.user_internal_id)
    .bind(&f.challenge_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    audit::insert(&mut tx, &f.audit).await?;
    if let (true, Some(n)) = (failed_now, &f.notification) {
        outbox::enqueue_in(&mut tx, n, f.now).await?;
    }
    tx.commit().await?;
    Ok(())
}
