//! Extractors: JSON bodies whose every failure is a Circle-shaped 400 naming the field, and
//! path segments whose rejection is Circle-shaped too, and the three ways a request
//! authenticates (API key; API key + userToken; App ID + userToken).

use crate::error::HttpError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use latchkey_core::{ApiCaller, ApiError, UserSession};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON body parsed into `T`, with the raw value kept (for idempotency fingerprints).
#[derive(Debug)]
pub struct JsonBody<T> {
    /// The typed body.
    pub value: T,
    /// The body as parsed JSON.
    pub raw: Value,
}

fn field_error(path: &str, message: &str) -> ApiError {
    // serde reports a missing field at the parent path: name the field itself.
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let location = if path == "." || path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        return ApiError::missing_field(&location);
    }
    let location = if path == "." { "body" } else { path };
    let kind = if message.starts_with("invalid type") {
        "type"
    } else {
        "invalid"
    };
    // Keep serde's text without its "at line … column …" suffix.
    let clean = message.split(" at line ").next().unwrap_or(message);
    ApiError::invalid_field(location, kind, format!("{location}: {clean}"))
}

/// Parses a JSON body; an empty body is `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<JsonBody<T>, ApiError> {
    let raw: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(bytes).map_err(|_| {
            ApiError::invalid_field("body", "invalid", "the request body is not valid JSON")
        })?
    };
    if !raw.is_object() {
        return Err(ApiError::invalid_field(
            "body",
            "type",
            "the request body must be a JSON object",
        ));
    }
    let value = serde_path_to_error::deserialize(&raw)
        .map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))?;
    Ok(JsonBody { value, raw })
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            HttpError(ApiError::invalid_field(
                "body",
                "invalid",
                "the request body could not be read (too large?)",
            ))
        })?;
        Ok(parse_json(&bytes)?)
    }
}

/// A path parameter; a segment that is not valid UTF-8 (`%ff`) is a Circle-shaped 400, not
/// axum's plain-text rejection.
#[derive(Debug)]
pub struct PathParam<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParam<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParam(value)),
            Err(_) => Err(HttpError(ApiError::invalid_field(
                "path",
                "invalid",
                "a path parameter is malformed (it must be valid percent-encoded UTF-8)",
            ))),
        }
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A request carrying a developer API key.
#[derive(Debug, Clone)]
pub struct Developer(pub ApiCaller);

impl FromRequestParts<AppState> for Developer {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = state
            .lk
            .authenticate_api_key(header(parts, "authorization"))
            .await?;
        Ok(Developer(caller))
    }
}

/// A request carrying an API key and the user's `X-User-Token`.
#[derive(Debug, Clone)]
pub struct DeveloperUser(pub ApiCaller, pub UserSession);

impl FromRequestParts<AppState> for DeveloperUser {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = state
            .lk
            .authenticate_api_key(header(parts, "authorization"))
            .await?;
        let session = state
            .lk
            .user_session(&caller, header(parts, "x-user-token"))
            .await?;
        Ok(DeveloperUser(caller, session))
    }
}

/// The end user's side: `X-App-Id` and `X-User-Token`, never an API key.
#[derive(Debug, Clone)]
pub struct AppUser(pub UserSession);

impl FromRequestParts<AppState> for AppUser {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = state
            .lk
            .authenticate_app_user(header(parts, "x-app-id"), header(parts, "x-user-token"))
            .await?;
        Ok(AppUser(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        user_id: String,
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_json::<Body>(b"{}").unwrap_err();
        assert_eq!((e.code, e.errors[0].location.as_str()), (2, "userId"));
        let e = parse_json::<Body>(br#"{"userId": 5}"#).unwrap_err();
        assert_eq!((e.code, e.errors[0].location.as_str()), (2, "userId"));
        let e = parse_json::<Body>(b"{nope").unwrap_err();
        assert_eq!(e.code, 2);
        let e = parse_json::<Body>(b"[1]").unwrap_err();
        assert_eq!(e.code, 2);
        assert!(parse_json::<Body>(br#"{"userId":"abcde"}"#).is_ok());
    }
}
