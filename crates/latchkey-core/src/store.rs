//! The storage contract. Every method takes the entity (and, for end-user data, the user) so
//! that a cross-tenant read cannot be written by accident, and every group of writes that
//! belongs together is one method, committed in one transaction.
//!
//! TEST and LIVE are separate worlds inside an entity: users and subscriptions carry their
//! environment, so every lookup of a user by the developer's userId, every user list and every
//! subscription call names it. Wallets, challenges and guesses are reached through the user's
//! internal id (unique across environments), which only a lookup in the right environment or
//! a token of that environment yields.

use crate::clock::Timestamp;
use crate::crypto::WrappedKey;
use crate::model::*;
use crate::webhooks::*;
use async_trait::async_trait;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write (e.g. the userId exists).
    #[error("conflict")]
    Conflict,
    /// The database cannot be reached (refused or dropped connections, no connection free
    /// within the acquire timeout): nothing was done, and the caller may retry. The text is
    /// for the operator's log.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database failed; the text is for the operator's log, never for a response.
    #[error("database: {0}")]
    Database(String),
}

/// Shorthand.
pub type StoreResult<T> = Result<T, StoreError>;

/// Sort order on creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first (Circle's default).
    Desc,
}

/// Cursor pagination as Circle does it: items strictly after or before a given item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The first page.
    None,
    /// Items that come after this one in the chosen order.
    After(String),
    /// Items that come before this one in the chosen order.
    Before(String),
}

/// A page query.
#[derive(Debug, Clone)]
pub struct PageQuery {
    /// 1–50.
    pub size: u32,
    /// Where to start.
    pub cursor: Cursor,
    /// Order.
    pub order: Order,
    /// Inclusive lower bound on creation time.
    pub from: Option<Timestamp>,
    /// Inclusive upper bound on creation time.
    pub to: Option<Timestamp>,
}

/// One page of results, in the requested order.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// More items follow the last one.
    pub has_next: bool,
    /// More items precede the first one.
    pub has_prev: bool,
}

/// Filters of `GET /users`.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// ENABLED / UNSET / LOCKED.
    pub pin_status: Option<String>,
    /// ENABLED / UNSET / LOCKED.
    pub security_question_status: Option<String>,
}

/// The outcome of an idempotent create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotent<T> {
    /// Done now.
    Created(T),
    /// The same key and the same request were seen before: the original result.
    Replayed(T),
    /// The same key came with a different request.
    Mismatch,
    /// Nothing was done: the user already has as many open challenges as allowed.
    Full,
}

/// An idempotency key claimed by a request: scoped to the entity, fingerprinted by a hash of
/// the request (method, path, user, body) so that reuse with another request is refused.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// The caller's idempotencyKey.
    pub key: String,
    /// SHA-256 of the canonical request.
    pub request_hash: Vec<u8>,
}

/// Result of claiming a guess before it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt is counted; this is attempt `attempt` of the current run (wrong guesses
    /// since the last lock plus guesses being checked), and when `attempt >= limit` it has
    /// set the lock: kept if the guess is wrong, lifted by [`Store::release_guess`] if right.
    Counted {
        /// 1-based number of this attempt.
        attempt: i64,
    },
    /// Locked: no guess is evaluated until `until`.
    Locked {
        /// Lock expiry.
        until: Timestamp,
    },
}

/// Lock policy for guesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    /// Wrong guesses since the last lock that lock again.
    pub max_attempts: i64,
    /// How long the lock lasts, in milliseconds.
    pub lock_ms: i64,
}

/// A replacement PIN wrap, written only if the PIN is still what the caller read.
#[derive(Debug, Clone)]
pub struct PinUpdate {
    /// The new wrap.
    pub wrap: WrappedKey,
    /// `None`: the PIN must be unset; `Some(v)`: `pin_version` must still be `v`.
    pub expected_version: Option<i64>,
}

/// An answers wrap with its questions, written only if none is set.
#[derive(Debug, Clone)]
pub struct AnswersUpdate {
    /// The user key wrapped under the answers.
    pub wrap: WrappedKey,
    /// The questions (with hints).
    pub questions: Vec<StoredQuestion>,
}

