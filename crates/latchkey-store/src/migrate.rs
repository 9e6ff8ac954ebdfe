//! A small migration runner: each backend embeds its own ordered SQL files, applied once in
//! a transaction each and recorded in `latchkey_migrations`. Written here rather than with
//! sqlx's `migrate!` macro to keep sqlx's compile-time macro crates out of the build.

use sqlx::{PgPool, SqlitePool};

/// One embedded migration.
#[derive(Debug)]
pub struct Migration {
    /// Strictly increasing version.
    pub version: i64,
    /// Short name.
    pub name: &'static str,
    /// The SQL (several statements).
    pub sql: &'static str,
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS latchkey_migrations \
    (version BIGINT PRIMARY KEY, name TEXT NOT NULL)";
const CLAIM: &str =
    "INSERT INTO latchkey_migrations (version, name) VALUES ($1, $2) ON CONFLICT DO NOTHING";

fn failed(m: &Migration, e: sqlx::Error) -> String {
    format!("migration {} ({}) failed: {e}", m.version, m.name)
}

/// Applies pending migrations on SQLite. Claiming the version row first takes the write lock,
/// so two processes starting at once apply each migration exactly once.
pub async fn run_sqlite(pool: &SqlitePool, migrations: &[Migration]) -> Result<(), String> {
    sqlx::query(CREATE_TABLE)
        .execute(pool)
        .await
        .map_err(|e| format!("cannot prepare migrations: {e}"))?;
    for m in migrations {
        let mut tx = pool.begin().await.map_err(|e| failed(m, e))?;
        let claimed = sqlx::query(CLAIM)
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed(m, e))?
            .rows_affected();
        if claimed == 1 {
            sqlx::raw_sql(m.sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| failed(m, e))?;
        }
        tx.commit().await.map_err(|e| failed(m, e))?;
    }
    Ok(())
}

/// Applies pending migrations on PostgreSQL under an advisory lock, so that instances of a
/// cluster starting together migrate once.
pub async fn run_postgres(pool: &PgPool, migrations: &[Migration]) -> Result<(), String> {
    let mut tx = pool
        .begin()
        .await
        .map_err(|e| format!("cannot prepare migrations: {e}"))?;
    sqlx::query("SELECT pg_advisory_xact_lock(7419031842)")
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("cannot lock for migrations: {e}"))?;
    sqlx::query(CREATE_TABLE)
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("cannot prepare migrations: {e}"))?;
    for m in migrations {
        let claimed = sqlx::query(CLAIM)
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed(m, e))?
            .rows_affected();
        if claimed == 1 {
            sqlx::raw_sql(m.sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| failed(m, e))?;
        }
    }
    tx.commit()
        .await
        .map_err(|e| format!("cannot commit migrations: {e}"))
}
