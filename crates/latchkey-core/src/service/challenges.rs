//! Challenges: created by the developer (API key + userToken), read and executed by the end
//! user's side (App ID + userToken) with the PIN or the security answers.

use super::secrets::SecretString;
use super::{store_failed, Latchkey, UserSession};
use crate::clock::Timestamp;
use crate::crypto::{self, SecretKey, WrapContext, WrapPurpose, WrappedKey};
use crate::error::{codes, ApiError};
use crate::kdf_pool::KdfTicket;
use crate::model::*;
use crate::rules;
use crate::store::*;
use crate::webhooks::NotificationDraft;
use serde::Deserialize;
use serde_json::{json, Value};

/// The decrypted body of an execute call (docs/protocol.md §2).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteInput {
    /// Current PIN.
    #[serde(default)]
    pub pin: Option<SecretString>,
    /// PIN to set.
    #[serde(default)]
    pub new_pin: Option<SecretString>,
    /// Questions to set, with answers.
    #[serde(default)]
    pub security_questions: Option<Vec<QuestionAnswer>>,
    /// Answers to the stored questions, in order.
    #[serde(default)]
    pub security_answers: Option<Vec<SecretString>>,
}

/// A question being set, with its answer and optional hint.
#[derive(Debug, Clone, Deserialize)]
pub struct QuestionAnswer {
    /// Question text.
    pub question: String,
    /// The answer (secret).
    pub answer: SecretString,
    /// Optional hint.
    #[serde(default)]
    pub hint: Option<String>,
}

/// What the end user's page needs to render a challenge.
#[derive(Debug, Clone)]
pub struct ChallengeView {
    /// The challenge.
    pub challenge: ChallengeRecord,
    /// The user, as of now.
    pub user: UserRecord,
    /// PIN guesses left before the lock.
    pub pin_attempts_left: i64,
    /// Answer guesses left before the lock.
    pub answer_attempts_left: i64,
    /// The configured limit.
    pub max_attempts: i64,
    /// Which plaintext fields the server expects: pin, newPin, securityQuestions, securityAnswers.
    pub requires: [bool; 4],
    /// The server's suggested questions.
    pub default_questions: Vec<String>,
}

/// A completed execution.
#[derive(Debug, Clone)]
pub struct ExecuteOutcome {
    /// The challenge type.
    pub kind: ChallengeType,
    /// What only the executing client may see (signatures).
    pub data: Value,
}

fn require<'a, T>(value: &'a Option<T>, field: &str) -> Result<&'a T, ApiError> {
    value.as_ref().ok_or_else(|| ApiError::missing_field(field))
}

fn attempts_left(policy: LockPolicy, failed: i64) -> i64 {
    (policy.max_attempts - failed).max(0)
}

impl Latchkey {
    /// Creates a challenge of `kind` for the session's user, once per idempotency key.
    /// Returns the challenge id and whether this was a replay.
    pub async fn create_challenge(
        &self,
        session: &UserSession,
        kind: ChallengeType,
        payload: Value,
        claim: IdempotencyClaim,
    ) -> Result<(String, bool), ApiError> {
        let entity = session.entity_id();
        if let Some((hash, id)) = self
            .store
            .idempotency_record(entity, &claim.key)
            .await
            .map_err(store_failed)?
        {
            return if crypto::ct_eq(&hash, &claim.request_hash) {
                Ok((id, true))
            } else {
                Err(codes::IDEMPOTENCY_KEY_REUSED)
            };
        }
        check_can_create(kind, &session.user)?;
        let now = self.now();
        let challenge = ChallengeRecord {
            id: uuid::Uuid::new_v4().to_string(),
            entity_id: entity.to_string(),
            user_internal_id: session.user.internal_id.clone(),
            kind,
            status: ChallengeStatus::Pending,
            correlation_ids: Vec::new(),
            error_code: None,
            error_message: None,
            payload,
            created_at: now,
            expires_at: now.plus_ms(self.settings.challenge_ttl_ms),
            updated_at: now,
        };
        match self
            .store
            .create_challenge(&challenge, &claim)
            .await
            .map_err(store_failed)?
        {
            Idempotent::Created(id) => Ok((id, false)),
            Idempotent::Replayed(id) => Ok((id, true)),
            Idempotent::Mismatch => Err(codes::IDEMPOTENCY_KEY_REUSED),
        }
    }

