//! latchkey's way to Solana: a typed JSON-RPC client ([`SolanaRpc`]), the transactions
//! latchkey builds (SOL transfers, SPL `TransferChecked` on classic Token and Token-2022 with
//! the recipient's associated token account created when missing, compute budget, memo),
//! fee levels, balance changes for a follower, and [`connect`], which checks a configured
//! node at start-up as `latchkey_evm::connect` does.
//!
//! No Solana SDK crate is used: the JSON-RPC client is a few dozen lines over the reqwest the
//! workspace already builds, and the instructions are encoded by hand (each is a tag and a few
//! fixed fields). The figures behind that choice are in this crate's README.
//!
//! [`node`] implements core's `SolanaNode`: balances and the development faucet there,
//! transfers, the engine's sends and statuses and the follower's reads in `node_money`.

#![warn(missing_docs)]

pub mod errors;
pub mod fees;
pub mod history;
pub mod instruction;
pub mod message;
pub mod node;
mod node_money;
pub mod pubkey;
pub mod rpc;
pub mod transfer;
pub mod types;

pub use errors::{RejectKind, RpcError};
pub use latchkey_core::redact::redact_rpc_url;
pub use message::{Message, SignedTransaction};
pub use pubkey::Pubkey;
pub use rpc::{RpcOptions, SendOptions, SolanaRpc, TokenFilter};
pub use types::Commitment;

use latchkey_chains::{Blockchain, Family};

/// Genesis hash of mainnet-beta (Circle's `SOL`).
pub const MAINNET_GENESIS_HASH: &str = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d";
/// Genesis hash of devnet (Circle's `SOL-DEVNET`).
pub const DEVNET_GENESIS_HASH: &str = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG";
/// Genesis hash of latchkey's local test node (`tests/solana-node`, its default
/// `--genesis-hash`): accepted for SOL and SOL-DEVNET as a local node.
pub const LOCAL_GENESIS_HASH: &str = "5cr6Q9j5Q1k94VRmCW7v51dcoDMmNGW25jJ6cciVLzGJ";

/// The genesis hash of `blockchain`'s cluster; `None` for a non-Solana chain.
pub fn cluster_genesis_hash(blockchain: Blockchain) -> Option<&'static str> {
    match blockchain {
        Blockchain::Sol => Some(MAINNET_GENESIS_HASH),
        Blockchain::SolDevnet => Some(DEVNET_GENESIS_HASH),
        _ => None,
    }
}

/// What start-up learned about a Solana node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolanaChainInfo {
    /// The blockchain.
    pub blockchain: Blockchain,
    /// What `getGenesisHash` answered.
    pub genesis_hash: String,
    /// A local node (latchkey's test node, or the configured local genesis hash): the faucet
    /// may airdrop and create a test USDC mint.
    pub is_local: bool,
}

/// A checked Solana node.
#[derive(Debug)]
pub struct SolanaChain {
    /// The client.
    pub rpc: SolanaRpc,
    /// What start-up learned.
    pub info: SolanaChainInfo,
}

/// Why a configured Solana node cannot be used. Each displays as one line that starts with the
/// setting (`--rpc SOL-DEVNET: …`) and never contains the URL's secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// Not a Solana blockchain.
    #[error("--rpc {0}: {0} is not a Solana chain")]
    NotSolana(Blockchain),
    /// The URL is not an `http(s)://` URL.
    #[error("--rpc {blockchain}: {url} is not an http:// or https:// URL")]
    BadUrl {
        /// The chain.
        blockchain: Blockchain,
        /// The URL, redacted.
        url: String,
    },
    /// The node did not answer.
    #[error("--rpc {blockchain}: the node at {url} cannot be reached ({reason})")]
    Unreachable {
        /// The chain.
        blockchain: Blockchain,
        /// The URL, redacted.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The node answered with an error.
    #[error("--rpc {blockchain}: the node at {url} failed getGenesisHash: {reason}")]
    Failed {
        /// The chain.
        blockchain: Blockchain,
        /// The URL, redacted.
        url: String,
        /// The node's error.
        reason: String,
    },
    /// The node serves another cluster.
    #[error(
        "--rpc {blockchain}: the node at {url} serves the cluster with genesis hash {actual}, {blockchain} is {expected} (a local validator's hash can be accepted with the local genesis hash setting)"
    )]
    WrongCluster {
        /// The chain.
        blockchain: Blockchain,
        /// The URL, redacted.
        url: String,
        /// What `getGenesisHash` answered.
        actual: String,
        /// The cluster's genesis hash.
        expected: &'static str,
    },
}

/// Connects `blockchain` (SOL or SOL-DEVNET) to the node at `url`: its `getGenesisHash` must be
/// the cluster's ([`cluster_genesis_hash`]), or — a local node — latchkey's test node's
/// ([`LOCAL_GENESIS_HASH`]) or `options.local_genesis_hash`.
pub async fn connect(
    blockchain: Blockchain,
    url: &str,
    options: &RpcOptions,
) -> Result<SolanaChain, ConnectError> {
    let expected = match (blockchain.family(), cluster_genesis_hash(blockchain)) {
        (Family::Solana, Some(hash)) => hash,
        _ => return Err(ConnectError::NotSolana(blockchain)),
    };
    let shown = redact_rpc_url(url);
    let rpc = SolanaRpc::new(url, options).map_err(|_| ConnectError::BadUrl {
        blockchain,
        url: shown.clone(),
    })?;
    let actual = rpc.get_genesis_hash().await.map_err(|e| match e {
        RpcError::Unavailable(reason) => ConnectError::Unreachable {
            blockchain,
            url: shown.clone(),
            reason,
        },
        other => ConnectError::Failed {
            blockchain,
            url: shown.clone(),
            reason: other.to_string(),
        },
    })?;
    let is_local = actual == LOCAL_GENESIS_HASH
        || options
            .local_genesis_hash
            .as_deref()
            .is_some_and(|h| h == actual);
    if actual != expected && !is_local {
        return Err(ConnectError::WrongCluster {
            blockchain,
            url: shown,
            actual,
            expected,
        });
    }
    Ok(SolanaChain {
        rpc,
        info: SolanaChainInfo {
            blockchain,
            genesis_hash: actual,
            is_local,
        },
    })
}
