//! The outbound engine: takes the transactions the users approved (stored with their signed
//! bytes by the challenge's commit) to the chain and follows them to a final state.
//!
//! Each pass leases the due transactions of a chain (`EngineStore::claim_due_transactions`;
//! two instances never work on one), takes each one step, and writes the step only if the
//! lease is still held, with one `transactions.outbound` notification per state passed, in the
//! same database transaction:
//! - INITIATED → QUEUED when first picked up;
//! - QUEUED → SENT once a node accepts the newest stored attempt (a wallet's nonces go out in
//!   order; a node that already has it counts as accepted, so a crash between the broadcast
//!   and its write only repeats the send);
//! - SENT/STUCK → CONFIRMED (or CANCELLED, when the cancel attempt was mined; FAILED
//!   `FAILED_ON_CHAIN` when it reverted) on a receipt of any of its attempts;
//! - CONFIRMED → COMPLETE once the chain's confirmation depth is reached and the block is
//!   still canonical; back to SENT when a reorg dropped it (the same bytes are sent again).
//!
//! A node error leaves the transaction where it is for the next pass. The engine never signs
//! with a user's key: without the user's PIN it can only send what was signed with it. The one
//! key it signs with is the operator's gas station, which wraps an SCA wallet's signed
//! UserOperation in a `handleOps` bundle ([`bundle`]).
//!
//! Solana chains take the same passes with their own step (`solana_step`: statuses by
//! commitment instead of receipts and depth, a blockhash's expiry instead of a nonce).

mod bundle;
pub(crate) use bundle::BUNDLE_OVERHEAD_GAS;
mod solana_step;
mod step;

use super::chains::Chain;
use super::outbound::TxProgress;
use super::solana::SolanaChain;
use super::transactions::{TransactionRecord, TxType};
use super::view::TransactionView;
use crate::model::Environment;
use crate::service::Latchkey;
use crate::webhooks::NotificationDraft;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use step::Step;

/// How the engine paces itself (docs/configuration.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSettings {
    /// Pause between passes when nothing was due.
    pub poll: Duration,
    /// How long a pass holds a transaction (another instance takes it after that).
    pub lease_ms: i64,
    /// Transactions per chain per pass.
    pub batch: u32,
    /// When a transaction is looked at again while it waits (mempool, confirmations).
    pub recheck_ms: i64,
    /// A sent transaction the node no longer knows is sent again at most this often.
    pub rebroadcast_ms: i64,
    /// How long a transaction the node refuses for lack of funds waits for a deposit before
    /// it fails with `INSUFFICIENT_NATIVE_TOKEN`.
    pub insufficient_funds_grace_ms: i64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(500),
            lease_ms: 30_000,
            batch: 32,
            recheck_ms: 1_000,
            rebroadcast_ms: 30_000,
            insufficient_funds_grace_ms: 600_000,
        }
    }
}

/// `transactions.outbound` (or `.inbound`) carrying the transaction as
/// `GET /transactions/{id}` shows it.
pub fn transaction_notification(
    record: &TransactionRecord,
    environment: Environment,
) -> NotificationDraft {
    let notification_type = match record.tx_type {
        TxType::Inbound => "transactions.inbound",
        TxType::Outbound => "transactions.outbound",
    };
    NotificationDraft {
        entity_id: record.entity_id.clone(),
        environment,
        notification_type: notification_type.into(),
        payload: serde_json::to_value(TransactionView::new(record)).unwrap_or_default(),
        only_subscription: None,
    }
}

/// Steps each claimed transaction in turn; how many there were. A failed step is retried once
/// its lease runs out.
async fn each<F, Fut>(claimed: Vec<TransactionRecord>, step: F) -> usize
where
    F: Fn(TransactionRecord) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let n = claimed.len();
    for t in claimed {
        let id = t.id.clone();
        if let Err(e) = step(t).await {
            tracing::warn!(error = %e, transaction = %id, "engine step failed; retried after the lease");
        }
    }
    n
}

/// How often the Solana follower runs on a node that is not local.
const SOLANA_FOLLOW_EVERY_MS: i64 = 2_000;

/// The lease of a Solana transaction's step (see `pass_solana`).
const SOLANA_LEASE_MS: i64 = 5_000;

/// How soon a transaction on a local node is looked at again.
const LOCAL_RECHECK_MS: i64 = 100;

/// How often the nonce sweeper runs (it is a write, even when it finds nothing).
const SWEEP_EVERY_MS: i64 = 30_000;

/// The outbound engine of one server instance.
#[derive(Clone)]
pub struct Engine {
    lk: Latchkey,
    settings: EngineSettings,
    /// When the nonce sweeper last ran (ms on the server's clock).
    last_sweep: Arc<AtomicI64>,
    /// When the Solana follower last ran on a node that is not local (ms on the server's
    /// clock).
    last_solana_follow: Arc<AtomicI64>,
    /// This instance's lease token on the chains it follows.
    follower_token: Arc<str>,
}

impl Engine {
    /// An engine over `lk`'s chains and store.
    pub fn new(lk: Latchkey, settings: EngineSettings) -> Self {
        Self {
            lk,
            settings,
            last_sweep: Arc::new(AtomicI64::new(i64::MIN)),
            last_solana_follow: Arc::new(AtomicI64::new(i64::MIN)),
            follower_token: uuid::Uuid::new_v4().to_string().into(),
        }
    }

