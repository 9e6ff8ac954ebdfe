//! The one place where the backends differ: which pools a store holds, how they are opened
//! (SQLite's pragmas and its single writer), and the few statements whose text depends on the
//! backend. Everything else runs the same SQL through `sqlx::Any`.

use crate::migrate;
use latchkey_core::defaults;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions, Connection, Executor};
use std::str::FromStr;
use std::time::Duration;

/// The SQL dialect a store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite: one writer connection, readers on read-only connections.
    Sqlite,
    /// PostgreSQL: one pool; concurrent instances serialise on row locks.
    Postgres,
}

/// The pools of an open store.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    /// Every write, and reads that must see them (claims).
    pub(crate) writer: AnyPool,
    /// Plain reads (on PostgreSQL the same pool as `writer`).
    pub(crate) reader: AnyPool,
    /// Which backend.
    pub(crate) dialect: Dialect,
}

/// SQLite's settings, applied to every connection: durable commits (WAL with
/// `synchronous=FULL`), a wait instead of an immediate `SQLITE_BUSY`, and enforced foreign keys.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
    PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

impl Dialect {
    /// The clause that locks the rows a `SELECT` reads until the transaction ends
    /// (PostgreSQL); SQLite's single writer already serialises every writing transaction.
    pub(crate) fn row_lock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE",
        }
    }

    /// The row-locking clause of the outbox claim's subquery: PostgreSQL skips rows another
    /// instance is claiming; SQLite has one writer, so nothing else can be claiming. Only the
    /// delivery (`d`) is locked: a bare `FOR UPDATE` also locks the joined subscription row,
    /// and `SKIP LOCKED` then hides every other due delivery of that subscription from
    /// concurrent claimers, which come back empty-handed while work is due.
    pub(crate) fn claim_lock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE OF d SKIP LOCKED",
        }
    }
}

impl Db {
    /// Opens (creating if missing) the SQLite database at `url` (`sqlite://path`) and migrates
    /// it. One writer connection: SQLite admits one writer at a time, and queueing in the pool
    /// is fairer and faster than its busy-wait.
    pub(crate) async fn open_sqlite(url: &str) -> Result<Self, String> {
        sqlx::any::install_default_drivers();
        let options =
            SqliteConnectOptions::from_str(url).map_err(|e| format!("invalid SQLite URL: {e}"))?;
        let writer_url = options.clone().create_if_missing(true).to_url_lossy();
        let reader_url = options.read_only(true).to_url_lossy();
        let writer = sqlite_pool(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(any_options(writer_url.as_str())?)
            .await
            .map_err(|e| format!("cannot open SQLite database: {e}"))?;
        migrate::run(&writer, Dialect::Sqlite).await?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .max(4);
        let reader = sqlite_pool(readers as u32)
            .connect_with(any_options(reader_url.as_str())?)
            .await
            .map_err(|e| format!("cannot open SQLite database: {e}"))?;
        Ok(Self {
            writer,
            reader,
            dialect: Dialect::Sqlite,
        })
    }

    /// Connects to `url` (`postgres://…`) with up to `max_connections` and migrates. A
    /// request waits at most `acquire_timeout` for a connection: when the server is down or
    /// refusing connections, callers learn it (503) within that time instead of queueing.
    pub(crate) async fn open_postgres(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, String> {
        sqlx::any::install_default_drivers();
        let options = any_options(url)?;
        // One direct connection first, so that a wrong address fails at once instead of
        // after the pool's acquire timeout.
        sqlx::AnyConnection::connect_with(&options)
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?
            .close()
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            // sqlx pings a pooled connection on every acquire by default: a round trip to the
            // server before each query, which on a busy server cost more than the query
            // (bench/README.md, "The PostgreSQL read path"). Only a connection idle for a while
            // is pinged (defaults::DB_PING_IF_IDLE_MS says what that leaves); one that breaks
            // in use is dropped by sqlx's own check when it is released.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= Duration::from_millis(defaults::DB_PING_IF_IDLE_MS) {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        migrate::run(&pool, Dialect::Postgres).await?;
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
            dialect: Dialect::Postgres,
        })
    }

    /// Closes the pools (on SQLite, closing the writer last checkpoints the WAL).
    pub(crate) async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

fn any_options(url: &str) -> Result<AnyConnectOptions, String> {
    AnyConnectOptions::from_str(url).map_err(|e| format!("invalid database URL: {e}"))
}

/// A SQLite pool of `size` connections with [`SQLITE_PRAGMAS`] applied to each.
fn sqlite_pool(size: u32) -> PoolOptions<Any> {
    AnyPoolOptions::new()
        .max_connections(size)
        // A SQLite connection is a file handle on a worker thread: it cannot hang up, so the
        // default ping before each acquire would only add a thread hop to every query.
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(SQLITE_PRAGMAS).await?;
                Ok(())
            })
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use sqlx::Row;

    async fn pragma(pool: &AnyPool, name: &str) -> String {
        let row = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_one(pool)
            .await
            .unwrap();
        row.try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn sqlite_connections_are_durable_wait_when_busy_and_readers_cannot_write() {
        let dir = std::env::temp_dir().join(format!("latchkey-db-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open_sqlite(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .unwrap();
        assert_eq!(db.writer.options().get_max_connections(), 1);
        for pool in [&db.writer, &db.reader] {
            assert_eq!(pragma(pool, "journal_mode").await, "wal");
            assert_eq!(pragma(pool, "synchronous").await, "2", "FULL");
            assert_eq!(pragma(pool, "foreign_keys").await, "1");
            assert_eq!(pragma(pool, "busy_timeout").await, "10000");
        }
        let write = sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&db.reader)
            .await;
        assert!(write.is_err(), "a reader connection must be read-only");
        db.close().await;
    }
}
