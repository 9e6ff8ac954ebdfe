//! The token-scoped end-user routes called by the developer's backend (API key +
//! `X-User-Token`): the user's status, the calls that create challenges, and the user's
//! challenges.

use crate::error::HttpResult;
use crate::extract::{DeveloperUser, JsonBody, PathParam};
use crate::paging;
use crate::render::{Challenge, ChallengeIdResponse, EndUser};
use crate::routes::users::EndUserResponse;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::model::{ChallengeStatus, ChallengeType};
use latchkey_core::rules;
use latchkey_core::store::IdempotencyClaim;
use latchkey_core::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_user_status))
        .routes(routes!(create_initialize_challenge))
        .routes(routes!(
            create_set_pin_challenge,
            create_change_pin_challenge
        ))
        .routes(routes!(create_restore_pin_challenge))
        .routes(routes!(create_wallet_challenge))
        .routes(routes!(create_sign_message_challenge))
        .routes(routes!(create_sign_typed_data_challenge))
        .routes(routes!(create_sign_transaction_challenge))
        .routes(routes!(list_user_challenges))
        .routes(routes!(get_user_challenge))
}

/// `GET /v1/w3s/user`.
#[utoipa::path(get, path = "/v1/w3s/user", tag = "user", operation_id = "getUserStatus",
    security(("apiKey" = [], "userToken" = [])),
    responses((status = 200, description = "The token's user.", body = EndUserResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_user_status(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
) -> HttpResult<Json<EndUserResponse>> {
    Ok(Json(EndUserResponse {
        data: EndUser::new(&session.user, s.lk.now()),
    }))
}

/// Body of the challenge-creating calls.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeRequest {
    /// A UUID; the same key with the same request answers the first response again.
    idempotency_key: Option<String>,
    /// `EOA` (default) or `SCA`.
    #[serde(default)]
    account_type: Option<String>,
    /// Blockchains to create wallets on (`ETH-SEPOLIA`, `SOL-DEVNET`…).
    #[serde(default)]
    blockchains: Option<Vec<String>>,
    /// One `{name?, refId?}` per blockchain.
    #[serde(default)]
    metadata: Option<Vec<Value>>,
}

/// The idempotency claim of a request: its key, and a hash of what it asks for (method,
/// path, user and the canonical body) so that reuse with another request is detected.
fn claim(
    method: &Method,
    uri: &Uri,
    user_internal_id: &str,
    key: Option<&str>,
    body: &Value,
) -> Result<IdempotencyClaim, ApiError> {
    let key = key.ok_or_else(|| ApiError::missing_field("idempotencyKey"))?;
    if !rules::is_uuid(key) {
        return Err(ApiError::invalid_field(
            "idempotencyKey",
            "invalid",
            "idempotencyKey must be a UUID",
        ));
    }
    let mut h = Sha256::new();
    for part in [
        method.as_str(),
        uri.path(),
        user_internal_id,
        &body.to_string(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    Ok(IdempotencyClaim {
        key: key.to_string(),
        request_hash: h.finalize().to_vec(),
    })
}

async fn create(
    s: &AppState,
    method: Method,
    uri: Uri,
    caller: latchkey_core::ApiCaller,
    session: latchkey_core::UserSession,
    kind: ChallengeType,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    let req = &body.value;
    let claim = claim(
        &method,
        &uri,
        &session.user.internal_id,
        req.idempotency_key.as_deref(),
        &body.raw,
    )?;
    let mut payload = match kind {
        ChallengeType::Initialize | ChallengeType::CreateWallet => s.lk.check_wallet_request(
            &caller,
            req.blockchains.as_deref().unwrap_or_default(),
            req.account_type.as_deref(),
            req.metadata.as_deref(),
            kind == ChallengeType::CreateWallet,
        )?,
        _ => json!({}),
    };
    if kind == ChallengeType::CreateWallet {
        // The hosted page shows which wallets the PIN is about to create.
        payload["signing"] =
            json!({ "blockchains": payload["blockchains"], "accountType": payload["accountType"] });
    }
    let (id, replayed) =
        s.lk.create_challenge(&session, kind, payload, claim)
            .await?;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(ChallengeIdResponse::new(id))).into_response())
}

/// `POST /v1/w3s/user/initialize`.
#[utoipa::path(post, path = "/v1/w3s/user/initialize", tag = "user", operation_id = "createUserPinWithWallets",
    description = "INITIALIZE: set the PIN and security questions, create wallets.",
    security(("apiKey" = [], "userToken" = [])), request_body = ChallengeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_initialize_challenge(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create(
        &s,
        method,
        uri,
        caller,
        session,
        ChallengeType::Initialize,
        body,
    )
    .await
}

/// `POST /v1/w3s/user/pin`.
#[utoipa::path(post, path = "/v1/w3s/user/pin", tag = "user", operation_id = "createUserPin",
    description = "SET_PIN.",
    security(("apiKey" = [], "userToken" = [])), request_body = ChallengeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_set_pin_challenge(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create(
        &s,
        method,
        uri,
        caller,
        session,
        ChallengeType::SetPin,
        body,
    )
    .await
}

/// `PUT /v1/w3s/user/pin`.
#[utoipa::path(put, path = "/v1/w3s/user/pin", tag = "user", operation_id = "updateUserPin",
    description = "CHANGE_PIN.",
    security(("apiKey" = [], "userToken" = [])), request_body = ChallengeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_change_pin_challenge(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create(
        &s,
        method,
        uri,
        caller,
        session,
        ChallengeType::ChangePin,
        body,
    )
    .await
}

/// `POST /v1/w3s/user/pin/restore`.
#[utoipa::path(post, path = "/v1/w3s/user/pin/restore", tag = "user", operation_id = "restoreUserPin",
    description = "RESTORE_PIN.",
    security(("apiKey" = [], "userToken" = [])), request_body = ChallengeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_restore_pin_challenge(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create(
        &s,
        method,
        uri,
        caller,
        session,
        ChallengeType::RestorePin,
        body,
    )
    .await
}

/// `{"data": {"challenge": Challenge}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeResponse {
    /// The envelope.
    pub data: ChallengeData,
}

