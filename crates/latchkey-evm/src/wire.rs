//! The few fields latchkey reads from blocks, transactions and receipts, as JSON-RPC spells
//! them.
//!
//! These are read through `raw_request` into these structs rather than through alloy's
//! `Ethereum` network types on purpose: those insist on decoding every transaction envelope,
//! and an OP-stack block starts with a deposit transaction (type `0x7e`) that the Ethereum
//! envelope refuses, while receipts there carry an `l1Fee` the Ethereum receipt drops. Reading
//! only what the engine needs works on every EVM chain alike.

use alloy_primitives::{Address, Bytes, B256, U128, U256, U64};
use latchkey_core::money as core;
use serde::Deserialize;

/// `eth_getBlockByNumber`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    number: U64,
    hash: B256,
    parent_hash: B256,
    base_fee_per_gas: Option<U128>,
    timestamp: U64,
    #[serde(default)]
    transactions: Transactions,
}

/// Hashes (without `full`) or objects (with it).
#[derive(Debug, Deserialize, Default)]
#[serde(untagged)]
enum Transactions {
    Full(Vec<Transaction>),
    // Typed rather than ignored so that a full block whose transactions do not parse is an
    // error, not a block that seems empty.
    #[allow(dead_code)]
    Hashes(Vec<B256>),
    #[default]
    None,
}

/// `eth_getTransactionByHash`, and a full block's transactions.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    hash: B256,
    from: Address,
    to: Option<Address>,
    #[serde(default)]
    value: U256,
    nonce: U64,
    block_number: Option<U64>,
}

/// `eth_getTransactionReceipt`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    transaction_hash: B256,
    block_hash: B256,
    block_number: U64,
    status: Option<U64>,
    gas_used: U64,
    effective_gas_price: Option<U128>,
    l1_fee: Option<U128>,
    #[serde(default)]
    logs: Vec<Log>,
}

/// A log, in a receipt or from `eth_getLogs`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    address: Address,
    topics: Vec<B256>,
    data: Bytes,
    block_number: Option<U64>,
    block_hash: Option<B256>,
    transaction_hash: Option<B256>,
    log_index: Option<U64>,
}

impl From<Block> for core::Block {
    fn from(b: Block) -> Self {
        let transactions = match b.transactions {
            Transactions::Full(txs) => txs.into_iter().map(Into::into).collect(),
            Transactions::Hashes(_) | Transactions::None => Vec::new(),
        };
        core::Block {
            number: b.number.to(),
            hash: b.hash,
            parent_hash: b.parent_hash,
            base_fee: b.base_fee_per_gas.map(|f| f.to()),
            timestamp: b.timestamp.to(),
            transactions,
        }
    }
}

impl From<Transaction> for core::ChainTx {
    fn from(t: Transaction) -> Self {
        core::ChainTx {
            hash: t.hash,
            from: t.from,
            to: t.to,
            value: t.value,
            nonce: t.nonce.to(),
            block_number: t.block_number.map(|n| n.to()),
        }
    }
}

impl From<Receipt> for core::Receipt {
    fn from(r: Receipt) -> Self {
        core::Receipt {
            tx_hash: r.transaction_hash,
            block_hash: r.block_hash,
            block_number: r.block_number.to(),
            // Pre-Byzantium receipts carry a state root instead of a status; no chain latchkey
            // serves is that old, and a missing status is not a success.
            success: r.status.is_some_and(|s| s == U64::from(1)),
            gas_used: r.gas_used.to(),
            effective_gas_price: r.effective_gas_price.map(|p| p.to()).unwrap_or_default(),
            l1_fee: r.l1_fee.map(|f| f.to()),
            logs: r.logs.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Log> for core::Log {
    fn from(l: Log) -> Self {
        core::Log {
            address: l.address,
            topics: l.topics,
            data: l.data.to_vec(),
            block_number: l.block_number.map(|n| n.to()).unwrap_or_default(),
            block_hash: l.block_hash.unwrap_or_default(),
            tx_hash: l.transaction_hash.unwrap_or_default(),
            log_index: l.log_index.map(|n| n.to()).unwrap_or_default(),
        }
    }
}
