//! Operator tools beyond Circle's API: lift a lock, disable a user, read the audit log.
//! None of them can open a user's keys: they only touch counters, flags and the log. A userId
//! names a user only together with its environment (the same userId may exist in TEST and in
//! LIVE).

use super::{store_failed, Latchkey};
use crate::defaults;
use crate::error::{codes, ApiError};
use crate::model::{AuditEvent, Environment, SecretKind};
use serde_json::json;

impl Latchkey {
    async fn internal_id(
        &self,
        entity_id: &str,
        environment: Environment,
        user_id: &str,
    ) -> Result<String, ApiError> {
        Ok(self
            .store
            .user(entity_id, environment, user_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::USER_NOT_FOUND)?
            .internal_id)
    }

    /// Disables or enables a user (a disabled user gets 155109 everywhere).
    #[tracing::instrument(skip_all, fields(entity = %entity_id, user = %user_id, disabled))]
    pub async fn set_user_disabled(
        &self,
        entity_id: &str,
        environment: Environment,
        user_id: &str,
        disabled: bool,
    ) -> Result<(), ApiError> {
        let internal = self.internal_id(entity_id, environment, user_id).await?;
        let action = if disabled {
            "user.disabled"
        } else {
            "user.enabled"
        };
        let audit = AuditEvent::user(
            entity_id,
            &internal,
            action,
            json!({ "by": "operator" }),
            self.now(),
        );
        if self
            .store
            .set_user_disabled(entity_id, &internal, disabled, &audit)
            .await
            .map_err(store_failed)?
        {
            Ok(())
        } else {
            Err(codes::USER_NOT_FOUND)
        }
    }

    /// Lifts the PIN or answer lock and clears the failure count (`lastLockOverrideDate`).
    #[tracing::instrument(skip_all, fields(entity = %entity_id, user = %user_id, kind = ?kind))]
    pub async fn lift_lock(
        &self,
        entity_id: &str,
        environment: Environment,
        user_id: &str,
        kind: SecretKind,
    ) -> Result<(), ApiError> {
        let internal = self.internal_id(entity_id, environment, user_id).await?;
        let now = self.now();
        let action = match kind {
            SecretKind::Pin => "pin.unlocked",
            SecretKind::Answers => "security_answers.unlocked",
        };
        let audit = AuditEvent::user(
            entity_id,
            &internal,
            action,
            json!({ "by": "operator" }),
            now,
        );
        if self
            .store
            .lift_lock(entity_id, &internal, kind, now, &audit)
            .await
            .map_err(store_failed)?
        {
            Ok(())
        } else {
            Err(codes::USER_NOT_FOUND)
        }
    }

    /// The audit log of the entity, or of one user of `environment`.
    #[tracing::instrument(skip_all, fields(entity = %entity_id, user = ?user_id, limit))]
    pub async fn audit_log(
        &self,
        entity_id: &str,
        environment: Environment,
        user_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, ApiError> {
        let internal = match user_id {
            Some(u) => Some(self.internal_id(entity_id, environment, u).await?),
            None => None,
        };
        self.flush_audit().await;
        self.store
            .audit_log(entity_id, internal.as_deref(), limit)
            .await
            .map_err(store_failed)
    }
}

impl Latchkey {
    /// Forgets idempotency keys older than their retention (a repeat after that creates anew,
    /// as Circle documents). Returns how many went.
    #[tracing::instrument(skip_all)]
    pub async fn purge_expired_idempotency_keys(&self) -> Result<u64, ApiError> {
        let before = self.now().plus_ms(-defaults::IDEMPOTENCY_RETENTION_MS);
        self.store
            .purge_idempotency(before)
            .await
            .map_err(store_failed)
    }
}
