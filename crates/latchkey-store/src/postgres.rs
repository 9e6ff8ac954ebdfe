//! The Store on PostgreSQL: one pool; every state change is one transaction whose first
//! statement is a conditional write, so concurrent instances serialise on row locks.

use crate::migrate::{self, Migration};
use latchkey_core::model::SecretKind;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "webhooks",
        sql: include_str!("../migrations/postgres/0002_webhooks.sql"),
    },
    Migration {
        version: 3,
        name: "wallets",
        sql: include_str!("../migrations/postgres/0003_wallets.sql"),
    },
    Migration {
        version: 4,
        name: "frame_ancestors",
        sql: include_str!("../migrations/postgres/0004_frame_ancestors.sql"),
    },
];

/// latchkey's PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    sql: crate::shared::BuiltSql,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) with up to `max_connections` and migrates.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, String> {
        // One direct connection first, so that a wrong address fails at once instead of
        // after the pool's acquire timeout.
        use sqlx::Connection;
        sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?
            .close()
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        migrate::run_postgres(&pool, MIGRATIONS).await?;
        Ok(Self {
            pool,
            sql: crate::shared::BuiltSql::new("FOR UPDATE SKIP LOCKED"),
        })
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn reserve_sql(&self, kind: SecretKind) -> &str {
        self.sql.reserve(kind)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

crate::shared::impl_store!(PostgresStore, sqlx::Postgres);
