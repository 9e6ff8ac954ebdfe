//! latchkey's storage: the `Store` contract on SQLite or PostgreSQL, chosen by the URL scheme.
//!
//! Every query is written once, as plain functions in the module that owns its area (entities
//! and API keys, users, guesses, challenges, commit, wallets, webhooks, outbox, idempotency,
//! audit), and runs on both backends through `sqlx::Any`. The SQL keeps to what both accept
//! (`$N` parameters, `ON CONFLICT`, `RETURNING`), so the backend difference is one
//! `db::Dialect` value: how the pools are opened (SQLite: pragmas, one writer connection,
//! read-only readers; PostgreSQL: one pool) and the outbox claim's `FOR UPDATE SKIP LOCKED`.
//!
//! Why `Any`: a function generic over `sqlx::Database` needs executor, encode and decode
//! bounds on every signature (which is how the previous macro-generated body came to be), and
//! two copies of each query would differ only in their pool type. `Any` maps `i64`, `bool`
//! (bind only), `String`/text and `Vec<u8>`/blob the same way on both backends, by the
//! *value's* type, so the schemas keep to `BIGINT`/`INTEGER` (integers, Unix-millisecond
//! times, 0/1 flags), `TEXT` and `BYTEA`/`BLOB`. Do not add a SQLite column declared
//! `BOOLEAN`, `DATE` or `DATETIME`: `Any` refuses to read those.
//!
//! Its cost is one copy of each row into `Any`'s values and of the arguments into the
//! backend's. `tests/hot_paths.rs` times the hot reads (API key, user by internal id,
//! challenge by id) against whatever store it is built with. Measured against the old
//! macro-generated store (debug builds, alternating runs): on SQLite the same, about 22–27 µs
//! of process CPU per read at best for both; on PostgreSQL 55–80 µs of client CPU per read for
//! both, with the wall time dominated by the round trip and no consistent difference.
//!
//! Decoding is strict: a stored value that does not decode (bad JSON, an unknown enum name,
//! bad KDF parameters, a flag other than 0/1) is an error naming `table.column`, never a
//! default.

mod audit;
mod challenges;
mod commit;
mod db;
mod engine;
mod entities;
mod error;
mod follower;
mod guesses;
mod idempotency;
mod migrate;
mod nonces;
mod outbox;
mod page;
mod row;
mod sponsorship;
mod store;
mod tokens;
mod transactions;
mod users;
mod wallet_tokens;
mod wallets;
mod webhooks;

pub use store::SqlStore;

use latchkey_core::defaults;
use latchkey_core::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Opens the store named by `url`: `sqlite://…` or `postgres://…` / `postgresql://…`, with
/// the default PostgreSQL acquire timeout.
pub async fn open(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, String> {
    let acquire = Duration::from_millis(defaults::DB_ACQUIRE_TIMEOUT_MS);
    open_with(url, max_connections, acquire).await
}

/// [`open`], waiting at most `acquire_timeout` for a PostgreSQL connection (SQLite's single
/// writer keeps its own longer wait: queueing for it is normal under write load).
pub async fn open_with(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqlStore::open_sqlite(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            SqlStore::open_postgres(url, max_connections, acquire_timeout).await?,
        ))
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        Err(format!(
            "unsupported database URL scheme '{scheme}': use sqlite://PATH or postgres://USER@HOST/DB"
        ))
    }
}