/// One challenge.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeData {
    /// The challenge.
    pub challenge: Challenge,
}

/// `{"data": {"challenges": [Challenge]}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengesResponse {
    /// The envelope.
    pub data: ChallengesData,
}

/// The user's challenges.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengesData {
    /// Newest first.
    pub challenges: Vec<Challenge>,
}

/// A challenge status to filter by.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChallengeStatusFilter {
    /// Waiting for the user.
    Pending,
    /// Being executed.
    InProgress,
    /// Done.
    Complete,
    /// Failed (`errorCode` says why).
    Failed,
    /// Not executed in time.
    Expired,
}

/// The query of `GET /v1/w3s/user/challenges`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, style = Form)]
pub struct ListChallengesQuery {
    /// `PENDING`, `IN_PROGRESS`, `COMPLETE`, `FAILED` or `EXPIRED`.
    #[param(inline, value_type = Option<ChallengeStatusFilter>)]
    pub status: Option<String>,
}

/// `GET /v1/w3s/user/challenges/{id}`.
#[utoipa::path(get, path = "/v1/w3s/user/challenges/{id}", tag = "user", operation_id = "getUserChallenge",
    security(("apiKey" = [], "userToken" = [])),
    params(("id" = String, Path, description = "Challenge id.")),
    responses((status = 200, description = "The challenge.", body = ChallengeResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_user_challenge(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    PathParam(id): PathParam<String>,
) -> HttpResult<Json<ChallengeResponse>> {
    let c = s.lk.get_challenge(&session, &id).await?;
    Ok(Json(ChallengeResponse {
        data: ChallengeData {
            challenge: Challenge::new(&c, s.lk.now()),
        },
    }))
}

/// `GET /v1/w3s/user/challenges`.
#[utoipa::path(get, path = "/v1/w3s/user/challenges", tag = "user", operation_id = "listUserChallenges",
    security(("apiKey" = [], "userToken" = [])), params(ListChallengesQuery),
    responses((status = 200, description = "The user's challenges.", body = ChallengesResponse)))]
