//! Webhook subscriptions and signature public keys (`/v2/notifications/…`, API key).

use crate::error::HttpResult;
use crate::extract::{Developer, JsonBody};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::crypto::b64;
use latchkey_webhooks::{subscription_json, SubscriptionInput};
use serde::Deserialize;
use serde_json::json;

/// Body of `POST /v2/notifications/subscriptions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSubscriptionRequest {
    endpoint: String,
    #[serde(default)]
    notification_types: Option<Vec<String>>,
}

/// Body of `PATCH /v2/notifications/subscriptions/{id}`.
#[derive(Debug, Deserialize)]
pub struct UpdateSubscriptionRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// `POST /v2/notifications/subscriptions`.
pub async fn create_subscription(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<CreateSubscriptionRequest>,
) -> HttpResult<Response> {
    let input = SubscriptionInput {
        endpoint: body.value.endpoint,
        notification_types: body.value.notification_types,
    };
    let sub = s.webhooks.create_subscription(&caller, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "data": subscription_json(&sub) })),
    )
        .into_response())
}

/// `GET /v2/notifications/subscriptions`.
pub async fn list_subscriptions(
    State(s): State<AppState>,
    Developer(caller): Developer,
) -> HttpResult<Response> {
    let subs = s.webhooks.list_subscriptions(&caller).await?;
    let data: Vec<_> = subs.iter().map(subscription_json).collect();
    Ok(Json(json!({ "data": data })).into_response())
}

/// `GET /v2/notifications/subscriptions/{id}`.
pub async fn get_subscription(
    State(s): State<AppState>,
    Developer(caller): Developer,
    Path(id): Path<String>,
) -> HttpResult<Response> {
    let sub = s.webhooks.get_subscription(&caller, &id).await?;
    Ok(Json(json!({ "data": subscription_json(&sub) })).into_response())
}

/// `PATCH /v2/notifications/subscriptions/{id}`.
pub async fn update_subscription(
    State(s): State<AppState>,
    Developer(caller): Developer,
    Path(id): Path<String>,
    body: JsonBody<UpdateSubscriptionRequest>,
) -> HttpResult<Response> {
    let sub = s
        .webhooks
        .update_subscription(&caller, &id, body.value.name.as_deref(), body.value.enabled)
        .await?;
    Ok(Json(json!({ "data": subscription_json(&sub) })).into_response())
}

/// `DELETE /v2/notifications/subscriptions/{id}`: 204, no body.
pub async fn delete_subscription(
    State(s): State<AppState>,
    Developer(caller): Developer,
    Path(id): Path<String>,
) -> HttpResult<Response> {
    s.webhooks.delete_subscription(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v2/notifications/publicKey/{id}`.
pub async fn get_notification_public_key(
    State(s): State<AppState>,
    Developer(caller): Developer,
    Path(id): Path<String>,
) -> HttpResult<Response> {
    let key = s.webhooks.public_key(&caller.entity_id, &id).await?;
    Ok(Json(json!({ "data": {
        "id": key.id,
        "algorithm": "ECDSA_SHA_256",
        "publicKey": b64(&key.public_key_der),
        "createDate": key.created_at.iso(),
    } }))
    .into_response())
}
