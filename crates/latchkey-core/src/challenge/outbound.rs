//! Executing an approved outbound transaction (CREATE_TRANSACTION, and the contract-execution,
//! accelerate and cancel types as they land): the only place a wallet key signs something
//! that latchkey itself broadcasts.
//!
//! The order is the custody and crash story (docs/transactions.md):
//! 1. **Preflight**, before the PIN, chain reads only: the wallet's nonces, the fee level's
//!    fresh prices, the native balance. An unreachable node answers 503 and the challenge stays
//!    open with no guess counted.
//! 2. **PIN**: a wrong PIN stops here and nothing about the transaction is written.
//! 3. A wallet that can no longer pay is written as a FAILED transaction
//!    (`INSUFFICIENT_NATIVE_TOKEN`) with the completed challenge: the user approved, the
//!    operation failed, as Circle reports it.
//! 4. **Nonce**: reserved in the database for this challenge (a re-execution gets it back).
//! 5. **Sign** in memory with a zeroizing secret, at a fee no higher than the one shown.
//! 6. **Commit**: the challenge completes with the transaction (INITIATED), its signed attempt
//!    and the nonce claim marked USED, in one database transaction. Nothing is broadcast before
//!    it: the engine sends only stored bytes.

use super::execution::{Completion, Execution};
use super::signing::{self, PinInput};
use crate::clock::Timestamp;
use crate::error::ApiError;
use crate::model::ChallengeType;
use crate::model::UserRecord;
use crate::money::engine::transaction_notification;
use crate::money::estimate::{fee_levels, node_unavailable};
use crate::money::fees::capped;
use crate::money::quote::quote;
use crate::money::quote::Quote;
use crate::money::user_op::sca_quote;
use crate::money::{
    AttemptKind, AttemptRecord, AttemptStatus, BlockTag, Chain, ChainNonces, FeeCap, FeeChoice,
    FeeRequest, GasPricing, NodeError, OutboundCall, OutboundWrite, TokenDebit, TransactionFee,
    TransactionRecord, TxOperation, TxState, TxType,
};
use crate::service::store_failed;
use crate::store::ChallengeCommit;
use latchkey_chains::{Address, Blockchain, EvmFee, UnsignedEvmTx, U256};
use serde_json::json;

/// An approved transaction, as its challenge describes it.
pub(crate) struct Approved<'a> {
    /// The challenge type (for the audit entry).
    pub kind: ChallengeType,
    /// SCA wallets: the account's owner; the approval is then a UserOperation
    /// ([`super::sca_outbound`]).
    pub sca_owner: Option<Address>,
    /// The call to sign.
    pub call: &'a OutboundCall,
    /// How it pays for gas, as requested.
    pub fee: &'a FeeChoice,
    /// The price the user approved (the signing cap).
    pub quote: &'a Quote,
    /// The transaction to write: every descriptive field filled by the challenge type
    /// (id, wallet, chain, operation, token, amounts, addresses, fee level, estimated fee);
    /// state, nonce, challenge and times are set here.
    pub record: TransactionRecord,
}

/// A new OUTBOUND transaction of `user` for an approved challenge, with the fee the user
/// approved (`feeLevel` for a level, and the estimate of the quote). `execute` sets the rest
/// of its life (nonce, challenge, times); the challenge type fills in what it moves.
pub(crate) fn approved_record(
    id: &str,
    user: &UserRecord,
    wallet_id: &str,
    blockchain: Blockchain,
    operation: TxOperation,
    fee: &FeeChoice,
    quote: &Quote,
) -> TransactionRecord {
    let mut t = TransactionRecord::new(
        id.to_owned(),
        user,
        wallet_id.to_owned(),
        blockchain,
        TxType::Outbound,
        operation,
        Timestamp(0),
    );
    t.fee_level = match *fee {
        FeeChoice::Level { level, .. } => Some(level),
        _ => None,
    };
    t.estimated_fee = Some(TransactionFee::estimate(
        &quote.pricing,
        quote.gas_limit,
        quote.gas_limit,
        quote.l1_fee.as_deref().and_then(|wei| wei.parse().ok()),
        blockchain.native_decimals(),
    ));
    t
}