    /// One of the session user's challenges.
    pub async fn get_challenge(
        &self,
        session: &UserSession,
        challenge_id: &str,
    ) -> Result<ChallengeRecord, ApiError> {
        if !rules::is_uuid(challenge_id) {
            return Err(codes::CHALLENGE_NOT_FOUND);
        }
        self.store
            .challenge(session.entity_id(), &session.user.internal_id, challenge_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::CHALLENGE_NOT_FOUND)
    }

    /// The session user's challenges, newest first.
    pub async fn list_challenges(
        &self,
        session: &UserSession,
        status: Option<ChallengeStatus>,
    ) -> Result<Vec<ChallengeRecord>, ApiError> {
        self.store
            .list_challenges(
                session.entity_id(),
                &session.user.internal_id,
                status,
                self.now(),
            )
            .await
            .map_err(store_failed)
    }

    /// What the end user's page shows; the first read moves PENDING to IN_PROGRESS.
    pub async fn challenge_view(
        &self,
        session: &UserSession,
        challenge_id: &str,
    ) -> Result<ChallengeView, ApiError> {
        let mut challenge = self.get_challenge(session, challenge_id).await?;
        let now = self.now();
        if challenge.status_at(now) == ChallengeStatus::Pending {
            self.store
                .mark_challenge_in_progress(
                    session.entity_id(),
                    &challenge.user_internal_id,
                    &challenge.id,
                    now,
                )
                .await
                .map_err(store_failed)?;
            challenge.status = ChallengeStatus::InProgress;
        }
        let user = &session.user;
        let has_questions = user.recovery_wrap.is_some();
        let requires = match challenge.kind {
            ChallengeType::Initialize => [false, true, true, false],
            ChallengeType::SetPin => [false, true, !has_questions, false],
            ChallengeType::ChangePin => [true, true, false, false],
            ChallengeType::RestorePin => [false, true, false, true],
            _ => [true, false, false, false],
        };
        let pin_failed =
            if user.pin_guesses.is_locked(now) || user.pin_guesses.locked_expiry.is_none() {
                user.pin_guesses.failed_attempts
            } else {
                0
            };
        let answer_failed =
            if user.answer_guesses.is_locked(now) || user.answer_guesses.locked_expiry.is_none() {
                user.answer_guesses.failed_attempts
            } else {
                0
            };
        Ok(ChallengeView {
            challenge,
            user: user.clone(),
            pin_attempts_left: attempts_left(self.settings.pin_policy, pin_failed),
            answer_attempts_left: attempts_left(self.settings.answer_policy, answer_failed),
            max_attempts: self.settings.pin_policy.max_attempts,
            requires,
            default_questions: self.settings.default_questions.clone(),
        })
    }

    /// Executes a challenge with the encrypted body of docs/protocol.md §2.
    pub async fn execute_challenge(
        &self,
        session: &UserSession,
        challenge_id: &str,
        encrypted_b64: &str,
    ) -> Result<ExecuteOutcome, ApiError> {
        let challenge = self.get_challenge(session, challenge_id).await?;
        let now = self.now();
        let entity = session.entity_id().to_string();
        let user = &session.user;
        match challenge.status_at(now) {
            ChallengeStatus::Expired => {
                self.store
                    .expire_challenge(&entity, &user.internal_id, &challenge.id, now)
                    .await
                    .map_err(store_failed)?;
                return Err(codes::CHALLENGE_EXPIRED);
            }
            s if s.is_terminal() => return Err(codes::CHALLENGE_INVALID),
            _ => {}
        }
        let key = self.sessions.encryption_key(&session.claims.jti);
        let sealed = crypto::b64_decode(encrypted_b64).ok_or(codes::ENCRYPTION_KEY_MISMATCH)?;
        let plain = crypto::open(&key, challenge.id.as_bytes(), &sealed)
            .map_err(|_| codes::ENCRYPTION_KEY_MISMATCH)?;
        let input: ExecuteInput = serde_json::from_slice(&plain).map_err(|e| {
            ApiError::invalid_field(
                "encrypted",
                "invalid",
                format!(
                    "the decrypted body is not a valid request: {}",
                    classify_json_error(&e)
                ),
            )
        })?;
        drop(plain);
        if challenge.status == ChallengeStatus::Pending {
            self.store
                .mark_challenge_in_progress(&entity, &user.internal_id, &challenge.id, now)
                .await
                .map_err(store_failed)?;
        }
        let exec = Execution {
            lk: self,
            user,
            challenge: &challenge,
        };
        match challenge.kind {
            ChallengeType::Initialize | ChallengeType::SetPin => exec.set_up(&input).await,
            ChallengeType::ChangePin => exec.change_pin(&input).await,
            ChallengeType::RestorePin => exec.restore_pin(&input).await,
            ChallengeType::CreateWallet
            | ChallengeType::SignMessage
            | ChallengeType::SignTypedData
            | ChallengeType::SignTransaction => exec.with_pin(&input).await,
            _ => {
                Err(codes::CHALLENGE_INVALID
                    .with_message("This challenge type is not supported yet."))
            }
        }
    }
}

