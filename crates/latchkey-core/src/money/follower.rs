//! The inbound follower: reads each configured chain block by block and records deposits to
//! any of the server's wallets as INBOUND transactions, notified as `transactions.inbound`.
//!
//! One instance follows a chain at a time (a lease on the chain's row, as the engine leases
//! transactions). A pass reads from the chain's cursor up to the head (at most
//! [`BLOCKS_PER_PASS`] blocks): native value sent to a wallet by a transaction (`log_index`
//! -1), and the token-transfer logs to a wallet: ERC-20 and ERC-721 `Transfer` (told apart by
//! their topics), ERC-1155 `TransferSingle` and `TransferBatch`. An NFT deposit carries the
//! ids in `nftTokenIds` and one count per id in `amounts` (`"1"` for ERC-721); a batch log is
//! one transaction with all its ids, as it is one log. Each deposit is inserted once (the unique index
//! on chain, hash, log index and wallet swallows a replay) as CONFIRMED, with its notification
//! in the same database transaction; the cursor moves after the blocks' deposits are written,
//! so a crash replays a range and duplicates nothing. The engine then takes CONFIRMED deposits
//! to COMPLETE at the chain's depth, as it does outbound transactions.
//!
//! A chain followed for the first time starts at its head: what arrived before is not history
//! (the balances, read from the chain, show it). Not indexed: native value moved by
//! contract-internal calls (that needs traces, which nodes do not offer portably).

use super::chains::Chain;
use super::engine::transaction_notification;
use super::node::{BlockTag, CallRequest, EvmNode};
use super::registry::SeenToken;
use super::tokens::{TokenRecord, TokenStandard};
use super::transactions::{TransactionRecord, TxOperation, TxType};
use crate::clock::Timestamp;
use crate::model::WalletRecord;
use crate::service::Latchkey;
use crate::store::StoreResult;
use crate::webhooks::NotificationDraft;
use async_trait::async_trait;
use latchkey_chains::erc::{
    self, decode_transfer_log, TokenTransfer, TRANSFER_BATCH_TOPIC, TRANSFER_SINGLE_TOPIC,
    TRANSFER_TOPIC,
};
use latchkey_chains::{format_units, Address, Blockchain, U256};
use std::collections::HashMap;

/// The most blocks one pass reads per chain.
pub const BLOCKS_PER_PASS: u64 = 50;

/// Storage for the follower (implemented by `latchkey-store`).
#[async_trait]
pub trait FollowerStore: Send + Sync {
    /// Takes (or renews) the lease on following `blockchain` with `token` until
    /// `now + lease_ms`. `Ok(None)` when another instance holds it; else the next block to read
    /// (`None` inside: never followed yet).
    async fn lease_chain(
        &self,
        blockchain: Blockchain,
        token: &str,
        now: Timestamp,
        lease_ms: i64,
    ) -> StoreResult<Option<Option<u64>>>;

