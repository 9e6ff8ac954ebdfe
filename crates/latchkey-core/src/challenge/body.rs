//! The decrypted body of an execute call (docs/protocol.md §2) and the checks on its parts
//! that several challenge types share.

use crate::error::ApiError;
use crate::model::StoredQuestion;
use crate::rules;
use crate::service::SecretString;
use serde::Deserialize;
use zeroize::Zeroizing;

/// The decrypted body of an execute call: every field any type may need. Each spec takes
/// the ones it needs into its own input type.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteBody {
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

/// A PIN to set, checked against the PIN rules.
pub(crate) fn new_pin(body_pin: Option<SecretString>) -> Result<SecretString, ApiError> {
    let pin = super::spec::require(body_pin, "newPin")?;
    rules::check_pin(pin.expose(), "newPin")?;
    Ok(pin)
}

/// The answers in the form the answers wrap is keyed by.
pub(crate) fn encode_answers<'a>(
    answers: impl Iterator<Item = &'a SecretString>,
) -> Zeroizing<Vec<u8>> {
    rules::encode_answers(&answers.map(SecretString::expose).collect::<Vec<_>>())
}

/// 2–10 questions, each valid, no question asked twice.
pub(crate) fn check_questions(questions: &[QuestionAnswer]) -> Result<(), ApiError> {
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

/// The questions as stored: trimmed, empty hints dropped, answers left out.
pub(crate) fn stored_questions(questions: &[QuestionAnswer]) -> Vec<StoredQuestion> {
    questions
        .iter()
        .map(|q| StoredQuestion {
            question: q.question.trim().to_string(),
            hint: q
                .hint
                .as_ref()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty()),
        })
        .collect()
}