/// The fee choice and the quote of a new outbound challenge, with the checks that come
/// before them: the chain has a node (156027), the wallet has room (155264); for an SCA
/// wallet `feeLevel` only (155232), a gas station (155509), no operation in flight (155505),
/// the UserOperation's quote and the entity's sponsorship policy (177018–177022); for an EOA
/// the fee rules and the quote.
#[allow(clippy::too_many_arguments)] // one call per challenge type; a struct would only rename them
pub(crate) async fn price(
    lk: &crate::service::Latchkey,
    entity_id: &str,
    wallet_id: &str,
    blockchain: Blockchain,
    sca_owner: Option<Address>,
    call: &OutboundCall,
    debit: &TokenDebit,
    request: &FeeRequest,
) -> Result<(FeeChoice, Quote), ApiError> {
    let chain = lk.chains().require(blockchain)?;
    lk.ensure_pending_room(wallet_id).await?;
    let cap = FeeCap::one_token(blockchain.native_decimals());
    match sca_owner {
        Some(owner) => {
            let fee = request.validate_sca()?;
            chain.require_gas_station()?;
            lk.ensure_no_operation_pending(wallet_id).await?;
            let (quote, deployed) = sca_quote(chain, owner, call, debit, &fee, cap).await?;
            let worst_case = U256::from(quote.gas_limit) * U256::from(quote.pricing.max_per_gas());
            lk.sponsorship(entity_id, blockchain, worst_case, !deployed)
                .await?
                .map_err(|refused| refused.error())?;
            Ok((fee, quote))
        }
        None => {
            let fee = request.validate(chain.info.eip1559, cap)?;
            let quote = quote(chain, call, debit, &fee, cap).await?;
            Ok((fee, quote))
        }
    }
}

/// Sets what every approved transaction gets at execution: its challenge, times and the
/// challenge's correlation id.
pub(crate) fn stamp(
    run: &Execution<'_>,
    record: &mut TransactionRecord,
    commit: &mut ChallengeCommit,
) {
    let now = commit.now;
    record.challenge_id = Some(run.challenge.id.clone());
    record.created_at = now;
    record.updated_at = now;
    record.next_check_at = now;
    commit.correlation_ids = vec![record.id.clone()];
}

/// The completion of an approved challenge whose transaction cannot be sent any more (step 3
/// of the module doc): the challenge COMPLETE, the transaction FAILED with Circle's `reason`
/// and `details`, its webhook, nothing signed. `record` is stamped already.
pub(crate) fn failed_after_approval(
    run: &Execution<'_>,
    mut record: TransactionRecord,
    mut commit: ChallengeCommit,
    reason: &str,
    details: String,
) -> Completion {
    record.state = TxState::Failed;
    record.error_reason = Some(reason.to_owned());
    record.error_details = Some(details);
    commit.audit.push(run.audit(
        "transaction.failed",
        json!({ "transactionId": record.id, "errorReason": reason }),
        commit.now,
    ));
    let notification = Some(transaction_notification(&record, run.user().environment));
    commit.outbound = Some(OutboundWrite::New {
        transaction: record,
        attempt: None,
        claimed_nonce: None,
        notification,
    });
    Completion::new(commit)
}

