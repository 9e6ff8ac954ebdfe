//! Entities (developer accounts), the origins allowed to frame their hosted pages, and their
//! API keys.

use crate::db::Db;
use crate::error::DbResult;
use crate::row::Columns;
use latchkey_core::model::{ApiKeyRecord, Entity, Environment};
use sqlx::any::AnyRow;

fn entity_from_row(r: &AnyRow) -> DbResult<Entity> {
    let c = Columns::new(r, "entities");
    Ok(Entity {
        id: c.get("id")?,
        app_id: c.get("app_id")?,
        name: c.get("name")?,
        created_at: c.time("created_at")?,
    })
}

/// The default entity, created from `candidate` if there is none; `true` when created now.
#[tracing::instrument(skip_all)]
pub(crate) async fn ensure_default(db: &Db, candidate: &Entity) -> DbResult<(Entity, bool)> {
    sqlx::query(
        "INSERT INTO entities (id, app_id, name, is_default, created_at) \
         VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&candidate.id)
    .bind(&candidate.app_id)
    .bind(&candidate.name)
    .bind(candidate.created_at.0)
    .execute(&db.writer)
    .await?;
    let sql = "SELECT id, app_id, name, created_at FROM entities WHERE is_default = 1";
    let row = sqlx::query(sql).fetch_one(&db.writer).await?;
    let entity = entity_from_row(&row)?;
    let created = entity.id == candidate.id;
    Ok((entity, created))
}

/// Creates a non-default entity.
#[tracing::instrument(skip_all)]
pub(crate) async fn insert(db: &Db, e: &Entity) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO entities (id, app_id, name, is_default, created_at) VALUES ($1, $2, $3, 0, $4)",
    )
    .bind(&e.id)
    .bind(&e.app_id)
    .bind(&e.name)
    .bind(e.created_at.0)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// The entity that owns `app_id`.
#[tracing::instrument(skip_all)]
pub(crate) async fn by_app_id(db: &Db, app_id: &str) -> DbResult<Option<Entity>> {
    let sql = "SELECT id, app_id, name, created_at FROM entities WHERE app_id = $1";
    let row = sqlx::query(sql)
        .bind(app_id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(entity_from_row).transpose()
}

/// The entity with id `entity_id`.
#[tracing::instrument(skip_all)]
pub(crate) async fn by_id(db: &Db, entity_id: &str) -> DbResult<Option<Entity>> {
    let sql = "SELECT id, app_id, name, created_at FROM entities WHERE id = $1";
    let row = sqlx::query(sql)
        .bind(entity_id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(entity_from_row).transpose()
}

/// Origins allowed to frame the entity's hosted pages, sorted.
#[tracing::instrument(skip_all)]
pub(crate) async fn frame_ancestors(db: &Db, entity_id: &str) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT origin FROM entity_frame_ancestors WHERE entity_id = $1 ORDER BY origin",
    )
    .bind(entity_id)
    .fetch_all(&db.reader)
    .await?;
    rows.iter()
        .map(|r| Columns::new(r, "entity_frame_ancestors").get("origin"))
        .collect()
}

/// Allows or stops allowing `origin`; whether anything changed.
#[tracing::instrument(skip_all)]
pub(crate) async fn set_frame_ancestor(
    db: &Db,
    entity_id: &str,
    origin: &str,
    allowed: bool,
) -> DbResult<bool> {
    let sql = if allowed {
        "INSERT INTO entity_frame_ancestors (entity_id, origin) VALUES ($1, $2) \
         ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM entity_frame_ancestors WHERE entity_id = $1 AND origin = $2"
    };
    let n = sqlx::query(sql)
        .bind(entity_id)
        .bind(origin)
        .execute(&db.writer)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Stores a new API key.
#[tracing::instrument(skip_all)]
pub(crate) async fn insert_api_key(db: &Db, key: &ApiKeyRecord) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (key_id, entity_id, name, environment, secret_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.key_id)
    .bind(&key.entity_id)
    .bind(&key.name)
    .bind(key.environment.as_str())
    .bind(&key.secret_hash)
    .bind(key.created_at.0)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// An API key by its id part (a hot path: every API call starts here).
#[tracing::instrument(skip_all)]
pub(crate) async fn api_key(db: &Db, key_id: &str) -> DbResult<Option<ApiKeyRecord>> {
    let row = sqlx::query(
        "SELECT key_id, entity_id, name, environment, secret_hash, created_at \
         FROM api_keys WHERE key_id = $1",
    )
    .bind(key_id)
    .fetch_optional(&db.reader)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let c = Columns::new(&r, "api_keys");
    Ok(Some(ApiKeyRecord {
        key_id: c.get("key_id")?,
        entity_id: c.get("entity_id")?,
        name: c.get("name")?,
        environment: c.parsed("environment", Environment::parse)?,
        secret_hash: c.get("secret_hash")?,
        created_at: c.time("created_at")?,
    }))
}
