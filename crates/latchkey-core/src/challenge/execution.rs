//! One execution in progress: the user, the challenge, and what a spec uses to complete it
//! (audit events, the commit it fills in) or that the engine uses to end it. Once a guess has
//! opened the user key, any failure ends the challenge as FAILED with its own error and an
//! audit entry: the user's guess was already given back, so retrying could only repeat it.

use crate::clock::Timestamp;
use crate::error::{codes, ApiError};
use crate::model::{
    AuditEvent, ChallengeRecord, ChallengeStatus, SecretKind, UserRecord, WalletRecord,
};
use crate::service::{store_failed, Latchkey};
use crate::store::{ChallengeCommit, ChallengeFailure, CommitRefused, Rewrap};
use crate::webhooks::NotificationDraft;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What a spec's completion writes, and what it returns to the executing client only.
#[derive(Debug)]
pub struct Completion {
    /// Written in one transaction with the challenge's COMPLETE status.
    pub commit: ChallengeCommit,
    /// Returned to the executing client only (signatures), never stored.
    pub data: Value,
}

impl Completion {
    /// A completion that returns nothing to the client.
    pub fn new(commit: ChallengeCommit) -> Self {
        Self {
            commit,
            data: json!({}),
        }
    }
}

/// A challenge being executed by its user.
pub struct Execution<'a> {
    pub(crate) lk: &'a Latchkey,
    pub(crate) user: &'a UserRecord,
    pub(crate) challenge: &'a ChallengeRecord,
    /// A guess opened the user key (and was given back).
    unlocked: AtomicBool,
    /// Weak wraps made again since, waiting for the completion (or the failure) to write.
    rewraps: Mutex<Vec<Rewrap>>,
}

impl<'a> Execution<'a> {
    pub(crate) fn new(
        lk: &'a Latchkey,
        user: &'a UserRecord,
        challenge: &'a ChallengeRecord,
    ) -> Self {
        Self {
            lk,
            user,
            challenge,
            unlocked: AtomicBool::new(false),
            rewraps: Mutex::new(Vec::new()),
        }
    }
}

