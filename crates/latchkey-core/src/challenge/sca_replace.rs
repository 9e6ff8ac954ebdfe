//! Accelerate and cancel of an SCA wallet's transaction (docs/sca.md#accelerate-and-cancel).
//! Its operation goes on chain inside a `handleOps` bundle that the chain's gas station signs
//! at a station nonce, so what a replacement replaces is that bundle: the same station nonce,
//! a higher fee (the EOA rule of [`super::replace_transaction`]), stored as an attempt before
//! anything is sent.
//!
//! - **Accelerate**: the same bundle (the same operation, its owner's and paymaster's
//!   signatures untouched) signed again by the station at the higher fee. The wallet key signs
//!   nothing; the PIN is still asked, as Circle's challenge is.
//! - **Cancel**: a station self-send would free the station's nonce, not the account's: the
//!   signed operation was public inside the first bundle and stays valid for its hour, so
//!   anyone could still bundle it. A cancel is a second operation of the account at the
//!   **same account nonce** that does nothing (`executeUserOp(account, 0, "")`: the Safe calls
//!   itself without value or data; with the original's `initCode` when it had one, so it
//!   deploys the account as the original would have), sponsored by the paymaster and signed by
//!   the wallet key (which the PIN opens), bundled by the station at the stuck bundle's nonce.
//!   Once it is mined the account's nonce is spent and the original can never run: CANCELLED.
//!   If the original's bundle is mined first, the cancel's (same station nonce) cannot be.

use super::execution::Execution;
use super::signing;
use crate::crypto::SecretKey;
use crate::error::{codes, ApiError};
use crate::model::WalletRecord;
use crate::money::engine::BUNDLE_OVERHEAD_GAS;
use crate::money::estimate::node_unavailable;
use crate::money::fees::NATIVE_TRANSFER_GAS;
use crate::money::plan::OutboundCall;
use crate::money::user_op::{decode_packed, l1_share, op_gas, OpGas};
use crate::money::{
    AttemptKind, AttemptRecord, BlockTag, CallRequest, Chain, GasPricing, GasStation, NodeError,
    TransactionRecord,
};
use crate::service::{store_failed, Latchkey};
use alloy_primitives::aliases::U192;
use latchkey_chains::sca::{self, Operation, PackedUserOperation, PaymasterFields, UserOperation};
use latchkey_chains::{Address, UnsignedEvmTx, U256};

/// Gas of the cancel's inner call before `op_gas`'s margin: the Safe calling itself with no
/// value and no data (its `receive`, one event) spends less than a plain transfer's 21 000.
const NO_OP_CALL_GAS: u64 = NATIVE_TRANSFER_GAS;

/// The signed operation an SCA transaction carries (its `USER_OPERATION` attempt).
fn original_op(attempts: &[AttemptRecord]) -> Result<PackedUserOperation, ApiError> {
    attempts
        .iter()
        .find(|a| a.kind == AttemptKind::UserOperation)
        .and_then(|a| decode_packed(&a.raw))
        .ok_or_else(|| {
            tracing::error!("an SCA transaction without a stored UserOperation that decodes");
            ApiError::internal()
        })
}

/// The cancel's call: the account to itself, no value, no data.
fn no_op_call(account: Address) -> OutboundCall {
    OutboundCall {
        from: account,
        to: account,
        value: U256::ZERO,
        data: Vec::new(),
    }
}

/// The owner of an SCA wallet (its key's own address).
fn owner(wallet: &WalletRecord) -> Result<Address, ApiError> {
    wallet
        .owner_address
        .as_deref()
        .and_then(|a| a.parse().ok())
        .ok_or_else(ApiError::internal)
}

