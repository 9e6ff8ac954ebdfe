//! ACCELERATE_TRANSACTION and CANCEL_TRANSACTION: a live outbound transaction signed again at
//! the same nonce with a higher fee (`POST /v1/w3s/user/transactions/{id}/accelerate` and
//! `/cancel`). An acceleration re-signs the same call; a cancel signs a zero-value send to the
//! wallet itself, so whichever of the attempts is mined decides: the original (CONFIRMED,
//! Circle's "best effort" cancel) or the cancel (CANCELLED).
//!
//! The new fees are the chain's HIGH level, and at least 12.5 % above the attempt they
//! replace (geth wants +10 %, anvil any increase), shown before the PIN with the most the
//! replacement can cost. `correlationIds` is the original transaction's id, as Circle's.
//!
//! An SCA wallet's transaction is an operation inside the gas station's bundle: what is
//! replaced there is the bundle, by the station's key ([`super::sca_replace`]).

use super::execution::{Completion, Execution};
use super::sca_replace;
use super::signing::{self, PinInput};
use super::spec::{ChallengeSpec, Creation, Requires};
use crate::clock::Timestamp;
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, UserRecord};
use crate::money::estimate::fee_levels;
use crate::money::user_op::OpGas;
use crate::money::{
    AttemptKind, AttemptRecord, AttemptStatus, GasPricing, OutboundWrite, TransactionRecord,
    TxState, TxType,
};
use crate::rules;
use crate::service::{store_failed, ExecuteBody, Latchkey};
use latchkey_chains::{format_units, gwei, Address, Blockchain, EvmFee, UnsignedEvmTx, U256};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt::Debug;
use std::marker::PhantomData;

/// What differs between an acceleration and a cancel.
pub trait ReplaceMode: Debug + Clone + PartialEq + Send + Sync + 'static {
    /// The challenge type.
    const KIND: ChallengeType;
    /// Its webhook notification type.
    const NOTIFICATION: &'static str;
    /// The attempt it signs.
    const ATTEMPT: AttemptKind;
    /// The states it may replace a transaction in.
    const ELIGIBLE: &'static [TxState];
}

/// ACCELERATE_TRANSACTION: the same call, a higher fee.
#[derive(Debug, Clone, PartialEq)]
pub struct Accelerate;

/// CANCEL_TRANSACTION: a zero-value self-send at the same nonce, a higher fee.
#[derive(Debug, Clone, PartialEq)]
pub struct Cancel;

impl ReplaceMode for Accelerate {
    const KIND: ChallengeType = ChallengeType::AccelerateTransaction;
    const NOTIFICATION: &'static str = "challenges.accelerateTransaction";
    const ATTEMPT: AttemptKind = AttemptKind::Accelerate;
    const ELIGIBLE: &'static [TxState] = &[TxState::Sent, TxState::Stuck];
}

impl ReplaceMode for Cancel {
    const KIND: ChallengeType = ChallengeType::CancelTransaction;
    const NOTIFICATION: &'static str = "challenges.cancelTransaction";
    const ATTEMPT: AttemptKind = AttemptKind::Cancel;
    const ELIGIBLE: &'static [TxState] = &[
        TxState::Initiated,
        TxState::Queued,
        TxState::Sent,
        TxState::Stuck,
    ];
}

/// The ACCELERATE_TRANSACTION challenge type.
#[derive(Debug)]
pub struct AccelerateTransaction;

/// The CANCEL_TRANSACTION challenge type.
#[derive(Debug)]
pub struct CancelTransaction;

/// The create call: the transaction's id (from the path).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceRequest {
    /// The transaction to replace.
    pub transaction_id: String,
}