impl Execution<'_> {
    /// Records that a guess opened the user key: from here on a failure fails the challenge.
    pub(crate) fn mark_unlocked(&self) {
        self.unlocked.store(true, Ordering::SeqCst);
    }

    /// Queues a rewrap for the completion (or failure) to write.
    pub(crate) fn queue_rewrap(&self, rewrap: Rewrap) {
        if let Ok(mut queued) = self.rewraps.lock() {
            queued.push(rewrap);
        }
    }

    fn take_rewraps(&self) -> Vec<Rewrap> {
        self.rewraps
            .lock()
            .map(|mut queued| std::mem::take(&mut *queued))
            .unwrap_or_default()
    }

    /// The user executing the challenge (as read when the request started).
    pub fn user(&self) -> &UserRecord {
        self.user
    }

    /// The services.
    pub fn lk(&self) -> &Latchkey {
        self.lk
    }

    /// One of this user's wallets (156001 `WALLET_NOT_FOUND` when it is not theirs or is gone).
    pub async fn user_wallet(&self, wallet_id: &str) -> Result<WalletRecord, ApiError> {
        self.lk
            .store
            .wallet(&self.user.entity_id, &self.user.internal_id, wallet_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::WALLET_NOT_FOUND)
    }

    /// An audit event about this user, tagged with the challenge id.
    pub fn audit(&self, action: &str, detail: Value, now: Timestamp) -> AuditEvent {
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

    /// An empty commit of this challenge at `now`, for the spec to fill in.
    pub fn commit(&self, now: Timestamp) -> ChallengeCommit {
        ChallengeCommit {
            entity_id: self.user.entity_id.clone(),
            user_internal_id: self.user.internal_id.clone(),
            challenge_id: self.challenge.id.clone(),
            now,
            pin: None,
            answers: None,
            reset_pin_guesses: false,
            rewraps: Vec::new(),
            correlation_ids: Vec::new(),
            audit: Vec::new(),
            notification: None,
            wallets: Vec::new(),
            outbound: None,
        }
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
            environment: self.user.environment,
            notification_type: self.challenge.payload.notification_type().to_string(),
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

    /// Writes a completion with its COMPLETE notification, and the rewraps queued meanwhile
    /// (but not of a wrap the completion replaces anyway).
    pub(crate) async fn finish(&self, completion: Completion) -> Result<Value, ApiError> {
        let Completion { mut commit, data } = completion;
        commit.notification =
            Some(self.notification(ChallengeStatus::Complete, &commit.correlation_ids, None));
        let (new_pin, new_answers) = (commit.pin.is_some(), commit.answers.is_some());
        commit.rewraps = self
            .take_rewraps()
            .into_iter()
            .filter(|r| match r.kind {
                SecretKind::Pin => !new_pin,
                SecretKind::Answers => !new_answers,
            })
            .collect();
        let failure = match self.lk.store.complete_challenge(&commit).await {
            Ok(Ok(())) => return Ok(data),
            Ok(Err(CommitRefused::ChallengeNotOpen)) => None,
            Ok(Err(CommitRefused::UserChanged)) => Some(codes::CHALLENGE_INVALID.with_message(
                "The user's PIN or security questions changed while this challenge ran; create a new challenge.",
            )),
            Ok(Err(CommitRefused::NonceLost)) => Some(codes::CHALLENGE_INVALID.with_message(
                "The transaction's nonce was given back while this challenge ran; create a new challenge.",
            )),
            Ok(Err(CommitRefused::ScaBusy)) => Some(codes::SCA_OPERATION_PENDING),
            Ok(Err(CommitRefused::NotReplaceable)) => Some(codes::TRANSACTION_NOT_ELIGIBLE.with_message(
                "Transaction is not eligible for operation: it left the states it could be replaced in while this challenge ran.",
            )),
            Err(e) => Some(store_failed(e)),
        };
        // Nothing was written: the rewraps are written on their own.
        for r in commit.rewraps {
            self.queue_rewrap(r);
        }
        Err(match failure {
            // Someone else ended it (a parallel execution, the expiry): nothing left to fail.
            None => self.write_rewraps_alone(codes::CHALLENGE_INVALID).await,
            Some(error) => self.failed_after_unlock(error).await,
        })
    }

    /// What a failure becomes: before the user key was opened, itself (a wrong guess, an
    /// input rule; the challenge stays open or was already failed by the lock). After, the
    /// challenge ends as FAILED with this error and an audit entry, and the queued rewraps
    /// are written on their own.
    pub(crate) async fn failed_after_unlock(&self, error: ApiError) -> ApiError {
        if !self.unlocked.load(Ordering::SeqCst) {
            return error;
        }
        let now = self.lk.now();
        let audit = self.audit(
            "challenge.failed",
            json!({ "code": error.code, "afterUnlock": true }),
            now,
        );
        if let Err(e) = self.fail(error.clone(), vec![audit], now).await {
            tracing::error!(code = e.code, "cannot record a failure after the unlock");
        }
        self.write_rewraps_alone(error).await
    }

    /// Writes the queued rewraps on their own (the challenge completes nothing) and returns
    /// `error`.
    async fn write_rewraps_alone(&self, error: ApiError) -> ApiError {
        for r in self.take_rewraps() {
            if let Err(e) = self
                .lk
                .store
                .rewrap_key(&self.user.entity_id, &self.user.internal_id, &r)
                .await
            {
                // The weak wrap still opens; the next success rewraps it.
                tracing::error!(error = %e, "cannot write a rewrapped key");
            }
        }
        error
    }

    /// Ends the challenge as FAILED with `error`, writing `audit` with it.
    pub(crate) async fn fail(
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