fn classify_json_error(e: &serde_json::Error) -> &'static str {
    // serde's message can quote input, which here is secret: report only the category.
    match e.classify() {
        serde_json::error::Category::Data => "a field has the wrong type",
        _ => "malformed JSON",
    }
}

/// Preconditions of creating a challenge, as Circle's.
fn check_can_create(kind: ChallengeType, user: &UserRecord) -> Result<(), ApiError> {
    match kind {
        ChallengeType::Initialize if user.pin_wrap.is_some() || user.recovery_wrap.is_some() => {
            Err(codes::USER_ALREADY_INITIALIZED)
        }
        ChallengeType::SetPin if user.pin_wrap.is_some() => Err(codes::PIN_ALREADY_SET),
        ChallengeType::ChangePin if user.pin_wrap.is_none() => Err(codes::PIN_NOT_SET),
        ChallengeType::RestorePin if user.recovery_wrap.is_none() => Err(codes::QUESTIONS_NOT_SET),
        ChallengeType::CreateWallet
        | ChallengeType::SignMessage
        | ChallengeType::SignTypedData
        | ChallengeType::SignTransaction
            if user.pin_wrap.is_none() =>
        {
            Err(codes::PIN_NOT_SET)
        }
        _ => Ok(()),
    }
}

/// One execution in progress.
struct Execution<'a> {
    lk: &'a Latchkey,
    user: &'a UserRecord,
    challenge: &'a ChallengeRecord,
}

