//! Migrations: sqlx's migrator over each backend's own SQL files (migrations/sqlite,
//! migrations/postgres), recorded in sqlx's `_sqlx_migrations`.
//!
//! Databases created before sqlx's migrator was used recorded their versions in
//! `latchkey_migrations`; on first open those versions are adopted into `_sqlx_migrations`
//! with sqlx's checksums of the same files, so the migrator sees them as applied.

use crate::db::Dialect;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{AnyConnection, AnyPool, Row};
use std::time::Duration;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The bookkeeping table of the migrator latchkey used before sqlx's.
const LEGACY_TABLE: &str = "latchkey_migrations";

/// How many times SQLite retries a migration run that lost a race (see [`run`]).
const SQLITE_ATTEMPTS: u64 = 5;

/// Applies pending migrations (adopting a legacy record first). On PostgreSQL the migrator
/// holds an advisory lock, so instances of a cluster starting together migrate once. SQLite
/// has no lock the migrator could hold: of two processes migrating a new file at the same
/// moment, one fails its transaction (the table exists, or its snapshot went stale) and is
/// rolled back; run again, it finds the other's work recorded and applies only what is left.
pub(crate) async fn run(pool: &AnyPool, dialect: Dialect) -> Result<(), String> {
    let migrator = match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    };
    let mut attempt = 1;
    loop {
        match run_once(pool, migrator, dialect).await {
            Err(_) if dialect == Dialect::Sqlite && attempt < SQLITE_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                attempt += 1;
            }
            done => return done,
        }
    }
}

async fn run_once(pool: &AnyPool, migrator: &Migrator, dialect: Dialect) -> Result<(), String> {
    {
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| format!("cannot prepare migrations: {e}"))?;
        // The migrator's own lock (PostgreSQL's advisory lock; nothing on SQLite) covers the
        // adoption too, so two instances cannot both adopt.
        conn.lock()
            .await
            .map_err(|e| format!("cannot lock for migrations: {e}"))?;
        let adopted = adopt_legacy(&mut conn, migrator, dialect).await;
        conn.unlock()
            .await
            .map_err(|e| format!("cannot unlock after migrations: {e}"))?;
        adopted.map_err(|e| format!("cannot adopt the recorded migrations: {e}"))?;
    }
    // The pool rather than the connection above: a future holding `&mut AnyConnection`
    // across the migrator is not `Send` for every lifetime, which `tokio::spawn` needs.
    migrator
        .run(pool)
        .await
        .map_err(|e| format!("migration failed: {e}"))
}

/// Copies the versions recorded in [`LEGACY_TABLE`] into `_sqlx_migrations`, once: only when
/// the legacy table exists and sqlx's records nothing yet.
async fn adopt_legacy(
    conn: &mut AnyConnection,
    migrator: &Migrator,
    dialect: Dialect,
) -> Result<(), String> {
    let exists = match dialect {
        Dialect::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let found: i64 = sqlx::query(exists)
        .bind(LEGACY_TABLE)
        .fetch_one(&mut *conn)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| e.to_string())?;
    if found == 0 {
        return Ok(());
    }
    conn.ensure_migrations_table()
        .await
        .map_err(|e| e.to_string())?;
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    let recorded: i64 = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut *tx)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| e.to_string())?;
    if recorded > 0 {
        return Ok(());
    }
    let rows = sqlx::query("SELECT version FROM latchkey_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    for row in rows {
        let version: i64 = row.try_get(0).map_err(|e| e.to_string())?;
        let Some(m) = migrator.iter().find(|m| m.version == version) else {
            return Err(format!(
                "version {version} is recorded but not known to this build"
            ));
        };
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, 0)",
        )
        .bind(m.version)
        .bind(m.description.to_string())
        .bind(m.checksum.to_vec())
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}
