//! Transactions: the records the outbound engine and the inbound follower write, and the
//! storage contract for them. The read side (list, get, lowest nonce) is in
//! [`super::history`]; the one wire form is [`super::view::TransactionView`].

use super::fees::{FeeLevel, TransactionFee};
use crate::clock::Timestamp;
use crate::model::Environment;
use crate::store::{Page, PageQuery, StoreResult};
use async_trait::async_trait;
use latchkey_chains::Blockchain;
use serde::{Deserialize, Serialize};

/// Declares a wire enum: its variants with Circle's spelling, `as_str`, `parse` and `ALL`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        // Circle's spellings are the variants in SCREAMING_SNAKE_CASE (a test checks each
        // against `$wire`): one enum-level rule, which the OpenAPI derive reads too.
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in Circle's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// Circle's spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            /// Parses Circle's spelling; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

wire_enum! {
    /// Circle's `TransactionState`. latchkey never emits CLEARED or DENIED (it does no
    /// screening); they exist so that every value a client may send as a filter parses.
    TxState {
        /// Approved by the user's PIN, not yet picked up by the engine.
        Initiated = "INITIATED",
        /// Passed screening (never emitted).
        Cleared = "CLEARED",
        /// Picked up by the engine, waiting to be broadcast.
        Queued = "QUEUED",
        /// Accepted by a node.
        Sent = "SENT",
        /// Sent, and no receipt within the chain's `stuck_after`.
        Stuck = "STUCK",
        /// In a block.
        Confirmed = "CONFIRMED",
        /// In a block deep enough.
        Complete = "COMPLETE",
        /// Failed (`errorReason` says why).
        Failed = "FAILED",
        /// Refused by screening (never emitted).
        Denied = "DENIED",
        /// Replaced by a cancel that was mined.
        Cancelled = "CANCELLED",
    }
}

wire_enum! {
    /// Circle's `TransactionType`.
    TxType {
        /// A deposit seen on chain.
        Inbound = "INBOUND",
        /// Sent by one of the user's wallets.
        Outbound = "OUTBOUND",
    }
}

wire_enum! {
    /// Circle's `Operation`.
    TxOperation {
        /// A native or token transfer.
        Transfer = "TRANSFER",
        /// A contract call.
        ContractExecution = "CONTRACT_EXECUTION",
        /// A contract deployment (Circle's enum; latchkey creates none).
        ContractDeployment = "CONTRACT_DEPLOYMENT",
    }
}

/// One row of `transactions`: every column, plus the owner's developer `userId` (read from
/// `users`, not stored with the transaction; ignored on insert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRecord {
    /// Transaction id (UUID).
    pub id: String,
    /// Owning entity.
    pub entity_id: String,
    /// The owner's internal id.
    pub user_internal_id: String,
    /// The owner's developer userId (read only).
    pub user_id: String,
    /// The wallet that sent or received.
    pub wallet_id: String,
    /// Its chain.
    pub blockchain: Blockchain,
    /// INBOUND or OUTBOUND.
    pub tx_type: TxType,
    /// TRANSFER or CONTRACT_EXECUTION.
    pub operation: TxOperation,
    /// Where it is in its life.
    pub state: TxState,
    /// The token moved; `None` for a contract call without value.
    pub token_id: Option<String>,
    /// Amounts in whole units (`["0.01"]`); empty for a call without value.
    pub amounts: Vec<String>,
    /// NFT token ids (ERC-721 / ERC-1155).
    pub nft_token_ids: Option<Vec<String>>,
    /// Sender address.
    pub source_address: Option<String>,
    /// Recipient (the contract, for a contract call).
    pub destination_address: Option<String>,
    /// The contract called.
    pub contract_address: Option<String>,
    /// `transfer(address,uint256)`.
    pub abi_function_signature: Option<String>,
    /// The call's parameters as the developer gave them.
    pub abi_parameters: Option<Vec<serde_json::Value>>,
    /// Raw calldata (`0x…`), when given instead of a signature.
    pub call_data: Option<String>,
    /// The developer's reference.
    pub ref_id: Option<String>,
    /// The fee level chosen, if any.
    pub fee_level: Option<FeeLevel>,
    /// The fee the user approved.
    pub estimated_fee: Option<TransactionFee>,
    /// The nonce (OUTBOUND EVM, once reserved).
    pub nonce: Option<i64>,
    /// Hash of the attempt that counts.
    pub tx_hash: Option<String>,
    /// SCA wallets: the ERC-4337 operation's EntryPoint hash (Circle's `userOpHash`); `None`
    /// for EOA transactions.
    pub user_op_hash: Option<String>,
    /// Block of the receipt.
    pub block_hash: Option<String>,
    /// Height of that block.
    pub block_height: Option<i64>,
    /// When first seen in a block.
    pub first_confirm_date: Option<Timestamp>,
    /// Fee paid, native units.
    pub network_fee: Option<String>,
    /// Circle's errorReason (FAILED only).
    pub error_reason: Option<String>,
    /// Detail of the failure.
    pub error_details: Option<String>,
    /// OUTBOUND: the challenge that created it.
    pub challenge_id: Option<String>,
    /// INBOUND: `-1` for native value, else the log index.
    pub log_index: Option<i64>,
    /// First accepted broadcast (the STUCK timer).
    pub sent_at: Option<Timestamp>,
    /// When the engine or follower next looks at it.
    pub next_check_at: Timestamp,
    /// Lease of the engine instance working on it.
    pub lease_until: Option<Timestamp>,
    /// That lease's token.
    pub lease_token: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

