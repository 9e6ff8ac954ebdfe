//! Webhook subscriptions and signature public keys (`/v2/notifications/…`, API key).

use crate::error::HttpResult;
use crate::extract::{Developer, JsonBody, PathParam};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use latchkey_core::crypto::b64;
use latchkey_core::webhooks::SubscriptionRecord;
use latchkey_webhooks::SubscriptionInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_subscription, list_subscriptions))
        .routes(routes!(
            get_subscription,
            update_subscription,
            delete_subscription
        ))
        .routes(routes!(get_notification_public_key))
}

/// Circle's `Subscription`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Subscription id (UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where notifications are POSTed.
    pub endpoint: String,
    /// Delivering or paused.
    pub enabled: bool,
    /// Creation time (ISO-8601).
    pub create_date: String,
    /// Last change (ISO-8601).
    pub update_date: String,
    /// Patterns delivered (`*` = every type).
    pub notification_types: Vec<String>,
    /// Whether `notificationTypes` restricts delivery.
    pub restricted: bool,
}

impl Subscription {
    /// The record on the wire: no types (or `*`) means every type.
    pub fn new(s: &SubscriptionRecord) -> Self {
        let unrestricted =
            s.notification_types.is_empty() || s.notification_types.iter().any(|t| t == "*");
        let notification_types = if s.notification_types.is_empty() {
            vec!["*".to_string()]
        } else {
            s.notification_types.clone()
        };
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            endpoint: s.endpoint.clone(),
            enabled: s.enabled,
            create_date: s.created_at.iso(),
            update_date: s.updated_at.iso(),
            notification_types,
            restricted: !unrestricted,
        }
    }
}

/// `{"data": Subscription}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionResponse {
    /// The envelope.
    pub data: Subscription,
}

/// `{"data": [Subscription]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionsResponse {
    /// The envelope.
    pub data: Vec<Subscription>,
}

/// Body of `POST /v2/notifications/subscriptions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSubscriptionRequest {
    /// An absolute `https://` URL answering HEAD with 2xx (`http://` and loopback only with
    /// `--dev`), at most 2048 bytes.
    #[schema(pattern = "^[hH][tT][tT][pP][sS]?://", max_length = 2048)]
    endpoint: String,
    /// Restricting patterns (`*`, a type, or a category wildcard such as `challenges.*`);
    /// none = every type.
    #[serde(default)]
    #[schema(schema_with = notification_patterns)]
    notification_types: Option<Vec<String>>,
}

/// `notificationTypes`: every pattern the service knows (`is_known_pattern`), or null.
fn notification_patterns() -> utoipa::openapi::schema::Array {
    use latchkey_core::webhooks::NOTIFICATION_TYPES;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let mut patterns = vec!["*".to_string()];
    for t in NOTIFICATION_TYPES {
        patterns.push((*t).to_string());
        if let Some((category, _)) = t.split_once('.') {
            let wildcard = format!("{category}.*");
            if !patterns.contains(&wildcard) {
                patterns.push(wildcard);
            }
        }
    }
    ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(patterns)),
        )
        .max_items(Some(latchkey_webhooks::MAX_NOTIFICATION_TYPES))
        .build()
}

/// Body of `PATCH /v2/notifications/subscriptions/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSubscriptionRequest {
    /// New display name.
    #[serde(default)]
    #[schema(max_length = 256)]
    name: Option<String>,
    /// Pause (`false`) or resume (`true`).
    #[serde(default)]
    enabled: Option<bool>,
}

/// `POST /v2/notifications/subscriptions`.
#[utoipa::path(post, path = "/v2/notifications/subscriptions", tag = "notifications",
    operation_id = "createSubscription",
    security(("apiKey" = [])), request_body = CreateSubscriptionRequest,
    responses((status = 201, description = "The new subscription.", body = SubscriptionResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_subscription(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<CreateSubscriptionRequest>,
) -> HttpResult<impl IntoResponse> {
    let input = SubscriptionInput {
        endpoint: body.value.endpoint,
        notification_types: body.value.notification_types,
    };
    let sub = s.webhooks.create_subscription(&caller, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(SubscriptionResponse {
            data: Subscription::new(&sub),
        }),
    ))
}

/// `GET /v2/notifications/subscriptions`.
#[utoipa::path(get, path = "/v2/notifications/subscriptions", tag = "notifications",
    operation_id = "listSubscriptions", security(("apiKey" = [])),
    responses((status = 200, description = "Every subscription.", body = SubscriptionsResponse)))]
#[tracing::instrument(skip_all)]
pub async fn list_subscriptions(
    State(s): State<AppState>,
    Developer(caller): Developer,
) -> HttpResult<Json<SubscriptionsResponse>> {
    let subs = s.webhooks.list_subscriptions(&caller).await?;
    Ok(Json(SubscriptionsResponse {
        data: subs.iter().map(Subscription::new).collect(),
    }))
}

