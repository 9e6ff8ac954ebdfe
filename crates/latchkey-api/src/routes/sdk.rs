//! The end user's side of the challenge protocol (docs/protocol.md): App ID + userToken,
//! never the API key.

use crate::error::HttpResult;
use crate::extract::{AppUser, JsonBody};
use crate::render;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

/// `GET /v1/w3s/sdk/challenges/{id}`: what the page needs to render the challenge.
pub async fn get_sdk_challenge(
    State(s): State<AppState>,
    AppUser(session): AppUser,
    Path(id): Path<String>,
) -> HttpResult<Response> {
    let v = s.lk.challenge_view(&session, &id).await?;
    let now = s.lk.now();
    let mut challenge = render::challenge(&v.challenge, now);
    challenge["expiryDate"] = json!(v.challenge.expires_at.iso());
    let user = &v.user;
    let questions: Vec<_> = user
        .questions
        .iter()
        .map(|q| json!({ "question": q.question, "hint": q.hint }))
        .collect();
    let requires = v.requires;
    Ok(Json(json!({
        "data": {
            "challenge": challenge,
            "user": {
                "pinStatus": user.pin_status(now),
                "securityQuestionStatus": user.security_question_status(now),
                "pinDetails": render::guess_details(&user.pin_guesses, now),
                "securityQuestionDetails": render::guess_details(&user.answer_guesses, now),
            },
            "pinAttemptsLeft": v.pin_attempts_left,
            "answerAttemptsLeft": v.answer_attempts_left,
            "maxAttempts": v.max_attempts,
            "securityQuestions": questions,
            "defaultSecurityQuestions": v.default_questions,
            "requires": {
                "pin": requires.pin, "newPin": requires.new_pin, "securityQuestions": requires.security_questions, "securityAnswers": requires.security_answers,
            },
            "signing": v.signing,
        }
    }))
    .into_response())
}

/// Body of an execute call.
#[derive(Debug, Deserialize)]
pub struct ExecuteRequest {
    encrypted: String,
}

/// `POST /v1/w3s/sdk/challenges/{id}/execute`.
pub async fn execute_sdk_challenge(
    State(s): State<AppState>,
    AppUser(session): AppUser,
    Path(id): Path<String>,
    body: JsonBody<ExecuteRequest>,
) -> HttpResult<Response> {
    let outcome =
        s.lk.execute_challenge(&session, &id, &body.value.encrypted)
            .await?;
    Ok(Json(json!({
        "data": { "type": outcome.kind.as_str(), "status": "COMPLETE", "data": outcome.data }
    }))
    .into_response())
}
