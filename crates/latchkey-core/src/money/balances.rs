//! `GET /wallets/{id}/balances`: what a wallet holds, read from its chain at `latest`.
//!
//! The tokens asked about are the chain's native coin, Circle's seeded tokens of that chain
//! (USDC), and the tokens the wallet touched (`wallet_tokens`). Nothing is cached: each call
//! reads `eth_getBalance` and one `balanceOf` per token, so the answer is never staler than
//! the node. Like Circle's, the list shows what the wallet holds: a token with a zero balance
//! is left out, and so is one whose contract does not answer `balanceOf` (no code at the
//! address, or a revert). NFTs (ERC-721/1155) belong to `/nfts`, not here.
//!
//! On Solana only the read differs: `getBalance` and the wallet's token accounts (classic Token
//! and Token-2022), summed per mint; a held mint no token names is registered on first sight.

use super::estimate::node_unavailable;
use super::registry::SeenToken;
use super::registry::{self, canonical_id, normalize_address};
use super::solana::SolanaChain;
use super::tokens::{TokenRecord, TokenStandard};
use super::{BlockTag, CallRequest, Chain, NodeError, Visibility};
use crate::clock::Timestamp;
use crate::error::{codes, ApiError};
use crate::service::{store_failed, Latchkey, UserSession};
use crate::store::{Cursor, Page, PageQuery};
use latchkey_chains::{erc, format_units, Address, Blockchain, Family, U256};
use std::collections::BTreeMap;
use tokio::task::JoinSet;

/// At most this many touched tokens of one wallet are read (oldest first): a wallet sprayed
/// with thousands of airdropped tokens still answers in bounded time.
pub const MAX_WALLET_TOKENS: u32 = 500;

/// Circle's filters of `GET /wallets/{id}/balances`, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BalanceQuery {
    /// `includeAll=true`: tokens outside the monitored scope too.
    pub include_all: bool,
    /// Only tokens with exactly this name.
    pub name: Option<String>,
    /// Only tokens at one of these addresses (the SDK sends them comma-joined).
    pub token_addresses: Option<Vec<String>>,
    /// Only tokens of this standard, by Circle's name (`ERC20`…; a native coin has none, so
    /// it is left out, and an NFT standard matches nothing here).
    pub standard: Option<String>,
}

impl BalanceQuery {
    /// Whether `t` passes the filters (hex addresses compared lowercase).
    pub fn matches(&self, t: &TokenRecord) -> bool {
        self.name
            .as_deref()
            .is_none_or(|n| t.name.as_deref() == Some(n))
            && self
                .standard
                .as_deref()
                .is_none_or(|s| t.standard.map(TokenStandard::as_str) == Some(s))
            && self.token_addresses.as_deref().is_none_or(|list| {
                t.token_address.as_deref().is_some_and(|own| {
                    list.iter()
                        .any(|a| normalize_address(t.blockchain, a.trim()) == own)
                })
            })
    }
}

/// One balance: the token, the amount in whole units, when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The token.
    pub token: TokenRecord,
    /// Whole units, exact (`"20"`, `"0.01"`).
    pub amount: String,
    /// When the chain was read (the amount is as of this moment).
    pub updated_at: Timestamp,
}

/// Whether a token is an NFT collection (listed by `/nfts`, never by `/balances`).
pub(super) fn is_nft(t: &TokenRecord) -> bool {
    matches!(
        t.standard,
        Some(TokenStandard::Erc721 | TokenStandard::Erc1155)
    )
}

