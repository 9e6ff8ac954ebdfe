//! Subscriptions: an endpoint must answer a HEAD request with 2xx before it is saved (or
//! re-enabled), then receives a `webhooks.test` notification. A subscription belongs to the
//! environment of the API key that created it: it receives only that environment's
//! notifications, and keys of the other environment neither see nor change it.

use crate::{address, Webhooks};
use latchkey_core::error::codes;
use latchkey_core::service::store_failed;
use latchkey_core::webhooks::{
    is_known_pattern, NotificationDraft, SubscriptionRecord, TEST_NOTIFICATION,
};
use latchkey_core::{ApiCaller, ApiError};
use serde_json::{json, Value};

/// Most patterns one subscription names: more than the catalog and its categories hold, so
/// only repeats are ever cut off.
pub const MAX_NOTIFICATION_TYPES: usize = 64;

/// The body of `POST /v2/notifications/subscriptions`.
#[derive(Debug, Clone)]
pub struct SubscriptionInput {
    /// Where to POST notifications.
    pub endpoint: String,
    /// Restricting patterns (`*`, `challenges.*`, `challenges.changePin`…); none = all.
    pub notification_types: Option<Vec<String>>,
}

fn bad_endpoint(message: impl Into<String>) -> ApiError {
    ApiError::invalid_field("endpoint", "invalid", message)
}

fn refused_endpoint() -> ApiError {
    bad_endpoint(
        "endpoint resolves to a loopback, link-local or otherwise special address (loopback is allowed only in --dev mode)",
    )
}

fn not_found() -> ApiError {
    codes::NOT_FOUND.with_message("Cannot find the subscription in the system.")
}

/// Circle's `Subscription` object.
pub fn subscription_json(s: &SubscriptionRecord) -> Value {
    let unrestricted =
        s.notification_types.is_empty() || s.notification_types.iter().any(|t| t == "*");
    let types = if s.notification_types.is_empty() {
        vec!["*".to_string()]
    } else {
        s.notification_types.clone()
    };
    json!({
        "id": s.id,
        "name": s.name,
        "endpoint": s.endpoint,
        "enabled": s.enabled,
        "createDate": s.created_at.iso(),
        "updateDate": s.updated_at.iso(),
        "notificationTypes": types,
        "restricted": !unrestricted,
    })
}

