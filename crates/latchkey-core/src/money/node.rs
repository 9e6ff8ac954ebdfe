//! What the money services need from an EVM JSON-RPC node, as a trait.
//!
//! The engine, the follower, the fee estimates and the faucet talk to a chain only through
//! [`EvmNode`]. `latchkey-evm` implements it over alloy's provider; tests of pure logic can
//! implement it in memory. The structs here are plain mirrors of what the engine reads, so
//! core never names an alloy RPC type.

use async_trait::async_trait;
use latchkey_chains::{Address, B256, U256};

/// Which block a read is evaluated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTag {
    /// The newest mined block.
    Latest,
    /// Latest plus the node's pending pool (for the next nonce).
    Pending,
    /// A block by number.
    Number(u64),
}

/// A call or gas-estimate request (`eth_call` / `eth_estimateGas` / `eth_sendTransaction`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// Sender.
    pub from: Option<Address>,
    /// Recipient or contract (`None` deploys).
    pub to: Option<Address>,
    /// Native value in wei.
    pub value: Option<U256>,
    /// Calldata.
    pub data: Vec<u8>,
    /// Gas limit.
    pub gas: Option<u64>,
}

/// A block header, with its transactions when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Height.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Parent's hash (reorg detection).
    pub parent_hash: B256,
    /// `baseFeePerGas`; `None` on a chain without EIP-1559.
    pub base_fee: Option<u128>,
    /// Unix seconds.
    pub timestamp: u64,
    /// The block's transactions (empty unless fetched with `full`).
    pub transactions: Vec<ChainTx>,
}

/// A transaction as the node reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTx {
    /// Hash.
    pub hash: B256,
    /// Sender.
    pub from: Address,
    /// Recipient (`None` for a deployment).
    pub to: Option<Address>,
    /// Native value in wei.
    pub value: U256,
    /// Sender nonce.
    pub nonce: u64,
    /// Block it was mined in, `None` while pending.
    pub block_number: Option<u64>,
}

/// A mined transaction's receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Block hash.
    pub block_hash: B256,
    /// Block height.
    pub block_number: u64,
    /// `true` for status 1.
    pub success: bool,
    /// Gas used.
    pub gas_used: u64,
    /// Price paid per gas, in wei.
    pub effective_gas_price: u128,
    /// L1 data fee in wei (OP-stack chains report it in the receipt).
    pub l1_fee: Option<u128>,
    /// The logs it emitted.
    pub logs: Vec<Log>,
}

/// An event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Emitting contract.
    pub address: Address,
    /// Topics (topic 0 is the event signature).
    pub topics: Vec<B256>,
    /// Non-indexed data.
    pub data: Vec<u8>,
    /// Block height.
    pub block_number: u64,
    /// Block hash (checked against the headers read in the same tick).
    pub block_hash: B256,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Index in the block.
    pub log_index: u64,
}

/// `eth_feeHistory`'s answer, oldest block first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeeHistory {
    /// Oldest block covered.
    pub oldest_block: u64,
    /// Base fee per block, plus one entry for the next (pending) block. Empty on a legacy
    /// chain.
    pub base_fee_per_gas: Vec<u128>,
    /// Fraction of the gas limit used, per block.
    pub gas_used_ratio: Vec<f64>,
    /// Per block, the priority fee at each requested percentile.
    pub reward: Vec<Vec<u128>>,
}

/// Why a node refused a raw transaction, classified from its error message (the JSON-RPC
/// codes differ between node implementations; the messages are stable across geth, anvil,
/// erigon, nethermind and the hosted providers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// The node already has these bytes (`already known`): treat as sent.
    AlreadyKnown,
    /// The nonce was already used on chain.
    NonceTooLow,
    /// A transaction with the same nonce and a higher or equal fee holds the slot.
    ReplacementUnderpriced,
    /// The fee is below the base fee or the node's minimum: retry later.
    FeeTooLow,
    /// The sender cannot pay value + gas.
    InsufficientFunds,
    /// Will never be accepted (intrinsic gas too low, exceeds block gas limit, invalid
    /// sender, fee cap).
    Permanent,
}