/// At creation: the chain's station (155509 without one) and the replacement's gas: an
/// acceleration keeps the bundle's; a cancel's bundle carries the no-op operation (the
/// deployment's verification limit if the original deploys the account; on an OP-stack chain
/// the bundle's L1 data fee at `pricing` in its `preVerificationGas`, as an operation's),
/// whose limits are returned too.
pub(super) async fn prepare(
    lk: &Latchkey,
    t: &TransactionRecord,
    wallet: &WalletRecord,
    cancel: bool,
    bundle_gas: u64,
    pricing: GasPricing,
) -> Result<(u64, Option<OpGas>), ApiError> {
    let chain = lk.chains().require(t.blockchain)?;
    chain.require_gas_station()?;
    if !cancel {
        return Ok((bundle_gas, None));
    }
    let attempts = lk.store.attempts(&t.id).await.map_err(store_failed)?;
    let op = original_op(&attempts)?;
    let owner = owner(wallet)?;
    let call = no_op_call(op.sender);
    let deployed = op.initCode.is_empty();
    let mut gas = op_gas(owner, &call, NO_OP_CALL_GAS, deployed);
    gas.pre_verification_gas += l1_share(chain, owner, &call, deployed, &gas, &pricing).await?;
    Ok((gas.total().saturating_add(BUNDLE_OVERHEAD_GAS), Some(gas)))
}

/// What a cancel reads from the chain before the PIN.
pub(super) struct CancelPreflight {
    op: PackedUserOperation,
    /// The chain's time (the signatures' window starts here).
    chain_now: u64,
}

/// Before the PIN: the bundle `old` to replace must be the station's own (a station key
/// changed since cannot sign at its nonce: 155229); for a cancel, chain reads: the account's
/// nonce must still be the operation's (else it already ran, or its nonce is spent: 155229)
/// and the chain's time.
pub(super) async fn preflight(
    lk: &Latchkey,
    t: &TransactionRecord,
    attempts: &[AttemptRecord],
    old: &AttemptRecord,
    cancel: bool,
) -> Result<Option<CancelPreflight>, ApiError> {
    let chain = lk.chains().require(t.blockchain)?;
    let station = chain.require_gas_station()?;
    let sender =
        latchkey_chains::recover_evm_transaction_sender(&format!("0x{}", hex::encode(&old.raw)))
            .ok()
            .and_then(|a| a.parse::<Address>().ok());
    if sender != Some(station.station.address()) {
        tracing::warn!(
            transaction = %t.id,
            "the bundle to replace is not signed by the chain's gas station key now configured; \
             it cannot be replaced at its nonce"
        );
        return Err(codes::TRANSACTION_NOT_ELIGIBLE);
    }
    if !cancel {
        return Ok(None);
    }
    let op = original_op(attempts)?;
    let node = chain.node.as_ref();
    let down = |_: NodeError| node_unavailable(t.blockchain);
    let limbs = op.nonce.as_limbs();
    let key = U192::from_limbs([limbs[1], limbs[2], limbs[3]]);
    let ret = node
        .call(&CallRequest {
            to: Some(station.entry_point),
            data: sca::get_nonce_call(op.sender, key),
            ..CallRequest::default()
        })
        .await
        .map_err(down)?;
    let now = latchkey_chains::erc::decode_uint(&ret).ok_or_else(ApiError::internal)?;
    if now != op.nonce {
        return Err(codes::TRANSACTION_NOT_ELIGIBLE);
    }
    let chain_now = node
        .block(BlockTag::Latest, false)
        .await
        .map_err(down)?
        .map(|b| b.timestamp)
        .ok_or_else(|| node_unavailable(t.blockchain))?;
    Ok(Some(CancelPreflight { op, chain_now }))
}

