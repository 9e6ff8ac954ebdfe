//! The Store on SQLite: WAL mode, `synchronous=FULL` (every commit durable), one writer
//! connection (SQLite admits one writer at a time; queueing in the pool is fairer and faster
//! than its busy-wait) and a few reader connections.

use crate::migrate::{self, Migration};
use latchkey_core::model::SecretKind;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "webhooks",
        sql: include_str!("../migrations/sqlite/0002_webhooks.sql"),
    },
    Migration {
        version: 3,
        name: "wallets",
        sql: include_str!("../migrations/sqlite/0003_wallets.sql"),
    },
    Migration {
        version: 4,
        name: "frame_ancestors",
        sql: include_str!("../migrations/sqlite/0004_frame_ancestors.sql"),
    },
];

/// latchkey's SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    sql: crate::shared::BuiltSql,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path`) and migrates it.
    pub async fn open(url: &str) -> Result<Self, String> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| format!("invalid SQLite URL: {e}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(|e| format!("cannot open SQLite database: {e}"))?;
        migrate::run_sqlite(&writer, MIGRATIONS).await?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .max(4);
        let reader = SqlitePoolOptions::new()
            .max_connections(readers as u32)
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| format!("cannot open SQLite database: {e}"))?;
        Ok(Self {
            writer,
            reader,
            sql: crate::shared::BuiltSql::new(""),
        })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn reserve_sql(&self, kind: SecretKind) -> &str {
        self.sql.reserve(kind)
    }

    /// Closes both pools (checkpointing the WAL).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

crate::shared::impl_store!(SqliteStore, sqlx::Sqlite);