/// A failed node call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The node could not be reached or timed out (retry; nothing is known).
    #[error("node unavailable: {0}")]
    Unavailable(String),
    /// The node refused a transaction.
    #[error("rejected ({0:?}): {1}")]
    Rejected(RejectKind, String),
    /// A call or estimate reverted; the decoded `Error(string)` reason when there is one.
    #[error("execution reverted{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted(Option<String>),
    /// `eth_estimateGas` says the call needs more gas than any block allows.
    #[error("gas required exceeds allowance")]
    GasExceedsAllowance,
    /// Any other JSON-RPC error (the node's message, for the log only).
    #[error("node error: {0}")]
    Other(String),
}

/// An EVM JSON-RPC node: the reads and writes the money services use. Object-safe; one
/// instance per configured blockchain.
#[async_trait]
pub trait EvmNode: Send + Sync + std::fmt::Debug {
    /// `eth_chainId`.
    async fn chain_id(&self) -> Result<u64, NodeError>;
    /// `web3_clientVersion` (`anvil/v1.7.1` on a local dev node).
    async fn client_version(&self) -> Result<String, NodeError>;
    /// `eth_blockNumber`.
    async fn block_number(&self) -> Result<u64, NodeError>;
    /// `eth_getBlockByNumber`, with full transactions when `full`.
    async fn block(&self, tag: BlockTag, full: bool) -> Result<Option<Block>, NodeError>;
    /// `eth_feeHistory(count, latest, percentiles)`.
    async fn fee_history(&self, count: u64, percentiles: &[f64]) -> Result<FeeHistory, NodeError>;
    /// `eth_gasPrice` in wei.
    async fn gas_price(&self) -> Result<u128, NodeError>;
    /// `eth_estimateGas` (against `latest`).
    async fn estimate_gas(&self, call: &CallRequest) -> Result<u64, NodeError>;
    /// `eth_call` (against `latest`).
    async fn call(&self, call: &CallRequest) -> Result<Vec<u8>, NodeError>;
    /// `eth_getBalance` in wei.
    async fn balance(&self, address: Address, tag: BlockTag) -> Result<U256, NodeError>;
    /// `eth_getTransactionCount`.
    async fn nonce(&self, address: Address, tag: BlockTag) -> Result<u64, NodeError>;
    /// `eth_getCode` at `latest`.
    async fn code(&self, address: Address) -> Result<Vec<u8>, NodeError>;
    /// `eth_sendRawTransaction`; the hash on acceptance.
    async fn send_raw(&self, raw: &[u8]) -> Result<B256, NodeError>;
    /// `eth_getTransactionReceipt`.
    async fn receipt(&self, hash: B256) -> Result<Option<Receipt>, NodeError>;
    /// `eth_getTransactionByHash`.
    async fn transaction(&self, hash: B256) -> Result<Option<ChainTx>, NodeError>;
    /// `eth_getLogs` over `from..=to` whose topic 0 is one of `topic0`.
    async fn logs(&self, from: u64, to: u64, topic0: &[B256]) -> Result<Vec<Log>, NodeError>;

    // Local dev node only (anvil): the faucet and the tests.

    /// `eth_accounts`: the node's unlocked accounts.
    async fn accounts(&self) -> Result<Vec<Address>, NodeError>;
    /// `eth_sendTransaction` from an unlocked account.
    async fn send_unlocked(&self, call: &CallRequest) -> Result<B256, NodeError>;
    /// `anvil_setCode`.
    async fn set_code(&self, address: Address, code: &[u8]) -> Result<(), NodeError>;
    /// `anvil_setBalance`.
    async fn set_balance(&self, address: Address, wei: U256) -> Result<(), NodeError>;
}
