//! latchkey's way to EVM chains: core's [`EvmNode`](latchkey_core::money::EvmNode) over
//! alloy's JSON-RPC provider, and [`connect`], which checks a configured node at start-up and
//! learns the facts the money services need ([`ChainInfo`]).
//!
//! [`aa_deploy`] deploys the ERC-4337 v0.7 contracts on a local development node.
//!
//! This is the only crate that compiles alloy's network stack (reqwest, tower, the provider),
//! so that core stays free of I/O and builds in parallel with it.
//!
//! Node URLs often embed a provider's API key, so nothing here prints one unredacted
//! ([`redact_rpc_url`](latchkey_core::redact::redact_rpc_url)).

#![warn(missing_docs)]

pub mod aa_deploy;
mod errors;
mod node;
mod wire;

pub use errors::{classify_message, revert_reason};
pub use node::AlloyNode;

use alloy_provider::network::Ethereum;
use alloy_provider::RootProvider;
use alloy_rpc_client::ClientBuilder;
use alloy_transport::layers::RetryBackoffLayer;
use latchkey_chains::{Blockchain, Family};
use latchkey_core::money::{BlockTag, Chain, ChainInfo, EvmNode, NodeError};
use latchkey_core::redact::redact_rpc_url;
use std::sync::Arc;
use std::time::Duration;

/// First wait before a rate-limited call is retried (alloy backs off from there, or follows
/// the provider's hint).
const RETRY_BACKOFF_MS: u64 = 250;
/// The longest a TCP/TLS connection may take, whatever the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Polygon's validators drop transactions tipping less than 25 gwei (a client-enforced floor).
const POLYGON_MIN_PRIORITY_WEI: u128 = 25_000_000_000;

/// How to talk to a node, and the per-chain overrides of what [`connect`] would otherwise
/// derive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcOptions {
    /// Longest a single JSON-RPC call may take.
    pub timeout: Duration,
    /// Retries of a rate-limited or temporarily unavailable call (HTTP 429/503, rate-limit
    /// payloads). Other failures are not retried inside a call: the engine's next tick does.
    pub retries: u32,
    /// Confirmations before COMPLETE; `None` for the chain's default (1 on a local node).
    pub confirmations: Option<u64>,
    /// How long a broadcast transaction may wait before it is STUCK; `None` for the default
    /// (600 s on a mainnet, 120 s on a testnet or a local node).
    pub stuck_after: Option<Duration>,
}

impl Default for RpcOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retries: 3,
            confirmations: None,
            stuck_after: None,
        }
    }
}

/// Why a configured chain cannot be used. Each displays as one line that starts with the
/// setting (`--rpc MATIC-AMOY: …`) and never contains the URL's secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The blockchain has no money API (`EVM`, `EVM-TESTNET`, NEAR).
    #[error("--rpc {0}: latchkey moves no money on {0} (Circle's money API leaves out EVM, EVM-TESTNET, NEAR and NEAR-TESTNET)")]
    NotMoneyChain(Blockchain),
    /// A money chain latchkey has no node adapter for yet (Solana, Aptos).
    #[error(
        "--rpc {0}: {0} is not an EVM chain, and latchkey moves money on EVM chains only for now"
    )]
    NotEvm(Blockchain),
    /// An EVM chain whose chain id is unknown, so the node cannot be checked (ARC).
    #[error(
        "--rpc {0}: the chain id of {0} is not published yet, so no node can be checked against it"
    )]
    NoChainId(Blockchain),
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
    #[error("--rpc {blockchain}: the node at {url} failed {method}: {reason}")]
    Failed {
        /// The chain.
        blockchain: Blockchain,
        /// The URL, redacted.
        url: String,
        /// The JSON-RPC method.
        method: &'static str,
        /// The node's error.
        reason: String,
    },
    /// The node serves another chain.
    #[error(
        "--rpc {blockchain}: the node at {url} is chain {actual}, {blockchain} is chain {expected}"
    )]
    WrongChain {
        /// The chain.
        blockchain: Blockchain,
        /// The URL, redacted.
        url: String,
        /// What `eth_chainId` answered.
        actual: u64,
        /// `Blockchain::chain_id()`.
        expected: u64,
    },
}

