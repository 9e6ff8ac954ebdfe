//! The store's own error: what a query can fail with before it becomes the core's
//! [`StoreError`]. Keeping it here lets `?` work on sqlx calls (the core has no sqlx) and lets a
//! row that cannot be decoded say which table and column it came from.

use latchkey_core::store::StoreError;

/// A failed query, or a stored value that does not decode.
#[derive(Debug)]
pub(crate) enum DbError {
    /// sqlx or the database refused.
    Sqlx(sqlx::Error),
    /// A stored value cannot be read back (bad JSON, unknown enum, bad KDF parameters).
    Corrupt {
        /// The table read.
        table: &'static str,
        /// The column that did not decode.
        column: &'static str,
        /// Why (never the stored value itself: it may be secret).
        reason: String,
    },
}

/// Shorthand for the query functions.
pub(crate) type DbResult<T> = Result<T, DbError>;

impl DbError {
    /// A stored value of `table.column` that cannot be decoded.
    pub(crate) fn corrupt(
        table: &'static str,
        column: &'static str,
        reason: impl ToString,
    ) -> Self {
        Self::Corrupt {
            table,
            column,
            reason: reason.to_string(),
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        Self::Sqlx(e)
    }
}

/// Whether `e` says the database cannot be reached rather than that a statement failed: no
/// connection within the acquire timeout, a refused or dropped connection, or PostgreSQL
/// refusing connections (SQLSTATE class 08 connection exception, 53300 too many connections,
/// 57P01–57P03 shutting down or starting up).
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "53300" | "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sqlx(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                StoreError::Conflict
            }
            DbError::Sqlx(e) if unreachable(&e) => StoreError::Unavailable(e.to_string()),
            DbError::Sqlx(e) => StoreError::Database(e.to_string()),
            DbError::Corrupt {
                table,
                column,
                reason,
            } => StoreError::Database(format!("cannot decode {table}.{column}: {reason}")),
        }
    }
}
