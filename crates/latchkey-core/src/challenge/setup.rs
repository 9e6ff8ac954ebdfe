//! Setting a user up (INITIALIZE, SET_PIN): a new user key, wrapped under the new PIN and
//! under the security answers, plus any planned wallets, in one completing transaction.

use super::body::{self, ExecuteBody, QuestionAnswer};
use super::execution::{Completion, Execution};
use super::spec::require;
use super::wallets::WalletPlan;
use crate::error::{codes, ApiError};
use crate::model::UserRecord;
use crate::service::SecretString;
use crate::store::{AnswersUpdate, PinUpdate};
use serde_json::json;

/// What setting up needs from the execute body.
#[derive(Debug)]
pub struct SetUpInput {
    /// The PIN to set.
    pub new_pin: SecretString,
    /// The questions to set, with their answers.
    pub questions: Vec<QuestionAnswer>,
}

/// Refuses a user who already has a PIN or answers.
pub(crate) fn check_fresh(user: &UserRecord) -> Result<(), ApiError> {
    if user.pin_wrap.is_some() {
        return Err(codes::PIN_ALREADY_SET);
    }
    if user.answers_wrap.is_some() {
        // A user with answers but no PIN would need their key opened by the answers:
        // that is RESTORE_PIN, never a new key that would orphan existing wallets.
        return Err(codes::QUESTIONS_ALREADY_SET.with_message(
            "The user already has security questions; use RESTORE_PIN to set a PIN.",
        ));
    }
    Ok(())
}

/// Takes and checks the new PIN and the questions.
pub(crate) fn input(body: ExecuteBody) -> Result<SetUpInput, ApiError> {
    let new_pin = body::new_pin(body.new_pin)?;
    let questions = require(body.security_questions, "securityQuestions")?;
    body::check_questions(&questions)?;
    Ok(SetUpInput { new_pin, questions })
}

/// Creates the user key and its two wraps, and the planned wallets.
pub(crate) async fn set_up(
    run: &Execution<'_>,
    input: SetUpInput,
    wallets: Option<&WalletPlan>,
) -> Result<Completion, ApiError> {
    let ticket = run.admit()?;
    let answers = body::encode_answers(input.questions.iter().map(|q| &q.answer));
    let (user_key, pin_wrap, answers_wrap) =
        run.new_user_key(&ticket, &input.new_pin, answers).await?;
    let now = run.lk().now();
    let mut commit = run.commit(now);
    if let Some(plan) = wallets {
        commit.wallets = plan.create(&user_key, run.user(), now)?;
    }
    commit.correlation_ids = commit.wallets.iter().map(|w| w.id.clone()).collect();
    commit.pin = Some(PinUpdate {
        wrap: pin_wrap,
        expected_version: None,
    });
    commit.answers = Some(AnswersUpdate {
        wrap: answers_wrap,
        questions: body::stored_questions(&input.questions),
    });
    commit.audit = vec![
        run.audit("pin.set", json!({}), now),
        run.audit(
            "security_questions.set",
            json!({ "count": input.questions.len() }),
            now,
        ),
    ];
    Ok(Completion::new(commit))
}