/// What the hosted page shows before the PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceView {
    /// `ACCELERATE` or `CANCEL`.
    pub action: String,
    /// The transaction replaced.
    pub transaction_id: String,
    /// The sending wallet.
    pub wallet_id: String,
    /// Its chain.
    pub blockchain: String,
    /// The wallet's address.
    pub from: String,
    /// Where the transaction sends (a cancel sends nothing anywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Its amounts.
    pub amounts: Vec<String>,
    /// Its state now.
    pub state: String,
    /// Gas units of the replacement.
    pub gas_limit: String,
    /// EIP-1559: the new most paid per gas (gwei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee: Option<String>,
    /// EIP-1559: the new tip per gas (gwei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_fee: Option<String>,
    /// Legacy chains: the new gas price (gwei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<String>,
    /// The most the replacement can cost in fees, in native units (a cap).
    pub max_network_fee: String,
    /// The unit of `maxNetworkFee`.
    pub native_symbol: String,
    /// An SCA wallet's replacement: who pays `maxNetworkFee` (the gas station, as for its
    /// operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_paid_by: Option<String>,
}

/// What a replacement challenge keeps: the transaction, the fee approved, what is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplacePayload<M> {
    /// The transaction replaced.
    pub transaction_id: String,
    /// Gas units to sign with.
    pub gas_limit: u64,
    /// The fee to sign with (wei per gas).
    pub pricing: GasPricing,
    /// What the user is shown.
    pub shown: ReplaceView,
    /// An SCA cancel: the limits of its no-op operation (the bundle's gas is `gas_limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_op: Option<OpGas>,
    #[serde(skip)]
    mode: PhantomData<M>,
}

/// `ceil(wei × 1.125)`: the smallest bump every node accepts for a replacement.
fn bumped(wei: u128) -> u128 {
    wei.saturating_add(wei.div_ceil(8))
}

/// The fee of a replacement of an attempt signed with `old`: the HIGH level, and at least
/// 12.5 % above `old` on every field.
fn replacement_fee(old: EvmFee, high: GasPricing) -> GasPricing {
    match (old, high) {
        (
            EvmFee::Eip1559 {
                max_fee,
                max_priority,
            },
            GasPricing::Eip1559 {
                base_fee,
                priority_fee,
                max_fee: high_max,
            },
        ) => {
            let priority = priority_fee.max(bumped(max_priority));
            GasPricing::Eip1559 {
                base_fee,
                priority_fee: priority,
                max_fee: high_max.max(bumped(max_fee)).max(priority),
            }
        }
        (EvmFee::Legacy { gas_price }, high) => GasPricing::Legacy {
            gas_price: high.max_per_gas().max(bumped(gas_price)),
        },
        (EvmFee::Eip1559 { max_fee, .. }, GasPricing::Legacy { gas_price }) => GasPricing::Legacy {
            gas_price: gas_price.max(bumped(max_fee)),
        },
    }
}

/// The newest attempt a node may still hold (the one a replacement must outbid). Never an
/// SCA's UserOperation, which no node holds by itself: its bundles are sent (an operation not
/// bundled yet has nothing to replace).
fn newest(attempts: &[AttemptRecord]) -> Option<&AttemptRecord> {
    attempts
        .iter()
        .rev()
        .filter(|a| a.kind != AttemptKind::UserOperation)
        .find(|a| a.status != AttemptStatus::Rejected)
}

/// The transaction a replacement is for: the user's, outbound, and in an eligible state.
async fn replaceable<M: ReplaceMode>(
    creation: Creation<'_>,
    id: &str,
) -> Result<TransactionRecord, ApiError> {
    if !rules::is_uuid(id) {
        return Err(codes::ID_NOT_UUID);
    }
    let session = creation.session;
    let t = creation
        .lk
        .store
        .transaction(session.entity_id(), &session.user.internal_id, id)
        .await
        .map_err(store_failed)?
        .filter(|t| t.tx_type == TxType::Outbound)
        .ok_or(codes::TRANSACTION_NOT_FOUND)?;
    // The chain first: a Solana transaction has no nonce to replace at, whatever its state
    // (155510, as Circle; also Arbitrum).
    if !t.blockchain.supports_replacement() {
        return Err(codes::OPERATION_NOT_SUPPORTED);
    }
    if !M::ELIGIBLE.contains(&t.state) || t.nonce.is_none() {
        return Err(codes::TRANSACTION_NOT_ELIGIBLE);
    }
    Ok(t)
}

