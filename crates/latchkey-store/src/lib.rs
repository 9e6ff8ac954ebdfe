//! latchkey's storage: the `Store` contract on SQLite or PostgreSQL, chosen by the URL scheme.
//!
//! Every query is written once, as plain functions in the module that owns its area (users,
//! guesses, challenges, commit, wallets, webhooks, outbox, idempotency, audit, entities), and
//! runs on both backends through `sqlx::Any`. The schemas keep to types both map the same way
//! (`BIGINT`/`INTEGER` for integers, times and 0/1 flags, `TEXT`, `BYTEA`/`BLOB`) and the SQL to
//! what both accept (`$N` parameters, `ON CONFLICT`, `RETURNING`), so the backend difference is
//! one [`db::Dialect`] value: how the pools are opened (SQLite's pragmas, one writer and
//! read-only readers) and the outbox claim's `FOR UPDATE SKIP LOCKED`.
//!
//! `Any` over a generic `Database` parameter because sqlx's executor bounds make generic query
//! functions unreadable (which is how the previous macro-generated body came to be); over two
//! copies per query because there is one SQL text per query anyway. Its cost is one copy of
//! each row into `Any`'s value type; `tests/hot_paths.rs` times the hot reads (API key, user by
//! internal id, challenge by id) to keep that in check.

mod audit;
mod challenges;
mod commit;
mod db;
mod entities;
mod error;
mod guesses;
mod idempotency;
mod migrate;
mod outbox;
mod page;
mod row;
mod store;
mod users;
mod wallets;
mod webhooks;

pub use store::SqlStore;

use latchkey_core::store::Store;
use std::sync::Arc;

/// Opens the store named by `url`: `sqlite://…` or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqlStore::open_sqlite(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            SqlStore::open_postgres(url, max_connections).await?,
        ))
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        Err(format!(
            "unsupported database URL scheme '{scheme}': use sqlite://PATH or postgres://USER@HOST/DB"
        ))
    }
}
