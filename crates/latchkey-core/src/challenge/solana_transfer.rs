//! CREATE_TRANSACTION on Solana: the challenge's creation (plan, fee level, the planner's
//! checks with Circle's codes, what is shown) and its execution after the PIN.
//!
//! Execution differs from EVM's (`outbound.rs`) where the chain differs: there is no nonce to
//! reserve, and a signature is valid only while its blockhash is (~60–90 s). So the
//! `confirmed` blockhash is read right before the PIN is checked (an unreachable node answers
//! 503 with no guess counted), the approved plan is signed under it, and the signed bytes
//! with the blockhash's `lastValidBlockHeight` are committed with the challenge's COMPLETE in
//! one database transaction. The engine only ever sends those bytes: a resend carries the
//! same signature, and the runtime processes a signature once, so a crash never sends twice.

use super::create_transaction::TransferView;
use super::execution::{Completion, Execution};
use super::signing::{self, PinInput};
use crate::error::ApiError;
use crate::model::{ChallengeType, UserRecord};
use crate::money::estimate::node_unavailable;
use crate::money::solana_plan::{self, SolanaTransferPlan};
use crate::money::{
    AttemptKind, AttemptRecord, AttemptStatus, FeeLevel, FeeRequest, OutboundWrite, SolanaQuote,
    TransactionRecord, TxOperation, TxType,
};
use crate::service::Latchkey;
use latchkey_chains::{format_units, U256};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A Solana transfer's challenge payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolanaTransferPayload {
    /// The id the transaction gets when the PIN approves it (reserved now).
    pub transaction_id: String,
    /// The transfer.
    pub plan: SolanaTransferPlan,
    /// The fee level asked for.
    pub fee_level: FeeLevel,
    /// The planned transaction the PIN approves (compute budget, account creation, cost).
    pub quote: SolanaQuote,
    /// What the user is shown.
    pub shown: TransferView,
}

/// The challenge's creation for a Solana plan.
pub(super) async fn prepare(
    lk: &Latchkey,
    plan: SolanaTransferPlan,
    fee: &FeeRequest,
) -> Result<SolanaTransferPayload, ApiError> {
    let level = solana_plan::fee_level(fee)?;
    let chain = lk.chains().require_solana(plan.blockchain)?;
    lk.ensure_pending_room(&plan.wallet_id).await?;
    let quote = solana_plan::quote(chain, &plan, level).await?;
    let note = quote.creates_recipient_account.then(|| {
        format!(
            "creates the recipient's {} account (rent {} SOL)",
            plan.token.symbol.as_deref().unwrap_or("token"),
            format_units(U256::from(quote.rent_lamports), 9)
        )
    });
    let shown = TransferView {
        wallet_id: plan.wallet_id.clone(),
        blockchain: plan.blockchain.as_str().to_owned(),
        from: plan.transfer.from.clone(),
        to: plan.destination_address.clone(),
        amounts: plan.amounts.clone(),
        token: plan.token.clone(),
        nft_token_ids: Vec::new(),
        fee: solana_plan::shown(level, &quote),
        note,
    };
    Ok(SolanaTransferPayload {
        transaction_id: uuid::Uuid::new_v4().to_string(),
        plan,
        fee_level: level,
        quote,
        shown,
    })
}

impl SolanaTransferPayload {
    /// The transaction this transfer writes once approved.
    fn record(&self, user: &UserRecord) -> TransactionRecord {
        let plan = &self.plan;
        let mut t = TransactionRecord::new(
            self.transaction_id.clone(),
            user,
            plan.wallet_id.clone(),
            plan.blockchain,
            TxType::Outbound,
            TxOperation::Transfer,
            crate::clock::Timestamp(0),
        );
        t.fee_level = Some(self.fee_level);
        t.estimated_fee = Some(solana_plan::transaction_fee(&self.quote));
        t.token_id = Some(plan.token.id.clone());
        t.amounts = plan.amounts.clone();
        t.source_address = Some(plan.transfer.from.clone());
        t.destination_address = Some(plan.destination_address.clone());
        t.contract_address = plan.token.address.clone();
        t.ref_id = plan.ref_id.clone();
        t
    }
}

/// After the PIN: sign under a fresh blockhash and commit the bytes with the challenge.
pub(super) async fn execute(
    run: &Execution<'_>,
    payload: &SolanaTransferPayload,
    input: PinInput,
) -> Result<Completion, ApiError> {
    let lk = run.lk();
    let blockchain = payload.plan.blockchain;
    let chain = lk.chains().require_solana(blockchain)?;
    let blockhash = chain
        .node
        .latest_blockhash()
        .await
        .map_err(|_| node_unavailable(blockchain))?;

    let wrap = run.pin_wrap()?;
    let user = run.user();
    let wallet = run.user_wallet(&payload.plan.wallet_id).await?;
    let (user_key, mut commit) = run.authorize_wallet_operation(wrap, &input.pin).await?;
    let now = commit.now;
    let mut record = payload.record(user);
    record.challenge_id = Some(run.challenge.id.clone());
    record.created_at = now;
    record.updated_at = now;
    record.next_check_at = now;
    commit.correlation_ids = vec![record.id.clone()];

    let signed = {
        let secret = signing::wallet_secret(&user_key, &wallet)?;
        chain
            .node
            .sign_transfer(
                &payload.plan.transfer,
                &payload.quote,
                &blockhash.hash,
                &secret,
            )
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot sign a Solana transfer");
                ApiError::internal()
            })?
    };
    let attempt = AttemptRecord {
        id: uuid::Uuid::new_v4().to_string(),
        transaction_id: record.id.clone(),
        kind: AttemptKind::Original,
        challenge_id: run.challenge.id.clone(),
        nonce: 0,
        raw: signed.raw,
        tx_hash: signed.signature,
        gas_limit: u64::from(payload.quote.unit_limit),
        max_fee: None,
        priority_fee: Some(u128::from(payload.quote.unit_price)),
        gas_price: None,
        status: AttemptStatus::Stored,
        last_error: None,
        broadcasts: 0,
        last_broadcast_at: None,
        created_at: now,
        recent_blockhash: Some(blockhash.hash),
        last_valid_block_height: Some(blockhash.last_valid_block_height),
    };
    commit.audit.push(run.audit(
        "wallet.signed",
        json!({
            "walletId": wallet.id,
            "type": ChallengeType::CreateTransaction.as_str(),
            "transactionId": record.id,
            "lastValidBlockHeight": blockhash.last_valid_block_height,
        }),
        now,
    ));
    commit.outbound = Some(OutboundWrite::New {
        transaction: record,
        attempt: Some(attempt),
        claimed_nonce: None,
        notification: None,
    });
    Ok(Completion::new(commit))
}
