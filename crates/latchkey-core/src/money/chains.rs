//! The chains this server can move money on: one [`EvmNode`] and its facts per configured
//! blockchain. A blockchain without a node keeps its wallets and signing; its money routes
//! answer 156027 naming the setting that would enable them.

use super::node::EvmNode;
use super::operator_key::OperatorKey;
use crate::error::{codes, ApiError};
use latchkey_chains::Blockchain;
use std::sync::Arc;

/// What the engine and the fee estimates need to know about one chain, learned at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    /// The blockchain.
    pub blockchain: Blockchain,
    /// Its EIP-155 chain id (checked against the node at start-up).
    pub chain_id: u64,
    /// The latest block carries `baseFeePerGas`: type-2 transactions and maxFee/priorityFee.
    pub eip1559: bool,
    /// The node is a local development node (`web3_clientVersion` starts with `anvil/`):
    /// the faucet may use its unlocked accounts and `anvil_setCode`.
    pub is_local: bool,
    /// Blocks on top of a transaction's block (itself included) before it is COMPLETE.
    pub confirmations: u64,
    /// How long a broadcast transaction may wait for a receipt before it is STUCK.
    pub stuck_after_ms: i64,
    /// Floor for the priority fee levels, in wei (Polygon's client-enforced minimum tip).
    pub min_priority_wei: u128,
}

/// One configured chain: its node and its facts.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The JSON-RPC node.
    pub node: Arc<dyn EvmNode>,
    /// What start-up learned about it.
    pub info: ChainInfo,
    /// The operator's faucet account on a testnet (`--faucet-key`), if configured.
    pub faucet_key: Option<Arc<OperatorKey>>,
}

/// Every chain with a node (a handful at most, so a list). Empty when no `--rpc` is configured.
#[derive(Debug, Clone, Default)]
pub struct ChainSet {
    chains: Vec<Chain>,
}

impl ChainSet {
    /// An empty set (no money routes).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a chain.
    pub fn insert(&mut self, chain: Chain) {
        self.chains
            .retain(|c| c.info.blockchain != chain.info.blockchain);
        self.chains.push(chain);
    }

    /// The chain, if it has a node.
    pub fn get(&self, blockchain: Blockchain) -> Option<&Chain> {
        self.chains.iter().find(|c| c.info.blockchain == blockchain)
    }

    /// The chain, or Circle's 156027 with a message naming the setting that enables it.
    pub fn require(&self, blockchain: Blockchain) -> Result<&Chain, ApiError> {
        self.get(blockchain)
            .ok_or_else(|| not_configured(blockchain))
    }

    /// Every configured chain, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &Chain> {
        self.chains.iter()
    }

    /// No chain is configured.
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty()
    }
}

/// 156027 for a blockchain this server moves no money on, saying why and how to fix it.
pub fn not_configured(blockchain: Blockchain) -> ApiError {
    let name = blockchain.as_str();
    if !blockchain.is_money_chain() {
        return codes::BLOCKCHAIN_NOT_SUPPORTED.with_message(format!(
            "The specified blockchain is either not supported or deprecated: latchkey moves no \
             money on {name}."
        ));
    }
    codes::BLOCKCHAIN_NOT_SUPPORTED.with_message(format!(
        "The specified blockchain is either not supported or deprecated: no node is configured \
         for {name} on this server (set --rpc {name}=URL, LATCHKEY_RPC or the [rpc] table)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_chain_names_the_setting() {
        let set = ChainSet::new();
        let e = set.require(Blockchain::MaticAmoy).err();
        let e = e
            .as_ref()
            .map(|e| (e.code, e.status, e.message.contains("--rpc MATIC-AMOY=URL")));
        assert_eq!(e, Some((156027, 400, true)));
    }

    #[test]
    fn a_chain_outside_the_money_enum_says_so() {
        let e = not_configured(Blockchain::Evm);
        assert!(e.message.contains("moves no money on EVM"), "{}", e.message);
    }
}
