//! One execution in progress: the user, the challenge, and what a spec uses to complete it
//! (audit events, the commit it fills in) or that the engine uses to end it.

use crate::clock::Timestamp;
use crate::error::{codes, ApiError};
use crate::model::{AuditEvent, ChallengeRecord, ChallengeStatus, UserRecord};
use crate::service::{store_failed, Latchkey};
use crate::store::{ChallengeCommit, ChallengeFailure, CommitRefused};
use crate::webhooks::NotificationDraft;
use serde_json::{json, Value};

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
}

impl Execution<'_> {
    /// The user executing the challenge (as read when the request started).
    pub fn user(&self) -> &UserRecord {
        self.user
    }

    /// The services.
    pub fn lk(&self) -> &Latchkey {
        self.lk
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
            recovery: None,
            reset_pin_guesses: false,
            reset_answer_guesses: false,
            correlation_ids: Vec::new(),
            audit: Vec::new(),
            notification: None,
            wallets: Vec::new(),
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

    /// Writes a completion with its COMPLETE notification.
    pub(crate) async fn finish(&self, completion: Completion) -> Result<Value, ApiError> {
        let Completion { mut commit, data } = completion;
        commit.notification =
            Some(self.notification(ChallengeStatus::Complete, &commit.correlation_ids, None));
        match self
            .lk
            .store
            .complete_challenge(&commit)
            .await
            .map_err(store_failed)?
        {
            Ok(()) => Ok(data),
            Err(CommitRefused::ChallengeNotOpen) => Err(codes::CHALLENGE_INVALID),
            Err(CommitRefused::UserChanged) => Err(codes::CHALLENGE_INVALID.with_message(
                "The user's PIN or security questions changed while this challenge ran; create a new challenge.",
            )),
        }
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
