//! `POST /v1/w3s/user/transactions/{id}/accelerate` and `/cancel` (API key + `X-User-Token`):
//! ACCELERATE_TRANSACTION and CANCEL_TRANSACTION challenges for one of the user's live
//! outbound transactions (docs/transactions.md).

use crate::error::HttpResult;
use crate::extract::{DeveloperUser, JsonBody, PathParam};
use crate::render::ChallengeIdResponse;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::challenge::{
    AccelerateTransaction, CancelTransaction, ChallengeSpec, Idempotency, ReplaceRequest,
};
use latchkey_core::service::{ApiCaller, UserSession};
use latchkey_core::Latchkey;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accelerate_transaction))
        .routes(routes!(cancel_transaction))
}

/// Body of the accelerate and cancel calls.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceTransactionRequest {
    /// A UUID: the same key and transaction again return the first challenge.
    #[schema(required = true, value_type = String, format = "uuid", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    idempotency_key: Option<String>,
}

async fn create<S: ChallengeSpec<Request = ReplaceRequest>>(
    lk: &Latchkey,
    caller: &ApiCaller,
    session: &UserSession,
    id: String,
    body: ReplaceTransactionRequest,
) -> HttpResult<Response> {
    let key = Idempotency::Key(body.idempotency_key.as_deref());
    let request = ReplaceRequest { transaction_id: id };
    let (id, replayed) = lk
        .create_challenge::<S>(caller, session, request, key)
        .await?;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(ChallengeIdResponse::new(id))).into_response())
}

/// `POST /v1/w3s/user/transactions/{id}/accelerate`.
#[utoipa::path(post, path = "/v1/w3s/user/transactions/{id}/accelerate", tag = "user",
    operation_id = "accelerateTransaction",
    description = "ACCELERATE_TRANSACTION: the transaction (SENT or STUCK) signed again with the \
        PIN at the same nonce and a higher fee (the HIGH level, at least 12.5% above the last \
        attempt). 156003 when it is not one of the user's outbound transactions, 155229 in \
        another state, 155510 on ARB and ARB-SEPOLIA.",
    security(("apiKey" = [], "userToken" = [])),
    params(("id" = String, Path, description = "The transaction's id.")),
    request_body = ReplaceTransactionRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn accelerate_transaction(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    PathParam(id): PathParam<String>,
    body: JsonBody<ReplaceTransactionRequest>,
) -> HttpResult<Response> {
    create::<AccelerateTransaction>(&s.lk, &caller, &session, id, body.value).await
}

/// `POST /v1/w3s/user/transactions/{id}/cancel`.
#[utoipa::path(post, path = "/v1/w3s/user/transactions/{id}/cancel", tag = "user",
    operation_id = "cancelTransaction",
    description = "CANCEL_TRANSACTION: a zero-value send to the wallet itself at the \
        transaction's nonce and a higher fee, signed with the PIN. Best effort: if the \
        original is mined first it stands. 156003 when it is not one of the user's outbound \
        transactions, 155229 unless INITIATED, QUEUED, SENT or STUCK, 155510 on ARB and \
        ARB-SEPOLIA.",
    security(("apiKey" = [], "userToken" = [])),
    params(("id" = String, Path, description = "The transaction's id.")),
    request_body = ReplaceTransactionRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn cancel_transaction(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    PathParam(id): PathParam<String>,
    body: JsonBody<ReplaceTransactionRequest>,
) -> HttpResult<Response> {
    create::<CancelTransaction>(&s.lk, &caller, &session, id, body.value).await
}
