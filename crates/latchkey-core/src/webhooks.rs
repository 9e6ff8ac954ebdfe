//! Webhook domain: notification types and their wildcards, subscriptions, the outbox rows
//! (deliveries) and the retry schedule. Delivery itself (HTTP, signing) lives in
//! `latchkey-webhooks`.

use crate::clock::Timestamp;
use crate::model::Environment;
use serde::Serialize;

/// Every notification type a subscription may name (Circle's list, plus the challenge types
/// latchkey emits). `*` and `category.*` are wildcards.
pub const NOTIFICATION_TYPES: &[&str] = &[
    "transactions.inbound",
    "transactions.outbound",
    "challenges.accelerateTransaction",
    "challenges.cancelTransaction",
    "challenges.changePin",
    "challenges.contractExecution",
    "challenges.createTransaction",
    "challenges.createWallet",
    "challenges.initialize",
    "challenges.restorePin",
    "challenges.setPin",
    "challenges.setSecurityQuestions",
    "challenges.signMessage",
    "challenges.signTypedData",
    "challenges.signTransaction",
    "challenges.walletUpgrade",
    "contracts.eventLog",
    "modularWallet.userOperation",
    "modularWallet.inboundTransfer",
    "modularWallet.outboundTransfer",
    "travelRule.statusUpdate",
    "travelRule.deny",
    "travelRule.approve",
    "rampSession.completed",
    "rampSession.depositReceived",
    "rampSession.expired",
    "rampSession.failed",
    "rampSession.kycApproved",
    "rampSession.kycRejected",
    "rampSession.kycSubmitted",
];

/// The notification sent to a subscription when it is created or updated.
pub const TEST_NOTIFICATION: &str = "webhooks.test";

/// Whether `pattern` is a type or wildcard a subscription may name.
pub fn is_known_pattern(pattern: &str) -> bool {
    if pattern == "*" || NOTIFICATION_TYPES.contains(&pattern) {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(category) => NOTIFICATION_TYPES
            .iter()
            .any(|t| t.split('.').next() == Some(category)),
        None => false,
    }
}

/// Whether a subscription with `patterns` receives `notification_type`. No patterns means
/// unrestricted.
pub fn matches(patterns: &[String], notification_type: &str) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|p| {
            p == "*"
                || p == notification_type
                || p.strip_suffix(".*").is_some_and(|category| {
                    notification_type
                        .strip_prefix(category)
                        .is_some_and(|rest| rest.starts_with('.'))
                })
        })
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    /// Subscription id (UUID).
    pub id: String,
    /// Owning entity.
    pub entity_id: String,
    /// The environment of the API key that created it: it receives that environment's
    /// notifications only.
    pub environment: Environment,
    /// Display name.
    pub name: String,
    /// Where notifications are POSTed.
    pub endpoint: String,
    /// Delivering or paused.
    pub enabled: bool,
    /// Restricting patterns; empty = every type.
    pub notification_types: Vec<String>,
    /// Set when a delivery exhausted its retry schedule; cleared by a success.
    pub failing_since: Option<Timestamp>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A notification about to be queued for every matching subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationDraft {
    /// Owning entity.
    pub entity_id: String,
    /// The environment it is about (its user's): only subscriptions of that environment get it.
    pub environment: Environment,
    /// `challenges.changePin`, …
    pub notification_type: String,
    /// The `notification` object of the envelope.
    pub payload: serde_json::Value,
    /// Only this subscription (the `webhooks.test` sent on create/update), whatever its types.
    pub only_subscription: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// The retry schedule is exhausted.
    Failed,
}

impl DeliveryStatus {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "PENDING",
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::Failed => "FAILED",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(DeliveryStatus::Pending),
            "DELIVERED" => Some(DeliveryStatus::Delivered),
            "FAILED" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One notification for one subscription: an outbox row. Its id is the `notificationId`,
/// the same on every attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    /// The notificationId.
    pub id: String,
    /// Owning entity.
    pub entity_id: String,
    /// Target subscription.
    pub subscription_id: String,
    /// The subscription's endpoint (joined at claim time).
    pub endpoint: String,
    /// Notification type.
    pub notification_type: String,
    /// The `notification` object.
    pub payload: serde_json::Value,
    /// When the notification was created (the envelope's `timestamp`).
    pub created_at: Timestamp,
    /// Status.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: Timestamp,
    /// HTTP status of the last attempt, if one was received.
    pub last_status_code: Option<i64>,
    /// What went wrong last (no secrets: a status or a transport error).
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<Timestamp>,
}

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// 2xx.
    Delivered {
        /// The status received.
        status_code: i64,
    },
    /// Anything else; retried at `next_attempt_at`, or failed for good when `None`.
    Failed {
        /// The status received, if any.
        status_code: Option<i64>,
        /// Why.
        error: String,
        /// The next attempt, or `None` when the schedule is exhausted.
        next_attempt_at: Option<Timestamp>,
    },
}

