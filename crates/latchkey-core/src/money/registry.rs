//! The token registry: which token an id or an address names.
//!
//! Circle's published tokens are a static table here, not database rows: USDC with Circle's
//! ids and addresses (checked against Circle's published list), the native coin of every EVM
//! money chain (Circle's id where it published one, else `token_uuid(chain, native)`), and
//! Solana's native coins and SOL-DEVNET USDC. A correction is then a code change with a test,
//! and nothing is seeded at start-up. The database holds the tokens seen on chain and the ones
//! a development faucet deployed; a stored row with a static token's id overrides it.
//!
//! Aliases are old ids that still resolve: BASE USDC was published as `915ce944…` before
//! `aa7bb533…`. Operator pins of Circle's ids for native coins (`[tokens]` in the
//! configuration) will be added here as aliases too.

use super::tokens::{TokenOrigin, TokenRecord, TokenStandard, TokenStore};
use crate::clock::Timestamp;
use crate::error::{codes, ApiError};
use crate::service::{store_failed, ApiCaller, Latchkey};
use crate::store::StoreResult;
use latchkey_chains::{token_uuid, Blockchain, Family};
use std::sync::LazyLock;

/// `createDate` / `updateDate` of every static token: when the table was written
/// (2026-12-01T00:00:00Z). Fixed, so that the answers do not change from one start to the next.
pub const REGISTRY_DATE: Timestamp = Timestamp(1_796_083_200_000);

/// A USDC deployment Circle publishes: chain, Circle's token id, contract address.
struct Usdc(Blockchain, &'static str, &'static str);

/// Circle's USDC ids and addresses (hex addresses lowercase).
const USDC: &[Usdc] = &[
    Usdc(
        Blockchain::EthSepolia,
        "5797fbd6-3795-519d-84ca-ec4c5f80c3b1",
        "0x1c7d4b196cb0c7b01d743fbc6116a902379c7238",
    ),
    Usdc(
        Blockchain::MaticAmoy,
        "36b6931a-873a-56a8-8a27-b706b17104ee",
        "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582",
    ),
    Usdc(
        Blockchain::ArbSepolia,
        "4b8daacc-5f47-5909-a3ba-30d171ebad98",
        "0x75faf114eafb1bdbe2f0316df893fd58ce46aa4d",
    ),
    Usdc(
        Blockchain::AvaxFuji,
        "ff47a560-9795-5b7c-adfc-8f47dad9e06a",
        "0x5425890298aed601595a70ab815c96711a31bc65",
    ),
    Usdc(
        Blockchain::BaseSepolia,
        "bdf128b4-827b-5267-8f9e-243694989b5f",
        "0x036cbd53842c5426634e7929541ec2318f3dcf7e",
    ),
    Usdc(
        Blockchain::SolDevnet,
        "8fb3cadb-0ef4-573d-8fcd-e194f961c728",
        "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
    ),
    Usdc(
        Blockchain::AptosTestnet,
        "e3cbdafc-42c3-58cc-ae4c-b31dbb10354c",
        "0x69091fbab5f7d635ee7ac5098cf0c1efbe31d68fec0f2cd565e8d168daf52832",
    ),
    Usdc(
        Blockchain::Eth,
        "b037d751-fb22-5f0d-bae6-47373e7ae3e3",
        "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
    ),
    Usdc(
        Blockchain::Matic,
        "db6905b9-8bcd-5537-8b08-f5548bdf7925",
        "0x3c499c542cef5e3811e1192ce70d8cc03d5c3359",
    ),
    Usdc(
        Blockchain::Arb,
        "c87ffcb4-e2cf-5e67-84c6-388c965d2a66",
        "0xaf88d065e77c8cc2239327c5edb3a432268e5831",
    ),
    Usdc(
        Blockchain::Avax,
        "7efdfdbf-1799-5089-a588-31beb97ba755",
        "0xb97ef9ef8734c71904d8002f8b6bc66dd9c48a6e",
    ),
    Usdc(
        Blockchain::Base,
        "aa7bb533-aeb8-535c-bd65-354aed91ea3d",
        "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913",
    ),
];

/// Native coins whose id Circle published (the rest get `token_uuid(chain, None)`). MATIC-AMOY's
/// comes from third-party code only; decision 29 of the plan takes it.
const NATIVE_IDS: &[(Blockchain, &str)] = &[(
    Blockchain::MaticAmoy,
    "0c8f8485-f74f-5e28-80f2-3cc4e80ef71c",
)];

/// Old ids that still resolve: (alias, the token it names).
pub const ALIASES: &[(&str, &str)] = &[(
    // BASE USDC as a 2025 copy of Circle's page published it.
    "915ce944-32df-5df5-a6b1-daa9b5069f96",
    "aa7bb533-aeb8-535c-bd65-354aed91ea3d",
)];

