//! The engine as ERC-4337 bundler: an SCA transaction's signed UserOperation (its
//! `USER_OPERATION` attempt, stored by the execution) goes on chain inside a `handleOps`
//! transaction that the chain's gas-station key signs and pays for (docs/plans/sca.md §3).
//!
//! - The bundle is simulated first (`eth_call` of `handleOps` from the station): an operation
//!   the EntryPoint refuses (an `AA…` reason: an expired signature, a spent nonce) fails the
//!   transaction before any gas is spent, with the reason in `errorDetails`; one refused only
//!   because the paymaster's deposit is too low (AA31) waits for the operator to refill it.
//! - The station's nonce is reserved in the database (`station_nonce_claims`, held by the
//!   transaction), the bundle signed and stored as a `BUNDLE` attempt in one write that also
//!   marks the claim USED, only while the lease holds, and **before** any broadcast; from
//!   there the EOA path's broadcast, rebroadcast and receipt code sends and follows it.
//! - The outcome is the operation's `UserOperationEvent` in the bundle's receipt, not the
//!   receipt's status: `success` → CONFIRMED; the account's call reverted → FAILED
//!   `FAILED_ON_CHAIN`; no event (the bundle itself reverted) → FAILED `INTERNAL_ERROR`.
//!   `networkFee` is the event's `actualGasCost`: what the paymaster's deposit paid.
//! - Whichever of the transaction's bundles is mined (the first, an acceleration, a cancel:
//!   they share the station's nonce), the operation inside it decides: the transaction's own
//!   (by its userOpHash), or a cancel's no-op at the same account nonce, whose event means
//!   the original can never run (CANCELLED; `challenge/sca_replace.rs`).
//! - A mined bundle the EntryPoint refused because the account's nonce was spent first (the
//!   operation, or a cancel's no-op, was public and another bundler included it) is judged by
//!   that other bundle: the EntryPoint's logs of the blocks up to it are searched for the
//!   event of each of the transaction's operations.

use super::step::Step;
use crate::money::estimate::fee_levels;
use crate::money::fees::{capped, FeeLevel, GasPricing};
use crate::money::node::{CallRequest, Log, NodeError, Receipt};
use crate::money::outbound::{AttemptKind, AttemptRecord, AttemptStatus, ChainNonces};
use crate::money::user_op::{decode_packed, user_operation_event};
use crate::money::BlockTag;
use latchkey_chains::{sca, UnsignedEvmTx, B256, U256};

/// Gas of the bundle beyond the operation's own limits: the transaction's intrinsic gas and
/// the EntryPoint's loop around the operation.
pub(crate) const BUNDLE_OVERHEAD_GAS: u64 = 60_000;

/// How many blocks before a refused bundle's (and its own) are searched for the bundle of
/// someone else's that spent the account's nonce first.
const ELSEWHERE_LOOKBACK_BLOCKS: u64 = 128;

/// The transaction's operation (or a cancel's no-op) ran in another bundle than ours: its
/// outcome, what it cost the paymaster, and where it was mined.
pub(super) struct RanElsewhere {
    pub(super) cost: U256,
    pub(super) outcome: Outcome,
    pub(super) tx_hash: B256,
    pub(super) block_hash: B256,
    pub(super) block_number: u64,
}

/// What became of an operation whose bundle was mined.
pub(super) enum Outcome {
    /// The operation ran and its call succeeded.
    Confirmed,
    /// A cancel's no-op operation ran at the operation's account nonce: the operation never
    /// can.
    Cancelled,
    /// Failed, with Circle's errorReason and the details.
    Failed(&'static str, String),
}

impl Step<'_> {
    /// The SCA transaction's signed operation, if this is one.
    pub(super) fn user_operation(&self) -> Option<&AttemptRecord> {
        self.attempts
            .iter()
            .find(|a| a.kind == AttemptKind::UserOperation)
    }

