//! End-user endpoints called by the developer's backend (API key + `X-User-Token`): the
//! user's status, and the calls that create challenges.

use crate::error::HttpResult;
use crate::extract::{DeveloperUser, JsonBody};
use crate::paging;
use crate::render;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::model::{ChallengeStatus, ChallengeType};
use latchkey_core::rules;
use latchkey_core::store::IdempotencyClaim;
use latchkey_core::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

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
    Ok((status, Json(json!({ "data": { "challengeId": id } }))).into_response())
}

/// `POST /v1/w3s/user/initialize`.
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

async fn sign(
    s: &AppState,
    session: latchkey_core::UserSession,
    kind: ChallengeType,
    body: SignBody,
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
    Ok((
        StatusCode::CREATED,
        Json(json!({ "data": { "challengeId": id } })),
    )
        .into_response())
}

/// `POST /v1/w3s/user/sign/message`.
pub async fn create_sign_message_challenge(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    body: JsonBody<SignBody>,
) -> HttpResult<Response> {
    sign(&s, session, ChallengeType::SignMessage, body.value).await
}

/// `POST /v1/w3s/user/sign/typedData`.
pub async fn create_sign_typed_data_challenge(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    body: JsonBody<SignBody>,
) -> HttpResult<Response> {
    sign(&s, session, ChallengeType::SignTypedData, body.value).await
}

/// `POST /v1/w3s/user/sign/transaction`.
pub async fn create_sign_transaction_challenge(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    body: JsonBody<SignBody>,
) -> HttpResult<Response> {
    sign(&s, session, ChallengeType::SignTransaction, body.value).await
}
