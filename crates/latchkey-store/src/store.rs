//! [`SqlStore`]: the `Store` contract, each method handed to the module that owns its area.

use crate::db::Db;
use crate::{
    audit, challenges, commit, entities, guesses, idempotency, outbox, users, wallets, webhooks,
};
use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::model::*;
use latchkey_core::store::*;
use latchkey_core::webhooks::*;
use std::time::Duration;

/// latchkey's store on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) db: Db,
}

impl SqlStore {
    /// Opens (creating if missing) the SQLite database at `url` (`sqlite://path`) and migrates.
    pub async fn open_sqlite(url: &str) -> Result<Self, String> {
        Ok(Self {
            db: Db::open_sqlite(url).await?,
        })
    }

    /// Connects to `url` (`postgres://…`) with up to `max_connections`, waiting at most
    /// `acquire_timeout` for a connection, and migrates.
    pub async fn open_postgres(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, String> {
        Ok(Self {
            db: Db::open_postgres(url, max_connections, acquire_timeout).await?,
        })
    }

    /// Closes the pools (on SQLite, checkpointing the WAL).
    pub async fn close(&self) {
        self.db.close().await;
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn ensure_default_entity(&self, candidate: &Entity) -> StoreResult<(Entity, bool)> {
        Ok(entities::ensure_default(&self.db, candidate).await?)
    }

    async fn insert_entity(&self, entity: &Entity) -> StoreResult<()> {
        Ok(entities::insert(&self.db, entity).await?)
    }

    async fn entity_by_app_id(&self, app_id: &str) -> StoreResult<Option<Entity>> {
        Ok(entities::by_app_id(&self.db, app_id).await?)
    }

    async fn entity(&self, entity_id: &str) -> StoreResult<Option<Entity>> {
        Ok(entities::by_id(&self.db, entity_id).await?)
    }

    async fn frame_ancestors(&self, entity_id: &str) -> StoreResult<Vec<String>> {
        Ok(entities::frame_ancestors(&self.db, entity_id).await?)
    }

    async fn set_frame_ancestor(
        &self,
        entity_id: &str,
        origin: &str,
        allowed: bool,
    ) -> StoreResult<bool> {
        Ok(entities::set_frame_ancestor(&self.db, entity_id, origin, allowed).await?)
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        Ok(entities::insert_api_key(&self.db, key).await?)
    }

    async fn api_key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        Ok(entities::api_key(&self.db, key_id).await?)
    }

    async fn insert_user(&self, user: &NewUser) -> StoreResult<UserRecord> {
        Ok(users::insert(&self.db, user).await?)
    }

    async fn user(
        &self,
        entity_id: &str,
        environment: Environment,
        user_id: &str,
    ) -> StoreResult<Option<UserRecord>> {
        Ok(users::by_user_id(&self.db, entity_id, environment, user_id).await?)
    }

    async fn user_by_internal_id(
        &self,
        entity_id: &str,
        internal_id: &str,
    ) -> StoreResult<Option<UserRecord>> {
        Ok(users::by_internal_id(&self.db, entity_id, internal_id).await?)
    }

    async fn list_users(
        &self,
        entity_id: &str,
        environment: Environment,
        filter: &UserFilter,
        page: &PageQuery,
        now: Timestamp,
    ) -> StoreResult<Option<Page<UserRecord>>> {
        Ok(users::list(&self.db, entity_id, environment, filter, page, now).await?)
    }

    async fn set_user_disabled(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        disabled: bool,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        Ok(users::set_disabled(&self.db, entity_id, user_internal_id, disabled, audit).await?)
    }

    async fn lift_lock(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        kind: SecretKind,
        now: Timestamp,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        Ok(users::lift_lock(&self.db, entity_id, user_internal_id, kind, now, audit).await?)
    }

    async fn create_challenge(
        &self,
        challenge: &ChallengeRecord,
        claim: &IdempotencyClaim,
        max_open: u32,
    ) -> StoreResult<Idempotent<String>> {
        Ok(challenges::create(&self.db, challenge, claim, max_open).await?)
    }

    async fn idempotency_record(
        &self,
        entity_id: &str,
        key: &str,
    ) -> StoreResult<Option<(Vec<u8>, String)>> {
        Ok(idempotency::record(&self.db, entity_id, key).await?)
    }

    async fn challenge(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        challenge_id: &str,
    ) -> StoreResult<Option<ChallengeRecord>> {
        Ok(challenges::by_id(&self.db, entity_id, user_internal_id, challenge_id).await?)
    }

    async fn list_challenges(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        status: Option<ChallengeStatus>,
        page: &PageQuery,
        now: Timestamp,
    ) -> StoreResult<Option<Page<ChallengeRecord>>> {
        Ok(challenges::list(&self.db, entity_id, user_internal_id, status, page, now).await?)
    }

    async fn mark_challenge_in_progress(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        challenge_id: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        Ok(
            challenges::mark_in_progress(&self.db, entity_id, user_internal_id, challenge_id, now)
                .await?,
        )
    }

    async fn expire_challenge(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        challenge_id: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        Ok(challenges::expire(&self.db, entity_id, user_internal_id, challenge_id, now).await?)
    }

    async fn reserve_guess(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        kind: SecretKind,
        policy: LockPolicy,
        now: Timestamp,
        guess: &str,
    ) -> StoreResult<Reservation> {
        Ok(guesses::reserve(
            &self.db,
            entity_id,
            user_internal_id,
            kind,
            policy,
            now,
            guess,
        )
        .await?)
    }

    async fn release_guess(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        kind: SecretKind,
        guess: &str,
    ) -> StoreResult<()> {
        Ok(guesses::release(&self.db, entity_id, user_internal_id, kind, guess).await?)
    }

    async fn rewrap_key(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        rewrap: &Rewrap,
    ) -> StoreResult<bool> {
        Ok(users::rewrap(&self.db, entity_id, user_internal_id, rewrap).await?)
    }

    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        Ok(audit::append(&self.db, events).await?)
    }