/// The delays before each attempt, in milliseconds: attempt 1 is immediate (`schedule[0]` is
/// always 0), attempt 2 comes `schedule[1]` after attempt 1 failed, and so on; its length is
/// the number of attempts. The default is immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<i64>);

impl Default for RetrySchedule {
    fn default() -> Self {
        let (s, m, h) = (1000, 60_000, 3_600_000);
        Self(vec![0, 5 * s, 5 * m, 30 * m, 2 * h, 5 * h, 10 * h, 10 * h])
    }
}

impl RetrySchedule {
    /// When to try again after attempt number `attempts_made` failed at `now`, honouring a
    /// `Retry-After` of `retry_after_ms`; `None` when the schedule is exhausted.
    pub fn next(
        &self,
        attempts_made: i64,
        now: Timestamp,
        retry_after_ms: Option<i64>,
    ) -> Option<Timestamp> {
        let index = usize::try_from(attempts_made).ok()?;
        let delay = *self.0.get(index)?;
        Some(now.plus_ms(delay.max(retry_after_ms.unwrap_or(0))))
    }

    /// Parses a comma-separated list of durations such as `0,5s,5m,30m,2h`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (number, unit) = part.split_at(
                part.find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(part.len()),
            );
            let n: i64 = number.parse().ok()?;
            let factor = match unit {
                "" | "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => return None,
            };
            out.push(n.checked_mul(factor)?);
        }
        // The first attempt is made as soon as the notification is queued: a delay there
        // would silently be ignored, so it is refused.
        (out.first() == Some(&0)).then_some(Self(out))
    }
}

/// A webhook signing key as stored: the private half sealed under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookKeyRecord {
    /// Key id (UUID), sent as `X-Circle-Key-Id`.
    pub id: String,
    /// Owning entity.
    pub entity_id: String,
    /// DER SubjectPublicKeyInfo of the P-256 public key.
    pub public_key_der: Vec<u8>,
    /// The private scalar, AES-GCM sealed under a key derived from the master key.
    pub sealed_private_key: Vec<u8>,
    /// Signs new notifications (one per entity).
    pub active: bool,
    /// Creation time.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_categories_only() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches(&[], "challenges.setPin"));
        assert!(matches(&p(&["*"]), "challenges.setPin"));
        assert!(matches(&p(&["challenges.*"]), "challenges.setPin"));
        assert!(!matches(&p(&["challenges.*"]), "transactions.inbound"));
        assert!(!matches(&p(&["challenges.setPin"]), "challenges.changePin"));
        assert!(!matches(&p(&["chall.*"]), "challenges.setPin"));
        assert!(
            is_known_pattern("challenges.*")
                && is_known_pattern("*")
                && is_known_pattern("challenges.changePin")
        );
        assert!(
            !is_known_pattern("challenges.nope")
                && !is_known_pattern("nope.*")
                && !is_known_pattern("")
        );
    }

    #[test]
    fn schedule_and_retry_after() {
        let s = RetrySchedule::default();
        let t = Timestamp(1000);
        assert_eq!(s.next(1, t, None), Some(Timestamp(6000)));
        assert_eq!(s.next(1, t, Some(60_000)), Some(Timestamp(61_000)));
        assert_eq!(s.next(8, t, None), None);
        assert_eq!(
            RetrySchedule::parse("0, 5s,5m,2h"),
            Some(RetrySchedule(vec![0, 5000, 300_000, 7_200_000]))
        );
        assert_eq!(RetrySchedule::parse("5x"), None);
        assert_eq!(
            RetrySchedule::parse("5s,1m"),
            None,
            "the first attempt is immediate"
        );
    }
}