/// `GET /v2/notifications/subscriptions/{id}`.
#[utoipa::path(get, path = "/v2/notifications/subscriptions/{id}", tag = "notifications",
    operation_id = "getSubscription", security(("apiKey" = [])),
    params(("id" = String, Path, description = "Subscription id.")),
    responses((status = 200, description = "The subscription.", body = SubscriptionResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_subscription(
    State(s): State<AppState>,
    Developer(caller): Developer,
    PathParam(id): PathParam<String>,
) -> HttpResult<Json<SubscriptionResponse>> {
    let sub = s.webhooks.get_subscription(&caller, &id).await?;
    Ok(Json(SubscriptionResponse {
        data: Subscription::new(&sub),
    }))
}

/// `PATCH /v2/notifications/subscriptions/{id}`.
#[utoipa::path(patch, path = "/v2/notifications/subscriptions/{id}", tag = "notifications",
    operation_id = "updateSubscription",
    security(("apiKey" = [])), request_body = UpdateSubscriptionRequest,
    params(("id" = String, Path, description = "Subscription id.")),
    responses((status = 200, description = "The updated subscription.", body = SubscriptionResponse)))]
#[tracing::instrument(skip_all)]
pub async fn update_subscription(
    State(s): State<AppState>,
    Developer(caller): Developer,
    PathParam(id): PathParam<String>,
    body: JsonBody<UpdateSubscriptionRequest>,
) -> HttpResult<Json<SubscriptionResponse>> {
    let sub = s
        .webhooks
        .update_subscription(&caller, &id, body.value.name.as_deref(), body.value.enabled)
        .await?;
    Ok(Json(SubscriptionResponse {
        data: Subscription::new(&sub),
    }))
}

/// `DELETE /v2/notifications/subscriptions/{id}`: 204, no body.
#[utoipa::path(delete, path = "/v2/notifications/subscriptions/{id}", tag = "notifications",
    operation_id = "deleteSubscription", security(("apiKey" = [])),
    params(("id" = String, Path, description = "Subscription id.")),
    responses((status = 204, description = "Deleted.")))]
#[tracing::instrument(skip_all)]
pub async fn delete_subscription(
    State(s): State<AppState>,
    Developer(caller): Developer,
    PathParam(id): PathParam<String>,
) -> HttpResult<StatusCode> {
    s.webhooks.delete_subscription(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"data": NotificationPublicKey}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKeyResponse {
    /// The envelope.
    pub data: NotificationPublicKey,
}

/// The key that verifies `X-Circle-Signature` on notifications.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPublicKey {
    /// Key id (`X-Circle-Key-Id`).
    pub id: String,
    /// Always `ECDSA_SHA_256`.
    pub algorithm: String,
    /// Base64 DER SubjectPublicKeyInfo (P-256).
    pub public_key: String,
    /// Creation time (ISO-8601).
    pub create_date: String,
}

/// `GET /v2/notifications/publicKey/{id}`.
#[utoipa::path(get, path = "/v2/notifications/publicKey/{id}", tag = "notifications",
    operation_id = "getNotificationSignature", security(("apiKey" = [])),
    params(("id" = String, Path, description = "Key id (`X-Circle-Key-Id`).")),
    responses((status = 200, description = "The public key.", body = PublicKeyResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_notification_public_key(
    State(s): State<AppState>,
    Developer(caller): Developer,
    PathParam(id): PathParam<String>,
) -> HttpResult<Json<PublicKeyResponse>> {
    let key = s.webhooks.public_key(&caller.entity_id, &id).await?;
    Ok(Json(PublicKeyResponse {
        data: NotificationPublicKey {
            id: key.id,
            algorithm: "ECDSA_SHA_256".into(),
            public_key: b64(&key.public_key_der),
            create_date: key.created_at.iso(),
        },
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use latchkey_core::clock::Timestamp;

    /// The typed body must stay what the webhooks crate renders (test notifications use it).
    #[test]
    fn matches_the_webhooks_rendering() {
        for types in [
            vec![],
            vec!["challenges.*".to_string()],
            vec!["*".to_string()],
        ] {
            let r = SubscriptionRecord {
                id: "id".into(),
                entity_id: "e".into(),
                environment: latchkey_core::model::Environment::Test,
                name: "n".into(),
                endpoint: "https://x".into(),
                enabled: true,
                notification_types: types,
                failing_since: None,
                created_at: Timestamp(1_700_000_000_000),
                updated_at: Timestamp(1_700_000_000_500),
            };
            assert_eq!(
                serde_json::to_value(Subscription::new(&r)).unwrap(),
                latchkey_webhooks::subscription_json(&r)
            );
        }
    }
}
