//! The outbound side of the money store: per-wallet nonces handed out by the database, so
//! that two executions (or two server instances) never sign one nonce twice.
//!
//! A nonce is *claimed* for one challenge execution before anything is signed
//! ([`OutboundStore::reserve_nonce`]); the commit that writes the signed transaction marks
//! the claim USED. A claim whose challenge ended without that commit is RELEASED by the
//! sweeper ([`OutboundStore::release_abandoned_nonces`]) and handed out again first, so a
//! crash between reservation and commit never leaves a permanent gap in the wallet's nonces.

use crate::clock::Timestamp;
use crate::store::StoreResult;
use async_trait::async_trait;

/// What the chain said about a wallet's nonces when the execution read it (preflight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainNonces {
    /// `eth_getTransactionCount(addr, "latest")`: every nonce below it is used on chain.
    pub latest: u64,
    /// `eth_getTransactionCount(addr, "pending")`: the node's next nonce, its pool included.
    pub pending: u64,
}

/// Storage for the outbound engine (implemented by `latchkey-store`).
#[async_trait]
pub trait OutboundStore: Send + Sync {
    /// The nonce `challenge_id` signs with on `wallet_id`, in one short transaction (on
    /// PostgreSQL under a row lock of the wallet's `wallet_nonces` row):
    /// 1. the claim this challenge already holds (a re-execution after a crash gets it back);
    /// 2. else the lowest RELEASED claim not yet used on chain (RELEASED claims below
    ///    `chain.latest` become DEAD first: something else used them);
    /// 3. else a new claim at `max(next_nonce, chain.pending)`.
    async fn reserve_nonce(
        &self,
        wallet_id: &str,
        challenge_id: &str,
        chain: ChainNonces,
        now: Timestamp,
    ) -> StoreResult<u64>;

    /// The sweeper: RESERVED claims whose challenge has ended (completed without using the
    /// claim, failed, or expired by `now`) become RELEASED. Returns how many.
    async fn release_abandoned_nonces(&self, now: Timestamp) -> StoreResult<u64>;
}
