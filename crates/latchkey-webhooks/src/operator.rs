//! What the operator's `latchkey admin webhooks` reads and does: the delivery log, the
//! subscriptions that keep failing, and redelivery of one notification.

use crate::Webhooks;
use latchkey_core::error::ApiError;
use latchkey_core::model::Environment;
use latchkey_core::service::store_failed;
use latchkey_core::webhooks::{DeliveryRecord, SubscriptionRecord};

impl Webhooks {
    /// The entity's newest deliveries, at most `limit`.
    #[tracing::instrument(skip_all, fields(entity = %entity_id, limit))]
    pub async fn deliveries(
        &self,
        entity_id: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, ApiError> {
        self.lk
            .store()
            .list_deliveries(entity_id, limit)
            .await
            .map_err(store_failed)
    }

    /// The entity's subscriptions whose deliveries are failing, TEST ones first, then LIVE.
    #[tracing::instrument(skip_all, fields(entity = %entity_id))]
    pub async fn failing_subscriptions(
        &self,
        entity_id: &str,
    ) -> Result<Vec<SubscriptionRecord>, ApiError> {
        let mut failing = Vec::new();
        for environment in [Environment::Test, Environment::Live] {
            let all = self
                .lk
                .store()
                .list_subscriptions(entity_id, environment)
                .await
                .map_err(store_failed)?;
            failing.extend(all.into_iter().filter(|s| s.failing_since.is_some()));
        }
        Ok(failing)
    }

    /// Queues the delivery `notification_id` again, due now (same notificationId); `false`
    /// when the entity has no such delivery.
    #[tracing::instrument(skip_all, fields(entity = %entity_id, notification = %notification_id))]
    pub async fn redeliver(
        &self,
        entity_id: &str,
        notification_id: &str,
    ) -> Result<bool, ApiError> {
        self.lk
            .store()
            .redeliver(entity_id, notification_id, self.lk.now())
            .await
            .map_err(store_failed)
    }
}
