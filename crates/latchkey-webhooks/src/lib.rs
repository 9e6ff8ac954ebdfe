//! latchkey's webhooks, compatible with Circle's: subscriptions checked with a HEAD request,
//! notifications signed with a per-entity ECDSA P-256 key (`X-Circle-Signature`,
//! `X-Circle-Key-Id`), and an outbox worker that delivers at least once with retries.

mod address;
mod operator;
mod signing;
mod subscriptions;
mod worker;

// The address filter is public for the fuzz target (fuzz/fuzz_targets/webhook_endpoint.rs).
pub use address::{check_url, is_refused, RefusedAddress};
pub use subscriptions::{subscription_json, SubscriptionInput, MAX_NOTIFICATION_TYPES};
pub use worker::envelope;

use latchkey_core::defaults;
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
    /// How long a delivered delivery is kept before the worker prunes it.
    pub retention: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            schedule: RetrySchedule::default(),
            timeout: Duration::from_secs(defaults::WEBHOOK_TIMEOUT_SECONDS),
            allow_http: false,
            allow_loopback: false,
            lease_ms: defaults::WEBHOOK_LEASE_MS,
            poll_interval: Duration::from_millis(defaults::WEBHOOK_POLL_INTERVAL_MS),
            batch: defaults::WEBHOOK_BATCH,
            retention: Duration::from_secs(u64::from(defaults::WEBHOOK_RETENTION_DAYS) * 86_400),
        }
    }
}

/// The webhook service over latchkey's store.
#[derive(Clone)]
pub struct Webhooks {
    lk: Latchkey,
    /// `Err` only from [`Webhooks::new`] when the client could not be built: every request
    /// then fails with that reason instead of going out without the timeout and redirect policy.
    http: Result<reqwest::Client, Arc<str>>,
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
    /// The service, or why its HTTP client cannot be built (start-up reports it). Redirects
    /// are not followed (a webhook endpoint answers itself), no proxy is used (the address
    /// check must see the real destination), and names resolve through the address check.
    pub fn try_new(lk: Latchkey, settings: WebhookSettings) -> Result<Self, String> {
        let http = build_client(&settings)
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self::with_client(lk, settings, Ok(http)))
    }

    /// Like [`Webhooks::try_new`], but a client that cannot be built makes every check and
    /// delivery fail with the reason (for callers without a start-up to report to).
    pub fn new(lk: Latchkey, settings: WebhookSettings) -> Self {
        let http = build_client(&settings).map_err(|e| Arc::from(e.to_string()));
        Self::with_client(lk, settings, http)
    }

    fn with_client(
        lk: Latchkey,
        settings: WebhookSettings,
        http: Result<reqwest::Client, Arc<str>>,
    ) -> Self {
        Self {
            lk,
            http,
            settings: Arc::new(settings),
            keys: Arc::default(),
        }
    }

    /// The HTTP client, or why there is none.
    fn client(&self) -> Result<&reqwest::Client, &str> {
        self.http.as_ref().map_err(|e| &**e)
    }

    /// The settings.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }
}

fn build_client(settings: &WebhookSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(address::CheckedResolver {
            allow_loopback: settings.allow_loopback,
        }))
        .user_agent(concat!("latchkey-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}
