//! Opening and rewrapping the user key inside an execution: every guess of the PIN or the
//! answers is counted before it is checked, and a wrong one at the limit locks the secret
//! and fails the challenge. Specs use these; none copies them.

use super::execution::Execution;
use crate::crypto::{SecretKey, WrapContext, WrapPurpose, WrappedKey};
use crate::error::{codes, ApiError};
use crate::kdf_pool::KdfTicket;
use crate::model::SecretKind;
use crate::service::{store_failed, SecretString};
use crate::store::{LockPolicy, Reservation};
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
    /// locks at the limit, failing the challenge); a right one returns the user key.
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
        let reservation = self
            .lk
            .store
            .reserve_guess(&entity_id, &internal_id, kind, policy, now)
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
        let master = self.lk.master.clone();
        let (e, u) = (entity_id.clone(), internal_id.clone());
        let opened = ticket
            .run(move || {
                let ctx = WrapContext {
                    entity_id: &e,
                    user_internal_id: &u,
                };
                ctx.unwrap(&master, purpose, &secret, &wrap)
            })
            .await?;
        match opened {
            Ok(key) => Ok(key),
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
}

impl Execution<'_> {
    /// Opens the user key with the PIN for a wallet operation (creating wallets, signing):
    /// returns the key and a commit that clears the PIN guesses and records the pass.
    pub async fn authorize_wallet_operation(
        &self,
        wrap: WrappedKey,
        pin: &SecretString,
    ) -> Result<(SecretKey, crate::store::ChallengeCommit), ApiError> {
        let ticket = self.admit()?;
        let user_key = self.open_with_pin(&ticket, wrap, pin).await?;
        let now = self.lk.now();
        let mut commit = self.commit(now);
        commit.reset_pin_guesses = true;
        commit.audit = vec![self.audit("pin.attempt.passed", json!({}), now)];
        Ok((user_key, commit))
    }
}
