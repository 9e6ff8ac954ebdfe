//! Emulator conveniences, mounted only with `--dev`: one call creates a user with a token, or
//! a challenge, so the sample app can run the whole flow without a backend. Never in
//! production: these calls need no API key.

use crate::error::HttpResult;
use crate::extract::JsonBody;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::model::{ChallengeType, Environment};
use latchkey_core::{ApiCaller, ApiError};
use serde::Deserialize;
use serde_json::json;

/// `GET /v1/w3s/dev/status`.
pub async fn get_dev_status(State(s): State<AppState>) -> Response {
    Json(json!({ "data": { "dev": s.lk.settings().dev } })).into_response()
}

async fn default_caller(s: &AppState) -> Result<(ApiCaller, String), ApiError> {
    let (entity, _) = s.lk.ensure_default_entity().await?;
    Ok((
        ApiCaller {
            entity_id: entity.id,
            environment: Environment::Test,
        },
        entity.app_id,
    ))
}

/// Body of `POST /v1/w3s/dev/users`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevUserRequest {
    #[serde(default)]
    user_id: Option<String>,
}

/// `POST /v1/w3s/dev/users`: a user and a token in one call.
pub async fn create_dev_user(
    State(s): State<AppState>,
    body: JsonBody<DevUserRequest>,
) -> HttpResult<Response> {
    let (caller, app_id) = default_caller(&s).await?;
    let user_id = body
        .value
        .user_id
        .unwrap_or_else(|| format!("user-{}", &uuid::Uuid::new_v4().to_string()[..8]));
    s.lk.create_user(&caller, &user_id).await?;
    let token = s.lk.issue_token(&caller, &user_id).await?;
    Ok(Json(json!({ "data": {
        "userId": user_id, "userToken": token.user_token, "encryptionKey": token.encryption_key, "appId": app_id,
    } }))
    .into_response())
}

/// Body of `POST /v1/w3s/dev/challenges`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevChallengeRequest {
    user_token: String,
    #[serde(rename = "type")]
    kind: String,
}

/// `POST /v1/w3s/dev/challenges`: a challenge of the given type for the token's user.
pub async fn create_dev_challenge(
    State(s): State<AppState>,
    body: JsonBody<DevChallengeRequest>,
) -> HttpResult<Response> {
    let (caller, _) = default_caller(&s).await?;
    let session =
        s.lk.user_session(&caller, Some(&body.value.user_token))
            .await?;
    let kind = match ChallengeType::parse(&body.value.kind) {
        Some(
            k @ (ChallengeType::Initialize
            | ChallengeType::SetPin
            | ChallengeType::ChangePin
            | ChallengeType::RestorePin),
        ) => k,
        _ => {
            return Err(ApiError::invalid_field(
                "type",
                "invalid",
                "type must be INITIALIZE, SET_PIN, CHANGE_PIN or RESTORE_PIN",
            )
            .into())
        }
    };
    let id =
        s.lk.create_default_challenge(&caller, &session, kind)
            .await?;
    Ok(Json(json!({ "data": { "challengeId": id } })).into_response())
}
