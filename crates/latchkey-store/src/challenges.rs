//! Challenges: creation under an idempotency key, reads, and the state changes that do not
//! commit a result (in progress, expired, failed). Completion is in `commit`.

use crate::db::Db;
use crate::error::{DbError, DbResult};
use crate::page::{cursor_id, finish_page, page_direction};
use crate::row::{to_json, Columns};
use crate::{audit, idempotency, outbox};
use latchkey_core::challenge::ChallengePayload;
use latchkey_core::clock::Timestamp;
use latchkey_core::model::{ChallengeRecord, ChallengeStatus, ChallengeType};
use latchkey_core::store::{ChallengeFailure, IdempotencyClaim, Idempotent, Page, PageQuery};
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

/// Creates `c` under `claim`, in one transaction with the claim, unless its user already has
/// `max_open` open challenges (then nothing is written, the claim included).
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    db: &Db,
    c: &ChallengeRecord,
    claim: &IdempotencyClaim,
    max_open: u32,
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
    // Concurrent creations for one user queue on the user's row (PostgreSQL; SQLite has one
    // writer), so the count below cannot be passed by racing requests.
    sqlx::query(&format!(
        "SELECT internal_id FROM users WHERE internal_id = $1 {}",
        db.dialect.row_lock()
    ))
    .bind(&c.user_internal_id)
    .fetch_optional(&mut *tx)
    .await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM challenges WHERE entity_id = $1 AND user_internal_id = $2 \
         AND status IN ('PENDING', 'IN_PROGRESS') AND expires_at > $3",
    )
    .bind(&c.entity_id)
    .bind(&c.user_internal_id)
    .bind(c.created_at.0)
    .fetch_one(&mut *tx)
    .await?;
    if open >= i64::from(max_open) {
        tx.rollback().await?;
        return Ok(Idempotent::Full);
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

/// One page of the user's challenges, optionally only those with `status` at `now`; `None`
/// when the cursor names no challenge of this user. Challenges have no `seq`: pages follow
/// `(created_at, id)`, which is unique and never changes.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    status: Option<ChallengeStatus>,
    page: &PageQuery,
    now: Timestamp,
) -> DbResult<Option<Page<ChallengeRecord>>> {
    let cursor = match cursor_id(page) {
        None => None,
        Some(id) => {
            let row = sqlx::query(
                "SELECT created_at FROM challenges \
                 WHERE entity_id = $1 AND user_internal_id = $2 AND id = $3",
            )
            .bind(entity_id)
            .bind(user_internal_id)
            .bind(id)
            .fetch_optional(&db.reader)
            .await?;
            match row {
                Some(r) => Some((Columns::new(&r, "challenges").get::<i64>("created_at")?, id)),
                None => return Ok(None),
            }
        }
    };
    let (cmp, dir) = page_direction(page);
    // $1 entity, $2 user, $3 from, $4 to, $5 limit; then the cursor's and the status's own.
    let mut sql = format!(
        "SELECT {CHALLENGE_COLUMNS} FROM challenges \
         WHERE entity_id = $1 AND user_internal_id = $2 \
           AND ($3 IS NULL OR created_at >= $3) AND ($4 IS NULL OR created_at <= $4)"
    );
    let mut next = 6;
    if cursor.is_some() {
        sql.push_str(&format!(
            " AND (created_at {cmp} $6 OR (created_at = $6 AND id {cmp} $7))"
        ));
        next = 8;
    }
    let (status_at, now_at) = (next, next + 1);
    let binds_now = match status {
        None => false,
        Some(ChallengeStatus::Pending | ChallengeStatus::InProgress) => {
            sql.push_str(&format!(
                " AND status = ${status_at} AND expires_at > ${now_at}"
            ));
            true
        }
        Some(ChallengeStatus::Expired) => {
            sql.push_str(&format!(
                " AND (status = ${status_at} OR (status IN ('PENDING', 'IN_PROGRESS') \
                 AND expires_at <= ${now_at}))"
            ));
            true
        }
        Some(_) => {
            sql.push_str(&format!(" AND status = ${status_at}"));
            false
        }
    };
    sql.push_str(&format!(" ORDER BY created_at {dir}, id {dir} LIMIT $5"));
    let mut query = sqlx::query(&sql)
        .bind(entity_id)
        .bind(user_internal_id)
        .bind(page.from.map(|t| t.0))
        .bind(page.to.map(|t| t.0))
        .bind(i64::from(page.size) + 1);
    if let Some((created_at, id)) = cursor {
        query = query.bind(created_at).bind(id);
    }
    if let Some(s) = status {
        query = query.bind(s.as_str());
    }
    if binds_now {
        query = query.bind(now.0);
    }
    let rows = query.fetch_all(&db.reader).await?;
    let items = rows
        .iter()
        .map(challenge_from_row)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(Some(finish_page(items, page)))
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
