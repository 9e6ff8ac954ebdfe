//! Test tokens for development: `POST /v1/faucet/drips` (API key only, TEST keys only).
//! latchkey drips from a local development node (anvil with `--dev`); see
//! `latchkey_core::money::faucet`.

use crate::error::HttpResult;
use crate::extract::{Developer, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use latchkey_core::money::FaucetRequest;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(request_testnet_tokens))
}

/// Body of `POST /v1/faucet/drips` (the SDK's `FaucetRequest`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaucetDripRequest {
    /// The receiving address.
    #[schema(required = true, value_type = String)]
    #[serde(default)]
    address: Option<String>,
    /// A value of Circle's `TestnetBlockchain`.
    #[schema(required = true, schema_with = testnet_names)]
    #[serde(default)]
    blockchain: Option<String>,
    /// Send the native coin (0.01 of the ether-class coins, 0.1 AVAX, 0.2 POL).
    #[serde(default)]
    native: Option<bool>,
    /// Send 20 USDC.
    #[serde(default)]
    usdc: Option<bool>,
    /// Send EURC (not available in latchkey: 175406).
    #[serde(default)]
    eurc: Option<bool>,
}

/// `blockchain`: Circle's `TestnetBlockchain` values.
fn testnet_names() -> utoipa::openapi::schema::Object {
    use latchkey_chains::Blockchain;
    use latchkey_core::money::faucet::is_faucet_chain;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let names: Vec<&str> = Blockchain::ALL
        .iter()
        .filter(|b| is_faucet_chain(**b))
        .map(|b| b.as_str())
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

/// `POST /v1/faucet/drips`.
#[utoipa::path(post, path = "/v1/faucet/drips", tag = "faucet",
    operation_id = "requestTestnetTokens", security(("apiKey" = [])),
    request_body = FaucetDripRequest,
    responses((status = 204,
        description = "The node accepted the drip. At least one of native, usdc and eurc must \
            be true (else code 2). Only from a local development node (anvil, with --dev): \
            elsewhere, and for EURC, 175406. A LIVE key is 156006; a malformed address 155219; \
            a chain without a node 156027."),
        (status = 503, description = "The chain's node cannot be reached (code -1); retry.",
        body = crate::error::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn request_testnet_tokens(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<FaucetDripRequest>,
) -> HttpResult<StatusCode> {
    let b = body.value;
    let req = FaucetRequest {
        address: b.address,
        blockchain: b.blockchain,
        native: b.native.unwrap_or(false),
        usdc: b.usdc.unwrap_or(false),
        eurc: b.eurc.unwrap_or(false),
    };
    s.lk.request_testnet_tokens(&caller, &req).await?;
    Ok(StatusCode::NO_CONTENT)
}
