//! RESTORE_PIN: the security answers open the user key, a new PIN rewraps it, and the PIN
//! lock clears.

use super::body::{self, ExecuteBody};
use super::execution::{Completion, Execution};
use super::spec::{require, ChallengeSpec, Creation, NoRequest, Requires};
use crate::crypto::WrapPurpose;
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, SecretKind, UserRecord};
use crate::rules;
use crate::service::SecretString;
use crate::store::PinUpdate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

/// The RESTORE_PIN challenge type.
#[derive(Debug)]
pub struct RestorePin;

/// What a RESTORE_PIN challenge keeps: nothing (stored as `{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RestorePinPayload {}

/// What RESTORE_PIN needs from the execute body.
#[derive(Debug)]
pub struct RestorePinInput {
    /// Answers to the stored questions, in order.
    pub answers: Vec<SecretString>,
    /// The PIN to set.
    pub new_pin: SecretString,
}

impl ChallengeSpec for RestorePin {
    const KIND: ChallengeType = ChallengeType::RestorePin;
    const NOTIFICATION: &'static str = "challenges.restorePin";
    type Request = NoRequest;
    type Payload = RestorePinPayload;
    type Input = RestorePinInput;

    async fn prepare(
        _creation: Creation<'_>,
        _request: NoRequest,
    ) -> Result<RestorePinPayload, ApiError> {
        Ok(RestorePinPayload {})
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        if user.answers_wrap.is_none() {
            return Err(codes::QUESTIONS_NOT_SET);
        }
        Ok(())
    }

    fn requires(_user: &UserRecord) -> Requires {
        Requires {
            new_pin: true,
            security_answers: true,
            ..Requires::default()
        }
    }

    fn input(body: ExecuteBody) -> Result<RestorePinInput, ApiError> {
        let answers = require(body.security_answers, "securityAnswers")?;
        let new_pin = body::new_pin(body.new_pin)?;
        Ok(RestorePinInput { answers, new_pin })
    }

    async fn complete(
        run: &Execution<'_>,
        _payload: &RestorePinPayload,
        input: RestorePinInput,
    ) -> Result<Completion, ApiError> {
        let user = run.user();
        let wrap = user.answers_wrap.clone().ok_or(codes::QUESTIONS_NOT_SET)?;
        if input.answers.len() != user.questions.len() {
            return Err(ApiError::invalid_field(
                "securityAnswers",
                "invalid",
                format!(
                    "securityAnswers must answer all {} questions, in order",
                    user.questions.len()
                ),
            ));
        }
        if let Some(i) = input
            .answers
            .iter()
            .position(|a| rules::normalize_answer(a.expose()).is_empty())
        {
            return Err(ApiError::missing_field(&format!("securityAnswers[{i}]")));
        }
        let encoded = body::encode_answers(input.answers.iter());
        let ticket = run.admit()?;
        let user_key = run
            .open_with_guess(&ticket, SecretKind::Answers, wrap, encoded)
            .await?;
        let new_pin = Zeroizing::new(input.new_pin.expose().as_bytes().to_vec());
        let new_wrap = run
            .wrap(&ticket, WrapPurpose::Pin, user_key, new_pin)
            .await?;
        let now = run.lk().now();
        let mut commit = run.commit(now);
        commit.pin = Some(PinUpdate {
            wrap: new_wrap,
            expected_version: Some(user.pin_version),
        });
        // The PIN is replaced: its count and lock go with it. The answers gave back their
        // own guess when they opened the key.
        commit.reset_pin_guesses = true;
        commit.audit = vec![
            run.audit("security_answers.attempt.passed", json!({}), now),
            run.audit("pin.restored", json!({}), now),
        ];
        Ok(Completion::new(commit))
    }
}
