//! Solana chains (issue 13, slice 1): the reads and the few writes the balances and the
//! development faucet need, behind [`SolanaNode`] (implemented by `latchkey-solana`).
//!
//! Solana chains live beside the EVM ones in [`super::ChainSet`], not inside [`super::Chain`]:
//! every EVM path (engine, follower, quote, estimate, challenges, faucet, NFTs) reaches its
//! node as `chain.node: Arc<dyn EvmNode>` and reads EVM facts from `ChainInfo` (chain id,
//! EIP-1559, confirmations). A sibling set leaves all of them untouched: they keep finding
//! EVM chains only, and a Solana wallet's transfer, estimate or NFT list answers the 156027 of
//! [`super::chains::not_yet_on_solana`] (from the plan's chain check or `ChainSet::require`).

use super::NodeError;
use async_trait::async_trait;
use latchkey_chains::Blockchain;
use std::sync::Arc;

/// One token account's holding (`getTokenAccountsByOwner`, classic Token or Token-2022).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolding {
    /// The mint (base58).
    pub mint: String,
    /// The token program that owns the account (base58).
    pub program: String,
    /// Base units.
    pub amount: u64,
    /// The mint's decimals.
    pub decimals: u8,
}

/// A Solana JSON-RPC node: what balances and the development faucet use. Object-safe; one
/// instance per configured Solana blockchain. Addresses are base58 text; secrets are 32-byte
/// Ed25519 seeds, only borrowed.
///
/// The faucet's writes are whole operations (create a mint, mint to an owner's associated
/// account) rather than "send these bytes": the message encoding lives in `latchkey-solana`,
/// which depends on this crate, not the other way round.
#[async_trait]
pub trait SolanaNode: Send + Sync + std::fmt::Debug {
    /// `getBalance` in lamports (latest state).
    async fn balance(&self, address: &str) -> Result<u64, NodeError>;
    /// Every token account of `owner` (classic Token and Token-2022).
    async fn token_accounts(&self, owner: &str) -> Result<Vec<TokenHolding>, NodeError>;
    /// The decimals of the mint at `mint`; `None` when there is no mint there.
    async fn mint_decimals(&self, mint: &str) -> Result<Option<u8>, NodeError>;
    /// `requestAirdrop` of `lamports` to `to`, waited for until confirmed.
    async fn airdrop(&self, to: &str, lamports: u64) -> Result<(), NodeError>;
    /// Creates a classic SPL Token mint at the address of `mint_secret` with `decimals` and
    /// `payer_secret`'s address as mint authority (the payer pays the rent), waited for until
    /// confirmed; nothing when an account is already there. Returns the mint's address.
    async fn create_mint(
        &self,
        payer_secret: &[u8],
        mint_secret: &[u8],
        decimals: u8,
    ) -> Result<String, NodeError>;
    /// Mints `amount` base units of `mint` (classic Token; `authority_secret` is its mint
    /// authority and pays) to `owner`'s associated token account, created when missing;
    /// waited for until confirmed.
    async fn mint_to(
        &self,
        authority_secret: &[u8],
        mint: &str,
        owner: &str,
        amount: u64,
    ) -> Result<(), NodeError>;
}

/// What start-up learned about a Solana node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolanaInfo {
    /// SOL or SOL-DEVNET.
    pub blockchain: Blockchain,
    /// What `getGenesisHash` answered.
    pub genesis_hash: String,
    /// A local node (latchkey's test node): the `--dev` faucet may airdrop and create a test
    /// USDC mint.
    pub is_local: bool,
}

/// One configured Solana chain: its node and its facts.
#[derive(Debug, Clone)]
pub struct SolanaChain {
    /// The JSON-RPC node.
    pub node: Arc<dyn SolanaNode>,
    /// What start-up learned about it.
    pub info: SolanaInfo,
}
