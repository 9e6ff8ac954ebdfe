//! The challenge engine, written once for every type: create (idempotency, preconditions),
//! read, view (PENDING → IN_PROGRESS, guesses left), execute (decrypt, dispatch to the spec,
//! complete). It names no challenge type: what differs lives in the specs.

use super::body::ExecuteBody;
use super::execution::Execution;
use super::registry::{self, ChallengePayload};
use super::spec::{ChallengeSpec, Creation, Requires};
use super::unlock::attempts_left;
use crate::crypto;
use crate::error::{codes, ApiError};
use crate::model::{ChallengeRecord, ChallengeStatus, ChallengeType, UserRecord};
use crate::rules;
use crate::service::{store_failed, ApiCaller, Latchkey, UserSession};
use crate::store::{IdempotencyClaim, Idempotent, Page, PageQuery};
use serde_json::Value;

/// How a create call is made idempotent.
#[derive(Debug, Clone, Copy)]
pub enum Idempotency<'a> {
    /// The developer's idempotency key (required, a UUID): a repeat of the same request
    /// returns the same challenge, another request with the key is refused.
    Key(Option<&'a str>),
    /// The call takes no key: every call creates a new challenge.
    Unkeyed,
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
    /// Which plaintext fields the server expects.
    pub requires: Requires,
    /// What the page shows about the operation (`null` when nothing).
    pub signing: Value,
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

/// The idempotency claim of a create call: the key, and a fingerprint of what the call asks
/// (type, user and the request) so that reusing the key for another request is detected.
fn claim<S: ChallengeSpec>(
    user_internal_id: &str,
    request: &S::Request,
    idempotency: Idempotency<'_>,
) -> Result<IdempotencyClaim, ApiError> {
    let key = match idempotency {
        Idempotency::Unkeyed => {
            let key = uuid::Uuid::new_v4().to_string();
            return Ok(IdempotencyClaim {
                request_hash: key.as_bytes().to_vec(),
                key,
            });
        }
        Idempotency::Key(key) => key.ok_or_else(|| ApiError::missing_field("idempotencyKey"))?,
    };
    if !rules::is_uuid(key) {
        return Err(ApiError::invalid_field(
            "idempotencyKey",
            "invalid",
            "idempotencyKey must be a UUID",
        ));
    }
    let request = serde_json::to_string(request).map_err(|e| {
        tracing::error!(error = %e, "cannot fingerprint a challenge request");
        ApiError::internal()
    })?;
    let mut fingerprint = Vec::new();
    for part in [S::KIND.as_str(), user_internal_id, &request] {
        fingerprint.extend_from_slice(&(part.len() as u64).to_be_bytes());
        fingerprint.extend_from_slice(part.as_bytes());
    }
    Ok(IdempotencyClaim {
        key: key.to_string(),
        request_hash: crypto::sha256(&fingerprint).to_vec(),
    })
}

/// Runs spec `S` on a challenge being executed and writes its completion.
pub(crate) async fn run<S: ChallengeSpec>(
    exec: &Execution<'_>,
    payload: &S::Payload,
    body: ExecuteBody,
) -> Result<ExecuteOutcome, ApiError> {
    S::check_before_input(exec.user)?;
    let input = S::input(body)?;
    let completion = match S::complete(exec, payload, input).await {
        Ok(completion) => completion,
        Err(e) => return Err(exec.failed_after_unlock(e).await),
    };
    let data = exec.finish(completion).await?;
    Ok(ExecuteOutcome {
        kind: S::KIND,
        data,
    })
}

impl Latchkey {
    /// Creates a challenge of type `S` for the session's user, once per idempotency key.
    /// Returns the challenge id and whether this was a replay.
    #[tracing::instrument(skip_all, fields(kind = S::KIND.as_str(), user = %session.user.internal_id))]
    pub async fn create_challenge<S: ChallengeSpec>(
        &self,
        caller: &ApiCaller,
        session: &UserSession,
        request: S::Request,
        idempotency: Idempotency<'_>,
    ) -> Result<(String, bool), ApiError> {
        let claim = claim::<S>(&session.user.internal_id, &request, idempotency)?;
        let creation = Creation {
            lk: self,
            caller,
            session,
        };
        let payload: ChallengePayload = S::prepare(creation, request).await?.into();
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
        S::check_user(&session.user)?;
        let now = self.now();
        let challenge = ChallengeRecord {
            id: uuid::Uuid::new_v4().to_string(),
            entity_id: entity.to_string(),
            user_internal_id: session.user.internal_id.clone(),
            kind: S::KIND,
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
            .create_challenge(&challenge, &claim, self.settings.max_open_challenges)
            .await
            .map_err(store_failed)?
        {
            Idempotent::Created(id) => Ok((id, false)),
            Idempotent::Replayed(id) => Ok((id, true)),
            Idempotent::Mismatch => Err(codes::IDEMPOTENCY_KEY_REUSED),
            Idempotent::Full => Err(codes::TOO_MANY_REQUESTS.with_message(format!(
                "Too many requests. Try again later: the user already has {} open challenges; \
                 complete them or let them expire first.",
                self.settings.max_open_challenges
            ))),
        }
    }

    /// Creates a challenge of `kind` from an empty request, without an idempotency key
    /// (the emulator's shortcut).
    #[tracing::instrument(skip_all, fields(kind = kind.as_str(), user = %session.user.internal_id))]
    pub async fn create_default_challenge(
        &self,
        caller: &ApiCaller,
        session: &UserSession,
        kind: ChallengeType,
    ) -> Result<String, ApiError> {
        registry::create_default(self, caller, session, kind, Idempotency::Unkeyed)
            .await
            .map(|(id, _)| id)
    }

    /// One of the session user's challenges.
    #[tracing::instrument(skip_all, fields(challenge = %challenge_id))]
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

    /// One page of the session user's challenges.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id))]
    pub async fn list_challenges(
        &self,
        session: &UserSession,
        status: Option<ChallengeStatus>,
        page: &PageQuery,
    ) -> Result<Page<ChallengeRecord>, ApiError> {
        self.store
            .list_challenges(
                session.entity_id(),
                &session.user.internal_id,
                status,
                page,
                self.now(),
            )
            .await
            .map_err(store_failed)?
            .ok_or(codes::PAGE_CURSOR_NOT_FOUND)
    }

    /// What the end user's page shows; the first read moves PENDING to IN_PROGRESS.
    #[tracing::instrument(skip_all, fields(challenge = %challenge_id))]
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
        let signing = challenge.payload.display().map_err(|e| {
            tracing::error!(error = %e, "cannot show a challenge payload");
            ApiError::internal()
        })?;
        Ok(ChallengeView {
            requires: challenge.payload.requires(user),
            signing,
            challenge,
            user: user.clone(),
            pin_attempts_left: attempts_left(self.settings.pin_policy, pin_failed),
            answer_attempts_left: attempts_left(self.settings.answer_policy, answer_failed),
            max_attempts: self.settings.pin_policy.max_attempts,
            default_questions: self.settings.default_questions.clone(),
        })
    }

    /// Executes a challenge with the encrypted body of docs/protocol.md §2.
    #[tracing::instrument(skip_all, fields(challenge = %challenge_id))]
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
        let body: ExecuteBody = serde_json::from_slice(&plain).map_err(|e| {
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
        let exec = Execution::new(self, user, &challenge);
        registry::execute(&exec, body).await
    }
}

fn classify_json_error(e: &serde_json::Error) -> &'static str {
    // serde's message can quote input, which here is secret: report only the category.
    match e.classify() {
        serde_json::error::Category::Data => "a field has the wrong type",
        _ => "malformed JSON",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::challenge::{ChangePin, Initialize, NoRequest, SetPin, WalletRequest};

    const KEY: &str = "7d0b6c1e-8f3a-4c2b-9d5e-1a2b3c4d5e6f";

    fn wallets(chains: &[&str]) -> WalletRequest {
        WalletRequest {
            blockchains: Some(chains.iter().map(|c| c.to_string()).collect()),
            ..WalletRequest::default()
        }
    }

    #[test]
    fn the_fingerprint_depends_on_type_user_and_request() {
        let key = Idempotency::Key(Some(KEY));
        let hash = |c: IdempotencyClaim| c.request_hash;
        let base = hash(claim::<Initialize>("u1", &wallets(&["ETH-SEPOLIA"]), key).unwrap());
        let same = hash(claim::<Initialize>("u1", &wallets(&["ETH-SEPOLIA"]), key).unwrap());
        assert_eq!(base, same);
        let other_chains = claim::<Initialize>("u1", &wallets(&["SOL-DEVNET"]), key).unwrap();
        assert_ne!(base, hash(other_chains));
        let other_user = claim::<Initialize>("u2", &wallets(&["ETH-SEPOLIA"]), key).unwrap();
        assert_ne!(base, hash(other_user));
        let set_pin = hash(claim::<SetPin>("u1", &NoRequest {}, key).unwrap());
        let change_pin = hash(claim::<ChangePin>("u1", &NoRequest {}, key).unwrap());
        assert_ne!(set_pin, change_pin);
    }

    #[test]
    fn the_key_is_required_and_a_uuid() {
        let missing = claim::<SetPin>("u1", &NoRequest {}, Idempotency::Key(None)).unwrap_err();
        assert_eq!(missing.code, ApiError::missing_field("idempotencyKey").code);
        assert!(claim::<SetPin>("u1", &NoRequest {}, Idempotency::Key(Some("k1"))).is_err());
        let a = claim::<SetPin>("u1", &NoRequest {}, Idempotency::Unkeyed).unwrap();
        let b = claim::<SetPin>("u1", &NoRequest {}, Idempotency::Unkeyed).unwrap();
        assert_ne!(a.key, b.key, "an unkeyed call is always a new challenge");
    }
}