/// Every static token: the USDC table, then the native coins.
static STATIC_TOKENS: LazyLock<Vec<TokenRecord>> = LazyLock::new(|| {
    let usdc = USDC.iter().map(|Usdc(chain, id, address)| TokenRecord {
        id: (*id).to_string(),
        blockchain: *chain,
        token_address: Some((*address).to_string()),
        standard: Some(match chain.family() {
            Family::Solana => TokenStandard::Fungible,
            Family::Aptos => TokenStandard::FungibleAsset,
            Family::Evm | Family::Near => TokenStandard::Erc20,
        }),
        name: Some("USD Coin".into()),
        symbol: Some("USDC".into()),
        decimals: Some(6),
        is_native: false,
        origin: TokenOrigin::Seed,
        created_at: REGISTRY_DATE,
        updated_at: REGISTRY_DATE,
    });
    let natives = Blockchain::ALL
        .iter()
        .filter(|b| b.is_money_chain() && matches!(b.family(), Family::Evm | Family::Solana))
        .map(|&chain| TokenRecord {
            id: NATIVE_IDS
                .iter()
                .find(|(c, _)| *c == chain)
                .map(|(_, id)| (*id).to_string())
                .unwrap_or_else(|| token_uuid(chain, None).to_string()),
            blockchain: chain,
            token_address: None,
            standard: None,
            name: Some(chain.native_name().into()),
            symbol: Some(chain.native_symbol().into()),
            decimals: Some(chain.native_decimals()),
            is_native: true,
            origin: TokenOrigin::Seed,
            created_at: REGISTRY_DATE,
            updated_at: REGISTRY_DATE,
        });
    usdc.chain(natives).collect()
});

/// Every static token.
pub fn static_tokens() -> &'static [TokenRecord] {
    &STATIC_TOKENS
}

/// The id `id` stands for: the target of an alias, else `id` itself (lowercased: UUIDs
/// compare case-insensitively, and every stored id is lowercase).
pub fn canonical_id(id: &str) -> String {
    let id = id.to_ascii_lowercase();
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == id)
        .map(|(_, target)| (*target).to_string())
        .unwrap_or(id)
}

/// The static token with `id` (canonical).
pub fn static_token(id: &str) -> Option<&'static TokenRecord> {
    STATIC_TOKENS.iter().find(|t| t.id == id)
}

/// An address as the registry keys it: hex addresses (EVM, Aptos) lowercase, others as given.
pub fn normalize_address(blockchain: Blockchain, address: &str) -> String {
    match blockchain.family() {
        Family::Evm | Family::Aptos => address.to_ascii_lowercase(),
        Family::Solana | Family::Near => address.to_string(),
    }
}

/// The static token at `address` (`None`: the native coin) on `blockchain`.
fn static_by_address(
    blockchain: Blockchain,
    address: Option<&str>,
) -> Option<&'static TokenRecord> {
    let address = address.filter(|a| !a.is_empty());
    STATIC_TOKENS
        .iter()
        .find(|t| t.blockchain == blockchain && t.token_address.as_deref() == address)
}

/// Whether `t` matches the monitored-list filters (hex addresses compared lowercase).
pub fn matches(
    t: &TokenRecord,
    blockchain: Option<Blockchain>,
    token_address: Option<&str>,
    symbol: Option<&str>,
) -> bool {
    blockchain.is_none_or(|b| t.blockchain == b)
        && token_address.is_none_or(|a| {
            t.token_address.as_deref() == Some(&*normalize_address(t.blockchain, a))
        })
        && symbol.is_none_or(|s| t.symbol.as_deref() == Some(s))
}

/// A token first seen on chain, as the follower reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenToken {
    /// Its chain.
    pub blockchain: Blockchain,
    /// Its contract address.
    pub address: String,
    /// Its standard, as classified from the event.
    pub standard: TokenStandard,
    /// `name()`, when the contract answered.
    pub name: Option<String>,
    /// `symbol()`, when the contract answered.
    pub symbol: Option<String>,
    /// `decimals()`, when the contract answered.
    pub decimals: Option<u8>,
}

/// The token `id` names (an alias resolves to its token): a stored row first, since one with
/// a static token's id overrides it, then the static table. For callers holding only a store
/// (the plan checks); services use [`Latchkey::token`].
pub async fn find_token<S: TokenStore + ?Sized>(
    store: &S,
    id: &str,
) -> StoreResult<Option<TokenRecord>> {
    let id = canonical_id(id);
    let stored = store.token(&id).await?;
    Ok(stored.or_else(|| static_token(&id).cloned()))
}

/// The token at `address` on `blockchain` (`None` or `""`: the native coin), stored or static.
pub async fn find_token_by_address<S: TokenStore + ?Sized>(
    store: &S,
    blockchain: Blockchain,
    address: Option<&str>,
) -> StoreResult<Option<TokenRecord>> {
    let address = address
        .filter(|a| !a.is_empty())
        .map(|a| normalize_address(blockchain, a));
    let stored = store
        .token_by_address(blockchain, address.as_deref())
        .await?;
    if stored.is_some() {
        return Ok(stored);
    }
    let Some(t) = static_by_address(blockchain, address.as_deref()) else {
        return Ok(None);
    };
    // A stored row with this id moved the token elsewhere (a faucet-deployed USDC).
    let overridden = store.token(&t.id).await?;
    Ok(overridden.is_none().then(|| t.clone()))
}