    /// An SCA transaction with no bundle yet gets one (stored before anything is sent).
    /// `false` when the step must stop here (the lease was lost, or a node error leaves the
    /// transaction for the next pass).
    pub(super) async fn bundle(&mut self, store: &dyn crate::store::Store) -> bool {
        let Some(op_attempt) = self.user_operation().cloned() else {
            return true;
        };
        if self.attempts.iter().any(|a| a.kind == AttemptKind::Bundle) {
            return true;
        }
        let Some(station) = self.chain.gas_station.clone() else {
            self.fail(
                "INTERNAL_ERROR",
                "no gas station is configured for the chain (--gas-station-key)",
            );
            return false;
        };
        let Some(op) = decode_packed(&op_attempt.raw) else {
            self.fail("INTERNAL_ERROR", "the stored UserOperation does not decode");
            return false;
        };
        let from = station.station.address();
        let data = sca::handle_ops_call(std::slice::from_ref(&op), from);
        let node = self.chain.node.clone();
        let simulated = node
            .call(&CallRequest {
                from: Some(from),
                to: Some(station.entry_point),
                data: data.clone(),
                ..CallRequest::default()
            })
            .await;
        match simulated {
            Ok(_) => {}
            Err(NodeError::Reverted(reason)) => {
                let reason = reason.unwrap_or_else(|| "no reason given".into());
                // The paymaster's deposit is the operator's to refill: the operation waits for
                // it (until its signatures expire, which fails it as AA32) rather than fail
                // for a reason the user cannot act on.
                if reason.starts_with("AA31") {
                    tracing::warn!(
                        paymaster = %station.paymaster,
                        "the paymaster's EntryPoint deposit is too low to sponsor an operation; \
                         it waits until the deposit is funded"
                    );
                    return false;
                }
                self.fail(
                    "INTERNAL_ERROR",
                    format!("the EntryPoint refused the UserOperation: {reason}"),
                );
                return false;
            }
            Err(e) => {
                tracing::info!(error = %e, "cannot simulate the bundle; retried");
                return false;
            }
        }
        let nonces = async {
            let latest = node.nonce(from, BlockTag::Latest).await?;
            let pending = node.nonce(from, BlockTag::Pending).await?;
            Ok::<_, NodeError>(ChainNonces {
                latest,
                pending: pending.max(latest),
            })
        };
        let nonces = match nonces.await {
            Ok(n) => n,
            Err(e) => {
                tracing::info!(error = %e, "cannot read the station's nonce; retried");
                return false;
            }
        };
        let level = self
            .progress
            .transaction
            .fee_level
            .unwrap_or(FeeLevel::Medium);
        let fresh = match fee_levels(self.chain).await {
            Ok(levels) => levels.level(level),
            Err(e) => {
                tracing::info!(code = e.code, "cannot price the bundle; retried");
                return false;
            }
        };
        // The operation pays at most its own fees (what the paymaster signed for); the
        // bundle is priced at the level now, never above them.
        let (priority_cap, max_cap) = unpack_u128s(op.gasFees);
        let pricing = match fresh {
            GasPricing::Eip1559 { base_fee, .. } => capped(
                fresh,
                GasPricing::Eip1559 {
                    base_fee,
                    priority_fee: priority_cap,
                    max_fee: max_cap,
                },
            ),
            GasPricing::Legacy { .. } => capped(fresh, GasPricing::Legacy { gas_price: max_cap }),
        };
        let key = station_key(self.chain.info.blockchain, from);
        let id = self.progress.transaction.id.clone();
        let nonce = match store
            .reserve_station_nonce(&key, &id, nonces, self.now)
            .await
        {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot reserve the station's nonce");
                return false;
            }
        };
        let gas_limit = op_attempt.gas_limit.saturating_add(BUNDLE_OVERHEAD_GAS);
        let tx = UnsignedEvmTx {
            chain_id: self.chain.info.chain_id,
            nonce,
            to: station.entry_point,
            value: U256::ZERO,
            data,
            gas_limit,
            fee: pricing.evm_fee(),
        };
        let Ok((raw, tx_hash)) = station.station.sign_tx(&tx) else {
            self.fail("INTERNAL_ERROR", "the gas station's bundle did not sign");
            return false;
        };
        let (max_fee, priority_fee, gas_price) = crate::money::outbound::fee_columns(&tx.fee);
        let attempt = AttemptRecord {
            id: uuid::Uuid::new_v4().to_string(),
            transaction_id: id,
            kind: AttemptKind::Bundle,
            challenge_id: op_attempt.challenge_id.clone(),
            nonce,
            raw,
            tx_hash,
            gas_limit,
            max_fee,
            priority_fee,
            gas_price,
            status: AttemptStatus::Stored,
            last_error: None,
            broadcasts: 0,
            last_broadcast_at: None,
            recent_blockhash: None,
            last_valid_block_height: None,
            created_at: self.now,
        };
        let lease = self
            .progress
            .transaction
            .lease_token
            .clone()
            .unwrap_or_default();
        match store
            .add_bundle_attempt(&attempt, &lease, &key, self.now)
            .await
        {
            Ok(true) => {
                self.attempts.push(attempt);
                true
            }
            Ok(false) => {
                tracing::info!("lease lost before the bundle was stored");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot store the bundle");
                false
            }
        }
    }

    fn entry_point(&self) -> latchkey_chains::Address {
        self.chain
            .gas_station
            .as_ref()
            .map_or(sca::ENTRY_POINT_V07, |s| s.entry_point)
    }

    /// When our mined bundle `a` (receipt `r`) holds no event of the operation it carries (the
    /// EntryPoint refused it: the account's nonce was spent first), the bundle of someone
    /// else's that ran one of the transaction's operations (its own, or a cancel's no-op),
    /// from the EntryPoint's logs of the blocks up to ours. `Ok(None)` when ours ran it, or
    /// when none is found (the receipt alone decides then); a node error is retried.
    pub(super) async fn ran_elsewhere(
        &self,
        a: &AttemptRecord,
        r: &Receipt,
    ) -> Result<Option<RanElsewhere>, NodeError> {
        use alloy_sol_types::SolEvent as _;
        if self.user_operation().is_none() {
            return Ok(None);
        }
        let entry_point = self.entry_point();
        let chain_id = self.chain.info.chain_id;
        let Some(carried) = bundled_op_hash(&a.raw, entry_point, chain_id) else {
            return Ok(None);
        };
        if user_operation_event(&r.logs, entry_point, carried).is_some() {
            return Ok(None);
        }
        let t = &self.progress.transaction;
        let Some(own) = t
            .user_op_hash
            .as_deref()
            .and_then(|h| h.parse::<B256>().ok())
        else {
            return Ok(None);
        };
        let mut ours = vec![own];
        for other in self
            .attempts
            .iter()
            .filter(|x| x.kind != AttemptKind::UserOperation)
            .filter_map(|x| bundled_op_hash(&x.raw, entry_point, chain_id))
        {
            if !ours.contains(&other) {
                ours.push(other);
            }
        }
        let from = r.block_number.saturating_sub(ELSEWHERE_LOOKBACK_BLOCKS);
        let logs = self
            .chain
            .node
            .logs(
                from,
                r.block_number,
                &[sca::IEntryPoint::UserOperationEvent::SIGNATURE_HASH],
            )
            .await?;
        for hash in ours {
            let Some((log, (success, cost))) = logs.iter().find_map(|l| {
                user_operation_event(std::slice::from_ref(l), entry_point, hash).map(|e| (l, e))
            }) else {
                continue;
            };
            let outcome = match (hash == own, success) {
                (true, true) => Outcome::Confirmed,
                (true, false) => Outcome::Failed(
                    "FAILED_ON_CHAIN",
                    "the account's call reverted inside the UserOperation".into(),
                ),
                (false, _) => Outcome::Cancelled,
            };
            return Ok(Some(elsewhere(log, cost, outcome)));
        }
        Ok(None)
    }

    /// The operation's fate in its mined bundle `a` (receipt `r`), and what it cost the
    /// paymaster.
    pub(super) fn user_op_outcome(&self, a: &AttemptRecord, r: &Receipt) -> (U256, Outcome) {
        let t = &self.progress.transaction;
        let hash: Option<B256> = t.user_op_hash.as_deref().and_then(|h| h.parse().ok());
        let entry_point = self.entry_point();
        // The operation the mined bundle carries: another than the transaction's is a
        // cancel's no-op (its own attempt or an acceleration of it).
        let bundled = bundled_op_hash(&a.raw, entry_point, self.chain.info.chain_id);
        let gas_fee = U256::from(r.gas_used) * U256::from(r.effective_gas_price);
        if let Some(no_op) = bundled.filter(|b| Some(*b) != hash) {
            return match user_operation_event(&r.logs, entry_point, no_op) {
                Some((_, cost)) => (cost, Outcome::Cancelled),
                // The account's nonce was spent by a bundle of someone else's (the EntryPoint
                // refused the no-op): which operation ran there is not in this receipt.
                None => (
                    gas_fee,
                    Outcome::Failed(
                        "INTERNAL_ERROR",
                        "the cancel's bundle reverted: the account's nonce was spent by another \
                         bundle"
                            .into(),
                    ),
                ),
            };
        }
        let event = hash.and_then(|h| user_operation_event(&r.logs, entry_point, h));
        match event {
            Some((true, cost)) => (cost, Outcome::Confirmed),
            Some((false, cost)) => (
                cost,
                Outcome::Failed(
                    "FAILED_ON_CHAIN",
                    "the account's call reverted inside the UserOperation".into(),
                ),
            ),
            None => {
                let why = if r.success {
                    "the bundle was mined without the UserOperation's event"
                } else {
                    "the bundle reverted (the EntryPoint refused the UserOperation)"
                };
                (gas_fee, Outcome::Failed("INTERNAL_ERROR", why.into()))
            }
        }
    }
}

