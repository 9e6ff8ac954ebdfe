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

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sqlx(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                StoreError::Conflict
            }
            DbError::Sqlx(e) => StoreError::Database(e.to_string()),
            DbError::Corrupt {
                table,
                column,
                reason,
            } => StoreError::Database(format!("cannot decode {table}.{column}: {reason}")),
        }
    }
}
