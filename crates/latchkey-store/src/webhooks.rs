//! Webhook subscriptions and the entity's signing keys. The outbox of deliveries is in
//! `outbox`.

use crate::db::Db;
use crate::error::DbResult;
use crate::row::{to_json, Columns};
use latchkey_core::clock::Timestamp;
use latchkey_core::model::Environment;
use latchkey_core::webhooks::{SubscriptionRecord, WebhookKeyRecord};
use sqlx::any::AnyRow;

const SUBSCRIPTION_COLUMNS: &str = "SELECT id, entity_id, environment, name, endpoint, enabled, \
    notification_types, failing_since, created_at, updated_at FROM subscriptions";

const KEY_COLUMNS: &str = "SELECT id, entity_id, public_key_der, sealed_private_key, active, \
    created_at FROM webhook_keys";

fn subscription_from_row(r: &AnyRow) -> DbResult<SubscriptionRecord> {
    let c = Columns::new(r, "subscriptions");
    Ok(SubscriptionRecord {
        id: c.get("id")?,
        entity_id: c.get("entity_id")?,
        environment: c.parsed("environment", Environment::parse)?,
        name: c.get("name")?,
        endpoint: c.get("endpoint")?,
        enabled: c.flag("enabled")?,
        notification_types: c.json("notification_types")?,
        failing_since: c.opt_time("failing_since")?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
    })
}

fn key_from_row(r: &AnyRow) -> DbResult<WebhookKeyRecord> {
    let c = Columns::new(r, "webhook_keys");
    Ok(WebhookKeyRecord {
        id: c.get("id")?,
        entity_id: c.get("entity_id")?,
        public_key_der: c.get("public_key_der")?,
        sealed_private_key: c.get("sealed_private_key")?,
        active: c.flag("active")?,
        created_at: c.time("created_at")?,
    })
}

/// Creates a subscription.
#[tracing::instrument(skip_all)]
pub(crate) async fn insert_subscription(db: &Db, sub: &SubscriptionRecord) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO subscriptions (id, entity_id, environment, name, endpoint, enabled, \
         notification_types, failing_since, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&sub.id)
    .bind(&sub.entity_id)
    .bind(sub.environment.as_str())
    .bind(&sub.name)
    .bind(&sub.endpoint)
    .bind(i64::from(sub.enabled))
    .bind(to_json(
        "subscriptions",
        "notification_types",
        &sub.notification_types,
    )?)
    .bind(sub.failing_since.map(|t| t.0))
    .bind(sub.created_at.0)
    .bind(sub.updated_at.0)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// The subscriptions of the entity's environment, oldest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn subscriptions(
    db: &Db,
    entity_id: &str,
    environment: Environment,
) -> DbResult<Vec<SubscriptionRecord>> {
    let sql = format!(
        "{SUBSCRIPTION_COLUMNS} WHERE entity_id = $1 AND environment = $2 ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(entity_id)
        .bind(environment.as_str())
        .fetch_all(&db.reader)
        .await?;
    rows.iter().map(subscription_from_row).collect()
}

/// One subscription of the entity's environment.
#[tracing::instrument(skip_all)]
pub(crate) async fn subscription(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    id: &str,
) -> DbResult<Option<SubscriptionRecord>> {
    let sql =
        format!("{SUBSCRIPTION_COLUMNS} WHERE entity_id = $1 AND environment = $2 AND id = $3");
    let row = sqlx::query(&sql)
        .bind(entity_id)
        .bind(environment.as_str())
        .bind(id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(subscription_from_row).transpose()
}

/// Renames / enables / pauses a subscription; `false` when there is none.
#[tracing::instrument(skip_all)]
pub(crate) async fn update_subscription(
    db: &Db,
    (entity_id, environment, id): (&str, Environment, &str),
    name: Option<&str>,
    enabled: Option<bool>,
    now: Timestamp,
) -> DbResult<bool> {
    let n = sqlx::query(
        "UPDATE subscriptions SET name = COALESCE($1, name), enabled = COALESCE($2, enabled), \
         updated_at = $3 WHERE entity_id = $4 AND environment = $5 AND id = $6",
    )
    .bind(name)
    .bind(enabled.map(i64::from))
    .bind(now.0)
    .bind(entity_id)
    .bind(environment.as_str())
    .bind(id)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Deletes a subscription with its deliveries; `false` when there is none.
#[tracing::instrument(skip_all)]
pub(crate) async fn delete_subscription(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    id: &str,
) -> DbResult<bool> {
    let mut tx = db.writer.begin().await?;
    let n = sqlx::query(
        "DELETE FROM subscriptions WHERE entity_id = $1 AND environment = $2 AND id = $3",
    )
    .bind(entity_id)
    .bind(environment.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM webhook_deliveries WHERE entity_id = $1 AND subscription_id = $2")
        .bind(entity_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Stores a signing key; an active one retires the entity's other keys (they stay readable
/// for verification).
#[tracing::instrument(skip_all)]
pub(crate) async fn insert_key(db: &Db, key: &WebhookKeyRecord) -> DbResult<()> {
    let mut tx = db.writer.begin().await?;
    if key.active {
        sqlx::query("UPDATE webhook_keys SET active = 0 WHERE entity_id = $1 AND active = 1")
            .bind(&key.entity_id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO webhook_keys (id, entity_id, public_key_der, sealed_private_key, active, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.id)
    .bind(&key.entity_id)
    .bind(&key.public_key_der)
    .bind(&key.sealed_private_key)
    .bind(i64::from(key.active))
    .bind(key.created_at.0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The key that signs the entity's new notifications.
#[tracing::instrument(skip_all)]
pub(crate) async fn active_key(db: &Db, entity_id: &str) -> DbResult<Option<WebhookKeyRecord>> {
    let sql = format!("{KEY_COLUMNS} WHERE entity_id = $1 AND active = 1");
    let row = sqlx::query(&sql)
        .bind(entity_id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(key_from_row).transpose()
}

/// One of the entity's keys, active or retired.
#[tracing::instrument(skip_all)]
pub(crate) async fn key(
    db: &Db,
    entity_id: &str,
    key_id: &str,
) -> DbResult<Option<WebhookKeyRecord>> {
    let sql = format!("{KEY_COLUMNS} WHERE entity_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(entity_id)
        .bind(key_id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(key_from_row).transpose()
}
