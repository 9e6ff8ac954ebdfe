//! The webhook outbox: notifications queued in the transaction of the change they report,
//! claimed by workers under a lease, and finished with the attempt's outcome.

use crate::db::Db;
use crate::error::DbResult;
use crate::row::Columns;
use latchkey_core::clock::Timestamp;
use latchkey_core::store::ClaimedDelivery;
use latchkey_core::webhooks::{
    matches, AttemptOutcome, DeliveryRecord, DeliveryStatus, NotificationDraft,
};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// A delivery with its subscription's endpoint (`d` is the delivery, `s` the subscription).
const DELIVERY_SELECT: &str = "SELECT d.id, d.entity_id, d.subscription_id, \
    d.notification_type, d.payload, d.created_at, d.status, d.attempts, d.next_attempt_at, \
    d.last_status_code, d.last_error, d.delivered_at, s.endpoint \
    FROM webhook_deliveries d JOIN subscriptions s ON s.id = d.subscription_id";

fn delivery_from_row(r: &AnyRow) -> DbResult<DeliveryRecord> {
    let c = Columns::new(r, "webhook_deliveries");
    Ok(DeliveryRecord {
        id: c.get("id")?,
        entity_id: c.get("entity_id")?,
        subscription_id: c.get("subscription_id")?,
        endpoint: c.get("endpoint")?,
        notification_type: c.get("notification_type")?,
        payload: c.json("payload")?,
        created_at: c.time("created_at")?,
        status: c.parsed("status", DeliveryStatus::parse)?,
        attempts: c.get("attempts")?,
        next_attempt_at: c.time("next_attempt_at")?,
        last_status_code: c.get("last_status_code")?,
        last_error: c.get("last_error")?,
        delivered_at: c.opt_time("delivered_at")?,
    })
}

/// Queues one delivery per matching enabled subscription of the draft's environment inside
/// the caller's transaction; the new notification ids.
pub(crate) async fn enqueue_in(
    conn: &mut AnyConnection,
    draft: &NotificationDraft,
    now: Timestamp,
) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id, notification_types FROM subscriptions \
         WHERE entity_id = $1 AND environment = $2 AND enabled = 1 AND ($3 IS NULL OR id = $3) \
         ORDER BY created_at",
    )
    .bind(&draft.entity_id)
    .bind(draft.environment.as_str())
    .bind(&draft.only_subscription)
    .fetch_all(&mut *conn)
    .await?;
    let mut ids = Vec::new();
    for r in rows {
        let c = Columns::new(&r, "subscriptions");
        let sub_id: String = c.get("id")?;
        let types: Vec<String> = c.json("notification_types")?;
        if draft.only_subscription.is_none() && !matches(&types, &draft.notification_type) {
            continue;
        }
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, entity_id, subscription_id, notification_type, \
             payload, created_at, status, attempts, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $6)",
        )
        .bind(&id)
        .bind(&draft.entity_id)
        .bind(&sub_id)
        .bind(&draft.notification_type)
        .bind(draft.payload.to_string())
        .bind(now.0)
        .execute(&mut *conn)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Queues a notification in a transaction of its own.
#[tracing::instrument(skip_all)]
pub(crate) async fn enqueue(
    db: &Db,
    draft: &NotificationDraft,
    now: Timestamp,
) -> DbResult<Vec<String>> {
    let mut tx = db.writer.begin().await?;
    let ids = enqueue_in(&mut tx, draft, now).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Claims up to `limit` due deliveries of enabled subscriptions for `lease_ms`.
#[tracing::instrument(skip_all)]
pub(crate) async fn claim(
    db: &Db,
    now: Timestamp,
    lease_ms: i64,
    limit: u32,
) -> DbResult<Vec<ClaimedDelivery>> {
    let token = uuid::Uuid::new_v4().to_string();
    // $1 now, $2 lease length, $3 lease token, $4 limit.
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_until = $1 + $2, lease_token = $3 \
         WHERE id IN (SELECT d.id FROM webhook_deliveries d \
           JOIN subscriptions s ON s.id = d.subscription_id \
           WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 AND s.enabled = 1 \
             AND (d.lease_until IS NULL OR d.lease_until <= $1) \
           ORDER BY d.next_attempt_at LIMIT $4 {})",
        db.dialect.claim_lock()
    );
    let claimed = sqlx::query(&sql)
        .bind(now.0)
        .bind(lease_ms)
        .bind(&token)
        .bind(i64::from(limit))
        .execute(&db.writer)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(Vec::new());
    }
    let sql = format!("{DELIVERY_SELECT} WHERE d.lease_token = $1 ORDER BY d.next_attempt_at");
    let rows = sqlx::query(&sql).bind(&token).fetch_all(&db.writer).await?;
    rows.iter()
        .map(|r| {
            Ok(ClaimedDelivery {
                delivery: delivery_from_row(r)?,
                lease_token: token.clone(),
            })
        })
        .collect()
}

