//! latchkey's storage: one `Store` implementation per backend, chosen by the URL scheme.

mod migrate;
pub mod postgres;
mod shared;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use latchkey_core::store::Store;
use std::sync::Arc;

/// Opens the store named by `url`: `sqlite://…` or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url, max_connections).await?))
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        Err(format!(
            "unsupported database URL scheme '{scheme}': use sqlite://PATH or postgres://USER@HOST/DB"
        ))
    }
}