/// The cancel's operation, sponsored and signed: the paymaster signer first
/// (`paymasterAndData` is part of what the owner signs), then the wallet key; both valid for
/// as long as an operation's.
fn signed_no_op(
    chain: &Chain,
    station: &GasStation,
    pre: &CancelPreflight,
    gas: &OpGas,
    pricing: GasPricing,
    secret: &[u8],
) -> Result<PackedUserOperation, ApiError> {
    let original = &pre.op;
    let (factory, factory_data) = if original.initCode.len() >= 20 {
        (
            Some(Address::from_slice(&original.initCode[..20])),
            original.initCode[20..].to_vec(),
        )
    } else {
        (None, Vec::new())
    };
    let (max_fee, priority_fee) = pricing.user_op_fees();
    let mut op = UserOperation {
        sender: original.sender,
        nonce: original.nonce,
        factory,
        factory_data,
        call_data: sca::execute_user_op_call(original.sender, U256::ZERO, &[], Operation::Call),
        call_gas_limit: gas.call_gas_limit,
        verification_gas_limit: gas.verification_gas_limit,
        pre_verification_gas: U256::from(gas.pre_verification_gas),
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: priority_fee,
        paymaster: Some(PaymasterFields {
            paymaster: station.paymaster,
            verification_gas_limit: gas.paymaster_verification_gas_limit,
            post_op_gas_limit: gas.paymaster_post_op_gas_limit,
            data: Vec::new(),
        }),
        signature: Vec::new(),
    };
    super::sca_outbound::sign_sponsored(
        &mut op,
        chain.info.chain_id,
        station,
        secret,
        pre.chain_now,
    )?;
    Ok(op.pack())
}

/// The station-signed replacement of the bundle `bundle` (decoded from its newest attempt),
/// at `gas_limit` and `pricing`: the same bundle for an acceleration; for a cancel, the
/// bundle of the no-op operation, simulated first (the EntryPoint refusing it is 155229 when
/// the account's nonce was spent meanwhile). Returns the transaction, its raw bytes and hash,
/// and the no-op's userOpHash.
#[allow(clippy::too_many_arguments)]
pub(super) async fn sign(
    run: &Execution<'_>,
    t: &TransactionRecord,
    wallet: &WalletRecord,
    user_key: &SecretKey,
    pre: Option<CancelPreflight>,
    mut bundle: UnsignedEvmTx,
    op_gas: Option<OpGas>,
    pricing: GasPricing,
) -> Result<(UnsignedEvmTx, Vec<u8>, String, Option<String>), ApiError> {
    let chain = run.lk().chains().require(t.blockchain)?;
    let station = chain.require_gas_station()?;
    let mut no_op_hash = None;
    if let Some(pre) = pre {
        let gas = op_gas.ok_or_else(ApiError::internal)?;
        let op = {
            let secret = signing::wallet_secret(user_key, wallet)?;
            signed_no_op(chain, station, &pre, &gas, pricing, &secret)?
        };
        let from = station.station.address();
        bundle.to = station.entry_point;
        bundle.value = U256::ZERO;
        bundle.data = sca::handle_ops_call(std::slice::from_ref(&op), from);
        let simulated = chain
            .node
            .call(&CallRequest {
                from: Some(from),
                to: Some(station.entry_point),
                data: bundle.data.clone(),
                ..CallRequest::default()
            })
            .await;
        match simulated {
            Ok(_) => {}
            Err(NodeError::Reverted(reason)) => {
                let reason = reason.unwrap_or_default();
                if reason.starts_with("AA25") {
                    // The account's nonce was spent (the original ran) meanwhile.
                    return Err(codes::TRANSACTION_NOT_ELIGIBLE);
                }
                tracing::error!(%reason, transaction = %t.id,
                    "the EntryPoint refuses the cancel's operation");
                return Err(ApiError::internal());
            }
            Err(_) => return Err(node_unavailable(t.blockchain)),
        }
        no_op_hash = Some(format!(
            "{:#x}",
            sca::user_op_hash(&op, station.entry_point, chain.info.chain_id)
        ));
    }
    let (raw, tx_hash) = station.station.sign_tx(&bundle)?;
    Ok((bundle, raw, tx_hash, no_op_hash))
}
