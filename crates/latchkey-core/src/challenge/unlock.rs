//! Opening and rewrapping the user key inside an execution: every guess of the PIN or the
//! answers is counted before it is checked; a wrong one at the limit locks the secret and
//! fails the challenge; a right one is given back at once, durably, before anything else can
//! fail, and a wrap it opened that is weaker than the current Argon2id policy is made again.
//! Specs use these; none copies them.

use super::execution::Execution;
use crate::crypto::{SecretKey, WrapContext, WrapPurpose, WrappedKey};
use crate::error::{codes, ApiError};
use crate::kdf_pool::KdfTicket;
use crate::model::SecretKind;
use crate::service::{store_failed, SecretString};
use crate::store::{LockPolicy, Reservation, Rewrap};
use serde_json::json;
use zeroize::Zeroizing;

/// Guesses left under `policy` after `failed` failures.
pub(crate) fn attempts_left(policy: LockPolicy, failed: i64) -> i64 {
    (policy.max_attempts - failed).max(0)
}

impl Execution<'_> {
    fn ids(&self) -> (String, String) {
        (self.user.entity_id.clone(), self.user.internal_id.clone())
    }

    /// A place in the Argon2id pool (429 when the pool is saturated).
    pub fn admit(&self) -> Result<KdfTicket, ApiError> {
        self.lk.kdf.admit()
    }

    /// The user's PIN wrap, or 155104 when no PIN is set.
    pub fn pin_wrap(&self) -> Result<WrappedKey, ApiError> {
        self.user.pin_wrap.clone().ok_or(codes::PIN_NOT_SET)
    }

    /// Opens the user key with a PIN guess (counted; see [`Execution::open_with_guess`]).
    pub async fn open_with_pin(
        &self,
        ticket: &KdfTicket,
        wrap: WrappedKey,
        pin: &SecretString,
    ) -> Result<SecretKey, ApiError> {
        let secret = Zeroizing::new(pin.expose().as_bytes().to_vec());
        self.open_with_guess(ticket, SecretKind::Pin, wrap, secret)
            .await
    }

    /// Wraps `user_key` under a new secret (the PIN or the encoded answers).
    pub async fn wrap(
        &self,
        ticket: &KdfTicket,
        purpose: WrapPurpose,
        user_key: SecretKey,
        secret: Zeroizing<Vec<u8>>,
    ) -> Result<WrappedKey, ApiError> {
        let (entity_id, internal_id) = self.ids();
        let master = self.lk.master.clone();
        let params = self.lk.settings.kdf;
        ticket
            .run(move || {
                let ctx = WrapContext {
                    entity_id: &entity_id,
                    user_internal_id: &internal_id,
                };
                ctx.wrap(&master, purpose, params, &secret, &user_key)
            })
            .await?
            .map_err(|_| ApiError::internal())
    }

    /// A fresh user key wrapped under the new PIN and under the encoded answers.
    pub async fn new_user_key(
        &self,
        ticket: &KdfTicket,
        new_pin: &SecretString,
        answers: Zeroizing<Vec<u8>>,
    ) -> Result<(SecretKey, WrappedKey, WrappedKey), ApiError> {
        let (entity_id, internal_id) = self.ids();
        let master = self.lk.master.clone();
        let params = self.lk.settings.kdf;
        let pin = new_pin.clone();
        ticket
            .run(move || {
                let ctx = WrapContext {
                    entity_id: &entity_id,
                    user_internal_id: &internal_id,
                };
                let user_key = SecretKey::random();
                let pin_wrap = ctx.wrap(
                    &master,
                    WrapPurpose::Pin,
                    params,
                    pin.expose().as_bytes(),
                    &user_key,
                )?;
                let answers_wrap =
                    ctx.wrap(&master, WrapPurpose::Answers, params, &answers, &user_key)?;
                Ok::<_, crate::crypto::OpenError>((user_key, pin_wrap, answers_wrap))
            })
            .await?
            .map_err(|_| ApiError::internal())
    }

    /// Counts a guess, then checks it by opening `wrap`. A wrong guess is recorded (and
    /// locks at the limit, failing the challenge); a right one is given back before this
    /// returns the user key, and a weak `wrap` is queued to be made again.
    pub async fn open_with_guess(
        &self,
        ticket: &KdfTicket,
        kind: SecretKind,
        wrap: WrappedKey,
        secret: Zeroizing<Vec<u8>>,
    ) -> Result<SecretKey, ApiError> {
        let (entity_id, internal_id) = self.ids();
        let (policy, purpose, name, wrong, locked) = match kind {
            SecretKind::Pin => (
                self.lk.settings.pin_policy,
                WrapPurpose::Pin,
                "pin",
                codes::INCORRECT_PIN,
                codes::PIN_LOCKED,
            ),
            SecretKind::Answers => (
                self.lk.settings.answer_policy,
                WrapPurpose::Answers,
                "security_answers",
                codes::INCORRECT_ANSWERS,
                codes::ANSWERS_LOCKED,
            ),
        };
        let now = self.lk.now();
        // Names this guess in the store, so that only it can lift a lock it sets.
        let guess = uuid::Uuid::new_v4().to_string();
        let reservation = self
            .lk
            .store
            .reserve_guess(&entity_id, &internal_id, kind, policy, now, &guess)
            .await
            .map_err(store_failed)?;
        let attempt = match reservation {
            Reservation::Locked { until } => {
                let audit = vec![self.audit(
                    &format!("{name}.attempt.refused"),
                    json!({ "reason": "locked" }),
                    now,
                )];
                self.fail(locked.clone(), audit, now).await?;
                return Err(locked.with_locked_expiry(until.iso()));
            }
            Reservation::Counted { attempt } => attempt,
        };
        let weak = wrap.params.is_weaker_than(&self.lk.settings.kdf);
        let rewrap_secret = weak.then(|| secret.clone());
        let old_wrap = weak.then(|| wrap.clone());
        // The check and the give-back run in a task of their own: a caller that goes away
        // mid-check (a closed connection) cannot leave a right guess counted against the user.
        let master = self.lk.master.clone();
        let store = self.lk.store.clone();
        let job = ticket.clone();
        let checked = tokio::spawn(async move {
            let (e, u) = (entity_id.clone(), internal_id.clone());
            let opened = job
                .run(move || {
                    let ctx = WrapContext {
                        entity_id: &e,
                        user_internal_id: &u,
                    };
                    ctx.unwrap(&master, purpose, &secret, &wrap)
                })
                .await?;
            if opened.is_ok() {
                store
                    .release_guess(&entity_id, &internal_id, kind, &guess)
                    .await
                    .map_err(store_failed)?;
            }
            Ok::<_, ApiError>(opened)
        })
        .await
        .map_err(|_| ApiError::internal())??;
        match checked {
            Ok(key) => {
                self.mark_unlocked();
                if let (Some(secret), Some(old)) = (rewrap_secret, old_wrap) {
                    self.rewrap_weak(ticket, kind, &old, &key, secret).await;
                }
                Ok(key)
            }
            Err(_) => {
                let now = self.lk.now();
                let left = attempts_left(policy, attempt);
                let failed = self.audit(
                    &format!("{name}.attempt.failed"),
                    json!({ "attempt": attempt, "attemptsLeft": left }),
                    now,
                );
                if left == 0 {
                    let until = now.plus_ms(policy.lock_ms);
                    let lock = self.audit(
                        &format!("{name}.locked"),
                        json!({ "until": until.iso() }),
                        now,
                    );
                    self.fail(locked.clone(), vec![failed, lock], now).await?;
                    Err(locked.with_locked_expiry(until.iso()))
                } else {
                    self.lk
                        .store
                        .append_audit(&[failed])
                        .await
                        .map_err(store_failed)?;
                    Err(wrong.with_attempts_left(u32::try_from(left).unwrap_or(0)))
                }
            }
        }
    }

    /// Makes `old` (opened by `secret`, weaker than the policy) again under the current
    /// policy and queues it for the completion. Best effort: a failure here leaves the weak
    /// wrap, which still opens, for the next success to replace.
    async fn rewrap_weak(
        &self,
        ticket: &KdfTicket,
        kind: SecretKind,
        old: &WrappedKey,
        user_key: &SecretKey,
        secret: Zeroizing<Vec<u8>>,
    ) {
        let (purpose, action) = match kind {
            SecretKind::Pin => (WrapPurpose::Pin, "pin.rewrapped"),
            SecretKind::Answers => (WrapPurpose::Answers, "answers.rewrapped"),
        };
        match self.wrap(ticket, purpose, user_key.clone(), secret).await {
            Ok(wrap) => {
                let audit = self.audit(
                    action,
                    json!({ "from": old.params.encode(), "to": wrap.params.encode() }),
                    self.lk.now(),
                );
                self.queue_rewrap(Rewrap {
                    kind,
                    replaces_salt: old.salt.clone(),
                    wrap,
                    audit,
                });
            }
            Err(e) => tracing::warn!(code = e.code, "cannot rewrap a weak wrap"),
        }
    }
}

impl Execution<'_> {
    /// Opens the user key with the PIN for a wallet operation (creating wallets, signing):
    /// returns the key and a commit that records the pass.
    pub async fn authorize_wallet_operation(
        &self,
        wrap: WrappedKey,
        pin: &SecretString,
    ) -> Result<(SecretKey, crate::store::ChallengeCommit), ApiError> {
        let ticket = self.admit()?;
        let user_key = self.open_with_pin(&ticket, wrap, pin).await?;
        let now = self.lk.now();
        let mut commit = self.commit(now);
        commit.audit = vec![self.audit("pin.attempt.passed", json!({}), now)];
        Ok((user_key, commit))
    }
}