/// Whether `blockchain` can take a node at all (a money chain of the EVM family with a known
/// chain id): the configuration checks this before any node is contacted.
pub fn check_blockchain(blockchain: Blockchain) -> Result<u64, ConnectError> {
    if !blockchain.is_money_chain() {
        return Err(ConnectError::NotMoneyChain(blockchain));
    }
    if blockchain.family() != Family::Evm {
        return Err(ConnectError::NotEvm(blockchain));
    }
    blockchain
        .chain_id()
        .ok_or(ConnectError::NoChainId(blockchain))
}

/// Builds the node for `url` (timeouts and the retry layer of `options`) without contacting
/// it.
pub fn node(url: &str, options: &RpcOptions) -> Result<AlloyNode, String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("unsupported scheme {}", parsed.scheme()));
    }
    let http = reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.timeout.min(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| e.to_string())?;
    // No client-side compute-unit budget (u64::MAX): only the provider's 429s slow us down.
    let client = ClientBuilder::default()
        .layer(RetryBackoffLayer::new(
            options.retries,
            RETRY_BACKOFF_MS,
            u64::MAX,
        ))
        .http_with_client(http, parsed);
    let provider = RootProvider::<Ethereum>::new(client);
    Ok(AlloyNode::new(provider, redact_rpc_url(url)))
}

/// Connects `blockchain` to the node at `url` and learns its facts: the node must answer
/// `eth_chainId` with the blockchain's chain id; `web3_clientVersion` starting with `anvil/`
/// makes it a local node; a base fee in the latest block makes it an EIP-1559 chain.
pub async fn connect(
    blockchain: Blockchain,
    url: &str,
    options: &RpcOptions,
) -> Result<Chain, ConnectError> {
    let expected = check_blockchain(blockchain)?;
    let shown = redact_rpc_url(url);
    let node = node(url, options).map_err(|_| ConnectError::BadUrl {
        blockchain,
        url: shown.clone(),
    })?;
    let failed = |method: &'static str| {
        let shown = shown.clone();
        move |e: NodeError| match e {
            NodeError::Unavailable(reason) => ConnectError::Unreachable {
                blockchain,
                url: shown,
                reason,
            },
            other => ConnectError::Failed {
                blockchain,
                url: shown,
                method,
                reason: other.to_string(),
            },
        }
    };
    let actual = node.chain_id().await.map_err(failed("eth_chainId"))?;
    if actual != expected {
        return Err(ConnectError::WrongChain {
            blockchain,
            url: shown,
            actual,
            expected,
        });
    }
    // Some providers disable web3_clientVersion: such a node is simply not a local one.
    let is_local = node
        .client_version()
        .await
        .is_ok_and(|v| v.starts_with("anvil/"));
    let latest = node
        .block(BlockTag::Latest, false)
        .await
        .map_err(failed("eth_getBlockByNumber"))?;
    let eip1559 = latest.is_some_and(|b| b.base_fee.is_some());
    let info = ChainInfo {
        blockchain,
        chain_id: actual,
        eip1559,
        is_local,
        confirmations: options.confirmations.unwrap_or_else(|| {
            if is_local {
                1
            } else {
                blockchain.default_confirmations().unwrap_or(1)
            }
        }),
        stuck_after_ms: millis(options.stuck_after.unwrap_or_else(|| {
            if blockchain.is_testnet() || is_local {
                Duration::from_secs(120)
            } else {
                Duration::from_secs(600)
            }
        })),
        min_priority_wei: if matches!(blockchain, Blockchain::Matic | Blockchain::MaticAmoy)
            && !is_local
        {
            POLYGON_MIN_PRIORITY_WEI
        } else {
            0
        },
    };
    Ok(Chain {
        node: Arc::new(node),
        info,
        faucet_key: None,
        gas_station: None,
    })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