impl Webhooks {
    /// Checks the endpoint's form and address, then that it answers HEAD with 2xx.
    async fn check_endpoint(&self, endpoint: &str) -> Result<(), ApiError> {
        let url = reqwest::Url::parse(endpoint.trim())
            .map_err(|_| bad_endpoint("endpoint must be an absolute URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.settings.allow_http => {}
            "http" => {
                return Err(bad_endpoint(
                    "endpoint must use https:// (http:// is allowed only in --dev mode)",
                ))
            }
            _ => return Err(bad_endpoint("endpoint must be an https:// URL")),
        }
        if address::check_url(&url, self.settings.allow_loopback).is_err() {
            return Err(refused_endpoint());
        }
        // A name resolving to a refused address fails here, in the resolver, with a clear answer;
        // the same resolver checks again for every delivery.
        if let Some(host) = url.host_str().filter(|h| !h.starts_with('[')) {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs: Vec<_> = tokio::net::lookup_host((host, port))
                .await
                .map_err(|_| bad_endpoint(format!("endpoint host {host} does not resolve")))?
                .collect();
            if addrs
                .iter()
                .any(|a| address::is_refused(a.ip(), self.settings.allow_loopback))
            {
                return Err(refused_endpoint());
            }
        }
        let http = self.client().map_err(|reason| {
            tracing::error!(reason, "no webhook HTTP client");
            ApiError::internal()
        })?;
        let response = http.head(url).send().await.map_err(|e| {
            bad_endpoint(format!("endpoint is unreachable: {}", transport_error(&e)))
        })?;
        if !response.status().is_success() {
            return Err(bad_endpoint(format!(
                "endpoint answered {} to the HEAD check; it must answer 2xx",
                response.status().as_u16()
            )));
        }
        Ok(())
    }

    async fn send_test(&self, caller: &ApiCaller, subscription_id: &str) -> Result<(), ApiError> {
        let draft = NotificationDraft {
            entity_id: caller.entity_id.clone(),
            environment: caller.environment,
            notification_type: TEST_NOTIFICATION.to_string(),
            payload: json!({ "hello": "world" }),
            only_subscription: Some(subscription_id.to_string()),
        };
        self.lk
            .store()
            .enqueue_notification(&draft, self.lk.now())
            .await
            .map_err(store_failed)?;
        Ok(())
    }

    /// `POST /v2/notifications/subscriptions`.
    pub async fn create_subscription(
        &self,
        caller: &ApiCaller,
        input: SubscriptionInput,
    ) -> Result<SubscriptionRecord, ApiError> {
        let types = input.notification_types.unwrap_or_default();
        if types.len() > MAX_NOTIFICATION_TYPES {
            return Err(ApiError::invalid_field(
                "notificationTypes",
                "max",
                format!("notificationTypes must have at most {MAX_NOTIFICATION_TYPES} entries"),
            ));
        }
        if let Some((i, bad)) = types.iter().enumerate().find(|(_, t)| !is_known_pattern(t)) {
            return Err(ApiError::invalid_field(
                &format!("notificationTypes[{i}]"),
                "invalid",
                format!("unknown notification type {bad:?}"),
            ));
        }
        if input.endpoint.len() > 2048 {
            return Err(bad_endpoint("endpoint must be at most 2048 characters"));
        }
        self.check_endpoint(&input.endpoint).await?;
        self.active_key(&caller.entity_id).await?;
        let now = self.lk.now();
        let record = SubscriptionRecord {
            id: uuid::Uuid::new_v4().to_string(),
            entity_id: caller.entity_id.clone(),
            environment: caller.environment,
            name: String::new(),
            endpoint: input.endpoint.trim().to_string(),
            enabled: true,
            notification_types: types,
            failing_since: None,
            created_at: now,
            updated_at: now,
        };
        self.lk
            .store()
            .insert_subscription(&record)
            .await
            .map_err(store_failed)?;
        self.send_test(caller, &record.id).await?;
        Ok(record)
    }

    /// `GET /v2/notifications/subscriptions`.
    pub async fn list_subscriptions(
        &self,
        caller: &ApiCaller,
    ) -> Result<Vec<SubscriptionRecord>, ApiError> {
        self.lk
            .store()
            .list_subscriptions(&caller.entity_id, caller.environment)
            .await
            .map_err(store_failed)
    }

    /// `GET /v2/notifications/subscriptions/{id}`.
    pub async fn get_subscription(
        &self,
        caller: &ApiCaller,
        id: &str,
    ) -> Result<SubscriptionRecord, ApiError> {
        self.lk
            .store()
            .subscription(&caller.entity_id, caller.environment, id)
            .await
            .map_err(store_failed)?
            .ok_or_else(not_found)
    }

    /// `PATCH /v2/notifications/subscriptions/{id}`: re-checks the endpoint when the result is
    /// enabled, then sends `webhooks.test`.
    pub async fn update_subscription(
        &self,
        caller: &ApiCaller,
        id: &str,
        name: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<SubscriptionRecord, ApiError> {
        let current = self.get_subscription(caller, id).await?;
        if let Some(n) = name {
            if n.chars().count() > 256 {
                return Err(ApiError::invalid_field(
                    "name",
                    "max",
                    "name must be at most 256 characters",
                ));
            }
        }
        let will_be_enabled = enabled.unwrap_or(current.enabled);
        if will_be_enabled {
            self.check_endpoint(&current.endpoint).await?;
        }
        if !self
            .lk
            .store()
            .update_subscription(
                &caller.entity_id,
                caller.environment,
                id,
                name,
                enabled,
                self.lk.now(),
            )
            .await
            .map_err(store_failed)?
        {
            return Err(not_found());
        }
        if will_be_enabled {
            self.send_test(caller, id).await?;
        }
        self.get_subscription(caller, id).await
    }

    /// `DELETE /v2/notifications/subscriptions/{id}`.
    pub async fn delete_subscription(&self, caller: &ApiCaller, id: &str) -> Result<(), ApiError> {
        if self
            .lk
            .store()
            .delete_subscription(&caller.entity_id, caller.environment, id)
            .await
            .map_err(store_failed)?
        {
            Ok(())
        } else {
            Err(not_found())
        }
    }
}

/// A transport error in a few words, without the URL (which may carry credentials).
pub(crate) fn transport_error(e: &reqwest::Error) -> &'static str {
    if address::is_refused_error(e) {
        "address refused"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused or failed"
    } else if e.is_redirect() {
        "redirected"
    } else {
        "request failed"
    }
}
