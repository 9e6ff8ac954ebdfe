//! The end user's side of the challenge protocol (docs/protocol.md): App ID + userToken,
//! never the API key.

use crate::error::HttpResult;
use crate::extract::{AppUser, JsonBody, PathParam};
use crate::render::{Challenge, PinSecurityDetails};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_sdk_challenge))
        .routes(routes!(execute_sdk_challenge))
}

/// `{"data": SdkChallengeView}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SdkChallengeResponse {
    /// The envelope.
    pub data: SdkChallengeView,
}

/// What the hosted page needs to render a challenge.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkChallengeView {
    /// The challenge, with its expiry.
    pub challenge: SdkChallenge,
    /// The user's PIN and security-question state.
    pub user: SdkUser,
    /// PIN guesses left before the lock.
    pub pin_attempts_left: i64,
    /// Answer guesses left before the lock.
    pub answer_attempts_left: i64,
    /// The configured limit.
    pub max_attempts: i64,
    /// The user's questions (to answer on RESTORE_PIN).
    pub security_questions: Vec<SecurityQuestion>,
    /// The server's suggested questions.
    pub default_security_questions: Vec<String>,
    /// Which inputs the execute call must carry.
    pub requires: Requires,
    /// What the PIN is about to sign or create (shown for review); `null` when nothing.
    pub signing: Value,
}

/// Circle's `Challenge` plus its expiry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkChallenge {
    /// The challenge.
    #[serde(flatten)]
    pub challenge: Challenge,
    /// When the challenge expires (ISO-8601).
    pub expiry_date: String,
}

/// The user as the hosted page sees them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkUser {
    /// `UNSET`, `ENABLED` or `LOCKED`.
    pub pin_status: String,
    /// `UNSET`, `ENABLED` or `LOCKED`.
    pub security_question_status: String,
    /// PIN guesses.
    pub pin_details: PinSecurityDetails,
    /// Answer guesses.
    pub security_question_details: PinSecurityDetails,
}

/// One of the user's security questions (never the answer).
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityQuestion {
    /// The question.
    pub question: String,
    /// The user's hint; `null` when none.
    pub hint: Option<String>,
}

/// Which plaintext inputs the server expects.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Requires {
    /// The current PIN.
    pub pin: bool,
    /// A new PIN.
    pub new_pin: bool,
    /// New security questions and answers.
    pub security_questions: bool,
    /// Answers to the existing questions.
    pub security_answers: bool,
}

/// `GET /v1/w3s/sdk/challenges/{id}`: what the page needs to render the challenge.
#[utoipa::path(get, path = "/v1/w3s/sdk/challenges/{id}", tag = "sdk", operation_id = "getSdkChallenge",
    security(("appId" = [], "userToken" = [])),
    params(("id" = String, Path, description = "Challenge id.")),
    responses((status = 200, description = "The challenge and the user's state.", body = SdkChallengeResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_sdk_challenge(
    State(s): State<AppState>,
    AppUser(session): AppUser,
    PathParam(id): PathParam<String>,
) -> HttpResult<Json<SdkChallengeResponse>> {
    let v = s.lk.challenge_view(&session, &id).await?;
    let now = s.lk.now();
    let challenge = SdkChallenge {
        challenge: Challenge::new(&v.challenge, now),
        expiry_date: v.challenge.expires_at.iso(),
    };
    let user = &v.user;
    let questions = user
        .questions
        .iter()
        .map(|q| SecurityQuestion {
            question: q.question.clone(),
            hint: q.hint.clone(),
        })
        .collect();
    let needs = v.requires;
    Ok(Json(SdkChallengeResponse {
        data: SdkChallengeView {
            challenge,
            user: SdkUser {
                pin_status: user.pin_status(now).into(),
                security_question_status: user.security_question_status(now).into(),
                pin_details: PinSecurityDetails::new(&user.pin_guesses, now),
                security_question_details: PinSecurityDetails::new(&user.answer_guesses, now),
            },
            pin_attempts_left: v.pin_attempts_left,
            answer_attempts_left: v.answer_attempts_left,
            max_attempts: v.max_attempts,
            security_questions: questions,
            default_security_questions: v.default_questions,
            requires: Requires {
                pin: needs.pin,
                new_pin: needs.new_pin,
                security_questions: needs.security_questions,
                security_answers: needs.security_answers,
            },
            signing: v.signing,
        },
    }))
}

/// Body of an execute call.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExecuteRequest {
    /// The inputs (PIN, answers…) sealed with the user's encryption key (docs/protocol.md).
    encrypted: String,
}

/// `{"data": {"type", "status": "COMPLETE", "data"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecuteResponse {
    /// The envelope.
    pub data: ExecuteResult,
}

/// A completed challenge.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecuteResult {
    /// The challenge type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always `COMPLETE`.
    pub status: String,
    /// What only the executing client may see (signatures).
    pub data: Value,
}

/// `POST /v1/w3s/sdk/challenges/{id}/execute`.
#[utoipa::path(post, path = "/v1/w3s/sdk/challenges/{id}/execute", tag = "sdk", operation_id = "executeSdkChallenge",
    security(("appId" = [], "userToken" = [])), request_body = ExecuteRequest,
    params(("id" = String, Path, description = "Challenge id.")),
    responses((status = 200, description = "The challenge is complete.", body = ExecuteResponse)))]
#[tracing::instrument(skip_all)]
pub async fn execute_sdk_challenge(
    State(s): State<AppState>,
    AppUser(session): AppUser,
    PathParam(id): PathParam<String>,
    body: JsonBody<ExecuteRequest>,
) -> HttpResult<Json<ExecuteResponse>> {
    let outcome =
        s.lk.execute_challenge(&session, &id, &body.value.encrypted)
            .await?;
    Ok(Json(ExecuteResponse {
        data: ExecuteResult {
            kind: outcome.kind.as_str().into(),
            status: "COMPLETE".into(),
            data: outcome.data,
        },
    }))
}
