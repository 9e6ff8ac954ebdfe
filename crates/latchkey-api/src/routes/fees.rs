//! Fee estimates (API key + `X-User-Token`): `POST /v1/w3s/transactions/transfer/estimateFee`
//! and `/contractExecution/estimateFee`. The body is planned exactly as the matching challenge
//! route plans it (same codes, same tenancy: only the token's user's wallets), then priced on
//! the wallet's chain at the three levels (`Latchkey::estimate_transfer_fee`,
//! `estimate_contract_execution_fee`). Nothing is stored and nothing is signed.

use crate::error::{ErrorBody, HttpResult};
use crate::extract::{DeveloperUser, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use latchkey_core::money::{
    EstimateContractExecutionFeeRequest, EstimateTransferFeeRequest, EstimatedFees, TransactionFee,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOf, AnyOfBuilder, ArrayBuilder, ObjectBuilder, OneOf, OneOfBuilder, Schema,
    Type,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes. The two body schemas also say which fields go together (see
/// [`which_wallet`]), so that a body the document admits is never refused as malformed.
pub fn routes() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .routes(routes!(estimate_transfer_fee))
        .routes(routes!(estimate_contract_execution_fee));
    if let Some(components) = router.get_openapi_mut().components.as_mut() {
        for (name, with_token) in [
            ("EstimateTransferFeeBody", true),
            ("EstimateContractExecutionFeeBody", false),
        ] {
            if let Some(fields) = components.schemas.remove(name) {
                let mut all = AllOfBuilder::new()
                    .item(fields)
                    .item(Schema::AnyOf(which_wallet(with_token)));
                if with_token {
                    all = all.item(Schema::OneOf(which_token()));
                }
                components
                    .schemas
                    .insert(name.to_owned(), Schema::AllOf(all.build()).into());
            }
        }
    }
    router
}

fn non_empty() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
}

/// The wallet: a non-empty `walletId`, or `sourceAddress` with `blockchain`, or (transfers)
/// `sourceAddress` with a `tokenId`, whose chain is then the wallet's. Anything else is
/// refused with code 2, so the document says it.
fn which_wallet(with_token: bool) -> AnyOf {
    let mut any = AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .property("walletId", non_empty())
                .required("walletId"),
        )
        .item(
            ObjectBuilder::new()
                .property("sourceAddress", non_empty())
                .required("sourceAddress")
                .required("blockchain"),
        );
    if with_token {
        any = any.item(
            ObjectBuilder::new()
                .property("sourceAddress", non_empty())
                .property("tokenId", non_empty())
                .required("sourceAddress")
                .required("tokenId"),
        );
    }
    any.build()
}

/// The token: a non-empty `tokenId`, or `tokenAddress` (`""`: the native coin), one of the
/// two (both non-empty is code 2; neither is 155228).
fn which_token() -> OneOf {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .property("tokenId", non_empty())
                .required("tokenId"),
        )
        .item(ObjectBuilder::new().required("tokenAddress"))
        .build()
}

/// `blockchain`: one of Circle's names (any other is code 2).
fn blockchain_name() -> utoipa::openapi::schema::Object {
    crate::paging::blockchain_names()
}

/// NFT token ids: decimal, or `0x` hex (anything else is code 2).
fn nft_token_ids() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^(0x[0-9a-fA-F]{1,64}|[0-9]{1,77})$")),
        )
        .build()
}

/// Body of `POST /v1/w3s/transactions/transfer/estimateFee` (the SDK's
/// `EstimateTransferTransactionFeeRequest`): the wallet by `walletId`, or by `sourceAddress` +
/// `blockchain`; the token by `tokenId`, or by `tokenAddress` + `blockchain` (`""`: the
/// native coin).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EstimateTransferFeeBody {
    /// The sending wallet.
    #[serde(default)]
    wallet_id: Option<String>,
    /// The sending wallet by address (with `blockchain`).
    #[serde(default)]
    source_address: Option<String>,
    /// The chain of `sourceAddress` and `tokenAddress`.
    #[serde(default)]
    #[schema(schema_with = blockchain_name)]
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
    /// Whole-unit amounts (`["0.01"]`; ERC-721: `["1"]`). Missing or empty is 155221.
    #[serde(default)]
    amounts: Option<Vec<String>>,
    /// NFT token ids (ERC-721: one; ERC-1155: one per amount), decimal or `0x` hex.
    #[serde(default)]
    #[schema(schema_with = nft_token_ids)]
    nft_token_ids: Option<Vec<String>>,
}

/// Body of `POST /v1/w3s/transactions/contractExecution/estimateFee` (the SDK's
/// `EstimateContractExecutionTransactionFeeRequest`): the wallet by `walletId`, or by
/// `sourceAddress` + `blockchain`; the call by `abiFunctionSignature` + `abiParameters`, or by
/// `callData`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EstimateContractExecutionFeeBody {
    /// The sending wallet.
    #[serde(default)]
    wallet_id: Option<String>,
    /// The sending wallet by address (with `blockchain`).
    #[serde(default)]
    source_address: Option<String>,
    /// The chain of `sourceAddress`.
    #[serde(default)]
    #[schema(schema_with = blockchain_name)]
    blockchain: Option<String>,
    /// The contract called.
    #[schema(required = true, value_type = String, min_length = 1)]
    #[serde(default)]
    contract_address: Option<String>,
    /// `burn(uint256)`; excludes `callData`.
    #[serde(default)]
    abi_function_signature: Option<String>,
    /// The signature's arguments (strings, numbers, booleans, nested arrays).
    #[serde(default)]
    abi_parameters: Option<Vec<Value>>,
    /// Raw calldata (`0x` hex, even length); excludes the ABI fields.
    #[serde(default)]
    #[schema(pattern = "^(0x([0-9a-fA-F]{2})*)?$")]
    call_data: Option<String>,
    /// Native value sent with the call, in whole units.
    #[serde(default)]
    amount: Option<String>,
}