/// `original` at `gas_limit` and `pricing`, the rest unchanged.
fn repriced(original: &UnsignedEvmTx, gas_limit: u64, pricing: GasPricing) -> UnsignedEvmTx {
    let fee = match pricing {
        GasPricing::Eip1559 {
            priority_fee,
            max_fee,
            ..
        } => EvmFee::Eip1559 {
            max_fee,
            max_priority: priority_fee.min(max_fee),
        },
        GasPricing::Legacy { gas_price } => EvmFee::Legacy { gas_price },
    };
    let mut tx = original.clone();
    tx.fee = fee;
    tx.gas_limit = gas_limit;
    tx
}

/// The unsigned replacement of `original` (a cancel: to the wallet itself, no value, no data).
fn replacement_tx<M: ReplaceMode>(
    original: &UnsignedEvmTx,
    from: Address,
    gas_limit: u64,
    pricing: GasPricing,
) -> UnsignedEvmTx {
    let mut tx = repriced(original, gas_limit, pricing);
    if M::ATTEMPT == AttemptKind::Cancel {
        tx.to = from;
        tx.value = U256::ZERO;
        tx.data = Vec::new();
    }
    tx
}

fn decoded(attempt: &AttemptRecord) -> Result<UnsignedEvmTx, ApiError> {
    latchkey_chains::decode_evm_tx(&attempt.raw).map_err(|e| {
        tracing::error!(error = %e, attempt = %attempt.id, "a stored attempt does not decode");
        ApiError::internal()
    })
}

/// The newest attempt of `t` a node may hold (decoded), and the fee its replacement signs
/// with now: what an acceleration would cost, which `lowestNonceTransaction` also shows.
pub(crate) async fn replacement_price(
    lk: &Latchkey,
    t: &TransactionRecord,
) -> Result<(UnsignedEvmTx, GasPricing), ApiError> {
    let chain = lk.chains().require(t.blockchain)?;
    let attempts = lk.store.attempts(&t.id).await.map_err(store_failed)?;
    let old = newest(&attempts).ok_or(codes::TRANSACTION_NOT_ELIGIBLE)?;
    let original = decoded(old)?;
    let high = fee_levels(chain).await?.level(crate::money::FeeLevel::High);
    let pricing = replacement_fee(original.fee, high);
    Ok((original, pricing))
}

/// Checks the transaction and prices its replacement (see the module doc).
async fn prepare<M: ReplaceMode>(
    creation: Creation<'_>,
    request: ReplaceRequest,
) -> Result<ReplacePayload<M>, ApiError> {
    let t = replaceable::<M>(creation, &request.transaction_id).await?;
    let (original, pricing) = replacement_price(creation.lk, &t).await?;
    let cancel = M::ATTEMPT == AttemptKind::Cancel;
    let (gas_limit, user_op) = if t.user_op_hash.is_some() {
        let session = creation.session;
        let wallet = creation
            .lk
            .store
            .wallet(session.entity_id(), &session.user.internal_id, &t.wallet_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::WALLET_NOT_FOUND)?;
        sca_replace::prepare(
            creation.lk,
            &t,
            &wallet,
            cancel,
            original.gas_limit,
            pricing,
        )
        .await?
    } else if cancel {
        (crate::money::fees::NATIVE_TRANSFER_GAS, None)
    } else {
        (original.gas_limit, None)
    };
    let blockchain: Blockchain = t.blockchain;
    let cost = U256::from(gas_limit) * U256::from(pricing.max_per_gas());
    let (max_fee, priority_fee, gas_price) = match pricing {
        GasPricing::Eip1559 {
            priority_fee,
            max_fee,
            ..
        } => (Some(gwei(max_fee)), Some(gwei(priority_fee)), None),
        GasPricing::Legacy { gas_price } => (None, None, Some(gwei(gas_price))),
    };
    let shown = ReplaceView {
        action: match M::ATTEMPT {
            AttemptKind::Cancel => "CANCEL",
            _ => "ACCELERATE",
        }
        .to_owned(),
        transaction_id: t.id.clone(),
        wallet_id: t.wallet_id.clone(),
        blockchain: blockchain.as_str().to_owned(),
        from: t.source_address.clone().unwrap_or_default(),
        to: t.destination_address.clone(),
        amounts: t.amounts.clone(),
        state: t.state.as_str().to_owned(),
        gas_limit: gas_limit.to_string(),
        max_fee,
        priority_fee,
        gas_price,
        max_network_fee: format_units(cost, blockchain.native_decimals()),
        native_symbol: blockchain.native_symbol().to_owned(),
        gas_paid_by: t
            .user_op_hash
            .is_some()
            .then(|| "latchkey's gas station".to_owned()),
    };
    Ok(ReplacePayload {
        transaction_id: t.id,
        gas_limit,
        pricing,
        shown,
        user_op,
        mode: PhantomData,
    })
}