impl Execution<'_> {
    fn ctx(&self) -> (String, String) {
        (self.user.entity_id.clone(), self.user.internal_id.clone())
    }

    fn audit(&self, action: &str, detail: Value, now: Timestamp) -> AuditEvent {
        let mut detail = detail;
        if let Value::Object(m) = &mut detail {
            m.insert("challengeId".into(), json!(self.challenge.id));
        }
        AuditEvent::user(
            &self.user.entity_id,
            &self.user.internal_id,
            action,
            detail,
            now,
        )
    }

    /// Circle's challenge notification: `errorCode` 0 and `errorMessage` "" unless FAILED.
    fn notification(
        &self,
        status: ChallengeStatus,
        correlation_ids: &[String],
        error: Option<&ApiError>,
    ) -> NotificationDraft {
        NotificationDraft {
            entity_id: self.user.entity_id.clone(),
            notification_type: self.challenge.kind.notification_type().to_string(),
            payload: json!({
                "id": self.challenge.id,
                "userId": self.user.user_id,
                "type": self.challenge.kind.as_str(),
                "status": status.as_str(),
                "correlationIds": correlation_ids,
                "errorCode": error.map_or(0, |e| e.code),
                "errorMessage": error.map_or(String::new(), |e| e.message.to_string()),
            }),
            only_subscription: None,
        }
    }

    fn commit(&self, now: Timestamp) -> ChallengeCommit {
        ChallengeCommit {
            entity_id: self.user.entity_id.clone(),
            user_internal_id: self.user.internal_id.clone(),
            challenge_id: self.challenge.id.clone(),
            now,
            pin: None,
            recovery: None,
            reset_pin_guesses: false,
            reset_answer_guesses: false,
            correlation_ids: Vec::new(),
            audit: Vec::new(),
            notification: None,
            wallets: Vec::new(),
        }
    }

    async fn finish(&self, mut commit: ChallengeCommit) -> Result<ExecuteOutcome, ApiError> {
        commit.notification =
            Some(self.notification(ChallengeStatus::Complete, &commit.correlation_ids, None));
        match self.lk.store.complete_challenge(&commit).await.map_err(store_failed)? {
            Ok(()) => Ok(ExecuteOutcome {
                kind: self.challenge.kind,
                data: json!({}),
            }),
            Err(CommitRefused::ChallengeNotOpen) => Err(codes::CHALLENGE_INVALID),
            Err(CommitRefused::UserChanged) => Err(codes::CHALLENGE_INVALID.with_message(
                "The user's PIN or security questions changed while this challenge ran; create a new challenge.",
            )),
        }
    }

    /// INITIALIZE and SET_PIN: a new user key, wrapped under the new PIN and the answers.
    async fn set_up(&self, input: &ExecuteInput) -> Result<ExecuteOutcome, ApiError> {
        let kind = self.challenge.kind;
        if kind == ChallengeType::Initialize
            && (self.user.pin_wrap.is_some() || self.user.recovery_wrap.is_some())
        {
            return Err(codes::USER_ALREADY_INITIALIZED);
        }
        if self.user.pin_wrap.is_some() {
            return Err(codes::PIN_ALREADY_SET);
        }
        if self.user.recovery_wrap.is_some() {
            // A user with answers but no PIN would need their key opened by the answers:
            // that is RESTORE_PIN, never a new key that would orphan existing wallets.
            return Err(codes::QUESTIONS_ALREADY_SET.with_message(
                "The user already has security questions; use RESTORE_PIN to set a PIN.",
            ));
        }
        let new_pin = require(&input.new_pin, "newPin")?.clone();
        rules::check_pin(new_pin.expose(), "newPin")?;
        let questions = require(&input.security_questions, "securityQuestions")?.clone();
        check_questions(&questions)?;
        let ticket = self.lk.kdf.admit()?;
        let (entity_id, internal_id) = self.ctx();
        let master = self.lk.master.clone();
        let params = self.lk.settings.kdf;
        let answers: Vec<SecretString> = questions.iter().map(|q| q.answer.clone()).collect();
        let (pin_wrap, recovery_wrap, user_key) = ticket
            .run(move || {
                let ctx = WrapContext {
                    entity_id: &entity_id,
                    user_internal_id: &internal_id,
                };
                let user_key = SecretKey::random();
                let pin = ctx.wrap(
                    &master,
                    WrapPurpose::Pin,
                    params,
                    new_pin.expose().as_bytes(),
                    &user_key,
                )?;
                let encoded =
                    rules::encode_answers(&answers.iter().map(|a| a.expose()).collect::<Vec<_>>());
                let recovery =
                    ctx.wrap(&master, WrapPurpose::Recovery, params, &encoded, &user_key)?;
                Ok::<_, crypto::OpenError>((pin, recovery, user_key))
            })
            .await?
            .map_err(|_| ApiError::internal())?;
        let now = self.lk.now();
        let mut commit = self.commit(now);
        commit.wallets =
            super::wallets::new_wallets(&user_key, self.user, &self.challenge.payload, now)?;
        commit.correlation_ids = commit.wallets.iter().map(|w| w.id.clone()).collect();
        commit.pin = Some(PinUpdate {
            wrap: pin_wrap,
            expected_version: None,
        });
        commit.recovery = Some(RecoveryUpdate {
            wrap: recovery_wrap,
            questions: questions
                .iter()
                .map(|q| StoredQuestion {
                    question: q.question.trim().to_string(),
                    hint: q
                        .hint
                        .as_ref()
                        .map(|h| h.trim().to_string())
                        .filter(|h| !h.is_empty()),
                })
                .collect(),
        });
        commit.audit = vec![
            self.audit("pin.set", json!({}), now),
            self.audit(
                "security_questions.set",
                json!({ "count": questions.len() }),
                now,
            ),
        ];
        self.finish(commit).await
    }

    /// CHANGE_PIN: the current PIN opens the user key, the new PIN rewraps it.
    async fn change_pin(&self, input: &ExecuteInput) -> Result<ExecuteOutcome, ApiError> {
        let pin = require(&input.pin, "pin")?.clone();
        let new_pin = require(&input.new_pin, "newPin")?.clone();
        rules::check_pin(new_pin.expose(), "newPin")?;
        if crypto::ct_eq(pin.expose().as_bytes(), new_pin.expose().as_bytes()) {
            return Err(ApiError::invalid_field(
                "newPin",
                "invalid",
                "newPin must differ from the current PIN",
            ));
        }
        let wrap = self.user.pin_wrap.clone().ok_or(codes::PIN_NOT_SET)?;
        let ticket = self.lk.kdf.admit()?;
        let user_key = self
            .open_with_guess(
                &ticket,
                SecretKind::Pin,
                wrap,
                pin.expose().as_bytes().to_vec().into(),
            )
            .await?;
        let new_wrap = self.wrap_pin(&ticket, user_key, new_pin).await?;
        let now = self.lk.now();
        let mut commit = self.commit(now);
        commit.pin = Some(PinUpdate {
            wrap: new_wrap,
            expected_version: Some(self.user.pin_version),
        });
        commit.reset_pin_guesses = true;
        commit.audit = vec![
            self.audit("pin.attempt.passed", json!({}), now),
            self.audit("pin.changed", json!({}), now),
        ];
        self.finish(commit).await
    }

    /// RESTORE_PIN: the answers open the user key, the new PIN rewraps it; the PIN lock clears.
    async fn restore_pin(&self, input: &ExecuteInput) -> Result<ExecuteOutcome, ApiError> {
        let answers = require(&input.security_answers, "securityAnswers")?;
        let new_pin = require(&input.new_pin, "newPin")?.clone();
        rules::check_pin(new_pin.expose(), "newPin")?;
        let wrap = self
            .user
            .recovery_wrap
            .clone()
            .ok_or(codes::QUESTIONS_NOT_SET)?;
        if answers.len() != self.user.questions.len() {
            return Err(ApiError::invalid_field(
                "securityAnswers",
                "invalid",
                format!(
                    "securityAnswers must answer all {} questions, in order",
                    self.user.questions.len()
                ),
            ));
        }
        if let Some(i) = answers
            .iter()
            .position(|a| rules::normalize_answer(a.expose()).is_empty())
        {
            return Err(ApiError::missing_field(&format!("securityAnswers[{i}]")));
        }
        let encoded =
            rules::encode_answers(&answers.iter().map(|a| a.expose()).collect::<Vec<_>>());
        let ticket = self.lk.kdf.admit()?;
        let user_key = self
            .open_with_guess(&ticket, SecretKind::Answers, wrap, encoded)
            .await?;
        let new_wrap = self.wrap_pin(&ticket, user_key, new_pin).await?;
        let now = self.lk.now();
        let mut commit = self.commit(now);
        commit.pin = Some(PinUpdate {
            wrap: new_wrap,
            expected_version: Some(self.user.pin_version),
        });
        commit.reset_pin_guesses = true;
        commit.reset_answer_guesses = true;
        commit.audit = vec![
            self.audit("security_answers.attempt.passed", json!({}), now),
            self.audit("pin.restored", json!({}), now),
        ];
        self.finish(commit).await
    }

    /// CREATE_WALLET and SIGN_*: the PIN opens the user key, which opens (or creates) the
    /// wallet keys. A signature is returned to this caller only, never stored.
    async fn with_pin(&self, input: &ExecuteInput) -> Result<ExecuteOutcome, ApiError> {
        let pin = require(&input.pin, "pin")?.clone();
        let wrap = self.user.pin_wrap.clone().ok_or(codes::PIN_NOT_SET)?;
        let wallet = match self.challenge.kind {
            ChallengeType::CreateWallet => None,
            _ => {
                let id = self.challenge.payload["walletId"]
                    .as_str()
                    .unwrap_or_default();
                let found = self
                    .lk
                    .store
                    .wallet(&self.user.entity_id, &self.user.internal_id, id)
                    .await
                    .map_err(store_failed)?
                    .ok_or(codes::WALLET_NOT_FOUND)?;
                Some(found)
            }
        };
        let ticket = self.lk.kdf.admit()?;
        let user_key = self
            .open_with_guess(
                &ticket,
                SecretKind::Pin,
                wrap,
                pin.expose().as_bytes().to_vec().into(),
            )
            .await?;
        let now = self.lk.now();
        let mut commit = self.commit(now);
        commit.reset_pin_guesses = true;
        commit.audit = vec![self.audit("pin.attempt.passed", json!({}), now)];
        let data = match &wallet {
            None => {
                commit.wallets = super::wallets::new_wallets(
                    &user_key,
                    self.user,
                    &self.challenge.payload,
                    now,
                )?;
                commit.correlation_ids = commit.wallets.iter().map(|w| w.id.clone()).collect();
                commit.audit.push(self.audit(
                    "wallets.created",
                    json!({ "count": commit.wallets.len() }),
                    now,
                ));
                json!({})
            }
            Some(w) => {
                let data = super::wallets::sign_for_challenge(
                    &user_key,
                    w,
                    self.challenge.kind,
                    &self.challenge.payload,
                )?;
                commit.audit.push(self.audit(
                    "wallet.signed",
                    json!({ "walletId": w.id, "type": self.challenge.kind.as_str() }),
                    now,
                ));
                data
            }
        };
        let mut outcome = self.finish(commit).await?;
        outcome.data = data;
        Ok(outcome)
    }

    async fn wrap_pin(
        &self,
        ticket: &KdfTicket,
        user_key: SecretKey,
        new_pin: SecretString,
    ) -> Result<WrappedKey, ApiError> {
        let (entity_id, internal_id) = self.ctx();
        let master = self.lk.master.clone();
        let params = self.lk.settings.kdf;
        ticket
            .run(move || {
                let ctx = WrapContext {
                    entity_id: &entity_id,
                    user_internal_id: &internal_id,
                };
                ctx.wrap(
                    &master,
                    WrapPurpose::Pin,
                    params,
                    new_pin.expose().as_bytes(),
                    &user_key,
                )
            })
            .await?
            .map_err(|_| ApiError::internal())
    }

    /// Counts a guess, then checks it by opening `wrap`. A wrong guess is recorded (and
    /// locks at the limit, failing the challenge); a right one returns the user key.
    async fn open_with_guess(
        &self,
        ticket: &KdfTicket,
        kind: SecretKind,
        wrap: WrappedKey,
        secret: zeroize::Zeroizing<Vec<u8>>,
    ) -> Result<SecretKey, ApiError> {
        let (entity_id, internal_id) = self.ctx();
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
                WrapPurpose::Recovery,
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

    async fn fail(
        &self,
        error: ApiError,
        audit: Vec<AuditEvent>,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let failure = ChallengeFailure {
            entity_id: self.user.entity_id.clone(),
            user_internal_id: self.user.internal_id.clone(),
            challenge_id: self.challenge.id.clone(),
            error_code: error.code,
            error_message: error.message.to_string(),
            now,
            audit,
            notification: Some(self.notification(ChallengeStatus::Failed, &[], Some(&error))),
        };
        self.lk
            .store
            .fail_challenge(&failure)
            .await
            .map_err(store_failed)
    }
}

/// 2–10 questions, each valid, no question asked twice.
fn check_questions(questions: &[QuestionAnswer]) -> Result<(), ApiError> {
    if questions.len() < rules::MIN_QUESTIONS || questions.len() > rules::MAX_QUESTIONS {
        return Err(ApiError::invalid_field(
            "securityQuestions",
            "invalid",
            format!(
                "securityQuestions must hold {} to {} questions",
                rules::MIN_QUESTIONS,
                rules::MAX_QUESTIONS
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, q) in questions.iter().enumerate() {
        rules::check_question(i, &q.question, q.answer.expose(), q.hint.as_deref())?;
        if !seen.insert(rules::normalize_answer(&q.question).to_string()) {
            let loc = format!("securityQuestions[{i}].question");
            return Err(ApiError::invalid_field(
                &loc,
                "invalid",
                format!("{loc} repeats an earlier question"),
            ));
        }
    }
    Ok(())
}
