//! One engine step on one leased transaction: what its state calls for (queue, broadcast,
//! receipts, confirmation depth, reorg), recorded in a [`TxProgress`] that the engine writes
//! only while the lease holds. The state machine is described in the parent module.

use super::bundle::{Outcome, RanElsewhere};
use super::{transaction_notification, EngineSettings};
use crate::clock::Timestamp;
use crate::model::Environment;
use crate::money::chains::Chain;
use crate::money::node::{BlockTag, EvmNode, NodeError, Receipt, RejectKind};
use crate::money::outbound::{
    AttemptChange, AttemptKind, AttemptRecord, AttemptStatus, TxProgress,
};
use crate::money::transactions::{TransactionRecord, TxState, TxType};
use latchkey_chains::{format_units, B256, U256};

/// One step on one leased transaction, on an EVM [`Chain`] (here) or a Solana chain
/// (`solana_step.rs`); the state changes, notifications and attempt changes are shared.
pub(super) struct Step<'a, C = Chain> {
    /// The time of the step.
    pub(super) now: Timestamp,
    pub(super) settings: EngineSettings,
    pub(super) chain: &'a C,
    /// The owner's environment (its webhooks go to that environment's subscriptions).
    pub(super) environment: Environment,
    /// The transaction's attempts, oldest first, as this step changes them.
    pub(super) attempts: Vec<AttemptRecord>,
    /// What the engine writes when the step ends.
    pub(super) progress: TxProgress,
}

impl<C> Step<'_, C> {
    pub(super) fn tx(&mut self) -> &mut TransactionRecord {
        &mut self.progress.transaction
    }

    /// Moves to `state` and queues its notification (STUCK has none: Circle sends none).
    pub(super) fn enter(&mut self, state: TxState) {
        let now = self.now;
        let t = self.tx();
        t.state = state;
        t.updated_at = now;
        if state != TxState::Stuck {
            let note = transaction_notification(&self.progress.transaction, self.environment);
            self.progress.notifications.push(note);
        }
    }

    pub(super) fn fail(&mut self, reason: &str, details: impl Into<String>) {
        let t = self.tx();
        t.error_reason = Some(reason.to_owned());
        t.error_details = Some(details.into());
        self.enter(TxState::Failed);
    }

    pub(super) fn attempt_changed(
        &mut self,
        id: &str,
        status: AttemptStatus,
        error: Option<String>,
        sent: bool,
    ) {
        let sent_at = sent.then_some(self.now);
        if let Some(a) = self.attempts.iter_mut().find(|a| a.id == id) {
            a.status = status;
        }
        self.progress.attempts.push(AttemptChange {
            id: id.to_owned(),
            status,
            last_error: error,
            sent_at,
        });
    }

    /// The attempt to send: the newest one not refused for good (a cancel or acceleration
    /// supersedes the original). A UserOperation is never sent itself (its bundle is).
    pub(super) fn sendable(&self) -> Option<AttemptRecord> {
        self.attempts
            .iter()
            .rev()
            .filter(|a| a.kind != AttemptKind::UserOperation)
            .find(|a| a.status != AttemptStatus::Rejected)
            .cloned()
    }

    pub(super) fn ever_sent(&self) -> bool {
        self.attempts.iter().any(|a| a.broadcasts > 0)
    }

    /// A node accepted `attempt` (or already had it).
    pub(super) fn sent(&mut self, attempt: &AttemptRecord) {
        self.attempt_changed(&attempt.id, AttemptStatus::Broadcast, None, true);
        let now = self.now;
        let t = self.tx();
        t.tx_hash = Some(attempt.tx_hash.clone());
        t.sent_at.get_or_insert(now);
        self.enter(TxState::Sent);
    }
}

