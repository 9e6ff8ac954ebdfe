//! [`TransactionView`]: the one serializer of Circle's `Transaction` object. `GET
//! /transactions/{id}`, the list, the lowest-nonce route and (later) the `transactions.*`
//! webhooks all build it from a [`TransactionRecord`], so the four cannot drift apart.

use super::fees::{FeeLevel, TransactionFee};
use super::transactions::{TransactionRecord, TxOperation, TxState, TxType};
use serde::Serialize;

/// Circle's `Transaction` (the SDK's field list, in its order). Absent values are left out,
/// never `null`.
///
/// Never emitted: `amountInUSD` and `networkFeeInUSD` (latchkey has no price source) and
/// `transactionScreeningEvaluation` (it does no screening).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Transaction))]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    /// Transaction id (UUID).
    pub id: String,
    /// The contract function called, e.g. `transfer(address,uint256)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abi_function_signature: Option<String>,
    /// Its parameters, as the developer gave them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<serde_json::Value>>))]
    pub abi_parameters: Option<Vec<serde_json::Value>>,
    /// Amounts in whole token units (`["0.01"]`).
    pub amounts: Vec<String>,
    /// Hash of the block holding it (from CONFIRMED on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<String>,
    /// Height of that block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_height: Option<i64>,
    /// Circle's blockchain name.
    pub blockchain: String,
    /// The contract called.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_address: Option<String>,
    /// Created (ISO-8601 UTC).
    pub create_date: String,
    /// Always `ENDUSER` (user-controlled wallets).
    pub custody_type: &'static str,
    /// Recipient (the contract, for a contract call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_address: Option<String>,
    /// Why it failed (FAILED only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    /// Detail of the failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_details: Option<String>,
    /// The fee the user approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_fee: Option<TransactionFee>,
    /// The fee level chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_level: Option<FeeLevel>,
    /// When first seen in a block (ISO-8601 UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_confirm_date: Option<String>,
    /// Fee paid, in native units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_fee: Option<String>,
    /// One JSON text per NFT, `{"nftTokenId":"7"}` (Circle's fragments also carry
    /// `metadata`, which latchkey does not record for a transaction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nfts: Option<Vec<String>>,
    /// The NFT token ids moved (seen in Circle's webhook payloads beside `nfts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nft_token_ids: Option<Vec<String>>,
    /// TRANSFER or CONTRACT_EXECUTION.
    pub operation: TxOperation,
    /// The developer's reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
    /// Sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_address: Option<String>,
    /// Where it is in its life.
    pub state: TxState,
    /// The token moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// INBOUND or OUTBOUND.
    pub transaction_type: TxType,
    /// Hash of the attempt that counts (from SENT on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<String>,
    /// Last changed (ISO-8601 UTC).
    pub update_date: String,
    /// SCA wallets: the ERC-4337 UserOperation's hash (the EntryPoint's `getUserOpHash`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_op_hash: Option<String>,
    /// The owner's userId (the developer's id, as in `Wallet.userId`).
    pub user_id: String,
    /// The wallet.
    pub wallet_id: String,
}

impl TransactionView {
    /// The wire form of `t`.
    pub fn new(t: &TransactionRecord) -> Self {
        let nfts = t.nft_token_ids.as_ref().map(|ids| {
            ids.iter()
                .map(|id| serde_json::json!({ "nftTokenId": id }).to_string())
                .collect()
        });
        Self {
            id: t.id.clone(),
            abi_function_signature: t.abi_function_signature.clone(),
            abi_parameters: t.abi_parameters.clone(),
            amounts: t.amounts.clone(),
            block_hash: t.block_hash.clone(),
            block_height: t.block_height,
            blockchain: t.blockchain.as_str().to_string(),
            contract_address: t.contract_address.clone(),
            create_date: t.created_at.iso(),
            custody_type: "ENDUSER",
            destination_address: t.destination_address.clone(),
            error_reason: t.error_reason.clone(),
            error_details: t.error_details.clone(),
            estimated_fee: t.estimated_fee.clone(),
            fee_level: t.fee_level,
            first_confirm_date: t.first_confirm_date.map(|d| d.iso()),
            network_fee: t.network_fee.clone(),
            nfts,
            nft_token_ids: t.nft_token_ids.clone(),
            operation: t.operation,
            ref_id: t.ref_id.clone(),
            source_address: t.source_address.clone(),
            state: t.state,
            token_id: t.token_id.clone(),
            transaction_type: t.tx_type,
            tx_hash: t.tx_hash.clone(),
            update_date: t.updated_at.iso(),
            user_op_hash: t.user_op_hash.clone(),
            user_id: t.user_id.clone(),
            wallet_id: t.wallet_id.clone(),
        }
    }

    /// Without `estimatedFee` and `feeLevel`: Circle's list shows them only when the query
    /// named a `txType`.
    pub fn without_fee(mut self) -> Self {
        self.estimated_fee = None;
        self.fee_level = None;
        self
    }
}
