//! One engine step on a Solana transaction. The states are EVM's (the shared half of
//! [`Step`]); what differs is how they are reached:
//! - QUEUED → SENT when a node accepts the stored bytes, or already processed them (the same
//!   bytes carry the same signature, so a resend after a crash never sends twice);
//! - SENT/STUCK → CONFIRMED when `getSignatureStatuses` says `confirmed` (FAILED
//!   `FAILED_ON_CHAIN` when it landed with an error: it paid its fee, `networkFee` =
//!   `meta.fee`), and straight on to COMPLETE when it is already `finalized`;
//! - CONFIRMED → COMPLETE at `finalized` (Solana's finality; Circle's 33-block depth); back to
//!   SENT if the signature disappeared (a dropped fork): the same bytes go out again;
//! - while it has no status the bytes are sent again every [`RESEND_MS`]; STUCK after
//!   [`SOLANA_STUCK_AFTER_MS`]; and only when the finalized height is past the attempt's
//!   `lastValidBlockHeight` and the node does not know the signature is it given up: FAILED
//!   `TRANSACTION_UNDER_PRICE` (or `INSUFFICIENT_NATIVE_TOKEN` when the node refused it for
//!   lack of funds). Never re-signed: the key needs the user's PIN.
//!
//! A CONFIRMED deposit (INBOUND) takes the same last step.

use super::step::Step;
use crate::money::node::{NodeError, RejectKind};
use crate::money::outbound::{AttemptRecord, AttemptStatus};
use crate::money::solana::{SolanaChain, SolanaNode, SOLANA_STUCK_AFTER_MS};
use crate::money::transactions::{TxState, TxType};
use latchkey_chains::{format_units, U256};

/// How often bytes without a status are sent again: the blockhash lives about a minute, so
/// far more often than EVM's rebroadcast (Solana's "retrying transactions" guidance).
pub(super) const RESEND_MS: i64 = 2_000;

const EXPIRED: &str = "the blockhash expired before the transaction landed; nothing was sent; \
                       create the transfer again";

fn sol(lamports: u64) -> String {
    format_units(U256::from(lamports), 9)
}