impl Latchkey {
    /// `GET /wallets/{id}/balances`: a page of the non-zero balances of one of the session
    /// user's wallets. Another user's wallet, or none → 156001; a chain without a node →
    /// 156027; the node unreachable → 503; an unknown cursor → 156012.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id, wallet = %wallet_id))]
    pub async fn wallet_balances(
        &self,
        session: &UserSession,
        wallet_id: &str,
        query: &BalanceQuery,
        page: &PageQuery,
    ) -> Result<Page<Balance>, ApiError> {
        let wallet = self.get_wallet(session, wallet_id).await?;
        let blockchain = Blockchain::parse(&wallet.blockchain).ok_or_else(|| {
            tracing::error!(blockchain = %wallet.blockchain, "stored wallet has an unknown blockchain");
            ApiError::internal()
        })?;
        let chain = match blockchain.family() {
            Family::Solana => Err(self.chains().require_solana(blockchain)?),
            _ => Ok(self.chains().require(blockchain)?),
        };
        let visibility = if query.include_all {
            Visibility::everything()
        } else {
            self.token_visibility(session.entity_id(), session.user.environment)
                .await?
        };
        let mut tokens = self.wallet_tokens(&wallet.id, blockchain).await?;
        let amounts = match chain {
            Ok(chain) => {
                tokens.retain(|t| !is_nft(t) && visibility.allows(&t.id) && query.matches(t));
                let owner: Address = wallet.address.parse().map_err(|_| {
                    tracing::error!(wallet = %wallet.id, "stored wallet address does not parse");
                    ApiError::internal()
                })?;
                read_balances(chain, owner, &tokens).await?
            }
            Err(chain) => {
                let held = read_solana_holdings(chain, &wallet.address).await?;
                // Mints the wallet holds that no listed token names: registered on first sight.
                for (mint, (_, decimals)) in &held.tokens {
                    if tokens
                        .iter()
                        .any(|t| t.token_address.as_deref() == Some(mint.as_str()))
                    {
                        continue;
                    }
                    let token = match self.token_by_address(blockchain, Some(mint)).await? {
                        Some(t) => t,
                        None => {
                            self.register_seen_token(&SeenToken {
                                blockchain,
                                address: mint.clone(),
                                standard: TokenStandard::Fungible,
                                name: None,
                                symbol: None,
                                decimals: Some(*decimals),
                            })
                            .await?
                        }
                    };
                    if !tokens.iter().any(|t| t.id == token.id) {
                        tokens.push(token);
                    }
                }
                tokens.retain(|t| !is_nft(t) && visibility.allows(&t.id) && query.matches(t));
                tokens
                    .iter()
                    .map(|t| {
                        if t.is_native {
                            Some(U256::from(held.lamports))
                        } else {
                            t.token_address
                                .as_deref()
                                .and_then(|m| held.tokens.get(m))
                                .map(|(amount, _)| U256::from(*amount))
                        }
                    })
                    .collect()
            }
        };
        let now = self.now();
        let held = tokens
            .into_iter()
            .zip(amounts)
            .filter_map(|(token, amount)| {
                let amount = amount.filter(|a| !a.is_zero())?;
                let amount = format_units(amount, token.decimals.unwrap_or(0));
                Some(Balance {
                    token,
                    amount,
                    updated_at: now,
                })
            })
            .collect();
        page_of(held, page, |b| b.token.id.as_str()).ok_or(codes::PAGE_CURSOR_NOT_FOUND)
    }

    /// The tokens a balance read asks about, each once: the chain's native coin, its other
    /// seeded tokens, then the ones the wallet touched (oldest first). A stored row with a
    /// seeded token's id overrides the table.
    async fn wallet_tokens(
        &self,
        wallet_id: &str,
        blockchain: Blockchain,
    ) -> Result<Vec<TokenRecord>, ApiError> {
        let mut seeded: Vec<&TokenRecord> = registry::static_tokens()
            .iter()
            .filter(|t| t.blockchain == blockchain)
            .collect();
        seeded.sort_by_key(|t| !t.is_native);
        let touched = self
            .store
            .wallet_token_ids(wallet_id, MAX_WALLET_TOKENS)
            .await
            .map_err(store_failed)?;
        let ids = seeded.iter().map(|t| t.id.clone()).chain(touched);
        let mut out: Vec<TokenRecord> = Vec::new();
        for id in ids {
            let Some(t) = self.token(&id).await? else {
                continue;
            };
            if t.blockchain == blockchain && !out.iter().any(|o| o.id == t.id) {
                out.push(t);
            }
        }
        Ok(out)
    }
}

/// Every token's balance of `owner` at `latest`, in base units, read concurrently; `None`
/// for a token whose contract does not answer. An unreachable node fails the whole read
/// (503): a partial list would look like a loss of funds.
async fn read_balances(
    chain: &Chain,
    owner: Address,
    tokens: &[TokenRecord],
) -> Result<Vec<Option<U256>>, ApiError> {
    let blockchain = chain.info.blockchain;
    let mut reads = JoinSet::new();
    for (i, t) in tokens.iter().enumerate() {
        let node = chain.node.clone();
        let contract = t.token_address.clone();
        let is_native = t.is_native;
        reads.spawn(async move {
            let read = if is_native {
                node.balance(owner, BlockTag::Latest).await.map(Some)
            } else {
                match contract.as_deref().and_then(|a| a.parse::<Address>().ok()) {
                    None => Ok(None),
                    Some(to) => {
                        let call = CallRequest {
                            to: Some(to),
                            data: erc::erc20_balance_of(owner),
                            ..CallRequest::default()
                        };
                        node.call(&call).await.map(|ret| erc::decode_uint(&ret))
                    }
                }
            };
            (i, read)
        });
    }
    let mut out = vec![None; tokens.len()];
    while let Some(joined) = reads.join_next().await {
        let (i, read) = joined.map_err(|e| {
            tracing::error!(%e, "balance read task failed");
            ApiError::internal()
        })?;
        match read {
            Ok(amount) => {
                if let Some(slot) = out.get_mut(i) {
                    *slot = amount;
                }
            }
            Err(NodeError::Unavailable(why)) => {
                tracing::warn!(%blockchain, %why, "node unavailable during a balance read");
                return Err(node_unavailable(blockchain));
            }
            Err(e) => {
                // A contract that reverts or is not there holds nothing this route can show.
                let token = tokens.get(i).map(|t| t.id.as_str()).unwrap_or_default();
                tracing::info!(%blockchain, %token, error = %e, "balanceOf unreadable; left out");
            }
        }
    }
    Ok(out)
}