fn elsewhere(log: &Log, cost: U256, outcome: Outcome) -> RanElsewhere {
    RanElsewhere {
        cost,
        outcome,
        tx_hash: log.tx_hash,
        block_hash: log.block_hash,
        block_number: log.block_number,
    }
}

/// The userOpHash of the (first) operation in a signed bundle's `handleOps` calldata.
fn bundled_op_hash(
    raw: &[u8],
    entry_point: latchkey_chains::Address,
    chain_id: u64,
) -> Option<B256> {
    let tx = latchkey_chains::decode_evm_tx(raw).ok()?;
    let ops = sca::decode_handle_ops(&tx.data)?;
    ops.first()
        .map(|op| sca::user_op_hash(op, entry_point, chain_id))
}

/// A station's key in the nonce tables: one counter per chain and address.
pub(crate) fn station_key(
    blockchain: latchkey_chains::Blockchain,
    address: latchkey_chains::Address,
) -> String {
    format!("{}:{address:#x}", blockchain.as_str())
}

/// `high ‖ low` of a packed word (v0.7's `gasFees`: maxPriorityFeePerGas ‖ maxFeePerGas).
fn unpack_u128s(word: B256) -> (u128, u128) {
    let mut high = [0u8; 16];
    let mut low = [0u8; 16];
    high.copy_from_slice(&word[..16]);
    low.copy_from_slice(&word[16..]);
    (u128::from_be_bytes(high), u128::from_be_bytes(low))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_fees_unpack_as_packed() {
        let word = sca::pack_u128s(7, 9);
        assert_eq!(unpack_u128s(word), (7, 9));
    }
}
