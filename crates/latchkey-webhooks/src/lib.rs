//! latchkey's webhooks, compatible with Circle's: subscriptions checked with a HEAD request,
//! notifications signed with a per-entity ECDSA P-256 key (`X-Circle-Signature`,
//! `X-Circle-Key-Id`), and an outbox worker that delivers at least once with retries.

mod signing;
mod subscriptions;
mod worker;

pub use subscriptions::{is_local, subscription_json, SubscriptionInput};
pub use worker::envelope;

use latchkey_core::webhooks::RetrySchedule;
use latchkey_core::Latchkey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How webhooks behave; every field is a documented configuration knob.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Delays before each attempt.
    pub schedule: RetrySchedule,
    /// Timeout of one HEAD check or delivery.
    pub timeout: Duration,
    /// Accept `http://` endpoints (always with `--dev`).
    pub allow_http: bool,
    /// Accept endpoints on loopback addresses (always with `--dev`).
    pub allow_loopback: bool,
    /// How long a claimed delivery stays with its worker before others may take it.
    pub lease_ms: i64,
    /// How often an idle worker looks for due deliveries.
    pub poll_interval: Duration,
    /// Deliveries claimed (and sent concurrently) at once.
    pub batch: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            schedule: RetrySchedule::default(),
            timeout: Duration::from_secs(10),
            allow_http: false,
            allow_loopback: false,
            lease_ms: 60_000,
            poll_interval: Duration::from_millis(250),
            batch: 32,
        }
    }
}

/// The webhook service over latchkey's store.
#[derive(Clone)]
pub struct Webhooks {
    lk: Latchkey,
    http: reqwest::Client,
    settings: Arc<WebhookSettings>,
    keys: Arc<Mutex<HashMap<String, p256::ecdsa::SigningKey>>>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    /// The service. Redirects are not followed: a webhook endpoint answers itself.
    pub fn new(lk: Latchkey, settings: WebhookSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("latchkey-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            lk,
            http,
            settings: Arc::new(settings),
            keys: Arc::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }
}
