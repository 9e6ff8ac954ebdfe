//! The end-user calls that create money challenges (API key + `X-User-Token`):
//! `POST /v1/w3s/user/transactions/transfer` (CREATE_TRANSACTION) and
//! `POST /v1/w3s/user/transactions/contractExecution` (CONTRACT_EXECUTION); the accelerate
//! and cancel calls still answer from `unimplemented`.

use crate::error::HttpResult;
use crate::extract::{DeveloperUser, JsonBody};
use crate::render::ChallengeIdResponse;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::challenge::{ChallengeSpec, ContractExecution, CreateTransaction, Idempotency};
use latchkey_core::money::{
    CreateContractExecutionRequest, CreateTransferRequest, FeeLevel, FeeRequest,
};
use latchkey_core::{ApiCaller, UserSession};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_transfer_challenge))
        .routes(routes!(create_contract_execution_challenge))
}

/// Circle's `FeeLevel`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum FeeLevelName {
    /// The 10th percentile of recent tips.
    LOW,
    /// The median of recent tips.
    MEDIUM,
    /// The 90th percentile of recent tips.
    HIGH,
}

impl From<FeeLevelName> for FeeLevel {
    fn from(l: FeeLevelName) -> Self {
        match l {
            FeeLevelName::LOW => FeeLevel::Low,
            FeeLevelName::MEDIUM => FeeLevel::Medium,
            FeeLevelName::HIGH => FeeLevel::High,
        }
    }
}

/// Body of `POST /v1/w3s/user/transactions/transfer` (the SDK's
/// `CreateTransferTransactionForEndUserRequest`): the wallet by `walletId`, or by
/// `walletAddress` + `blockchain`; the token by `tokenId`, or by `tokenAddress` +
/// `blockchain` (`""`: the native coin); `feeLevel`, or `gasLimit` with `maxFee` +
/// `priorityFee` (EIP-1559 chains) or `gasPrice` (other chains). Fees are gwei strings.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTransferTransactionRequest {
    /// A UUID: the same key and body again return the first challenge.
    #[schema(required = true, value_type = String, format = "uuid", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    idempotency_key: Option<String>,
    /// The sending wallet.
    #[serde(default)]
    wallet_id: Option<String>,
    /// The sending wallet by address (with `blockchain`).
    #[serde(default)]
    wallet_address: Option<String>,
    /// The chain of `walletAddress` and `tokenAddress` (Circle's name).
    #[schema(schema_with = crate::paging::blockchain_names)]
    #[serde(default)]
    blockchain: Option<String>,
    /// The token's id.
    #[serde(default)]
    token_id: Option<String>,
    /// The token's contract address (`""`: the native coin).
    #[serde(default)]
    token_address: Option<String>,
    /// The recipient.
    #[schema(required = true, value_type = String, min_length = 1)]
    #[serde(default)]
    destination_address: Option<String>,
    /// Whole-unit amounts (`["0.01"]`).
    #[serde(default)]
    amounts: Option<Vec<String>>,
    /// NFT token ids.
    #[serde(default)]
    nft_token_ids: Option<Vec<String>>,
    /// The developer's reference.
    #[serde(default)]
    ref_id: Option<String>,
    /// LOW, MEDIUM or HIGH.
    #[serde(default)]
    fee_level: Option<FeeLevelName>,
    /// Gas units (a whole number).
    #[serde(default)]
    gas_limit: Option<String>,
    /// Gwei per gas (chains without EIP-1559).
    #[serde(default)]
    gas_price: Option<String>,
    /// Gwei per gas (EIP-1559).
    #[serde(default)]
    max_fee: Option<String>,
    /// Gwei per gas (EIP-1559).
    #[serde(default)]
    priority_fee: Option<String>,
}

/// `POST /v1/w3s/user/transactions/transfer`.
#[utoipa::path(post, path = "/v1/w3s/user/transactions/transfer", tag = "user", operation_id = "createTransaction",
    description = "CREATE_TRANSACTION: a transfer from one of the user's wallets, approved with \
        the PIN. The wallet is named by `walletId`, or by `walletAddress` and `blockchain`; the \
        token by `tokenId`, or by `tokenAddress` and `blockchain`: other combinations are \
        refused with code 2 (\"walletId, or walletAddress and blockchain, is required\"), \
        rules between fields that a schema of each field cannot state.",
    security(("apiKey" = [], "userToken" = [])), request_body = CreateTransferTransactionRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_transfer_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<CreateTransferTransactionRequest>,
) -> HttpResult<Response> {
    let b = body.value;
    let request = CreateTransferRequest {
        wallet_id: b.wallet_id,
        wallet_address: b.wallet_address,
        blockchain: b.blockchain,
        token_id: b.token_id,
        token_address: b.token_address,
        destination_address: b.destination_address,
        amounts: b.amounts,
        nft_token_ids: b.nft_token_ids,
        ref_id: b.ref_id,
        fee: FeeRequest {
            fee_level: b.fee_level.map(FeeLevel::from),
            gas_limit: b.gas_limit,
            gas_price: b.gas_price,
            max_fee: b.max_fee,
            priority_fee: b.priority_fee,
        },
    };
    create::<CreateTransaction>(&s, &caller, &session, b.idempotency_key, request).await
}

