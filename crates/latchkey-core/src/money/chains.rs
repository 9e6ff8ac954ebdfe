//! The chains this server can move money on: one [`EvmNode`] and its facts per configured
//! blockchain. A blockchain without a node keeps its wallets and signing; its money routes
//! answer 156027 naming the setting that would enable them.

use super::node::EvmNode;
use super::operator_key::OperatorKey;
use super::solana::SolanaChain;
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
    /// The gas station that bundles SCA wallets' UserOperations and sponsors their gas
    /// (`--gas-station-key`, `--paymaster`); `None`: SCA sends answer 155509 naming it.
    pub gas_station: Option<Arc<GasStation>>,
}

/// latchkey as bundler and paymaster on one chain (docs/sca.md).
#[derive(Debug)]
pub struct GasStation {
    /// Sends `handleOps` and pays its gas (the EntryPoint refunds it from the paymaster's
    /// deposit to this account, the bundle's beneficiary).
    pub station: Arc<OperatorKey>,
    /// Signs the sponsorships the paymaster accepts (by default the station key).
    pub paymaster_signer: Arc<OperatorKey>,
    /// The VerifyingPaymaster whose EntryPoint deposit pays the operations' gas.
    pub paymaster: latchkey_chains::Address,
    /// EntryPoint v0.7.
    pub entry_point: latchkey_chains::Address,
    /// The Safe contracts the accounts are created with.
    pub account: latchkey_chains::sca::SafeAccountConfig,
}

impl Chain {
    /// The chain's gas station, or 155509 naming the setting that configures one.
    pub fn require_gas_station(&self) -> Result<&GasStation, ApiError> {
        self.gas_station.as_deref().ok_or_else(|| {
            let name = self.info.blockchain.as_str();
            codes::SCA_NOT_ELIGIBLE.with_message(format!(
                "Entity is not eligible for SCA account creation. Please check paymaster policy \
                 setup: no gas station is configured for {name} on this server, so its SCA \
                 wallets cannot send (set --gas-station-key {name}=FILE and --paymaster \
                 {name}=ADDRESS, LATCHKEY_GAS_STATION_KEY / LATCHKEY_PAYMASTER, or the \
                 [gas_station_keys] and [paymasters] tables; --dev deploys one on a local node)."
            ))
        })
    }
}

/// Every chain with a node (a handful at most, so lists). Empty when no `--rpc` is configured.
/// Solana chains are a sibling list (see [`super::solana`] for why): [`ChainSet::iter`],
/// [`ChainSet::get`] and [`ChainSet::require`] see EVM chains only.
#[derive(Debug, Clone, Default)]
pub struct ChainSet {
    chains: Vec<Chain>,
    solana: Vec<SolanaChain>,
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

    /// The EVM chain, or Circle's 156027 with a message naming the setting that enables it;
    /// a Solana chain that has a node answers [`not_yet_on_solana`] (156027 too, saying what
    /// is missing; what is built for Solana goes through [`ChainSet::require_solana`]).
    pub fn require(&self, blockchain: Blockchain) -> Result<&Chain, ApiError> {
        match self.get(blockchain) {
            Some(chain) => Ok(chain),
            None if self.get_solana(blockchain).is_some() => Err(not_yet_on_solana(blockchain)),
            None => Err(not_configured(blockchain)),
        }
    }

    /// Adds (or replaces) a Solana chain.
    pub fn insert_solana(&mut self, chain: SolanaChain) {
        self.solana
            .retain(|c| c.info.blockchain != chain.info.blockchain);
        self.solana.push(chain);
    }

    /// The Solana chain, if it has a node.
    pub fn get_solana(&self, blockchain: Blockchain) -> Option<&SolanaChain> {
        self.solana.iter().find(|c| c.info.blockchain == blockchain)
    }

    /// The Solana chain, or 156027 naming the setting that enables it.
    pub fn require_solana(&self, blockchain: Blockchain) -> Result<&SolanaChain, ApiError> {
        self.get_solana(blockchain)
            .ok_or_else(|| not_configured(blockchain))
    }

    /// Every configured EVM chain, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &Chain> {
        self.chains.iter()
    }

    /// Every configured Solana chain.
    pub fn solana(&self) -> impl Iterator<Item = &SolanaChain> {
        self.solana.iter()
    }

    /// No chain is configured, EVM or Solana (nothing for the outbound engine and the
    /// follower).
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty() && self.solana.is_empty()
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

/// What a Solana wallet answers on a route not built for Solana (contract execution and its
/// estimate, NFTs), with or without a node: 156027, as these routes answered before Solana had
/// any money route, the message saying what is missing and what works.
pub fn not_yet_on_solana(blockchain: Blockchain) -> ApiError {
    codes::BLOCKCHAIN_NOT_SUPPORTED.with_message(format!(
        "The specified blockchain is either not supported or deprecated: latchkey does not \
         execute contracts or list NFTs on {blockchain} (balances, transfers, fee estimates, \
         history, deposits and the development faucet are available)."
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
    fn a_solana_chain_with_a_node_is_not_an_evm_chain() {
        let mut set = ChainSet::new();
        set.insert_solana(SolanaChain {
            node: std::sync::Arc::new(NoNode),
            info: super::super::solana::SolanaInfo {
                blockchain: Blockchain::SolDevnet,
                genesis_hash: "x".into(),
                is_local: true,
            },
        });
        let e = set.require(Blockchain::SolDevnet).err();
        let e = e.map(|e| (e.code, e.message.contains("transfers, fee estimates")));
        assert_eq!(e, Some((156027, true)));
        assert!(set.require_solana(Blockchain::SolDevnet).is_ok());
        let e = set.require_solana(Blockchain::Sol).err();
        assert_eq!(e.map(|e| e.code), Some(156027));
        assert!(!set.is_empty());
        assert_eq!(set.iter().count(), 0);
    }

    #[derive(Debug)]
    struct NoNode;

    #[async_trait::async_trait]
    impl super::super::solana::SolanaNode for NoNode {
        async fn balance(&self, _: &str) -> Result<u64, super::super::NodeError> {
            Ok(0)
        }
        async fn token_accounts(
            &self,
            _: &str,
        ) -> Result<Vec<super::super::solana::TokenHolding>, super::super::NodeError> {
            Ok(Vec::new())
        }
        async fn mint_decimals(&self, _: &str) -> Result<Option<u8>, super::super::NodeError> {
            Ok(None)
        }
        async fn airdrop(&self, _: &str, _: u64) -> Result<(), super::super::NodeError> {
            Ok(())
        }
        async fn create_mint(
            &self,
            _: &[u8],
            _: &[u8],
            _: u8,
        ) -> Result<String, super::super::NodeError> {
            Ok(String::new())
        }
        async fn mint_to(
            &self,
            _: &[u8],
            _: &str,
            _: &str,
            _: u64,
        ) -> Result<(), super::super::NodeError> {
            Ok(())
        }
    }

    #[test]
    fn a_chain_outside_the_money_enum_says_so() {
        let e = not_configured(Blockchain::Evm);
        assert!(e.message.contains("moves no money on EVM"), "{}", e.message);
    }
}