    /// Passes until `shutdown` resolves, pausing `poll` whenever a pass found nothing due
    /// (at most [`LOCAL_RECHECK_MS`] when a chain is a local node, which mines at once).
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let chains = self.lk.chains();
        let local =
            chains.iter().any(|c| c.info.is_local) || chains.solana().any(|c| c.info.is_local);
        let pause = if local {
            self.settings
                .poll
                .min(Duration::from_millis(LOCAL_RECHECK_MS.unsigned_abs()))
        } else {
            self.settings.poll
        };
        loop {
            let worked = self.run_once().await;
            if worked == 0 {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }

    /// One pass over every chain (and the nonce sweeper); how many transactions it stepped.
    pub async fn run_once(&self) -> usize {
        let now = self.lk.now();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.0.saturating_sub(last) >= SWEEP_EVERY_MS {
            self.last_sweep.store(now.0, Ordering::Relaxed);
            match self.lk.store.release_abandoned_nonces(now).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(released = n, "released the nonces of abandoned executions")
                }
                Err(e) => tracing::warn!(error = %e, "cannot release abandoned nonces"),
            }
        }
        let mut worked = 0;
        for chain in self.lk.chains().iter() {
            worked += super::follower::follow(
                &self.lk,
                chain,
                &self.follower_token,
                self.settings.lease_ms,
            )
            .await;
            worked += self.pass(chain).await;
        }
        // The Solana follower costs one call per watched address per pass (a block-wise read
        // has no cheap equivalent there): on a remote node it runs every
        // SOLANA_FOLLOW_EVERY_MS, not on every pass.
        let last = self.last_solana_follow.load(Ordering::Relaxed);
        let follow_remote = now.0.saturating_sub(last) >= SOLANA_FOLLOW_EVERY_MS;
        if follow_remote {
            self.last_solana_follow.store(now.0, Ordering::Relaxed);
        }
        for chain in self.lk.chains().solana() {
            if chain.info.is_local || follow_remote {
                worked += super::solana_follower::follow(
                    &self.lk,
                    chain,
                    &self.follower_token,
                    self.settings.lease_ms,
                )
                .await;
            }
            worked += self.pass_solana(chain).await;
        }
        worked
    }

    async fn claim(
        &self,
        blockchain: latchkey_chains::Blockchain,
        lease_ms: i64,
    ) -> Vec<TransactionRecord> {
        let now = self.lk.now();
        match self
            .lk
            .store
            .claim_due_transactions(blockchain, now, lease_ms, self.settings.batch)
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, blockchain = %blockchain, "cannot claim transactions");
                Vec::new()
            }
        }
    }

    async fn pass_solana(&self, chain: &SolanaChain) -> usize {
        // A short lease: an instance killed mid-step must not keep its successor away for a
        // good part of the blockhash's ~60 s window. Two instances stepping one Solana
        // transaction at once are harmless: they send the same bytes (one signature), and only
        // the lease holder's write stands.
        let lease_ms = self.settings.lease_ms.min(SOLANA_LEASE_MS);
        let claimed = self.claim(chain.info.blockchain, lease_ms).await;
        each(claimed, |t| self.step_solana(chain, t)).await
    }

    #[tracing::instrument(skip_all, fields(transaction = %t.id, state = t.state.as_str()))]
    async fn step_solana(&self, chain: &SolanaChain, t: TransactionRecord) -> Result<(), String> {
        let mut s = self.begin(chain, t, chain.info.is_local).await?;
        s.run_solana().await;
        self.finish(s).await
    }

    async fn pass(&self, chain: &Chain) -> usize {
        let claimed = self
            .claim(chain.info.blockchain, self.settings.lease_ms)
            .await;
        each(claimed, |t| self.step(chain, t)).await
    }

    #[tracing::instrument(skip_all, fields(transaction = %t.id, state = t.state.as_str()))]
    async fn step(&self, chain: &Chain, t: TransactionRecord) -> Result<(), String> {
        let mut s = self.begin(chain, t, chain.info.is_local).await?;
        s.run(self.lk.store.as_ref()).await;
        self.finish(s).await
    }

    /// A step on `t`: its attempts and its owner's environment read, due again after the
    /// recheck interval unless the step says otherwise.
    async fn begin<'c, C>(
        &self,
        chain: &'c C,
        t: TransactionRecord,
        is_local: bool,
    ) -> Result<Step<'c, C>, String> {
        let store = &self.lk.store;
        let attempts = store.attempts(&t.id).await.map_err(|e| e.to_string())?;
        let environment = store
            .user_by_internal_id(&t.entity_id, &t.user_internal_id)
            .await
            .map_err(|e| e.to_string())?
            .map(|u| u.environment)
            .ok_or("the transaction's user is gone")?;
        let mut s = Step {
            now: self.lk.now(),
            settings: self.settings,
            chain,
            environment,
            attempts,
            progress: TxProgress {
                transaction: t,
                attempts: Vec::new(),
                notifications: Vec::new(),
                release_nonce: false,
            },
        };
        // A local node mines at once: look again soon rather than after a mainnet's pace.
        let recheck = if is_local {
            self.settings.recheck_ms.min(LOCAL_RECHECK_MS)
        } else {
            self.settings.recheck_ms
        };
        s.progress.transaction.next_check_at = s.now.plus_ms(recheck);
        Ok(s)
    }

    /// Writes what the step did, if the lease still holds (notifications only when the
    /// entity is notified about this transaction).
    async fn finish<C>(&self, mut s: Step<'_, C>) -> Result<(), String> {
        let store = &self.lk.store;
        if !self
            .lk
            .notifies_about(&s.progress.transaction, s.environment)
            .await
        {
            s.progress.notifications.clear();
        }
        let saved = store
            .save_progress(&s.progress)
            .await
            .map_err(|e| e.to_string())?;
        if !saved {
            tracing::info!("lease lost to another instance; its step stands");
        }
        Ok(())
    }
}