/// A wrap made again under the current Argon2id policy (same secret, same user key), when
/// a guess opened one made with weaker parameters.
#[derive(Debug, Clone)]
pub struct Rewrap {
    /// Which wrap: the PIN's or the answers'.
    pub kind: SecretKind,
    /// The salt of the wrap it replaces: the new one is written only while that one is
    /// still stored (not if the PIN changed or another request rewrapped it meanwhile).
    pub replaces_salt: Vec<u8>,
    /// The new wrap.
    pub wrap: WrappedKey,
    /// `pin.rewrapped` / `answers.rewrapped`: written with the wrap, and only if it is.
    pub audit: AuditEvent,
}

/// Everything a completed challenge changes, committed together.
#[derive(Debug, Clone)]
pub struct ChallengeCommit {
    /// Owning entity.
    pub entity_id: String,
    /// The user's internal id.
    pub user_internal_id: String,
    /// The challenge that completes.
    pub challenge_id: String,
    /// When.
    pub now: Timestamp,
    /// New PIN wrap, if the PIN changes.
    pub pin: Option<PinUpdate>,
    /// New answers wrap, if questions are set.
    pub answers: Option<AnswersUpdate>,
    /// The PIN was replaced through the answers (RESTORE_PIN): its guess count and lock
    /// clear. A passed check never resets a count: it gives back only its own guess, when
    /// it passes ([`Store::release_guess`]).
    pub reset_pin_guesses: bool,
    /// Wraps opened with weaker Argon2id parameters than the current policy, made again.
    pub rewraps: Vec<Rewrap>,
    /// Ids the challenge produced (wallets, transactions).
    pub correlation_ids: Vec<String>,
    /// Audit events of this change.
    pub audit: Vec<AuditEvent>,
    /// The webhook notification of this change, queued in the same transaction.
    pub notification: Option<NotificationDraft>,
    /// Wallets the challenge creates.
    pub wallets: Vec<WalletRecord>,
    /// The outbound transaction the challenge approved (money challenges).
    pub outbound: Option<crate::money::OutboundWrite>,
}

/// Filters of `GET /wallets`.
#[derive(Debug, Clone, Default)]
pub struct WalletFilter {
    /// Exact address (EVM addresses compare case-insensitively).
    pub address: Option<String>,
    /// Blockchain name.
    pub blockchain: Option<String>,
    /// The developer's reference.
    pub ref_id: Option<String>,
    /// Wallet set.
    pub wallet_set_id: Option<String>,
    /// SCA version (`scaCore`): only SCA wallets of that core.
    pub sca_core: Option<String>,
}

/// Why a commit was refused (nothing was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitRefused {
    /// The challenge is no longer PENDING / IN_PROGRESS, or has expired.
    ChallengeNotOpen,
    /// The PIN or the questions changed since they were read.
    UserChanged,
    /// The nonce claim the signed transaction uses is no longer this challenge's (the
    /// sweeper released it: the challenge expired while it ran).
    NonceLost,
    /// The transaction a replacement was signed for is no longer live (it was mined, failed
    /// or cancelled meanwhile).
    NotReplaceable,
    /// An SCA wallet's operation was approved while another of its operations is still on
    /// its way (one in flight per account, Circle's 155505).
    ScaBusy,
}

/// A challenge ending in failure.
#[derive(Debug, Clone)]
pub struct ChallengeFailure {
    /// Owning entity.
    pub entity_id: String,
    /// The user's internal id.
    pub user_internal_id: String,
    /// The challenge.
    pub challenge_id: String,
    /// Circle's error code.
    pub error_code: i64,
    /// Its message.
    pub error_message: String,
    /// When.
    pub now: Timestamp,
    /// Audit events of this change.
    pub audit: Vec<AuditEvent>,
    /// The webhook notification of this change, queued in the same transaction.
    pub notification: Option<NotificationDraft>,
}

/// A delivery claimed by one worker until `lease_until`.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The outbox row (with its subscription's endpoint).
    pub delivery: DeliveryRecord,
    /// The claim's token; finishing requires it, so a claim that lapsed cannot be finished
    /// by its old owner after another worker took the row.
    pub lease_token: String,
}