#[tracing::instrument(skip_all)]
pub async fn list_user_challenges(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    RawQuery(raw): RawQuery,
) -> HttpResult<Json<ChallengesResponse>> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let status = paging::get(&pairs, "status")
        .map(|v| {
            ChallengeStatus::parse(v).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "invalid",
                    "status must be PENDING, IN_PROGRESS, COMPLETE, FAILED or EXPIRED",
                )
            })
        })
        .transpose()?;
    let list = s.lk.list_challenges(&session, status).await?;
    let now = s.lk.now();
    let challenges = list.iter().map(|c| Challenge::new(c, now)).collect();
    Ok(Json(ChallengesResponse {
        data: ChallengesData { challenges },
    }))
}

/// `POST /v1/w3s/user/wallets`.
#[utoipa::path(post, path = "/v1/w3s/user/wallets", tag = "user", operation_id = "createWallet",
    description = "CREATE_WALLET.",
    security(("apiKey" = [], "userToken" = [])), request_body = ChallengeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_wallet_challenge(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create(
        &s,
        method,
        uri,
        caller,
        session,
        ChallengeType::CreateWallet,
        body,
    )
    .await
}

/// Body of the `/user/sign/*` calls.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignRequest {
    /// The wallet that signs.
    wallet_id: Option<String>,
    /// `sign/message`: the message (hex when `encodedByHex`).
    #[serde(default)]
    message: Option<String>,
    /// `sign/message`: whether `message` is hex.
    #[serde(default)]
    encoded_by_hex: Option<bool>,
    /// `sign/typedData`: the EIP-712 JSON, as a string.
    #[serde(default)]
    data: Option<String>,
    /// `sign/transaction`: the raw transaction (hex for EVM, base64 for Solana).
    #[serde(default)]
    raw_transaction: Option<String>,
    /// `sign/transaction`: the EVM transaction as JSON instead of raw.
    #[serde(default)]
    transaction: Option<Value>,
    /// Shown to the user on the hosted page.
    #[serde(default)]
    memo: Option<String>,
}

async fn sign(
    s: &AppState,
    session: latchkey_core::UserSession,
    kind: ChallengeType,
    body: SignRequest,
) -> HttpResult<Response> {
    let req = latchkey_core::service::SignRequest {
        wallet_id: body.wallet_id.unwrap_or_default(),
        message: body.message,
        encoded_by_hex: body.encoded_by_hex.unwrap_or(false),
        data: body.data,
        raw_transaction: body.raw_transaction,
        transaction: body.transaction,
        memo: body.memo,
    };
    let id = s.lk.create_sign_challenge(&session, kind, req).await?;
    Ok((StatusCode::CREATED, Json(ChallengeIdResponse::new(id))).into_response())
}

/// `POST /v1/w3s/user/sign/message`.
#[utoipa::path(post, path = "/v1/w3s/user/sign/message", tag = "user", operation_id = "signMessage",
    description = "SIGN_MESSAGE.",
    security(("apiKey" = [], "userToken" = [])), request_body = SignRequest,
    responses((status = 201, description = "The new challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_sign_message_challenge(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    body: JsonBody<SignRequest>,
) -> HttpResult<Response> {
    sign(&s, session, ChallengeType::SignMessage, body.value).await
}

/// `POST /v1/w3s/user/sign/typedData`.
#[utoipa::path(post, path = "/v1/w3s/user/sign/typedData", tag = "user", operation_id = "signTypedData",
    description = "SIGN_TYPEDDATA (EIP-712).",
    security(("apiKey" = [], "userToken" = [])), request_body = SignRequest,
    responses((status = 201, description = "The new challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_sign_typed_data_challenge(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    body: JsonBody<SignRequest>,
) -> HttpResult<Response> {
    sign(&s, session, ChallengeType::SignTypedData, body.value).await
}

/// `POST /v1/w3s/user/sign/transaction`.
#[utoipa::path(post, path = "/v1/w3s/user/sign/transaction", tag = "user", operation_id = "signTransaction",
    description = "SIGN_TRANSACTION.",
    security(("apiKey" = [], "userToken" = [])), request_body = SignRequest,
    responses((status = 201, description = "The new challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_sign_transaction_challenge(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    body: JsonBody<SignRequest>,
) -> HttpResult<Response> {
    sign(&s, session, ChallengeType::SignTransaction, body.value).await
}
