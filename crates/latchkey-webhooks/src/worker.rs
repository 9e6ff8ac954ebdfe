//! The delivery worker: claims due outbox rows (never the same row as another worker, on any
//! instance), signs the envelope, POSTs it, and records the attempt. A crash mid-delivery only
//! lets the claim's lease lapse: the row is delivered again, with the same notificationId.

use crate::subscriptions::transport_error;
use crate::{address, Webhooks};
use latchkey_core::clock::Timestamp;
use latchkey_core::store::ClaimedDelivery;
use latchkey_core::webhooks::{AttemptOutcome, DeliveryRecord, TEST_NOTIFICATION};
use serde_json::json;
use std::time::{Duration, Instant};

/// The envelope exactly as sent and signed: compact JSON.
pub fn envelope(d: &DeliveryRecord) -> Vec<u8> {
    // Like Circle's, the `webhooks.test` notification carries zero UUIDs for its ids.
    const ZERO: &str = "00000000-0000-0000-0000-000000000000";
    let test = d.notification_type == TEST_NOTIFICATION;
    let value = json!({
        "subscriptionId": if test { ZERO } else { &d.subscription_id },
        "notificationId": if test { ZERO } else { &d.id },
        "notificationType": d.notification_type,
        "notification": d.payload,
        "timestamp": d.created_at.iso(),
        "version": 2,
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

fn retry_after_ms(headers: &reqwest::header::HeaderMap) -> Option<i64> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    v.parse::<i64>()
        .ok()
        .filter(|s| *s >= 0)
        .map(|s| s.saturating_mul(1000).min(24 * 3_600_000))
}

/// How often the worker prunes delivered rows past their retention.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

impl Webhooks {
    /// Runs until `shutdown` resolves: claims, delivers, sleeps when idle, and prunes
    /// delivered rows past their retention at start and then every [`PRUNE_EVERY`].
    pub async fn run_worker(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut next_prune = Instant::now();
        loop {
            if Instant::now() >= next_prune {
                self.prune_delivered().await;
                next_prune = Instant::now() + PRUNE_EVERY;
            }
            let worked = self.run_once().await;
            if worked == 0 {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(self.settings.poll_interval) => {}
                }
            }
        }
    }

    /// Deletes the deliveries delivered longer ago than the retention; returns how many
    /// (0 when the store fails: the next round tries again).
    pub async fn prune_delivered(&self) -> u64 {
        let retention_ms = i64::try_from(self.settings.retention.as_millis()).unwrap_or(i64::MAX);
        let before = Timestamp(self.lk.now().0.saturating_sub(retention_ms));
        match self.lk.store().prune_delivered(before).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(deleted = n, "pruned delivered webhook deliveries");
                }
                n
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot prune webhook deliveries");
                0
            }
        }
    }

    /// Claims one batch of due deliveries and attempts each (concurrently); returns how many.
    pub async fn run_once(&self) -> usize {
        let now = self.lk.now();
        let claims = match self
            .lk
            .store()
            .claim_deliveries(now, self.settings.lease_ms, self.settings.batch)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot claim webhook deliveries");
                return 0;
            }
        };
        let n = claims.len();
        let mut set = tokio::task::JoinSet::new();
        for claim in claims {
            let me = self.clone();
            set.spawn(async move { me.attempt(claim).await });
        }
        while set.join_next().await.is_some() {}
        n
    }

    /// The client and the endpoint, once the endpoint's literal address (if any) passes the
    /// check; names are checked by the client's resolver when it connects.
    fn checked_target(&self, endpoint: &str) -> Result<(&reqwest::Client, reqwest::Url), &str> {
        let http = self.client()?;
        let url = reqwest::Url::parse(endpoint).map_err(|_| "endpoint is not a URL")?;
        address::check_url(&url, self.settings.allow_loopback).map_err(|_| "address refused")?;
        Ok((http, url))
    }

    async fn attempt(&self, claim: ClaimedDelivery) {
        let d = &claim.delivery;
        let body = envelope(d);
        let started = Instant::now();
        let outcome = match self.sign(&d.entity_id, &body).await {
            Err(_) => AttemptOutcome::Failed {
                status_code: None,
                error: "could not sign".into(),
                next_attempt_at: self
                    .settings
                    .schedule
                    .next(d.attempts + 1, self.lk.now(), None),
            },
            Ok((key_id, signature)) => {
                let sent = match self.checked_target(&d.endpoint) {
                    Ok((http, url)) => Ok(http
                        .post(url)
                        .header("content-type", "application/json")
                        .header("x-circle-signature", signature)
                        .header("x-circle-key-id", key_id)
                        .body(body)
                        .send()
                        .await),
                    Err(reason) => Err(reason),
                };
                let now = self.lk.now();
                match sent {
                    Err(reason) => AttemptOutcome::Failed {
                        status_code: None,
                        error: reason.to_string(),
                        next_attempt_at: self.settings.schedule.next(d.attempts + 1, now, None),
                    },
                    Ok(sent) => match sent {
                        Ok(r) if r.status().is_success() => AttemptOutcome::Delivered {
                            status_code: i64::from(r.status().as_u16()),
                        },
                        Ok(r) => AttemptOutcome::Failed {
                            status_code: Some(i64::from(r.status().as_u16())),
                            error: format!("answered {}", r.status().as_u16()),
                            next_attempt_at: self.settings.schedule.next(
                                d.attempts + 1,
                                now,
                                retry_after_ms(r.headers()),
                            ),
                        },
                        Err(e) => AttemptOutcome::Failed {
                            status_code: None,
                            error: transport_error(&e).to_string(),
                            next_attempt_at: self.settings.schedule.next(d.attempts + 1, now, None),
                        },
                    },
                }
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let attempt = d.attempts + 1;
        match &outcome {
            AttemptOutcome::Delivered { status_code } => tracing::info!(
                notification_id = %d.id, subscription_id = %d.subscription_id, notification_type = %d.notification_type,
                attempt, status = status_code, ms, "webhook delivered"
            ),
            AttemptOutcome::Failed {
                status_code,
                error,
                next_attempt_at,
            } => tracing::warn!(
                notification_id = %d.id, subscription_id = %d.subscription_id, notification_type = %d.notification_type,
                attempt, status = ?status_code, error = %error, ms,
                next_attempt = %next_attempt_at.map_or_else(|| "none: schedule exhausted".to_string(), |t| t.iso()),
                "webhook delivery failed"
            ),
        }
        match self
            .lk
            .store()
            .finish_delivery(&claim, &outcome, self.lk.now())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(notification_id = %d.id, "webhook claim lapsed before the attempt was recorded")
            }
            Err(e) => {
                tracing::error!(error = %e, notification_id = %d.id, "cannot record a webhook attempt")
            }
        }
    }
}
