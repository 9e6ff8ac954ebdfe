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
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::challenge::{
    self, ChallengeSpec, ChangePin, CreateWallet, Idempotency, Initialize, NoRequest, RestorePin,
    SetPin, SignMessage, SignTransaction, SignTypedData, WalletRequest,
};
use latchkey_core::model::ChallengeStatus;
use latchkey_core::rules;
use latchkey_core::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

impl ChallengeRequest {
    fn wallets(&self) -> WalletRequest {
        WalletRequest {
            account_type: self.account_type.clone(),
            blockchains: self.blockchains.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

/// Creates a challenge of type `S`; the service checks the idempotency key and the request.
async fn create<S: ChallengeSpec>(
    s: &AppState,
    caller: latchkey_core::ApiCaller,
    session: latchkey_core::UserSession,
    body: &ChallengeRequest,
    request: S::Request,
) -> HttpResult<Response> {
    let key = body.idempotency_key.as_deref();
    let (id, replayed) =
        s.lk.create_challenge::<S>(&caller, &session, request, Idempotency::Key(key))
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
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<Initialize>(&s, caller, session, &body.value, body.value.wallets()).await
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
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<SetPin>(&s, caller, session, &body.value, NoRequest {}).await
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
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<ChangePin>(&s, caller, session, &body.value, NoRequest {}).await
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
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<RestorePin>(&s, caller, session, &body.value, NoRequest {}).await
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
#[allow(non_snake_case)]
pub struct ListChallengesQuery {
    /// `PENDING`, `IN_PROGRESS`, `COMPLETE`, `FAILED` or `EXPIRED`.
    #[param(inline, value_type = Option<ChallengeStatusFilter>)]
    pub status: Option<String>,
    /// Created at or after (ISO-8601).
    pub from: Option<String>,
    /// Created at or before (ISO-8601).
    pub to: Option<String>,
    /// The page before this challenge id.
    pub pageBefore: Option<String>,
    /// The page after this challenge id.
    pub pageAfter: Option<String>,
    /// 1 to 50 (larger is clamped), default 50: the official SDKs send no paging, so their
    /// one call gets the largest page (and a `Link` to the next).
    #[param(minimum = 1)]
    pub pageSize: Option<i64>,
    /// `ASC` or `DESC` (default).
    #[param(inline, value_type = Option<crate::paging::SortOrder>)]
    pub order: Option<String>,
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
    responses((status = 200, description = "A page of the user's challenges.", body = ChallengesResponse,
        headers(("link" = String, description = "RFC 8288 links: self, first, next, prev.")))))]
#[tracing::instrument(skip_all)]
pub async fn list_user_challenges(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<impl IntoResponse> {
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
    // The official SDKs' listUserChallenges sends no paging: give it the largest page.
    let query = paging::page_query_sized(&pairs, rules::is_uuid, paging::MAX_PAGE_SIZE)?;
    let page = s.lk.list_challenges(&session, status, &query).await?;
    let now = s.lk.now();
    let challenges = page.items.iter().map(|c| Challenge::new(c, now)).collect();
    let link = paging::link_header(
        &paging::base_url(s.public_url.as_deref(), &headers),
        "/v1/w3s/user/challenges",
        &pairs,
        page.items.first().map(|c| c.id.as_str()),
        page.items.last().map(|c| c.id.as_str()),
        page.has_next,
        page.has_prev,
    );
    Ok((
        [("link", link)],
        Json(ChallengesResponse {
            data: ChallengesData { challenges },
        }),
    ))
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
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<CreateWallet>(&s, caller, session, &body.value, body.value.wallets()).await
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

/// Creates a SIGN_* challenge. Circle's signing calls take no idempotency key: every call
/// is a new challenge.
async fn sign<S: ChallengeSpec<Request = challenge::SignRequest>>(
    s: &AppState,
    caller: latchkey_core::ApiCaller,
    session: latchkey_core::UserSession,
    body: SignRequest,
) -> HttpResult<Response> {
    let req = challenge::SignRequest {
        wallet_id: body.wallet_id.unwrap_or_default(),
        message: body.message,
        encoded_by_hex: body.encoded_by_hex.unwrap_or(false),
        data: body.data,
        raw_transaction: body.raw_transaction,
        transaction: body.transaction,
        memo: body.memo,
    };
    let (id, _) =
        s.lk.create_challenge::<S>(&caller, &session, req, Idempotency::Unkeyed)
            .await?;
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
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<SignRequest>,
) -> HttpResult<Response> {
    sign::<SignMessage>(&s, caller, session, body.value).await
}

/// `POST /v1/w3s/user/sign/typedData`.
#[utoipa::path(post, path = "/v1/w3s/user/sign/typedData", tag = "user", operation_id = "signTypedData",
    description = "SIGN_TYPEDDATA (EIP-712).",
    security(("apiKey" = [], "userToken" = [])), request_body = SignRequest,
    responses((status = 201, description = "The new challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_sign_typed_data_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<SignRequest>,
) -> HttpResult<Response> {
    sign::<SignTypedData>(&s, caller, session, body.value).await
}

/// `POST /v1/w3s/user/sign/transaction`.
#[utoipa::path(post, path = "/v1/w3s/user/sign/transaction", tag = "user", operation_id = "signTransaction",
    description = "SIGN_TRANSACTION.",
    security(("apiKey" = [], "userToken" = [])), request_body = SignRequest,
    responses((status = 201, description = "The new challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_sign_transaction_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<SignRequest>,
) -> HttpResult<Response> {
    sign::<SignTransaction>(&s, caller, session, body.value).await
}
