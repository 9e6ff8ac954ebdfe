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

/// `EOA` or `SCA` (documentation of the values the service accepts). SCA: one chain per call
/// (155508), only on ETH, MATIC, ARB, AVAX, BASE, OP, UNI and their testnets (155507).
#[derive(Debug, Clone, Copy, ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum AccountType {
    /// Externally owned account.
    EOA,
    /// Smart contract account: a Safe owned by the wallet's key (docs/sca.md).
    SCA,
}

/// One `metadata` entry: names the wallet created on the blockchain at the same index.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)] // documentation only: the service reads the entries as JSON values
pub struct WalletMetadata {
    /// The wallet's name.
    #[schema(max_length = 255)]
    name: Option<String>,
    /// The developer's reference.
    #[schema(max_length = 255)]
    ref_id: Option<String>,
}

/// `blockchains`: Circle's enum values, each at most once, at most `MAX_BLOCKCHAINS` (the document's view of what the service checks; a
/// mainnet with a test key answers 156006, NEAR 155511, Aptos 155510).
fn blockchain_list(min_items: usize, nullable: bool) -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let names: Vec<&str> = latchkey_chains::Blockchain::ALL
        .iter()
        .map(|b| b.as_str())
        .collect();
    let array = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::Type(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(array)
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names)),
        )
        .min_items(Some(min_items))
        .max_items(Some(latchkey_core::challenge::MAX_BLOCKCHAINS))
        .unique_items(true)
        .build()
}

/// INITIALIZE: any number of blockchains, or null.
fn any_blockchains() -> utoipa::openapi::schema::Array {
    blockchain_list(0, true)
}

/// CREATE_WALLET: at least one.
fn some_blockchains() -> utoipa::openapi::schema::Array {
    blockchain_list(1, false)
}

/// Body of `POST /v1/w3s/user/initialize`: the PIN, the questions and, optionally, wallets.
/// `metadata`, when given, has one entry per blockchain (else 155504).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeRequest {
    /// A UUID (hyphenated, as `rules::is_uuid` reads it); the same key with the same request
    /// answers the first response again.
    #[schema(required = true, value_type = String, format = "uuid", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    idempotency_key: Option<String>,
    /// `EOA` (default) or `SCA`.
    #[serde(default)]
    #[schema(value_type = Option<AccountType>)]
    account_type: Option<String>,
    /// Blockchains to create wallets on (`ETH-SEPOLIA`, `SOL-DEVNET`…).
    #[serde(default)]
    #[schema(schema_with = any_blockchains)]
    blockchains: Option<Vec<String>>,
    /// One `{name?, refId?}` per blockchain.
    #[serde(default)]
    #[schema(value_type = Option<Vec<WalletMetadata>>)]
    metadata: Option<Vec<Value>>,
}

/// Body of `POST /v1/w3s/user/wallets`: at least one blockchain. `metadata`, when given, has
/// one entry per blockchain (else 155504).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateWalletRequest {
    /// A UUID (hyphenated, as `rules::is_uuid` reads it); the same key with the same request
    /// answers the first response again.
    #[schema(required = true, value_type = String, format = "uuid", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    idempotency_key: Option<String>,
    /// `EOA` (default) or `SCA`.
    #[serde(default)]
    #[schema(value_type = Option<AccountType>)]
    account_type: Option<String>,
    /// Blockchains to create wallets on (`ETH-SEPOLIA`, `SOL-DEVNET`…).
    #[serde(default)]
    #[schema(required = true, schema_with = some_blockchains)]
    blockchains: Option<Vec<String>>,
    /// One `{name?, refId?}` per blockchain.
    #[serde(default)]
    #[schema(value_type = Option<Vec<WalletMetadata>>)]
    metadata: Option<Vec<Value>>,
}

/// Body of the PIN calls (SET_PIN, CHANGE_PIN, RESTORE_PIN): the idempotency key only.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PinChallengeRequest {
    /// A UUID (hyphenated, as `rules::is_uuid` reads it); the same key with the same request
    /// answers the first response again.
    #[schema(required = true, value_type = String, format = "uuid", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    idempotency_key: Option<String>,
}

fn wallets(
    account_type: &Option<String>,
    blockchains: &Option<Vec<String>>,
    metadata: &Option<Vec<Value>>,
) -> WalletRequest {
    WalletRequest {
        account_type: account_type.clone(),
        blockchains: blockchains.clone(),
        metadata: metadata.clone(),
    }
}

/// Creates a challenge of type `S`; the service checks the idempotency key and the request.
async fn create<S: ChallengeSpec>(
    s: &AppState,
    caller: latchkey_core::ApiCaller,
    session: latchkey_core::UserSession,
    key: Option<&str>,
    request: S::Request,
) -> HttpResult<Response> {
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
    security(("apiKey" = [], "userToken" = [])), request_body = InitializeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_initialize_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<InitializeRequest>,
) -> HttpResult<Response> {
    let b = &body.value;
    let request = wallets(&b.account_type, &b.blockchains, &b.metadata);
    create::<Initialize>(&s, caller, session, b.idempotency_key.as_deref(), request).await
}

/// `POST /v1/w3s/user/pin`.
#[utoipa::path(post, path = "/v1/w3s/user/pin", tag = "user", operation_id = "createUserPin",
    description = "SET_PIN.",
    security(("apiKey" = [], "userToken" = [])), request_body = PinChallengeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_set_pin_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<PinChallengeRequest>,
) -> HttpResult<Response> {
    let key = body.value.idempotency_key.as_deref();
    create::<SetPin>(&s, caller, session, key, NoRequest {}).await
}

/// `PUT /v1/w3s/user/pin`.
#[utoipa::path(put, path = "/v1/w3s/user/pin", tag = "user", operation_id = "updateUserPin",
    description = "CHANGE_PIN.",
    security(("apiKey" = [], "userToken" = [])), request_body = PinChallengeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_change_pin_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<PinChallengeRequest>,
) -> HttpResult<Response> {
    let key = body.value.idempotency_key.as_deref();
    create::<ChangePin>(&s, caller, session, key, NoRequest {}).await
}

/// `POST /v1/w3s/user/pin/restore`.
#[utoipa::path(post, path = "/v1/w3s/user/pin/restore", tag = "user", operation_id = "restoreUserPin",
    description = "RESTORE_PIN.",
    security(("apiKey" = [], "userToken" = [])), request_body = PinChallengeRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_restore_pin_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<PinChallengeRequest>,
) -> HttpResult<Response> {
    let key = body.value.idempotency_key.as_deref();
    create::<RestorePin>(&s, caller, session, key, NoRequest {}).await
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
    /// Created at or after (RFC 3339); after `to` gives an empty page.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Created at or before (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// The page before this challenge id (a UUID, else 156014).
    #[param(min_length = 1)]
    pub pageBefore: Option<String>,
    /// The page after this challenge id (a UUID, else 156014).
    #[param(min_length = 1)]
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
    let status = paging::constrained(&pairs, "status")?
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
    security(("apiKey" = [], "userToken" = [])), request_body = CreateWalletRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_wallet_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<CreateWalletRequest>,
) -> HttpResult<Response> {
    let b = &body.value;
    let request = wallets(&b.account_type, &b.blockchains, &b.metadata);
    create::<CreateWallet>(&s, caller, session, b.idempotency_key.as_deref(), request).await
}

/// Body of the `/user/sign/*` calls.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignRequest {
    /// The wallet that signs.
    #[schema(required = true, value_type = String, min_length = 1)]
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