/// Body of `POST /v1/w3s/user/transactions/contractExecution` (the SDK's
/// `CreateContractExecutionTransactionForEndUserRequest`): the wallet by `walletId`, or by
/// `walletAddress` + `blockchain`; the call by `abiFunctionSignature` + `abiParameters`, or
/// by `callData` (not both); `amount`, the native value sent with it; fees as for a transfer.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateContractExecutionTransactionRequest {
    /// A UUID: the same key and body again return the first challenge.
    #[schema(required = true, value_type = String, format = "uuid", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    idempotency_key: Option<String>,
    /// The sending wallet.
    #[serde(default)]
    wallet_id: Option<String>,
    /// The sending wallet by address (with `blockchain`).
    #[serde(default)]
    wallet_address: Option<String>,
    /// The chain of `walletAddress` (Circle's name).
    #[schema(schema_with = crate::paging::blockchain_names)]
    #[serde(default)]
    blockchain: Option<String>,
    /// The contract called.
    #[schema(required = true, value_type = String, min_length = 1)]
    #[serde(default)]
    contract_address: Option<String>,
    /// The function, as `name(type,...)` (`transfer(address,uint256)`); excludes `callData`.
    #[serde(default)]
    abi_function_signature: Option<String>,
    /// The function's arguments: strings, numbers, booleans or arrays of them.
    #[serde(default)]
    abi_parameters: Option<Vec<Value>>,
    /// Raw calldata, `0x` and an even number of hex digits; excludes the ABI fields.
    #[serde(default)]
    call_data: Option<String>,
    /// Native value sent with the call, in whole units (`"0.01"`).
    #[serde(default)]
    amount: Option<String>,
    /// The developer's reference.
    #[serde(default)]
    ref_id: Option<String>,
    /// LOW, MEDIUM or HIGH.
    #[serde(default)]
    fee_level: Option<FeeLevelName>,
    /// Gas units (a whole number).
    #[serde(default)]
    gas_limit: Option<String>,
    /// Gwei per gas (chains without EIP-1559).
    #[serde(default)]
    gas_price: Option<String>,
    /// Gwei per gas (EIP-1559).
    #[serde(default)]
    max_fee: Option<String>,
    /// Gwei per gas (EIP-1559).
    #[serde(default)]
    priority_fee: Option<String>,
}

/// `POST /v1/w3s/user/transactions/contractExecution`.
#[utoipa::path(post, path = "/v1/w3s/user/transactions/contractExecution", tag = "user",
    operation_id = "createUserTransactionContractExecutionChallenge",
    description = "CONTRACT_EXECUTION: a contract call from one of the user's wallets, approved with the PIN. A call the node's estimate says reverts is refused (155208).",
    security(("apiKey" = [], "userToken" = [])), request_body = CreateContractExecutionTransactionRequest,
    responses(
        (status = 201, description = "The new challenge.", body = ChallengeIdResponse),
        (status = 200, description = "The same idempotency key and request again: the first challenge.", body = ChallengeIdResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_contract_execution_challenge(
    State(s): State<AppState>,
    DeveloperUser(caller, session): DeveloperUser,
    body: JsonBody<CreateContractExecutionTransactionRequest>,
) -> HttpResult<Response> {
    let b = body.value;
    let request = CreateContractExecutionRequest {
        wallet_id: b.wallet_id,
        wallet_address: b.wallet_address,
        blockchain: b.blockchain,
        contract_address: b.contract_address,
        abi_function_signature: b.abi_function_signature,
        abi_parameters: b.abi_parameters,
        call_data: b.call_data,
        amount: b.amount,
        ref_id: b.ref_id,
        fee: FeeRequest {
            fee_level: b.fee_level.map(FeeLevel::from),
            gas_limit: b.gas_limit,
            gas_price: b.gas_price,
            max_fee: b.max_fee,
            priority_fee: b.priority_fee,
        },
    };
    create::<ContractExecution>(&s, &caller, &session, b.idempotency_key, request).await
}

/// Creates (or replays) a money challenge: 201 when new, 200 for the same key and body.
async fn create<S: ChallengeSpec>(
    s: &AppState,
    caller: &ApiCaller,
    session: &UserSession,
    idempotency_key: Option<String>,
    request: S::Request,
) -> HttpResult<Response> {
    let key = Idempotency::Key(idempotency_key.as_deref());
    let (id, replayed) =
        s.lk.create_challenge::<S>(caller, session, request, key)
            .await?;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(ChallengeIdResponse::new(id))).into_response())
}
