//! The developer's entity configuration (`GET /v1/w3s/config/entity`) and the
//! unauthenticated liveness probe (`GET /ping`).

use crate::error::HttpResult;
use crate::extract::Developer;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ping))
        .routes(routes!(get_entity_config))
}

/// `{"message":"pong"}` (no `data` envelope: Circle's shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct PingResponse {
    /// Always `pong`.
    pub message: String,
}

/// `GET /ping`: `{"message":"pong"}`, no auth.
#[utoipa::path(get, path = "/ping", tag = "health", operation_id = "ping",
    responses((status = 200, description = "The server is up.", body = PingResponse)))]
#[tracing::instrument(skip_all)]
pub async fn ping() -> Json<PingResponse> {
    Json(PingResponse {
        message: "pong".into(),
    })
}

/// `{"data": {"appId": …}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityConfigResponse {
    /// The envelope.
    pub data: EntityConfig,
}

/// The entity's public configuration.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityConfig {
    /// The App ID the end user's side sends as `X-App-Id` (not a secret).
    pub app_id: String,
}

/// `GET /v1/w3s/config/entity`.
#[utoipa::path(get, path = "/v1/w3s/config/entity", tag = "entity", operation_id = "getEntityConfig",
    security(("apiKey" = [])),
    responses((status = 200, description = "The entity's App ID.", body = EntityConfigResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_entity_config(
    State(s): State<AppState>,
    Developer(caller): Developer,
) -> HttpResult<Json<EntityConfigResponse>> {
    let entity = s.lk.entity(&caller).await?;
    Ok(Json(EntityConfigResponse {
        data: EntityConfig {
            app_id: entity.app_id,
        },
    }))
}
