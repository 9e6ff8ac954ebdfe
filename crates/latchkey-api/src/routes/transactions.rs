//! Transactions (`/v1/w3s/transactions/…`): `validateAddress` (API key), which needs no node.
//! The history reads are in `history`, the fee estimates in `fees`.

use crate::error::HttpResult;
use crate::extract::{Developer, JsonBody};
use crate::AppState;
use axum::Json;
use latchkey_core::money::address;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(validate_address))
}

/// Body of `POST /v1/w3s/transactions/validateAddress`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ValidateAddressRequest {
    /// The address to check.
    #[schema(required = true, value_type = String)]
    address: Option<String>,
    /// A value of Circle's `Blockchain` enum.
    #[schema(required = true, schema_with = crate::paging::blockchain_names)]
    blockchain: Option<String>,
}

/// `{"data": {"isValid": bool}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidateAddressResponse {
    /// The envelope.
    pub data: ValidateAddressData,
}

/// Whether the address is valid.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidateAddressData {
    /// `true` when the address is well-formed on the blockchain (EVM: EIP-55 checksum when
    /// mixed-case; Solana: base58 of 32 bytes).
    pub is_valid: bool,
}

/// `POST /v1/w3s/transactions/validateAddress`: a format check, 200 whether or not the
/// address is valid.
#[utoipa::path(post, path = "/v1/w3s/transactions/validateAddress", tag = "transactions",
    operation_id = "validateAddress",
    security(("apiKey" = [])), request_body = ValidateAddressRequest,
    responses((status = 200, description = "Whether the address is valid on the blockchain.",
        body = ValidateAddressResponse)))]
#[tracing::instrument(skip_all)]
pub async fn validate_address(
    Developer(_): Developer,
    body: JsonBody<ValidateAddressRequest>,
) -> HttpResult<Json<ValidateAddressResponse>> {
    let b = body.value;
    let is_valid = address::validate_address(b.address.as_deref(), b.blockchain.as_deref())?;
    Ok(Json(ValidateAddressResponse {
        data: ValidateAddressData { is_valid },
    }))
}
