//! The append-only audit log (the schema's triggers refuse updates and deletes).

use crate::db::Db;
use crate::error::DbResult;
use crate::row::Columns;
use latchkey_core::model::AuditEvent;
use sqlx::AnyConnection;

/// Appends `events` inside the caller's transaction.
pub(crate) async fn insert(conn: &mut AnyConnection, events: &[AuditEvent]) -> DbResult<()> {
    for e in events {
        sqlx::query(
            "INSERT INTO audit_log (entity_id, user_internal_id, action, detail, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&e.entity_id)
        .bind(&e.user_internal_id)
        .bind(&e.action)
        .bind(e.detail.to_string())
        .bind(e.at.0)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Appends `events` in a transaction of their own.
#[tracing::instrument(skip_all)]
pub(crate) async fn append(db: &Db, events: &[AuditEvent]) -> DbResult<()> {
    let mut tx = db.writer.begin().await?;
    insert(&mut tx, events).await?;
    tx.commit().await?;
    Ok(())
}

/// The entity's log (optionally one user's), oldest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn log(
    db: &Db,
    entity_id: &str,
    user_internal_id: Option<&str>,
    limit: u32,
) -> DbResult<Vec<AuditEvent>> {
    let rows = sqlx::query(
        "SELECT entity_id, user_internal_id, action, detail, at FROM audit_log \
         WHERE entity_id = $1 AND ($2 IS NULL OR user_internal_id = $2) \
         ORDER BY seq LIMIT $3",
    )
    .bind(entity_id)
    .bind(user_internal_id)
    .bind(i64::from(limit))
    .fetch_all(&db.reader)
    .await?;
    rows.iter()
        .map(|r| {
            let c = Columns::new(r, "audit_log");
            Ok(AuditEvent {
                entity_id: c.get("entity_id")?,
                user_internal_id: c.get("user_internal_id")?,
                action: c.get("action")?,
                detail: c.json("detail")?,
                at: c.time("at")?,
            })
        })
        .collect()
}