    async fn fail_challenge(&self, failure: &ChallengeFailure) -> StoreResult<()> {
        Ok(challenges::fail(&self.db, failure).await?)
    }

    async fn complete_challenge(
        &self,
        commit: &ChallengeCommit,
    ) -> StoreResult<Result<(), CommitRefused>> {
        Ok(commit::complete(&self.db, commit).await?)
    }

    async fn list_wallets(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        filter: &WalletFilter,
        page: &PageQuery,
    ) -> StoreResult<Option<Page<WalletRecord>>> {
        Ok(wallets::list(&self.db, entity_id, user_internal_id, filter, page).await?)
    }

    async fn wallet(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        id: &str,
    ) -> StoreResult<Option<WalletRecord>> {
        Ok(wallets::by_id(&self.db, entity_id, user_internal_id, id).await?)
    }

    async fn update_wallet(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        id: &str,
        name: Option<&str>,
        ref_id: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        Ok(wallets::update(&self.db, entity_id, user_internal_id, id, name, ref_id, now).await?)
    }

    async fn insert_subscription(&self, sub: &SubscriptionRecord) -> StoreResult<()> {
        Ok(webhooks::insert_subscription(&self.db, sub).await?)
    }

    async fn list_subscriptions(
        &self,
        entity_id: &str,
        environment: Environment,
    ) -> StoreResult<Vec<SubscriptionRecord>> {
        Ok(webhooks::subscriptions(&self.db, entity_id, environment).await?)
    }

    async fn subscription(
        &self,
        entity_id: &str,
        environment: Environment,
        id: &str,
    ) -> StoreResult<Option<SubscriptionRecord>> {
        Ok(webhooks::subscription(&self.db, entity_id, environment, id).await?)
    }

    async fn update_subscription(
        &self,
        entity_id: &str,
        environment: Environment,
        id: &str,
        name: Option<&str>,
        enabled: Option<bool>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let scope = (entity_id, environment, id);
        Ok(webhooks::update_subscription(&self.db, scope, name, enabled, now).await?)
    }

    async fn delete_subscription(
        &self,
        entity_id: &str,
        environment: Environment,
        id: &str,
    ) -> StoreResult<bool> {
        Ok(webhooks::delete_subscription(&self.db, entity_id, environment, id).await?)
    }

    async fn insert_webhook_key(&self, key: &WebhookKeyRecord) -> StoreResult<()> {
        Ok(webhooks::insert_key(&self.db, key).await?)
    }

    async fn active_webhook_key(&self, entity_id: &str) -> StoreResult<Option<WebhookKeyRecord>> {
        Ok(webhooks::active_key(&self.db, entity_id).await?)
    }

    async fn webhook_key(
        &self,
        entity_id: &str,
        key_id: &str,
    ) -> StoreResult<Option<WebhookKeyRecord>> {
        Ok(webhooks::key(&self.db, entity_id, key_id).await?)
    }

    async fn enqueue_notification(
        &self,
        draft: &NotificationDraft,
        now: Timestamp,
    ) -> StoreResult<Vec<String>> {
        Ok(outbox::enqueue(&self.db, draft, now).await?)
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        Ok(outbox::claim(&self.db, now, lease_ms, limit).await?)
    }

    async fn finish_delivery(
        &self,
        claim: &ClaimedDelivery,
        outcome: &AttemptOutcome,
        now: Timestamp,
    ) -> StoreResult<bool> {
        Ok(outbox::finish(&self.db, claim, outcome, now).await?)
    }

    async fn list_deliveries(
        &self,
        entity_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        Ok(outbox::list(&self.db, entity_id, limit).await?)
    }

    async fn redeliver(&self, entity_id: &str, id: &str, now: Timestamp) -> StoreResult<bool> {
        Ok(outbox::redeliver(&self.db, entity_id, id, now).await?)
    }

    async fn prune_delivered(&self, delivered_before: Timestamp) -> StoreResult<u64> {
        Ok(outbox::prune_delivered(&self.db, delivered_before).await?)
    }

    async fn audit_log(
        &self,
        entity_id: &str,
        user_internal_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        Ok(audit::log(&self.db, entity_id, user_internal_id, limit).await?)
    }

    async fn purge_idempotency(&self, before: Timestamp) -> StoreResult<u64> {
        Ok(idempotency::purge(&self.db, before).await?)
    }
}
