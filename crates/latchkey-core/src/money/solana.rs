//! Solana chains (issue 13): the reads and writes balances, the development faucet,
//! transfers, the engine and the follower need, behind [`SolanaNode`] (implemented by
//! `latchkey-solana`, which owns the message encoding).
//!
//! Solana chains live beside the EVM ones in [`super::ChainSet`], not inside [`super::Chain`]:
//! every EVM path (engine, follower, quote, estimate, challenges, faucet, NFTs) reaches its
//! node as `chain.node: Arc<dyn EvmNode>` and reads EVM facts from `ChainInfo` (chain id,
//! EIP-1559, confirmations). A sibling set leaves all of them untouched: they keep finding
//! EVM chains only; the Solana branches (transfers: [`super::solana_plan`], the engine's
//! `solana_step`, the follower's `solana_follower`) find their chain with
//! `ChainSet::require_solana`. What is not built for Solana (contract calls, NFTs) answers the
//! 156027 of [`super::chains::not_yet_on_solana`].

use super::fees::FeeLevel;
use super::NodeError;
use async_trait::async_trait;
use latchkey_chains::Blockchain;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A transfer from a wallet, as the Solana planner takes it (addresses in base58).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolanaTransfer {
    /// The sending wallet (fee payer and signer).
    pub from: String,
    /// The receiving wallet (for a token: the owner of the receiving associated account).
    pub to: String,
    /// The mint; `None` for SOL.
    pub mint: Option<String>,
    /// Base units (lamports or the token's smallest unit).
    pub amount: u64,
    /// A memo (Circle's `refId`).
    pub memo: Option<String>,
}

/// A planned transfer at one fee level: what the signature will carry and what it costs.
/// Kept in the challenge: the transaction signed after the PIN is exactly this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolanaQuote {
    /// The mint's program (classic Token or Token-2022); `None` for SOL.
    pub token_program: Option<String>,
    /// The mint's decimals (9 for SOL).
    pub decimals: u8,
    /// The recipient's associated token account is created by this transaction.
    pub creates_recipient_account: bool,
    /// Lamports the sender pays for that account's rent (0 when none is created).
    pub rent_lamports: u64,
    /// Compute units asked for (the simulation's × 1.2).
    pub unit_limit: u32,
    /// Compute units the simulation used.
    pub units_consumed: u64,
    /// Micro-lamports per compute unit (the level's price).
    pub unit_price: u64,
    /// Signatures (5,000 lamports each).
    pub signatures: u64,
    /// The network fee in lamports at `unit_price` (base + priority; rent excluded).
    pub fee_lamports: u64,
    /// The compute-unit prices of LOW, MEDIUM and HIGH when it was planned.
    pub levels: [u64; 3],
}

/// Why a Solana transfer cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolanaPlanError {
    /// Circle's refusal (155201, 155257, 155258, 155262, 155210, or 2 for a memo too long),
    /// with the planner's reason.
    #[error("refused ({0}): {1}")]
    Refused(i64, String),
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
}

/// A recent blockhash and the last block height a transaction signed under it can land at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blockhash {
    /// The blockhash (base58).
    pub hash: String,
    /// `lastValidBlockHeight`.
    pub last_valid_block_height: u64,
}

/// A signed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSolana {
    /// The wire bytes.
    pub raw: Vec<u8>,
    /// Its first signature (base58): the transaction's id.
    pub signature: String,
}

/// What `getSignatureStatuses` says about a signature the node knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolanaStatus {
    /// The slot it landed in.
    pub slot: u64,
    /// Confirmed (or finalized).
    pub confirmed: bool,
    /// Finalized.
    pub finalized: bool,
    /// Its error, when it failed on chain (it landed and paid its fee).
    pub err: Option<String>,
}

/// A balance a transaction added to a wallet (`latchkey_solana::history::deposits_to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolanaDeposit {
    /// The mint; `None` for SOL.
    pub mint: Option<String>,
    /// The account credited (the wallet, or its token account).
    pub account: String,
    /// Base units.
    pub amount: u64,
    /// The mint's decimals (9 for SOL).
    pub decimals: u8,
    /// The credited account's index in the transaction (-1 for SOL): with the signature and
    /// the wallet, what makes the deposit unique.
    pub index: i64,
}