/// Signs the replacement with the PIN, at the same nonce and the approved fee, and writes it
/// for the engine to send.
async fn complete<M: ReplaceMode>(
    run: &Execution<'_>,
    payload: &ReplacePayload<M>,
    input: PinInput,
) -> Result<Completion, ApiError> {
    let lk = run.lk();
    let user = run.user();
    let t = lk
        .store
        .transaction(&user.entity_id, &user.internal_id, &payload.transaction_id)
        .await
        .map_err(store_failed)?
        .ok_or(codes::TRANSACTION_NOT_FOUND)?;
    if !M::ELIGIBLE.contains(&t.state) {
        return Err(codes::TRANSACTION_NOT_ELIGIBLE);
    }
    let attempts = lk.store.attempts(&t.id).await.map_err(store_failed)?;
    let old = newest(&attempts).ok_or(codes::TRANSACTION_NOT_ELIGIBLE)?;
    let original = decoded(old)?;
    let wallet = lk
        .store
        .wallet(&user.entity_id, &user.internal_id, &t.wallet_id)
        .await
        .map_err(store_failed)?
        .ok_or(codes::WALLET_NOT_FOUND)?;
    // An SCA's transaction is an operation in the station's bundle (sca_replace.rs); its key
    // never signs an EOA transaction.
    let sca = wallet.is_sca();
    if sca != t.user_op_hash.is_some() {
        tracing::error!(transaction = %t.id, "an SCA transaction without a userOpHash, or the reverse");
        return Err(ApiError::internal());
    }
    let cancel = M::ATTEMPT == AttemptKind::Cancel;
    let preflight = if sca {
        Some(sca_replace::preflight(lk, &t, &attempts, old, cancel).await?)
    } else {
        None
    };
    let from: Address = wallet.address.parse().map_err(|_| ApiError::internal())?;
    let wrap = run.pin_wrap()?;
    let (user_key, mut commit) = run.authorize_wallet_operation(wrap, &input.pin).await?;
    let (unsigned, raw, tx_hash, no_op_hash) = match preflight {
        Some(pre) => {
            let bundle = repriced(&original, payload.gas_limit, payload.pricing);
            sca_replace::sign(
                run,
                &t,
                &wallet,
                &user_key,
                pre,
                bundle,
                payload.user_op,
                payload.pricing,
            )
            .await?
        }
        None => {
            let unsigned = replacement_tx::<M>(&original, from, payload.gas_limit, payload.pricing);
            let signed = {
                let secret = signing::wallet_secret(&user_key, &wallet)?;
                signing::signed(latchkey_chains::sign_evm_tx(&secret, &unsigned))?
            };
            let raw = hex::decode(signed.signed_transaction.trim_start_matches("0x"))
                .map_err(|_| ApiError::internal())?;
            (unsigned, raw, signed.tx_hash, None)
        }
    };
    let (max_fee, priority_fee, gas_price) = crate::money::outbound::fee_columns(&unsigned.fee);
    let now = commit.now;
    commit.correlation_ids = vec![t.id.clone()];
    let mut detail = json!({
        "walletId": wallet.id,
        "type": M::KIND.as_str(),
        "transactionId": t.id,
        "nonce": unsigned.nonce,
    });
    if sca {
        // The nonce is the gas station's; a cancel's no-op is the wallet key's signature.
        detail["signedBy"] = json!("gas station");
        detail["userOpHash"] = json!(no_op_hash);
    }
    commit.audit.push(run.audit("wallet.signed", detail, now));
    commit.outbound = Some(OutboundWrite::Replacement {
        attempt: AttemptRecord {
            id: uuid::Uuid::new_v4().to_string(),
            transaction_id: t.id.clone(),
            kind: M::ATTEMPT,
            challenge_id: run.challenge.id.clone(),
            nonce: unsigned.nonce,
            raw,
            tx_hash,
            gas_limit: unsigned.gas_limit,
            max_fee,
            priority_fee,
            gas_price,
            status: AttemptStatus::Stored,
            last_error: None,
            broadcasts: 0,
            last_broadcast_at: None,
            // Attempts are ordered by creation time: the replacement must come after the
            // attempt it replaces even within one millisecond.
            created_at: Timestamp(now.0.max(old.created_at.0 + 1)),
            recent_blockhash: None,
            last_valid_block_height: None,
        },
    });
    Ok(Completion::new(commit))
}