impl Step<'_> {
    fn node(&self) -> &dyn EvmNode {
        self.chain.node.as_ref()
    }

    /// Takes the transaction as far as its state allows in one step.
    pub(super) async fn run(&mut self, store: &dyn crate::store::Store) {
        if self.progress.transaction.state == TxState::Initiated {
            self.enter(TxState::Queued);
        }
        // An SCA transaction's operation is bundled first; the bundle is then sent as any
        // signed transaction is.
        if self.progress.transaction.state == TxState::Queued && !self.bundle(store).await {
            return;
        }
        if self.progress.transaction.state == TxState::Queued {
            self.broadcast(store).await;
        }
        if matches!(
            self.progress.transaction.state,
            TxState::Sent | TxState::Stuck
        ) {
            self.follow().await;
        }
        if self.progress.transaction.state == TxState::Confirmed {
            self.confirm().await;
        }
    }

    async fn broadcast(&mut self, store: &dyn crate::store::Store) {
        let t = &self.progress.transaction;
        let nonce = t.nonce.unwrap_or(0);
        match store.lower_nonce_waiting(&t.wallet_id, nonce).await {
            Ok(false) => {}
            Ok(true) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the wallet's queue");
                return;
            }
        }
        let Some(attempt) = self.sendable() else {
            self.fail("INTERNAL_ERROR", "no signed transaction is stored");
            return;
        };
        let sent = self.node().send_raw(&attempt.raw).await;
        match sent {
            Ok(_) | Err(NodeError::Rejected(RejectKind::AlreadyKnown, _)) => {
                self.sent(&attempt);
            }
            Err(NodeError::Rejected(RejectKind::ReplacementUnderpriced, _)) => {
                // An earlier attempt of ours holds the nonce in the pool.
                self.sent(&attempt);
            }
            Err(NodeError::Rejected(RejectKind::NonceTooLow, msg)) => {
                self.nonce_used(msg).await;
            }
            Err(NodeError::Rejected(RejectKind::FeeTooLow, msg)) => {
                self.attempt_changed(&attempt.id, attempt.status, Some(msg), false);
                let created = self.progress.transaction.created_at;
                if self.now.0 - created.0 > self.chain.info.stuck_after_ms {
                    self.enter(TxState::Stuck);
                }
            }
            Err(NodeError::Rejected(RejectKind::InsufficientFunds, msg)) => {
                let created = self.progress.transaction.created_at;
                if self.now.0 - created.0 > self.settings.insufficient_funds_grace_ms {
                    self.attempt_changed(
                        &attempt.id,
                        AttemptStatus::Rejected,
                        Some(msg.clone()),
                        false,
                    );
                    self.progress.release_nonce = !self.ever_sent();
                    self.fail("INSUFFICIENT_NATIVE_TOKEN", msg);
                } else {
                    self.attempt_changed(&attempt.id, attempt.status, Some(msg), false);
                }
            }
            Err(NodeError::Rejected(RejectKind::Permanent, msg)) => {
                self.attempt_changed(
                    &attempt.id,
                    AttemptStatus::Rejected,
                    Some(msg.clone()),
                    false,
                );
                self.progress.release_nonce = !self.ever_sent();
                self.fail(
                    "INTERNAL_ERROR",
                    format!("the node refused the transaction: {msg}"),
                );
            }
            Err(e) => {
                tracing::info!(error = %e, "broadcast failed; retried on the next pass");
            }
        }
    }

    /// The node says the nonce is used: by one of our attempts (a crash after a broadcast),
    /// or by something else.
    async fn nonce_used(&mut self, msg: String) {
        let attempts = self.attempts.clone();
        for a in attempts.iter().rev() {
            let Some(hash) = parse_hash(&a.tx_hash) else {
                continue;
            };
            match self.node().transaction(hash).await {
                Ok(Some(_)) => {
                    self.sent(a);
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::info!(error = %e, "cannot look the attempt up; retried");
                    return;
                }
            }
        }
        let nonce = self.progress.transaction.nonce.unwrap_or(0);
        self.fail(
            "INTERNAL_ERROR",
            format!("nonce {nonce} was used by another transaction of the wallet ({msg})"),
        );
    }

    /// SENT / STUCK: looks for a receipt of any attempt the node accepted.
    async fn follow(&mut self) {
        let attempts = self.attempts.clone();
        for a in attempts.iter().rev() {
            if !matches!(a.status, AttemptStatus::Broadcast | AttemptStatus::Mined) {
                continue;
            }
            let Some(hash) = parse_hash(&a.tx_hash) else {
                continue;
            };
            match self.node().receipt(hash).await {
                Ok(Some(r)) => {
                    let elsewhere = match self.ran_elsewhere(a, &r).await {
                        Ok(found) => found,
                        Err(e) => {
                            tracing::info!(error = %e, "cannot read the EntryPoint's logs; retried");
                            return;
                        }
                    };
                    self.mined(a, &r, elsewhere);
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::info!(error = %e, "cannot read a receipt; retried");
                    return;
                }
            }
        }
        let t = &self.progress.transaction;
        let sent_at = t.sent_at.unwrap_or(t.created_at);
        if t.state == TxState::Sent && self.now.0 - sent_at.0 > self.chain.info.stuck_after_ms {
            self.enter(TxState::Stuck);
        }
        self.rebroadcast_if_dropped().await;
    }

    /// A node that does not know the newest attempt gets it: a replacement (accelerate,
    /// cancel) signed since the last pass, or the same bytes again when the node dropped them
    /// (evicted, or a reorg). A STUCK transaction whose replacement was accepted is SENT again.
    async fn rebroadcast_if_dropped(&mut self) {
        let Some(a) = self.sendable() else { return };
        let recent = a
            .last_broadcast_at
            .is_some_and(|at| self.now.0 - at.0 < self.settings.rebroadcast_ms);
        if recent {
            return;
        }
        let Some(hash) = parse_hash(&a.tx_hash) else {
            return;
        };
        if let Ok(None) = self.node().transaction(hash).await {
            match self.node().send_raw(&a.raw).await {
                Ok(_) | Err(NodeError::Rejected(RejectKind::AlreadyKnown, _)) => {
                    self.attempt_changed(&a.id, AttemptStatus::Broadcast, None, true);
                    // The hash that counts is the newest one the node holds.
                    self.tx().tx_hash = Some(a.tx_hash.clone());
                    if self.progress.transaction.state == TxState::Stuck {
                        let now = self.now;
                        self.tx().sent_at = Some(now);
                        self.enter(TxState::Sent);
                    }
                }
                Err(e) => {
                    tracing::info!(error = %e, "sending the newest attempt refused");
                    self.attempt_changed(&a.id, a.status, Some(e.to_string()), false);
                }
            }
        }
    }

    /// Attempt `a` is in a block (an SCA transaction's operation may have run in another
    /// bundle: `elsewhere`).
    fn mined(&mut self, a: &AttemptRecord, r: &Receipt, elsewhere: Option<RanElsewhere>) {
        let others: Vec<String> = self
            .attempts
            .iter()
            .filter(|o| o.id != a.id && o.status == AttemptStatus::Broadcast)
            .map(|o| o.id.clone())
            .collect();
        for id in others {
            self.attempt_changed(&id, AttemptStatus::Replaced, None, false);
        }
        self.attempt_changed(&a.id, AttemptStatus::Mined, None, false);
        let decimals = self.chain.info.blockchain.native_decimals();
        // An SCA transaction's attempts are bundles (the first, an acceleration, a cancel):
        // the operation in the mined one decides.
        let mut at = (a.tx_hash.clone(), r.block_hash, r.block_number);
        let (fee, outcome) = if let Some(e) = elsewhere {
            // The bundle that ran the operation is the transaction's now (its hash, its block).
            at = (format!("{:#x}", e.tx_hash), e.block_hash, e.block_number);
            (e.cost, Some(e.outcome))
        } else if self.user_operation().is_some() {
            let (fee, outcome) = self.user_op_outcome(a, r);
            (fee, Some(outcome))
        } else {
            let fee = U256::from(r.gas_used) * U256::from(r.effective_gas_price)
                + U256::from(r.l1_fee.unwrap_or(0));
            (fee, None)
        };
        let now = self.now;
        let t = self.tx();
        t.tx_hash = Some(at.0);
        t.block_hash = Some(format!("{:#x}", at.1));
        t.block_height = i64::try_from(at.2).ok();
        t.first_confirm_date.get_or_insert(now);
        t.network_fee = Some(format_units(fee, decimals));
        if let Some(outcome) = outcome {
            match outcome {
                Outcome::Confirmed => self.enter(TxState::Confirmed),
                Outcome::Cancelled => self.enter(TxState::Cancelled),
                Outcome::Failed(reason, details) => self.fail(reason, details),
            }
        } else if !r.success {
            let reason = if r.gas_used >= a.gas_limit {
                "GAS_LIMIT_TOO_LOW"
            } else {
                "FAILED_ON_CHAIN"
            };
            self.fail(reason, "the transaction reverted on chain");
        } else if a.kind == AttemptKind::Cancel {
            self.enter(TxState::Cancelled);
        } else {
            self.enter(TxState::Confirmed);
        }
    }

    /// CONFIRMED: COMPLETE once deep enough on the canonical chain; SENT again if a reorg
    /// took its block away.
    async fn confirm(&mut self) {
        let t = &self.progress.transaction;
        let (Some(height), Some(block_hash)) = (t.block_height, t.block_hash.clone()) else {
            return;
        };
        let Ok(height) = u64::try_from(height) else {
            return;
        };
        let head = match self.node().block_number().await {
            Ok(head) => head,
            Err(e) => {
                tracing::info!(error = %e, "cannot read the head; retried");
                return;
            }
        };
        let block = match self.node().block(BlockTag::Number(height), false).await {
            Ok(block) => block,
            Err(e) => {
                tracing::info!(error = %e, "cannot read the block; retried");
                return;
            }
        };
        let canonical = block.is_some_and(|b| format!("{:#x}", b.hash) == block_hash);
        if !canonical {
            if self.progress.transaction.tx_type == TxType::Inbound {
                self.deposit_reorged().await;
            } else {
                self.reorged().await;
            }
            return;
        }
        if head.saturating_sub(height) + 1 >= self.chain.info.confirmations {
            self.enter(TxState::Complete);
        }
    }

    /// The block of a CONFIRMED deposit left the chain: it is in another block now (its
    /// receipt moved), or it is gone (FAILED_REORG).
    async fn deposit_reorged(&mut self) {
        let Some(hash) = self
            .progress
            .transaction
            .tx_hash
            .as_deref()
            .and_then(parse_hash)
        else {
            return;
        };
        match self.node().receipt(hash).await {
            Ok(Some(r)) if r.success => {
                let t = self.tx();
                t.block_hash = Some(format!("{:#x}", r.block_hash));
                t.block_height = i64::try_from(r.block_number).ok();
            }
            Ok(_) => self.fail("FAILED_REORG", "a reorg removed the deposit from the chain"),
            Err(e) => tracing::info!(error = %e, "cannot read a receipt; retried"),
        }
    }

    /// The block of a CONFIRMED transaction left the chain: its receipt moved (another block
    /// holds it) or it is gone (back to SENT, the same bytes go out again).
    async fn reorged(&mut self) {
        let attempts = self.attempts.clone();
        for a in attempts.iter().rev() {
            if a.status != AttemptStatus::Mined {
                continue;
            }
            let Some(hash) = parse_hash(&a.tx_hash) else {
                continue;
            };
            match self.node().receipt(hash).await {
                Ok(Some(r)) => {
                    let t = self.tx();
                    t.block_hash = Some(format!("{:#x}", r.block_hash));
                    t.block_height = i64::try_from(r.block_number).ok();
                    return;
                }
                Ok(None) => {
                    self.attempt_changed(&a.id, AttemptStatus::Broadcast, None, false);
                }
                Err(e) => {
                    tracing::info!(error = %e, "cannot read a receipt; retried");
                    return;
                }
            }
        }
        let t = self.tx();
        t.block_hash = None;
        t.block_height = None;
        t.network_fee = None;
        t.first_confirm_date = None;
        self.enter(TxState::Sent);
        // Force the resend now rather than after rebroadcast_ms.
        for a in &mut self.attempts {
            a.last_broadcast_at = None;
        }
        self.rebroadcast_if_dropped().await;
    }
}

fn parse_hash(s: &str) -> Option<B256> {
    s.parse().ok()
}