/// A landed transaction as the follower reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolanaLanded {
    /// Its slot.
    pub slot: u64,
    /// The deposits it made to the wallet asked about.
    pub deposits: Vec<SolanaDeposit>,
    /// The first account: who paid the fee (the sender, for a plain transfer).
    pub fee_payer: Option<String>,
}

fn unsupported(what: &str) -> NodeError {
    NodeError::Other(format!("this Solana node does not support {what}"))
}

/// One token account's holding (`getTokenAccountsByOwner`, classic Token or Token-2022).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolding {
    /// The token account (base58): what the follower watches for deposits.
    pub account: String,
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

    // Transfers and the engine. Defaults refuse, for the test doubles that serve balances
    // only.

    /// Plans `transfer` at `level` (the level's compute-unit price from
    /// `getRecentPrioritizationFees`; the limit by simulation), with Circle's refusals.
    async fn plan_transfer(
        &self,
        _transfer: &SolanaTransfer,
        _level: FeeLevel,
    ) -> Result<SolanaQuote, SolanaPlanError> {
        Err(unsupported("transfers").into())
    }
    /// `getLatestBlockhash` at `confirmed`.
    async fn latest_blockhash(&self) -> Result<Blockhash, NodeError> {
        Err(unsupported("transfers"))
    }
    /// Signs the planned transfer under `blockhash` with `secret` (no I/O: the encoding lives
    /// in `latchkey-solana`).
    fn sign_transfer(
        &self,
        _transfer: &SolanaTransfer,
        _quote: &SolanaQuote,
        _blockhash: &str,
        _secret: &[u8],
    ) -> Result<SignedSolana, NodeError> {
        Err(unsupported("transfers"))
    }
    /// `sendTransaction` of signed bytes, with preflight; a duplicate of a processed
    /// transaction is `Rejected(AlreadyKnown)`, an unknown blockhash `Rejected(FeeTooLow)`
    /// (retry).
    async fn send(&self, _raw: &[u8]) -> Result<String, NodeError> {
        Err(unsupported("transfers"))
    }
    /// `getSignatureStatuses` with the whole history searched; `None` when unknown.
    async fn status(&self, _signature: &str) -> Result<Option<SolanaStatus>, NodeError> {
        Err(unsupported("transfers"))
    }
    /// The finalized block height is above `last_valid_block_height` and the signature is
    /// unknown: these bytes can never land.
    async fn can_never_land(
        &self,
        _signature: &str,
        _last_valid_block_height: u64,
    ) -> Result<bool, NodeError> {
        Err(unsupported("transfers"))
    }
    /// The fee a landed transaction paid (`meta.fee`, lamports); `None` when not found.
    async fn fee_paid(&self, _signature: &str) -> Result<Option<u64>, NodeError> {
        Err(unsupported("transfers"))
    }

    // The follower.

    /// Signatures of transactions touching `address` after `until` (exclusive; all of them
    /// when `None`), oldest first, at `confirmed`, at most `limit` (failed ones included: the
    /// cursor moves past them; they deposit nothing).
    async fn signatures_after(
        &self,
        _address: &str,
        _until: Option<&str>,
        _limit: u32,
    ) -> Result<Vec<String>, NodeError> {
        Err(unsupported("deposits"))
    }
    /// The transaction `signature` at `confirmed`, with its deposits to `wallet`; `None` when
    /// the node does not have it.
    async fn landed(
        &self,
        _signature: &str,
        _wallet: &str,
    ) -> Result<Option<SolanaLanded>, NodeError> {
        Err(unsupported("deposits"))
    }
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

/// How long a sent Solana transaction may go without a status before it is STUCK: half the
/// blockhash's ~60 s window, so that operators see it before it expires.
pub const SOLANA_STUCK_AFTER_MS: i64 = 30_000;

/// One configured Solana chain: its node and its facts.
#[derive(Debug, Clone)]
pub struct SolanaChain {
    /// The JSON-RPC node.
    pub node: Arc<dyn SolanaNode>,
    /// What start-up learned about it.
    pub info: SolanaInfo,
}
