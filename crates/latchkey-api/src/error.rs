//! The one place where an error becomes an HTTP response, in Circle's shape:
//! `{"code", "message", "errors"?, "attemptsLeft"?, "lockedExpiryDate"?}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::ApiError;
use serde::Serialize;
use utoipa::ToSchema;

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

/// Circle's error body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Circle's numeric code (2 = validation, 155xxx = user-controlled wallets…).
    pub code: i64,
    /// What went wrong; never contains a secret.
    pub message: String,
    /// Field-level details of a validation error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorBody>,
    /// PIN / answer attempts left after a wrong guess.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// When a PIN / answer lock ends (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_expiry_date: Option<String>,
}

/// One entry of `errors[]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldErrorBody {
    /// The kind of failure (`required`, `invalid`, `type`, `min`, `max`).
    pub error: String,
    /// A human explanation naming the field.
    pub message: String,
    /// The field's path in the request.
    pub location: String,
    /// The offending value, when safe to echo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_value: Option<serde_json::Value>,
}

impl From<ApiError> for ErrorBody {
    fn from(e: ApiError) -> Self {
        Self {
            code: e.code,
            message: e.message.into_owned(),
            errors: e
                .errors
                .into_iter()
                .map(|f| FieldErrorBody {
                    error: f.error,
                    message: f.message,
                    location: f.location,
                    invalid_value: f.invalid_value,
                })
                .collect(),
            attempts_left: e.attempts_left,
            locked_expiry_date: e.locked_expiry_date,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorBody::from(self.0))).into_response()
    }
}
