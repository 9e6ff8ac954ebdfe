//! The outbound side of the money store: per-wallet nonces handed out by the database, so
//! that two executions (or two server instances) never sign one nonce twice.
//!
//! A nonce is *claimed* for one challenge execution before anything is signed
//! ([`OutboundStore::reserve_nonce`]); the commit that writes the signed transaction marks
//! the claim USED. A claim whose challenge ended without that commit is RELEASED by the
//! sweeper ([`OutboundStore::release_abandoned_nonces`]) and handed out again first, so a
//! crash between reservation and commit never leaves a permanent gap in the wallet's nonces.

use super::transactions::TransactionRecord;
use crate::clock::Timestamp;
use crate::store::StoreResult;
use crate::webhooks::NotificationDraft;
use async_trait::async_trait;
use latchkey_chains::{Blockchain, EvmFee};

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
    /// claim, failed, or expired by `now`) become RELEASED, and so do the gas stations'
    /// RESERVED claims of transactions that ended without their bundle. Returns how many.
    async fn release_abandoned_nonces(&self, now: Timestamp) -> StoreResult<u64>;

    /// The nonce of a gas station (`station` = `BLOCKCHAIN:0xaddress`) the bundle of
    /// `transaction_id` is signed with, by [`OutboundStore::reserve_nonce`]'s rules with the
    /// transaction as the holder (a step that crashed before storing its bundle gets the same
    /// nonce back).
    async fn reserve_station_nonce(
        &self,
        station: &str,
        transaction_id: &str,
        chain: ChainNonces,
        now: Timestamp,
    ) -> StoreResult<u64>;
}

/// Declares a stored enum with its spelling, `as_str` and `parse`.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The stored spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// Parses the stored spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

stored_enum! {
    /// Which signed artefact of a transaction an attempt is.
    AttemptKind {
        /// The transaction as the user first approved it.
        Original = "ORIGINAL",
        /// The same nonce and call at a higher fee.
        Accelerate = "ACCELERATE",
        /// A zero-value self-send at the same nonce and a higher fee.
        Cancel = "CANCEL",
        /// An SCA's signed ERC-4337 operation (the ABI-encoded `PackedUserOperation`; its
        /// hash is the userOpHash, its nonce the EntryPoint's). Never sent as a transaction:
        /// the engine bundles it.
        UserOperation = "USER_OPERATION",
        /// The gas station's `handleOps` transaction carrying the operation (its nonce is the
        /// station's).
        Bundle = "BUNDLE",
    }
}

stored_enum! {
    /// Where one signed attempt stands.
    AttemptStatus {
        /// Signed and stored, never accepted by a node.
        Stored = "STORED",
        /// A node accepted it.
        Broadcast = "BROADCAST",
        /// In a block.
        Mined = "MINED",
        /// A sibling attempt (same nonce) was mined instead.
        Replaced = "REPLACED",
        /// Refused by the node for good.
        Rejected = "REJECTED",
    }
}

/// One signed artefact of an outbound transaction, stored before any broadcast
/// (`tx_attempts`): the engine only ever sends bytes it finds here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// Attempt id (UUID).
    pub id: String,
    /// The transaction it belongs to.
    pub transaction_id: String,
    /// Original, accelerate or cancel.
    pub kind: AttemptKind,
    /// The challenge whose PIN approved it.
    pub challenge_id: String,
    /// Its nonce (the transaction's).
    pub nonce: u64,
    /// The signed transaction, as `eth_sendRawTransaction` takes it.
    pub raw: Vec<u8>,
    /// Its hash (`0x…`).
    pub tx_hash: String,
    /// Gas units it is signed with.
    pub gas_limit: u64,
    /// EIP-1559 `maxFeePerGas` (wei).
    pub max_fee: Option<u128>,
    /// EIP-1559 `maxPriorityFeePerGas` (wei).
    pub priority_fee: Option<u128>,
    /// Legacy `gasPrice` (wei).
    pub gas_price: Option<u128>,
    /// Where it stands.
    pub status: AttemptStatus,
    /// The node's last refusal, if any.
    pub last_error: Option<String>,
    /// How many times it was sent.
    pub broadcasts: i64,
    /// When it was last sent.
    pub last_broadcast_at: Option<Timestamp>,
    /// Signed at.
    pub created_at: Timestamp,
    /// Solana: the blockhash it was signed under (base58).
    pub recent_blockhash: Option<String>,
    /// Solana: the last block height it can land at; past it (finalized) and unknown to the
    /// node, it never will.
    pub last_valid_block_height: Option<u64>,
}

/// What an approved outbound challenge writes in the transaction that completes it.
// One lives per execution: boxing the larger variant would buy nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum OutboundWrite {
    /// A new transaction, its signed attempt, and the nonce claim the attempt uses (marked
    /// USED, or the commit is refused with [`crate::store::CommitRefused::NonceLost`]).
    New {
        /// The new transaction (INITIATED, or FAILED when doomed before signing).
        transaction: TransactionRecord,
        /// Its signed attempt (`None` for a transaction that failed before signing).
        attempt: Option<AttemptRecord>,
        /// The nonce of the wallet's claim this challenge holds.
        claimed_nonce: Option<u64>,
        /// `transactions.outbound`, when the transaction is written FAILED.
        notification: Option<NotificationDraft>,
    },
    /// A replacement (accelerate or cancel) of a live transaction: same nonce, higher fee.
    /// The transaction becomes due now, so the engine sends the new attempt on its next pass;
    /// refused with [`crate::store::CommitRefused::NotReplaceable`] when it is no longer live.
    Replacement {
        /// The new attempt (its `transaction_id` names the transaction).
        attempt: AttemptRecord,
    },
}

