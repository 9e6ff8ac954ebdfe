//! `GET /wallets/{id}/nfts`: the ERC-721 and ERC-1155 tokens a wallet holds.
//!
//! Which NFTs to ask about comes from the indexed transfers: every (token, NFT id) pair of the
//! wallet's recorded transactions, INBOUND (the follower's deposits) and OUTBOUND (its own
//! transfers), in order of first appearance. How many of each it holds now is read from the
//! chain at `latest`, as balances are: `ownerOf(id)` for ERC-721 (1 when it is the wallet, 0
//! otherwise or when the call reverts: burnt or never minted), `balanceOf(wallet, id)` for
//! ERC-1155. So the answer follows the chain (a reorg, a transfer made outside latchkey)
//! without a holdings table to keep right, and a pair held 0 is left out. An ERC-721 contract
//! offers no portable way to list an owner's ids, which is why the candidates come from the
//! transfers seen and not from the contract.
//!
//! `metadata` is the token's `tokenURI(id)` (ERC-721) or `uri(id)` (ERC-1155) as the contract
//! returns it, when it answers; it is left out otherwise.

use super::balances::{is_nft, page_of, BalanceQuery};
use super::estimate::node_unavailable;
use super::plan_rules::nft_id;
use super::tokens::{TokenRecord, TokenStandard};
use super::{CallRequest, Chain, NodeError, Visibility};
use crate::clock::Timestamp;
use crate::error::{codes, ApiError};
use crate::service::{store_failed, Latchkey, UserSession};
use crate::store::{Page, PageQuery};
use latchkey_chains::{erc, Address, Blockchain, U256};
use std::collections::{HashMap, HashSet};
use tokio::task::JoinSet;

/// At most this many of a wallet's NFT transactions are read (oldest first).
pub const MAX_NFT_TRANSFERS: u32 = 1_000;

/// At most this many (token, NFT id) pairs are read from the chain per call: a wallet sprayed
/// with airdrops still answers in bounded time.
pub const MAX_WALLET_NFTS: usize = 500;

/// The namespace of [`nft_cursor`]'s UUIDs.
const CURSOR_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6c6b_6e66_7473_4000_8000_6375_7273_6f72);

/// One NFT a wallet holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nft {
    /// The collection.
    pub token: TokenRecord,
    /// The NFT id, in decimal.
    pub nft_token_id: String,
    /// How many the wallet holds: `"1"` for ERC-721, a count for ERC-1155.
    pub amount: String,
    /// `tokenURI(id)` / `uri(id)`, when the contract answers.
    pub metadata: Option<String>,
    /// When the chain was read.
    pub updated_at: Timestamp,
    /// This NFT's paging cursor ([`nft_cursor`]).
    pub cursor: String,
}

/// The paging cursor of one NFT of a wallet: a UUID (v5) of its token id and NFT id, since
/// Circle's `pageBefore` / `pageAfter` are UUIDs and an NFT has no id of its own.
pub fn nft_cursor(token_id: &str, nft_token_id: &str) -> String {
    uuid::Uuid::new_v5(
        &CURSOR_NAMESPACE,
        format!("{token_id}/{nft_token_id}").as_bytes(),
    )
    .to_string()
}

/// A pair to read: the collection and one id.
struct Candidate {
    token: TokenRecord,
    id: U256,
}

impl Latchkey {
    /// `GET /wallets/{id}/nfts`: a page of the NFTs one of the session user's wallets holds.
    /// Another user's wallet, or none → 156001; a chain without a node → 156027; the node
    /// unreachable → 503; an unknown cursor → 156012.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id, wallet = %wallet_id))]
    pub async fn wallet_nfts(
        &self,
        session: &UserSession,
        wallet_id: &str,
        query: &BalanceQuery,
        page: &PageQuery,
    ) -> Result<Page<Nft>, ApiError> {
        let wallet = self.get_wallet(session, wallet_id).await?;
        let blockchain = Blockchain::parse(&wallet.blockchain).ok_or_else(|| {
            tracing::error!(blockchain = %wallet.blockchain, "stored wallet has an unknown blockchain");
            ApiError::internal()
        })?;
        let chain = self.chains().require(blockchain)?;
        let visibility = if query.include_all {
            Visibility::everything()
        } else {
            self.token_visibility(session.entity_id(), session.user.environment)
                .await?
        };
        let transfers = self
            .store
            .wallet_nft_transfers(
                session.entity_id(),
                &session.user.internal_id,
                &wallet.id,
                MAX_NFT_TRANSFERS,
            )
            .await
            .map_err(store_failed)?;
        let mut tokens: HashMap<String, Option<TokenRecord>> = HashMap::new();
        let mut seen: HashSet<(String, U256)> = HashSet::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        'transfers: for t in transfers {
            let token = match tokens.get(&t.token_id) {
                Some(known) => known.clone(),
                None => {
                    let found = self.token(&t.token_id).await?.filter(|tok| {
                        is_nft(tok)
                            && tok.blockchain == blockchain
                            && visibility.allows(&tok.id)
                            && query.matches(tok)
                    });
                    tokens.insert(t.token_id.clone(), found.clone());
                    found
                }
            };
            let Some(token) = token else { continue };
            for text in &t.nft_token_ids {
                // Recorded ids were checked when written; one that does not parse is skipped.
                let Ok(id) = nft_id(text) else { continue };
                if !seen.insert((token.id.clone(), id)) {
                    continue;
                }
                if candidates.len() >= MAX_WALLET_NFTS {
                    break 'transfers;
                }
                candidates.push(Candidate {
                    token: token.clone(),
                    id,
                });
            }
        }
        let owner: Address = wallet.address.parse().map_err(|_| {
            tracing::error!(wallet = %wallet.id, "stored wallet address does not parse");
            ApiError::internal()
        })?;
        let held = read_holdings(chain, owner, &candidates).await?;
        let now = self.now();
        let items = candidates
            .into_iter()
            .zip(held)
            .filter_map(|(c, read)| {
                let (amount, metadata) = read?;
                let nft_token_id = c.id.to_string();
                Some(Nft {
                    cursor: nft_cursor(&c.token.id, &nft_token_id),
                    token: c.token,
                    nft_token_id,
                    amount: amount.to_string(),
                    metadata,
                    updated_at: now,
                })
            })
            .collect();
        page_of(items, page, |n| n.cursor.as_str()).ok_or(codes::PAGE_CURSOR_NOT_FOUND)
    }
}