impl Step<'_, SolanaChain> {
    fn node(&self) -> &dyn SolanaNode {
        self.chain.node.as_ref()
    }

    /// Takes the transaction as far as its state allows in one step.
    pub(super) async fn run_solana(&mut self) {
        if self.progress.transaction.state == TxState::Initiated {
            self.enter(TxState::Queued);
        }
        if self.progress.transaction.state == TxState::Queued {
            self.send().await;
        }
        if matches!(
            self.progress.transaction.state,
            TxState::Sent | TxState::Stuck
        ) {
            self.follow_solana().await;
        }
        if self.progress.transaction.state == TxState::Confirmed {
            self.finalize().await;
        }
    }

    /// QUEUED: the stored bytes to a node.
    async fn send(&mut self) {
        let Some(attempt) = self.sendable() else {
            self.fail("INTERNAL_ERROR", "no signed transaction is stored");
            return;
        };
        match self.node().send(&attempt.raw).await {
            Ok(_) | Err(NodeError::Rejected(RejectKind::AlreadyKnown, _)) => self.sent(&attempt),
            Err(NodeError::Rejected(kind @ RejectKind::Permanent, msg)) => {
                // The preflight refused it. If an earlier send landed (a crash between it and
                // its write), the signature is known: that is SENT, not a failure.
                match self.node().status(&attempt.tx_hash).await {
                    Ok(Some(_)) => self.sent(&attempt),
                    Ok(None) => {
                        self.attempt_changed(
                            &attempt.id,
                            AttemptStatus::Rejected,
                            Some(msg.clone()),
                            false,
                        );
                        tracing::info!(?kind, "the node refused the transaction");
                        self.fail(
                            "INTERNAL_ERROR",
                            format!("the node refused the transaction: {msg}"),
                        );
                    }
                    Err(e) => tracing::info!(error = %e, "cannot read a status; retried"),
                }
            }
            Err(NodeError::Rejected(_, msg)) => {
                // A blockhash the node does not know yet (a lagging node), or funds: retried
                // while the blockhash lives.
                self.attempt_changed(&attempt.id, attempt.status, Some(msg), false);
                self.give_up_if_expired(&attempt).await;
                self.stuck_after(self.progress.transaction.created_at.0);
            }
            Err(e) => {
                tracing::info!(error = %e, "send failed; retried on the next pass");
                self.give_up_if_expired(&attempt).await;
            }
        }
    }

    /// STUCK once [`SOLANA_STUCK_AFTER_MS`] passed since `since` (ms) without a status.
    fn stuck_after(&mut self, since: i64) {
        let state = self.progress.transaction.state;
        let live = matches!(state, TxState::Queued | TxState::Sent);
        if live && self.now.0 - since > SOLANA_STUCK_AFTER_MS {
            self.enter(TxState::Stuck);
        }
    }

    /// FAILED when the attempt can never land (see the module doc); nothing otherwise.
    async fn give_up_if_expired(&mut self, attempt: &AttemptRecord) {
        let Some(last_valid) = attempt.last_valid_block_height else {
            return;
        };
        match self
            .node()
            .can_never_land(&attempt.tx_hash, last_valid)
            .await
        {
            Ok(true) => {
                let funds = attempt.last_error.as_deref().is_some_and(|e| {
                    let e = e.to_ascii_lowercase();
                    e.contains("insufficient") || e.contains("no record of a prior credit")
                });
                self.attempt_changed(&attempt.id, AttemptStatus::Rejected, None, false);
                if funds {
                    self.fail(
                        "INSUFFICIENT_NATIVE_TOKEN",
                        "the wallet could not pay for the transaction before its blockhash \
                         expired; nothing was sent",
                    );
                } else {
                    self.fail("TRANSACTION_UNDER_PRICE", EXPIRED);
                }
            }
            Ok(false) => {}
            Err(e) => tracing::info!(error = %e, "cannot tell whether it expired; retried"),
        }
    }

    /// SENT / STUCK: its status, or a resend of the same bytes.
    async fn follow_solana(&mut self) {
        let Some(attempt) = self.sendable() else {
            return;
        };
        let status = match self.node().status(&attempt.tx_hash).await {
            Ok(status) => status,
            Err(e) => {
                tracing::info!(error = %e, "cannot read a status; retried");
                return;
            }
        };
        match status {
            Some(s) if s.err.is_some() => {
                self.landed(&attempt, s.slot).await;
                let err = s.err.unwrap_or_default();
                self.fail(
                    "FAILED_ON_CHAIN",
                    format!("the transaction failed on chain: {err}"),
                );
            }
            Some(s) if s.confirmed => {
                self.landed(&attempt, s.slot).await;
                self.enter(TxState::Confirmed);
                if s.finalized {
                    self.enter(TxState::Complete);
                }
            }
            // Processed only: it landed in a block not yet voted on; wait.
            Some(_) => {}
            None => {
                self.give_up_if_expired(&attempt).await;
                if self.progress.transaction.state == TxState::Failed {
                    return;
                }
                let t = &self.progress.transaction;
                self.stuck_after(t.sent_at.unwrap_or(t.created_at).0);
                self.resend(&attempt).await;
            }
        }
    }

    /// The same bytes again, at most every [`RESEND_MS`].
    async fn resend(&mut self, a: &AttemptRecord) {
        let recent = a
            .last_broadcast_at
            .is_some_and(|at| self.now.0 - at.0 < RESEND_MS);
        if recent {
            return;
        }
        match self.node().send(&a.raw).await {
            Ok(_) | Err(NodeError::Rejected(RejectKind::AlreadyKnown, _)) => {
                self.attempt_changed(&a.id, AttemptStatus::Broadcast, None, true);
                if self.progress.transaction.state == TxState::Stuck {
                    self.enter(TxState::Sent);
                }
            }
            Err(e) => {
                tracing::info!(error = %e, "resend refused; retried");
                self.attempt_changed(&a.id, a.status, Some(e.to_string()), false);
            }
        }
    }

    /// It is in a block (successfully or not): slot, first confirmation and the fee it paid.
    async fn landed(&mut self, a: &AttemptRecord, slot: u64) {
        self.attempt_changed(&a.id, AttemptStatus::Mined, None, false);
        let fee = match self.node().fee_paid(&a.tx_hash).await {
            Ok(Some(fee)) => Some(sol(fee)),
            Ok(None) => None,
            Err(e) => {
                tracing::info!(error = %e, "cannot read the fee paid");
                None
            }
        };
        let now = self.now;
        let t = self.tx();
        t.tx_hash = Some(a.tx_hash.clone());
        t.block_height = i64::try_from(slot).ok();
        t.first_confirm_date.get_or_insert(now);
        if fee.is_some() {
            t.network_fee = fee;
        }
    }

    /// CONFIRMED: COMPLETE at `finalized`; a signature gone from the node (a dropped fork)
    /// goes back to SENT (outbound: its bytes are sent again) or FAILED_REORG (a deposit).
    async fn finalize(&mut self) {
        let Some(signature) = self.progress.transaction.tx_hash.clone() else {
            return;
        };
        match self.node().status(&signature).await {
            Ok(Some(s)) if s.finalized => self.enter(TxState::Complete),
            Ok(Some(_)) => {}
            Ok(None) if self.progress.transaction.tx_type == TxType::Inbound => {
                self.fail(
                    "FAILED_REORG",
                    "the deposit left the chain before finalization",
                );
            }
            Ok(None) => {
                let Some(a) = self.sendable() else { return };
                self.attempt_changed(&a.id, AttemptStatus::Broadcast, None, false);
                let t = self.tx();
                t.block_height = None;
                t.first_confirm_date = None;
                self.enter(TxState::Sent);
                let mut again = a;
                again.last_broadcast_at = None;
                self.resend(&again).await;
            }
            Err(e) => tracing::info!(error = %e, "cannot read a status; retried"),
        }
    }
}