    /// Moves the cursor to `next_block` if the lease is still `token`'s; `false` otherwise.
    async fn advance_chain(
        &self,
        blockchain: Blockchain,
        token: &str,
        next_block: u64,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// The wallets of `blockchain` at these addresses (EVM addresses compared
    /// case-insensitively).
    async fn wallets_at(
        &self,
        blockchain: Blockchain,
        addresses: &[String],
    ) -> StoreResult<Vec<WalletRecord>>;

    /// Inserts an INBOUND transaction with its notification (none for a token outside the
    /// entity's monitored scope), once: `false` (nothing written) when this deposit was
    /// recorded already.
    async fn insert_inbound(
        &self,
        tx: &TransactionRecord,
        notification: Option<&NotificationDraft>,
    ) -> StoreResult<bool>;

    /// Every wallet of `blockchain` (the Solana follower watches each one's addresses).
    async fn wallets_on(&self, blockchain: Blockchain) -> StoreResult<Vec<WalletRecord>>;

    /// The newest signature the Solana follower recorded for `address`; `None` before its
    /// first pass.
    async fn solana_cursor(
        &self,
        blockchain: Blockchain,
        address: &str,
    ) -> StoreResult<Option<String>>;

    /// Moves `address`'s cursor to `signature`.
    async fn set_solana_cursor(
        &self,
        blockchain: Blockchain,
        address: &str,
        signature: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
}

/// One deposit found in a block.
struct Deposit {
    to: Address,
    from: Address,
    tx_hash: String,
    block_hash: String,
    block_number: u64,
    log_index: i64,
    /// `None` for the native coin, else the token contract.
    token: Option<Address>,
    moved: Moved,
}

/// What a deposit moved.
enum Moved {
    /// Native value or ERC-20 base units.
    Units(U256),
    /// ERC-721 or ERC-1155 tokens: `ids[i]` moved `amounts[i]` units (ERC-721: 1 each).
    Nfts {
        standard: TokenStandard,
        ids: Vec<U256>,
        amounts: Vec<U256>,
    },
}

/// Follows `chain` one pass; how many deposits it recorded.
pub(crate) async fn follow(lk: &Latchkey, chain: &Chain, token: &str, lease_ms: i64) -> usize {
    match pass(lk, chain, token, lease_ms).await {
        Ok(n) => n,
        Err(e) => {
            tracing::info!(error = %e, blockchain = %chain.info.blockchain, "follower pass failed; retried");
            0
        }
    }
}

async fn pass(lk: &Latchkey, chain: &Chain, token: &str, lease_ms: i64) -> Result<usize, String> {
    let blockchain = chain.info.blockchain;
    let store = &lk.store;
    let now = lk.now();
    let Some(cursor) = store
        .lease_chain(blockchain, token, now, lease_ms)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(0);
    };
    let node = chain.node.as_ref();
    let head = node.block_number().await.map_err(|e| e.to_string())?;
    let Some(from) = cursor else {
        // First time: start at the head.
        store
            .advance_chain(blockchain, token, head.saturating_add(1), now)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(0);
    };
    if from > head {
        return Ok(0);
    }
    let to = head.min(from.saturating_add(BLOCKS_PER_PASS - 1));
    let deposits = scan(node, from, to).await?;
    let mut recorded = 0;
    if !deposits.is_empty() {
        let addresses: Vec<String> = deposits.iter().map(|d| d.to.to_checksum(None)).collect();
        let wallets = store
            .wallets_at(blockchain, &addresses)
            .await
            .map_err(|e| e.to_string())?;
        let by_address: HashMap<String, &WalletRecord> = wallets
            .iter()
            .map(|w| (w.address.to_lowercase(), w))
            .collect();
        for d in &deposits {
            let key = format!("{:#x}", d.to);
            let Some(wallet) = by_address.get(&key) else {
                continue;
            };
            if d.token.is_none() && !succeeded(node, &d.tx_hash).await? {
                continue;
            }
            if record(lk, chain, wallet, d).await? {
                recorded += 1;
            }
        }
    }
    store
        .advance_chain(blockchain, token, to + 1, lk.now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(recorded)
}

/// Every native value transfer and token transfer (ERC-20, ERC-721, ERC-1155) in blocks
/// `from..=to` (not yet filtered to the server's wallets).
async fn scan(node: &dyn EvmNode, from: u64, to: u64) -> Result<Vec<Deposit>, String> {
    let mut found = Vec::new();
    for n in from..=to {
        let Some(block) = node
            .block(BlockTag::Number(n), true)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Err(format!("block {n} is not available yet"));
        };
        for t in &block.transactions {
            let Some(dest) = t.to else { continue };
            if t.value.is_zero() {
                continue;
            }
            // Whether the value moved (the receipt's status) is read only for deposits to a
            // wallet, in `pass`.
            found.push(Deposit {
                to: dest,
                from: t.from,
                tx_hash: format!("{:#x}", t.hash),
                block_hash: format!("{:#x}", block.hash),
                block_number: n,
                log_index: -1,
                token: None,
                moved: Moved::Units(t.value),
            });
        }
    }
    let logs = node
        .logs(
            from,
            to,
            &[TRANSFER_TOPIC, TRANSFER_SINGLE_TOPIC, TRANSFER_BATCH_TOPIC],
        )
        .await
        .map_err(|e| e.to_string())?;
    for log in logs {
        let Some(transfer) = decode_transfer_log(&log.topics, &log.data) else {
            continue;
        };
        let (from, to, moved) = match transfer {
            TokenTransfer::Erc20 { from, to, value } => (from, to, Moved::Units(value)),
            TokenTransfer::Erc721 { from, to, token_id } => (
                from,
                to,
                Moved::Nfts {
                    standard: TokenStandard::Erc721,
                    ids: vec![token_id],
                    amounts: vec![U256::from(1)],
                },
            ),
            TokenTransfer::Erc1155 {
                from,
                to,
                ids,
                values,
                ..
            } => {
                // An id that moved nothing is no deposit of it.
                let (ids, amounts) = ids
                    .into_iter()
                    .zip(values)
                    .filter(|(_, v)| !v.is_zero())
                    .unzip();
                (
                    from,
                    to,
                    Moved::Nfts {
                        standard: TokenStandard::Erc1155,
                        ids,
                        amounts,
                    },
                )
            }
        };
        let empty = match &moved {
            Moved::Units(v) => v.is_zero(),
            Moved::Nfts { ids, .. } => ids.is_empty(),
        };
        if empty {
            continue;
        }
        found.push(Deposit {
            to,
            from,
            tx_hash: format!("{:#x}", log.tx_hash),
            block_hash: format!("{:#x}", log.block_hash),
            block_number: log.block_number,
            log_index: i64::try_from(log.log_index).unwrap_or(i64::MAX),
            token: Some(log.address),
            moved,
        });
    }
    Ok(found)
}

/// Whether the transaction `hash` succeeded (native value moves only then; a token's
/// `Transfer` log exists only in a successful transaction).
async fn succeeded(node: &dyn EvmNode, hash: &str) -> Result<bool, String> {
    let hash = hash
        .parse()
        .map_err(|_| format!("not a transaction hash: {hash}"))?;
    let receipt = node.receipt(hash).await.map_err(|e| e.to_string())?;
    Ok(receipt.is_some_and(|r| r.success))
}

/// Records one deposit to `wallet` (its token registered on first sight); `true` when new.
async fn record(
    lk: &Latchkey,
    chain: &Chain,
    wallet: &WalletRecord,
    d: &Deposit,
) -> Result<bool, String> {
    let blockchain = chain.info.blockchain;
    let token = match d.token {
        None => lk
            .token_by_address(blockchain, None)
            .await
            .map_err(|e| e.message.to_string())?,
        Some(contract) => {
            let address = format!("{contract:#x}");
            match lk
                .token_by_address(blockchain, Some(&address))
                .await
                .map_err(|e| e.message.to_string())?
            {
                Some(t) => Some(t),
                None => {
                    let node = chain.node.as_ref();
                    let read = |data: Vec<u8>| async move {
                        node.call(&CallRequest {
                            to: Some(contract),
                            data,
                            ..CallRequest::default()
                        })
                        .await
                        .ok()
                    };
                    // What the contract says of itself; a contract that does not answer
                    // (NFT contracts need not offer `name()` or `symbol()`; a revert is no
                    // error here) leaves the field unknown. NFTs have no decimals.
                    let standard = match &d.moved {
                        Moved::Units(_) => TokenStandard::Erc20,
                        Moved::Nfts { standard, .. } => *standard,
                    };
                    let name = read(erc::name_call()).await;
                    let symbol = read(erc::symbol_call()).await;
                    let decimals = match standard {
                        TokenStandard::Erc20 => read(erc::decimals_call()).await,
                        _ => None,
                    };
                    Some(
                        lk.register_seen_token(&SeenToken {
                            blockchain,
                            address,
                            standard,
                            name: name.as_deref().and_then(erc::decode_string),
                            symbol: symbol.as_deref().and_then(erc::decode_string),
                            decimals: decimals.as_deref().and_then(erc::decode_decimals),
                        })
                        .await
                        .map_err(|e| e.message.to_string())?,
                    )
                }
            }
        }
    };
    let decimals = token
        .as_ref()
        .and_then(|t| t.decimals)
        .unwrap_or(if d.token.is_none() {
            blockchain.native_decimals()
        } else {
            0
        });
    let filled = |tx: &mut TransactionRecord| {
        match &d.moved {
            Moved::Units(value) => tx.amounts = vec![format_units(*value, decimals)],
            Moved::Nfts { ids, amounts, .. } => {
                tx.amounts = amounts.iter().map(U256::to_string).collect();
                tx.nft_token_ids = Some(ids.iter().map(U256::to_string).collect());
            }
        }
        tx.source_address = Some(d.from.to_checksum(None));
        tx.contract_address = d.token.map(|a| a.to_checksum(None));
        tx.tx_hash = Some(d.tx_hash.clone());
        tx.block_hash = Some(d.block_hash.clone());
        tx.block_height = i64::try_from(d.block_number).ok();
        tx.log_index = Some(d.log_index);
    };
    insert_deposit(lk, blockchain, wallet, token.as_ref(), filled).await
}

/// Inserts one deposit to `wallet` as a CONFIRMED INBOUND transaction of its user, with its
/// `transactions.inbound` notification (when the entity is notified about it), once; `fill`
/// sets what the chain says (amounts, addresses, hash, block, log index). A token the wallet
/// received is one its balances read from then on. `true` when it is new. Shared by the EVM
/// and the Solana followers.
pub(crate) async fn insert_deposit(
    lk: &Latchkey,
    blockchain: Blockchain,
    wallet: &WalletRecord,
    token: Option<&TokenRecord>,
    fill: impl FnOnce(&mut TransactionRecord),
) -> Result<bool, String> {
    let user = lk
        .store
        .user_by_internal_id(&wallet.entity_id, &wallet.user_internal_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the wallet's user is gone")?;
    let now = lk.now();
    let mut tx = TransactionRecord::new(
        uuid::Uuid::new_v4().to_string(),
        &user,
        wallet.id.clone(),
        blockchain,
        TxType::Inbound,
        TxOperation::Transfer,
        now,
    );
    tx.token_id = token.map(|t| t.id.clone());
    tx.destination_address = Some(wallet.address.clone());
    tx.first_confirm_date = Some(now);
    fill(&mut tx);
    let note = transaction_notification(&tx, user.environment);
    let notify = lk.notifies_about(&tx, user.environment).await;
    let new = lk
        .store
        .insert_inbound(&tx, notify.then_some(&note))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(t) = token.filter(|t| !t.is_native) {
        lk.store
            .add_wallet_token(&wallet.id, &t.id, now)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(new)
}