/// How many of each candidate `owner` holds, with its metadata URI, read concurrently; `None`
/// for a pair held 0 (or whose contract does not answer). An unreachable node fails the whole
/// read (503): a partial list would look like lost tokens.
async fn read_holdings(
    chain: &Chain,
    owner: Address,
    candidates: &[Candidate],
) -> Result<Vec<Option<(U256, Option<String>)>>, ApiError> {
    let blockchain = chain.info.blockchain;
    let mut reads = JoinSet::new();
    for (i, c) in candidates.iter().enumerate() {
        let node = chain.node.clone();
        let contract = c.token.token_address.clone();
        let standard = c.token.standard;
        let id = c.id;
        reads.spawn(async move {
            let Some(to) = contract.as_deref().and_then(|a| a.parse::<Address>().ok()) else {
                return (i, Ok(None));
            };
            let call = |data: Vec<u8>| CallRequest {
                to: Some(to),
                data,
                ..CallRequest::default()
            };
            let (amount, uri_call) = match standard {
                Some(TokenStandard::Erc721) => {
                    let amount = match node.call(&call(erc::erc721_owner_of(id))).await {
                        Ok(ret) => Ok(U256::from(u8::from(
                            erc::decode_address(&ret) == Some(owner),
                        ))),
                        // `ownerOf` reverts for a burnt or never-minted id: nobody holds it.
                        Err(NodeError::Reverted(_)) => Ok(U256::ZERO),
                        Err(e) => Err(e),
                    };
                    (amount, erc::erc721_token_uri(id))
                }
                _ => {
                    let amount = node
                        .call(&call(erc::erc1155_balance_of(owner, id)))
                        .await
                        .map(|ret| erc::decode_uint(&ret).unwrap_or(U256::ZERO));
                    (amount, erc::erc1155_uri(id))
                }
            };
            let read = match amount {
                Ok(a) if a.is_zero() => Ok(None),
                Ok(a) => {
                    // The metadata URI is optional: a contract may not offer it, or revert.
                    let metadata = match node.call(&call(uri_call)).await {
                        Ok(ret) => Ok(erc::decode_string(&ret)),
                        Err(NodeError::Unavailable(why)) => Err(NodeError::Unavailable(why)),
                        Err(_) => Ok(None),
                    };
                    metadata.map(|m| Some((a, m)))
                }
                Err(e) => Err(e),
            };
            (i, read)
        });
    }
    let mut out = Vec::with_capacity(candidates.len());
    out.resize_with(candidates.len(), || None);
    while let Some(joined) = reads.join_next().await {
        let (i, read) = joined.map_err(|e| {
            tracing::error!(%e, "NFT read task failed");
            ApiError::internal()
        })?;
        match read {
            Ok(held) => {
                if let Some(slot) = out.get_mut(i) {
                    *slot = held;
                }
            }
            Err(NodeError::Unavailable(why)) => {
                tracing::warn!(%blockchain, %why, "node unavailable during an NFT read");
                return Err(node_unavailable(blockchain));
            }
            Err(e) => {
                let token = candidates
                    .get(i)
                    .map(|c| c.token.id.as_str())
                    .unwrap_or_default();
                tracing::info!(%blockchain, %token, error = %e, "NFT holding unreadable; left out");
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_uuids_one_per_nft() {
        let a = nft_cursor("t1", "7");
        assert!(crate::rules::is_uuid(&a), "{a}");
        assert_eq!(a, nft_cursor("t1", "7"));
        assert_ne!(a, nft_cursor("t1", "8"));
        assert_ne!(a, nft_cursor("t2", "7"));
    }
}