/// What a Solana wallet holds: lamports, and per mint (base58, sorted) the sum of its token
/// accounts (a wallet may hold non-associated accounts too) with the mint's decimals.
struct SolanaHoldings {
    lamports: u64,
    tokens: BTreeMap<String, (u128, u8)>,
}

/// Reads a Solana wallet's SOL and token accounts (classic Token and Token-2022) at the
/// latest state. An unreachable node fails the whole read (503), as on EVM.
async fn read_solana_holdings(
    chain: &SolanaChain,
    owner: &str,
) -> Result<SolanaHoldings, ApiError> {
    let blockchain = chain.info.blockchain;
    let failed = |e: NodeError| match e {
        NodeError::Unavailable(why) => {
            tracing::warn!(%blockchain, %why, "node unavailable during a balance read");
            node_unavailable(blockchain)
        }
        other => {
            tracing::warn!(%blockchain, error = %other, "Solana balance read failed");
            node_unavailable(blockchain)
        }
    };
    let (lamports, accounts) =
        tokio::join!(chain.node.balance(owner), chain.node.token_accounts(owner));
    let mut tokens: BTreeMap<String, (u128, u8)> = BTreeMap::new();
    for a in accounts.map_err(failed)? {
        if a.amount == 0 {
            continue;
        }
        let entry = tokens.entry(a.mint).or_insert((0, a.decimals));
        entry.0 = entry.0.saturating_add(u128::from(a.amount));
    }
    Ok(SolanaHoldings {
        lamports: lamports.map_err(failed)?,
        tokens,
    })
}

/// A page of `items` (already in their one order) after or before the item whose id the
/// cursor names; `None` when no item has that id.
pub(super) fn page_of<T>(
    items: Vec<T>,
    page: &PageQuery,
    id: impl Fn(&T) -> &str,
) -> Option<Page<T>> {
    let size = page.size as usize;
    let position = |items: &[T], cursor: &str| {
        let cursor = canonical_id(cursor);
        items.iter().position(|t| id(t) == cursor)
    };
    match &page.cursor {
        Cursor::None => {
            let has_next = items.len() > size;
            Some(Page {
                items: items.into_iter().take(size).collect(),
                has_next,
                has_prev: false,
            })
        }
        Cursor::After(c) => {
            let at = position(&items, c)?;
            let rest = items.len() - at - 1;
            Some(Page {
                items: items.into_iter().skip(at + 1).take(size).collect(),
                has_next: rest > size,
                has_prev: true,
            })
        }
        Cursor::Before(c) => {
            let at = position(&items, c)?;
            let start = at.saturating_sub(size);
            Some(Page {
                items: items.into_iter().take(at).skip(start).collect(),
                has_next: true,
                has_prev: start > 0,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Order;

    fn q(size: u32, cursor: Cursor) -> PageQuery {
        PageQuery {
            size,
            cursor,
            order: Order::Desc,
            from: None,
            to: None,
        }
    }

    fn ids(p: Option<Page<String>>) -> Option<(Vec<String>, bool, bool)> {
        p.map(|p| (p.items, p.has_next, p.has_prev))
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pages_forward_and_back() {
        let all = v(&["a", "b", "c", "d", "e"]);
        let get = |p: PageQuery| ids(page_of(all.clone(), &p, |s| s.as_str()));
        assert_eq!(get(q(2, Cursor::None)), Some((v(&["a", "b"]), true, false)));
        assert_eq!(
            get(q(2, Cursor::After("b".into()))),
            Some((v(&["c", "d"]), true, true))
        );
        assert_eq!(
            get(q(2, Cursor::After("d".into()))),
            Some((v(&["e"]), false, true))
        );
        assert_eq!(
            get(q(2, Cursor::Before("e".into()))),
            Some((v(&["c", "d"]), true, true))
        );
        assert_eq!(
            get(q(2, Cursor::Before("c".into()))),
            Some((v(&["a", "b"]), true, false))
        );
        assert_eq!(get(q(5, Cursor::None)), Some((all.clone(), false, false)));
        assert_eq!(get(q(2, Cursor::After("zz".into()))), None);
    }

    #[test]
    fn filters() {
        let usdc = registry::static_token("36b6931a-873a-56a8-8a27-b706b17104ee").cloned();
        let native = registry::static_token("0c8f8485-f74f-5e28-80f2-3cc4e80ef71c").cloned();
        let (Some(usdc), Some(native)) = (usdc, native) else {
            panic!("seeded tokens missing");
        };
        let by_address = BalanceQuery {
            token_addresses: Some(v(&["0x41E94EB019C0762F9BFCF9FB1E58725BFB0E7582", "0x1"])),
            ..BalanceQuery::default()
        };
        assert!(by_address.matches(&usdc) && !by_address.matches(&native));
        let erc20 = BalanceQuery {
            standard: Some("ERC20".into()),
            ..BalanceQuery::default()
        };
        assert!(erc20.matches(&usdc) && !erc20.matches(&native));
        let named = BalanceQuery {
            name: Some("USD Coin".into()),
            ..BalanceQuery::default()
        };
        assert!(named.matches(&usdc) && !named.matches(&native));
        assert!(BalanceQuery::default().matches(&native));
    }
}