/// Records an attempt of a claimed delivery (and the subscription's failing state); `false`
/// when the claim was lost to another worker.
#[tracing::instrument(skip_all)]
pub(crate) async fn finish(
    db: &Db,
    claim: &ClaimedDelivery,
    outcome: &AttemptOutcome,
    now: Timestamp,
) -> DbResult<bool> {
    let d = &claim.delivery;
    let (status, code, error, next, delivered) = match outcome {
        AttemptOutcome::Delivered { status_code } => (
            DeliveryStatus::Delivered,
            Some(*status_code),
            None,
            d.next_attempt_at.0,
            Some(now.0),
        ),
        AttemptOutcome::Failed {
            status_code,
            error,
            next_attempt_at: Some(next),
        } => (
            DeliveryStatus::Pending,
            *status_code,
            Some(error.as_str()),
            next.0,
            None,
        ),
        AttemptOutcome::Failed {
            status_code,
            error,
            next_attempt_at: None,
        } => (
            DeliveryStatus::Failed,
            *status_code,
            Some(error.as_str()),
            d.next_attempt_at.0,
            None,
        ),
    };
    let mut tx = db.writer.begin().await?;
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, \
         last_status_code = $2, last_error = $3, next_attempt_at = $4, delivered_at = $5, \
         lease_until = NULL, lease_token = NULL WHERE id = $6 AND lease_token = $7",
    )
    .bind(status.as_str())
    .bind(code)
    .bind(error)
    .bind(next)
    .bind(delivered)
    .bind(&d.id)
    .bind(&claim.lease_token)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 1 {
        match status {
            DeliveryStatus::Delivered => {
                sqlx::query("UPDATE subscriptions SET failing_since = NULL WHERE id = $1")
                    .bind(&d.subscription_id)
                    .execute(&mut *tx)
                    .await?;
            }
            DeliveryStatus::Failed => {
                sqlx::query(
                    "UPDATE subscriptions SET failing_since = COALESCE(failing_since, $2) \
                     WHERE id = $1",
                )
                .bind(&d.subscription_id)
                .bind(now.0)
                .execute(&mut *tx)
                .await?;
            }
            DeliveryStatus::Pending => {}
        }
    }
    tx.commit().await?;
    Ok(n == 1)
}

/// The entity's deliveries, newest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(db: &Db, entity_id: &str, limit: u32) -> DbResult<Vec<DeliveryRecord>> {
    let sql = format!(
        "{DELIVERY_SELECT} WHERE d.entity_id = $1 ORDER BY d.created_at DESC, d.id LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(entity_id)
        .bind(i64::from(limit))
        .fetch_all(&db.reader)
        .await?;
    rows.iter().map(delivery_from_row).collect()
}

/// Queues a delivery again, due now; `false` when there is none.
#[tracing::instrument(skip_all)]
pub(crate) async fn redeliver(
    db: &Db,
    entity_id: &str,
    id: &str,
    now: Timestamp,
) -> DbResult<bool> {
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = $1, \
         lease_until = NULL, lease_token = NULL WHERE entity_id = $2 AND id = $3",
    )
    .bind(now.0)
    .bind(entity_id)
    .bind(id)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Rows one pruning transaction deletes at most: a long retention backlog is pruned in short
/// transactions rather than one that holds SQLite's writer for seconds.
const PRUNE_BATCH: i64 = 1000;

/// Deletes deliveries delivered before `delivered_before`, in batches; returns how many.
/// Pending and failed rows stay (the operator may still redeliver a failed one).
#[tracing::instrument(skip_all)]
pub(crate) async fn prune_delivered(db: &Db, delivered_before: Timestamp) -> DbResult<u64> {
    let mut total = 0;
    loop {
        let n = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries              WHERE status = 'DELIVERED' AND delivered_at < $1 LIMIT $2)",
        )
        .bind(delivered_before.0)
        .bind(PRUNE_BATCH)
        .execute(&db.writer)
        .await?
        .rows_affected();
        total += n;
        if n < PRUNE_BATCH as u64 {
            return Ok(total);
        }
    }
}
