//! The token registry's records and monitored-token configuration, and the storage contract
//! for both. Circle's published tokens live in code ([`super::registry`]); the store holds the
//! tokens seen on chain and the ones a development faucet deployed, and each entity's
//! monitored list per environment.

use crate::clock::Timestamp;
use crate::model::Environment;
use crate::store::{Page, PageQuery, StoreResult};
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
    /// A Solana SPL token (Circle's name for SOL-DEVNET USDC's standard).
    Fungible,
    /// An Aptos fungible asset (Circle's name for APTOS-TESTNET USDC's standard).
    FungibleAsset,
}

impl TokenStandard {
    /// `ERC20` / `ERC721` / `ERC1155`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStandard::Erc20 => "ERC20",
            TokenStandard::Erc721 => "ERC721",
            TokenStandard::Erc1155 => "ERC1155",
            TokenStandard::Fungible => "Fungible",
            TokenStandard::FungibleAsset => "FungibleAsset",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ERC20" => Some(TokenStandard::Erc20),
            "ERC721" => Some(TokenStandard::Erc721),
            "ERC1155" => Some(TokenStandard::Erc1155),
            "Fungible" => Some(TokenStandard::Fungible),
            "FungibleAsset" => Some(TokenStandard::FungibleAsset),
            _ => None,
        }
    }
}

/// Where a registry row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOrigin {
    /// Circle's published id (the static table in [`super::registry`]).
    Seed,
    /// First seen in a wallet (id from `token_uuid`).
    Seen,
    /// Deployed by the development faucet on a local node.
    Local,
}

impl TokenOrigin {
    /// `SEED` / `SEEN` / `LOCAL`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenOrigin::Seed => "SEED",
            TokenOrigin::Seen => "SEEN",
            TokenOrigin::Local => "LOCAL",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SEED" => Some(TokenOrigin::Seed),
            "SEEN" => Some(TokenOrigin::Seen),
            "LOCAL" => Some(TokenOrigin::Local),
            _ => None,
        }
    }
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

/// Which tokens an entity's environment sees by default once it has configured monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorScope {
    /// Only the tokens in its monitored list.
    Selected,
    /// Every token (the list is kept but does not filter).
    MonitorAll,
}

impl MonitorScope {
    /// `SELECTED` / `MONITOR_ALL`, as on the wire and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorScope::Selected => "SELECTED",
            MonitorScope::MonitorAll => "MONITOR_ALL",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SELECTED" => Some(MonitorScope::Selected),
            "MONITOR_ALL" => Some(MonitorScope::MonitorAll),
            _ => None,
        }
    }
}

/// The monitored-token configuration of one entity in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitoredConfig {
    /// The scope.
    pub scope: MonitorScope,
    /// Last change of the scope or the list.
    pub updated_at: Timestamp,
}

/// Filters of the monitored list (`GET …/monitoredTokens`). A monitored token stored in the
/// database is matched on its columns; one that exists only in the static registry matches
/// when its id is in `outside_matches`, which the caller computes from the same filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitoredFilter {
    /// Only tokens of this blockchain.
    pub blockchain: Option<Blockchain>,
    /// Only the token at this address (hex addresses lowercase, as stored).
    pub token_address: Option<String>,
    /// Only tokens with exactly this symbol.
    pub symbol: Option<String>,
    /// Ids of tokens outside the database that match the filters above.
    pub outside_matches: Vec<String>,
}

impl MonitoredFilter {
    /// No filter is set: every monitored token is listed.
    pub fn is_empty(&self) -> bool {
        self.blockchain.is_none() && self.token_address.is_none() && self.symbol.is_none()
    }
}

/// One token of a monitored list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoredEntry {
    /// The token's id (canonical: aliases are resolved before a token is listed).
    pub token_id: String,
    /// When it was added.
    pub created_at: Timestamp,
    /// Its database row, when it has one (else it is a static registry token).
    pub stored: Option<TokenRecord>,
}

/// Storage for the token registry and the monitored-token configuration (implemented by
/// `latchkey-store`). Every write is one transaction. The tokens each wallet touched are
/// [`super::WalletTokenStore`]'s, a supertrait so that `Store` carries them too.
#[async_trait]
pub trait TokenStore: super::wallet_tokens::WalletTokenStore + Send + Sync {
    /// The stored token with `id` (aliases are the registry's business, not the store's).
    async fn token(&self, id: &str) -> StoreResult<Option<TokenRecord>>;
    /// The stored token at `address` on `blockchain` (hex addresses as stored: lowercase);
    /// `None` address: the native coin.
    async fn token_by_address(
        &self,
        blockchain: Blockchain,
        address: Option<&str>,
    ) -> StoreResult<Option<TokenRecord>>;
    /// Inserts a token seen on chain, or fills the name, symbol, decimals and standard a
    /// stored row with the same id still lacks (values already known are never replaced, so
    /// a contract that answers differently later does not make the token flap). Returns the
    /// stored row.
    async fn upsert_seen_token(&self, token: &TokenRecord) -> StoreResult<TokenRecord>;

    /// The configuration of `entity_id` in `environment`; `None` when never configured.
    async fn monitored_config(
        &self,
        entity_id: &str,
        environment: Environment,
    ) -> StoreResult<Option<MonitoredConfig>>;
    /// Every monitored token id of `entity_id` in `environment`.
    async fn monitored_token_ids(
        &self,
        entity_id: &str,
        environment: Environment,
    ) -> StoreResult<Vec<String>>;
    /// Adds `token_ids` (canonical, existing) to the list, creating the configuration, and
    /// sets the scope to SELECTED; `true` when anything changed.
    async fn add_monitored_tokens(
        &self,
        entity_id: &str,
        environment: Environment,
        token_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Makes the list exactly `token_ids` (tokens kept keep their place), creating the
    /// configuration, and sets the scope to SELECTED; `true` when anything changed.
    async fn replace_monitored_tokens(
        &self,
        entity_id: &str,
        environment: Environment,
        token_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Removes `token_ids` from the list (ids not in it are ignored); returns how many were.
    async fn remove_monitored_tokens(
        &self,
        entity_id: &str,
        environment: Environment,
        token_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<u64>;
    /// Sets the scope, creating the configuration (with an empty list) if there is none.
    async fn set_monitor_scope(
        &self,
        entity_id: &str,
        environment: Environment,
        scope: MonitorScope,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// A page of the list (cursors are token ids); `Ok(None)` when the cursor names no token
    /// of this list.
    async fn list_monitored_tokens(
        &self,
        entity_id: &str,
        environment: Environment,
        filter: &MonitoredFilter,
        page: &PageQuery,
    ) -> StoreResult<Option<Page<MonitoredEntry>>>;
}
