//! End-user endpoints called by the developer's backend (API key + `X-User-Token`): the
//! user's status, and the calls that create challenges.

use crate::error::HttpResult;
use crate::extract::{DeveloperUser, JsonBody};
use crate::paging;
use crate::render;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::challenge::{
    ChallengeSpec, ChangePin, CreateWallet, Idempotency, Initialize, NoRequest, RestorePin, SetPin,
    SignMessage, SignRequest, SignTransaction, SignTypedData, WalletRequest,
};
use latchkey_core::model::ChallengeStatus;
use latchkey_core::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

/// `GET /v1/w3s/user`.
pub async fn get_user_status(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
) -> HttpResult<Response> {
    Ok(Json(json!({ "data": render::end_user(&session.user, s.lk.now()) })).into_response())
}

/// Body of the challenge-creating calls.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeRequest {
    idempotency_key: Option<String>,
    #[serde(default)]
    account_type: Option<String>,
    #[serde(default)]
    blockchains: Option<Vec<String>>,
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
    Ok((status, Json(json!({ "data": { "challengeId": id } }))).into_response())
}

/// `POST /v1/w3s/user/initialize`.
pub async fn create_initialize_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<Initialize>(&s, caller, session, &body.value, body.value.wallets()).await
}

/// `POST /v1/w3s/user/pin`.
pub async fn create_set_pin_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<SetPin>(&s, caller, session, &body.value, NoRequest {}).await
}

/// `PUT /v1/w3s/user/pin`.
pub async fn create_change_pin_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<ChangePin>(&s, caller, session, &body.value, NoRequest {}).await
}

/// `POST /v1/w3s/user/pin/restore`.
pub async fn create_restore_pin_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<RestorePin>(&s, caller, session, &body.value, NoRequest {}).await
}

/// `GET /v1/w3s/user/challenges/{id}`.
pub async fn get_user_challenge(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    Path(id): Path<String>,
) -> HttpResult<Response> {
    let c = s.lk.get_challenge(&session, &id).await?;
    Ok(Json(json!({ "data": { "challenge": render::challenge(&c, s.lk.now()) } })).into_response())
}

/// `GET /v1/w3s/user/challenges`.
pub async fn list_user_challenges(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    RawQuery(raw): RawQuery,
) -> HttpResult<Response> {
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
    let challenges: Vec<_> = list.iter().map(|c| render::challenge(c, now)).collect();
    Ok(Json(json!({ "data": { "challenges": challenges } })).into_response())
}

/// `POST /v1/w3s/user/wallets`.
pub async fn create_wallet_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<ChallengeRequest>,
) -> HttpResult<Response> {
    create::<CreateWallet>(&s, caller, session, &body.value, body.value.wallets()).await
}

/// Body of the `/user/sign/*` calls.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignBody {
    wallet_id: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    encoded_by_hex: Option<bool>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    raw_transaction: Option<String>,
    #[serde(default)]
    transaction: Option<Value>,
    #[serde(default)]
    memo: Option<String>,
}

/// Creates a SIGN_* challenge. Circle's signing calls take no idempotency key: every call
/// is a new challenge.
async fn sign<S: ChallengeSpec<Request = SignRequest>>(
    s: &AppState,
    caller: latchkey_core::ApiCaller,
    session: latchkey_core::UserSession,
    body: SignBody,
) -> HttpResult<Response> {
    let req = SignRequest {
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
    Ok((
        StatusCode::CREATED,
        Json(json!({ "data": { "challengeId": id } })),
    )
        .into_response())
}

/// `POST /v1/w3s/user/sign/message`.
pub async fn create_sign_message_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<SignBody>,
) -> HttpResult<Response> {
    sign::<SignMessage>(&s, caller, session, body.value).await
}

/// `POST /v1/w3s/user/sign/typedData`.
pub async fn create_sign_typed_data_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<SignBody>,
) -> HttpResult<Response> {
    sign::<SignTypedData>(&s, caller, session, body.value).await
}

/// `POST /v1/w3s/user/sign/transaction`.
pub async fn create_sign_transaction_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<SignBody>,
) -> HttpResult<Response> {
    sign::<SignTransaction>(&s, caller, session, body.value).await
}