impl Latchkey {
    /// The token `id` names (an alias resolves to its token), stored or static.
    #[tracing::instrument(skip_all, fields(token = %id))]
    pub async fn token(&self, id: &str) -> Result<Option<TokenRecord>, ApiError> {
        find_token(&*self.store, id).await.map_err(store_failed)
    }

    /// `GET /tokens/{id}`: any token latchkey knows, whoever's wallets saw it (token ids are
    /// Circle-wide). Not a UUID → 156009; unknown → 156002.
    #[tracing::instrument(skip_all, fields(entity = %_caller.entity_id))]
    pub async fn get_token(&self, _caller: &ApiCaller, id: &str) -> Result<TokenRecord, ApiError> {
        if !crate::rules::is_uuid(id) {
            return Err(codes::ID_NOT_UUID);
        }
        self.token(id).await?.ok_or(codes::TOKEN_NOT_FOUND_ID)
    }

    /// The token at `address` on `blockchain` (`None` or `""`: the native coin).
    #[tracing::instrument(skip_all, fields(blockchain = %blockchain))]
    pub async fn token_by_address(
        &self,
        blockchain: Blockchain,
        address: Option<&str>,
    ) -> Result<Option<TokenRecord>, ApiError> {
        find_token_by_address(&*self.store, blockchain, address)
            .await
            .map_err(store_failed)
    }

    /// Registers a token seen on chain: the known token at that address, or a new SEEN row
    /// with id `token_uuid(chain, address)`; a stored row still missing its name, symbol or
    /// decimals gets what the contract answered this time.
    #[tracing::instrument(skip_all, fields(blockchain = %seen.blockchain))]
    pub async fn register_seen_token(&self, seen: &SeenToken) -> Result<TokenRecord, ApiError> {
        let address = normalize_address(seen.blockchain, &seen.address);
        let known = self
            .token_by_address(seen.blockchain, Some(&address))
            .await?;
        if let Some(t) = &known {
            if t.origin == TokenOrigin::Seed {
                return Ok(t.clone());
            }
        }
        let now = self.now();
        let record = TokenRecord {
            id: known
                .map(|t| t.id)
                .unwrap_or_else(|| token_uuid(seen.blockchain, Some(&address)).to_string()),
            blockchain: seen.blockchain,
            token_address: Some(address),
            standard: Some(seen.standard),
            name: seen.name.clone(),
            symbol: seen.symbol.clone(),
            decimals: seen.decimals,
            is_native: false,
            origin: TokenOrigin::Seen,
            created_at: now,
            updated_at: now,
        };
        self.store
            .upsert_seen_token(&record)
            .await
            .map_err(store_failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_money_chain_has_its_native_coin() {
        let all = static_tokens();
        let mut ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for &b in Blockchain::ALL {
            let native = static_by_address(b, None);
            let expected = b.is_money_chain() && matches!(b.family(), Family::Evm | Family::Solana);
            assert_eq!(native.is_some(), expected, "{b}");
        }
        assert!(ids.iter().all(|id| crate::rules::is_uuid(id)));
    }

    #[test]
    fn circle_ids_and_derived_ids() {
        let amoy_usdc = static_by_address(
            Blockchain::MaticAmoy,
            Some("0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582"),
        );
        assert_eq!(
            amoy_usdc.map(|t| (t.id.as_str(), t.decimals)),
            Some(("36b6931a-873a-56a8-8a27-b706b17104ee", Some(6)))
        );
        let amoy = static_by_address(Blockchain::MaticAmoy, None).map(|t| t.id.as_str());
        assert_eq!(amoy, Some("0c8f8485-f74f-5e28-80f2-3cc4e80ef71c"));
        let sepolia = static_by_address(Blockchain::EthSepolia, None).map(|t| t.id.as_str());
        assert_eq!(sepolia, Some("bb410366-c799-5fd4-94d6-498344acf435"));
        let sol = static_by_address(
            Blockchain::SolDevnet,
            Some("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"),
        );
        assert_eq!(sol.and_then(|t| t.standard), Some(TokenStandard::Fungible));
    }

    #[test]
    fn aliases_resolve_to_static_tokens() {
        for (alias, target) in ALIASES {
            assert_eq!(canonical_id(alias), *target);
            assert_eq!(canonical_id(&alias.to_ascii_uppercase()), *target);
            assert!(static_token(target).is_some());
            assert!(static_token(alias).is_none());
        }
    }

    #[test]
    fn filters_compare_hex_addresses_lowercase() {
        let usdc = static_token("5797fbd6-3795-519d-84ca-ec4c5f80c3b1");
        let usdc = usdc.map(|t| {
            (
                matches(
                    t,
                    None,
                    Some("0x1C7D4B196Cb0C7B01d743Fbc6116a902379C7238"),
                    None,
                ),
                matches(t, Some(Blockchain::Eth), None, None),
                matches(t, Some(Blockchain::EthSepolia), None, Some("USDC")),
                matches(t, None, None, Some("usdc")),
            )
        });
        assert_eq!(usdc, Some((true, false, true, false)));
    }
}