/// `{"data": {"low", "medium", "high"}}` (Circle's `EstimateTransactionFee`).
#[derive(Debug, Serialize, ToSchema)]
pub struct EstimateFeeResponse {
    /// The envelope.
    pub data: EstimateFeeData,
}

/// The fee at each level, and for an SCA wallet Circle's ERC-4337 fields (`callGasLimit`,
/// `verificationGasLimit`, `preVerificationGas`: the UserOperation's limits; each level's
/// `gasLimit` is the sum of all its limits, the paymaster's included).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EstimateFeeData {
    /// SCA wallets: the account's execution limit (gas units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_gas_limit: Option<String>,
    /// SCA wallets: the account's validation limit, its deployment included on its first
    /// operation (gas units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_gas_limit: Option<String>,
    /// SCA wallets: the operation's calldata and the bundle's overhead (gas units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_verification_gas: Option<String>,
    /// The 10th percentile of recent tips (legacy chains: the node's gas price).
    pub low: TransactionFee,
    /// The median of recent tips (legacy chains: × 1.1).
    pub medium: TransactionFee,
    /// The 90th percentile of recent tips (legacy chains: × 1.25).
    pub high: TransactionFee,
}

impl From<EstimatedFees> for EstimateFeeResponse {
    fn from(f: EstimatedFees) -> Self {
        Self {
            data: EstimateFeeData {
                call_gas_limit: f.user_op.map(|g| g.call_gas_limit.to_string()),
                verification_gas_limit: f.user_op.map(|g| g.verification_gas_limit.to_string()),
                pre_verification_gas: f.user_op.map(|g| g.pre_verification_gas.to_string()),
                low: f.low,
                medium: f.medium,
                high: f.high,
            },
        }
    }
}

/// `POST /v1/w3s/transactions/transfer/estimateFee`.
#[utoipa::path(post, path = "/v1/w3s/transactions/transfer/estimateFee", tag = "transactions",
    operation_id = "estimateTransferFee",
    description = "The LOW/MEDIUM/HIGH fees of a transfer from one of the user's wallets: gasLimit (21000 for a native transfer to an address without code, else eth_estimateGas × 1.2), gwei prices, networkFee (gasLimit × maxFee, + l1Fee) and networkFeeRaw in native units. The wallet must hold the amount and the LOW level's fee (155204), and the tokens it sends (155205/155206); a chain without a node is 156027.",
    security(("apiKey" = [], "userToken" = [])), request_body = EstimateTransferFeeBody,
    responses(
        (status = 200, description = "The fee at each level.", body = EstimateFeeResponse),
        (status = 503, description = "The chain's node cannot be reached (code -1); nothing was done.", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn estimate_transfer_fee(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    body: JsonBody<EstimateTransferFeeBody>,
) -> HttpResult<Json<EstimateFeeResponse>> {
    let b = body.value;
    let request = EstimateTransferFeeRequest {
        wallet_id: b.wallet_id,
        source_address: b.source_address,
        blockchain: b.blockchain,
        token_id: b.token_id,
        token_address: b.token_address,
        destination_address: b.destination_address,
        amounts: b.amounts,
        nft_token_ids: b.nft_token_ids,
    };
    let fees = s.lk.estimate_transfer_fee(&session, &request).await?;
    Ok(Json(fees.into()))
}

/// `POST /v1/w3s/transactions/contractExecution/estimateFee`.
#[utoipa::path(post, path = "/v1/w3s/transactions/contractExecution/estimateFee", tag = "transactions",
    operation_id = "estimateContractExecutionFee",
    description = "The LOW/MEDIUM/HIGH fees of a contract call from one of the user's wallets (eth_estimateGas × 1.2). A call that reverts is 155208 with the reason; ABI parameters that do not pack are 155209; a chain without a node is 156027.",
    security(("apiKey" = [], "userToken" = [])), request_body = EstimateContractExecutionFeeBody,
    responses(
        (status = 200, description = "The fee at each level.", body = EstimateFeeResponse),
        (status = 503, description = "The chain's node cannot be reached (code -1); nothing was done.", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn estimate_contract_execution_fee(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    body: JsonBody<EstimateContractExecutionFeeBody>,
) -> HttpResult<Json<EstimateFeeResponse>> {
    let b = body.value;
    let request = EstimateContractExecutionFeeRequest {
        wallet_id: b.wallet_id,
        source_address: b.source_address,
        blockchain: b.blockchain,
        contract_address: b.contract_address,
        abi_function_signature: b.abi_function_signature,
        abi_parameters: b.abi_parameters,
        call_data: b.call_data,
        amount: b.amount,
    };
    let fees =
        s.lk.estimate_contract_execution_fee(&session, &request)
            .await?;
    Ok(Json(fees.into()))
}
