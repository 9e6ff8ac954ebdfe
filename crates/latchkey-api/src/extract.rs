//! Extractors: JSON bodies whose every failure is a Circle-shaped 400 naming the field, and
//! path segments whose rejection is Circle-shaped too, and the three ways a request
//! authenticates (API key; API key + userToken; App ID + userToken).
//!
//! Every text a request carries (each string and key of a JSON body, nested too, each path
//! segment, each query value) is refused here when it holds U+0000: PostgreSQL cannot store
//! it in a text column, and refusing it at the door makes both backends answer alike.

use crate::error::HttpError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
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

/// The refusal of a text holding U+0000, naming where it was.
pub fn nul_refused(location: &str) -> ApiError {
    ApiError::invalid_field(
        location,
        "invalid",
        format!("{location} must not contain the NUL character (U+0000)"),
    )
}

/// The location (as serde_path_to_error spells it: `metadata[0].name`) of the first string
/// or key of `value` that holds U+0000.
fn find_nul(value: &Value, path: &str) -> Option<String> {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => Some(if path.is_empty() {
            "body".into()
        } else {
            path.into()
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_nul(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                // The key itself cannot be echoed as it is: show the NUL escaped.
                Some(at(&k.replace('\0', "\\u0000")))
            } else {
                find_nul(v, &at(k))
            }
        }),
        _ => None,
    }
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
    if let Some(location) = find_nul(&raw, "") {
        return Err(nul_refused(&location));
    }
    let value = serde_path_to_error::deserialize(&raw)
        .map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))?;
    Ok(JsonBody { value, raw })
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            HttpError(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large()
            } else {
                ApiError::invalid_field("body", "invalid", "the request body could not be read")
            })
        })?;
        Ok(parse_json(&bytes)?)
    }
}

/// A path parameter; a segment that is not valid UTF-8 (`%ff`) is a Circle-shaped 400, not
/// axum's plain-text rejection, and so is one holding U+0000 (`%00`), naming the parameter.
#[derive(Debug)]
pub struct PathParam<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParam<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let malformed = || {
            HttpError(ApiError::invalid_field(
                "path",
                "invalid",
                "a path parameter is malformed (it must be valid percent-encoded UTF-8)",
            ))
        };
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| malformed())?;
        if let Some((name, _)) = raw.iter().find(|(_, value)| value.contains('\0')) {
            return Err(HttpError(nul_refused(name)));
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParam(value)),
            Err(_) => Err(malformed()),
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

    #[test]
    fn nul_is_refused_wherever_it_hides() {
        let cases: [(&[u8], &str); 5] = [
            (br#"{"userId":"ab\u0000cde"}"#, "userId"),
            (br#"{"userId":"abcde","x":{"y":[1,"\u0000"]}}"#, "x.y[1]"),
            (
                br#"{"userId":"abcde","m":[{"name":"x\u0000y"}]}"#,
                "m[0].name",
            ),
            (br#"{"userId":"abcde","k\u0000":1}"#, "k\\u0000"),
            (br#"{"userId":"abcde","a":[[{"b":"\u0000"}]]}"#, "a[0][0].b"),
        ];
        for (body, location) in cases {
            let e = parse_json::<Body>(body).unwrap_err();
            assert_eq!((e.code, e.errors[0].location.as_str()), (2, location));
        }
    }
}