/// A change to an attempt, written with its transaction's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptChange {
    /// The attempt.
    pub id: String,
    /// Its new status.
    pub status: AttemptStatus,
    /// The node's refusal, if this change records one.
    pub last_error: Option<String>,
    /// It was sent now (counts a broadcast).
    pub sent_at: Option<Timestamp>,
}

/// One step of the engine on a transaction it holds the lease of: the transaction's new
/// state and fields, its attempts' changes and the notification, written together only if the
/// lease is still this one (`transaction.lease_token`). The lease is given back.
#[derive(Debug, Clone)]
pub struct TxProgress {
    /// The transaction as it is now (its id and lease token select the row).
    pub transaction: TransactionRecord,
    /// Changes to its attempts.
    pub attempts: Vec<AttemptChange>,
    /// `transactions.outbound` for each state it passed through in this step, in order.
    pub notifications: Vec<NotificationDraft>,
    /// The transaction failed before any of its bytes reached a node: its nonce claim goes
    /// back (RELEASED) for the wallet's next transaction.
    pub release_nonce: bool,
}

/// Storage for the outbound engine's work queue (implemented by `latchkey-store`).
#[async_trait]
pub trait EngineStore: Send + Sync {
    /// Leases up to `limit` transactions of `blockchain` that are due (`next_check_at` passed,
    /// no live lease): OUTBOUND ones not yet terminal, and CONFIRMED deposits (INBOUND, on
    /// their way to COMPLETE), for `lease_ms`; each returned record carries the new lease
    /// token.
    async fn claim_due_transactions(
        &self,
        blockchain: Blockchain,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<TransactionRecord>>;

    /// A transaction's attempts, oldest first.
    async fn attempts(&self, transaction_id: &str) -> StoreResult<Vec<AttemptRecord>>;

    /// Whether an OUTBOUND transaction of the wallet with a lower nonce is still INITIATED
    /// or QUEUED (a nonce must not reach the node before the ones below it).
    async fn lower_nonce_waiting(&self, wallet_id: &str, nonce: i64) -> StoreResult<bool>;

    /// How many OUTBOUND transactions of the wallet are still on their way to a block
    /// (INITIATED, QUEUED, SENT or STUCK).
    async fn pending_outbound(&self, wallet_id: &str) -> StoreResult<u64>;

    /// Writes `progress` if its lease is still held; `false` (nothing written) when another
    /// instance took the transaction meanwhile. A transaction with a `user_op_hash` that
    /// failed before any bundle reached a node (`release_nonce`) gives its station nonce back;
    /// one that becomes COMPLETE marks its wallet deployed.
    async fn save_progress(&self, progress: &TxProgress) -> StoreResult<bool>;

    /// Stores the gas station's signed bundle of an SCA transaction (before any broadcast)
    /// and marks the station nonce claim it uses USED, if the lease `lease_token` is still
    /// held; `false` (nothing written) otherwise.
    async fn add_bundle_attempt(
        &self,
        attempt: &AttemptRecord,
        lease_token: &str,
        station: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
}

/// At most this many OUTBOUND transactions of one wallet on their way to a block. A node's
/// pool keeps about this many pending transactions per sender (geth's `accountslots`) and
/// may drop the rest; Circle refuses further requests with 155264, and so does latchkey, at
/// creation, before any PIN.
pub const MAX_PENDING_PER_WALLET: u64 = 16;

impl crate::service::Latchkey {
    /// 155264 when `wallet_id` already has [`MAX_PENDING_PER_WALLET`] transactions pending.
    pub(crate) async fn ensure_pending_room(
        &self,
        wallet_id: &str,
    ) -> Result<(), crate::error::ApiError> {
        let pending = self
            .store
            .pending_outbound(wallet_id)
            .await
            .map_err(crate::service::store_failed)?;
        if pending >= MAX_PENDING_PER_WALLET {
            return Err(crate::error::codes::TOO_MANY_PENDING);
        }
        Ok(())
    }

    /// 155505 when the SCA wallet `wallet_id` has an operation on its way: one in flight per
    /// account (the EntryPoint orders an account's operations by nonce, and an operation
    /// signed now could not know whether the pending one deploys the account).
    pub(crate) async fn ensure_no_operation_pending(
        &self,
        wallet_id: &str,
    ) -> Result<(), crate::error::ApiError> {
        let pending = self
            .store
            .pending_outbound(wallet_id)
            .await
            .map_err(crate::service::store_failed)?;
        if pending > 0 {
            return Err(crate::error::codes::SCA_OPERATION_PENDING);
        }
        Ok(())
    }
}

/// An EVM attempt's fee columns (`max_fee`, `priority_fee`, `gas_price`) from the fee it was
/// signed with.
pub fn fee_columns(fee: &EvmFee) -> (Option<u128>, Option<u128>, Option<u128>) {
    match *fee {
        EvmFee::Eip1559 {
            max_fee,
            max_priority,
        } => (Some(max_fee), Some(max_priority), None),
        EvmFee::Legacy { gas_price } => (None, None, Some(gas_price)),
    }
}
