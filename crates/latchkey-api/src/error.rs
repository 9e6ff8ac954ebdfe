//! The one place where an error becomes an HTTP response, in Circle's shape:
//! `{"code", "message", "errors"?, "attemptsLeft"?, "lockedExpiryDate"?}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::ApiError;
use serde_json::{json, Map, Value};

/// An [`ApiError`] on its way out.
#[derive(Debug)]
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

/// Handler result.
pub type HttpResult<T> = Result<T, HttpError>;

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = Map::new();
        body.insert("code".into(), json!(e.code));
        body.insert("message".into(), json!(e.message));
        if !e.errors.is_empty() {
            body.insert("errors".into(), json!(e.errors));
        }
        if let Some(left) = e.attempts_left {
            body.insert("attemptsLeft".into(), json!(left));
        }
        if let Some(expiry) = e.locked_expiry_date {
            body.insert("lockedExpiryDate".into(), json!(expiry));
        }
        (status, Json(Value::Object(body))).into_response()
    }
}