macro_rules! replacement_spec {
    ($spec:ty, $mode:ty) => {
        impl ChallengeSpec for $spec {
            const KIND: ChallengeType = <$mode>::KIND;
            const NOTIFICATION: &'static str = <$mode>::NOTIFICATION;
            const FROM_EMPTY_REQUEST: bool = false;
            type Request = ReplaceRequest;
            type Payload = ReplacePayload<$mode>;
            type Input = PinInput;

            async fn prepare(
                creation: Creation<'_>,
                request: ReplaceRequest,
            ) -> Result<Self::Payload, ApiError> {
                prepare::<$mode>(creation, request).await
            }

            fn check_user(user: &UserRecord) -> Result<(), ApiError> {
                signing::check_user(user)
            }

            fn requires(_user: &UserRecord) -> Requires {
                signing::requires()
            }

            fn display(payload: &Self::Payload) -> Result<Value, serde_json::Error> {
                serde_json::to_value(&payload.shown)
            }

            fn input(body: ExecuteBody) -> Result<PinInput, ApiError> {
                signing::pin_input(body)
            }

            async fn complete(
                run: &Execution<'_>,
                payload: &Self::Payload,
                input: PinInput,
            ) -> Result<Completion, ApiError> {
                complete::<$mode>(run, payload, input).await
            }
        }
    };
}

replacement_spec!(AccelerateTransaction, Accelerate);
replacement_spec!(CancelTransaction, Cancel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_outbids_the_attempt_by_at_least_an_eighth() {
        let old = EvmFee::Eip1559 {
            max_fee: 80,
            max_priority: 8,
        };
        let low_high = GasPricing::Eip1559 {
            base_fee: 10,
            priority_fee: 2,
            max_fee: 22,
        };
        assert_eq!(
            replacement_fee(old, low_high),
            GasPricing::Eip1559 {
                base_fee: 10,
                priority_fee: 9,
                max_fee: 90
            }
        );
        let pricey = GasPricing::Eip1559 {
            base_fee: 100,
            priority_fee: 20,
            max_fee: 220,
        };
        assert_eq!(replacement_fee(old, pricey), pricey);
        assert_eq!(
            replacement_fee(
                EvmFee::Legacy { gas_price: 7 },
                GasPricing::Legacy { gas_price: 5 }
            ),
            GasPricing::Legacy { gas_price: 8 }
        );
    }
}