impl TransactionRecord {
    /// A new transaction of `user`'s wallet `wallet_id`, created at `now` and due now, with
    /// every optional field empty: OUTBOUND starts INITIATED (approved, not yet sent),
    /// INBOUND starts CONFIRMED (seen in a block).
    pub fn new(
        id: String,
        user: &crate::model::UserRecord,
        wallet_id: String,
        blockchain: Blockchain,
        tx_type: TxType,
        operation: TxOperation,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            entity_id: user.entity_id.clone(),
            user_internal_id: user.internal_id.clone(),
            user_id: user.user_id.clone(),
            wallet_id,
            blockchain,
            tx_type,
            operation,
            state: match tx_type {
                TxType::Outbound => TxState::Initiated,
                TxType::Inbound => TxState::Confirmed,
            },
            token_id: None,
            amounts: Vec::new(),
            nft_token_ids: None,
            source_address: None,
            destination_address: None,
            contract_address: None,
            abi_function_signature: None,
            abi_parameters: None,
            call_data: None,
            ref_id: None,
            fee_level: None,
            estimated_fee: None,
            nonce: None,
            tx_hash: None,
            user_op_hash: None,
            block_hash: None,
            block_height: None,
            first_confirm_date: None,
            network_fee: None,
            error_reason: None,
            error_details: None,
            challenge_id: None,
            log_index: None,
            sent_at: None,
            next_check_at: now,
            lease_until: None,
            lease_token: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Filters of `GET /transactions` (all optional; the user is always the token's).
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    /// Only this chain.
    pub blockchain: Option<Blockchain>,
    /// Only to this address (EVM `0x…` compared case-insensitively).
    pub destination_address: Option<String>,
    /// Only this operation.
    pub operation: Option<TxOperation>,
    /// Only this state.
    pub state: Option<TxState>,
    /// Only this hash (`0x…` compared case-insensitively).
    pub tx_hash: Option<String>,
    /// Only this direction.
    pub tx_type: Option<TxType>,
    /// Only these wallets (`None`: all of the user's).
    pub wallet_ids: Option<Vec<String>>,
    /// Only transactions of these tokens, plus those without a token (`None`: every token).
    /// The monitored-token scope decides it; `includeAll=true` gives `None`.
    pub visible_token_ids: Option<Vec<String>>,
}

/// The wallet of a lowest-nonce query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalletSelector {
    /// By id; a given blockchain must be the wallet's.
    Id {
        /// Wallet id.
        wallet_id: String,
        /// Optional chain the wallet must be on.
        blockchain: Option<Blockchain>,
    },
    /// By address on a chain (EVM `0x…` compared case-insensitively).
    Address {
        /// The wallet's address.
        address: String,
        /// Its chain.
        blockchain: Blockchain,
    },
}

/// Storage for transactions, their signed attempts and the per-wallet nonces (implemented by
/// `latchkey-store`).
#[async_trait]
pub trait TransactionStore: Send + Sync {
    /// Inserts a transaction ([`crate::store::StoreError::Conflict`] when its id, its
    /// (wallet, nonce) while not FAILED, or an inbound (chain, hash, log index, wallet)
    /// exists).
    async fn insert_transaction(&self, tx: &TransactionRecord) -> StoreResult<()>;
    /// One of the user's transactions.
    async fn transaction(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        id: &str,
    ) -> StoreResult<Option<TransactionRecord>>;
    /// A page of the user's transactions; `None` when the cursor names none of theirs.
    async fn list_transactions(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        filter: &TransactionFilter,
        page: &PageQuery,
    ) -> StoreResult<Option<Page<TransactionRecord>>>;
    /// The lowest-nonce OUTBOUND transaction in QUEUED, SENT or STUCK of one wallet of the
    /// entity's `environment`.
    async fn lowest_nonce_transaction(
        &self,
        entity_id: &str,
        environment: Environment,
        wallet: &WalletSelector,
    ) -> StoreResult<Option<TransactionRecord>>;
    /// The NFTs one of the user's wallets moved: for each of its transactions with NFT ids
    /// (INBOUND and OUTBOUND, any state), oldest first, the token id and the `nftTokenIds`;
    /// at most `limit` transactions.
    async fn wallet_nft_transfers(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        wallet_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<NftTransfer>>;
}

/// The NFT ids one transaction moved (what `/nfts` asks the chain about).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftTransfer {
    /// The token (collection) id.
    pub token_id: String,
    /// The NFT ids, as recorded.
    pub nft_token_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire<T: Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }

    #[test]
    fn serde_spells_every_value_as_circle_does() {
        for v in TxState::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in TxType::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in TxOperation::ALL {
            assert_eq!(wire(v), v.as_str());
        }
    }
}