/// Runs steps 1–6 of the module doc for `approved`.
pub(crate) async fn execute(
    run: &Execution<'_>,
    approved: Approved<'_>,
    input: PinInput,
) -> Result<Completion, ApiError> {
    if approved.sca_owner.is_some() {
        return super::sca_outbound::execute(run, approved, input).await;
    }
    let lk = run.lk();
    let blockchain = approved.record.blockchain;
    let chain = lk.chains().require(blockchain)?;
    let pre = preflight(chain, &approved).await?;

    let wrap = run.pin_wrap()?;
    let wallet = run.user_wallet(&approved.record.wallet_id).await?;
    // Refused at creation already; never sign an EOA transaction with an SCA's owner key.
    if wallet.is_sca() {
        return Err(signing::sca_refused("a transfer or contract execution"));
    }
    let (user_key, mut commit) = run.authorize_wallet_operation(wrap, &input.pin).await?;
    let now = commit.now;
    let mut record = approved.record;
    stamp(run, &mut record, &mut commit);

    let cost = U256::from(approved.quote.gas_limit) * U256::from(pre.fee.max_per_gas())
        + U256::from(l1_fee(approved.quote));
    if pre.balance < approved.call.value.saturating_add(cost) {
        return Ok(failed_after_approval(
            run,
            record,
            commit,
            "INSUFFICIENT_NATIVE_TOKEN",
            "the wallet's native balance no longer covers the amount and the network fee".into(),
        ));
    }

    let nonce = lk
        .store
        .reserve_nonce(&wallet.id, &run.challenge.id, pre.nonces, now)
        .await
        .map_err(store_failed)?;
    let unsigned = UnsignedEvmTx {
        chain_id: chain.info.chain_id,
        nonce,
        to: approved.call.to,
        value: approved.call.value,
        data: approved.call.data.clone(),
        gas_limit: approved.quote.gas_limit,
        fee: evm_fee(pre.fee),
    };
    let signed = {
        let secret = signing::wallet_secret(&user_key, &wallet)?;
        signing::signed(latchkey_chains::sign_evm_tx(&secret, &unsigned))?
    };
    let raw = hex::decode(signed.signed_transaction.trim_start_matches("0x"))
        .map_err(|_| ApiError::internal())?;
    record.nonce = Some(i64::try_from(nonce).map_err(|_| ApiError::internal())?);
    let (max_fee, priority_fee, gas_price) =
        crate::money::outbound::fee_columns(&pre.fee.evm_fee());
    let attempt = AttemptRecord {
        id: uuid::Uuid::new_v4().to_string(),
        transaction_id: record.id.clone(),
        kind: AttemptKind::Original,
        challenge_id: run.challenge.id.clone(),
        nonce,
        raw,
        tx_hash: signed.tx_hash,
        gas_limit: approved.quote.gas_limit,
        max_fee,
        priority_fee,
        gas_price,
        status: AttemptStatus::Stored,
        last_error: None,
        broadcasts: 0,
        last_broadcast_at: None,
        created_at: now,
        recent_blockhash: None,
        last_valid_block_height: None,
    };
    commit.audit.push(run.audit(
        "wallet.signed",
        json!({
            "walletId": wallet.id,
            "type": approved.kind.as_str(),
            "transactionId": record.id,
            "nonce": nonce,
        }),
        now,
    ));
    commit.outbound = Some(OutboundWrite::New {
        transaction: record,
        attempt: Some(attempt),
        claimed_nonce: Some(nonce),
        notification: None,
    });
    Ok(Completion::new(commit))
}

/// What the chain said before the PIN was asked.
struct Preflight {
    nonces: ChainNonces,
    balance: U256,
    /// The price per gas to sign with (never above the approved cap).
    fee: GasPricing,
}

async fn preflight(chain: &Chain, approved: &Approved<'_>) -> Result<Preflight, ApiError> {
    let node = chain.node.as_ref();
    let from = approved.call.from;
    let down = |_: NodeError| node_unavailable(chain.info.blockchain);
    let latest = node.nonce(from, BlockTag::Latest).await.map_err(down)?;
    let pending = node.nonce(from, BlockTag::Pending).await.map_err(down)?;
    let balance = node.balance(from, BlockTag::Latest).await.map_err(down)?;
    let cap = approved.quote.pricing;
    let fee = match *approved.fee {
        FeeChoice::Level { level, .. } => capped(fee_levels(chain).await?.level(level), cap),
        FeeChoice::Eip1559 { .. } | FeeChoice::Legacy { .. } => cap,
    };
    Ok(Preflight {
        nonces: ChainNonces {
            latest,
            pending: pending.max(latest),
        },
        balance,
        fee,
    })
}

fn evm_fee(pricing: GasPricing) -> EvmFee {
    match pricing {
        GasPricing::Eip1559 {
            priority_fee,
            max_fee,
            ..
        } => EvmFee::Eip1559 {
            max_fee,
            max_priority: priority_fee.min(max_fee),
        },
        GasPricing::Legacy { gas_price } => EvmFee::Legacy { gas_price },
    }
}

fn l1_fee(quote: &Quote) -> u128 {
    quote
        .l1_fee
        .as_deref()
        .and_then(|wei| wei.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_level_is_capped_by_the_approved_price() {
        let cap = GasPricing::Eip1559 {
            base_fee: 10,
            priority_fee: 2,
            max_fee: 22,
        };
        let higher = GasPricing::Eip1559 {
            base_fee: 30,
            priority_fee: 5,
            max_fee: 65,
        };
        assert_eq!(
            capped(higher, cap),
            GasPricing::Eip1559 {
                base_fee: 30,
                priority_fee: 2,
                max_fee: 22
            }
        );
        let lower = GasPricing::Eip1559 {
            base_fee: 5,
            priority_fee: 1,
            max_fee: 11,
        };
        assert_eq!(capped(lower, cap), lower);
        assert_eq!(
            capped(
                GasPricing::Legacy { gas_price: 9 },
                GasPricing::Legacy { gas_price: 7 }
            ),
            GasPricing::Legacy { gas_price: 7 }
        );
    }
}
