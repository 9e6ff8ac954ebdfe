//! The token registry: Circle's token ids for native coins, USDC and every ERC-20/721/1155 a
//! wallet touched, and the storage contract for it.

use crate::clock::Timestamp;
use crate::store::StoreResult;
use async_trait::async_trait;
use latchkey_chains::Blockchain;

/// A token's standard (`None` on a native coin's record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStandard {
    /// Fungible.
    Erc20,
    /// One owner per token id.
    Erc721,
    /// Amounts per token id.
    Erc1155,
}

impl TokenStandard {
    /// `ERC20` / `ERC721` / `ERC1155`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStandard::Erc20 => "ERC20",
            TokenStandard::Erc721 => "ERC721",
            TokenStandard::Erc1155 => "ERC1155",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ERC20" => Some(TokenStandard::Erc20),
            "ERC721" => Some(TokenStandard::Erc721),
            "ERC1155" => Some(TokenStandard::Erc1155),
            _ => None,
        }
    }
}

/// Where a registry row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOrigin {
    /// Circle's published id, inserted at start-up.
    Seed,
    /// First seen in a wallet (id from `token_uuid`).
    Seen,
    /// Deployed by the development faucet on a local node.
    Local,
}

/// One registry row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Circle's id (seeded) or `latchkey_chains::token_uuid` (seen).
    pub id: String,
    /// Its chain.
    pub blockchain: Blockchain,
    /// Contract address (EVM: lowercase `0x…`); `None` for the native coin.
    pub token_address: Option<String>,
    /// `None` for the native coin.
    pub standard: Option<TokenStandard>,
    /// Read from the contract; `None` when it does not say.
    pub name: Option<String>,
    /// Read from the contract; `None` when it does not say.
    pub symbol: Option<String>,
    /// Read from the contract; `None` when it does not say (NFTs).
    pub decimals: Option<u8>,
    /// The chain's native coin.
    pub is_native: bool,
    /// Where the row came from.
    pub origin: TokenOrigin,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// Storage for the token registry (implemented by `latchkey-store`).
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The token with `id`, or the token an alias id points at.
    async fn token(&self, id: &str) -> StoreResult<Option<TokenRecord>>;
    /// The token at `address` on `blockchain` (EVM addresses compared lowercase); `None`
    /// address: the native coin.
    async fn token_by_address(
        &self,
        blockchain: Blockchain,
        address: Option<&str>,
    ) -> StoreResult<Option<TokenRecord>>;
}
