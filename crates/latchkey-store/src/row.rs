//! Reading columns out of a row so that every failure names its table and column: a missing
//! column, a wrong type, bad JSON or an unknown enum value is a [`DbError::Corrupt`], never a
//! silent default.

use crate::error::{DbError, DbResult};
use latchkey_core::clock::Timestamp;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};

/// One row of `table`, read column by column.
pub(crate) struct Columns<'r> {
    row: &'r AnyRow,
    table: &'static str,
}

impl<'r> Columns<'r> {
    /// Reads `row`, which came from `table`.
    pub(crate) fn new(row: &'r AnyRow, table: &'static str) -> Self {
        Self { row, table }
    }

    /// The value of `column`.
    pub(crate) fn get<T>(&self, column: &'static str) -> DbResult<T>
    where
        T: Decode<'r, Any> + Type<Any>,
    {
        self.row
            .try_get(column)
            .map_err(|e| DbError::corrupt(self.table, column, e))
    }

    /// A time column (Unix milliseconds).
    pub(crate) fn time(&self, column: &'static str) -> DbResult<Timestamp> {
        self.get(column).map(Timestamp)
    }

    /// A nullable time column.
    pub(crate) fn opt_time(&self, column: &'static str) -> DbResult<Option<Timestamp>> {
        Ok(self.get::<Option<i64>>(column)?.map(Timestamp))
    }

    /// A 0/1 integer flag.
    pub(crate) fn flag(&self, column: &'static str) -> DbResult<bool> {
        match self.get::<i64>(column)? {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(DbError::corrupt(self.table, column, format!("flag is {n}"))),
        }
    }

    /// A JSON text column.
    pub(crate) fn json<T: DeserializeOwned>(&self, column: &'static str) -> DbResult<T> {
        let text: String = self.get(column)?;
        serde_json::from_str(&text).map_err(|e| DbError::corrupt(self.table, column, e))
    }

    /// A nullable JSON text column.
    pub(crate) fn opt_json<T: DeserializeOwned>(
        &self,
        column: &'static str,
    ) -> DbResult<Option<T>> {
        match self.get::<Option<String>>(column)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| DbError::corrupt(self.table, column, e)),
        }
    }

    /// A text column holding one of an enum's names, read with `parse`.
    pub(crate) fn parsed<T>(
        &self,
        column: &'static str,
        parse: fn(&str) -> Option<T>,
    ) -> DbResult<T> {
        let text: String = self.get(column)?;
        parse(&text)
            .ok_or_else(|| DbError::corrupt(self.table, column, format!("unknown value {text:?}")))
    }

    /// A decode failure of `column` found by the caller.
    pub(crate) fn corrupt(&self, column: &'static str, reason: impl ToString) -> DbError {
        DbError::corrupt(self.table, column, reason)
    }
}

/// A value of `table.column` written as JSON text (encoding our own types does not fail; if it
/// ever did, that is an encode error naming the column rather than a panic).
pub(crate) fn to_json<T: serde::Serialize>(
    table: &'static str,
    column: &'static str,
    value: &T,
) -> DbResult<String> {
    serde_json::to_string(value)
        .map_err(|e| DbError::Sqlx(sqlx::Error::Encode(format!("{table}.{column}: {e}").into())))
}