/// Storage for latchkey; implemented for SQLite and PostgreSQL.
#[async_trait]
/// The money areas have their own traits (`money::TokenStore`, `money::TransactionStore`), so
/// this one stays about users, challenges, wallets and webhooks.
pub trait Store:
    crate::money::TokenStore
    + crate::money::TransactionStore
    + crate::money::OutboundStore
    + crate::money::EngineStore
    + crate::money::FollowerStore
    + crate::money::SponsorshipStore
    + Send
    + Sync
    + 'static
{
    /// The default entity, created (with `app_id`) on first call; `true` when created now.
    async fn ensure_default_entity(&self, candidate: &Entity) -> StoreResult<(Entity, bool)>;
    /// Creates another entity (a second developer account on the same server).
    async fn insert_entity(&self, entity: &Entity) -> StoreResult<()>;
    /// The entity that owns `app_id`.
    async fn entity_by_app_id(&self, app_id: &str) -> StoreResult<Option<Entity>>;
    /// The entity with id `entity_id`.
    async fn entity(&self, entity_id: &str) -> StoreResult<Option<Entity>>;

    /// Origins the entity allows to embed the hosted page, sorted.
    async fn frame_ancestors(&self, entity_id: &str) -> StoreResult<Vec<String>>;
    /// Allows (`true`) or stops allowing (`false`) an origin; returns whether anything changed.
    async fn set_frame_ancestor(
        &self,
        entity_id: &str,
        origin: &str,
        allowed: bool,
    ) -> StoreResult<bool>;

    /// Stores a new API key.
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    /// Looks an API key up by its id part.
    async fn api_key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRecord>>;

    /// Creates a user; [`StoreError::Conflict`] when the userId exists in the entity's
    /// environment.
    async fn insert_user(&self, user: &NewUser) -> StoreResult<UserRecord>;
    /// A user of one environment by the developer's userId.
    async fn user(
        &self,
        entity_id: &str,
        environment: Environment,
        user_id: &str,
    ) -> StoreResult<Option<UserRecord>>;
    /// A user by internal id, whatever its environment (the caller compares
    /// [`UserRecord::environment`] with its own).
    async fn user_by_internal_id(
        &self,
        entity_id: &str,
        internal_id: &str,
    ) -> StoreResult<Option<UserRecord>>;
    /// A page of an entity's users in one environment. `Ok(None)` when the cursor names no
    /// user of the entity's environment.
    async fn list_users(
        &self,
        entity_id: &str,
        environment: Environment,
        filter: &UserFilter,
        page: &PageQuery,
        now: Timestamp,
    ) -> StoreResult<Option<Page<UserRecord>>>;
    /// Enables or disables a user (by internal id); `false` when no such user.
    async fn set_user_disabled(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        disabled: bool,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Lifts the lock (and clears the count) of `kind` of a user (by internal id), recording
    /// `lastLockOverrideDate`.
    async fn lift_lock(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        kind: SecretKind,
        now: Timestamp,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;

    /// Creates a challenge under an idempotency key (one transaction: a concurrent
    /// duplicate sees the first one's result), unless the user already has `max_open` open
    /// (PENDING or IN_PROGRESS, unexpired) challenges: then [`Idempotent::Full`], exactly
    /// even under concurrent creations. Returns the challenge id.
    async fn create_challenge(
        &self,
        challenge: &ChallengeRecord,
        claim: &IdempotencyClaim,
        max_open: u32,
    ) -> StoreResult<Idempotent<String>>;
    /// The request hash and resulting id recorded under an idempotency key, if any.
    async fn idempotency_record(
        &self,
        entity_id: &str,
        key: &str,
    ) -> StoreResult<Option<(Vec<u8>, String)>>;
    /// One of the user's challenges.
    async fn challenge(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        challenge_id: &str,
    ) -> StoreResult<Option<ChallengeRecord>>;
    /// One page of the user's challenges, optionally only those with `status` at `now`;
    /// `None` when the cursor names none of the user's challenges.
    async fn list_challenges(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        status: Option<ChallengeStatus>,
        page: &PageQuery,
        now: Timestamp,
    ) -> StoreResult<Option<Page<ChallengeRecord>>>;
    /// PENDING → IN_PROGRESS (no-op otherwise).
    async fn mark_challenge_in_progress(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        challenge_id: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// A non-terminal challenge past its expiry becomes EXPIRED.
    async fn expire_challenge(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        challenge_id: &str,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Counts guess `guess` (an id unique to this guess) *before* it is checked: an atomic
    /// conditional increment that refuses once the secret is locked. Sets the lock, owned by
    /// `guess`, when this attempt reaches the limit, so that a crash while checking counts
    /// as a failure.
    async fn reserve_guess(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        kind: SecretKind,
        policy: LockPolicy,
        now: Timestamp,
        guess: &str,
    ) -> StoreResult<Reservation>;
    /// Gives back guess `guess`, checked and right, durably and on its own: one off the
    /// count (never below 0), and the lock lifted only if `guess` set it.
    async fn release_guess(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        kind: SecretKind,
        guess: &str,
    ) -> StoreResult<()>;
    /// Writes a [`Rewrap`] with its audit event, in a transaction of its own; `false` (and
    /// nothing written) when the wrap it replaces is no longer stored.
    async fn rewrap_key(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        rewrap: &Rewrap,
    ) -> StoreResult<bool>;
    /// Records audit events of a failed guess that does not end the challenge.
    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()>;
    /// Fails an open challenge (no-op when it is already terminal).
    async fn fail_challenge(&self, failure: &ChallengeFailure) -> StoreResult<()>;
    /// Completes an open challenge with every change it makes, in one transaction.
    async fn complete_challenge(
        &self,
        commit: &ChallengeCommit,
    ) -> StoreResult<Result<(), CommitRefused>>;

    /// A page of the user's wallets. `Ok(None)` when the cursor names no wallet of theirs.
    async fn list_wallets(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        filter: &WalletFilter,
        page: &PageQuery,
    ) -> StoreResult<Option<Page<WalletRecord>>>;
    /// One of the user's wallets.
    async fn wallet(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        id: &str,
    ) -> StoreResult<Option<WalletRecord>>;
    /// Sets a wallet's name and refId (each left alone when `None`); `false` when none.
    async fn update_wallet(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        id: &str,
        name: Option<&str>,
        ref_id: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Creates a subscription.
    async fn insert_subscription(&self, sub: &SubscriptionRecord) -> StoreResult<()>;
    /// The entity's subscriptions in one environment, oldest first.
    async fn list_subscriptions(
        &self,
        entity_id: &str,
        environment: Environment,
    ) -> StoreResult<Vec<SubscriptionRecord>>;
    /// One subscription of the entity's environment.
    async fn subscription(
        &self,
        entity_id: &str,
        environment: Environment,
        id: &str,
    ) -> StoreResult<Option<SubscriptionRecord>>;
    /// Renames / enables / pauses a subscription; `false` when there is none.
    async fn update_subscription(
        &self,
        entity_id: &str,
        environment: Environment,
        id: &str,
        name: Option<&str>,
        enabled: Option<bool>,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Deletes a subscription and its pending deliveries; `false` when there is none.
    async fn delete_subscription(
        &self,
        entity_id: &str,
        environment: Environment,
        id: &str,
    ) -> StoreResult<bool>;

    /// Stores a new webhook signing key; when `active`, the entity's other keys stop signing
    /// (they stay resolvable for verification).
    async fn insert_webhook_key(&self, key: &WebhookKeyRecord) -> StoreResult<()>;
    /// The key that signs the entity's new notifications.
    async fn active_webhook_key(&self, entity_id: &str) -> StoreResult<Option<WebhookKeyRecord>>;
    /// One of the entity's keys, active or retired.
    async fn webhook_key(
        &self,
        entity_id: &str,
        key_id: &str,
    ) -> StoreResult<Option<WebhookKeyRecord>>;

    /// Queues a notification for every matching enabled subscription of the draft's
    /// environment; returns the notification ids (one per subscription).
    async fn enqueue_notification(
        &self,
        draft: &NotificationDraft,
        now: Timestamp,
    ) -> StoreResult<Vec<String>>;
    /// Claims up to `limit` due deliveries for `lease_ms` (no two workers, on any instance,
    /// ever hold the same row).
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Records an attempt of a claimed delivery; `false` when the claim was lost.
    async fn finish_delivery(
        &self,
        claim: &ClaimedDelivery,
        outcome: &AttemptOutcome,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// The entity's deliveries, newest first.
    async fn list_deliveries(
        &self,
        entity_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>>;
    /// Queues a delivery again, due now; `false` when there is none.
    async fn redeliver(&self, entity_id: &str, id: &str, now: Timestamp) -> StoreResult<bool>;
    /// Deletes the deliveries delivered before `delivered_before` (pending and failed ones
    /// stay); returns how many.
    async fn prune_delivered(&self, delivered_before: Timestamp) -> StoreResult<u64>;

    /// The audit log, oldest first, optionally for one user.
    async fn audit_log(
        &self,
        entity_id: &str,
        user_internal_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// Deletes idempotency records created before `before`; returns how many.
    async fn purge_idempotency(&self, before: Timestamp) -> StoreResult<u64>;
}
