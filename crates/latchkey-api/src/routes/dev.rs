//! Emulator conveniences, mounted only with `--dev`: one call creates a user with a token, or
//! a challenge, so the sample app can run the whole flow without a backend. Never in
//! production: these calls need no API key.

use crate::error::HttpResult;
use crate::extract::JsonBody;
use crate::render::ChallengeIdResponse;
use crate::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::Json;
use latchkey_core::model::{ChallengeType, Environment};
use latchkey_core::{ApiCaller, ApiError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes mounted only with `--dev`: left out of the OpenAPI document on purpose (they
/// need no API key and exist only for the sample app).
pub const DEV_ONLY_ROUTES: &[&str] = &["/v1/w3s/dev/users", "/v1/w3s/dev/challenges"];

/// This module's routes: the status always, the helpers only with `--dev`.
pub fn routes(dev: bool) -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::new().routes(routes!(get_dev_status));
    if !dev {
        return router;
    }
    router
        .route(DEV_ONLY_ROUTES[0], post(create_dev_user))
        .route(DEV_ONLY_ROUTES[1], post(create_dev_challenge))
}

/// `{"data": {"dev": bool}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DevStatusResponse {
    /// The envelope.
    pub data: DevStatus,
}

/// Whether the server runs with `--dev`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DevStatus {
    /// `true` with `--dev`.
    pub dev: bool,
}

/// `GET /v1/w3s/dev/status`.
#[utoipa::path(get, path = "/v1/w3s/dev/status", tag = "dev", operation_id = "getDevStatus",
    responses((status = 200, description = "Whether the emulator helpers are mounted.", body = DevStatusResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_dev_status(State(s): State<AppState>) -> Json<DevStatusResponse> {
    Json(DevStatusResponse {
        data: DevStatus {
            dev: s.lk.settings().dev,
        },
    })
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

/// `{"data": DevUser}`.
#[derive(Debug, Serialize)]
pub struct DevUserResponse {
    /// The envelope.
    pub data: DevUser,
}

/// A new user with a token, and the App ID of the default entity.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DevUser {
    /// The user id.
    pub user_id: String,
    /// A fresh user token.
    pub user_token: String,
    /// The token's encryption key.
    pub encryption_key: String,
    /// The default entity's App ID.
    pub app_id: String,
}

/// `POST /v1/w3s/dev/users`: a user and a token in one call.
#[tracing::instrument(skip_all)]
pub async fn create_dev_user(
    State(s): State<AppState>,
    body: JsonBody<DevUserRequest>,
) -> HttpResult<Json<DevUserResponse>> {
    let (caller, app_id) = default_caller(&s).await?;
    let user_id = body
        .value
        .user_id
        .unwrap_or_else(|| format!("user-{}", &uuid::Uuid::new_v4().to_string()[..8]));
    s.lk.create_user(&caller, &user_id).await?;
    let token = s.lk.issue_token(&caller, &user_id).await?;
    Ok(Json(DevUserResponse {
        data: DevUser {
            user_id,
            user_token: token.user_token,
            encryption_key: token.encryption_key,
            app_id,
        },
    }))
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
#[tracing::instrument(skip_all)]
pub async fn create_dev_challenge(
    State(s): State<AppState>,
    body: JsonBody<DevChallengeRequest>,
) -> HttpResult<Json<ChallengeIdResponse>> {
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
    Ok(Json(ChallengeIdResponse::new(id)))
}
